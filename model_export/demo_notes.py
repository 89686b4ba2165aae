"""The sections of each kind of synthetic note: clinic visit, operative note, discharge summary, report.

Each writer returns the note's sections in order; ``demo_corpus`` lays them out (headers glued with
", ," as in MTSamples, or one a line). Sections draw their statements from ``demo_phrases`` so that
every assertion context (negated, possible, conditional, hypothetical, family) appears where notes
put it: negations in the review of systems and the exam, risks in the indications, family history
in its section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from model_export import demo_course as course
from model_export import demo_narrative as narrative
from model_export import demo_phrases as phrases
from model_export.demo_scenery import scenery
from model_export.demo_text import Note, capitalized


@dataclass
class Section:
    header: str | None
    units: list[Note]
    listed: bool = False  # numbered, one item after another


def _statements(note: Note, pools: Sequence[tuple[tuple[str, ...], float]], count: int) -> list[Note]:
    patterns = [group for group, _ in pools]
    weights = [weight for _, weight in pools]
    return [note.render(note.rng.choice(note.rng.choices(patterns, weights=weights)[0])) for _ in range(count)]


def _header(note: Note, *names: str) -> str:
    return note.rng.choice(names)


def _plain(note: Note, *texts: str) -> Note:
    unit = note.fresh()
    unit.plain(note.rng.choice(texts))
    return unit


def _diagnoses(note: Note, header: str, slots: Sequence[str]) -> Section:
    rng = note.rng
    count = rng.choice((1, 1, 1, 2, 3))
    return Section(header, [note.concept_line(rng.choice(slots)) for _ in range(count)], listed=count > 1)


def _medications(note: Note, header: str) -> Section:
    rng = note.rng
    if rng.random() < 0.15:
        return Section(header, [_plain(note, "None.", "None", "None reported.")])
    if rng.random() < 0.25:
        return Section(header, [note.render(rng.choice((
            "{His} only medication currently is {medication}.", "{He} takes {medication} and {medication}.",
            "{medication} and {medication}.")))])
    return Section(header, [note.medication_line() for _ in range(rng.randint(1, 6))], listed=True)


def _exam(note: Note) -> list[Section]:
    rng = note.rng
    exam = [note.vitals()] if rng.random() < 0.8 else []
    lines = rng.sample(phrases.EXAM_LINES, rng.randint(2, 6))
    for _ in range(rng.choice((0, 0, 1, 2))):  # a structure found normal: no concept on the line
        lines.insert(rng.randrange(len(lines) + 1), (capitalized(rng.choice(scenery()["anatomy"])),
                                                     narrative.NORMAL_EXAM))
    units = []
    for name, texts in lines:
        unit = note.fresh()
        shown = name.upper() if rng.random() < 0.5 else name
        unit.plain(f"{shown}:  ")
        unit.extend(note.render(rng.choice(texts)))
        units.append(unit)
    if note.style == "mtsamples":
        joined = note.fresh()
        for index, unit in enumerate([*exam, *units]):
            if index:
                joined.plain(",")
            joined.extend(unit)
        return [Section(_header(note, "PHYSICAL EXAMINATION", "PHYSICAL EXAM", "EXAMINATION"), [joined])]
    vitals = [Section(_header(note, "VITAL SIGNS", "VITALS"), exam)] if exam else []
    return [*vitals, Section(_header(note, "PHYSICAL EXAMINATION", "EXAM"), units)]


def _past_history(note: Note) -> Section:
    if note.rng.random() < 0.6:
        return _diagnoses(note, _header(note, "PAST MEDICAL HISTORY", "PMH"), ("disease",))
    return Section(_header(note, "PAST MEDICAL HISTORY"), [note.render(note.rng.choice((
        "Significant for {disease}, {disease}, and {disease}.", "{disease} and {disease}.",
        "Positive for {disease}.")))])


def clinic_note(note: Note) -> list[Section]:
    rng = note.rng
    history = _statements(note, ((phrases.HISTORY, 0.5), (course.COURSE, 0.1), (phrases.NEGATED, 0.2),
                                 (phrases.CONDITIONAL, 0.08),
                                 (phrases.POSSIBLE, 0.07), (phrases.FINDINGS, 0.05)), rng.randint(2, 7))
    optional: list[tuple[float, Callable[[], list[Section]]]] = [
        (0.6, lambda: [Section(_header(note, "CHIEF COMPLAINT", "REASON FOR VISIT", "CC"),
                               [note.concept_line(rng.choice(("symptom", "finding")))])]),
        (1.0, lambda: [Section(_header(note, "HISTORY OF PRESENT ILLNESS", "HPI", "SUBJECTIVE", "HISTORY"), history)]),
        (0.7, lambda: [_past_history(note)]),
        (0.5, lambda: [Section(_header(note, "PAST SURGICAL HISTORY", "PSH"), [note.render(rng.choice((
            "{procedure} in {year}.", "{procedure} and {procedure}.", "Status post {procedure}.")))])]),
        (0.7, lambda: [_medications(note, _header(note, "MEDICATIONS", "CURRENT MEDICATIONS"))]),
        (0.6, lambda: [Section("ALLERGIES", [note.render(rng.choice((
            "NKDA.", "No known drug allergies.", "{He} has no known medicine allergies.",
            "{medication}, which causes {symptom:conditional}.")))])]),
        (0.4, lambda: [Section("SOCIAL HISTORY", _statements(note, ((phrases.PLAIN, 1.0),), rng.randint(1, 2)))]),
        (0.4, lambda: [Section("FAMILY HISTORY", _statements(note, ((phrases.FAMILY, 1.0),), rng.randint(1, 2))
                               if rng.random() < 0.8 else [_plain(note, "Noncontributory.")])]),
        (0.5, lambda: [Section(_header(note, "REVIEW OF SYSTEMS", "ROS"), _statements(
            note, ((phrases.NEGATED, 0.8), (phrases.HISTORY, 0.2)), rng.randint(1, 3)))]),
        (0.7, lambda: _exam(note)),
        (0.3, lambda: [Section(_header(note, "LABORATORY DATA", "LABS", "DATA"), [note.labs()])]),
        (0.8, lambda: [_diagnoses(note, _header(note, "IMPRESSION", "ASSESSMENT", "DIAGNOSIS"),
                                  ("disease", "finding", "symptom"))]),
        (0.8, lambda: [Section(_header(note, "PLAN", "RECOMMENDATIONS"), _statements(
            note, ((phrases.PLAN, 0.8), (phrases.HYPOTHETICAL, 0.2)), rng.randint(1, 4)), listed=rng.random() < 0.4)]),
    ]
    return [section for chance, build in optional if rng.random() < chance for section in build()]


def operative_note(note: Note) -> list[Section]:
    rng = note.rng
    plural = rng.random() < 0.3
    pre = _diagnoses(note, "PREOPERATIVE DIAGNOSES" if plural else "PREOPERATIVE DIAGNOSIS",
                     ("disease", "finding", "symptom"))
    post = (Section(pre.header.replace("PRE", "POST") if pre.header else None,
                    [_plain(note, "Same.", "Same as above.")])
            if rng.random() < 0.4 else _diagnoses(note, "POSTOPERATIVE DIAGNOSIS", ("disease", "finding")))
    procedures = rng.randint(1, 3)
    sections = [pre, post,
                Section(_header(note, "PROCEDURE", "PROCEDURES", "OPERATION", "PROCEDURE PERFORMED",
                                "NAME OF PROCEDURE"),
                        [note.concept_line("procedure") for _ in range(procedures)], listed=procedures > 1),
                Section("ANESTHESIA", [note.concept_line(rng.choice(("anesthesia_heading", "anesthesia")))])]
    extras: list[tuple[float, Callable[[], Section]]] = [
        (0.6, lambda: Section("ESTIMATED BLOOD LOSS", [
            note.render(rng.choice(("Minimal.", "{ml} mL.", "Less than {ml} mL.")))])),
        (0.5, lambda: Section("COMPLICATIONS", [
            _plain(note, "None.", "None apparent.", "No immediate complications.")])),
        (0.3, lambda: Section(_header(note, "SPECIMEN", "SPECIMENS"), [
            _plain(note, "None.", "Gallbladder.", "Right testicle.", "Prostate chips.", "Foreskin.")])),
        (0.3, lambda: Section("DRAINS", [_plain(note, "None.")] if rng.random() < 0.5
                              else [note.concept_line("device")])),
        (0.8, lambda: Section(_header(note, "INDICATIONS", "INDICATIONS FOR PROCEDURE", "INDICATION FOR OPERATION",
                                      "BRIEF HISTORY"), _statements(note, (
            (phrases.HISTORY, 0.55), (phrases.HYPOTHETICAL, 0.3), (phrases.FINDINGS, 0.15)), rng.randint(2, 5)))),
        (1.0, lambda: Section(_header(note, "DESCRIPTION OF PROCEDURE", "PROCEDURE IN DETAIL", "DETAILS OF PROCEDURE",
                                      "OPERATIVE PROCEDURE", "PROCEDURE NOTE"), _statements(note, (
            (narrative.NARRATIVE, 0.56), (phrases.OPERATIVE, 0.3), (course.COURSE, 0.06), (phrases.FINDINGS, 0.08)),
            rng.randint(4, 14)))),
        (0.4, lambda: Section("FINDINGS", _statements(note, (
            (phrases.FINDINGS, 0.3), (phrases.NEGATED, 0.3), (narrative.NARRATIVE, 0.4)), rng.randint(1, 3)))),
    ]
    return sections + [build() for chance, build in extras if rng.random() < chance]


def discharge_summary(note: Note) -> list[Section]:
    rng = note.rng
    return [
        _diagnoses(note, _header(note, "ADMISSION DIAGNOSIS", "ADMITTING DIAGNOSIS"), ("disease", "symptom")),
        _diagnoses(note, _header(note, "DISCHARGE DIAGNOSIS", "DISCHARGE DIAGNOSES"), ("disease", "finding")),
        Section("HISTORY OF PRESENT ILLNESS", _statements(note, ((phrases.HISTORY, 0.8), (phrases.NEGATED, 0.2)),
                                                           rng.randint(1, 4))),
        Section("HOSPITAL COURSE", _statements(note, (
            (course.COURSE, 0.35), (phrases.HISTORY, 0.15), (phrases.FINDINGS, 0.2), (phrases.PLAN, 0.18),
            (phrases.POSSIBLE, 0.12)),
            rng.randint(2, 6))),
        _medications(note, "DISCHARGE MEDICATIONS"),
        Section(_header(note, "DISCHARGE INSTRUCTIONS", "INSTRUCTIONS"), _statements(
            note, ((phrases.HYPOTHETICAL, 0.7), (phrases.PLAIN, 0.3)), rng.randint(1, 3))),
        Section(_header(note, "FOLLOW-UP", "FOLLOWUP"), [note.render(rng.choice((
            "Return to clinic in {duration}.", "Follow up in {duration} with {a_imaging}.",
            "Follow up with urology in {duration}.")))]),
    ]


def report(note: Note) -> list[Section]:
    rng = note.rng
    title = note.fresh()
    title.concept(note.term(rng.choice(("imaging", "study"))).text.upper(), "test")
    body = _statements(note, ((phrases.FINDINGS, 0.45), (phrases.NEGATED, 0.45), (phrases.POSSIBLE, 0.1)),
                       rng.randint(2, 6))
    impression = _statements(note, ((phrases.POSSIBLE, 0.4), (phrases.FINDINGS, 0.3), (phrases.NEGATED, 0.3)),
                             rng.randint(1, 3))
    return [Section(None, [title]),
            Section(_header(note, "HISTORY", "INDICATION", "CLINICAL HISTORY"), [note.concept_line("symptom")]),
            Section(_header(note, "FINDINGS", "DESCRIPTION"), body),
            Section("IMPRESSION", impression, listed=len(impression) > 1)]


NOTE_KINDS: dict[str, Callable[[Note], list[Section]]] = {
    "clinic": clinic_note, "operative": operative_note, "discharge": discharge_summary, "report": report,
}
__all__ = ["NOTE_KINDS", "Note", "Section", "capitalized"]
