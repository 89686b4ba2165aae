"""The synthetic demo corpus: determinism, exact spans, label balance, formats and the split."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.segment import split_sentences
from app.text.types import Document, Span
from model_export import demo_terms as terms
from model_export.demo_corpus import (
    ENTITY_TYPES,
    MAX_CHARS,
    MIN_CHARS,
    generate_demo_corpus,
    split_demo_corpus,
)

PATTERNS = terms.HISTORY_PATTERNS + terms.NEGATION_PATTERNS + terms.FINDING_PATTERNS + terms.PLAN_PATTERNS


def _vocabulary() -> dict[str, set[str]]:
    """Every string the generator may insert for each label, case-folded."""
    vocabulary = {
        "problem": {term.casefold() for term in terms.PROBLEMS},
        "test": {term.casefold() for term in terms.TESTS},
        "treatment": {term.casefold() for term in terms.TREATMENTS},
    }
    vocabulary["test"] |= {name.casefold() for name, *_ in terms.LAB_VALUES}
    vocabulary["test"] |= {name.casefold() for names, _ in terms.VITALS for name in names}
    vocabulary["treatment"] |= {f"{name} {dose}".casefold() for name, doses in terms.MEDICATIONS for dose in doses}
    return vocabulary


VOCABULARY = _vocabulary()


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return generate_demo_corpus()


def _check_document(doc: Document) -> None:
    assert MIN_CHARS <= len(doc.text) <= MAX_CHARS, (doc.id, len(doc.text))
    assert doc.spans, doc.id
    previous_end = 0
    for span in doc.spans:
        assert span.label in ENTITY_TYPES
        assert previous_end <= span.start < span.end <= len(doc.text), (doc.id, span)
        previous_end = span.end
        covered = doc.text[span.start : span.end]
        assert covered == covered.strip(), (doc.id, covered)
        assert covered[0].isalnum() and covered[-1].isalnum(), (doc.id, covered)
        assert covered.casefold() in VOCABULARY[span.label], (doc.id, covered, span.label)
    assert list(doc.spans) == sorted(doc.spans, key=lambda span: (span.start, span.end))
    sentences = split_sentences(doc.text)
    assert len(sentences) >= 2, doc.id
    for span in doc.spans:
        assert any(start <= span.start and span.end <= end for start, end in sentences), (doc.id, span)


# Term lists and patterns


def test_vocabulary_is_rich_enough() -> None:
    assert len(terms.PROBLEMS) >= 60
    assert len(terms.TESTS) >= 40
    assert len(terms.TREATMENTS) >= 40
    assert len(PATTERNS) >= 40
    assert any(term.isupper() for term in terms.PROBLEMS + terms.TESTS + terms.TREATMENTS)


@pytest.mark.parametrize("label", ENTITY_TYPES)
def test_terms_are_clean_and_unique(label: str) -> None:
    listed = {"problem": terms.PROBLEMS, "test": terms.TESTS, "treatment": terms.TREATMENTS}[label]
    assert len({term.casefold() for term in listed}) == len(listed)
    for term in listed:
        assert term == term.strip() and "  " not in term and "\n" not in term, term
        assert term[0].isalnum() and term[-1].isalnum(), term


def test_no_term_carries_two_labels() -> None:
    for first, second in (("problem", "test"), ("problem", "treatment"), ("test", "treatment")):
        assert not VOCABULARY[first] & VOCABULARY[second], (first, second)


def test_patterns_only_use_known_slots() -> None:
    concepts = set(ENTITY_TYPES) | {"medication", "procedure"}
    for pattern in PATTERNS:
        slots = set(re.findall(r"\{(\w+)\}", pattern))
        assert slots <= concepts | {"age", "sex", "duration", "year"}, pattern
        assert slots & concepts, pattern
    assert set(terms.MEDICATION_TERMS) | set(terms.PROCEDURES) == set(terms.TREATMENTS)


# Determinism


def test_same_seed_gives_identical_corpus() -> None:
    assert generate_demo_corpus(40, seed=7) == generate_demo_corpus(40, seed=7)


def test_different_seed_gives_different_corpus() -> None:
    first, second = generate_demo_corpus(40, seed=7), generate_demo_corpus(40, seed=8)
    assert [doc.text for doc in first] != [doc.text for doc in second]


def test_shorter_corpus_is_a_prefix() -> None:
    assert generate_demo_corpus(10, seed=3) == generate_demo_corpus(30, seed=3)[:10]


def test_global_random_state_is_untouched() -> None:
    import random

    random.seed(99)
    expected = random.random()
    random.seed(99)
    generate_demo_corpus(5)
    assert random.random() == expected


def test_ids_and_count(corpus: list[Document]) -> None:
    assert len(corpus) == 600
    assert [doc.id for doc in corpus] == [f"demo-{index:04d}" for index in range(1, 601)]
    assert generate_demo_corpus(0) == []
    with pytest.raises(ValueError):
        generate_demo_corpus(-1)


# Documents and spans


def test_every_document_is_well_formed(corpus: list[Document]) -> None:
    for doc in corpus:
        _check_document(doc)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**63), documents=st.integers(min_value=1, max_value=6))
def test_any_seed_gives_well_formed_documents(seed: int, documents: int) -> None:
    docs = generate_demo_corpus(documents, seed=seed)
    assert len(docs) == documents
    for doc in docs:
        _check_document(doc)


def test_unlabelled_text_holds_no_term(corpus: list[Document]) -> None:
    """Outside the spans no term occurs as a whole word, so the labels miss no concept."""
    outside = "|".join(
        piece
        for doc in corpus
        for piece in re.split("\x00+", "".join("\x00" if _inside(doc.spans, i) else c for i, c in enumerate(doc.text)))
    )
    for label, vocabulary in VOCABULARY.items():
        for term in vocabulary:
            found = re.search(rf"(?<![\w/-]){re.escape(term)}(?![\w/-])", outside, flags=re.IGNORECASE)
            assert found is None, (label, term, outside[max(found.start() - 40, 0) : found.end() + 40])


def _inside(spans: tuple[Span, ...], position: int) -> bool:
    return any(span.start <= position < span.end for span in spans)


def test_all_labels_occur_in_reasonable_numbers(corpus: list[Document]) -> None:
    counts = Counter(span.label for doc in corpus for span in doc.spans)
    total = sum(counts.values())
    for label in ENTITY_TYPES:
        assert counts[label] >= 500, counts
        assert counts[label] / total >= 0.15, counts
        assert sum(any(span.label == label for span in doc.spans) for doc in corpus) >= 300


def test_most_terms_are_used(corpus: list[Document]) -> None:
    seen = {(span.label, doc.text[span.start : span.end].casefold()) for doc in corpus for span in doc.spans}
    for label, listed in (("problem", terms.PROBLEMS), ("test", terms.TESTS), ("treatment", terms.TREATMENTS)):
        used = sum((label, term.casefold()) in seen for term in listed)
        assert used >= 0.9 * len(listed), (label, used, len(listed))


def test_case_varies(corpus: list[Document]) -> None:
    texts = [doc.text[span.start : span.end] for doc in corpus for span in doc.spans]
    assert any(text.isupper() and len(text) > 6 for text in texts)
    assert any(text[0].isupper() and text[1:].islower() for text in texts)
    assert any(text.islower() for text in texts)


def test_note_formats_occur(corpus: list[Document]) -> None:
    texts = [doc.text for doc in corpus]
    crlf = [text for text in texts if "\r\n" in text]
    assert 0.03 * len(texts) <= len(crlf) <= 0.25 * len(texts)
    assert all("\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "") for text in crlf)
    assert sum("  " in text.replace("\r\n", "\n") for text in texts) >= 30
    joined = "\n".join(text.replace("\r\n", "\n") for text in texts)
    assert re.search(r"^HISTORY OF PRESENT ILLNESS:\n", joined, flags=re.MULTILINE)
    assert re.search(r"^HISTORY OF PRESENT ILLNESS: \S", joined, flags=re.MULTILINE)
    assert re.search(r"^ASSESSMENT AND PLAN:\n", joined, flags=re.MULTILINE)
    assert re.search(r"^MEDICATIONS:", joined, flags=re.MULTILINE)
    assert re.search(r"^1\. [A-Z][a-z]+ \d+(\.\d+)? mg (daily|once daily)\.$", joined, flags=re.MULTILINE)
    assert re.search(r"^[-*] [A-Za-z]", joined, flags=re.MULTILINE)
    assert re.search(r"^Troponin \d+\.\d\d ng/mL\.?$", joined, flags=re.MULTILINE)
    assert re.search(r"\bBP 1\d\d/\d\d\b", joined)
    assert re.search(r"\bDenies \w", joined) and re.search(r"\bNo evidence of \w", joined)


def test_some_sentences_hold_no_concept(corpus: list[Document]) -> None:
    empty = 0
    for doc in corpus:
        for start, end in split_sentences(doc.text):
            if not doc.text[start:end].endswith(":") and not any(start <= s.start < end for s in doc.spans):
                empty += 1
    assert empty >= 100


# Split


def test_split_sizes_and_disjointness(corpus: list[Document]) -> None:
    train, dev = split_demo_corpus(corpus)
    assert (len(train), len(dev)) == (510, 90)
    train_ids, dev_ids = {doc.id for doc in train}, {doc.id for doc in dev}
    assert not train_ids & dev_ids
    assert train_ids | dev_ids == {doc.id for doc in corpus}
    assert [doc.id for doc in train] == sorted(train_ids) and [doc.id for doc in dev] == sorted(dev_ids)


def test_split_is_deterministic_and_order_independent(corpus: list[Document]) -> None:
    train, dev = split_demo_corpus(corpus, dev_fraction=0.2)
    assert split_demo_corpus(corpus, dev_fraction=0.2) == (train, dev)
    _, reversed_dev = split_demo_corpus(list(reversed(corpus)), dev_fraction=0.2)
    assert {doc.id for doc in reversed_dev} == {doc.id for doc in dev}


def test_split_edge_cases(corpus: list[Document]) -> None:
    assert split_demo_corpus([]) == ([], [])
    assert split_demo_corpus(corpus[:1]) == (corpus[:1], [])
    assert split_demo_corpus(corpus[:2], dev_fraction=0.01)[1] != []
    assert split_demo_corpus(corpus[:10], dev_fraction=0.0) == (corpus[:10], [])
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError):
            split_demo_corpus(corpus[:10], dev_fraction=bad)
    with pytest.raises(ValueError):
        split_demo_corpus([corpus[0], corpus[0]])


@settings(max_examples=50, deadline=None)
@given(size=st.integers(min_value=0, max_value=40), fraction=st.floats(min_value=0.0, max_value=0.95))
def test_split_partitions_any_corpus(size: int, fraction: float) -> None:
    docs = [Document(id=f"doc-{index}", text="x") for index in range(size)]
    train, dev = split_demo_corpus(docs, dev_fraction=fraction)
    assert len(train) + len(dev) == size
    assert not {doc.id for doc in train} & {doc.id for doc in dev}
    if size >= 2:
        assert train and (dev or fraction == 0.0)
        assert abs(len(dev) - size * fraction) <= 1 or len(dev) in (1, size - 1)
