"""Export writes verified fp32/int8/fp16 bundles, records every figure, and refuses what fails a check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.bundle import BundleError, read_manifest, sha256_file
from app.text.types import Document
from model_export import commands
from model_export.demo_corpus import generate_demo_corpus
from model_export.export import ExportConfig, ExportError, export_bundle
from model_export.verify import verify_bundle_files
from tests.test_bundle import flip_byte

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tiny_bundle: Path) -> Path:
    """The checkpoint ``build_tiny_bundle`` trained (a few steps of the real training loop)."""
    return tiny_bundle.parent / "checkpoint"


TINY_BOUND = 5.0


@pytest.fixture(scope="module")
def eval_docs() -> list[Document]:
    return generate_demo_corpus(12, seed=99)


@pytest.fixture(scope="module")
def bundle(checkpoint: Path, eval_docs: list[Document], tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The tiny model's flat probabilities make int8 cost it a few F1 points (real models: see
    # benchmarks/export_variants.py); a bound of 5 keeps its int8 variant for the tests of the figures.
    output = tmp_path_factory.mktemp("export") / "bundle"
    export_bundle(ExportConfig(checkpoint=checkpoint, output_dir=output, name="tiny", eval_documents=eval_docs,
                               eval_corpus={"name": "demo"}, max_f1_drop=TINY_BOUND))
    return output


@pytest.fixture()
def copy(bundle: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(bundle, target)
    return target


def manifest_json(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "manifest.json").read_text())  # type: ignore[no-any-return]


def config(checkpoint: Path, output: Path, **changes: Any) -> ExportConfig:
    return ExportConfig(checkpoint=checkpoint, output_dir=output, name="tiny", **changes)


def verify_cli(bundle: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = commands.export(["verify", str(bundle)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_all_variants_written_with_checksums_and_figures(bundle: Path) -> None:
    manifest = read_manifest(bundle)
    assert manifest.precisions() == {"fp32", "int8", "fp16"}
    variants = manifest.members[0].variants
    assert {v.file for v in variants.values()} == {"model.onnx", "model.int8.onnx", "model.fp16.onnx"}
    for variant in variants.values():
        assert sha256_file(bundle / variant.file) == variant.sha256 and variant.external_data == []
    parity = manifest.parity["members"]["model"]
    assert parity["fp32_vs_pytorch"]["max_abs_logit_diff"] <= 1e-4 and parity["fp32_vs_pytorch"]["identical"]
    for precision in ("int8", "fp16"):
        assert 0.0 <= parity[f"{precision}_vs_fp32"]["agreement"] <= 1.0
        served = manifest.parity["served"][precision]
        assert served["f1_drop_points"] <= served["max_f1_drop_points"] == TINY_BOUND
    scores = manifest.evaluation["eval_corpus"]
    assert scores["documents"] == 12 and set(scores["variants"]) == {"fp32", "int8", "fp16"}
    choice = manifest.parity["int8"]  # the fastest candidate within the bound, scored as the server serves it
    assert choice["chosen"] == variants["int8"].optimization["candidate"] == choice["tried"][-1]["candidate"]
    assert choice["tried"][-1]["loss_points"] <= choice["max_loss_points"] == TINY_BOUND
    assert choice["tried"][-1]["measure"] == "strict_f1_drop"


def test_optimisation_recorded(bundle: Path) -> None:
    variants = read_manifest(bundle).members[0].variants
    fused = variants["fp32"].optimization
    assert fused["applied"] and fused["model_type"] == "bert"
    assert {"Attention", "SkipLayerNormalization", "BiasGelu"} <= set(fused["fused_operators"])
    assert variants["int8"].optimization["source"] == "fused fp32"
    assert variants["int8"].optimization["per_channel"] is True
    assert variants["fp16"].optimization["keep_io_types"] is True


def test_fp16_keeps_int64_inputs_and_float32_logits(bundle: Path) -> None:
    import onnx

    graph = onnx.load(str(bundle / "model.fp16.onnx")).graph
    assert [(i.name, i.type.tensor_type.elem_type) for i in graph.input] == [
        ("input_ids", onnx.TensorProto.INT64), ("attention_mask", onnx.TensorProto.INT64)]
    assert [(o.name, o.type.tensor_type.elem_type) for o in graph.output] == [("logits", onnx.TensorProto.FLOAT)]


def test_verify_command_passes(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify_cli(bundle, capsys)
    assert code == 0 and "OK" in out and out.count("opset 18") == 3


def test_tampered_file_named(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flip_byte(copy / "model.fp16.onnx")
    code, _, err = verify_cli(copy, capsys)
    assert code == 1 and "model.fp16.onnx: sha256 does not match" in err and len(err.strip().splitlines()) == 1


def test_wrong_opset_refused(copy: Path) -> None:
    import onnx

    path = copy / "model.onnx"
    model = onnx.load(str(path))
    next(entry for entry in model.opset_import if entry.domain == "").version = 16
    onnx.save(model, str(path))
    manifest = manifest_json(copy)
    manifest["members"][0]["variants"]["fp32"].update(sha256=sha256_file(path), bytes=path.stat().st_size)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"model\.onnx: ONNX opset 16; bundles need opset >= 17"):
        verify_bundle_files(copy)


def test_external_data_listed_and_missing_file_named(checkpoint: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "bundle"
    manifest = export_bundle(config(checkpoint, output, external_data=True))
    for precision, variant in manifest.members[0].variants.items():
        assert [entry.file for entry in variant.external_data] == [f"{variant.file}.data"], precision
    assert verify_cli(output, capsys)[0] == 0
    (output / "model.onnx.data").unlink()
    code, _, err = verify_cli(output, capsys)
    assert code == 1 and "model.onnx.data: missing" in err


def test_no_int8_candidate_within_the_bound_writes_the_bundle_without_int8(
        checkpoint: Path, eval_docs: list[Document], tmp_path: Path) -> None:
    """Every candidate is tried, fastest first; none within a bound of -1 point: no int8 variant, and the server
    serves fp32 on the CPU saying why."""
    from app.engine.runtime import Runtime
    from model_export.int8_choice import CANDIDATES

    output = tmp_path / "bundle"
    manifest = export_bundle(config(checkpoint, output, fp16=False, eval_documents=eval_docs, max_f1_drop=-1.0))
    assert manifest.precisions() == {"fp32"} and sorted(p.name for p in output.glob("*.onnx")) == ["model.onnx"]
    choice = manifest.parity["int8"]
    assert choice["chosen"] is None and [t["candidate"] for t in choice["tried"]] == [c.name for c in CANDIDATES]
    assert choice["omitted"].startswith("no int8 candidate within -1 strict F1 points (best: ")
    assert "int8_vs_fp32" not in manifest.parity["members"]["model"]
    runtime = Runtime(output, read_manifest(output), device="cpu")
    assert runtime.variant == "fp32" and runtime.choice.variant_reason == f"no int8 variant: {choice['omitted']}"


def test_require_int8_refuses_the_bundle(checkpoint: Path, eval_docs: list[Document], tmp_path: Path) -> None:
    output = tmp_path / "bundle"
    with pytest.raises(ExportError, match=r"int8 required \(--require-int8\), but no int8 candidate within -1 strict "
                                          r"F1 points \(best: [\w-]+, -?\d+\.\d\d\)"):
        export_bundle(config(checkpoint, output, fp16=False, eval_documents=eval_docs, max_f1_drop=-1.0,
                             require_int8=True))
    assert not output.exists() and not list(tmp_path.glob(".clinx-export-*"))


def test_logit_tolerance_refused(checkpoint: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"ONNX fp32 disagrees with PyTorch: max \|logit difference\| \d"):
        export_bundle(config(checkpoint, tmp_path / "bundle", int8=False, fp16=False, logit_tolerance=0.0))
    assert not (tmp_path / "bundle").exists()


def test_fusions_breaking_parity_fall_back(checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    import onnx
    from onnx import numpy_helper

    from model_export import export, onnx_export

    def broken_optimize(source: Path, target: Path, settings: dict[str, Any], external: bool) -> dict[str, Any]:
        record = onnx_export.optimize(source, target, settings, external)
        model = onnx.load(str(target))
        last = next(node for node in model.graph.node if node.output[0] == "logits")
        bias = next(t for t in model.graph.initializer if t.name in last.input)
        bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias) + np.float32(0.5), bias.name))
        onnx.save(model, str(target))
        return record

    monkeypatch.setattr(export, "optimize", broken_optimize)
    manifest = export_bundle(config(checkpoint, tmp_path / "bundle", int8=False, fp16=False))
    record = manifest.members[0].variants["fp32"].optimization
    assert record["applied"] is False and record["reason"].startswith("fused graph failed parity")
    assert manifest.parity["members"]["model"]["fp32_vs_pytorch"]["identical"]


@pytest.fixture(scope="module")
def ensemble(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two members: the tiny checkpoint and a copy with a nudged classifier."""
    import torch
    from transformers import AutoModelForTokenClassification

    root = tmp_path_factory.mktemp("ensemble")
    shutil.copytree(checkpoint, root / "member-1")
    shutil.copytree(checkpoint, root / "member-2")
    model = AutoModelForTokenClassification.from_pretrained(root / "member-2")
    with torch.no_grad():
        model.classifier.bias.add_(torch.linspace(-0.3, 0.3, model.config.num_labels))
    model.save_pretrained(root / "member-2")
    (root / "clinx_ensemble.json").write_text(json.dumps({"members": ["member-1", "member-2"],
                                                          "vote_rule": "clinx-majority"}))
    return root


