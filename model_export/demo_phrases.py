"""Sentence patterns of the demo corpus, grouped by the kind of statement and the assertion they make.

A slot ``{pool}`` becomes a concept drawn from that pool of ``demo_vocabulary`` (``problem``,
``symptom``, ``disease``, ``finding``, ``sign``, ``test``, ``imaging``, ``lab``, ``study``, ``exam``,
``treatment``, ``medication``, ``procedure``, ``device``, ``therapy``, ``generic`` ("the procedure"),
``intervention`` ("further intervention"), ``suture`` ("3-0 chromic"), ``anesthesia``).
A prefix puts a determiner inside the concept, as
i2b2 2010 does: ``{a_finding}`` "a left renal mass", ``{the_imaging}`` "the CT of the abdomen",
``{poss_symptom}`` "her flank pain". A suffix gives a problem's assertion (i2b2 2010): ``:absent``,
``:possible``, ``:conditional``, ``:hypothetical``, ``:family`` (associated with someone else);
without one it is present. Other slots are fillers, never concepts: ``{he}``/``{He}``, ``{his}``/``{His}``,
``{him}``, ``{age}``, ``{sex}``, ``{duration}``, ``{year}``, ``{value}``, ``{cm}``, ``{mm}``, ``{ml}``,
``{region}``. Instruments (ports, retractors, clamps, blades, scopes) and the steps of an operation
(incision, dissection, irrigation) are not concepts; the operation itself is ("the procedure").

The literal text avoids concept words (no "a" before a slot: the article belongs to the concept).
"""

from __future__ import annotations

