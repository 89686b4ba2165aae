"""PHI categories and the i2b2 label sets that map to them."""

from __future__ import annotations

import pytest

from app.deid.categories import I2B2_2006, I2B2_2014, PhiType, known_phi_type, phi_categories_for


def test_every_i2b2_2014_type_and_category_and_2006_type_is_known() -> None:
    assert len(I2B2_2014) == 30  # 27 subtypes + PROFESSION, AGE, DATE
    assert {str(t) for t in I2B2_2006.values()} == {"NAME/PATIENT", "NAME/DOCTOR", "LOCATION/HOSPITAL", "LOCATION",
                                                   "DATE", "ID", "CONTACT/PHONE", "AGE"}
    assert known_phi_type("medicalrecord") == PhiType("ID", "MEDICALRECORD")
    assert known_phi_type("LOCATION_OTHER") == PhiType("LOCATION", "LOCATION-OTHER")
    assert known_phi_type("CONTACT") == PhiType("CONTACT")
    assert known_phi_type("problem") is None


def test_parse_accepts_categories_subtypes_and_pairs_only_when_consistent() -> None:
    assert PhiType.parse("city") == PhiType("LOCATION", "CITY")
    assert str(PhiType.parse("NAME/DOCTOR")) == "NAME/DOCTOR"
    for bad in ("NAME/CITY", "PLACE", "DATE/DAY"):
        with pytest.raises(ValueError):
            PhiType.parse(bad)


def test_categories_for_a_model_overrides_first_and_names_every_unknown_label() -> None:
    assert phi_categories_for(["PATIENT", "Surname"], {"Surname": "NAME/PATIENT"}) == {
        "PATIENT": "NAME/PATIENT", "Surname": "NAME/PATIENT"}
    with pytest.raises(ValueError, match=r"\['problem', 'test'\]"):
        phi_categories_for(["problem", "DATE", "test"])
    with pytest.raises(ValueError, match="does not produce"):
        phi_categories_for(["DATE"], {"CITY": "LOCATION/CITY"})
