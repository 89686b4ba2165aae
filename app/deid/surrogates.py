"""Surrogates: realistic values of the same kind, the same for the same value within one scope.

A released note reads naturally when ``John Smith`` becomes ``Ryan Gallagher`` rather than
``[NAME]``, and a researcher can still tell two people apart. Each value seeds Faker (en_US) from a
keyed hash of (scope, kind, normalised value), so within a document, and across the documents of
one ``patient_key``, the same value always gets the same surrogate; without the key the mapping
cannot be recomputed. Names are replaced word by word, so ``John Smith`` and a later ``Smith``
keep agreeing. Phones, IDs, ZIP codes and rooms keep their format: every digit becomes a digit,
every letter a letter of the same case, everything else stays.

The values depend on the Faker version (pinned in constraints.txt): upgrading it changes the
surrogates that later releases get for the same patient.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from random import Random

from faker import Faker

from app.deid.categories import PhiType
from app.deid.keys import Keyring

_WORD = re.compile(r"[^\W\d_]+")
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "prof", "md", "do", "rn", "np", "pa", "phd", "jr", "sr",
                     "ii", "iii", "iv", "dds", "facs", "mph"})
_HOSPITAL_KINDS = ("General Hospital", "Medical Center", "Memorial Hospital", "Community Hospital", "Clinic",
                   "Regional Medical Center")
_DEPARTMENTS = ("Cardiology", "Oncology", "Neurology", "Radiology", "Surgery", "Medicine", "Pediatrics",
                "Orthopedics", "Nephrology", "Urology", "Dermatology", "Psychiatry")
_local = threading.local()


def _faker(seed: int) -> Faker:
    """One Faker per thread (seeding is not thread-safe), reseeded for every value."""
    faker: Faker | None = getattr(_local, "faker", None)
    if faker is None:
        faker = _local.faker = Faker("en_US")
    faker.seed_instance(seed)
    return faker


def warm_up() -> None:
    """Build this thread's Faker (about 0.3 s) before the first request needs it."""
    _faker(0).last_name()


def like_case(original: str, value: str) -> str:
    """``value`` in the letter case of ``original``: UPPER, lower, or as generated."""
    letters = [char for char in original if char.isalpha()]
    if letters and all(char.isupper() for char in letters) and len(letters) > 1:
        return value.upper()
    if letters and all(char.islower() for char in letters):
        return value.lower()
    return value


def keep_format(original: str, rng: Random) -> str:
    """Digits to ASCII digits, letters to ASCII letters of the same case (lower if uncased), anything else kept."""
    out = []
    for char in original:
        if char.isdigit():
            out.append(str(rng.randrange(10)))
        elif char.isalpha():
            letter = chr(ord("A") + rng.randrange(26))
            out.append(letter if char.isupper() else letter.lower())
        else:
            out.append(char)
    return "".join(out)


def _normal(value: str) -> str:
    return " ".join(value.lower().split())


class Surrogates:
    """Surrogate values for one scope (a patient, or a single document)."""

    def __init__(self, keyring: Keyring, scope: bytes) -> None:
        self._keyring = keyring
        self._scope = scope

    def _seed(self, kind: str, value: str) -> int:
        return self._keyring.number("surrogate", self._scope, kind, value)

    def value(self, phi: PhiType, original: str) -> str:
        """A different value of the same kind (ages and dates are handled by the date operator)."""
        for attempt in range(8):
            candidate = self._draw(phi, original, attempt)
            if _normal(candidate) != _normal(original):
                return candidate
        return f"[{phi.category}]"  # nothing of the kind differs (a span of punctuation): tag it

    def _draw(self, phi: PhiType, original: str, attempt: int) -> str:
        kind = phi.kind
        salt = f"#{attempt}" if attempt else ""
        if phi.category == "NAME" and kind != "USERNAME":
            return self._name(original, salt)
        if kind in _FORMATTED or (kind == "HOSPITAL" and re.fullmatch(r"[A-Z]{2,8}", original)):
            compact = re.sub(r"[\W_]", "", original).upper()
            return keep_format(original, _faker(self._seed(kind, compact + salt)).random)
        generate = _GENERATORS.get(kind, _GENERATORS["CITY"])
        return like_case(original, generate(_faker(self._seed(kind, _normal(original) + salt)), original))

    def _name(self, original: str, salt: str) -> str:
        """Word by word: family names where the last word (or the words before a comma) stand, given names else."""
        comma = original.find(",")
        real = [match for match in _WORD.finditer(original) if match.group().lower() not in _TITLES]
        last_space = original.rfind(" ", 0, real[-1].start()) if real else -1
        pieces: list[str] = []
        position = 0
        for match in real:
            word = match.group()
            alone_or_last = len(real) == 1 or match.start() > last_space
            family = match.start() < comma if comma >= 0 else alone_or_last
            role = "family" if family else "given"
            faker = _faker(self._seed(f"name-{role}", word.lower() + salt))
            if len(word) == 1:  # an initial: the initial of a given name drawn for it
                replacement = faker.first_name()[0]
            else:
                replacement = faker.last_name() if family else faker.first_name()
            pieces.append(original[position : match.start()])
            pieces.append(like_case(word, replacement))
            position = match.end()
        pieces.append(original[position:])
        return "".join(pieces)


def _url(faker: Faker, original: str) -> str:
    scheme = re.match(r"(?i:https?://)?(?i:www\.)?", original)
    prefix = scheme.group() if scheme else ""
    return f"{prefix}{faker.domain_word()}.example.{faker.random_element(('com', 'org', 'net'))}" + (
        "/" + faker.uri_path() if "/" in original[len(prefix):] else "")


def _ip(faker: Faker, original: str) -> str:
    return str(faker.ipv6()) if ":" in original else str(faker.ipv4_private())


_FORMATTED = frozenset({"PHONE", "FAX", "ZIP", "ROOM", "SSN", "MEDICALRECORD", "HEALTHPLAN", "ACCOUNT", "LICENSE",
                        "VEHICLE", "DEVICE", "BIOID", "IDNUM", "ID"})
_GENERATORS: dict[str, Callable[[Faker, str], str]] = {
    "USERNAME": lambda faker, _: str(faker.user_name()),
    "PROFESSION": lambda faker, _: str(faker.job()),
    "HOSPITAL": lambda faker, _: f"{faker.last_name()} {faker.random_element(_HOSPITAL_KINDS)}",
    "ORGANIZATION": lambda faker, _: str(faker.company()),
    "DEPARTMENT": lambda faker, _: str(faker.random_element(_DEPARTMENTS)),
    "STREET": lambda faker, _: str(faker.street_address()),
    "CITY": lambda faker, _: str(faker.city()),
    "STATE": lambda faker, original: str(faker.state_abbr() if len(original.strip()) <= 2 else faker.state()),
    "COUNTRY": lambda faker, _: str(faker.country()),
    "EMAIL": lambda faker, _: str(faker.safe_email()),
    "URL": _url,
    "IPADDR": _ip,
}
