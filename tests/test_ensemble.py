"""Ensembles: document-level splits, member directories, the ensemble record (ids, never text)."""

from __future__ import annotations

import json
import random

import pytest

from model_export.checkpoints import ENSEMBLE_FILE, TRAINING_FILE
from model_export.ensemble import document_splits
from tests.train_support import tiny_corpus, trained_ensemble

IDS = [f"doc-{index:03d}" for index in range(23)]


def test_splits_are_disjoint_cover_everything_and_are_balanced() -> None:
    splits = document_splits(IDS, 5, seed=7)
    assert len(splits) == 5
    flat = [doc_id for split in splits for doc_id in split]
    assert sorted(flat) == sorted(IDS)  # cover, and no id twice
    assert max(map(len, splits)) - min(map(len, splits)) <= 1


def test_splits_are_deterministic_and_ignore_input_order() -> None:
    shuffled = IDS[:]
    random.Random(1).shuffle(shuffled)
    assert document_splits(IDS, 5, seed=7) == document_splits(shuffled, 5, seed=7)
    assert document_splits(IDS, 5, seed=7) != document_splits(IDS, 5, seed=8)


@pytest.mark.parametrize(("ids", "k", "message"), [
    (IDS, 1, "at least 2"),
    (["a", "a", "b"], 2, "unique"),
    (["a", "b"], 3, "cannot be split"),
])
def test_impossible_splits_are_refused(ids: list[str], k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        document_splits(ids, k, seed=0)


def test_ensemble_writes_members_and_record() -> None:
    root = trained_ensemble()
    train_docs, _ = tiny_corpus()
    record = json.loads((root / ENSEMBLE_FILE).read_text())
    assert record["members"] == ["member-1", "member-2"]
    assert record["vote_rule"] == "clinx-majority"
    assert record["seed"] == 0
    assert record["splits"] == document_splits([d.id for d in train_docs], 2, seed=0)
    assert set(record["dev"]) == {"strict", "lenient"}
    for index, (name, held_out) in enumerate(zip(record["members"], record["splits"], strict=True), start=1):
        member = json.loads((root / name / TRAINING_FILE).read_text())
        assert member["tags"] == record["tags"]  # the vote compares tag indices: one tag list for all
        assert member["corpus"]["held_out_split"] == index
        assert member["corpus"]["dev_documents"] == len(held_out)
        assert member["corpus"]["train_documents"] == len(train_docs) - len(held_out)
        assert member["config"]["seed"] == index - 1
        assert (root / name / "model.safetensors").is_file()


def test_member_selects_on_documents_it_never_trained_on() -> None:
    root = trained_ensemble()
    record = json.loads((root / ENSEMBLE_FILE).read_text())
    first, second = (set(split) for split in record["splits"])
    assert not first & second


def test_ensemble_record_holds_ids_not_text() -> None:
    text = (trained_ensemble() / ENSEMBLE_FILE).read_text()
    train_docs, _ = tiny_corpus()
    assert all(document.text[:40] not in text for document in train_docs)
