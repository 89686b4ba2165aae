"""The trained classifier path for real: train (tiny XLM-R), export into a bundle, serve, batch across requests."""

from __future__ import annotations

import concurrent.futures
import json
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.assertion.classes import ASSERTION_CLASSES
from app.text.types import Document, Span
from tests.assertion_support import build_lookup_bundle
from tests.support import ServerProcess

pytestmark = pytest.mark.slow
TEMPLATES = [("Patient denies {}.", "absent"), ("No {} today.", "absent"), ("Patient reports {}.", "present"),
             ("Ongoing {} noted.", "present"), ("Rule out {}.", "possible")]
TERMS = ["chest pain", "fever", "asthma", "pneumonia", "breast cancer"]


def corpus(count: int, seed: int) -> list[Document]:
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        template, assertion = rng.choice(TEMPLATES)
        term = rng.choice(TERMS)
        text = template.format(term)
        start = text.index(term)
        span = Span(start, start + len(term), "problem", (("assertion", assertion), ("historical", index % 3 == 0)))
        documents.append(Document(f"d{index}", text, (span,)))
    return documents


@pytest.fixture(scope="module")
def classifier_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model_export.assertion_export import export_assertion
    from model_export.assertion_train import AssertionTrainConfig, train_assertion
    from model_export.synthetic import build_random_xlmr

    work = tmp_path_factory.mktemp("classifier")
    train_docs, dev_docs = corpus(160, 1), corpus(30, 2)
    base = build_random_xlmr(work / "base", [d.text for d in train_docs], shape="tiny", vocab_size=300)
    record = train_assertion(AssertionTrainConfig(base_model=str(base), output_dir=work / "ckpt", epochs=2,
                                                  learning_rate=3e-3, batch_size=16, max_length=24),
                             train_docs, dev_docs)
    assert record["classes"] == ["present", "absent", "possible"] and record["historical"] is True
    bundle = build_lookup_bundle(work)
    export_assertion(work / "ckpt", bundle, eval_documents=dev_docs, eval_corpus={"name": "synthetic"})
    return bundle


def test_the_bundle_declares_a_verified_classifier(classifier_bundle: Path) -> None:
    from app.bundle import verify_bundle

    manifest = verify_bundle(classifier_bundle)
    model = manifest.assertion.model
    assert model is not None and model.classes == ["present", "absent", "possible"] and model.historical
    assert set(model.members[0].variants) == {"fp32", "int8"}
    assert model.parity["fp32_vs_pytorch"]["max_abs_logit_diff"] <= 1e-4
    figures = manifest.assertion.evaluation
    assert {"rules", "model_fp32", "model"} <= set(figures)  # the lookup tagger has no int8 variant
    assert figures["model_fp32"]["spans"] == 30
    raw = json.loads((classifier_bundle / "manifest.json").read_text())
    raw["assertion"]["model"]["tokenizer"]["sha256"] = "0" * 64
    (classifier_bundle.parent / "broken").mkdir()
    for path in classifier_bundle.iterdir():
        (classifier_bundle.parent / "broken" / path.name).write_bytes(path.read_bytes())
    (classifier_bundle.parent / "broken" / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(Exception, match="sha256"):
        verify_bundle(classifier_bundle.parent / "broken")


@pytest.fixture(scope="module")
def classifier_server(classifier_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess.start(classifier_bundle, tmp_path_factory.mktemp("classifier-logs"),
                             max_queue_delay_ms=200) as server:
        yield server


def test_the_model_decides_and_rules_remain_selectable(classifier_server: ServerProcess) -> None:
    text = "Patient denies chest pain. Mother had breast cancer."
    default = httpx.post(classifier_server.url + "/extract", json={"text": text}, timeout=60).json()
    problems = [e for e in default["documents"][0]["entities"] if e["label"] == "problem"]
    assert len(problems) == 2
    assert all(e["assertion"] in ("present", "absent", "possible") and isinstance(e["historical"], bool)
               for e in problems)
    rules = httpx.post(classifier_server.url + "/extract", json={"text": text, "assertion": "rules"},
                       timeout=60).json()
    assert [e["assertion"] for e in rules["documents"][0]["entities"]] == ["absent", "associated_with_someone_else"]
    spans = [{"start": e["start"], "end": e["end"], "label": "x"} for e in problems]
    for source in ("model", None):
        body = {"documents": [{"id": "1", "text": text, "spans": spans}], **({"source": source} if source else {})}
        answered = httpx.post(classifier_server.url + "/assertion", json=body, timeout=60).json()
        assert [(s["assertion"], s["historical"]) for s in answered["documents"][0]["spans"]] == [
            (e["assertion"], e["historical"]) for e in problems]
    assert all(e["assertion"] in ASSERTION_CLASSES for e in problems)


def test_classifier_rows_are_batched_across_requests(classifier_server: ServerProcess) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    def one(index: int) -> int:
        text = f"Patient reports fever number {index}."
        start = text.index("fever")
        return httpx.post(classifier_server.url + "/assertion", timeout=60, json={
            "documents": [{"id": str(index), "text": text, "spans": [{"start": start, "end": start + 5,
                                                                        "label": "problem"}]}]}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(8))) == [200] * 8
    rows = []
    for family in text_string_to_metric_families(httpx.get(classifier_server.url + "/metrics").text):
        if family.name == "clinx_batch_size":
            rows = [sample for sample in family.samples if sample.labels.get("model") == "lookup-tagger/assertion"]
    count = next(s.value for s in rows if s.name.endswith("_count"))
    total = next(s.value for s in rows if s.name.endswith("_sum"))
    assert total >= 8 and count < total, "every classifier batch held one row: nothing was batched"
