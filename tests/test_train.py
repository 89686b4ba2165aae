"""Training: checkpoint and log, dev selection, resumable state, refusals."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from safetensors.torch import load_file

from model_export import train as train_module
from model_export.checkpoints import LAST_DIR, STATE_FILE, TRAINING_FILE, ResumeError
from model_export.examples import Example, epoch_batches
from model_export.hf import CheckpointError, load_tokenizer
from model_export.train import train
from tests.train_support import tiny_config, tiny_corpus, trained_checkpoint


def _log(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / "train_log.jsonl").read_text().splitlines()]


def test_training_writes_checkpoint_record_and_log() -> None:
    checkpoint = trained_checkpoint()
    for name in ("config.json", "model.safetensors", "tokenizer.json", TRAINING_FILE, "train_log.jsonl"):
        assert (checkpoint / name).is_file(), name
    record = json.loads((checkpoint / TRAINING_FILE).read_text())
    assert record["tags"][0] == "O" and "B-problem" in record["tags"]
    assert (record["chunk_subwords"], record["context_subwords"], record["pack_sentences"]) == (24, 8, False)
    assert record["corpus"]["train_documents"] == 40 and record["corpus"]["dev_documents"] == 8
    log = _log(checkpoint)
    assert [entry["epoch"] for entry in log] == [1, 2, 3]
    assert all(entry["loss"] > 0 and "dev_strict_f1" in entry and "dev_lenient_f1" in entry for entry in log)
    assert log[-1]["learning_rate"] == pytest.approx(0.0)  # the linear schedule ends at zero


def test_model_selection_keeps_the_best_dev_strict_f1() -> None:
    checkpoint = trained_checkpoint()
    record = json.loads((checkpoint / TRAINING_FILE).read_text())
    log = _log(checkpoint)
    best = max(log, key=lambda entry: (entry["dev_strict_f1"], -entry["epoch"]))
    assert record["best_epoch"] == best["epoch"]
    assert record["dev"]["strict"]["f1"] == best["dev_strict_f1"]
    assert record["dev"]["lenient"]["f1"] == best["dev_lenient_f1"]


def test_record_and_log_hold_no_note_text() -> None:
    checkpoint = trained_checkpoint()
    written = (checkpoint / TRAINING_FILE).read_text() + (checkpoint / "train_log.jsonl").read_text()
    train_docs, dev_docs = tiny_corpus()
    assert not any(span_text(d) in written for d in [*train_docs, *dev_docs] if span_text(d))


def span_text(document: Any) -> str:
    """A concept's text long enough that it cannot appear in the record by accident."""
    return next((document.text[s.start : s.end] for s in document.spans if s.end - s.start >= 8), "")


def test_resume_continues_after_the_last_finished_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train_docs, dev_docs = tiny_corpus()
    train_docs, dev_docs = train_docs[:16], dev_docs[:3]
    train(tiny_config(tmp_path / "straight", epochs=2), train_docs, dev_docs)

    real = train_module.evaluate_model
    calls = {"count": 0}

    def crash_in_epoch_two(*args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == 2:
            raise KeyboardInterrupt  # killed during epoch 2
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate_model", crash_in_epoch_two)
    interrupted = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(interrupted, epochs=2), train_docs, dev_docs)
    state = json.loads((interrupted / LAST_DIR / STATE_FILE).read_text())
    assert state["progression"]["epoch"] == 1 and not state["progression"]["completed"]
    monkeypatch.setattr(train_module, "evaluate_model", real)

    result = train(tiny_config(interrupted, epochs=2, resume=True), train_docs, dev_docs)
    assert [entry["epoch"] for entry in _log(interrupted)] == [1, 2]
    assert result.best_epoch in (1, 2)
    # Optimizer, schedule and random states were restored: the resumed run ends where the straight one did.
    straight_weights = load_file(tmp_path / "straight" / LAST_DIR / "model.safetensors")
    resumed_weights = load_file(interrupted / LAST_DIR / "model.safetensors")
    assert straight_weights.keys() == resumed_weights.keys()
    for name, tensor in straight_weights.items():
        assert (tensor == resumed_weights[name]).all(), name
    assert _log(tmp_path / "straight")[1]["loss"] == pytest.approx(_log(interrupted)[1]["loss"])


