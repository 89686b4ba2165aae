"""PHI spans from the model and from patterns, joined into the disjoint spans that get replaced.

Recall comes first in de-identification: a character that either source calls PHI is replaced.
Spans that overlap become one span over their union, named after its longest member (a pattern's
where the lengths tie: a pattern is certain about the structured identifiers it finds). Spans that
only touch stay apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from app.deid.categories import PhiType

Source = Literal["model", "pattern"]


@dataclass(frozen=True)
class PhiSpan:
    """Code point offsets (end exclusive), the label (the model's, or the pattern's i2b2 subtype)."""

    start: int
    end: int
    label: str
    phi: PhiType
    source: Source

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a PHI span needs 0 <= start < end, got {self.start}:{self.end}")


def join_spans(spans: Iterable[PhiSpan]) -> list[PhiSpan]:
    """Disjoint spans, ordered by start, covering exactly the characters the inputs cover."""
    ordered = sorted(spans, key=lambda span: (span.start, -span.end))
    joined: list[PhiSpan] = []
    cluster: list[PhiSpan] = []
    end = -1
    for span in ordered:
        if cluster and span.start >= end:
            joined.append(_union(cluster, end))
            cluster = []
        cluster.append(span)
        end = max(end, span.end) if len(cluster) > 1 else span.end
    if cluster:
        joined.append(_union(cluster, end))
    return joined


def _union(cluster: list[PhiSpan], end: int) -> PhiSpan:
    named = max(cluster, key=lambda span: (span.end - span.start, span.source == "pattern", -span.start))
    sources = {span.source for span in cluster}
    source: Source = "model" if "model" in sources else "pattern"
    return PhiSpan(cluster[0].start, end, named.label, named.phi, source)
