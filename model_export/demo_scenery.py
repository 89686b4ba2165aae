"""What the demo corpus writes around its concepts: anatomy, instruments, positions, steps, normal findings.

Why: when every varied noun phrase of a synthetic note is a concept, a model learns "unfamiliar noun
phrase = concept" and tags the anatomy, instruments and positions of a real operative note. Real
notes are mostly such words. i2b2 2010 leaves them outside every concept (``benchmarks/data/README.md``):
anatomy ("her right subclavian vein"), instruments used during an operation ("a small mosquito
hemostat", "a glidewire"), positions ("steep Trendelenburg"), the steps of an operation ("blunt
dissection"), parts of a device ("the reservoir") and normal findings ("normal in caliber"). This
module combines hand-written blocks into thousands of such phrases, which ``demo_text`` writes as
plain text (with their article or possessive, also plain), so the model sees them as often as concepts.

Everything here was written for this project from general clinical knowledge. No phrase holds a
concept of the vocabulary (``demo_vocabulary``) as whole words: such phrases are dropped, so the
text outside the spans never holds a concept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from model_export.demo_vocabulary import vocabulary

# fmt: off
SIDES = ("left", "right")
# Structures of one side of the body: each also comes as "left ..." and "right ...".
PAIRED_STRUCTURES: tuple[str, ...] = (
    "subclavian vein", "internal jugular vein", "external jugular vein", "femoral artery", "femoral vein",
    "common femoral artery", "radial artery", "brachial artery", "cephalic vein", "saphenous vein",
    "greater saphenous vein", "ureteral orifice", "ureter", "distal ureter", "proximal ureter", "renal pelvis",
    "ureteropelvic junction", "ureterovesical junction", "kidney", "lower pole of the kidney", "upper pole calyx",
    "testicle", "testis", "hemiscrotum", "spermatic cord", "inguinal canal", "external inguinal ring",
    "internal inguinal ring", "vas deferens", "epididymis", "ovary", "fallopian tube", "breast", "axilla",
    "lung", "lower lobe", "upper lobe", "pleural space", "hand", "index finger", "middle finger",
    "ring finger", "small finger", "thumb", "wrist", "forearm", "elbow", "shoulder", "knee", "hip", "ankle",
    "foot", "great toe", "flank", "lower quadrant", "upper quadrant", "groin", "buttock", "gluteal fold",
    "labium majus", "nasal cavity", "maxillary sinus", "ear canal", "tympanic membrane", "tonsil", "vocal cord",
    "carpal tunnel", "median nerve", "ulnar nerve", "flexor tendon", "extensor tendon", "medial meniscus",
    "lateral meniscus", "femoral condyle", "tibial plateau", "acetabulum", "femoral head", "glenoid",
    "humeral head", "iliac crest", "iliac fossa", "adrenal gland", "lobe of the liver", "lobe of the thyroid",
    "atrium", "ventricle", "internal iliac artery", "common iliac artery", "seminal vesicle",
)
# Structures without a side.
MIDLINE_STRUCTURES: tuple[str, ...] = (
    "urethral meatus", "meatus", "urethra", "bladder", "bladder neck", "trigone", "dome of the bladder",
    "bladder wall", "bladder mucosa", "prostatic urethra", "bulbar urethra", "pendulous urethra", "verumontanum",
    "prostatic fossa", "external sphincter", "penis", "glans", "corona", "penile shaft", "shaft of the penis",
    "foreskin", "frenulum", "scrotum", "median raphe", "perineum", "rectum", "anus", "anal verge", "umbilicus",
    "peritoneal cavity", "abdominal cavity", "pelvis", "retroperitoneum", "liver", "gallbladder", "cystic duct",
    "cystic artery", "common bile duct", "gallbladder fossa", "liver bed", "appendix", "base of the appendix",
    "mesoappendix", "cecum", "terminal ileum", "small bowel", "colon", "sigmoid colon", "omentum", "stomach",
    "duodenum", "esophagus", "trachea", "larynx", "thyroid gland", "sternum", "mediastinum", "pericardium",
    "aorta", "inferior vena cava", "superior vena cava", "coronary sinus", "fascia", "rectus fascia",
    "anterior rectus sheath", "linea alba", "external oblique aponeurosis", "transversalis fascia", "peritoneum",
    "preperitoneal space", "subcutaneous tissue", "subcutaneous fat", "skin", "dermis", "Scarpa fascia",
    "rectus muscle", "spinous process", "lamina", "dura", "epidural space", "sacral hiatus", "cervix", "uterus",
    "vagina", "vaginal cuff", "hernia sac", "cord structures", "ilioinguinal nerve", "dartos layer",
    "tunica vaginalis", "tunica albuginea", "corpora cavernosa", "corpus spongiosum", "Buck fascia",
    "space of Retzius", "endopelvic fascia", "dorsal venous complex", "pubic bone", "pubic symphysis",
    "falciform ligament", "hepatic flexure", "splenic flexure", "mesentery", "wound edges", "skin edges",
)
# Words that place a structure: "the proximal ureter", "the lower pole of the right kidney".
DIRECTIONS = ("proximal", "distal", "anterior", "posterior", "medial", "lateral", "inferior", "superior")
PHALANGES = ("proximal phalanx", "middle phalanx", "distal phalanx")
DIGITS = ("index finger", "middle finger", "ring finger", "small finger", "thumb", "great toe", "second toe")

# Instruments used during an operation, each with the sizes it is named with ("" = none).
INSTRUMENTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("hemostat", "mosquito hemostat", "Kelly clamp", "Allis clamp", "Babcock clamp", "right-angle clamp",
      "Kocher clamp", "clamp", "needle driver", "skin hook", "tenaculum", "speculum", "weighted speculum",
      "Freer elevator", "periosteal elevator", "curette", "rongeur", "Kerrison rongeur", "osteotome", "rasp",
      "probe", "lacrimal probe", "grasper", "stone basket", "nitinol basket", "Yankauer suction",
      "suction irrigator", "lap pad", "sponge stick", "Kittner", "peanut", "stapler", "GIA stapler",
      "skin stapler", "clip applier", "scalpel", "knife", "tourniquet", "pneumatic tourniquet", "drill",
      "oscillating saw", "burr", "syringe", "Toomey syringe"),
     ("", "", "small", "large", "curved", "straight", "fine", "long")),
    (("retractor", "Army-Navy retractor", "Richardson retractor", "Weitlaner retractor", "Senn retractor",
      "Deaver retractor", "Balfour retractor", "Bookwalter retractor", "malleable retractor",
      "self-retaining retractor", "Gelpi retractor", "Lone Star retractor"), ("", "", "small", "large")),
    (("Bovie", "Bovie electrocautery", "electrocautery", "bipolar", "bipolar cautery", "harmonic scalpel",
      "LigaSure device", "needle-tip Bovie", "argon beam coagulator"), ("",)),
    (("cystoscope", "resectoscope", "ureteroscope", "nephroscope", "laparoscope", "hysteroscope", "arthroscope",
      "bronchoscope", "colonoscope", "sheath", "access sheath", "ureteral access sheath", "obturator",
      "dilator", "balloon dilator", "fascial dilator", "working element", "bridge"),
     ("", "", "flexible", "rigid", "semirigid", "17-French", "21-French", "22-French", "24-French", "26-French",
      "7.5-French", "12/14-French")),
    (("trocar", "port", "Hasson trocar", "Veress needle", "camera", "lens", "30-degree lens", "0-degree lens",
      "light cord", "insufflation needle"), ("", "", "5-mm", "8-mm", "10-mm", "12-mm", "blunt")),
    (("guidewire", "glidewire", "Sensor wire", "Amplatz wire", "Bentson wire", "zebra wire", "wire",
      "safety wire", "working wire"), ("", "", "0.038", "0.035", "hydrophilic", "straight-tip", "angled-tip",
                                       "super-stiff")),
    (("laser fiber", "holmium laser fiber"), ("", "200-micron", "365-micron", "550-micron")),
    (("needle", "Keith needle", "Tuohy needle"), ("", "22-gauge", "18-gauge", "25-gauge", "long")),
)
# Parts of a device placed in the patient: the device is a concept, its parts are not.
DEVICE_PARTS = ("reservoir", "tubing", "cylinders", "pump", "generator", "lead", "leads", "balloon", "cuff",
                "tip", "coil", "distal coil", "proximal curl", "distal curl", "hub", "introducer", "stylet",
                "connector", "pocket", "tines", "battery")
POSITIONS = ("supine", "prone", "dorsal lithotomy", "lithotomy", "modified lithotomy", "low lithotomy",
             "lateral decubitus", "left lateral decubitus", "right lateral decubitus", "Trendelenburg",
             "reverse Trendelenburg", "steep Trendelenburg", "frog-leg", "beach-chair", "prone jackknife",
             "jackknife", "sitting", "semi-Fowler", "modified flank", "park-bench", "lateral")
UNNAMED_POSITIONS = ("Trendelenburg", "reverse Trendelenburg", "steep Trendelenburg", "lithotomy",
                     "dorsal lithotomy", "jackknife")
# Steps of an operation, as nouns, with the words that go before them: "blunt dissection".
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dissection", ("blunt", "sharp", "careful", "meticulous", "further", "circumferential", "limited",
                    "blunt and sharp")),
    ("irrigation", ("copious", "gentle", "antibiotic")), ("hemostasis", ("adequate", "good", "excellent", "meticulous",
                                                                        "careful", "complete")),
    ("retraction", ("gentle", "lateral", "cephalad")), ("exposure", ("adequate", "good", "excellent")),
    ("inspection", ("careful", "further", "final", "visual")), ("mobilization", ("further", "careful", "medial")),
    ("closure", ("layered", "careful", "watertight", "subcuticular")), ("traction", ("gentle", "upward")),
    ("insufflation", ("adequate",)), ("hydrodissection", ()), ("countertraction", ()), ("cauterization", ()),
    ("reapproximation", ("careful",)), ("suction", ("gentle",)), ("electrocautery", ()),
)
INCISIONS = ("incision", "skin incision", "transverse incision", "midline incision", "Pfannenstiel incision",
             "curvilinear incision", "stab incision", "periumbilical incision", "inguinal incision",
             "scrotal incision", "infraumbilical incision", "median raphe incision", "longitudinal incision",
             "cystotomy", "arteriotomy", "urethrotomy", "enterotomy")
# What an operation does to a structure.
ACTIONS = ("incised", "opened", "divided", "dissected free", "dissected", "identified", "isolated", "mobilized",
           "retracted", "ligated", "clamped", "transected", "cauterized", "irrigated", "inspected", "visualized",
           "cannulated", "dilated", "grasped", "elevated", "reflected", "exposed", "freed", "delivered", "entered",
           "reapproximated", "closed", "marked", "palpated", "examined", "scored", "skeletonized", "controlled",
           "secured", "everted", "imbricated", "tagged", "retracted laterally", "swept away", "carefully inspected",
           "developed", "incised sharply", "entered sharply", "opened longitudinally")
# Normal findings: not concepts in i2b2 2010.
NORMAL = ("normal", "normal in appearance", "normal in size", "intact", "patent", "within normal limits",
          "unremarkable", "free of any abnormality", "without any abnormality", "healthy-appearing",
          "well vascularized", "viable", "pink and viable", "smooth", "in good position", "in excellent position",
          "dry", "hemostatic", "of normal caliber", "widely patent", "grossly normal", "normal in contour",
          "well perfused", "symmetric", "clear", "without abnormality", "normal-appearing")
# How much: outside the concept it counts ("a little bit of bleeding").
QUANTITIES = ("minimal", "a little", "a little bit of", "a small amount of", "very little", "some", "moderate",
              "a moderate amount of", "a large amount of", "scant", "a trace of")
# fmt: on


def _anatomy() -> Iterable[str]:
    for structure in PAIRED_STRUCTURES:
        yield structure
        yield from (f"{side} {structure}" for side in SIDES)
        yield from (f"{direction} {structure}" for direction in DIRECTIONS[:2] if len(structure.split()) == 1)
    for structure in MIDLINE_STRUCTURES:
        yield structure
        yield from (f"{direction} {structure}" for direction in DIRECTIONS[2:] if len(structure.split()) == 1)
    for phalanx in PHALANGES:
        yield phalanx
        for digit in DIGITS:
            yield f"{phalanx} of the {digit}"
            yield from (f"{phalanx} of the {side} {digit}" for side in SIDES)


def _instruments() -> Iterable[str]:
    for names, sizes in INSTRUMENTS:
        for name in names:
            yield from (f"{size} {name}".strip() for size in sizes)


def _positions() -> Iterable[str]:
    for position in POSITIONS:
        yield f"{position} position"
    yield from UNNAMED_POSITIONS


def _steps() -> Iterable[str]:
    for step, modifiers in STEPS:
        yield step
        yield from (f"{modifier} {step}" for modifier in modifiers)
    yield from INCISIONS


SOURCES = {"anatomy": _anatomy, "instrument": _instruments, "position": _positions, "step": _steps,
           "part": lambda: DEVICE_PARTS, "action": lambda: ACTIONS, "normal": lambda: NORMAL,
           "quantity": lambda: QUANTITIES}


def _holds_concept(phrase: str, known: set[str]) -> bool:
    words = re.findall(r"[\w'/-]+", phrase.casefold())
    return any(" ".join(words[i:j]) in known for i in range(len(words)) for j in range(i + 1, len(words) + 1))


@functools.lru_cache(maxsize=1)
def scenery() -> dict[str, tuple[str, ...]]:
    """Every scenery slot's phrases, in a fixed order, without duplicates or phrases holding a concept."""
    known = set().union(*vocabulary().values())
    return {slot: tuple(dict.fromkeys(p for p in build() if not _holds_concept(p, known)))
            for slot, build in SOURCES.items()}
