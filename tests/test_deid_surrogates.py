"""Surrogates: the same kind of value, the same for the same value in one scope, formats kept."""

from __future__ import annotations

import re

import pytest

from app.deid.categories import PhiType
from app.deid.keys import Keyring
from app.deid.surrogates import Surrogates, keep_format

KEYRING = Keyring(b"surrogate-test-key-0123456789")


def maker(patient: str = "p-1") -> Surrogates:
    return Surrogates(KEYRING, KEYRING.scope(patient, ""))


def test_names_are_replaced_word_by_word_so_partial_mentions_agree() -> None:
    surrogates, patient = maker(), PhiType("NAME", "PATIENT")
    full = surrogates.value(patient, "John Smith")
    given, family = full.split()
    assert surrogates.value(patient, "Smith") == family
    assert surrogates.value(patient, "Smith, John") == f"{family}, {given}"
    assert surrogates.value(patient, "J. Smith") == f"{surrogates.value(patient, 'J. Smith')[0]}. {family}"
    assert surrogates.value(patient, "SMITH") == family.upper()
    assert surrogates.value(patient, "Dr. Smith") == f"Dr. {family}"
    assert "Smith" not in full and "John" not in full


def test_scopes_and_keys_give_different_values() -> None:
    patient = PhiType("NAME", "PATIENT")
    assert maker("p-1").value(patient, "John Smith") == maker("p-1").value(patient, "John Smith")
    others = {maker(f"p-{i}").value(patient, "John Smith") for i in range(20)}
    assert len(others) > 15
    other_key = Surrogates(Keyring(b"another-key-0123456789abcdef"), KEYRING.scope("p-1", ""))
    assert other_key.value(patient, "John Smith") != maker("p-1").value(patient, "John Smith")


@pytest.mark.parametrize(("kind", "value", "shape"), [
    ("CONTACT/PHONE", "(617) 555-0100", r"\(\d{3}\) \d{3}-\d{4}"),
    ("CONTACT/FAX", "617.555.0199", r"\d{3}\.\d{3}\.\d{4}"),
    ("ID/SSN", "123-45-6789", r"\d{3}-\d{2}-\d{4}"),
    ("ID/MEDICALRECORD", "MR0042-1337", r"[A-Z]{2}\d{4}-\d{4}"),
    ("LOCATION/ZIP", "02114", r"\d{5}"),
    ("CONTACT/EMAIL", "john@mgh.org", r"[^@\s]+@example\.(com|org|net)"),
    ("CONTACT/URL", "https://www.mgh.org/a/b", r"https://www\.[\w-]+\.example\.(com|org|net)/\S+"),
    ("CONTACT/IPADDR", "10.2.3.4", r"\d+\.\d+\.\d+\.\d+"),
    ("LOCATION/STATE", "MA", r"[A-Z]{2}"),
    ("LOCATION/HOSPITAL", "MGH", r"[A-Z]{3}"),
])
def test_formats_are_kept(kind: str, value: str, shape: str) -> None:
    surrogate = maker().value(PhiType.parse(kind), value)
    assert re.fullmatch(shape, surrogate), surrogate
    assert surrogate != value


def test_the_same_number_written_differently_gets_the_same_digits() -> None:
    phone = PhiType("CONTACT", "PHONE")
    one, two = maker().value(phone, "(617) 555-0100"), maker().value(phone, "617-555-0100")
    assert re.sub(r"\D", "", one) == re.sub(r"\D", "", two)


def test_keep_format_changes_only_letters_and_digits() -> None:
    from random import Random

    kept = keep_format("AB-12 x/9", Random(1))
    assert re.fullmatch(r"[A-Z]{2}-\d{2} [a-z]/\d", kept)
