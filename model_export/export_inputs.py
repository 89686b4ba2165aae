"""What an export reads: a checkpoint or an ensemble's members, and the records training left in them.

Members of an ensemble must agree on tags, windows and decoding, or the bundle would serve one
member's spans with another's rules; a mismatch stops the export before anything is converted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.text.decode import DecodeRule
from app.text.windows import WindowGeometry
from model_export.checkpoints import ENSEMBLE_FILE, TRAINING_FILE, read_json, recorded_decode
from model_export.ensemble import VOTE_RULE
from model_export.verify import ExportError


@dataclass(frozen=True)
class Checkpoint:
    name: str
    path: Path
    record: dict[str, Any]


def read_checkpoints(checkpoint: Path) -> list[Checkpoint]:
    """One checkpoint, or the members an ensemble directory lists; all must share tags and windows."""
    if (checkpoint / ENSEMBLE_FILE).is_file():
        record = read_record(checkpoint / ENSEMBLE_FILE)
        names = record.get("members")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ExportError(f"{checkpoint / ENSEMBLE_FILE}: field members must list the member directories")
        if record.get("vote_rule", VOTE_RULE) != VOTE_RULE:
            raise ExportError(f"{checkpoint / ENSEMBLE_FILE}: vote_rule {record['vote_rule']!r}; bundles vote "
                              f"with {VOTE_RULE!r}")
        bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", n)]
        if bad or len(set(names)) != len(names):
            raise ExportError(f"{checkpoint / ENSEMBLE_FILE}: member names must be unique plain directory names "
                              f"(got {bad or names})")
        members = [Checkpoint(name, checkpoint / name, training_record(checkpoint / name)) for name in names]
    else:
        members = [Checkpoint("model", checkpoint, training_record(checkpoint))]
    first = shared_geometry(members[0].record)
    for member in members[1:]:
        if shared_geometry(member.record) != first:
            raise ExportError(f"{member.path}: tags, window sizes or decoding differ from {members[0].name}'s")
    return members


def read_record(path: Path) -> dict[str, Any]:
    try:
        return read_json(path)
    except ValueError as error:
        raise ExportError(str(error)) from None


def training_record(directory: Path) -> dict[str, Any]:
    path = directory / TRAINING_FILE
    if not path.is_file():
        raise ExportError(f"{path}: missing; export needs a checkpoint written by `clinx train`")
    record = read_record(path)
    try:
        recorded_decode(record, path)
    except ValueError as error:
        raise ExportError(str(error)) from None
    return record


def shared_geometry(record: dict[str, Any]) -> tuple[list[str], WindowGeometry, DecodeRule]:
    """What members must share: tags, windows and the decoding rule dev selection used (checked in training_record)."""
    return list(record["tags"]), WindowGeometry.from_record(record), recorded_decode(record, Path(TRAINING_FILE))


def usable_positions(config: Any) -> int:
    """RoBERTa-style models (CLIN-X, XLM-R) reserve the first positions after the padding index."""
    positions = int(getattr(config, "max_position_embeddings", 512))
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        positions -= int(getattr(config, "pad_token_id", 1)) + 1
    return positions


def check_positions(config: Any, max_length: int) -> None:
    positions = usable_positions(config)
    if max_length > positions:
        raise ExportError(f"windows of {max_length} tokens exceed the model's {positions} positions; "
                          "train with a smaller chunk_subwords or context_subwords")
