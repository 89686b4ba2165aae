"""Dates in clinical notes: found, parsed and moved by a number of days, keeping their written form.

Date shifting (MIMIC, Google DLP) moves every date of one patient by the same secret number of
days: intervals between dates survive, so a course of treatment can still be studied, while the
calendar dates do not. Each date keeps its form: ``03/04/2019`` stays two-digit month and day with
a four-digit year, ``Mar. 4th, 2019`` keeps the abbreviation, the dot, the ordinal and the comma.
Partial dates move as the days they stand for: a day without a year within a leap year, a month
and year from its 15th, a year alone from its 2nd of July (its middle).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MON = (r"(?i:(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
        r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?))(?P<dot>\.)?")
_ORD = r"(?i:(?P<ord>st|nd|rd|th))?"
_LEFT = r"(?<![\w/.:-])"
_RIGHT = r"(?![\w/-]|[.:]\d)"
_FORMS: tuple[tuple[str, str], ...] = (
    ("mdy", r"(?P<m>\d{1,2})(?P<s>[/.-])(?P<d>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"),
    ("ymd", r"(?P<y>\d{4})(?P<s>[/.-])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})"),
    ("my", r"(?P<m>\d{1,2})/(?P<y>\d{4})"),
    ("md", r"(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
    ("mon_d_y", _MON + r"\s+(?P<d>\d{1,2})" + _ORD + r",?\s+(?P<y>\d{4})"),
    ("d_mon_y", r"(?P<d>\d{1,2})" + _ORD + r"\s+(?:of\s+)?" + _MON + r",?\s+(?P<y>\d{4})"),
    ("mon_d", _MON + r"\s+(?P<d>\d{1,2})" + _ORD),
    ("mon_y", _MON + r",?\s+(?P<y>\d{4})"),
    ("y", r"(?P<y>(?:19|20)\d\d)(?!\s*(?i:mg|mcg|ml|cc|units?|iu|g|kg|cal)\b)"),
)
_PARSE = tuple((form, re.compile(pattern)) for form, pattern in _FORMS)
_SEARCH = tuple((form, re.compile(_LEFT + pattern + _RIGHT)) for form, pattern in _FORMS)
_NOT_A_DAY = re.compile(r"\s*(?i:tabs?|tablets?|caps?|capsules?|pills?|puffs?|of|strength|inch(?:es)?|cups?)\b")
_LEAP_YEAR = 2000  # a day without a year moves within a leap year, so 29 February exists


@dataclass(frozen=True)
class ParsedDate:
    """A date string, the day it stands for, and which of its parts are written."""

    text: str
    form: str
    day: dt.date
    match: re.Match[str]
    two_digit_year: bool = False


def _month_number(name: str) -> int:
    lowered = name.lower()
    return next(index for index, month in enumerate(MONTHS, 1) if month.startswith(lowered[:3]))


def _year(text: str) -> tuple[int, bool]:
    """Four-digit years as written; two-digit ones pivot at 50 (``49`` is 2049, ``50`` is 1950)."""
    value = int(text)
    if len(text) == 2:
        return (2000 + value if value < 50 else 1900 + value), True
    return value, False


def _build(text: str, form: str, match: re.Match[str]) -> ParsedDate | None:
    groups = match.groupdict()
    month = _month_number(groups["mon"]) if groups.get("mon") else int(groups["m"]) if groups.get("m") else 7
    year, two_digit = _year(groups["y"]) if groups.get("y") else (_LEAP_YEAR, False)
    middle = 15 if groups.get("mon") or groups.get("m") else 2  # the middle of a month, or of a year
    day = int(groups["d"]) if groups.get("d") else middle
    if form == "mdy" and month > 12 >= day:  # 25/12/2019: day first
        month, day = day, month
    try:
        return ParsedDate(text, form, dt.date(year, month, day), match, two_digit)
    except ValueError:
        return None


def parse_date(text: str) -> ParsedDate | None:
    """The date a whole string writes, or None (``Christmas``, ``02/30/2019``, ``last week``)."""
    for form, pattern in _PARSE:
        match = pattern.fullmatch(text)
        if match is not None and (parsed := _build(text, form, match)) is not None:
            return parsed
    return None


def find_dates(text: str) -> list[tuple[int, int]]:
    """Where dates are written in a text, as ``(start, end)``: the longest wins where forms overlap."""
    found: list[tuple[int, int]] = []
    for form, pattern in _SEARCH:
        for match in pattern.finditer(text):
            if form == "md" and _NOT_A_DAY.match(text, match.end()):  # "1/2 tab": a fraction
                continue
            if _build(match.group(), form, match) is not None:
                found.append((match.start(), match.end()))
    found.sort(key=lambda span: (span[0], -span[1]))
    chosen: list[tuple[int, int]] = []
    for start, end in found:
        if not chosen or start >= chosen[-1][1]:
            chosen.append((start, end))
    return chosen


def _like(original: str, value: str) -> str:
    """``value`` in the letter case of ``original``."""
    if original.isupper():
        return value.upper()
    if original.islower():
        return value.lower()
    return value[:1].upper() + value[1:]


def _month_name(original: str, month: int) -> str:
    full = MONTHS[month - 1]
    abbreviated = original.lower() != MONTHS[_month_number(original) - 1]
    if not abbreviated:
        return _like(original, full)
    return _like(original, "sept" if month == 9 and len(original) == 4 else full[:3])


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def shift_date(parsed: ParsedDate, days: int) -> str | None:
    """The date moved by ``days``, written as it was written; None when it leaves years 1-9999."""
    try:
        moved = parsed.day + dt.timedelta(days=days)
    except OverflowError:
        return None
    match = parsed.match
    numbers = [value for name, value in match.groupdict().items() if name in ("m", "d") and value]
    # Zero-padded when a part shows it (03), or, in all-numeric dates, when every part has two digits.
    padded = any(value.startswith("0") for value in numbers) or (
        "mon" not in match.groupdict() and all(len(value) == 2 for value in numbers))
    values: dict[str, str] = {}
    for name, value in match.groupdict().items():
        if value is None:
            continue
        if name == "y":
            values[name] = f"{moved.year % 100:02d}" if parsed.two_digit_year else f"{moved.year:0{len(value)}d}"
        elif name in ("m", "d"):
            values[name] = f"{moved.month if name == 'm' else moved.day:0{2 if padded else 1}d}"
        elif name == "mon":
            values[name] = _month_name(value, moved.month)
        elif name == "ord":
            values[name] = _like(value, _ordinal(moved.day))
    if parsed.form == "mdy" and int(match.group("m")) > 12:  # written day first: swap back
        values["m"], values["d"] = values["d"], values["m"]
    if "y" in values and len(values["y"]) > len(match.group("y")) and not parsed.two_digit_year:
        return None
    pieces: list[str] = []
    position = 0
    for name in sorted(values, key=match.start):
        pieces.append(parsed.text[position : match.start(name)])
        pieces.append(values[name])
        position = match.end(name)
    pieces.append(parsed.text[position:])
    return "".join(pieces)