def test_ensemble_bundle_serves_and_verifies(ensemble: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    from app.bundle import verify_bundle
    from app.engine.runtime import Runtime

    output = tmp_path / "bundle"
    manifest = export_bundle(config(ensemble, output, fp16=False))
    assert [member.name for member in manifest.members] == ["member-1", "member-2"]
    assert manifest.vote_rule == "clinx-majority" and manifest.precisions() == {"fp32", "int8"}
    assert {path.name for path in output.glob("*.onnx")} == {
        "member-1.onnx", "member-1.int8.onnx", "member-2.onnx", "member-2.int8.onnx"}
    assert set(manifest.parity["members"]) == {"member-1", "member-2"}
    assert "agreement" in manifest.parity["served"]["int8"]
    assert manifest.parity["int8"]["accuracy"].startswith("not measured")  # no --eval-corpus: fastest kept
    runtime = Runtime(output, verify_bundle(output), device="cpu", intra_op_threads=1)
    ids = np.array([[0, 10, 11, 12, 2]], dtype=np.int64)
    logits = runtime.run(ids, np.ones_like(ids))
    assert runtime.variant == "int8" and len(logits) == 2 and logits[0].shape == (1, 5, len(manifest.tags))
    code, out, _ = verify_cli(output, capsys)
    assert code == 0 and out.count("member-") >= 4


@pytest.mark.parametrize(("record", "message"), [
    ({"members": []}, "field members must list"),
    ({"members": ["member-1"], "vote_rule": "mean"}, "vote_rule 'mean'"),
    ({"members": ["../member-1"]}, "plain directory names"),
    ({"members": ["member-9"]}, r"member-9/clinx_training\.json: missing"),
])
def test_bad_ensemble_record_refused(ensemble: Path, tmp_path: Path, record: dict[str, Any], message: str) -> None:
    root = tmp_path / "ensemble"
    shutil.copytree(ensemble, root)
    (root / "clinx_ensemble.json").write_text(json.dumps(record))
    with pytest.raises(ExportError, match=message):
        export_bundle(config(root, tmp_path / "bundle"))


def test_cli_reads_eval_corpus_and_reports_the_drop(checkpoint: Path, eval_docs: list[Document], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "eval.jsonl"
    corpus.write_text("".join(json.dumps({"id": d.id, "text": d.text, "spans": [
        {"start": s.start, "end": s.end, "label": s.label} for s in d.spans]}) + "\n" for d in eval_docs))
    code = commands.export([str(checkpoint), "--output", str(tmp_path / "bundle"), "--name", "tiny", "--no-fp16",
                            "--eval-corpus", str(corpus), "--eval-format", "jsonl", "--max-f1-drop", "-1",
                            "--require-int8"])
    err = capsys.readouterr().err
    assert code == 1 and "clinx export: int8 required (--require-int8), but no int8 candidate" in err
    assert not (tmp_path / "bundle").exists()
    code = commands.export([str(checkpoint), "--output", str(tmp_path / "bundle"), "--name", "tiny", "--no-fp16",
                            "--eval-corpus", str(corpus), "--eval-format", "jsonl", "--max-f1-drop", "-1"])
    err = capsys.readouterr().err
    assert code == 0 and "no int8 candidate within -1 strict F1 points" in err
    assert read_manifest(tmp_path / "bundle").precisions() == {"fp32"}


def test_isolated_step_gives_the_same_graph(bundle: Path, tmp_path: Path) -> None:
    """Big models convert in a child process; the result must not depend on where it ran."""
    from model_export.export import _step
    from model_export.onnx_export import quantize_int8

    options = {"per_channel": True, "reduce_range": False, "external": False}
    here = _step(False, quantize_int8, bundle / "model.onnx", tmp_path / "here.onnx", **options)
    there = _step(True, quantize_int8, bundle / "model.onnx", tmp_path / "there.onnx", **options)
    assert here == there and sha256_file(tmp_path / "here.onnx") == sha256_file(tmp_path / "there.onnx")


def test_a_named_int8_candidate_is_the_only_one_tried(checkpoint: Path, eval_docs: list[Document],
                                                      tmp_path: Path) -> None:
    """--int8-candidate: that candidate alone is quantised, scored as served and recorded (its first sixth of
    MatMuls in fp32); an unknown name is refused, naming the known ones, and nothing is written."""
    from model_export.int8_choice import quantisable_nodes

    output = tmp_path / "bundle"
    manifest = export_bundle(config(checkpoint, output, fp16=False, eval_documents=eval_docs,
                                    max_f1_drop=TINY_BOUND, int8_candidate="dynamic-fp32-first"))
    choice = manifest.parity["int8"]
    assert choice["chosen"] == "dynamic-fp32-first"
    assert [trial["candidate"] for trial in choice["tried"]] == ["dynamic-fp32-first"]
    int8 = manifest.members[0].variants["int8"].optimization
    assert int8["candidate"] == "dynamic-fp32-first"
    assert int8["fp32_nodes"] == round(len(quantisable_nodes(output / "model.onnx")) / 6) > 0
    with pytest.raises(ValueError, match="unknown int8 candidate 'fastest'; one of dynamic, "):
        export_bundle(config(checkpoint, tmp_path / "other", fp16=False, int8_candidate="fastest"))
    assert not (tmp_path / "other").exists()
