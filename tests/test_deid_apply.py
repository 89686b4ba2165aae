"""The apply step's invariants, on generated notes: offsets, untouched text, determinism, no PHI left."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from app.deid.apply import Deidentified, deidentify, phi_spans
from app.deid.categories import CATEGORIES, PhiType
from app.deid.keys import Keyring
from app.deid.operators import OPERATOR_NAMES, OperatorPlan, OperatorSpec
from app.deid.spans import PhiSpan, join_spans

KEYRING = Keyring(b"test-secret-0123456789abcdef")
# PHI is written in letters no operator writes (tags are upper case and brackets, hashes hex digits,
# masks '*'), plain text in others, so any PHI character left in the output is one that survived.
PHI_ALPHABET = "ghkmpqrstuvwxyzλμ\U0001d538"
PLAIN_ALPHABET = " .,;:\n\r\té😀ABC-()"
TYPES = [PhiType(category, subtype) for category, subtypes in CATEGORIES.items() for subtype in (None, *subtypes)]
UNKEYED = ("tag", "redact", "mask")


@dataclass(frozen=True)
class Note:
    text: str
    spans: list[PhiSpan]


@st.composite
def notes(draw: st.DrawFn, overlapping: bool = True) -> Note:
    """Plain and PHI pieces in turn; with ``overlapping``, extra spans that straddle the PHI ones."""
    pieces = draw(st.lists(st.tuples(st.text(PLAIN_ALPHABET, max_size=6), st.text(PHI_ALPHABET, min_size=1,
                                                                                  max_size=8),
                                     st.sampled_from(TYPES)), max_size=8))
    text, spans = "", []
    for plain, phi, kind in pieces:
        text += plain
        spans.append(PhiSpan(len(text), len(text) + len(phi), kind.kind, kind, "model"))
        text += phi
    text += draw(st.text(PLAIN_ALPHABET, max_size=6))
    if overlapping and spans:
        for span in draw(st.lists(st.sampled_from(spans), max_size=3)):
            extra_end = min(len(text), span.end + draw(st.integers(0, 3)))
            start = span.start + draw(st.integers(0, span.end - span.start - 1))
            if text[start:extra_end] and all(char in PHI_ALPHABET for char in text[start:extra_end]):
                spans.append(PhiSpan(start, extra_end, "PHONE", PhiType("CONTACT", "PHONE"), "pattern"))
    return Note(text, spans)


def plans() -> st.SearchStrategy[OperatorPlan]:
    specs = st.builds(OperatorSpec, st.sampled_from(OPERATOR_NAMES), st.sampled_from("*#X"),
                      st.integers(8, 64), st.sampled_from(("category", "label")))
    return st.dictionaries(st.sampled_from(["DEFAULT", *CATEGORIES, "PATIENT", "PHONE"]), specs,
                           max_size=4).map(OperatorPlan)


def run(note: Note, plan: OperatorPlan, patient: str | None = "p-1") -> Deidentified:
    return deidentify(note.text, join_spans(note.spans), plan, KEYRING, patient)


@settings(max_examples=150, deadline=None)
@given(notes(), plans())
def test_items_point_into_both_texts_and_untouched_text_never_changes(note: Note, plan: OperatorPlan) -> None:
    result = run(note, plan)
    spans = join_spans(note.spans)
    assert [(item.start, item.end) for item in result.items] == [(span.start, span.end) for span in spans]
    old_position = new_position = 0
    for item in result.items:
        # The text between two items is copied exactly, at the offsets the items imply.
        assert note.text[old_position : item.start] == result.text[new_position : item.new_start]
        assert item.new_end - item.new_start >= 0
        old_position, new_position = item.end, item.new_end
    assert note.text[old_position:] == result.text[new_position:]


@settings(max_examples=100, deadline=None)
@given(notes(), plans())
def test_same_input_key_and_patient_give_byte_identical_output(note: Note, plan: OperatorPlan) -> None:
    assert run(note, plan) == run(note, plan)


@settings(max_examples=150, deadline=None)
@given(notes(), st.sampled_from((*UNKEYED, "hash")))
def test_no_phi_character_survives_tag_redact_mask_hash(note: Note, operator: str) -> None:
    result = run(note, OperatorPlan({"DEFAULT": OperatorSpec(operator)}))  # type: ignore[arg-type]
    assert not set(result.text) & set(PHI_ALPHABET)
    if operator == "mask":
        assert len(result.text) == len(note.text)


@settings(max_examples=150, deadline=None)
@given(notes())
def test_surrogates_and_shifts_never_return_the_original(note: Note) -> None:
    result = run(note, OperatorPlan({"DEFAULT": OperatorSpec("surrogate")}))
    for item in result.items:
        original = note.text[item.start : item.end]
        assert result.text[item.new_start : item.new_end] != original
        if item.phi.category in ("DATE", "AGE"):  # no date or age in the PHI alphabet: tagged instead
            assert item.operator == "tag"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 8), st.sampled_from(TYPES),
                          st.sampled_from(("model", "pattern"))), max_size=12))
def test_joined_spans_are_disjoint_and_cover_exactly_what_the_inputs_cover(
        raw: list[tuple[int, int, PhiType, str]]) -> None:
    spans = [PhiSpan(start, start + length, kind.kind, kind, source) for start, length, kind, source in raw]  # type: ignore[arg-type]
    joined = join_spans(spans)
    covered = {i for span in spans for i in range(span.start, span.end)}
    assert {i for span in joined for i in range(span.start, span.end)} == covered
    assert all(a.end <= b.start for a, b in itertools.pairwise(joined))


def test_overlapping_model_and_pattern_spans_become_one_item_named_after_the_longest() -> None:
    text = "Call 617-555-0100 today."
    model = PhiSpan(9, 17, "DOCTOR", PhiType("NAME", "DOCTOR"), "model")  # the model tagged part of the number
    spans = phi_spans(text, [model], patterns=True)
    assert [(span.start, span.end, span.label, span.source) for span in spans] == [(5, 17, "PHONE", "model")]
    result = deidentify(text, spans, OperatorPlan({}), None, None)
    assert result.text == "Call [CONTACT] today."


def test_patterns_off_keeps_only_the_model_spans() -> None:
    text = "Call 617-555-0100 on 03/04/2019."
    assert phi_spans(text, [], patterns=False) == []
    assert [text[s.start : s.end] for s in phi_spans(text, [], patterns=True)] == ["617-555-0100", "03/04/2019"]


def test_patient_key_makes_surrogates_consistent_across_documents() -> None:
    name = PhiType("NAME", "PATIENT")
    first = Note("Seen: ghk mpq.", [PhiSpan(6, 13, "PATIENT", name, "model")])
    second = Note("Again mpq and ghk mpq", [PhiSpan(6, 9, "PATIENT", name, "model"),
                                            PhiSpan(14, 21, "PATIENT", name, "model")])
    plan = OperatorPlan({"NAME": OperatorSpec("surrogate")})
    one, two = run(first, plan, "patient-7"), run(second, plan, "patient-7")
    full = one.text[6 : one.items[0].new_end]
    assert two.text[two.items[1].new_start : two.items[1].new_end] == full
    family = full.split()[-1]
    assert two.text[two.items[0].new_start : two.items[0].new_end] == family  # the family name alone, too
    other = run(first, plan, "patient-8")
    assert other.text != one.text
