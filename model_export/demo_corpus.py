"""A synthetic, annotated clinical corpus for training the demo model.

Why this exists: real i2b2 2010 notes cannot be redistributed, yet the serving stack needs a
model bundle to start, to test against and to benchmark. This module writes short notes in the
shape of discharge summaries and progress notes (section headers, numbered medication lists,
lab and vital sign lines, negations, CRLF line endings, double spaces), filled from hand-written
term lists and sentence patterns (``demo_terms``), and labels every concept with the i2b2 2010
types ``problem``, ``test`` and ``treatment``. A small tagger trained on it learns the formats in
a few CPU minutes, which is all a demo needs.

It is a demo, not a clinical resource: the notes describe no real patient, the medical content
is plausible only on the surface, and a model trained on it must never be used for clinical
decisions or reported as an i2b2 result.

Generation is deterministic: one ``random.Random(seed)`` draws a seed per document, so the same
seed always yields the same corpus and a shorter corpus is a prefix of a longer one. Text is built
by appending pieces and recording each concept's offsets as it is appended, so every span's text
is exactly the term that was inserted.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence

from app.text.types import Document, Span
from model_export import demo_terms as terms

ENTITY_TYPES: tuple[str, ...] = ("problem", "test", "treatment")

MIN_CHARS = 150
MAX_CHARS = 1500
MIN_SENTENCES = 2
MAX_SENTENCES = 10

TERMS: dict[str, tuple[str, ...]] = {
    "problem": terms.PROBLEMS,
    "test": terms.TESTS,
    "treatment": terms.TREATMENTS,
}
# Concept slots of the patterns: the label each one gets and the terms it draws from.
_CONCEPT_SLOTS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{label: (label, listed) for label, listed in TERMS.items()},
    "medication": ("treatment", terms.MEDICATION_TERMS),
    "procedure": ("treatment", terms.PROCEDURES),
}

_SLOT = re.compile(r"\{(\w+)\}")
_MAX_ATTEMPTS = 200

# Which patterns a prose section draws from, with weights.
_Pools = tuple[tuple[tuple[str, ...], float], ...]
_PROSE_POOLS: dict[str, _Pools] = {
    "history": (
        (terms.HISTORY_PATTERNS, 0.5),
        (terms.NEGATION_PATTERNS, 0.25),
        (terms.FINDING_PATTERNS, 0.1),
        (terms.PLAIN_SENTENCES, 0.15),
    ),
    "findings": ((terms.FINDING_PATTERNS, 0.8), (terms.NEGATION_PATTERNS, 0.2)),
    "course": (
        (terms.HISTORY_PATTERNS, 0.3),
        (terms.FINDING_PATTERNS, 0.3),
        (terms.PLAN_PATTERNS, 0.3),
        (terms.PLAIN_SENTENCES, 0.1),
    ),
    "plan": ((terms.PLAN_PATTERNS, 0.8), (terms.PLAIN_SENTENCES, 0.2)),
    "free": (
        (terms.HISTORY_PATTERNS, 0.3),
        (terms.NEGATION_PATTERNS, 0.15),
        (terms.FINDING_PATTERNS, 0.2),
        (terms.PLAN_PATTERNS, 0.25),
        (terms.PLAIN_SENTENCES, 0.1),
    ),
}
# Sections that hold exactly one statement.
_SINGLE_KINDS = frozenset({"complaint", "allergies", "vitals"})


class _Builder:
    """Text grown piece by piece, each concept's offsets recorded as it is appended."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.spans: list[Span] = []

    def __len__(self) -> int:
        return self._length

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def plain(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._length += len(text)

    def concept(self, text: str, label: str) -> None:
        start = self._length
        self.plain(text)
        self.spans.append(Span(start, self._length, label))

    def extend(self, other: _Builder) -> None:
        offset = self._length
        self.plain(other.text)
        self.spans.extend(Span(span.start + offset, span.end + offset, span.label) for span in other.spans)


def generate_demo_corpus(documents: int = 600, seed: int = 13) -> list[Document]:
    """``documents`` synthetic notes with ids ``demo-0001``, ``demo-0002``, ..., the same for the same seed.

    Each note has 2 to 10 statements and 150 to 1500 characters; its spans are sorted, disjoint
    and labelled with one of ``ENTITY_TYPES``.
    """
    if documents < 0:
        raise ValueError(f"documents must be >= 0, got {documents}")
    rng = random.Random(seed)
    document_seeds = [rng.getrandbits(64) for _ in range(documents)]
    return [_document(f"demo-{index:04d}", random.Random(doc_seed)) for index, doc_seed in enumerate(document_seeds, 1)]


def split_demo_corpus(docs: Sequence[Document], dev_fraction: float = 0.15) -> tuple[list[Document], list[Document]]:
    """Deterministic ``(train, dev)`` split; each keeps the input order.

    Which documents go to dev depends only on their ids (a CRC32 ranking), not on the input order.
    The dev part holds ``round(len(docs) * dev_fraction)`` documents, at least one when
    ``dev_fraction > 0`` and there are two or more documents, and never all of them.
    """
    if not 0.0 <= dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must lie in [0, 1), got {dev_fraction}")
    ids = [doc.id for doc in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("document ids must be unique to split a corpus")
    dev_size = min(round(len(docs) * dev_fraction), max(len(docs) - 1, 0))
    if dev_fraction > 0 and len(docs) >= 2:
        dev_size = max(dev_size, 1)
    ranked = sorted(range(len(docs)), key=lambda index: (zlib.crc32(ids[index].encode("utf-8")), ids[index]))
    dev_indices = set(ranked[:dev_size])
    train = [doc for index, doc in enumerate(docs) if index not in dev_indices]
    dev = [doc for index, doc in enumerate(docs) if index in dev_indices]
    return train, dev


def _document(doc_id: str, rng: random.Random) -> Document:
    for _ in range(_MAX_ATTEMPTS):
        note, statements = _draft(rng)
        if MIN_CHARS <= len(note) <= MAX_CHARS and MIN_SENTENCES <= statements <= MAX_SENTENCES:
            return Document(id=doc_id, text=note.text, spans=tuple(note.spans))
    raise RuntimeError(f"could not draft document {doc_id} within bounds")  # pragma: no cover


def _draft(rng: random.Random) -> tuple[_Builder, int]:
    """One candidate note and its number of statements; the caller checks the bounds."""
    newline = "\r\n" if rng.random() < 0.1 else "\n"
    budget = rng.randint(MIN_SENTENCES + 1, MAX_SENTENCES)
    note = _Builder()
    statements = 0
    for header, kind, count in _plan_sections(rng, budget):
        units, one_per_line = _section_units(rng, kind, count)
        if len(note):
            note.plain(newline * rng.choice((1, 1, 2)))
        if header is not None:
            note.plain(header)
            note.plain(newline if (one_per_line and rng.random() < 0.85) or rng.random() < 0.4 else " ")
        for index, unit in enumerate(units):
            if index:
                note.plain(newline if one_per_line else _prose_separator(rng, newline))
            note.extend(unit)
        statements += len(units)
    while len(note) < MIN_CHARS and statements < MAX_SENTENCES:
        note.plain(_prose_separator(rng, newline) if len(note) else "")
        note.extend(_prose_unit(rng, "free"))
        statements += 1
    if rng.random() < 0.3:
        note.plain(newline)
    return note, statements


def _plan_sections(rng: random.Random, budget: int) -> list[tuple[str | None, str, int]]:
    """``(header, kind, statements)`` per section: headerless free text or 1 to 4 sections."""
    if rng.random() < 0.3:
        return [(None, "free", budget)]
    chosen = sorted(rng.sample(range(len(terms.SECTIONS)), rng.randint(1, min(4, budget))))
    sections: list[tuple[str, str]] = []
    for index in chosen:
        header, kind = terms.SECTIONS[index]
        if kind not in {seen for _, seen in sections}:
            sections.append((header, kind))
    counts = [1] * len(sections)
    growable = [index for index, (_, kind) in enumerate(sections) if kind not in _SINGLE_KINDS]
    for _ in range(budget - len(sections)):
        if growable:
            counts[rng.choice(growable)] += 1
    return [(header, kind, count) for (header, kind), count in zip(sections, counts, strict=True)]


def _section_units(rng: random.Random, kind: str, count: int) -> tuple[list[_Builder], bool]:
    """The statements of one section and whether they stand one per line."""
    if kind == "complaint":
        unit = _Builder()
        unit.concept(_vary_case(rng, rng.choice(terms.PROBLEMS), capitalize=True), "problem")
        unit.plain(rng.choice((".", "")))
        return [unit], False
    if kind == "allergies":
        unit = _Builder()
        unit.plain(rng.choice(terms.ALLERGY_LINES))
        return [unit], False
    if kind == "vitals":
        return [_vitals_unit(rng)], False
    if kind == "medications":
        if count > 1 or rng.random() < 0.7:
            return _listed(rng, [_medication(rng, capitalize=True) for _ in range(count)]), True
        return [_medication_sentence(rng)], False
    if kind == "labs":
        if count > 1 or rng.random() < 0.6:
            return [_lab_unit(rng) for _ in range(count)], True
        return [_lab_sentence(rng)], False
    if kind == "problem_list":
        if count > 1 or rng.random() < 0.5:
            return _listed(rng, [_problem_item(rng) for _ in range(count)]), True
        return [_problem_sentence(rng)], False
    if kind == "plan" and rng.random() < 0.4:
        return _listed(rng, [_plan_item(rng) for _ in range(count)], numbered_only=True), True
    return [_prose_unit(rng, kind) for _ in range(count)], False


def _prose_separator(rng: random.Random, newline: str) -> str:
    return rng.choices((" ", "  ", newline), weights=(0.7, 0.15, 0.15))[0]


def _prose_unit(rng: random.Random, kind: str) -> _Builder:
    if kind == "free":
        draw = rng.random()
        if draw < 0.07:
            return _lab_sentence(rng)
        if draw < 0.1:
            return _vitals_unit(rng)
    pools = _PROSE_POOLS[kind]
    pool = rng.choices([patterns for patterns, _ in pools], weights=[weight for _, weight in pools])[0]
    return _render(rng, rng.choice(pool))


def _render(rng: random.Random, pattern: str) -> _Builder:
    """A pattern with its slots filled: concept slots become spans, filler slots plain text."""
    unit = _Builder()
    used: set[str] = set()
    position = 0
    for match in _SLOT.finditer(pattern):
        unit.plain(pattern[position : match.start()])
        slot = match.group(1)
        if slot in _CONCEPT_SLOTS:
            label, listed = _CONCEPT_SLOTS[slot]
            term = rng.choice([term for term in listed if term not in used])
            used.add(term)
            unit.concept(_vary_case(rng, term, capitalize=not len(unit)), label)
        else:
            unit.plain(_filler(rng, slot))
        position = match.end()
    unit.plain(pattern[position:])
    return unit


def _filler(rng: random.Random, slot: str) -> str:
    if slot == "age":
        return str(rng.randint(19, 96))
    if slot == "sex":
        return rng.choice(terms.SEXES)
    if slot == "duration":
        return rng.choice(terms.DURATIONS)
    if slot == "year":
        return str(rng.randint(1998, 2023))
    raise KeyError(f"unknown pattern slot {slot!r}")


def _vary_case(rng: random.Random, term: str, capitalize: bool) -> str:
    """Mostly the term as written; now and then all upper or lower case, as in real notes."""
    draw = rng.random()
    if draw < 0.04:
        term = term.upper()
    elif draw < 0.08:
        term = term.lower()
    if capitalize and term[:1].islower():
        term = term[0].upper() + term[1:]
    return term


def _listed(rng: random.Random, items: list[_Builder], numbered_only: bool = False) -> list[_Builder]:
    """Items as a list, one per line: ``1. ``, ``1) ``, ``- `` or ``* `` before each."""
    style = "1. " if numbered_only else rng.choice(("1. ", "1. ", "1) ", "- ", "* "))
    listed: list[_Builder] = []
    for number, item in enumerate(items, 1):
        line = _Builder()
        line.plain(style.replace("1", str(number)))
        line.extend(item)
        listed.append(line)
    return listed


def _medication(rng: random.Random, capitalize: bool) -> _Builder:
    """``Lisinopril 10 mg daily``: the name and dose are the treatment, the frequency is not."""
    name, doses = rng.choice(terms.MEDICATIONS)
    if not capitalize or rng.random() < 0.15:
        name = name.lower()
    unit = _Builder()
    unit.concept(f"{name} {rng.choice(doses)}", "treatment")
    frequency = rng.choice(terms.FREQUENCIES)
    unit.plain(f" {frequency}")
    if capitalize and not frequency.endswith("."):
        unit.plain(rng.choice((".", ".", "")))
    return unit


def _medication_sentence(rng: random.Random) -> _Builder:
    unit = _Builder()
    unit.plain(rng.choice(("", "Takes ", "Home regimen includes ")))
    count = rng.randint(2, 4)
    for index in range(count):
        if index:
            unit.plain(", and " if index == count - 1 else ", ")
        unit.extend(_medication(rng, capitalize=index == 0 and not len(unit)))
    unit.plain(".")
    return unit


def _lab_value(rng: random.Random, low: float, high: float, decimals: int) -> str:
    return f"{rng.uniform(low, high):.{decimals}f}"


def _lab_unit(rng: random.Random) -> _Builder:
    """``Troponin 0.04 ng/mL.`` and its variants; only the name is a concept."""
    name, measure, low, high, decimals = rng.choice(terms.LAB_VALUES)
    joiner, ending = rng.choice(terms.LAB_FORMATS)
    unit = _Builder()
    unit.concept(name.upper() if rng.random() < 0.1 else name, "test")
    unit.plain(f"{joiner}{_lab_value(rng, low, high, decimals)}")
    unit.plain(f" {measure}" if measure else "")
    unit.plain(ending)
    return unit


def _lab_sentence(rng: random.Random) -> _Builder:
    """``Labs notable for sodium 132, potassium 4.1 and creatinine 1.8.``"""
    unit = _Builder()
    unit.plain(rng.choice(("Labs notable for ", "Admission labs: ", "Labs this morning showed ")))
    chosen = rng.sample(terms.LAB_VALUES, rng.randint(2, 4))
    for index, (name, _measure, low, high, decimals) in enumerate(chosen):
        if index:
            unit.plain(" and " if index == len(chosen) - 1 else ", ")
        unit.concept(name if name[:2].isupper() else name[0].lower() + name[1:], "test")
        unit.plain(f" {_lab_value(rng, low, high, decimals)}")
    unit.plain(".")
    return unit


def _vitals_unit(rng: random.Random) -> _Builder:
    """``BP 132/84, HR 78, SpO2 97%.``: each vital's name is a test, its value is not."""
    unit = _Builder()
    unit.plain(rng.choice(("", "", "On arrival, ")))
    for index, (names, shape) in enumerate(rng.sample(terms.VITALS, rng.randint(3, 5))):
        if index:
            unit.plain(", ")
        unit.concept(_vary_case(rng, rng.choice(names), capitalize=not len(unit)), "test")
        unit.plain(" " + "".join(_digit(rng, char) for char in shape))
    unit.plain(".")
    return unit


def _problem_item(rng: random.Random) -> _Builder:
    unit = _Builder()
    unit.concept(_vary_case(rng, rng.choice(terms.PROBLEMS), capitalize=True), "problem")
    unit.plain(rng.choice((".", "", "", f", diagnosed in {rng.randint(1990, 2023)}.")))
    return unit


def _problem_sentence(rng: random.Random) -> _Builder:
    unit = _Builder()
    chosen = rng.sample(terms.PROBLEMS, rng.randint(2, 5))
    for index, problem in enumerate(chosen):
        if index:
            unit.plain(", and " if index == len(chosen) - 1 else ", ")
        unit.concept(_vary_case(rng, problem, capitalize=not index), "problem")
    unit.plain(".")
    return unit


def _plan_item(rng: random.Random) -> _Builder:
    """``CHF: Continue furosemide for lower extremity edema.``"""
    unit = _Builder()
    unit.concept(_vary_case(rng, rng.choice(terms.PROBLEMS), capitalize=True), "problem")
    unit.plain(rng.choice((": ", " - ", ". ")))
    unit.extend(_render(rng, rng.choice(terms.PLAN_PATTERNS)))
    return unit


def _digit(rng: random.Random, char: str) -> str:
    """``#`` becomes a random digit, ``@`` one from 5 to 9; anything else stays."""
    return str(rng.randint(0, 9)) if char == "#" else str(rng.randint(5, 9)) if char == "@" else char
