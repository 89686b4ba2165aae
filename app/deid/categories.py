"""PHI categories (i2b2 2014) and the label sets of the i2b2 2006 and 2014 corpora mapped to them.

A de-identification bundle names, for every label its model produces, the PHI category it stands
for (``NAME/PATIENT``, ``DATE``, ...): operators are chosen per category, and a surrogate must be of
the same kind as the value it replaces. The i2b2 2014 guidelines define seven categories, most with
subtypes; the 2006 task used eight coarser types, each of which falls into one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CATEGORIES: dict[str, tuple[str, ...]] = {
    "NAME": ("PATIENT", "DOCTOR", "USERNAME"),
    "PROFESSION": (),
    "LOCATION": ("ROOM", "DEPARTMENT", "HOSPITAL", "ORGANIZATION", "STREET", "CITY", "STATE", "COUNTRY", "ZIP",
                 "LOCATION-OTHER"),
    "AGE": (),
    "DATE": (),
    "CONTACT": ("PHONE", "FAX", "EMAIL", "URL", "IPADDR"),
    "ID": ("SSN", "MEDICALRECORD", "HEALTHPLAN", "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "BIOID", "IDNUM"),
}
SUBTYPES: dict[str, str] = {subtype: category for category, subtypes in CATEGORIES.items() for subtype in subtypes}


@dataclass(frozen=True, order=True)
class PhiType:
    """A PHI category and, where known, its subtype: written ``CATEGORY`` or ``CATEGORY/SUBTYPE``."""

    category: str
    subtype: str | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown PHI category {self.category!r}; expected one of {', '.join(CATEGORIES)}")
        if self.subtype is not None and self.subtype not in CATEGORIES[self.category]:
            known = ", ".join(CATEGORIES[self.category]) or "none"
            raise ValueError(f"{self.subtype!r} is not a subtype of {self.category} (its subtypes: {known})")

    def __str__(self) -> str:
        return self.category if self.subtype is None else f"{self.category}/{self.subtype}"

    @property
    def kind(self) -> str:
        """The finest name known: the subtype, else the category (what surrogates are chosen by)."""
        return self.subtype or self.category

    @classmethod
    def parse(cls, value: str) -> PhiType:
        """``"LOCATION/CITY"``, ``"DATE"``, or a bare subtype (``"CITY"``): its category is implied."""
        category, _, subtype = value.strip().upper().partition("/")
        if not subtype and category in SUBTYPES:
            return cls(SUBTYPES[category], category)
        return cls(category, subtype or None)


def _types(pairs: Iterable[tuple[str, str]]) -> dict[str, PhiType]:
    return {label: PhiType.parse(value) for label, value in pairs}


# i2b2 2014: the TYPE attribute (``label_from="type"``) is a subtype, the element name a category.
I2B2_2014: dict[str, PhiType] = {
    **_types((subtype, f"{category}/{subtype}") for subtype, category in SUBTYPES.items()),
    "PROFESSION": PhiType("PROFESSION"),
    "AGE": PhiType("AGE"),
    "DATE": PhiType("DATE"),
}
I2B2_2014_CATEGORIES: dict[str, PhiType] = {category: PhiType(category) for category in CATEGORIES}
# i2b2 2006: PATIENT, DOCTOR, HOSPITAL, LOCATION, DATE, ID, PHONE, AGE.
I2B2_2006: dict[str, PhiType] = _types((
    ("PATIENT", "NAME/PATIENT"), ("DOCTOR", "NAME/DOCTOR"), ("HOSPITAL", "LOCATION/HOSPITAL"),
    ("LOCATION", "LOCATION"), ("DATE", "DATE"), ("ID", "ID"), ("PHONE", "CONTACT/PHONE"), ("AGE", "AGE"),
))
KNOWN_LABELS: dict[str, PhiType] = {**I2B2_2006, **I2B2_2014_CATEGORIES, **I2B2_2014}


def _normal(label: str) -> str:
    return label.strip().upper().replace("_", "-")


def known_phi_type(label: str) -> PhiType | None:
    """The category of an i2b2 2006 or 2014 label (either case, ``_`` or ``-``), or None."""
    return KNOWN_LABELS.get(_normal(label))


def phi_categories_for(labels: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{label: "CATEGORY[/SUBTYPE]"}`` for a model's labels: overrides first, then the i2b2 label sets.

    Raises ValueError naming every label that is neither overridden nor an i2b2 label.
    """
    overrides = dict(overrides or {})
    result: dict[str, str] = {}
    unknown: list[str] = []
    for label in labels:
        if label in overrides:
            result[label] = str(PhiType.parse(overrides.pop(label)))
        elif (known := known_phi_type(label)) is not None:
            result[label] = str(known)
        else:
            unknown.append(label)
    if overrides:
        raise ValueError(f"PHI categories given for labels the model does not produce: {sorted(overrides)}")
    if unknown:
        raise ValueError(f"labels {unknown} are not i2b2 2006/2014 PHI labels; give their category "
                         "(e.g. --phi-category LABEL=LOCATION/CITY)")
    return result
