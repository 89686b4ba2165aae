"""Assertion end to end: a real ``clinx serve`` on a lookup-table tagger, real HTTP, both endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.text.offsets import OffsetConverter
from tests.assertion_support import build_lookup_bundle
from tests.support import ServerProcess

PREFIX = "😀 Né: "  # non-ASCII first, so the three offset encodings differ
SENTENCES = [
    ("Patient denies chest pain.", "chest pain", "absent", False),
    ("Rule out pneumonia.", "pneumonia", "possible", False),
    ("Return if fever develops.", "fever", "hypothetical", False),
    ("Chest pain on exertion.", "Chest pain", "conditional", False),
    ("Mother had breast cancer.", "breast cancer", "associated_with_someone_else", False),
    ("History of asthma.", "asthma", "present", True),
    ("Fever today.", "Fever", "present", False),
]
NOTE = PREFIX + " ".join(sentence for sentence, _, _, _ in SENTENCES) + " Started insulin."


def expected_spans() -> list[tuple[int, int, str, bool]]:
    spans = []
    for sentence, term, assertion, historical in SENTENCES:
        start = NOTE.index(sentence) + sentence.index(term)
        spans.append((start, start + len(term), assertion, historical))
    return spans


@pytest.fixture(scope="module")
def lookup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    bundle = build_lookup_bundle(tmp_path_factory.mktemp("lookup"))
    with ServerProcess.start(bundle, tmp_path_factory.mktemp("lookup-logs")) as server:
        yield server


@pytest.mark.parametrize("encoding", ["codepoint", "utf16", "utf8"])
def test_extract_carries_assertion_on_problems_only(lookup_server: ServerProcess, encoding: str) -> None:
    converter = OffsetConverter(NOTE)
    body = httpx.post(lookup_server.url + "/extract", json={"text": NOTE, "offset_encoding": encoding},
                      timeout=60).json()
    entities = body["documents"][0]["entities"]
    problems = [entity for entity in entities if entity["label"] == "problem"]
    assert [(e["start"], e["end"], e["assertion"], e["historical"]) for e in problems] == [
        (converter.convert(start, encoding), converter.convert(end, encoding), assertion, historical)  # type: ignore[arg-type]
        for start, end, assertion, historical in expected_spans()]
    treatments = [entity for entity in entities if entity["label"] == "treatment"]
    assert treatments and all("assertion" not in e and "historical" not in e for e in treatments)


def test_extract_can_skip_the_stage_and_names_unavailable_sources(lookup_server: ServerProcess) -> None:
    body = httpx.post(lookup_server.url + "/extract", json={"text": NOTE, "assertion": False}, timeout=60).json()
    assert body["documents"][0]["entities"]
    assert all("assertion" not in e and "historical" not in e for e in body["documents"][0]["entities"])
    rules = httpx.post(lookup_server.url + "/extract", json={"text": NOTE, "assertion": "rules"}, timeout=60).json()
    assert [e["assertion"] for e in rules["documents"][0]["entities"] if e["label"] == "problem"] == [
        assertion for _, _, assertion, _ in expected_spans()]
    refused = httpx.post(lookup_server.url + "/extract", json={"text": NOTE, "assertion": "model"}, timeout=60)
    assert refused.status_code == 422
    assert refused.json()["error"]["type"] == "assertion_unavailable"
    assert refused.json()["error"]["detail"]["sources"] == ["rules"]
    for seconds in (True, "5"):  # nor are booleans or strings seconds
        wrong = httpx.post(lookup_server.url + "/extract", json={"text": NOTE, "timeout_s": seconds}, timeout=60)
        assert wrong.status_code == 422 and wrong.json()["error"]["type"] == "validation_error"
    for not_a_choice in (0, 1, "yes"):  # JSON numbers are not booleans
        wrong = httpx.post(lookup_server.url + "/extract", json={"text": NOTE, "assertion": not_a_choice}, timeout=60)
        assert wrong.status_code == 422 and wrong.json()["error"]["type"] == "validation_error"
    schema = httpx.get(lookup_server.url + "/openapi.json", timeout=30).json()["components"]["schemas"]
    assert schema["AssertionRequest"]["properties"]["source"]["anyOf"][0]["enum"] == ["rules"]  # no classifier


@pytest.mark.parametrize("encoding", ["codepoint", "utf16", "utf8"])
def test_assertion_endpoint_on_caller_spans(lookup_server: ServerProcess, encoding: str) -> None:
    converter = OffsetConverter(NOTE)
    spans = [{"start": converter.convert(start, encoding), "end": converter.convert(end, encoding),  # type: ignore[arg-type]
              "label": "finding"} for start, end, _, _ in expected_spans()]
    response = httpx.post(lookup_server.url + "/assertion", timeout=60, json={
        "documents": [{"id": "n-1", "text": NOTE, "spans": spans}, {"id": "empty", "text": "", "spans": []}],
        "offset_encoding": encoding})
    assert response.status_code == 200, response.text
    assert response.headers["X-Clinx-Model"].startswith("lookup-tagger/1/")
    first, second = response.json()["documents"]
    assert first["id"] == "n-1" and second == {"id": "empty", "spans": []}
    assert [(s["start"], s["end"], s["label"], s["assertion"], s["historical"]) for s in first["spans"]] == [
        (span["start"], span["end"], "finding", assertion, historical)
        for span, (_, _, assertion, historical) in zip(spans, expected_spans(), strict=True)]


def test_assertion_endpoint_refuses_bad_spans_by_index(lookup_server: ServerProcess) -> None:
    emoji = {"start": 1, "end": 3, "label": "x"}  # utf16 offset 1 falls inside the emoji's surrogate pair
    for span, encoding in ((emoji, "utf16"), ({"start": 5, "end": 500, "label": "x"}, "codepoint"),
                           ({"start": 4, "end": 4, "label": "x"}, "codepoint")):
        response = httpx.post(lookup_server.url + "/assertion", timeout=30, json={
            "documents": [{"id": "secret-mrn", "text": NOTE, "spans": [{"start": 0, "end": 2, "label": "x"}, span]}],
            "offset_encoding": encoding})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["type"] in ("invalid_span", "validation_error")
        assert "secret-mrn" not in response.text and "Patient" not in response.text
        if error["type"] == "invalid_span":
            assert error["detail"]["loc"] == ["documents", 0, "spans", 1]
    assert httpx.post(lookup_server.url + "/assertion", json={"documents": [], "source": "model"},
                      timeout=30).json()["error"]["type"] == "assertion_unavailable"
    assert httpx.post(lookup_server.url + "/assertion", json={"documents": [{"id": "1", "text": "x"}]},
                      timeout=30).status_code == 422  # spans are required


def test_metrics_count_entities_by_assertion(lookup_server: ServerProcess) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    httpx.post(lookup_server.url + "/extract", json={"text": NOTE}, timeout=60)
    counted = {(sample.labels["label"], sample.labels["assertion"])
               for family in text_string_to_metric_families(httpx.get(lookup_server.url + "/metrics").text)
               if family.name == "clinx_entities" for sample in family.samples}
    assert {("problem", "absent"), ("problem", "hypothetical"), ("treatment", "none")} <= counted
    info = httpx.get(lookup_server.url + "/info").json()["models"][0]
    assert info["stages"] == ["encode", "tag", "decode", "assertion"]


def test_openapi_documents_both_endpoints(lookup_server: ServerProcess) -> None:
    schema = httpx.get(lookup_server.url + "/openapi.json", timeout=30).json()
    assert "/assertion" in schema["paths"]
    entity = schema["components"]["schemas"]["EntityOut"]["properties"]
    assert "assertion" in entity and "historical" in entity
    assert "assertion" in schema["components"]["schemas"]["ExtractRequest"]["properties"]


def test_a_bundle_without_assertable_types_has_no_stage(tmp_path: Path) -> None:
    from app.engine.extractor import Extractor

    bundle = build_lookup_bundle(tmp_path, extra={"assertion": {"types": []}})
    with Extractor.load(bundle) as extractor:
        assert extractor.pipeline.stage_names == ["encode", "tag", "decode"]
        entities = extractor.extract(["Patient denies chest pain."])[0].entities
        assert entities and all(entity.assertion is None for entity in entities)
