"""Randomly initialised XLM-RoBERTa encoders with a freshly trained Unigram tokenizer.

No model hub is reachable on the project's machines, so tests and benchmarks build models with
CLIN-X's architecture from a config: ``tiny`` and ``small`` for tests (seconds), ``base`` and ``large`` (the
CLIN-X shape: XLM-R-large) for benchmarks. The result is an ordinary Hugging Face directory that
goes through exactly the code a real CLIN-X checkpoint does.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.text.windows import WindowGeometry

SHAPES: dict[str, dict[str, int]] = {
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
    # tests where the model, not the HTTP and text handling around it, must be the bottleneck (scheduling)
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024},
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
}
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_unigram_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """An XLM-R-style tokenizer: NFKC, Metaspace, Unigram, ``<s> $A </s>``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>")
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer


def build_random_xlmr(output: Path, texts: Iterable[str], *, shape: str = "tiny", vocab_size: int = 1000,
                      seed: int = 0) -> Path:
    """Write a base-model directory (config, random weights, fast tokenizer) to ``output``."""
    import torch
    import transformers
    from transformers import XLMRobertaConfig, XLMRobertaModel

    tokenizer = train_unigram_tokenizer(texts, vocab_size)
    # transformers 5 names the fast class XLMRobertaTokenizer; 4.x kept the Fast suffix
    fast_class: Any = getattr(transformers, "XLMRobertaTokenizerFast", None) or transformers.XLMRobertaTokenizer
    fast = fast_class(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
    )
    torch.manual_seed(seed)
    dimensions: dict[str, Any] = dict(SHAPES[shape])
    config = XLMRobertaConfig(
        vocab_size=tokenizer.get_vocab_size(), max_position_embeddings=514, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, type_vocab_size=1, **dimensions,
    )
    output.mkdir(parents=True, exist_ok=True)
    XLMRobertaModel(config).save_pretrained(output)
    fast.save_pretrained(output)
    return output


def build_random_tagger(base: Path, output: Path, tags: list[str], geometry: WindowGeometry, *, seed: int = 0
                        ) -> Path:
    """A token-classification checkpoint straight from a base directory: random head, no training.

    Export only needs what ``clinx train`` leaves (HF directory + ``clinx_training.json``), so
    tests and benchmarks can export CLIN-X-sized models without training them for hours.
    """
    import json

    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id={tag: i for i, tag in enumerate(tags)}
    )
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    AutoTokenizer.from_pretrained(base).save_pretrained(output)
    record = {"tags": tags, **geometry.as_record(), "best_epoch": 0,
              "dev": {}, "config": {"base_model": str(base), "seed": seed}, "corpus": {"name": "none (random weights)"}}
    (output / "clinx_training.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return output