def test_resume_of_a_finished_run_returns_without_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train_docs, dev_docs = tiny_corpus()
    first = train(tiny_config(tmp_path, epochs=1), train_docs[:8], dev_docs[:2])

    def no_loading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a finished run must not load a model again")

    monkeypatch.setattr(train_module, "load_checkpoint", no_loading)
    again = train(tiny_config(tmp_path, epochs=1, resume=True), train_docs[:8], dev_docs[:2])
    assert (again.best_epoch, again.dev) == (first.best_epoch, first.dev)


def test_resume_refuses_changed_settings(tmp_path: Path) -> None:
    train_docs, dev_docs = tiny_corpus()
    train(tiny_config(tmp_path, epochs=1, max_steps=1), train_docs[:8], dev_docs[:2])
    with pytest.raises(ResumeError, match="learning_rate"):
        train(tiny_config(tmp_path, epochs=1, max_steps=1, learning_rate=1e-3, resume=True),
              train_docs[:8], dev_docs[:2])


def test_resume_refuses_a_changed_decoding_rule(tmp_path: Path) -> None:
    """Dev selection decodes by the recorded rule: a resumed run may not switch it half-way."""
    train_docs, dev_docs = tiny_corpus()
    train(tiny_config(tmp_path, epochs=1, max_steps=1), train_docs[:8], dev_docs[:2])
    with pytest.raises(ResumeError, match="decode: saved 'word-viterbi', now 'subword'"):
        train(tiny_config(tmp_path, epochs=1, max_steps=1, decode="subword", resume=True), train_docs[:8], dev_docs[:2])


def test_dev_corpus_is_required(tmp_path: Path) -> None:
    train_docs, _ = tiny_corpus()
    with pytest.raises(ValueError, match="dev document"):
        train(tiny_config(tmp_path), train_docs, [])


def test_length_pooled_batches_group_similar_lengths_and_keep_every_example() -> None:
    examples = [Example([0, *range(5, 5 + n), 2], [-100] * (n + 2), (1, 1 + n)) for n in range(1, 65)]
    batches = epoch_batches(examples, 4, 0.0, random.Random(0), pool=4)
    assert sorted(len(e.input_ids) for batch in batches for e in batch) == sorted(len(e.input_ids) for e in examples)
    spread = max(max(len(e.input_ids) for e in b) - min(len(e.input_ids) for e in b) for b in batches)
    unpooled = epoch_batches(examples, 4, 0.0, random.Random(0))
    assert spread < max(max(len(e.input_ids) for e in b) - min(len(e.input_ids) for e in b) for b in unpooled)


def test_slow_tokenizer_is_refused(tmp_path: Path) -> None:
    from transformers import ByT5Tokenizer

    ByT5Tokenizer().save_pretrained(tmp_path)  # a Python-only tokenizer: no character offsets
    with pytest.raises(CheckpointError, match="not a fast"):
        load_tokenizer(str(tmp_path))


def test_directory_without_a_tokenizer_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no usable tokenizer"):
        load_tokenizer(str(tmp_path))


