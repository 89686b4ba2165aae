"""Structured identifiers found by patterns: phone and fax numbers, emails, URLs, IP addresses,
SSN-like and MRN-like numbers, dates; and two cued forms: names after a title (``Dr. Ann Lee``) and
ages before ``year-old`` or after ``age``.

A tagger misses now and then what a pattern finds with certainty (a phone number in an odd place,
a date in a table), and a missed identifier is a leak, so these spans are joined with the model's
before anything is replaced (``CLINX_DEID_PATTERNS``, on by default). The patterns lean to recall:
a number that looks like a record number is replaced even where it was a dose.
"""

from __future__ import annotations

import ipaddress
import re

from app.deid.categories import PhiType
from app.deid.dates import find_dates
from app.deid.spans import PhiSpan

_LEFT = r"(?<![\w@.-])"
_RIGHT = r"(?![\w@-]|\.\w)"
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_URL = re.compile(r"(?i:\b(?:https?://|www\.))[^\s<>\"'()\[\]{}]+")
_URL_TRAILING = ".,;:!?"
_IPV4 = re.compile(_LEFT + r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)" + _RIGHT)
_IPV6 = re.compile(r"(?<![\w:])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f:]{2,39}(?![\w:])")
_PHONE = re.compile(
    _LEFT + r"(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?:\s*(?i:x|ext\.?)\s*\d{1,5})?" + _RIGHT
)
_FAX_CUE = re.compile(r"(?i:fax|facsimile)\b[^\n\d]{0,12}$")
_SSN = re.compile(_LEFT + r"\d{3}-\d{2}-\d{4}" + _RIGHT)
_SSN_CUED = re.compile(r"(?i:\bssn|social security(?: number| no\.?)?)\s*[:#]?\s*(?P<value>\d{9}|\d{3} \d{2} \d{4})\b")
_RECORD = re.compile(
    r"(?i:\b(?:mrn|mr#|med(?:ical)? rec(?:ord)?(?: (?:number|no\.?|#))?|record (?:number|no\.?|#)|acct|account"
    r"(?: (?:number|no\.?|#))?|member id|policy(?: number| no\.?| #)?|id(?: number| no\.?| #)?))"
    r"\s*(?:is|:|#|=)?\s*(?P<value>#?[A-Za-z0-9][A-Za-z0-9-]{3,}(?<=\d)|#?[A-Za-z0-9-]*\d[A-Za-z0-9-]*\d)"
)
_RECORD_KIND = {"mrn": "MEDICALRECORD", "mr#": "MEDICALRECORD", "med": "MEDICALRECORD", "rec": "MEDICALRECORD",
                "acc": "ACCOUNT", "mem": "HEALTHPLAN", "pol": "HEALTHPLAN"}
_TITLED_NAME = re.compile(
    r"\b(?P<title>Dr|Mr|Mrs|Ms|Miss|Prof)\.?[ \t]+"
    r"(?P<value>[A-Z][A-Za-z'-]+(?:[ \t]+[A-Z]\.)?(?:[ \t]+[A-Z][A-Za-z'-]+)?)"
)
_AGE = re.compile(r"\b(?P<value>\d{1,3})(?=[ -]?(?:years?|yrs?|y/?o)\b)|(?i:\bage[d:]?)[ \t]*(?P<after>\d{1,3})\b")
_CODE = re.compile(_LEFT + r"[A-Z0-9]+(?:-[A-Z0-9]+)*(?!\s*(?i:mg|mcg|ml|units?|iu|cells)\b)" + _RIGHT)


def _span(start: int, end: int, label: str) -> PhiSpan:
    return PhiSpan(start, end, label, PhiType.parse(label), "pattern")


def find_phi(text: str) -> list[PhiSpan]:
    """Every pattern's spans, possibly overlapping (``join_spans`` resolves them with the model's)."""
    spans: list[PhiSpan] = []
    for match in _EMAIL.finditer(text):
        spans.append(_span(match.start(), match.end(), "EMAIL"))
    for match in _URL.finditer(text):
        value = match.group().rstrip(_URL_TRAILING)
        if len(value) > 4:
            spans.append(_span(match.start(), match.start() + len(value), "URL"))
    for match in _IPV4.finditer(text):
        spans.append(_span(match.start(), match.end(), "IPADDR"))
    for match in _IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(match.group())
        except ValueError:
            continue
        spans.append(_span(match.start(), match.end(), "IPADDR"))
    for match in _PHONE.finditer(text):
        label = "FAX" if _FAX_CUE.search(text, max(0, match.start() - 24), match.start()) else "PHONE"
        spans.append(_span(match.start(), match.end(), label))
    for match in _SSN.finditer(text):
        spans.append(_span(match.start(), match.end(), "SSN"))
    for match in _SSN_CUED.finditer(text):
        spans.append(_span(match.start("value"), match.end("value"), "SSN"))
    for match in _RECORD.finditer(text):
        cue = match.group().lower().lstrip()
        label = next((kind for prefix, kind in _RECORD_KIND.items() if cue.startswith(prefix)), "IDNUM")
        spans.append(_span(match.start("value"), match.end("value"), label))
    for match in _TITLED_NAME.finditer(text):
        label = "DOCTOR" if match.group("title") in ("Dr", "Prof") else "PATIENT"
        spans.append(_span(match.start("value"), match.end("value"), label))
    for match in _AGE.finditer(text):
        group = "value" if match.group("value") else "after"
        spans.append(_span(match.start(group), match.end(group), "AGE"))
    dates = find_dates(text)
    for start, end in dates:
        spans.append(_span(start, end, "DATE"))
    for match in _CODE.finditer(text):
        if _looks_like_code(match.group()) and not any(s < match.end() and match.start() < e for s, e in dates):
            spans.append(_span(match.start(), match.end(), "IDNUM"))
    return spans


def _looks_like_code(token: str) -> bool:
    """Upper-case letters with 4+ digits (AB123456, S12-34567), or a number of 6+ digits (7+ with hyphens)."""
    digits = sum(char.isdigit() for char in token)
    if any(char.isalpha() for char in token):
        return digits >= 4
    return digits >= (7 if "-" in token else 6)
