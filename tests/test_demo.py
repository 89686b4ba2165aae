"""`clinx demo`'s scheduling: bundles present are kept, only missing ones are built (side by side)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from app.bundle import verify_bundle
from model_export import commands
from model_export.demo import CONCEPTS, DEID, THOROUGH, built_by, ensure_demo_bundles


def test_present_bundles_are_kept_without_building(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outputs = [tmp_path / "demo", tmp_path / "demo-deid"]
    for output in outputs:
        output.mkdir()
        (output / "manifest.json").write_text("{}")
    with caplog.at_level(logging.INFO, logger="clinx.demo"):
        assert ensure_demo_bundles(list(zip(outputs, (CONCEPTS, DEID), strict=True))) == outputs
    assert caplog.text.count("demo bundle present") == 2 and "side by side" not in caplog.text
    assert all((output / "manifest.json").read_text() == "{}" for output in outputs)


def manifest_of(output: Path, documents: int, epochs: int) -> Path:
    output.mkdir(parents=True)
    training = {"corpus": {"documents": documents}, "config": {"epochs": epochs}}
    (output / "manifest.json").write_text(json.dumps({"training": training}))
    return output


def test_the_thorough_build_replaces_a_demo_built_by_another_recipe(tmp_path: Path) -> None:
    quick = manifest_of(tmp_path / "quick", CONCEPTS.documents, CONCEPTS.epochs)
    thorough = manifest_of(tmp_path / "thorough", THOROUGH.documents, THOROUGH.epochs)
    assert built_by(quick, CONCEPTS) and built_by(thorough, CONCEPTS)  # any demo serves the quick request
    assert not built_by(quick, THOROUGH) and built_by(thorough, THOROUGH)
    assert not built_by(tmp_path / "missing", CONCEPTS)
    assert (THOROUGH.documents, THOROUGH.epochs, THOROUGH.freeze_layers, THOROUGH.all_cores) == (1600, 3, 0, True)
    assert THOROUGH.seed == CONCEPTS.seed and "Thorough build" in THOROUGH.description


def test_clinx_demo_thorough_keeps_a_thorough_demo(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    thorough = manifest_of(tmp_path / "demo", THOROUGH.documents, THOROUGH.epochs)
    deid = manifest_of(tmp_path / "demo-deid", DEID.documents, DEID.epochs)
    with caplog.at_level(logging.INFO, logger="clinx.demo"):
        assert commands.demo(["--thorough", "--output", str(thorough), "--deid-output", str(deid)]) == 0
    assert caplog.text.count("demo bundle present") == 2


@pytest.mark.slow
def test_missing_bundles_are_built_side_by_side_and_published_complete(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Both demos missing: the two taggers and the assertion classifier train in three processes (the
    thorough concept tagger with every core); each bundle appears only complete (the classifier
    attached), and a killed build's leftovers are replaced."""
    concepts = dataclasses.replace(THOROUGH, documents=14, epochs=1, assertion_epochs=1)
    deid = dataclasses.replace(DEID, documents=8, epochs=1)
    outputs = [tmp_path / "demo", tmp_path / "demo-deid"]
    stale = tmp_path / ".demo.partial"
    stale.mkdir()
    (stale / "model.onnx").write_text("left by a killed build")
    with caplog.at_level(logging.INFO, logger="clinx.demo"):
        assert ensure_demo_bundles(list(zip(outputs, (concepts, deid), strict=True))) == outputs
    assert "in 3 processes" in caplog.text and "the thorough tagger: every core" in caplog.text
    concept_manifest = json.loads((outputs[0] / "manifest.json").read_text())
    deid_manifest = json.loads((outputs[1] / "manifest.json").read_text())
    assert concept_manifest["task_type"] == "concepts" and deid_manifest["task_type"] == "deid"
    int8 = {name: manifest["members"][0]["variants"]["int8"]["optimization"]["candidate"]
            for name, manifest in (("concepts", concept_manifest), ("deid", deid_manifest))}
    assert int8 == {"concepts": "dynamic-fp32-first", "deid": "dynamic"}  # the recipes' measured / fastest
    classifier = concept_manifest["assertion"]["model"]
    assert "present" in classifier["classes"] and (outputs[0] / "assertion.onnx").is_file()
    assert classifier["training"]["config"]["majority_share"] == concepts.assertion_majority_share
    assert (deid_manifest.get("assertion") or {}).get("model") is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo", "demo-deid"]  # no staging left
    verify_bundle(outputs[0])
    verify_bundle(outputs[1])
