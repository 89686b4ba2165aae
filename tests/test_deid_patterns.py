"""Structured identifiers are found by patterns, each with its i2b2 2014 type."""

from __future__ import annotations

import pytest

from app.deid.patterns import find_phi

CASES = [
    ("Call (617) 555-0100 today", "(617) 555-0100", "PHONE"),
    ("Call 617.555.0100 x123 today", "617.555.0100 x123", "PHONE"),
    ("Call +1 617 555 0100.", "+1 617 555 0100", "PHONE"),
    ("Fax: 617-555-0199.", "617-555-0199", "FAX"),
    ("Mail j.smith+x@mail.example.org.", "j.smith+x@mail.example.org", "EMAIL"),
    ("See https://portal.example.org/p?id=7.", "https://portal.example.org/p?id=7", "URL"),
    ("See www.example.org, then", "www.example.org", "URL"),
    ("From 192.168.10.254 at", "192.168.10.254", "IPADDR"),
    ("From fe80::1ff:fe23:4567:890a at", "fe80::1ff:fe23:4567:890a", "IPADDR"),
    ("SSN 123-45-6789.", "123-45-6789", "SSN"),
    ("SSN: 123456789.", "123456789", "SSN"),
    ("MRN: 0042-1337.", "0042-1337", "MEDICALRECORD"),
    ("Medical record number 00123456", "00123456", "MEDICALRECORD"),
    ("Acct # 99887766", "99887766", "ACCOUNT"),
    ("Policy number XK-22913", "XK-22913", "HEALTHPLAN"),
    ("Specimen S12-34567 sent", "S12-34567", "IDNUM"),
    ("Ref AB123456 noted", "AB123456", "IDNUM"),
    ("on 03/04/2019.", "03/04/2019", "DATE"),
    ("Seen by Dr. Ann Lee today", "Ann Lee", "DOCTOR"),
    ("Mrs. O'Brien was", "O'Brien", "PATIENT"),
    ("a 92-year-old man", "92", "AGE"),
    ("is 45 years old", "45", "AGE"),
    ("Age: 101.", "101", "AGE"),
]


@pytest.mark.parametrize(("text", "value", "label"), CASES)
def test_each_identifier_is_found_with_its_type(text: str, value: str, label: str) -> None:
    found = [(text[span.start : span.end], span.label) for span in find_phi(text)]
    assert (value, label) in found
    assert all(span.source == "pattern" for span in find_phi(text))


@pytest.mark.parametrize("text", ["BP 120/80, HR 72, temp 98.6 F.", "Metformin 500 mg twice daily.",
                                  "Given 1/2 tab of aspirin 81 mg.", "Version 10.2.3 of the form.",
                                  "Sodium 138, potassium 4.1, time 10:30."])
def test_clinical_numbers_are_left_alone(text: str) -> None:
    assert [text[span.start : span.end] for span in find_phi(text)] == []
