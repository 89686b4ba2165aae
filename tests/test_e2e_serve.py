"""End to end: a real `clinx serve` process on 127.0.0.1, real notes over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support import ServerProcess


def check_document(text: str, document: dict[str, object], labels: set[str]) -> None:
    entities = document["entities"]
    assert isinstance(entities, list)
    previous_end = 0
    for entity in entities:
        assert text[entity["start"] : entity["end"]] == entity["text"]
        assert entity["text"] == entity["text"].strip() and entity["text"]
        assert entity["start"] >= previous_end, "spans out of order or overlapping"
        previous_end = entity["end"]
        assert entity["label"] in labels
        assert 0.0 <= entity["score"] <= 1.0


def test_mtsamples_notes_end_to_end(tiny_server: ServerProcess, tiny_bundle: Path,
                                    mtsamples: list[dict[str, str]]) -> None:
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    labels = set(manifest["entity_types"])
    notes = sorted(mtsamples, key=lambda note: len(note["text"]))
    chosen = [*notes[:: max(1, len(notes) // 24)], notes[-1]]  # short to longest (~12,600 chars)
    total_entities = 0
    with httpx.Client(base_url=tiny_server.url, timeout=120) as client:
        for start in range(0, len(chosen), 8):
            batch = chosen[start : start + 8]
            response = client.post("/extract", json={"documents": [{"id": n["id"], "text": n["text"]} for n in batch]})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["model"]["name"] == manifest["name"]
            assert len(body["model"]["sha256"]) == 64
            for note, document in zip(batch, body["documents"], strict=True):
                assert document["id"] == note["id"]
                check_document(note["text"], document, labels)
                assert document["stats"]["characters"] == len(note["text"])
                assert document["stats"]["truncated"] is False
                assert document["stats"]["windows"] >= 1
                total_entities += len(document["entities"])
    assert total_entities > 0, "the tagger found nothing in 25 real notes"


def test_health_info_and_metrics(tiny_server: ServerProcess) -> None:
    with httpx.Client(base_url=tiny_server.url, timeout=30) as client:
        assert client.get("/health/live").json() == {"status": "alive"}
        assert client.get("/health/ready").status_code == 200
        info = client.get("/info").json()
        assert info["models"][0]["execution_provider"] == "CPUExecutionProvider"
        assert info["models"][0]["variant"] == "int8"
        client.post("/extract", json={"text": "Chest pain treated with aspirin."})
        metrics = client.get("/metrics").text
        assert 'clinx_requests_total{client="anonymous",route="/extract",status="200"}' in metrics
        assert "clinx_model_info{" in metrics


def test_serve_never_imports_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, clinx_cli, app.server, app.main, app.engine.runtime; "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stdout + result.stderr


def _entities_counted(client: httpx.Client) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    counted: dict[str, float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "clinx_entities_total":
                label = sample.labels["label"]  # summed over the assertion label
                counted[label] = counted.get(label, 0.0) + sample.value
    return counted


def test_info_names_the_base_model_without_a_local_path_and_lists_the_stages(tiny_server: ServerProcess) -> None:
    with httpx.Client(base_url=tiny_server.url, timeout=30) as client:
        model = client.get("/info").json()["models"][0]
    assert model["base_model"] and "/" not in model["base_model"]  # the tiny bundle's base was a /tmp path
    assert model["stages"] == ["encode", "tag", "decode", "assertion"]  # the tiny bundle tags problems


def test_no_documents_is_an_empty_answer(tiny_server: ServerProcess) -> None:
    with httpx.Client(base_url=tiny_server.url, timeout=30) as client:
        response = client.post("/extract", json={"documents": []})
    assert response.status_code == 200, response.text
    assert response.json()["documents"] == []


def test_entities_metric_counts_what_the_client_receives(tiny_server: ServerProcess, mtsamples: list[dict[str, str]]
                                                         ) -> None:
    """With a labels filter, only the returned entities are counted (it over-counted the filtered ones)."""
    note = max(mtsamples[:40], key=lambda n: len(n["text"]))["text"]
    with httpx.Client(base_url=tiny_server.url, timeout=120) as client:
        everything = client.post("/extract", json={"text": note}).json()["documents"][0]["entities"]
        labels = sorted({entity["label"] for entity in everything})
        assert len(labels) >= 2, "the note should give entities of two labels at least"
        before = _entities_counted(client)
        kept = client.post("/extract", json={"text": note, "labels": labels[:1]}).json()["documents"][0]["entities"]
        after = _entities_counted(client)
    assert kept and all(entity["label"] == labels[0] for entity in kept)
    assert after.get(labels[0], 0) - before.get(labels[0], 0) == len(kept)
    for label in labels[1:]:
        assert after.get(label, 0) == before.get(label, 0)