# fmt: off
HISTORY: tuple[str, ...] = (
    "{He} is a {age}-year-old {sex} with a history of {disease} who presents with {symptom}.",
    "This is a {age}-year-old {sex} who presents with {duration} of {symptom}.",
    "The patient is a {age}-year-old {sex} referred for evaluation of {a_finding}.",
    "{He} has a long history of {disease} and {disease}.",
    "{He} reports {symptom} and {symptom} for the past {duration}.",
    "{poss_symptom} started {duration} ago.",
    "{He} was seen in the emergency room for {symptom} and was found to have {a_finding}.",
    "{He} underwent {a_procedure} in {year}.",
    "{He} was treated with {medication} for {disease}.",
    "{He} has been on {medication} for {duration} with some improvement.",
    "{He} complains of {symptom} associated with {symptom}.",
    "{He} was diagnosed with {disease} in {year}.",
    "{He} is status post {procedure} for {disease}.",
    "S/p {procedure} in {year}.",
    "Pt c/o {symptom} x {duration}.",
    "H/o {disease} and {disease}.",
    "{He} was started on {medication} by {his} primary care physician.",
    "{poss_symptom} has improved since starting {medication}.",
    "{He} was admitted with {disease} and treated with {treatment}.",
    "{He} presented with {symptom}, {symptom}, and {symptom}.",
    "{He} has had {a_finding} for {duration}.",
    "{He} had {a_study} in {year}, which showed {a_finding}.",
    "{He} used to take {medication} but stopped {duration} ago.",
    "{He} has tried {medication} and {medication} without relief.",
    "{poss_disease} is managed with {medication}.",
    "{He} was found to have {disease} on {a_imaging}.",
    "{He} notes {symptom} and occasional {symptom}.",
    "{He} was referred by {his} primary care physician for {finding}.",
)
NEGATED: tuple[str, ...] = (
    "{He} denies {symptom:absent}, {symptom:absent}, or {symptom:absent}.",
    "No {symptom:absent} or {symptom:absent}.",
    "{He} has no history of {disease:absent}.",
    "Negative for {symptom:absent}, {symptom:absent}, and {symptom:absent}.",
    "There is no evidence of {finding:absent}.",
    "{the_imaging} was negative for {finding:absent}.",
    "No {finding:absent} was seen.",
    "{He} denies any {symptom:absent}.",
    "Without {symptom:absent}.",
    "{the_imaging} showed no evidence of {finding:absent}.",
    "{He} has not had {symptom:absent} since {his} last visit.",
    "There was no {sign:absent} or {sign:absent}.",
    "{He} is not having any {symptom:absent}.",
    "{disease:absent} was ruled out.",
)
POSSIBLE: tuple[str, ...] = (
    "Possible {disease:possible}.",
    "This is most likely {disease:possible}.",
    "Findings are suspicious for {a_finding:possible}.",
    "{the_imaging} was ordered to rule out {disease:possible}.",
    "Differential diagnosis includes {disease:possible} and {disease:possible}.",
    "Rule out {disease:possible}.",
    "Questionable {finding:possible} on {the_imaging}.",
    "{poss_symptom} may be due to {disease:possible}.",
    "Concerning for {finding:possible}.",
    "Probable {disease:possible}.",
    "{symptom}, likely secondary to {disease:possible}.",
)
CONDITIONAL: tuple[str, ...] = (
    "{He} gets {symptom:conditional} with exertion.",
    "{He} reports {symptom:conditional} when {he} walks more than two blocks.",
    "{poss_symptom:conditional} is worse after meals.",
    "{He} develops {symptom:conditional} whenever {he} takes {medication}.",
    "{symptom:conditional} occurs only with prolonged standing.",
    "{He} notices {symptom:conditional} after drinking coffee.",
)
HYPOTHETICAL: tuple[str, ...] = (
    "{He} should return if {he} develops {symptom:hypothetical} or {symptom:hypothetical}.",
    "{He} was instructed to call for {symptom:hypothetical}, {symptom:hypothetical}, or {symptom:hypothetical}.",
    "Risks including {problem:hypothetical}, {problem:hypothetical}, and {problem:hypothetical} were discussed.",
    "The risks of {the_procedure} were explained, including {problem:hypothetical} and {problem:hypothetical}.",
    "The risks and benefits of {generic} were discussed, including {problem:hypothetical} and {problem:hypothetical}.",
    "If {symptom:hypothetical} recurs, {he} may need {a_procedure}.",
    "Watch for signs of {disease:hypothetical}.",
    "{He} is at risk for {disease:hypothetical}.",
    "Risks, including but not limited to {problem:hypothetical}, {problem:hypothetical}, and "
    "{problem:hypothetical}, were explained to the patient.",
    "Call the office for {symptom:hypothetical}.",
)
FAMILY: tuple[str, ...] = (
    "Family history is significant for {disease:family}.",
    "{His} mother has {disease:family}.",
    "{His} father died of {disease:family}.",
    "Positive for {disease:family} in {his} brother.",
    "There is a family history of {disease:family} and {disease:family}.",
    "Mother with {disease:family}, father with {disease:family}.",
    "{His} sister was recently diagnosed with {disease:family}.",
)
PLAN: tuple[str, ...] = (
    "{He} will be started on {medication}.",
    "Continue {medication} and {medication}.",
    "We will schedule {him} for {a_procedure}.",
    "Recommend {a_study} for further evaluation.",
    "Obtain {a_imaging} and {a_lab}.",
    "{He} will follow up in {duration} with {a_lab}.",
    "Prescription for {medication} was given.",
    "Discontinue {medication}.",
    "{He} was given {medication} in the office.",
    "Check {lab} and {lab} prior to {generic}.",
    "Options including {procedure} and {procedure} were discussed.",
    "{He} wishes to proceed with {a_procedure}.",
    "{He} understood and wanted to proceed with {generic}.",
    "Increase {medication} for better control of {poss_disease}.",
    "{He} will try {medication} instead of {medication}.",
    "Schedule {imaging} in {duration}.",
    "Refer to urology for {a_study}.",
    "Start {medication} for {disease}.",
)
FINDINGS: tuple[str, ...] = (
    "{the_imaging} revealed {a_finding}.",
    "{lab} was {value}.",
    "{the_study} showed {a_finding}.",
    "{the_imaging} was unremarkable.",
    "{lab} was within normal limits.",
    "{a_imaging} demonstrated {a_finding} and {finding}.",
    "{the_study} was performed, which revealed {finding}.",
    "{the_imaging} showed {a_finding}.",
    "{imaging} confirmed {a_finding}.",
    "{poss_lab} was {value}.",
    "{lab} and {lab} were normal.",
)
OPERATIVE: tuple[str, ...] = (
    "The patient was taken to the operating room and placed in the supine position.",
    "{anesthesia} was induced without difficulty.",
    "The {region} was prepped and draped in the usual sterile fashion.",
    "{medication} was injected into the skin.",
    "A {cm} incision was made over the {region}.",
    "{a_procedure} was then performed.",
    "{the_procedure} was performed without complication.",
    "{a_finding} was identified.",
    "Findings were consistent with {a_finding}.",
    "The wound was closed with {suture}.",
    "{a_device} was placed at the end of the case.",
    "The patient received {medication} preoperatively.",
    "The patient tolerated {generic} well and was taken to the recovery room in stable condition.",
    "{He} tolerated {generic} without difficulty.",
    "A {mm} port was placed under direct vision.", "Retractors were placed for exposure.", "The clamps were released.",
    "Dissection was carried down to the fascia.", "The wound was irrigated.", "A 15 blade was used to incise the skin.",
    "The scope was advanced into the {region}.", "Electrocautery was used for hemostasis.",
    "Sponge and needle counts were correct.",
    "The specimen was sent to pathology.",
    "Hemostasis was obtained.",
    "The {region} was inspected and {finding} was noted.",
    "{the_study} showed {finding}.",
    "{He} was given {medication} prior to the incision.",
    "The patient was awakened and extubated in the operating room.",
)
# Sentences without a concept: what fills a note between its concepts.
PLAIN: tuple[str, ...] = (
    "The patient was seen and examined.", "All questions were answered.", "The patient agrees with the plan.",
    "{He} lives at home with {his} wife.", "{He} is married and works as a teacher.", "{He} does not smoke.",
    "{He} drinks alcohol socially.", "Alert and oriented times three.", "No acute distress.",
    "Lungs are clear to auscultation bilaterally.", "Regular rate and rhythm.", "Abdomen is soft.",
    "The consent was signed.", "Discharge planning is underway.", "{He} is doing well today.",
    "Return to clinic in {duration}.", "{He} is ambulating well.",
    "Code status is full code.", "Informed consent was obtained.",
)
# Exam subheadings and what follows them (concept slots as above; fillers only).
EXAM_LINES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HEENT", ("Normocephalic, atraumatic.", "Pupils equal and reactive.", "No {sign:absent}.")),
    ("Neck", ("Supple, no {sign:absent}.", "Supple without {sign:absent}.", "No {sign:absent} or {sign:absent}.")),
    ("Lungs", ("Clear to auscultation.", "Clear.", "{sign} at the bases.", "No {sign:absent} or {sign:absent}.")),
    ("Heart", ("Regular rate and rhythm, no {sign:absent}.", "Regular rate and rhythm.", "{sign} noted.")),
    ("Abdomen", ("Soft, nontender, no {sign:absent}.", "Soft with {symptom}.", "Obese, no {sign:absent}.")),
    ("Extremities", ("No {sign:absent}, {sign:absent}, or {sign:absent}.", "{finding} noted.",
                     "Warm and well perfused.")),
    ("GU", ("Normal circumcised phallus.", "{finding} is noted.", "Testes descended bilaterally, no {sign:absent}.")),
    ("Back", ("No {sign:absent}.", "{symptom} on palpation.")),
    ("Neurologic", ("Grossly intact.", "No {sign:absent}.")),
    ("Skin", ("Warm and dry.", "{finding} is present.", "No {finding:absent}.")),
)
FREQUENCIES = ("daily", "once a day", "twice a day", "b.i.d.", "t.i.d.", "q.i.d.", "q.h.s.", "p.r.n.", "q.4h. p.r.n.",
               "at bedtime", "every morning", "as needed", "q.d.", "every 6 hours as needed")
