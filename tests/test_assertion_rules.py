"""The rules: each class on the sentence that should give it, precedence, and never a crash on any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.assertion.classes import ASSERTION_CLASSES, Assessment, default_assertable, from_categories
from app.assertion.rules import ContextRules

CASES = [
    ("Patient denies chest pain.", "chest pain", "absent", False),
    ("No evidence of pneumonia.", "pneumonia", "absent", False),
    ("Pulmonary embolism was ruled out.", "Pulmonary embolism", "absent", False),
    ("Rule out pulmonary embolism.", "pulmonary embolism", "possible", False),
    ("Cannot rule out pneumonia.", "pneumonia", "possible", False),
    ("Findings suspicious for malignancy.", "malignancy", "possible", False),
    ("Return if fever develops.", "fever", "hypothetical", False),
    ("Chest pain on exertion.", "Chest pain", "conditional", False),
    ("Mother had breast cancer.", "breast cancer", "associated_with_someone_else", False),
    ("Family history of diabetes.", "diabetes", "associated_with_someone_else", False),
    ("History of asthma.", "asthma", "present", True),
    ("Status post appendectomy.", "appendectomy", "present", True),
    ("Chest pain started today.", "Chest pain", "present", False),
]


@pytest.fixture(scope="module")
def rules() -> ContextRules:
    return ContextRules()


@pytest.mark.parametrize(("sentence", "term", "assertion", "historical"), CASES)
def test_each_class_on_its_sentence(rules: ContextRules, sentence: str, term: str, assertion: str,
                                    historical: bool) -> None:
    start = sentence.index(term)
    assert rules.assess(sentence, [(start, start + len(term))]) == [Assessment(assertion, historical)]


def test_scope_is_the_project_sentence(rules: ContextRules) -> None:
    text = "No fever.\nCough since Monday. Denies rash"
    spans = [(3, 8), (10, 15), (37, 41)]
    assert [found.assertion for found in rules.assess(text, spans)] == ["absent", "present", "absent"]


def test_precedence_and_defaults() -> None:
    assert from_categories({"NEGATED_EXISTENCE", "FAMILY"}).assertion == "associated_with_someone_else"
    assert from_categories({"NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE"}).assertion == "absent"
    assert from_categories({"HISTORICAL"}) == Assessment("present", True)
    assert default_assertable(["problem", "test", "Disease"]) == ["problem", "Disease"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.lists(st.tuples(st.integers(0, 210), st.integers(1, 40)), max_size=6))
def test_any_text_and_spans_give_one_assessment_each(rules: ContextRules, text: str,
                                                     raw: list[tuple[int, int]]) -> None:
    spans = [(min(start, len(text)), min(start + width, len(text) + 1)) for start, width in raw]
    spans = [(start, end) for start, end in spans if start < end <= len(text)]
    found = rules.assess(text, spans)
    assert len(found) == len(spans)
    assert all(item.assertion in ASSERTION_CLASSES and item.historical in (True, False) for item in found)
