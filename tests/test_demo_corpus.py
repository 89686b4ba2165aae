"""The synthetic demo corpus: determinism, exact spans, i2b2 2010 conventions, assertions, shapes, split."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.segment import split_sentences
from app.text.types import Document
from app.text.words import Words
from model_export import demo_course as course
from model_export import demo_narrative as narrative
from model_export import demo_phrases as phrases
from model_export import demo_terms as terms
from model_export.demo_corpus import (
    ASSERTIONS,
    ENTITY_TYPES,
    MAX_CHARS,
    MIN_CHARS,
    generate_demo_corpus,
    join_documents,
    pasted_documents,
    split_demo_corpus,
)
from model_export.demo_scenery import scenery
from model_export.demo_text import SLOT, Note
from model_export.demo_vocabulary import article, pools, vocabulary

VOCABULARY = vocabulary()
DETERMINERS = re.compile(r"^(a|an|the|his|her) ", flags=re.IGNORECASE)
PATTERNS = (phrases.HISTORY + phrases.NEGATED + phrases.POSSIBLE + phrases.CONDITIONAL + phrases.HYPOTHETICAL
            + phrases.FAMILY + phrases.PLAN + phrases.FINDINGS + phrases.OPERATIVE + phrases.PLAIN
            + tuple(text for _, texts in phrases.EXAM_LINES for text in texts) + narrative.NARRATIVE
            + narrative.NORMAL_EXAM + course.COURSE)


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return generate_demo_corpus()


def concept(doc: Document, start: int, end: int) -> str:
    """A span's text without the article or possessive that i2b2 2010 puts inside the concept."""
    return DETERMINERS.sub("", doc.text[start:end])


def _check_document(doc: Document) -> None:
    assert MIN_CHARS <= len(doc.text) <= MAX_CHARS, (doc.id, len(doc.text))
    assert doc.spans, doc.id
    words = Words.of(doc.text)
    previous_end = 0
    for span in doc.spans:
        assert span.label in ENTITY_TYPES
        assert previous_end <= span.start < span.end <= len(doc.text), (doc.id, span)
        previous_end = span.end
        covered = doc.text[span.start : span.end]
        assert covered == covered.strip() and covered[0].isalnum() and covered[-1].isalnum(), (doc.id, covered)
        assert not words.cuts(span.start) and not words.cuts(span.end), (doc.id, covered)
        known = VOCABULARY[span.label]
        assert covered.casefold() in known or concept(doc, span.start, span.end).casefold() in known, (
            doc.id, covered, span.label)
        assertion = dict(span.attributes).get("assertion")
        assert (assertion in ASSERTIONS) if span.label == "problem" else assertion is None, (doc.id, span)
    sentences = split_sentences(doc.text)
    for span in doc.spans:
        assert any(start <= span.start and span.end <= end for start, end in sentences), (doc.id, span)


# Vocabulary and patterns


def test_vocabulary_is_large_and_generated() -> None:
    sizes = {label: len(found) for label, found in VOCABULARY.items()}
    assert sizes["problem"] >= 5000 and sizes["test"] >= 1500 and sizes["treatment"] >= 1200, sizes
    assert sum(len(block) for block in (terms.CHRONIC_CONDITIONS, terms.ACUTE_CONDITIONS, terms.SYMPTOMS)) < 300


def test_no_string_carries_two_labels() -> None:
    for first, second in (("problem", "test"), ("problem", "treatment"), ("test", "treatment")):
        assert not VOCABULARY[first] & VOCABULARY[second], (first, second)


def test_terms_are_clean() -> None:
    for name, pool in pools().items():
        for term in pool.terms:
            assert term.text == term.text.strip() and "  " not in term.text, (name, term)
            assert term.text[0].isalnum() and term.text[-1].isalnum(), (name, term)


