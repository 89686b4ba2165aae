"""Corpus options shared by ``clinx train`` and ``clinx evaluate``: format, error policy, relabelling.

Both commands must see a corpus the same way (same reader, same label mapping), or a model would be
scored against labels it was never trained on. Only counts and issue locations are printed, never
note text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.text.types import Document
from model_export.corpora import FORMATS, read_corpus

SHOWN_ISSUES = 5


@dataclass(frozen=True)
class CorpusOptions:
    """How to read and relabel a corpus; ``label_map`` values of ``""`` drop that type."""

    format: str = "jsonl"
    on_error: str = "fail"
    label_map: Mapping[str, str] = field(default_factory=dict)
    collapse_labels: str | None = None

    def describe(self) -> dict[str, Any]:
        """The options as recorded in checkpoints and results (no paths to note files' contents)."""
        return {"format": self.format, "on_error": self.on_error, "label_map": dict(self.label_map),
                "collapse_labels": self.collapse_labels}


def parse_label_map(value: str) -> dict[str, str]:
    """``A=X,B=Y`` or the path of a JSON object ``{"A": "X"}``."""
    path = Path(value)
    if value.endswith(".json") or path.is_file():
        mapping = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ValueError(f"{path}: a label map must be a JSON object of strings")
        return {str(key): value for key, value in mapping.items()}
    mapping = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        source, equals, target = item.partition("=")
        if not equals or not source.strip():
            raise ValueError(f"label map entry {item!r} is not SOURCE=TARGET")
        mapping[source.strip()] = target.strip()
    return mapping


def relabel(documents: Sequence[Document], label_map: Mapping[str, str], collapse: str | None) -> list[Document]:
    """Map span labels (then collapse all to one type, if asked); spans mapped to ``""`` are dropped."""
    if not label_map and not collapse:
        return list(documents)
    result = []
    for document in documents:
        spans = []
        for span in document.spans:
            label = label_map.get(span.label, span.label)
            if label:
                spans.append(dataclasses.replace(span, label=collapse or label))
        result.append(dataclasses.replace(document, spans=tuple(spans)))
    return result


def load_documents(path: Path, options: CorpusOptions, *, role: str = "corpus", **reader: Any) -> list[Document]:
    """Read, report (counts and issue locations only) and relabel one corpus (``reader``: the format's options)."""
    report = read_corpus(options.format, path, on_error=options.on_error, **reader)  # type: ignore[arg-type]
    print(f"{role} {path}: {report.summary()}", file=sys.stderr)
    for issue in report.issues[:SHOWN_ISSUES]:
        print(f"  {issue}", file=sys.stderr)
    if len(report.issues) > SHOWN_ISSUES:
        print(f"  ... and {len(report.issues) - SHOWN_ISSUES} more", file=sys.stderr)
    ids = [document.id for document in report.documents]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: document ids are not unique; spans could not be scored per document")
    return relabel(report.documents, options.label_map, options.collapse_labels)


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", default="jsonl", choices=sorted(FORMATS), help="corpus format (default: jsonl)")
    parser.add_argument("--on-error", default="fail", choices=("fail", "skip"),
                        help="stop at annotation errors, or drop the bad annotations and go on (default: fail)")
    parser.add_argument("--label-map", type=parse_label_map, default={},
                        help="relabel types: 'SpecificDisease=Disease,Modifier=Disease' or a JSON file; "
                             "'Type=' drops a type")
    parser.add_argument("--collapse-labels", metavar="NAME", default=None,
                        help="give every span this one type (e.g. Disease for NCBI)")


def corpus_options(args: argparse.Namespace) -> CorpusOptions:
    return CorpusOptions(format=args.format, on_error=args.on_error, label_map=args.label_map,
                         collapse_labels=args.collapse_labels)
