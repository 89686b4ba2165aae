"""What a training run leaves on disk: the checkpoint record, the ensemble record and resumable state.

Kept apart from the training loop so evaluation can recognise a checkpoint or an ensemble
directory without importing the trainer, and so resuming is one small, testable contract:
``OUTPUT/last/`` holds the weights after the last finished epoch plus everything needed to
continue exactly where the run stopped (optimizer, schedule, random states, best-so-far).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, cast

import numpy as np

from app.text.decode import DECODE_RULES, SUBWORD_DECODING, DecodeRule

TRAINING_FILE = "clinx_training.json"
ENSEMBLE_FILE = "clinx_ensemble.json"
LAST_DIR = "last"
STATE_FILE = "state.json"
TENSORS_FILE = "training_state.pt"


class ResumeError(ValueError):
    """``--resume`` was asked for, but the saved state cannot continue this run; the message says why."""


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, with an error naming the file when it is not one."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot be read as JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: must hold a JSON object")
    return value


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Write atomically (temp file + rename): a run killed mid-write never leaves half a record."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, indent=2, default=str), encoding="utf-8")
    temporary.replace(path)


def recorded_decode(record: dict[str, Any], where: Path) -> DecodeRule:
    """The decoding rule a checkpoint or ensemble record names; runs that predate the field decoded subwords."""
    rule = record.get("decode", SUBWORD_DECODING)
    if rule not in DECODE_RULES:
        raise ValueError(f"{where}: field decode is {rule!r}; expected one of {list(DECODE_RULES)}")
    return cast(DecodeRule, rule)


def rng_states(batch_rng: random.Random) -> dict[str, Any]:
    """Python, NumPy and batch-order generator states as JSON values (torch's goes to the tensor file)."""
    kind, keys, position, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
    return {
        "python": _listify(random.getstate()),
        "numpy": [kind, np.asarray(keys).tolist(), int(position), int(has_gauss), float(cached)],
        "batches": _listify(batch_rng.getstate()),
    }


def restore_rng_states(states: dict[str, Any], batch_rng: random.Random) -> None:
    random.setstate(_tuplify(states["python"]))
    kind, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    batch_rng.setstate(_tuplify(states["batches"]))


def save_state(directory: Path, model: Any, tokenizer: Any, tensors: dict[str, Any], state: dict[str, Any]) -> None:
    """Everything after one epoch; ``state.json`` goes last, so its presence means the rest is whole."""
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATE_FILE).unlink(missing_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    torch.save(tensors, directory / TENSORS_FILE)
    write_json(directory / STATE_FILE, state)


def load_state(directory: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(state, tensors) of the last finished epoch, or None when there is nothing to resume."""
    import torch

    if not (directory / STATE_FILE).is_file():
        return None
    state = read_json(directory / STATE_FILE)
    tensors = torch.load(directory / TENSORS_FILE, map_location="cpu", weights_only=True)
    return state, tensors


def check_resumable(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to continue a run whose schedule or data would silently differ from the saved one."""
    changed = sorted(key for key in current if saved.get(key) != current[key])
    if changed:
        details = "; ".join(f"{key}: saved {saved.get(key)!r}, now {current[key]!r}" for key in changed)
        raise ResumeError(f"cannot resume: the run's settings changed ({details}); start a new output directory")


def _listify(value: Any) -> Any:
    return [_listify(item) for item in value] if isinstance(value, tuple | list) else value


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(item) for item in value) if isinstance(value, list) else value
