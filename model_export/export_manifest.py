"""The manifest of an exported bundle: what was trained, how it was verified, how it must be served."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import __version__
from app.bundle import BUNDLE_FORMAT, Manifest, file_entry
from app.deid.categories import phi_categories_for
from app.text.encode import DocumentEncoder
from app.text.labels import entity_types_of
from app.text.segment import SEGMENTER_NAME, SEGMENTER_VERSION
from model_export.checkpoints import ENSEMBLE_FILE, TRAINING_FILE, recorded_decode
from model_export.ensemble import VOTE_RULE
from model_export.export_inputs import Checkpoint, read_record
from model_export.verify import ExportError

if TYPE_CHECKING:
    from model_export.export import ExportConfig, MemberExport


def bundle_manifest(config: ExportConfig, checkpoints: list[Checkpoint], staging: Path, encoder: DocumentEncoder,
                    exports: dict[str, MemberExport], figures: dict[str, Any], scores: dict[str, Any],
                    documents: int, int8: dict[str, Any] | None = None) -> Manifest:
    """Every figure the export measured goes in, so a reviewer can judge the bundle without rerunning it."""
    tags = list(checkpoints[0].record["tags"])
    special = encoder.special
    ensemble = len(checkpoints) > 1
    trained = {c.name: {"corpus": c.record.get("corpus", {}), "config": c.record.get("config", {})}
               for c in checkpoints}
    selected = {c.name: {"dev": c.record.get("dev", {}), "best_epoch": c.record.get("best_epoch")}
                for c in checkpoints}
    evaluation: dict[str, Any] = {"members": selected} if ensemble else dict(selected["model"])
    if ensemble and "dev" in (voted := read_record(config.checkpoint / ENSEMBLE_FILE)):
        evaluation["dev"] = voted["dev"]
    if scores:
        evaluation["eval_corpus"] = {**config.eval_corpus, "documents": documents, "variants": scores}
    return Manifest.model_validate({
        "bundle_format": BUNDLE_FORMAT,
        "name": config.name,
        "version": config.version,
        "task": config.task,
        "task_type": config.task_type,
        "phi_categories": _phi_categories(config, entity_types_of(tags)),
        "description": config.description,
        "demo": config.demo,
        "base_model": str(checkpoints[0].record.get("config", {}).get("base_model", "")),
        "label_scheme": "BIOES",
        "tags": tags,
        "entity_types": entity_types_of(tags),
        "max_length": encoder.geometry.max_length,
        **encoder.geometry.as_record(),
        "segmenter": {"name": SEGMENTER_NAME, "version": SEGMENTER_VERSION},
        "tokenizer": file_entry(staging, "tokenizer.json"),
        "special_tokens": {"cls_id": special.cls_id, "sep_id": special.sep_id, "pad_id": special.pad_id},
        "members": [{"name": name, "variants": export.variants} for name, export in exports.items()],
        "vote_rule": VOTE_RULE,
        "decode": recorded_decode(checkpoints[0].record, checkpoints[0].path / TRAINING_FILE),
        "evaluation": evaluation,
        "parity": {
            "texts": {"source": "eval corpus" if config.eval_documents is not None else "built-in sample notes",
                      "documents": documents},
            "members": {name: export.parity for name, export in exports.items()},
            "served": figures,
            **({"int8": int8} if int8 is not None else {}),
        },
        "training": {"members": trained} if ensemble else trained["model"],
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "clinx_version": __version__,
    })


def _phi_categories(config: ExportConfig, entity_types: list[str]) -> dict[str, str]:
    """A deid bundle names every label's PHI category: the i2b2 2006/2014 ones are known, others given."""
    if config.task_type != "deid":
        if config.phi_categories:
            raise ExportError("PHI categories are given, but the task type is not deid")
        return {}
    try:
        return phi_categories_for(entity_types, config.phi_categories)
    except ValueError as error:
        raise ExportError(str(error)) from None
