"""The assertion classes (i2b2 2010's six) and how ConText's modifier categories map onto them.

Pure: no spaCy, no model. Both sources (rules and a trained classifier) answer in these terms, so
the API, the metrics and the evaluation see one vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PRESENT = "present"
ABSENT = "absent"
POSSIBLE = "possible"
CONDITIONAL = "conditional"
HYPOTHETICAL = "hypothetical"
SOMEONE_ELSE = "associated_with_someone_else"

ASSERTION_CLASSES: tuple[str, ...] = (PRESENT, ABSENT, POSSIBLE, CONDITIONAL, HYPOTHETICAL, SOMEONE_ELSE)

# When several modifiers reach one concept, the first class in this order wins. Someone else's
# problem is never the patient's, whatever else is said of it; a hypothetical or conditional one is
# not asserted at all, so its negation ("return if no improvement") does not make it absent; then
# negation outranks hedging ("no evidence of possible pneumonia" is absent).
PRECEDENCE: tuple[str, ...] = (SOMEONE_ELSE, HYPOTHETICAL, CONDITIONAL, ABSENT, POSSIBLE, PRESENT)

# medSpaCy ConText's default rule categories (and the project's own CONDITIONAL rules).
CONTEXT_CATEGORIES: dict[str, str] = {
    "NEGATED_EXISTENCE": ABSENT,
    "POSSIBLE_EXISTENCE": POSSIBLE,
    "HYPOTHETICAL": HYPOTHETICAL,
    "CONDITIONAL": CONDITIONAL,
    "FAMILY": SOMEONE_ELSE,
}
HISTORICAL_CATEGORY = "HISTORICAL"

# Entity types assertion applies to when a bundle does not say (compared case-insensitively): the
# "problem" of i2b2 2010 and its usual names in other corpora.
ASSERTABLE_BY_DEFAULT = frozenset({"problem", "disease", "condition", "finding", "symptom", "diagnosis"})


@dataclass(frozen=True)
class Assessment:
    """One span's assertion class, and whether it is historical (None: the source cannot tell)."""

    assertion: str
    historical: bool | None


def default_assertable(entity_types: Iterable[str]) -> list[str]:
    """The entity types assertion applies to when the manifest does not list them."""
    return [label for label in entity_types if label.lower() in ASSERTABLE_BY_DEFAULT]


def from_categories(categories: Iterable[str]) -> Assessment:
    """The assessment of a concept reached by modifiers of these ConText categories (any others ignored)."""
    found = set(categories)
    classes = {CONTEXT_CATEGORIES[category] for category in found if category in CONTEXT_CATEGORIES}
    assertion = next((name for name in PRECEDENCE if name in classes), PRESENT)
    return Assessment(assertion, HISTORICAL_CATEGORY in found)
