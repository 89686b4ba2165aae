"""Corpus readers: every supported annotation format read into :class:`~app.text.types.Document`.

All readers share one validation layer (``_common``): each annotation is checked against the
text where the format carries it, problems are reported with file and line (never note text),
overlaps keep the longest span, and ``on_error`` decides whether errors fail the read or drop
the bad annotations. Use :func:`read_corpus` with a name from :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from model_export.corpora._common import (
    ERROR_KINDS,
    Candidate,
    CorpusError,
    CorpusIssue,
    CorpusReport,
    IssueKind,
    OnError,
    resolve_overlaps,
)
from model_export.corpora.brat import NCBI_DISEASE_LABELS, read_brat
from model_export.corpora.conll import read_conll
from model_export.corpora.i2b2_2006 import read_i2b2_2006
from model_export.corpora.i2b2_2010 import read_i2b2_2010
from model_export.corpora.i2b2_2012 import read_i2b2_2012, read_i2b2_2012_concepts, read_i2b2_2012_time
from model_export.corpora.i2b2_2014 import read_i2b2_2014
from model_export.corpora.jsonl import read_jsonl
from model_export.corpora.negex import read_negex

# Each reader takes ``(path, *, on_error, **its own options)``; options differ, hence ``...``.
Reader = Callable[..., CorpusReport]


FORMATS: dict[str, Reader] = {
    "i2b2-2010": read_i2b2_2010,
    "i2b2-2012-concepts": read_i2b2_2012_concepts,
    "i2b2-2012-time": read_i2b2_2012_time,
    "i2b2-2006": read_i2b2_2006,
    "i2b2-2014": read_i2b2_2014,
    "brat": read_brat,
    "conll": read_conll,
    "jsonl": read_jsonl,
    "negex": read_negex,
}


def read_corpus(format: str, path: Path, *, on_error: OnError = "fail", **options: Any) -> CorpusReport:
    """Read ``path`` in the named format; options go to that format's reader (e.g. ``label_map``)."""
    reader = FORMATS.get(format)
    if reader is None:
        raise ValueError(f"unknown corpus format {format!r}; known: {', '.join(sorted(FORMATS))}")
    return reader(Path(path), on_error=on_error, **options)


__all__ = [
    "ERROR_KINDS",
    "FORMATS",
    "NCBI_DISEASE_LABELS",
    "Candidate",
    "CorpusError",
    "CorpusIssue",
    "CorpusReport",
    "IssueKind",
    "OnError",
    "Reader",
    "read_brat",
    "read_conll",
    "read_corpus",
    "read_i2b2_2006",
    "read_i2b2_2010",
    "read_i2b2_2012",
    "read_i2b2_2014",
    "read_jsonl",
    "read_negex",
    "resolve_overlaps",
]
