"""Date shifting keeps every date's written form and every interval between dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.deid.dates import find_dates, parse_date, shift_date
from app.deid.keys import Keyring
from app.deid.operators import MAX_SHIFT_WEEKS, MIN_SHIFT_WEEKS, age_group, date_offset_days

# (written, shifted by +10 days): each keeps zero-padding, separators, names, case, ordinals and commas.
FORMS = [
    ("03/04/2019", "03/14/2019"),
    ("3/4/2019", "3/14/2019"),
    ("03-04-19", "03-14-19"),
    ("2019-03-04", "2019-03-14"),
    ("2019.12.25", "2020.01.04"),
    ("March 4, 2019", "March 14, 2019"),
    ("Mar. 4th, 2019", "Mar. 14th, 2019"),
    ("MAR 21 2019", "MAR 31 2019"),
    ("Dec 28, 2019", "Jan 7, 2020"),
    ("Sept 25, 2019", "Oct 5, 2019"),
    ("4 March 2019", "14 March 2019"),
    ("21st of march 2019", "31st of march 2019"),
    ("3/4", "3/14"),
    ("March 2nd", "March 12th"),
    ("25/12/2019", "04/01/2020"),
]


@pytest.mark.parametrize(("written", "expected"), FORMS)
def test_each_form_is_kept(written: str, expected: str) -> None:
    parsed = parse_date(written)
    assert parsed is not None
    assert shift_date(parsed, 10) == expected


@pytest.mark.parametrize("written", ["03/2019", "March 2019", "Mar, 2019", "2019"])
def test_months_and_years_move_as_their_middle_day(written: str) -> None:
    parsed = parse_date(written)
    assert parsed is not None
    assert shift_date(parsed, 0) == written
    assert "2020" in (shift_date(parsed, 366) or "")


@pytest.mark.parametrize("written", ["Christmas", "02/30/2019", "13/13/2019", "last week", "120/80", "2019-13-01"])
def test_what_is_no_date_is_not_parsed(written: str) -> None:
    assert parse_date(written) is None


def test_finding_dates_in_text_leaves_fractions_doses_and_blood_pressure() -> None:
    text = "Seen 03/04/2019 and Mar 5, 2019; BP 120/80, took 1/2 tab, 2000 mg daily; since 1999."
    assert [text[start:end] for start, end in find_dates(text)] == ["03/04/2019", "Mar 5, 2019", "1999"]


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)), st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
       st.sampled_from(["%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y", "%d %b %Y"]), st.integers(-3640, 3640))
def test_intervals_and_forms_survive_the_shift(first: dt.date, second: dt.date, form: str, days: int) -> None:
    shifted = []
    for day in (first, second):
        parsed = parse_date(day.strftime(form))
        assert parsed is not None and parsed.day == day
        moved = shift_date(parsed, days)
        assert moved is not None
        # Same form: strptime reads it back. "May" is both a full name and an abbreviation: it is
        # taken as full, so its shift is written in full.
        back = form.replace("%b", "%B") if day.month == 5 else form
        shifted.append(dt.datetime.strptime(moved, back).date())
    assert (shifted[1] - shifted[0]) == (second - first)
    assert shifted[0] - first == dt.timedelta(days=days)


def test_offset_is_per_patient_in_whole_weeks_and_never_zero() -> None:
    keyring = Keyring(b"k" * 32)
    offsets = {date_offset_days(keyring, keyring.scope(f"patient-{i}", "")) for i in range(200)}
    assert all(offset % 7 == 0 and MIN_SHIFT_WEEKS * 7 <= abs(offset) <= MAX_SHIFT_WEEKS * 7 for offset in offsets)
    assert len(offsets) > 150 and min(offsets) < 0 < max(offsets)
    same = keyring.scope("patient-1", "one text"), keyring.scope("patient-1", "another text")
    assert date_offset_days(keyring, same[0]) == date_offset_days(keyring, same[1])
    assert date_offset_days(Keyring(b"j" * 32), same[0]) != date_offset_days(keyring, same[0])


@pytest.mark.parametrize(("age", "expected"), [("89", "89"), ("90", "90+"), ("104", "90+"),
                                               ("92-year-old", "90+-year-old"), ("ninety", None)])
def test_ages_over_89_are_grouped(age: str, expected: str | None) -> None:
    assert age_group(age) == expected