def test_scenery_is_large_clean_and_never_a_concept() -> None:
    """Anatomy, instruments, positions and steps: many phrases, none holding a concept as whole words."""
    found = scenery()
    assert len(found["anatomy"]) >= 500 and len(found["instrument"]) >= 300, {k: len(v) for k, v in found.items()}
    assert len(found["position"]) >= 20 and len(found["step"]) >= 50
    known = set().union(*VOCABULARY.values())
    for slot, texts in found.items():
        assert len(set(texts)) == len(texts), slot
        for text in texts:
            assert text == text.strip() and "  " not in text and text[0].isalnum(), (slot, text)
            words = text.casefold().split()
            grams = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
            assert not grams & known, (slot, text, grams & known)


@pytest.mark.parametrize(("text", "expected"), [
    ("MRI of the brain", "an"), ("x-ray of the chest", "an"), ("EKG", "an"), ("CT scan", "a"), ("abscess", "an"),
    ("ureteral stent", "a"), ("urinary tract infection", "a"), ("umbilical hernia", "an"), ("kidney stone", "a"),
])
def test_articles_sound_right(text: str, expected: str) -> None:
    assert article(text) == expected


def test_patterns_only_use_known_slots_and_never_put_an_article_outside_a_concept() -> None:
    fillers = {"he", "He", "his", "His", "him", "age", "sex", "duration", "year", "value", "cm", "mm", "ml", "region",
               "percent", "date", "pod", "count", "fashion"}
    for pattern in PATTERNS:
        for determiner, slot, suffix in SLOT.findall(pattern):
            assert slot in pools() or slot in scenery() or (slot in fillers and not determiner and not suffix), pattern
            assert not suffix or slot in pools(), pattern
            assert not suffix or suffix in ("absent", "possible", "conditional", "hypothetical", "family"), pattern
        for slot in re.findall(r"\b(?:a|an|the|his|her)\s+\{(?:(?:a|the|poss)_)?(\w+)", pattern, flags=re.IGNORECASE):
            assert slot not in pools(), pattern


# Determinism


def test_same_seed_gives_identical_corpus() -> None:
    assert generate_demo_corpus(20, seed=7) == generate_demo_corpus(20, seed=7)


def test_different_seed_gives_different_corpus() -> None:
    first, second = generate_demo_corpus(20, seed=7), generate_demo_corpus(20, seed=8)
    assert [doc.text for doc in first] != [doc.text for doc in second]


def test_shorter_corpus_is_a_prefix() -> None:
    assert generate_demo_corpus(10, seed=3) == generate_demo_corpus(30, seed=3)[:10]


def test_global_random_state_is_untouched() -> None:
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
@given(seed=st.integers(min_value=0, max_value=2**63), documents=st.integers(min_value=1, max_value=4))
def test_any_seed_gives_well_formed_documents(seed: int, documents: int) -> None:
    docs = generate_demo_corpus(documents, seed=seed)
    assert len(docs) == documents
    for doc in docs:
        _check_document(doc)


