"""Vocabulary and sentence patterns for the synthetic demo corpus (see ``demo_corpus``).

Everything here was written by hand for this project; it is not drawn from any real note or
licensed terminology. Terms are bare concept text: no surrounding whitespace or punctuation, and
no string appears under two labels. Patterns use ``{problem}``, ``{test}``, ``{treatment}``,
``{medication}`` and ``{procedure}`` (both treatments) for concept slots and ``{age}``, ``{sex}``,
``{duration}``, ``{year}`` for unlabelled fillers;
their literal text deliberately avoids words that are themselves terms, so that the unlabelled
text never contains a concept the labels miss.
"""

from __future__ import annotations

# The lists stay packed, several entries a line, to keep this data module short.
# fmt: off
PROBLEMS: tuple[str, ...] = (
    "chest pain", "shortness of breath", "dyspnea on exertion", "type 2 diabetes mellitus", "DM2",
    "hypertension", "HTN", "hyperlipidemia", "congestive heart failure", "CHF", "atrial fibrillation",
    "AFib", "coronary artery disease", "CAD", "myocardial infarction", "NSTEMI", "COPD exacerbation",
    "chronic obstructive pulmonary disease", "asthma", "pneumonia", "community-acquired pneumonia",
    "urinary tract infection", "UTI", "acute kidney injury", "AKI", "chronic kidney disease", "CKD",
    "anemia", "iron deficiency anemia", "GI bleed", "upper GI bleeding", "melena", "hematochezia",
    "abdominal pain", "nausea", "vomiting", "diarrhea", "constipation", "fever", "chills",
    "headache", "dizziness", "syncope", "palpitations", "lower extremity edema", "bilateral leg swelling",
    "deep vein thrombosis", "DVT", "pulmonary embolism", "PE", "stroke", "TIA", "seizure",
    "altered mental status", "confusion", "sepsis", "cellulitis", "hypothyroidism", "hypokalemia",
    "hyponatremia", "hyperglycemia", "obesity", "obstructive sleep apnea", "OSA", "depression",
    "anxiety", "back pain", "osteoarthritis", "gout", "rash", "cough", "productive cough",
    "wheezing", "fatigue", "weight loss", "pleural effusion", "a small pericardial effusion",
    "cardiomegaly", "a right lower lobe infiltrate", "elevated troponin", "left ventricular hypertrophy",
    "cirrhosis", "ascites", "pancreatitis", "cholecystitis", "hematuria", "dysuria", "tachycardia",
    "bradycardia", "hypotension", "a reduced ejection fraction", "Crohn's disease", "GERD",
)

TESTS: tuple[str, ...] = (
    "CBC", "complete blood count", "BMP", "basic metabolic panel", "CMP", "chest x-ray", "CXR",
    "troponin", "serial troponins", "hemoglobin A1c", "HbA1c", "MRI of the brain", "head CT",
    "CT of the chest", "CT angiogram", "CT abdomen and pelvis", "EKG", "ECG", "echocardiogram",
    "transthoracic echo", "TTE", "stress test", "cardiac catheterization", "urinalysis", "UA",
    "urine culture", "blood cultures", "lipid panel", "TSH", "liver function tests", "LFTs",
    "INR", "PT/INR", "BNP", "D-dimer", "lactate", "arterial blood gas", "ABG", "renal ultrasound",
    "abdominal ultrasound", "lower extremity dopplers", "colonoscopy", "EGD", "EEG", "lumbar puncture",
    "pulmonary function tests", "PFTs", "telemetry", "physical examination", "serum potassium",
    "creatinine", "hemoglobin", "WBC count", "platelet count", "sodium", "glucose", "lipase",
)

# Treatments split by kind, so that "underwent {procedure}" and "increase {medication}" read sensibly.
MEDICATION_TERMS: tuple[str, ...] = (
    "aspirin", "aspirin 81 mg", "metoprolol", "metoprolol tartrate 25 mg", "lisinopril", "furosemide",
    "Lasix", "IV Lasix", "insulin glargine", "Lantus", "sliding scale insulin", "metformin",
    "atorvastatin", "simvastatin", "heparin", "heparin drip", "enoxaparin", "Lovenox", "warfarin",
    "Coumadin", "apixaban", "clopidogrel", "Plavix", "nitroglycerin", "sublingual nitroglycerin",
    "morphine", "acetaminophen", "Tylenol", "ibuprofen", "ceftriaxone", "azithromycin",
    "vancomycin", "piperacillin-tazobactam", "levofloxacin", "prednisone", "albuterol nebulizers",
    "DuoNebs", "supplemental oxygen", "IV fluids", "normal saline", "potassium chloride",
    "levothyroxine", "pantoprazole", "omeprazole", "ondansetron", "Zofran", "lorazepam", "amlodipine",
    "hydrochlorothiazide", "gabapentin", "sertraline",
)
PROCEDURES: tuple[str, ...] = (
    "coronary artery bypass graft", "CABG", "percutaneous coronary intervention", "PCI",
    "cardiac stent placement", "cholecystectomy", "appendectomy", "hemodialysis", "packed red blood cells",
    "a blood transfusion", "physical therapy", "intubation", "BiPAP", "thoracentesis", "paracentesis",
    "electrical cardioversion", "total knee replacement", "chemotherapy", "radiation therapy",
)
TREATMENTS: tuple[str, ...] = MEDICATION_TERMS + PROCEDURES

