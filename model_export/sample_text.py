"""Built-in clinical text for export verification when no evaluation corpus is given.

Written for this project (no patient data): varied layout on purpose (headers, lists, long lines,
abbreviations, non-ASCII) so parity is checked on the shapes real notes have.
"""

SAMPLE_NOTES = (
    "HISTORY OF PRESENT ILLNESS: The patient is a 67-year-old man with a history of hypertension, type 2 "
    "diabetes mellitus and chronic kidney disease who presents with three days of worsening shortness of breath "
    "and bilateral leg swelling. He denies chest pain, fever or cough.\n"
    "MEDICATIONS:\n1. Metoprolol succinate 50 mg daily.\n2. Lisinopril 20 mg daily.\n3. Insulin glargine 20 units "
    "at bedtime.\n"
    "LABS: Troponin 0.03 ng/mL. BNP 1,250 pg/mL. Creatinine 1.9 mg/dL. Hemoglobin A1c 8.1%.\n"
    "ASSESSMENT AND PLAN: Acute decompensated heart failure, likely precipitated by dietary indiscretion. Start IV "
    "furosemide, obtain a transthoracic echocardiogram and a chest x-ray, and monitor electrolytes daily.",
    "Chief complaint: headache and blurred vision for 2 days.\r\nCT of the head without contrast showed no acute "
    "intracranial hemorrhage. MRI of the brain was ordered to rule out a mass. Blood pressure 182/104 mmHg on "
    "arrival; labetalol 20 mg IV was given with improvement. Patient reports nausea but no vomiting.",
    "Post-operative day 1 s/p laparoscopic cholecystectomy for acute cholecystitis. Pain controlled with "
    "oxycodone 5 mg PO q4h PRN. WBC 11.2, afebrile. Tolerating clear liquids. Plan: advance diet, ambulate, "
    "discharge tomorrow if stable. Follow-up with Dr. Müller in 2 weeks — call if fever > 38.5 °C.",
    "Pt w/ h/o COPD, CHF (EF 35%), AFib on apixaban. Presented with productive cough + fever; CXR: RLL "
    "consolidation c/w community-acquired pneumonia. Started ceftriaxone and azithromycin. Sputum culture and "
    "blood cultures pending. Will continue home inhalers (tiotropium, albuterol PRN).",
)
