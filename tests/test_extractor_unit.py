"""Pieces of the in-process API that need no model: what /info may disclose."""

from __future__ import annotations

import pytest

from app.engine.extractor import base_model_name


@pytest.mark.parametrize(("recorded", "shown"), [
    ("/home/builder/models/clin-x-en", "clin-x-en"),
    ("/tmp/pytest-of-root/pytest-3/base/", "base"),
    ("./runs/xlmr-base", "xlmr-base"),
    ("~/checkpoints/minilm", "minilm"),
    ("C:\\Users\\me\\clin-x", "clin-x"),
    ("llange/xlm-roberta-large-english-clinical", "llange/xlm-roberta-large-english-clinical"),
    ("sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
    ("xlm-roberta-large", "xlm-roberta-large"),
])
def test_base_model_is_a_name_never_a_local_path(recorded: str, shown: str) -> None:
    assert base_model_name(recorded) == shown
