"""A synthetic corpus of notes with PHI of every i2b2 2014 category, for the de-identification demo.

Real PHI cannot be shared, and the i2b2 de-identification corpora cannot be redistributed, yet the
``/deidentify`` route needs a PHI tagger to start, to test against and to measure. These notes are
the concept demo's clinical text (``demo_corpus``; lines that state an age or a year are left out,
since those are PHI here) with header lines and sentences around it that carry names, professions,
places, ages, dates, contacts and identifiers drawn from Faker (en_US, seeded: the same seed gives
the same corpus), each labelled with its i2b2 2014 type (PATIENT, DOCTOR, HOSPITAL, PHONE, ...).

It is a demo, not a resource: the values are Faker's, the shapes are this module's templates, and a
model trained on it learns those templates. It must never be used to de-identify real notes.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable

from faker import Faker

from app.text.types import Document
from model_export.demo_corpus import generate_demo_corpus
from model_export.demo_text import Note

# Every i2b2 2014 type (the TYPE attribute): the labels of the demo de-identification bundle.
PHI_TYPES: tuple[str, ...] = (
    "PATIENT", "DOCTOR", "USERNAME", "PROFESSION", "ROOM", "DEPARTMENT", "HOSPITAL", "ORGANIZATION", "STREET",
    "CITY", "STATE", "COUNTRY", "ZIP", "LOCATION-OTHER", "AGE", "DATE", "PHONE", "FAX", "EMAIL", "URL", "IPADDR",
    "SSN", "MEDICALRECORD", "HEALTHPLAN", "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "BIOID", "IDNUM",
)
_AGE_OR_YEAR = re.compile(r"year-old|\b(?:19|20)\d\d\b")
_SLOT = re.compile(r"\{([A-Z-]+)\}")
_HOSPITALS = ("General Hospital", "Medical Center", "Memorial Hospital", "Community Hospital", "Clinic")
_DEPARTMENTS = ("Cardiology", "Oncology", "Neurology", "Radiology", "Emergency", "Surgery", "Nephrology")
_START, _END = dt.date(1990, 1, 1), dt.date(2030, 12, 31)
_PLACES = ("Park", "Mall", "Library", "Stadium", "bus station", "shelter")
# Template sentences: {TYPE} slots become labelled PHI; everything else is plain text.
_HEADER = (
    "Patient: {PATIENT}    MRN: {MEDICALRECORD}",
    "Name: {PATIENT}  DOB: {DATE}",
    "Admission Date: {DATE}",
    "Discharge Date: {DATE}",
    "Date of service: {DATE}",
    "Attending: {DOCTOR}, MD",
    "PCP: Dr. {DOCTOR}",
    "Account #: {ACCOUNT}",
)
_SENTENCES = (
    "{PATIENT} is a {AGE} year old {PROFESSION} who lives in {CITY}, {STATE}.",
    "Mr. {PATIENT} is {AGE} years old and works as a {PROFESSION} at {ORGANIZATION}.",
    "Ms. {PATIENT} was seen by Dr. {DOCTOR} on {DATE}.",
    "Admitted to {HOSPITAL} on {DATE} under Dr. {DOCTOR}.",
    "Transferred from {HOSPITAL} to room {ROOM} of the {DEPARTMENT} unit.",
    "Lives at {STREET}, {CITY}, {STATE} {ZIP}.",
    "Home phone {PHONE}; fax {FAX}.",
    "Reached by email at {EMAIL}.",
    "Results posted to {URL}.",
    "Portal login {USERNAME} from {IPADDR}.",
    "SSN {SSN}; insurance {HEALTHPLAN}.",
    "Health plan number {HEALTHPLAN}, account {ACCOUNT}.",
    "Driver license {LICENSE}; vehicle plate {VEHICLE}.",
    "Pacemaker serial number {DEVICE} checked on {DATE}.",
    "Specimen {BIOID} sent to pathology.",
    "Study ID {IDNUM}.",
    "Recently returned from {COUNTRY}.",
    "Found at the {LOCATION-OTHER} by EMS.",
    "Follow up with Dr. {DOCTOR} at {HOSPITAL} on {DATE}.",
    "Call {DOCTOR} at {PHONE} with questions.",
    "Last seen on {DATE}; next visit {DATE}.",
    "Discussed with her daughter {PATIENT} by phone.",
    "Per {DEPARTMENT} recommendations, continue current plan.",
)
# Numbers that are not PHI, so the model does not learn that every number is.
_NUMBERS = (
    "BP {n3}/{n2}, HR {n2}, RR {n2}.", "Sodium 1{n2}, potassium 4.{n1}.", "Metformin {n3} mg twice daily.",
    "Weight {n2} kg.", "Temp 98.{n1} F.", "Pain {n1}/10.",
)


def _date(faker: Faker, rng: random.Random) -> str:
    day = faker.date_between_dates(date_start=_START, date_end=_END)
    forms = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%m/%d", "%B %Y", "%Y",
             "%-m/%-d/%Y", "%b. %d")
    return day.strftime(rng.choice(forms))


def _name(faker: Faker, rng: random.Random) -> str:
    first, last = faker.first_name(), faker.last_name()
    forms = (f"{first} {last}", f"{first} {last}", last, f"{last}, {first}", f"{first[0]}. {last}",
             f"{first} {faker.first_name()[0]}. {last}", f"{last.upper()}, {first.upper()}")
    return rng.choice(forms)


def _phone(faker: Faker, rng: random.Random) -> str:
    digits = [faker.numerify("2##"), faker.numerify("2##"), faker.numerify("####")]
    forms = ("({0}) {1}-{2}", "{0}-{1}-{2}", "{0}.{1}.{2}", "+1 {0} {1} {2}")
    return rng.choice(forms).format(*digits)


def _age(faker: Faker, rng: random.Random) -> str:
    return str(rng.choice((rng.randint(18, 89), rng.randint(18, 89), rng.randint(90, 104))))


_VALUES: dict[str, Callable[[Faker, random.Random], str]] = {
    "PATIENT": _name,
    "DOCTOR": _name,
    "USERNAME": lambda f, r: f.user_name(),
    "PROFESSION": lambda f, r: f.job().split(",")[0],
    "ROOM": lambda f, r: f.bothify(r.choice(("###", "#?", "##-#"))).upper(),
    "DEPARTMENT": lambda f, r: r.choice(_DEPARTMENTS),
    "HOSPITAL": lambda f, r: f"{f.last_name()} {r.choice(_HOSPITALS)}",
    "ORGANIZATION": lambda f, r: f.company(),
    "STREET": lambda f, r: f.street_address(),
    "CITY": lambda f, r: f.city(),
    "STATE": lambda f, r: r.choice((f.state(), f.state_abbr())),
    "COUNTRY": lambda f, r: f.country(),
    "ZIP": lambda f, r: f.zipcode(),
    "LOCATION-OTHER": lambda f, r: f"{f.last_name()} {r.choice(_PLACES)}",
    "AGE": _age,
    "DATE": _date,
    "PHONE": _phone,
    "FAX": _phone,
    "EMAIL": lambda f, r: f.email(),
    "URL": lambda f, r: f.url(),
    "IPADDR": lambda f, r: f.ipv4() if r.random() < 0.8 else f.ipv6(),
    "SSN": lambda f, r: f.ssn(),
    "MEDICALRECORD": lambda f, r: f.bothify(r.choice(("########", "###-##-##", "MR#######"))),
    "HEALTHPLAN": lambda f, r: f.bothify("???#########").upper(),
    "ACCOUNT": lambda f, r: f.bothify(r.choice(("##########", "ACCT-#######"))),
    "LICENSE": lambda f, r: f.bothify("?#######").upper(),
    "VEHICLE": lambda f, r: f.license_plate(),
    "DEVICE": lambda f, r: f.bothify("SN-####-????").upper(),
    "BIOID": lambda f, r: f.bothify("S##-#####"),
    "IDNUM": lambda f, r: f.bothify("#######"),
}


def _render(unit: Note, template: str, faker: Faker, rng: random.Random) -> None:
    position = 0
    for match in _SLOT.finditer(template):
        unit.plain(template[position : match.start()])
        unit.concept(_VALUES[match.group(1)](faker, rng), match.group(1))
        position = match.end()
    unit.plain(template[position:])


def _numbers(rng: random.Random) -> str:
    return rng.choice(_NUMBERS).format(n1=rng.randint(0, 9), n2=rng.randint(10, 99), n3=rng.randint(100, 199))


def _note(doc_id: str, filler: str, rng: random.Random, faker: Faker) -> Document:
    note = Note(rng)
    for template in rng.sample(_HEADER, rng.randint(1, 3)):
        _render(note, template, faker, rng)
        note.plain("\n")
    note.plain("\n")
    lines = [line for line in filler.splitlines() if not _AGE_OR_YEAR.search(line)]
    for line in lines:
        note.plain(line)
        if rng.random() < 0.6:
            note.plain(" ")
            _render(note, rng.choice(_SENTENCES), faker, rng)
        if rng.random() < 0.2:
            note.plain(" " + _numbers(rng))
        note.plain("\n")
    _render(note, rng.choice(_SENTENCES), faker, rng)
    note.plain("\n")
    return Document(id=doc_id, text=note.text, spans=tuple(note.spans))


def generate_deid_corpus(documents: int = 300, seed: int = 17) -> list[Document]:
    """``documents`` notes with ids ``deid-0001``, ...; the same seed always gives the same corpus."""
    if documents < 0:
        raise ValueError(f"documents must be >= 0, got {documents}")
    fillers = generate_demo_corpus(documents, seed=seed)
    rng = random.Random(seed)
    faker = Faker("en_US")
    corpus: list[Document] = []
    for index, filler in enumerate(fillers, 1):
        doc_seed = rng.getrandbits(64)
        faker.seed_instance(doc_seed)
        corpus.append(_note(f"deid-{index:04d}", filler.text, random.Random(doc_seed), faker))
    return corpus
