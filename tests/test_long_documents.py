"""Long documents are processed whole, and batching never changes what a window predicts."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.bundle import Manifest, bundle_encoder, read_manifest
from app.text.decode import document_entities, softmax
from app.text.encode import DocumentEncoder
from app.text.windows import WindowGeometry
from tests.support import ServerProcess

FRAGMENTS = [
    "Patient presents with chest pain.", "Troponin was ordered to rule out myocardial infarction.",
    "Started on aspirin 81 mg daily.", "Denies fever, chills or night sweats.", "CT of the chest: no pneumonia.",
    "HISTORY OF PRESENT ILLNESS:", "1. Metoprolol 25 mg twice daily.", "BP 150/90, HR 88.", "\n", "\r\n",
    "Hemoglobin A1c 8.1%.", "Follow up in 2 weeks", "😀", "naïve", "  ", "Pt w/ h/o CHF, AFib, COPD",
]


def offline_entities(bundle: Path, text: str) -> list[tuple[int, int, str]]:
    """Each window run alone (batch of one, no padding) through the fp32 model."""
    manifest = read_manifest(bundle)
    encoder = DocumentEncoder.from_file(bundle / "tokenizer.json", manifest.special, manifest.geometry)
    session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    document = encoder.encode(text)
    window_probs = []
    for window in document.windows:
        ids = np.array([encoder.input_ids(document, window)], dtype=np.int64)
        logits = session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
        begin, end = window.centre_positions
        window_probs.append(softmax(logits[0, begin:end])[None])
    entities = document_entities(text, document.offsets, document.anchors, window_probs, manifest.tags,
                                 manifest.decode)
    return [(e.start, e.end, e.label) for e in entities]


def test_a_100k_character_note_is_processed_whole(tiny_server: ServerProcess,
                                                   mtsamples: list[dict[str, str]]) -> None:
    text = "\n".join(note["text"] for note in mtsamples)[:100_000]
    response = httpx.post(tiny_server.url + "/extract", json={"text": text}, timeout=300)
    assert response.status_code == 200
    document = response.json()["documents"][0]
    assert document["stats"]["characters"] == 100_000
    assert document["stats"]["truncated"] is False
    assert document["stats"]["windows"] >= document["stats"]["tokens"] / 24  # chunks of 24 in the tiny bundle
    previous = 0
    for entity in document["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]
        assert entity["start"] >= previous
        previous = entity["end"]
    assert document["entities"] and document["entities"][-1]["end"] > 90_000  # the tail was tagged too


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=40).map(" ".join))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_spans_equal_each_window_processed_alone(fp32_server: tuple[ServerProcess, Path], text: str) -> None:
    server, bundle = fp32_server
    # Other documents in the same request share batches (and padding) with this one.
    others = [{"id": str(i), "text": FRAGMENTS[i] * (i + 1)} for i in range(6)]
    response = httpx.post(server.url + "/extract", timeout=60,
                          json={"documents": [*others, {"id": "x", "text": text}]})
    assert response.status_code == 200
    served = [(e["start"], e["end"], e["label"]) for e in response.json()["documents"][-1]["entities"]]
    assert served == offline_entities(bundle, text)


def test_manifest_geometry_matches_the_tiny_bundle(tiny_bundle: Path) -> None:
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    assert (manifest["chunk_subwords"], manifest["context_subwords"], manifest["pack_sentences"]) == (24, 8, True)


def test_served_windows_follow_the_bundle_geometry(tiny_server: ServerProcess, tiny_bundle: Path,
                                                   mtsamples: list[dict[str, str]]) -> None:
    """The server cuts windows as the bundle says; packing needs far fewer than one per sentence."""
    text = mtsamples[0]["text"]
    manifest = read_manifest(tiny_bundle)
    packed = bundle_encoder(tiny_bundle, manifest).encode(text).windows
    sentence_geometry = WindowGeometry(manifest.chunk_subwords, manifest.context_subwords)
    per_sentence = DocumentEncoder.from_file(tiny_bundle / "tokenizer.json", manifest.special,
                                             sentence_geometry).encode(text).windows
    response = httpx.post(tiny_server.url + "/extract", json={"text": text}, timeout=60)
    assert response.status_code == 200
    assert response.json()["documents"][0]["stats"]["windows"] == len(packed) < len(per_sentence)


def test_a_bundle_without_the_packing_field_uses_one_sentence_per_window(tiny_bundle: Path) -> None:
    """Bundles written before packing existed keep CLIN-X's windows."""
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    del manifest["pack_sentences"]
    assert Manifest.model_validate(manifest).geometry == WindowGeometry(24, 8, pack_sentences=False)


def test_a_bundle_without_paragraph_breaks_ignores_blank_lines(tiny_bundle: Path) -> None:
    """Bundles written before paragraph breaks existed cut windows as before; the field is validated."""
    manifest = json.loads((tiny_bundle / "manifest.json").read_text())
    manifest.pop("paragraph_breaks", None)
    assert Manifest.model_validate(manifest).geometry.paragraph_breaks == "none"
    manifest["paragraph_breaks"] = "windows"
    assert Manifest.model_validate(manifest).geometry == WindowGeometry(24, 8, True, "windows")
    manifest["paragraph_breaks"] = "lines"
    with pytest.raises(ValidationError):
        Manifest.model_validate(manifest)
