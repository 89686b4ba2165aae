"""Text of one synthetic note, grown piece by piece with each concept's offsets recorded as it is appended.

:class:`Note` fills ``demo_phrases`` patterns: a concept slot becomes a span over the inserted term
(with its article or possessive, which i2b2 2010 counts as part of the concept), a problem span
records its assertion; scenery slots (``demo_scenery``: anatomy, instruments, positions, ...) and
filler slots become plain text. The note keeps one patient (his or her
pronouns throughout), one layout style and one random generator.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from app.text.types import Span
from model_export import demo_phrases as phrases
from model_export import demo_terms as terms
from model_export.demo_scenery import scenery
from model_export.demo_vocabulary import Term, article, pools

SLOT = re.compile(r"\{(?:(a|the|poss)_)?(\w+)(?::(\w+))?\}")
ASSERTION_OF = {"absent": "absent", "possible": "possible", "conditional": "conditional",
                "hypothetical": "hypothetical", "family": "associated_with_someone_else"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
PRONOUNS = {"he": {"he": "he", "his": "his", "him": "him"}, "she": {"he": "she", "his": "her", "him": "her"}}


@dataclass
class Note:
    """One note's text and spans, with the patient and style it is written for."""

    rng: random.Random
    pronoun: str = "he"
    style: str = "mtsamples"
    parts: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    length: int = 0

    @classmethod
    def start(cls, rng: random.Random) -> Note:
        return cls(rng, rng.choice(("he", "she")), rng.choices(("mtsamples", "lines"), weights=(0.7, 0.3))[0])

    def fresh(self) -> Note:
        """An empty text for the same patient, style and generator (a statement, a section)."""
        return Note(self.rng, self.pronoun, self.style)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def plain(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.length += len(text)

    def concept(self, text: str, label: str, assertion: str | None = None) -> None:
        start = self.length
        self.plain(text)
        attributes = (("assertion", assertion),) if label == "problem" else ()
        self.spans.append(Span(start, self.length, label, attributes))

    def extend(self, other: Note) -> None:
        offset = self.length
        self.plain(other.text)
        self.spans.extend(Span(s.start + offset, s.end + offset, s.label, s.attributes) for s in other.spans)

    # --- patterns -------------------------------------------------------------------------------

    def render(self, pattern: str) -> Note:
        """A pattern with its slots filled, as a new statement."""
        unit = self.fresh()
        used: set[str] = set()
        position = 0
        for match in SLOT.finditer(pattern):
            unit.plain(pattern[position : match.start()])
            determiner, slot, suffix = match.groups()
            opens = not unit.length or unit.text.endswith((". ", ".  "))
            if slot in pools():
                pool = pools()[slot]
                term = self.term(slot, countable=determiner == "a", avoid=used)
                used.add(term.text)
                words = vary_case(self.rng, term.text)
                if determiner:
                    words = f"{self.determiner(determiner, term)} {words}"
                assertion = ASSERTION_OF[suffix] if suffix else "present"
                unit.concept(capitalized(words) if opens else words, pool.label, assertion)
            elif slot in scenery():
                words = self.rng.choice(scenery()[slot])
                if determiner:
                    words = f"{self.determiner(determiner, Term(words, countable=True))} {words}"
                unit.plain(capitalized(words) if opens else words)
            else:
                filled = self.filler(slot)
                unit.plain(capitalized(filled) if opens else filled)
            position = match.end()
        unit.plain(pattern[position:])
        return unit

    def term(self, slot: str, *, countable: bool = False, avoid: set[str] | frozenset[str] = frozenset()) -> Term:
        candidates = pools()[slot].terms
        for _ in range(20):
            term = self.rng.choice(candidates)
            if (term.countable or not countable) and term.text not in avoid:
                return term
        return next(t for t in candidates if (t.countable or not countable) and t.text not in avoid)

    def determiner(self, kind: str, term: Term) -> str:
        if kind == "a":
            return article(term.text)
        return "the" if kind == "the" else PRONOUNS[self.pronoun]["his"]

    def filler(self, slot: str) -> str:
        rng = self.rng
        if slot.lower() in ("he", "his", "him"):
            word = PRONOUNS[self.pronoun][slot.lower()]
            return capitalized(word) if slot[0].isupper() else word
        values = {
            "age": lambda: str(rng.randint(18, 92)),
            "sex": lambda: rng.choice(phrases.SEXES[self.pronoun]),
            "duration": lambda: rng.choice(phrases.DURATIONS),
            "year": lambda: str(rng.randint(1985, 2023)),
            "value": lambda: rng.choice((f"{rng.uniform(0.1, 14):.1f}", str(rng.randint(4, 180)),
                                          f"elevated at {rng.uniform(1, 30):.1f}",
                                          f"{rng.randint(0, 9)}.{rng.randint(0, 9)}")),
            "cm": lambda: rng.choice((f"{rng.randint(1, 8)}-cm", f"{rng.randint(2, 6)} cm", "small", "transverse")),
            "ml": lambda: str(rng.choice((5, 10, 20, 25, 50, 100, 150, 200, 300))),
            "mm": lambda: f"{rng.choice((5, 8, 10, 11, 12, 15))}-mm",
            "region": lambda: rng.choice(phrases.REGIONS),
            "date": lambda: rng.choice((f"{rng.randint(1, 12)}/{rng.randint(1, 28)}",
                                         f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2000, 2023)}",
                                         f"{rng.choice(MONTHS)} {rng.randint(1, 28)}")),
            "pod": lambda: str(rng.randint(1, 6)),
            "count": lambda: rng.choice(("2", "two", "3", "three", "4")),
            "fashion": lambda: rng.choice(("continuous", "running", "interrupted", "subcuticular", "layered",
                                           "running locked", "simple interrupted")),
            "percent": lambda: rng.choice(("0.25%", "0.5%", "1%", "2%", "0.5 %", "1 %")),
        }
        if slot not in values:
            raise KeyError(f"unknown pattern slot {slot!r}")
        return values[slot]()

    # --- lines that are not sentences ------------------------------------------------------------

    def medication_line(self) -> Note:
        """``Lisinopril 10 mg p.o. daily.``: only the drug is the treatment (i2b2 2010)."""
        rng, unit = self.rng, self.fresh()
        drug = rng.choice(terms.MEDICATIONS)
        unit.concept(vary_case(rng, capitalized(drug) if rng.random() < 0.6 else drug), "treatment")
        route = rng.choice(phrases.ROUTES)
        dose, frequency = rng.choice(phrases.DOSES), rng.choice(phrases.FREQUENCIES)
        unit.plain(f" {dose}" + (f" {route}" if route else "") + f" {frequency}")
        unit.plain(rng.choice((".", "", ".")))
        return unit

    def vitals(self) -> Note:
        """``Temperature 98.6, pulse 72, blood pressure 132/84.``: each sign's name is a test."""
        rng, unit = self.rng, self.fresh()
        chosen = rng.sample(phrases.VITALS, rng.randint(2, 5))
        for index, (names, shape) in enumerate(chosen):
            if index:
                unit.plain(" and " if index == len(chosen) - 1 and rng.random() < 0.3 else ", ")
            name = rng.choice(names)
            unit.concept(capitalized(name) if not index else name, "test")
            unit.plain(rng.choice((" ", " ", " was ", " of ")) + "".join(digit(rng, char) for char in shape))
        unit.plain(".")
        return unit

    def labs(self) -> Note:
        """``Sodium 138, potassium 4.1, and creatinine 1.2.``: names are tests, values are not."""
        rng, unit = self.rng, self.fresh()
        chosen = rng.sample(pools()["lab"].terms, rng.randint(2, 5))
        for index, term in enumerate(chosen):
            if index:
                unit.plain(", and " if index == len(chosen) - 1 else ", ")
            unit.concept(capitalized(term.text) if not index else term.text, "test")
            unit.plain(f"{rng.choice((' ', ' of ', ': '))}{rng.uniform(0.5, 140):.{rng.choice((0, 1))}f}")
        unit.plain(".")
        return unit

    def concept_line(self, slot: str, assertion: str | None = None) -> Note:
        """A list item or a header's value that is one concept: ``Morbid obesity.``."""
        unit = self.fresh()
        term = self.term(slot)
        text = term.text.upper() if self.rng.random() < 0.1 else capitalized(vary_case(self.rng, term.text))
        unit.concept(text, pools()[slot].label, assertion or "present")
        unit.plain(self.rng.choice((".", ".", "")))
        return unit


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def vary_case(rng: random.Random, term: str) -> str:
    """Mostly the term as written; now and then all upper or lower case, as in real notes."""
    draw = rng.random()
    return term.upper() if draw < 0.03 else term.lower() if draw < 0.05 else term


def digit(rng: random.Random, char: str) -> str:
    """``#`` becomes a random digit, ``@`` one from 5 to 9; anything else stays."""
    return str(rng.randint(0, 9)) if char == "#" else str(rng.randint(5, 9)) if char == "@" else char