ROUTES = ("p.o.", "PO", "by mouth", "IV", "subcutaneously", "topically", "")
DOSES = ("5 mg", "10 mg", "20 mg", "25 mg", "40 mg", "50 mg", "81 mg", "100 mg", "250 mg", "325 mg", "500 mg",
         "1 g", "0.4 mg", "2.5 mg", "1 tablet", "2 tablets", "10 units", "75 mcg", "20 mEq")
REGIONS = ("abdomen", "scrotum", "penis", "perineum", "lower abdomen", "right lower quadrant", "groin", "left flank",
           "right flank", "knee", "back", "chest", "neck", "umbilicus", "inguinal canal")
DURATIONS = ("2 days", "3 days", "one week", "2 weeks", "several months", "24 hours", "6 weeks", "1 month",
             "3 months", "a year", "several years", "two years")
SEXES = {"he": ("male", "man", "gentleman", "white male", "boy"), "she": ("female", "woman", "lady", "white female")}
# Vital signs: a name (a test), its value pattern (# a digit, @ a digit from 5 to 9) and its usual unit.
VITALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("blood pressure", "BP"), "1##/@#"), (("pulse", "heart rate", "HR"), "@#"),
    (("respirations", "respiratory rate", "RR"), "1@"),
    (("temperature", "temp"), "9@.#"), (("oxygen saturation", "O2 sat", "SpO2"), "9@%"), (("weight",), "1## pounds"),
)
# fmt: on
