"""The demo corpus's vocabulary: thousands of concepts combined from the blocks in ``demo_terms``.

Each *pool* holds the terms one kind of pattern slot draws from (``symptom``, ``imaging``,
``procedure``, ...) and belongs to one i2b2 2010 type. Combination makes the pools large (problems:
modifiers x conditions, sides x sites x findings; tests: modalities x body sites; treatments: approaches
x procedures, routes x drugs), so the demo model learns what concepts look like instead of
memorising a few dozen strings. A term also knows whether it takes an article ("a kidney stone",
"an MRI of the brain"): i2b2 2010 puts articles and possessives inside the concept.

Pools are built once, in a fixed order, and no string (case-folded) belongs to two types.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from model_export import demo_operations as operations
from model_export import demo_terms as terms

# Head words of concepts that can be counted ("a mass", "an x-ray", "a Foley catheter").
COUNTABLE_HEADS = frozenset((
    "laceration", "abrasion", "contusion", "abscess", "cyst", "lipoma", "mass", "lesion", "ulcer", "wound",
    "hematoma", "rash", "burn", "fracture", "tumor", "nodule", "stone", "hernia", "hydrocele", "varicocele",
    "spermatocele", "infection", "seizure", "stroke", "infarction", "effusion", "fever", "cough", "headache",
    "tear", "sprain", "calculus", "x-ray", "CT", "scan", "MRI", "ultrasound", "sonogram", "angiogram",
    "arteriogram", "radiograph", "cystoscopy", "colonoscopy", "endoscopy", "sigmoidoscopy", "bronchoscopy",
    "cystourethroscopy", "biopsy", "EKG", "ECG", "electrocardiogram", "echocardiogram", "test", "urinalysis",
    "culture", "panel", "count", "pyelogram", "cystourethrogram", "cystogram", "urogram", "monitor", "study",
    "mammogram", "smear", "catheter", "stent", "drain", "tube", "line", "pacemaker", "splint", "cast", "brace",
    "transfusion", "repair", "graft", "prosthesis", "procedure", "section", "bypass", "instillation", "tumor",
    "ureteroscopy", "arthroscopy", "placement", "release", "dilation", "removal", "TURP", "TURBT", "ORIF", "CABG",
    "UTI", "MI", "TIA", "CVA", "DVT", "PE",
))
SURGICAL_ENDINGS = ("ectomy", "otomy", "ostomy", "plasty", "pexy", "scopy", "tripsy", "graphy")


@dataclass(frozen=True)
class Term:
    text: str
    countable: bool


@dataclass(frozen=True)
class Pool:
    label: str
    terms: tuple[Term, ...]


def _countable(text: str) -> bool:
    head = text.split()[-1]
    return head in COUNTABLE_HEADS or head.endswith(SURGICAL_ENDINGS)


def article(text: str) -> str:
    """``a`` or ``an`` before ``text``, by its sound: "an MRI", "an x-ray", "a ureteral stent"."""
    word = text.split()[0]
    if (word.isupper() and len(word) > 1) or word in ("x-ray", "x-rays"):
        return "an" if word[0] in "AEFHILMNORSXaex" else "a"
    if word[0].lower() == "u" and len(word) > 2 and word[1] not in "aeiou" and word[2] in "aeiou":
        return "a"  # "urinary", "ureteral", "unilateral" sound like "you"
    return "an" if word[0].lower() in "aeiou" else "a"


def _sided(text: str, sided: bool) -> list[str]:
    return [text] + ([f"{side} {text}" for side in terms.SIDES[:2]] if sided else [])


def _symptoms() -> Iterable[str]:
    for symptom in terms.SYMPTOMS:
        yield symptom
        for modifier in terms.SYMPTOM_MODIFIERS:
            yield f"{modifier} {symptom}"
    for region, sided in terms.PAIN_REGIONS:
        for noun in terms.PAIN_NOUNS:
            for phrase in _sided(f"{region} {noun}", sided):
                yield phrase
                yield f"{terms.SYMPTOM_MODIFIERS[0]} {phrase}"
    for side in terms.SIDES:
        yield f"{side} lower extremity edema"


def _diseases() -> Iterable[str]:
    yield from terms.ABBREVIATED_PROBLEMS
    for condition in terms.CHRONIC_CONDITIONS:
        yield condition
        yield from (f"{modifier} {condition}" for modifier in terms.CHRONIC_MODIFIERS)
    for condition in terms.ACUTE_CONDITIONS:
        yield condition
        yield from (f"{modifier} {condition}" for modifier in terms.ACUTE_MODIFIERS)
    for noun, adjective, _paired in terms.TUMOUR_ORGANS:
        for kind in ("cancer", "carcinoma"):
            yield f"{adjective} {kind}"
            yield from (f"{modifier} {adjective} {kind}" for modifier in terms.TUMOUR_MODIFIERS[:6])
        yield f"carcinoma of the {noun}"
        yield f"adenocarcinoma of the {noun}"


def _findings() -> Iterable[str]:
    for site, sided in terms.SURFACE_SITES:
        for finding in terms.SURFACE_FINDINGS:
            yield from _sided(f"{site} {finding}", sided)
            yield from (f"{finding} of the {place}" for place in _sided(site, sided))
    for bone, sided in terms.BONES:
        for fracture in terms.FRACTURES:
            yield from _sided(f"{bone} {fracture}", sided)
        yield from (f"fracture of the {place}" for place in _sided(bone, sided))
    for joint in terms.JOINTS:
        for finding in terms.JOINT_FINDINGS:
            yield from _sided(f"{joint} {finding}", True)
    for _noun, adjective, paired in terms.TUMOUR_ORGANS:
        for kind in terms.TUMOUR_NOUNS[2:]:
            for phrase in _sided(f"{adjective} {kind}", paired):
                yield phrase
                yield from (f"{modifier} {phrase}" for modifier in terms.TUMOUR_MODIFIERS[6:])


def _imaging() -> Iterable[str]:
    for before, after in terms.MODALITIES:
        for adjective, site, sided in terms.IMAGING_SITES:
            for place in _sided(site, sided):
                yield f"{after} of the {place}"
            if adjective:
                yield from _sided(f"{adjective} {before}", sided)


def _labs() -> Iterable[str]:
    for lab in terms.LABS:
        yield lab
        yield from (f"{qualifier} {lab}" for qualifier in terms.LAB_QUALIFIERS[:3])


def _studies() -> Iterable[str]:
    for procedure in terms.DIAGNOSTIC_PROCEDURES:
        yield procedure
        yield from (f"{qualifier} {procedure}" for qualifier in terms.LAB_QUALIFIERS[:2])


def _medications() -> Iterable[str]:
    yield from terms.MEDICATIONS
    for drug in terms.INJECTABLES:
        yield from (f"{route} {drug}" for route in terms.ROUTE_PREFIXES)
    yield from terms.MEDICATION_CLASSES


def _devices() -> Iterable[str]:
    yield from terms.DEVICES
    for catheter in terms.CATHETERS:
        yield from (f"{size}-French {catheter}" for size in (12, 14, 16, 18, 20, 22, 24))
    for material in terms.SUTURE_MATERIALS:
        for size in range(2, 7):
            yield f"{size}-0 {material}"
            yield f"{size}-0 {material} sutures"
    for side in terms.SIDES[:2]:
        yield from (f"{side} {size} double-J ureteral stent" for size in ("6 x 24", "6 x 26", "7 x 26", "6 x 28"))
    yield from operations.DEVICES_MORE
    yield from operations.PLURAL_DEVICES


def _procedures() -> Iterable[str]:
    for procedure, approaches, sided in terms.PROCEDURES:
        for approach in approaches:
            phrase = f"{approach} {procedure}".strip()
            yield phrase
            if sided:
                yield from (f"{side} {phrase}" for side in terms.SIDES)
    for hernia in terms.HERNIAS:
        for repair in terms.HERNIA_REPAIRS:
            for approach in terms.HERNIA_APPROACHES:
                yield from _sided(f"{approach} {hernia} {repair}".strip(), hernia in ("inguinal", "femoral"))
    for joint in terms.JOINTS:
        for operation in terms.JOINT_OPERATIONS:
            yield from _sided(f"{joint} {operation}", True)
    for fixation in terms.FIXATIONS:
        for bone, sided in terms.BONES:
            yield from (f"{fixation} {place}" for place in _sided(bone, sided))
    for injection in terms.STEROID_INJECTIONS:
        for joint in terms.JOINTS:
            yield from _sided(f"{joint} {injection}", True)
            yield from (f"{injection} of the {place}" for place in _sided(joint, True))
    yield from _operations()


def _operations() -> Iterable[str]:
    """One-word operations with a few of the modifiers notes put before them (a fixed stride, not all of
    them: the pool stays balanced), and implants with what is done to them."""
    modifiers = operations.OPERATION_MODIFIERS
    for index, (operation, sided) in enumerate(operations.OPERATIONS):
        yield operation
        yield from (f"{modifiers[(index * 7 + step * 5) % len(modifiers)]} {operation}" for step in range(6))
        if sided:
            yield from (f"{side} {operation}" for side in terms.SIDES)
    for index, implant in enumerate(operations.IMPLANTS):
        for step, action in enumerate(operations.IMPLANT_ACTIONS):
            if (index + step) % 2 == 0:
                yield f"{implant} {action}"
            else:
                determiner = "the" if implant.endswith("s") else article(implant)
                yield f"{action} of {determiner} {implant}"


def _sutures() -> Iterable[str]:
    """What a wound or an incision is closed with ("3-0 chromic", "staples")."""
    for material in terms.SUTURE_MATERIALS:
        for size in range(2, 7):
            yield from (f"{size}-0 {material}", f"{size}-0 {material} sutures", f"running {size}-0 {material}",
                        f"interrupted {size}-0 {material} sutures")
    yield from operations.CLOSURES


def _interventions() -> Iterable[str]:
    for head, modifiers in operations.GENERIC_COMBINED:
        yield from (f"{modifier} {head}" for modifier in modifiers)


@functools.lru_cache(maxsize=1)
def pools() -> dict[str, Pool]:
    """Every pool by slot name; built once. Later pools lose a string an earlier type already holds."""
    sources: list[tuple[str, str, Iterable[str]]] = [
        ("symptom", "problem", _symptoms()), ("disease", "problem", _diseases()), ("finding", "problem", _findings()),
        ("sign", "problem", terms.EXAM_SIGNS),
        ("imaging", "test", _imaging()), ("lab", "test", _labs()), ("study", "test", _studies()),
        ("exam", "test", terms.EXAMS), ("medication", "treatment", _medications()),
        ("procedure", "treatment", _procedures()), ("device", "treatment", _devices()),
        ("therapy", "treatment", (*terms.THERAPIES, *(f"{p} prophylaxis" for p in operations.PROPHYLAXIS))),
        ("suture", "treatment", _sutures()),
        ("care", "treatment", operations.CARE), ("devices", "treatment", operations.PLURAL_DEVICES),
        ("prophylaxis", "treatment", (f"{p} prophylaxis" for p in operations.PROPHYLAXIS)),
        ("generic", "treatment", (*terms.GENERIC_TREATMENTS, *operations.GENERIC_NAMED)),
        ("intervention", "treatment", _interventions()),
        ("anesthesia", "treatment", terms.ANESTHESIA), ("anesthesia_heading", "treatment", terms.ANESTHESIA_HEADINGS),
    ]
    owner: dict[str, str] = {}
    built: dict[str, Pool] = {}
    for name, label, texts in sources:
        kept: dict[str, Term] = {}
        for text in texts:
            key = text.casefold()
            if owner.setdefault(key, label) == label and key not in kept:
                kept[key] = Term(text, _countable(text))
        built[name] = Pool(label, tuple(kept.values()))
    for label, members in (("problem", ("symptom", "disease", "finding")), ("test", ("imaging", "lab", "study")),
                           ("treatment", ("medication", "procedure", "device", "therapy", "care"))):
        built[label] = Pool(label, tuple(term for member in members for term in built[member].terms))
    return built


def vocabulary() -> dict[str, set[str]]:
    """Every term of each type, case-folded: what a span of that type may hold, without an article."""
    found: dict[str, set[str]] = {"problem": set(), "test": set(), "treatment": set()}
    for pool in pools().values():
        found[pool.label] |= {term.text.casefold() for term in pool.terms}
    return found
