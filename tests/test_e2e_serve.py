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
        assert 'clinx_requests_total{route="/extract",status="200"}' in metrics
        assert "clinx_model_info{" in metrics


def test_serve_never_imports_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, app.cli, app.server, app.main, app.engine.runtime; "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stdout + result.stderr
