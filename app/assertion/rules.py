"""ConText-style rules over the project's own sentences, run by negspacy (spaCy's NegEx component).

Why not medSpaCy's ConText, the reference: every medSpaCy release requires spaCy < 3.8 on Python
3.11, whose thinc 8.2 is compiled against NumPy 1 and fails to import beside this project's NumPy 2
("numpy.dtype size changed"); see benchmarks/results/assertion-rules-cost.md for the numbers.
negspacy (maintained, spaCy 3.8) implements the NegEx algorithm that ConText generalises: triggers
that look forward or backward to the end of the sentence, pseudo-triggers, and terminating terms.
ConText is NegEx run once per category; so one negspacy component runs per category:

- negation: negspacy's own ``en_clinical`` termset, loaded from the installed package, with the
  rule-out family moved to *possible* (i2b2's class for "rule out PE", and what the NegEx/ConText
  annotations say: affirmed, not negated);
- possible, hypothetical, conditional, someone else (family) and historical: the short trigger
  lists below, written for this project, with negspacy's terminating terms.

Only the sentences that hold a span are processed, each as its own spaCy ``Doc`` from
``spacy.blank("en")``'s tokenizer, with the sentence as the scope: the sentences are
:func:`app.text.segment.split_sentences`'s, so rules and spans agree on them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any

from app.assertion.classes import HISTORICAL_CATEGORY, Assessment, from_categories
from app.assertion.marking import group_by_sentence

SPAN_KEY = "clinx_targets"
RULE_OUT = ["rule out", "rules out", "rule him out", "rule her out", "rule patient out", "rule the patient out",
            "r/o", "ro", "evaluate for", "versus", "doubt"]
NOT_NEGATION = ["cannot rule out", "can not rule out", "could not rule out", "cannot exclude", "can not exclude",
                "cannot be excluded", "can not be excluded", "could not be excluded", "cannot be ruled out",
                "not excluded", "cannot be completely excluded", "no change in"]

# The project's own triggers per ConText category: (preceding, following, pseudo).
TRIGGERS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "POSSIBLE_EXISTENCE": (
        ["possible", "possibly", "probable", "probably", "likely", "questionable", "question of", "suspected",
         "suspect", "suspicious for", "suspicion of", "suspicion for", "concern for", "concerned for",
         "concerning for", "worrisome for", "worried about", "may have", "might have", "could have", "may be",
         "might be", "could be", "may represent", "might represent", "could represent", "differential diagnosis",
         "differential includes", "consider", "presumed", "presumably", "suggestive of", "suggesting",
         "cannot rule out", "can not rule out", "could not rule out", "cannot exclude", "can not exclude",
         "uncertain", "unclear if", *RULE_OUT],
        ["is possible", "is likely", "is suspected", "is questionable", "cannot be excluded", "can not be excluded",
         "could not be excluded", "not excluded", "cannot be ruled out", "not ruled out", "not been ruled out",
         "versus", "vs", "is considered"],
        ["less likely", "unlikely", "no evidence of"],
    ),
    "HYPOTHETICAL": (
        ["if", "in case of", "in the event of", "should he", "should she", "should the patient", "should there be",
         "should you", "return for", "return if", "come back for", "come back if", "call for", "call if",
         "watch for", "look out for", "monitor for", "monitoring for", "risk of", "risks of", "risk for",
         "at risk for", "prophylaxis for", "prophylaxis against", "to prevent", "prevention of", "as needed for",
         "prn", "p.r.n."],
        ["develops", "develop", "occurs", "occur", "worsens", "recurs", "as needed", "prn", "p.r.n."],
        ["if any", "even if", "as if"],
    ),
    "CONDITIONAL": (
        ["exertional"],
        ["on exertion", "with exertion", "upon exertion", "with exercise", "with activity", "with activities",
         "with ambulation", "when walking", "while walking", "on walking", "with walking", "when climbing",
         "climbing stairs", "after eating", "with eating", "after meals", "with meals", "when lying down",
         "when lying flat", "lying flat", "on standing", "upon standing", "when standing", "with coughing",
         "with deep breathing", "with deep inspiration", "with movement", "on movement", "with urination",
         "when exposed to", "upon exposure", "with exposure", "when taking", "when she walks", "when he walks"],
        [],
    ),
    "FAMILY": (
        ["family history", "family history of", "fh", "fhx", "mother", "father", "brother", "brothers", "sister",
         "sisters", "sibling", "siblings", "aunt", "uncle", "grandmother", "grandfather", "grandparents", "cousin",
         "son", "daughter", "parent", "parents", "mom", "dad", "maternal", "paternal", "family member",
         "family members", "relative", "relatives"],
        ["in the family", "in her family", "in his family", "runs in the family", "in her mother", "in his mother",
         "in her father", "in his father", "in a sibling", "in her sister", "in his brother"],
        ["brought in by", "accompanied by", "mother of", "father of"],
    ),
    HISTORICAL_CATEGORY: (
        ["history of", "hx of", "h/o", "past history of", "past medical history", "past medical history of", "pmh",
         "previous", "previously", "prior", "s/p", "status post", "remote", "known history of", "old"],
        ["in the past", "years ago", "year ago", "months ago", "in childhood", "as a child", "previously",
         "in the remote past"],
        ["history of present illness", "history of the present illness", "family history", "family history of"],
    ),
}
# Terms that end a historical trigger's reach: the present complaint starts ("presents with").
HISTORICAL_TERMINATION = ["presents", "presented", "presenting", "comes in with", "now", "currently", "today",
                          "admitted with", "admitted for"]


def import_spacy_without_torch() -> Any:
    """``import spacy``, keeping its ML library (thinc) from importing torch where torch is installed:
    ten seconds and a gigabyte the server never uses (it only tokenizes and matches)."""
    blocked = "torch" not in sys.modules
    if blocked:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes "import torch" raise ImportError
    try:
        import spacy
    finally:
        if blocked and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


def termsets() -> dict[str, dict[str, list[str]]]:
    """negspacy termsets per ConText category: the package's negation set, the project's others."""
    from negspacy.termsets import termset

    termset_: Any = termset  # negspacy's termsets are untyped
    negation = termset_("en_clinical")
    negation.remove_patterns({"preceding_negations": [term for term in RULE_OUT
                                                       if term in negation.get_patterns()["preceding_negations"]]})
    negation.add_patterns({"pseudo_negations": NOT_NEGATION})
    termination = list(termset_("en_clinical").get_patterns()["termination"])
    result = {"NEGATED_EXISTENCE": negation.get_patterns()}
    for category, (preceding, following, pseudo) in TRIGGERS.items():
        ends = termination + (HISTORICAL_TERMINATION if category == HISTORICAL_CATEGORY else [])
        result[category] = {"pseudo_negations": pseudo, "preceding_negations": preceding,
                            "following_negations": following, "termination": ends}
    return result


class ContextRules:
    """One negspacy component per ConText category; thread-safe (spaCy objects are not: one call at a time)."""

    name = "rules"
    historical = True

    def __init__(self) -> None:
        spacy = import_spacy_without_torch()
        from negspacy.negation import Negex

        self.nlp = spacy.blank("en")
        sets = termsets()
        self.components = {
            category: Negex(self.nlp, f"clinx_{category.lower()}", terms, extension_name=f"clinx_{category.lower()}",
                            span_keys=[SPAN_KEY])
            for category, terms in sets.items()
        }
        # A category can only reach a span when one of its triggers starts in the sentence: the first
        # words of its triggers, so a sentence without any skips the category's matcher (same result).
        self.first_words = {
            category: {doc[0].lower_ for doc in self.nlp.tokenizer.pipe(
                [*terms["preceding_negations"], *terms["following_negations"]]) if len(doc)}
            for category, terms in sets.items()
        }
        self._lock = threading.Lock()

    def assess(self, text: str, spans: Sequence[tuple[int, int]]) -> list[Assessment]:
        """The assessment of each ``(start, end)`` span of ``text`` (code points), in the given order."""
        results = [from_categories(())] * len(spans)
        with self._lock:
            for (begin, finish), indices in group_by_sentence(text, spans).items():
                local = [(spans[index][0] - begin, spans[index][1] - begin) for index in indices]
                for index, categories in zip(indices, self._categories(text[begin:finish], local), strict=True):
                    results[index] = from_categories(categories)
        return results

    def _categories(self, sentence: str, spans: Sequence[tuple[int, int]]) -> list[set[str]]:
        """The categories whose triggers reach each span of one sentence."""
        doc = self.nlp.make_doc(sentence)
        for token in doc:
            token.is_sent_start = token.i == 0
        targets = [doc.char_span(start, end, alignment_mode="expand") for start, end in spans]
        doc.spans[SPAN_KEY] = [target for target in targets if target is not None]
        words = {token.lower_ for token in doc}
        active = {category: component for category, component in self.components.items()
                  if words & self.first_words[category]}
        for component in active.values():
            component(doc)
        found = [set() if target is None else {category for category, component in active.items()
                                               if getattr(span._, component.extension_name)}
                 for target, span in zip(targets, self._group_order(doc, targets), strict=True)]
        return found

    @staticmethod
    def _group_order(doc: Any, targets: Sequence[Any]) -> list[Any]:
        """The span-group members (which carry the extension values) aligned with ``targets``."""
        group = iter(doc.spans[SPAN_KEY])
        return [None if target is None else next(group) for target in targets]