def test_progress_falls_back_to_a_counter_without_tqdm(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from model_export.progress import Progress

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    bar = Progress(range(3), total=3, description="epoch 1/1")
    seen = []
    for item in bar:
        seen.append(item)
        bar.note(loss=0.5)
    assert seen == [0, 1, 2]
    assert "epoch 1/1: 3/3 loss=0.5" in capsys.readouterr().err


def test_frozen_layers_keep_their_pretrained_weights(tmp_path: Path) -> None:
    """--freeze-layers 1: the embeddings and the first layer end exactly as the base model had them,
    the layers above and the head are trained; the setting is recorded and a resume must keep it."""
    train_docs, dev_docs = tiny_corpus()
    train(tiny_config(tmp_path / "run", epochs=1, max_steps=2, freeze_layers=1), train_docs[:8], dev_docs[:2])
    base = load_file(Path(tiny_config(tmp_path).base_model) / "model.safetensors")
    trained = load_file(tmp_path / "run" / "model.safetensors")

    def weights(state: dict[str, Any], part: str) -> dict[str, Any]:
        return {name.split(part, 1)[1]: value for name, value in state.items() if part in name}

    for part in ("embeddings.word_embeddings", "encoder.layer.0."):
        frozen_base, frozen_trained = weights(base, part), weights(trained, part)
        assert frozen_base and frozen_base.keys() == frozen_trained.keys()
        assert all(frozen_base[name].equal(frozen_trained[name]) for name in frozen_base), part
    above_base, above_trained = weights(base, "encoder.layer.1."), weights(trained, "encoder.layer.1.")
    assert any(not above_base[name].equal(above_trained[name]) for name in above_base)
    assert json.loads((tmp_path / "run" / TRAINING_FILE).read_text())["config"]["freeze_layers"] == 1


def test_freezing_more_layers_than_the_encoder_has_is_refused(tmp_path: Path) -> None:
    train_docs, dev_docs = tiny_corpus()
    with pytest.raises(CheckpointError, match="cannot freeze 9 layers: the encoder has 2"):
        train(tiny_config(tmp_path / "run", epochs=1, max_steps=1, freeze_layers=9), train_docs[:8], dev_docs[:2])


def test_head_learning_rate_trains_the_head_alone_when_the_encoder_rate_is_zero(tmp_path: Path) -> None:
    """--head-learning-rate: the fresh head has its own rate; with the encoder's at 0 every encoder
    weight ends exactly as pre-trained and the head moves (the groups split where the base model ends)."""
    train_docs, dev_docs = tiny_corpus()
    config = tiny_config(tmp_path / "run", epochs=1, max_steps=2, learning_rate=0.0, head_learning_rate=1e-2)
    train(config, train_docs[:8], dev_docs[:2])
    base = load_file(Path(config.base_model) / "model.safetensors")
    trained = load_file(tmp_path / "run" / "model.safetensors")
    record = json.loads((tmp_path / "run" / TRAINING_FILE).read_text())
    assert record["config"]["head_learning_rate"] == 1e-2 and record["config"]["learning_rate"] == 0.0
    head = sorted(name for name in trained if not name.startswith("roberta."))
    assert head == ["classifier.bias", "classifier.weight"]
    encoder = [name for name in trained if name.startswith("roberta.")]
    assert len(encoder) > 10 and all(base[name.removeprefix("roberta.")].equal(trained[name]) for name in encoder)
    train_module.seed_everything(config.seed)  # train() draws the fresh head right after seeding
    fresh = train_module.load_base(config.base_model, record["tags"])[0].classifier.weight.detach()
    assert not fresh.equal(trained["classifier.weight"])


def test_dropout_zero_makes_training_mode_deterministic_and_is_recorded(tmp_path: Path) -> None:
    """--dropout 0: every dropout, attention's too, is off, so two forward passes in training mode
    agree exactly (with the base model's dropout they differ); recorded; a rate outside [0, 1) refused."""
    import torch

    from model_export.hf import load_base, set_dropout

    model, tokenizer = load_base(tiny_config(tmp_path).base_model, ["O", "S-problem"])
    model.train()
    ids = torch.tensor([tokenizer("Patient denies chest pain and fever today.")["input_ids"]])
    assert not torch.equal(model(input_ids=ids).logits, model(input_ids=ids).logits)
    assert set_dropout(model, 0.0) > 3
    assert torch.equal(model(input_ids=ids).logits, model(input_ids=ids).logits)
    with pytest.raises(CheckpointError, match="dropout must be in"):
        set_dropout(model, 1.0)
    train_docs, dev_docs = tiny_corpus()
    train(tiny_config(tmp_path / "run", epochs=1, max_steps=1, dropout=0.0), train_docs[:8], dev_docs[:2])
    assert json.loads((tmp_path / "run" / TRAINING_FILE).read_text())["config"]["dropout"] == 0.0