# Medications for list items: name and its usual doses; the concept covers "name dose".
MEDICATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Lisinopril", ("5 mg", "10 mg", "20 mg", "40 mg")),
    ("Metoprolol succinate", ("25 mg", "50 mg", "100 mg")),
    ("Aspirin", ("81 mg", "325 mg")),
    ("Atorvastatin", ("10 mg", "20 mg", "40 mg", "80 mg")),
    ("Metformin", ("500 mg", "850 mg", "1000 mg")),
    ("Insulin glargine", ("10 units", "20 units", "32 units")),
    ("Furosemide", ("20 mg", "40 mg", "80 mg")),
    ("Amlodipine", ("2.5 mg", "5 mg", "10 mg")),
    ("Levothyroxine", ("50 mcg", "75 mcg", "112 mcg")),
    ("Pantoprazole", ("20 mg", "40 mg")),
    ("Warfarin", ("2 mg", "5 mg", "7.5 mg")),
    ("Apixaban", ("2.5 mg", "5 mg")),
    ("Clopidogrel", ("75 mg",)),
    ("Gabapentin", ("100 mg", "300 mg", "600 mg")),
    ("Sertraline", ("25 mg", "50 mg", "100 mg")),
    ("Hydrochlorothiazide", ("12.5 mg", "25 mg")),
    ("Prednisone", ("5 mg", "10 mg", "40 mg")),
    ("Albuterol inhaler", ("2 puffs",)),
    ("Tamsulosin", ("0.4 mg",)),
    ("Allopurinol", ("100 mg", "300 mg")),
    ("Acetaminophen", ("500 mg", "650 mg", "1 g")),
    ("Potassium chloride", ("10 mEq", "20 mEq", "40 mEq")),
    ("Carvedilol", ("3.125 mg", "6.25 mg", "12.5 mg", "25 mg")),
    ("Spironolactone", ("25 mg", "50 mg")),
)
FREQUENCIES: tuple[str, ...] = (
    "daily", "once daily", "twice daily", "three times daily", "at bedtime", "every morning",
    "every 6 hours as needed", "as needed", "PO daily", "PO BID", "by mouth daily", "q.d.", "b.i.d.",
    "q.h.s.", "with meals", "subcutaneously at bedtime", "weekly",
)

# Labs with a value: name (a test), unit, low, high and decimals of the drawn value.
LAB_VALUES: tuple[tuple[str, str, float, float, int], ...] = (
    ("Troponin", "ng/mL", 0.01, 2.5, 2), ("Hemoglobin", "g/dL", 6.8, 16.5, 1), ("WBC", "K/uL", 2.8, 19.0, 1),
    ("Sodium", "mmol/L", 124, 149, 0), ("Potassium", "mmol/L", 2.9, 6.1, 1), ("Creatinine", "mg/dL", 0.5, 4.2, 1),
    ("BUN", "mg/dL", 6, 72, 0), ("Glucose", "mg/dL", 58, 412, 0), ("Hemoglobin A1c", "%", 4.9, 13.2, 1),
    ("INR", "", 0.9, 4.1, 1), ("Platelets", "K/uL", 45, 480, 0), ("BNP", "pg/mL", 20, 2400, 0),
    ("TSH", "mIU/L", 0.1, 11.0, 2), ("Lactate", "mmol/L", 0.6, 6.3, 1), ("ALT", "U/L", 8, 240, 0),
    ("AST", "U/L", 10, 310, 0), ("LDL", "mg/dL", 45, 210, 0), ("Magnesium", "mg/dL", 1.2, 2.8, 1),
    ("Lipase", "U/L", 12, 1900, 0), ("Bicarbonate", "mmol/L", 14, 32, 0),
)
# How a lab line joins name and value, and how it ends: "Troponin 0.04 ng/mL.", "Sodium: 138 mmol/L".
LAB_FORMATS: tuple[tuple[str, str], ...] = ((" ", "."), (": ", ""), (" ", ""), (" ", "."), (" of ", "."))

# Vital signs: the names of one sign (each a test) and its value pattern, where ``#`` marks a random
# digit and ``@`` a random digit from 5 to 9.
VITALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("BP", "blood pressure"), "1##/@#"), (("HR", "heart rate", "pulse"), "@#"), (("RR", "respiratory rate"), "1@"),
    (("temperature", "temp", "Tmax"), "9@.# F"), (("SpO2", "O2 sat", "oxygen saturation"), "9@%"),
    (("weight",), "##.# kg"),
)

