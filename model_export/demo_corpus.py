"""A synthetic, annotated clinical corpus for training the demo model.

Why this exists: real i2b2 2010 notes cannot be redistributed, yet the serving stack needs a model
bundle to start, to test against and to benchmark. This module writes notes shaped like the
transcriptions users paste (MTSamples style): upper-case section headers glued to their text with
", ," (``HISTORY OF PRESENT ILLNESS:,  This is a ...``), numbered lists, vital signs, medication
lines with doses, routes and frequencies, abbreviations, case variants; also newline-separated
discharge summaries and short reports. Concepts come from thousands of generated problems, tests
and treatments (``demo_vocabulary``) put into sentence patterns (``demo_phrases``) and labelled with
the i2b2 2010 types ``problem``, ``test`` and ``treatment``, by i2b2 2010's conventions: articles and
possessives belong to the concept ("a chest x-ray", "her fever"); assertion cues ("no", "denies",
"possible") and a medication's dose, route and frequency do not. Every problem span records its
i2b2 2010 assertion as the span attribute ``assertion`` (``ASSERTIONS``).

It is a demo, not a clinical resource: the notes describe no real patient, the medical content is
plausible only on the surface, and a model trained on it must never be used for clinical decisions.

Generation is deterministic: one ``random.Random(seed)`` draws a seed per document, so the same seed
always yields the same corpus and a shorter corpus is a prefix of a longer one. Text is built by
appending pieces and recording each concept's offsets as it is appended, so every span's text is
exactly what was inserted.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence

from app.text.types import Document, Span
from model_export.demo_notes import NOTE_KINDS, Note, Section

ENTITY_TYPES: tuple[str, ...] = ("problem", "test", "treatment")
ASSERTIONS: tuple[str, ...] = ("present", "absent", "possible", "conditional", "hypothetical",
                               "associated_with_someone_else")
MIN_CHARS = 200
MAX_CHARS = 4000
_MAX_ATTEMPTS = 200
_KIND_WEIGHTS = {"clinic": 0.3, "operative": 0.5, "discharge": 0.1, "report": 0.1}  # MTSamples: mostly operative


def generate_demo_corpus(documents: int = 600, seed: int = 13) -> list[Document]:
    """``documents`` synthetic notes with ids ``demo-0001``, ``demo-0002``, ..., the same for the same seed.

    Each note has ``MIN_CHARS`` to ``MAX_CHARS`` characters; its spans are sorted, disjoint, labelled with
    one of ``ENTITY_TYPES``, and each problem carries an ``assertion`` attribute (one of ``ASSERTIONS``).
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


def join_documents(doc_id: str, parts: Sequence[Document], separator: str = "\n\n") -> Document:
    """Several notes as one document (as a user pastes them), spans shifted along."""
    text, spans = "", list[Span]()
    for part in parts:
        if text:
            text += separator
        spans.extend(Span(s.start + len(text), s.end + len(text), s.label, s.attributes) for s in part.spans)
        text += part.text
    return Document(doc_id, text, tuple(spans))


def pasted_documents(notes: Sequence[Document], most: int, seed: int) -> list[Document]:
    """Runs of 1 to ``most`` consecutive notes joined by a blank line, as users paste several notes.

    Every note lands in exactly one document, in order; the run lengths are drawn with ``seed``.
    """
    if most < 1:
        raise ValueError(f"most must be >= 1, got {most}")
    rng = random.Random(seed)
    documents, index = [], 0
    while index < len(notes):
        run = notes[index : index + rng.randint(1, most)]
        documents.append(run[0] if len(run) == 1 else join_documents("+".join(n.id for n in run), run))
        index += len(run)
    return documents


def _document(doc_id: str, rng: random.Random) -> Document:
    for _ in range(_MAX_ATTEMPTS):
        kind = rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()))[0]
        note = Note.start(rng)
        sections = NOTE_KINDS[kind](note)
        text = _layout(note, sections)
        if MIN_CHARS <= len(text.text) <= MAX_CHARS and text.spans:
            return Document(id=doc_id, text=text.text, spans=tuple(text.spans))
    raise RuntimeError(f"could not draft document {doc_id} within bounds")  # pragma: no cover


def _layout(note: Note, sections: list[Section]) -> Note:
    """The sections as one text, MTSamples style (headers glued with ", ,") or one header a line."""
    rng, out = note.rng, note.fresh()
    glued = note.style == "mtsamples"
    newline = "\r\n" if rng.random() < 0.1 else "\n"
    for index, section in enumerate(sections):
        if index:
            out.plain("," if glued else newline * rng.choice((1, 2, 2)))
        if section.header:
            out.plain(section.header + ":")
            if glued:
                out.plain(rng.choice((",  ", " , ", "  ,", ",", ",  ")))
            else:
                out.plain(newline if section.listed or rng.random() < 0.5 else "  ")
        for number, unit in enumerate(section.units, 1):
            if number > 1:
                out.plain("," if glued and section.listed else newline if section.listed
                          else rng.choice(("  ", "  ", " ")) if glued else rng.choice(("  ", " ", newline)))
            if section.listed:
                out.plain(f"{number}." + ("  " if glued or rng.random() < 0.5 else " "))
            out.extend(unit)
    if not glued and rng.random() < 0.3:
        out.plain(newline)
    return out