def _outside_ngrams(corpus: list[Document], longest: int) -> set[str]:
    """Every run of up to ``longest`` words outside the spans (section headers removed), case-folded."""
    found: set[str] = set()
    for doc in corpus:
        cuts = [0, *(edge for span in doc.spans for edge in (span.start, span.end)), len(doc.text)]
        for start, end in zip(cuts[::2], cuts[1::2], strict=True):
            piece = re.sub(r"\b[A-Z][A-Z /-]+:", " | ", doc.text[start:end])  # "PHYSICAL EXAMINATION:"
            for chunk in re.split(r"[^\w\s'/%.-]|\.(?!\d)|\s-\s", piece):
                tokens = chunk.casefold().split()
                for size in range(1, longest + 1):
                    found |= {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
    return found


def test_unlabelled_text_holds_no_term(corpus: list[Document]) -> None:
    """Outside the spans no term occurs as whole words, so the labels miss no concept."""
    longest = max(len(term.split()) for found in VOCABULARY.values() for term in found)
    outside = _outside_ngrams(corpus[:200], longest)
    for label, found in VOCABULARY.items():
        assert not found & outside, (label, sorted(found & outside)[:10])


def test_articles_and_possessives_belong_to_the_concept(corpus: list[Document]) -> None:
    texts = [doc.text[span.start : span.end] for doc in corpus for span in doc.spans]
    for determiner in ("a ", "an ", "the ", "his ", "her "):
        assert sum(text.lower().startswith(determiner) for text in texts) >= 20, determiner
    for doc in corpus:
        for span in doc.spans:
            before = doc.text[max(0, span.start - 5) : span.start]
            assert not re.search(r"\b(a|an|the|his|her)\s+$", before, flags=re.IGNORECASE), (
                doc.id, doc.text[max(0, span.start - 20) : span.end])


def test_every_assertion_occurs_on_problems(corpus: list[Document]) -> None:
    counts = Counter(dict(span.attributes)["assertion"] for doc in corpus for span in doc.spans
                     if span.label == "problem")
    assert set(counts) == set(ASSERTIONS), counts
    assert all(count >= 50 for count in counts.values()), counts
    assert counts["present"] > counts["absent"] > counts["possible"], counts
    cues = {"absent": r"(?i)\b(no|denies|negative for|without|not)\b", "associated_with_someone_else":
            r"(?i)\b(family|mother|father|brother|sister)\b"}
    for doc in corpus[:100]:
        for span in doc.spans:
            assertion = dict(span.attributes).get("assertion")
            if assertion in cues:
                before = doc.text[max(0, span.start - 120) : span.start].rsplit(".", 1)[-1]
                after = doc.text[span.end : span.end + 40].split(".")[0]
                assert re.search(cues[assertion], before + " " + after) or "ruled out" in after, (
                    doc.id, assertion, doc.text[max(0, span.start - 60) : span.end])


def test_all_labels_occur_in_reasonable_numbers_and_vary(corpus: list[Document]) -> None:
    counts = Counter(span.label for doc in corpus for span in doc.spans)
    total = sum(counts.values())
    for label in ENTITY_TYPES:
        assert counts[label] / total >= 0.12, counts  # tests are rarer in operative notes
        distinct = {concept(doc, s.start, s.end).casefold() for doc in corpus for s in doc.spans if s.label == label}
        assert len(distinct) >= 0.3 * counts[label] and len(distinct) >= 800, (label, len(distinct), counts)


def test_case_varies(corpus: list[Document]) -> None:
    texts = [doc.text[span.start : span.end] for doc in corpus for span in doc.spans]
    assert sum(text.isupper() and len(text) > 6 for text in texts) >= 20
    assert any(text[0].isupper() and text[1:].islower() for text in texts)
    assert sum(text.islower() for text in texts) >= 100


def test_mtsamples_and_line_shapes_occur(corpus: list[Document]) -> None:
    texts = [doc.text for doc in corpus]
    glued = [text for text in texts if re.search(r"\.,[A-Z ]+:(,  | , |  ,|,)", text)]
    assert 0.5 * len(texts) <= len(glued) <= 0.85 * len(texts)
    crlf = [text for text in texts if "\r\n" in text]
    assert 0.01 * len(texts) <= len(crlf) <= 0.1 * len(texts)
    joined = "\n".join(text.replace("\r\n", "\n") for text in texts)
    assert re.search(r"^HISTORY OF PRESENT ILLNESS:\n", joined, flags=re.MULTILINE)
    assert re.search(r"HISTORY OF PRESENT ILLNESS:,  [A-Z]", joined)
    assert re.search(r"PREOPERATIVE DIAGNOS[IE]S: ?,1\.  [A-Z]", joined)  # a numbered list glued on
    assert re.search(r"MEDICATIONS:[ ,]*1\.  [A-Z][\w'-]+ \d", joined)
    routes, frequencies = r"(p\.o\.|PO|by mouth|IV|subcutaneously)", r"(daily|b\.i\.d\.|t\.i\.d\.|q\.h\.s\.|p\.r\.n\.)"
    assert re.search(rf"\b{routes} {frequencies}", joined)
    assert re.search(r"\b(blood pressure|BP) (was |of )?1\d\d/\d\d\b", joined)
    assert re.search(r"\bDenies \w|\bdenies \w", joined) and re.search(r"(?i)\bno evidence of \w", joined)
    assert re.search(r"\bS/p \w", joined) and re.search(r"\bc/o \w", joined)
    for shape in ("clinic", "operative", "report"):
        marker = {"clinic": "ALLERGIES:", "operative": "ANESTHESIA:", "report": "IMPRESSION:"}[shape]
        assert sum(marker in text for text in texts) >= 50, shape


def test_operative_narratives_keep_anatomy_instruments_and_positions_outside(corpus: list[Document]) -> None:
    """The words real operative notes are made of occur often, and never inside a span."""
    outside = " ".join(_outside_text(doc) for doc in corpus)
    inside = " ".join(doc.text[span.start : span.end] for doc in corpus for span in doc.spans)
    for slot, least in (("anatomy", 300), ("instrument", 150), ("position", 15), ("step", 30)):
        seen = {text for text in scenery()[slot] if re.search(rf"\b{re.escape(text)}\b", outside)}
        assert len(seen) >= least, (slot, len(seen))
    for word in ("Trendelenburg", "hemostat", "retractor", "glidewire", "meatus", "dissection"):
        assert re.search(rf"\b{word}\b", outside) and not re.search(rf"\b{word}\b", inside), word
    operative = [doc for doc in corpus if "ANESTHESIA:" in doc.text]
    assert 0.4 * len(corpus) <= len(operative) <= 0.6 * len(corpus)


def test_modifiers_ordinals_and_plurals_stay_inside_treatments(corpus: list[Document]) -> None:
    """i2b2 2010 keeps the whole noun phrase: "a second stage cystolithotripsy", "The catheters"."""
    treatments = [doc.text[s.start : s.end] for doc in corpus for s in doc.spans if s.label == "treatment"]
    patterns = (r"(?i)^(an? |the )?(second|staged|repeat|redo|revision|completion)\b.* \w+(ectomy|otomy|ostomy|"
                r"plasty|tripsy|pexy|lysis)$", r"(?i)^the (\w+ )?(catheters|stents|drains|clips|sutures)$",
                r"(?i)^(further|additional|definitive|surgical) (intervention|surgery|treatment)$",
                r"(?i)(insertion|placement|removal|exchange)( of (an?|the) .+)?$")
    for pattern, least in zip(patterns, (5, 3, 5, 5), strict=True):
        assert sum(bool(re.search(pattern, text)) for text in treatments) >= least, pattern


def _outside_text(doc: Document) -> str:
    cuts = [0, *(edge for span in doc.spans for edge in (span.start, span.end)), len(doc.text)]
    return " | ".join(doc.text[start:end] for start, end in zip(cuts[::2], cuts[1::2], strict=True))


def test_some_sentences_hold_no_concept(corpus: list[Document]) -> None:
    empty = 0
    for doc in corpus:
        for start, end in split_sentences(doc.text):
            if not doc.text[start:end].endswith(":") and not any(start <= s.start < end for s in doc.spans):
                empty += 1
    assert empty >= 100


def test_joined_documents_keep_every_span() -> None:
    parts = generate_demo_corpus(3, seed=5)
    joined = join_documents("joined", parts)
    assert joined.text == "\n\n".join(part.text for part in parts)
    assert [joined.text[s.start : s.end] for s in joined.spans] == [p.text[s.start : s.end] for p in parts
                                                                     for s in p.spans]
    assert [s.attributes for s in joined.spans] == [s.attributes for p in parts for s in p.spans]


def test_a_note_keeps_its_patient() -> None:
    note = Note(random.Random(1), "she")
    text = note.render("{He} said {his} {symptom} bothers {him}.").text
    assert text.startswith("She said her ") and text.endswith(" bothers her.")


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


def test_pasted_documents_keep_every_note_in_order() -> None:
    notes = generate_demo_corpus(12, seed=4)
    documents = pasted_documents(notes, 3, seed=1)
    assert pasted_documents(notes, 3, seed=1) == documents
    assert 4 <= len(documents) < 12
    assert "\n\n".join(document.text for document in documents) == "\n\n".join(note.text for note in notes)
    assert sum(len(document.spans) for document in documents) == sum(len(note.spans) for note in notes)
    assert pasted_documents(notes, 1, seed=1) == notes
    with pytest.raises(ValueError):
        pasted_documents(notes, 0, seed=1)