HISTORY_PATTERNS: tuple[str, ...] = (
    "Patient presents with {problem}.",
    "{age}-year-old {sex} with a history of {problem} and {problem} presenting with {problem}.",
    "The patient reports {duration} of {problem}.",
    "The patient was admitted for {problem}.",
    "History is significant for {problem}, {problem}, and {problem}.",
    "Complains of {problem} associated with {problem}.",
    "S/p {procedure} in {year}.",
    "Status post {procedure} in {year} for {problem}.",
    "Given {treatment} in the emergency department with relief of {problem}.",
    "Pt received {medication} and {medication} overnight.",
    "{problem} resolved after {treatment}.",
    "Family history of {problem}.",
    "Symptoms consistent with {problem}.",
    "Likely {problem} secondary to {problem}.",
    "Tolerated {medication} well.",
    "{problem}, improved on {treatment}.",
    "She has a long history of {problem} treated with {treatment}.",
    "He was recently hospitalized with {problem} and discharged on {medication}.",
    "Onset of {problem} {duration} ago, worse with activity.",
    "Presented to the ED with {problem} and {problem}.",
)
NEGATION_PATTERNS: tuple[str, ...] = (
    "Denies {problem} or {problem}.",
    "Denies {problem}, {problem}, or {problem}.",
    "No evidence of {problem} on {test}.",
    "Negative for {problem}, {problem}, or {problem}.",
    "No {problem}.",
    "There is no history of {problem}.",
    "{test} was negative for {problem}.",
    "Patient denies any {problem}.",
    "No signs of {problem}.",
    "Without {problem} or {problem}.",
)
FINDING_PATTERNS: tuple[str, ...] = (
    "{test} was ordered to rule out {problem}.",
    "{test} revealed {problem}.",
    "{test} showed {problem}.",
    "Patient was found to have {problem} on {test}.",
    "{test} is within normal limits.",
    "{test} was unremarkable.",
    "Possible {problem}, {test} pending.",
    "{test} and {test} were obtained on arrival.",
    "{test} demonstrated {problem} and {problem}.",
    "Repeat {test} showed interval improvement.",
)
PLAN_PATTERNS: tuple[str, ...] = (
    "Started on {treatment} for {problem}.",
    "Continue {treatment} for {problem}.",
    "Discontinue {medication} given {problem}.",
    "Consider {treatment} if {problem} persists.",
    "Repeat {test} in {duration}.",
    "Will check {test} and {test} in the morning.",
    "The patient is not a candidate for {treatment} due to {problem}.",
    "Follow up {test} results with primary care.",
    "Recommend {treatment} and outpatient {test}.",
    "Held {medication} because of {problem}.",
    "Cardiology was consulted for {problem}.",
    "Obtain {test} to evaluate for {problem}.",
    "Increase {medication} for better control of {problem}.",
    "{problem} was managed with {treatment}.",
    "Patient underwent {procedure} without complications.",
    "Switch {medication} to {medication}.",
    "Monitor {test} while on {medication}.",
    "Plan for {treatment} once {problem} improves.",
)
PLAIN_SENTENCES: tuple[str, ...] = (
    "Will continue to monitor.", "Discussed with the patient and family.", "Patient agrees with the plan.",
    "Lives at home with spouse.", "Ambulating independently.", "Tolerating a regular diet.",
    "Seen and examined at bedside.", "Code status: full code.", "Return to clinic in two weeks.",
    "All questions were answered.", "Abdomen soft, nondistended.", "Alert and oriented times three.",
    "Nonsmoker, drinks alcohol socially.", "Patient is comfortable this morning.",
    "Discharge planning is underway.", "No acute distress.",
)
ALLERGY_LINES: tuple[str, ...] = ("NKDA.", "No known drug allergies.", "Reviewed, none known.")

# Section headers and the kind of content each holds.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("CHIEF COMPLAINT:", "complaint"),
    ("HISTORY OF PRESENT ILLNESS:", "history"),
    ("HPI:", "history"),
    ("PAST MEDICAL HISTORY:", "problem_list"),
    ("PMH:", "problem_list"),
    ("MEDICATIONS:", "medications"),
    ("HOME MEDICATIONS:", "medications"),
    ("ALLERGIES:", "allergies"),
    ("VITALS:", "vitals"),
    ("LABORATORY DATA:", "labs"),
    ("IMAGING:", "findings"),
    ("HOSPITAL COURSE:", "course"),
    ("ASSESSMENT AND PLAN:", "plan"),
    ("DISCHARGE MEDICATIONS:", "medications"),
)
SEXES: tuple[str, ...] = ("male", "female", "man", "woman", "M", "F")
DURATIONS: tuple[str, ...] = (
    "2 days", "3 days", "one week", "2 weeks", "several months", "24 hours", "6 weeks", "1 month",
)
# fmt: on
