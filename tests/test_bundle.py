"""A broken bundle stops start-up with one line that names the file or field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.bundle import BundleError, read_manifest, verify_bundle
from tests.support import ServerProcess


def edit_manifest(bundle: Path, **changes: object) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_valid_bundle_verifies(tiny_bundle: Path) -> None:
    manifest = verify_bundle(tiny_bundle)
    assert manifest.tags[0] == "O" and manifest.precisions() == {"fp32", "int8", "fp16"}


def test_missing_directory() -> None:
    with pytest.raises(BundleError, match="does not exist"):
        read_manifest(Path("/nonexistent/bundle"))


def test_missing_manifest(bundle_copy: Path) -> None:
    (bundle_copy / "manifest.json").unlink()
    with pytest.raises(BundleError, match=r"manifest\.json: missing"):
        read_manifest(bundle_copy)


def test_unknown_format(bundle_copy: Path) -> None:
    edit_manifest(bundle_copy, bundle_format=99)
    with pytest.raises(BundleError, match="field bundle_format is 99"):
        read_manifest(bundle_copy)


def test_missing_field_is_named(bundle_copy: Path) -> None:
    path = bundle_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["tags"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="field tags: Field required"):
        read_manifest(bundle_copy)


def test_inconsistent_tags(bundle_copy: Path) -> None:
    edit_manifest(bundle_copy, entity_types=["problem"])
    with pytest.raises(BundleError, match="field tags"):
        read_manifest(bundle_copy)


def test_decode_rule_defaults_to_subword_and_is_checked(bundle_copy: Path, tiny_bundle: Path) -> None:
    """A bundle records its training's rule (the tiny one trains with ``word``; the default, word-viterbi,
    is checked through training in test_cli_train); one written before the field existed decodes subwords."""
    assert read_manifest(tiny_bundle).decode == "word"
    path = bundle_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["decode"]
    path.write_text(json.dumps(manifest))
    assert read_manifest(bundle_copy).decode == "subword"
    edit_manifest(bundle_copy, decode="letters")
    with pytest.raises(BundleError, match="field decode"):
        read_manifest(bundle_copy)


def flip_byte(path: Path, position: int = 100) -> None:
    with path.open("r+b") as handle:
        handle.seek(position)
        byte = handle.read(1)
        handle.seek(position)
        handle.write(bytes([byte[0] ^ 0xFF]))


def test_tampered_model_file(bundle_copy: Path) -> None:
    flip_byte(bundle_copy / "model.onnx")
    with pytest.raises(BundleError, match=r"model\.onnx: sha256 does not match"):
        verify_bundle(bundle_copy)


def test_missing_tokenizer(bundle_copy: Path) -> None:
    (bundle_copy / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match=r"tokenizer\.json: missing"):
        verify_bundle(bundle_copy)


def test_file_outside_bundle_refused(bundle_copy: Path) -> None:
    path = bundle_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["tokenizer"]["file"] = "../../etc/passwd"
    path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="outside the bundle"):
        verify_bundle(bundle_copy)


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("checksum", "model.int8.onnx: sha256 does not match"),
        ("format", "field bundle_format is 2"),
        ("missing", "does not exist"),
    ],
)
def test_server_fails_fast_naming_the_cause(bundle_copy: Path, tmp_path: Path, breakage: str, expected: str) -> None:
    bundle: Path | str = bundle_copy
    if breakage == "checksum":
        flip_byte(bundle_copy / "model.int8.onnx")
    elif breakage == "format":
        edit_manifest(bundle_copy, bundle_format=2)
    else:
        bundle = tmp_path / "nowhere"
    server = ServerProcess.launch(bundle, tmp_path)
    try:
        code = server.wait_exit(timeout=60)
    finally:
        server.stop()
    assert code != 0
    errors = [record for record in server.log_records() if record.get("level") == "error"]
    assert len(errors) == 1 and expected in errors[0]["message"], server.log()
    assert expected in server.log().splitlines()[-1]


def test_bundles_without_a_task_type_are_concept_taggers(bundle_copy: Path) -> None:
    path = bundle_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["task_type"], manifest["phi_categories"]  # as written before the fields existed
    path.write_text(json.dumps(manifest))
    loaded = read_manifest(bundle_copy)
    assert loaded.task_type == "concepts" and loaded.phi_types() == {}


def test_a_deid_bundle_names_the_category_of_every_label(bundle_copy: Path, tiny_deid_bundle: Path) -> None:
    deid = read_manifest(tiny_deid_bundle)
    assert deid.task_type == "deid" and str(deid.phi_types()["problem"]) == "NAME/PATIENT"
    assert set(deid.phi_categories) == set(deid.entity_types)
    edit_manifest(bundle_copy, task_type="deid")
    with pytest.raises(BundleError, match=r"phi_categories.*missing: \['problem', 'test', 'treatment'\]"):
        read_manifest(bundle_copy)
    edit_manifest(bundle_copy, phi_categories={"problem": "NAME", "test": "DATE", "treatment": "PLACE"})
    with pytest.raises(BundleError, match=r"phi_categories\.treatment: unknown PHI category 'PLACE'"):
        read_manifest(bundle_copy)
    edit_manifest(bundle_copy, task_type="concepts", phi_categories={"problem": "NAME"})
    with pytest.raises(BundleError, match="only for task_type deid"):
        read_manifest(bundle_copy)
