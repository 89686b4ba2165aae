"""What replaces a PHI span: the operators, how a request chooses them, and what each writes.

``tag`` (``[NAME]``, the default), ``redact`` (removed) and ``mask`` (same length, one fill
character) need nothing but the span. ``hash`` (keyed HMAC), ``surrogate`` (a realistic value of
the same kind) and ``date_shift`` (dates moved by the patient's secret offset) derive their output
from the server's secret: without one they are refused, never run with a default key.

Dates under ``surrogate`` are shifted as under ``date_shift``; ages under either are kept up to 89
and written ``90+`` above (HIPAA Safe Harbor groups ages over 89; younger ages are not identifying).
A date that cannot be read (``Christmas``, ``last spring``) or an age without digits is tagged
instead, and the item says so: its operator is the one that was applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from app.deid.categories import PhiType
from app.deid.dates import parse_date, shift_date
from app.deid.keys import Keyring, MissingSecret
from app.deid.surrogates import Surrogates

OperatorName = Literal["tag", "redact", "mask", "hash", "surrogate", "date_shift"]
OPERATOR_NAMES: tuple[str, ...] = get_args(OperatorName)
KEYED: frozenset[str] = frozenset({"hash", "surrogate", "date_shift"})
DEFAULT_KEY = "DEFAULT"
_AGE = re.compile(r"\d+")
MIN_SHIFT_WEEKS, MAX_SHIFT_WEEKS = 52, 520


@dataclass(frozen=True)
class OperatorSpec:
    """An operator and its options: ``char`` (mask), ``length`` (hash hex digits), ``by`` (tag)."""

    name: OperatorName = "tag"
    char: str = "*"
    length: int = 16
    by: Literal["category", "label"] = "category"


@dataclass(frozen=True)
class OperatorPlan:
    """Operators by key: a model label, a subtype, a category, or ``DEFAULT`` (most specific wins)."""

    chosen: Mapping[str, OperatorSpec]

    def for_span(self, label: str, phi: PhiType) -> OperatorSpec:
        for key in (label, phi.subtype, phi.category, DEFAULT_KEY):
            if key is not None and key in self.chosen:
                return self.chosen[key]
        return OperatorSpec()

    def keyed_keys(self) -> list[str]:
        """The keys (categories, labels, DEFAULT) whose operator needs the secret."""
        return sorted(key for key, spec in self.chosen.items() if spec.name in KEYED)


def date_offset_days(keyring: Keyring, scope: bytes) -> int:
    """The scope's secret shift: 1 to 10 years either way, in whole weeks (weekdays stay weekdays)."""
    number = keyring.number("date-shift", scope)
    weeks = MIN_SHIFT_WEEKS + number % (MAX_SHIFT_WEEKS - MIN_SHIFT_WEEKS + 1)
    return 7 * weeks * (-1 if (number >> 40) & 1 else 1)


def age_group(original: str) -> str | None:
    """Ages up to 89 as written, older ones ``90+``; None when the span holds no number."""
    match = _AGE.search(original)
    if match is None:
        return None
    if int(match.group()) <= 89:
        return original
    return original[: match.start()] + "90+" + original[match.end() :]


def tag_text(spec: OperatorSpec, label: str, phi: PhiType) -> str:
    return f"[{phi.category if spec.by == 'category' else label}]"


class Replacer:
    """Computes replacements for one document: its scope (patient or document) fixed once."""

    def __init__(self, keyring: Keyring | None, patient_key: str | None, text: str) -> None:
        self.keyring = keyring
        self._scope = keyring.scope(patient_key, text) if keyring is not None else b""
        self._surrogates = Surrogates(keyring, self._scope) if keyring is not None else None
        self._offset: int | None = None

    @property
    def offset_days(self) -> int:
        if self._offset is None:
            self._offset = date_offset_days(self._require(), self._scope)
        return self._offset

    def _require(self) -> Keyring:
        if self.keyring is None:
            raise MissingSecret("a keyed operator needs the de-identification secret")
        return self.keyring

    def effective(self, spec: OperatorSpec, phi: PhiType, original: str) -> OperatorSpec:
        """The operator that will run: ``tag`` where a date or an age cannot be read, or for
        ``date_shift`` asked of something that is not a date or an age."""
        dated = phi.category in ("DATE", "AGE")
        if spec.name == "date_shift" and not dated:
            return OperatorSpec("tag", by=spec.by)
        if spec.name in ("surrogate", "date_shift") and dated and self.shifted(phi, original) is None:
            return OperatorSpec("tag", by=spec.by)
        return spec

    def shifted(self, phi: PhiType, original: str) -> str | None:
        if phi.category == "AGE":
            return age_group(original)
        parsed = parse_date(original)
        return None if parsed is None else shift_date(parsed, self.offset_days)

    def replace(self, spec: OperatorSpec, label: str, phi: PhiType, original: str) -> str:
        """The new text of one span (``spec`` as returned by :meth:`effective`)."""
        if spec.name == "tag":
            return tag_text(spec, label, phi)
        if spec.name == "redact":
            return ""
        if spec.name == "mask":
            return spec.char * len(original)
        if spec.name == "hash":
            return self._require().digest("hash", original).hex()[: spec.length]
        if phi.category in ("DATE", "AGE"):
            shifted = self.shifted(phi, original)
            if shifted is None:  # effective() said this cannot happen; never let the original through
                return tag_text(spec, label, phi)
            return shifted
        if spec.name != "surrogate":
            return tag_text(spec, label, phi)
        self._require()
        assert self._surrogates is not None
        return self._surrogates.value(phi, original)
