"""Hand-written building blocks of the demo corpus's vocabulary (``demo_vocabulary`` combines them).

Everything here was written for this project from general clinical knowledge; nothing is copied from
a terminology, another project or a real note. Entries are bare text: no surrounding whitespace or
punctuation. ``demo_vocabulary`` turns the blocks into thousands of problems, tests and treatments
(modifiers x conditions, laterality x sites x findings, modalities x body sites, approaches x
procedures), so the demo model learns the shape of concepts rather than a short list of strings.
"""

from __future__ import annotations

# The lists stay packed, several entries a line, to keep this data module short.
# fmt: off

# --- problems -------------------------------------------------------------------------------------
CHRONIC_CONDITIONS: tuple[str, ...] = (
    "hypertension", "diabetes mellitus", "type 2 diabetes mellitus", "type 1 diabetes", "hyperlipidemia",
    "hypercholesterolemia", "coronary artery disease", "congestive heart failure", "atrial fibrillation",
    "chronic obstructive pulmonary disease", "asthma", "hypothyroidism", "hyperthyroidism",
    "chronic kidney disease", "gastroesophageal reflux disease", "osteoarthritis", "rheumatoid arthritis",
    "osteoporosis", "depression", "anxiety", "bipolar disorder", "dementia", "Parkinson disease",
    "seizure disorder", "migraine headaches", "obstructive sleep apnea", "morbid obesity", "obesity",
    "peripheral vascular disease", "peripheral neuropathy", "anemia", "iron deficiency anemia",
    "benign prostatic hyperplasia", "erectile dysfunction", "overactive bladder", "urinary incontinence",
    "stress urinary incontinence", "interstitial cystitis", "chronic prostatitis", "hepatitis C", "cirrhosis",
    "gout", "psoriasis", "glaucoma", "hypogonadism", "Crohn disease", "ulcerative colitis",
    "irritable bowel syndrome", "diverticulosis", "degenerative disc disease", "spinal stenosis",
    "lumbar radiculopathy", "neurogenic bladder", "allergic rhinitis", "sleep apnea", "heart murmur",
    "aortic stenosis", "mitral regurgitation", "cardiomyopathy", "renal insufficiency", "nocturnal enuresis",
)
ACUTE_CONDITIONS: tuple[str, ...] = (
    "pneumonia", "community-acquired pneumonia", "aspiration pneumonia", "urinary tract infection",
    "pyelonephritis", "cystitis", "prostatitis", "epididymitis", "orchitis", "cellulitis", "sepsis",
    "bacteremia", "appendicitis", "cholecystitis", "pancreatitis", "diverticulitis", "bowel obstruction",
    "small bowel obstruction", "ileus", "gastroenteritis", "colitis", "bronchitis", "sinusitis", "pharyngitis",
    "influenza", "dehydration", "acute kidney injury", "renal failure", "urinary retention",
    "hematuria", "gross hematuria", "microscopic hematuria", "kidney stone", "nephrolithiasis",
    "ureteral stone", "ureteral calculus", "renal colic", "hydronephrosis", "testicular torsion", "hydrocele",
    "varicocele", "spermatocele", "phimosis", "paraphimosis", "inguinal hernia", "umbilical hernia",
    "incisional hernia", "ventral hernia", "hiatal hernia", "gallstones", "cholelithiasis",
    "choledocholithiasis", "GI bleeding", "upper GI bleed", "pulmonary embolism", "deep venous thrombosis",
    "myocardial infarction", "stroke", "transient ischemic attack", "syncope", "seizure", "delirium",
    "hypotension", "hypokalemia", "hyponatremia", "hyperkalemia", "hypoglycemia", "hyperglycemia",
    "diabetic ketoacidosis", "pleural effusion", "pneumothorax", "atelectasis", "pulmonary edema",
    "respiratory failure", "wound infection", "wound dehiscence", "postoperative ileus", "urethral stricture",
    "bladder outlet obstruction", "meatal stenosis", "undescended testicle", "bladder stone", "infection",
)
ABBREVIATED_PROBLEMS: tuple[str, ...] = (
    "HTN", "DM", "DM2", "CAD", "CHF", "COPD", "BPH", "UTI", "GERD", "CKD", "AFib", "DVT", "PE", "OSA", "MI",
    "CVA", "TIA", "AKI", "SBO", "DJD", "IBS", "LUTS", "CHF exacerbation", "COPD exacerbation",
)
CHRONIC_MODIFIERS = ("poorly controlled", "uncontrolled", "well-controlled", "long-standing", "stable", "severe")
ACUTE_MODIFIERS = ("acute", "severe", "mild", "recurrent", "complicated", "worsening", "early")
# Organs that tumours arise in: (noun, adjective, paired); paired organs take a side.
TUMOUR_ORGANS: tuple[tuple[str, str, bool], ...] = (
    ("prostate", "prostate", False), ("bladder", "bladder", False), ("kidney", "renal", True),
    ("breast", "breast", True), ("colon", "colon", False), ("lung", "lung", True),
    ("testis", "testicular", True), ("pancreas", "pancreatic", False), ("ovary", "ovarian", True),
    ("thyroid", "thyroid", False), ("rectum", "rectal", False), ("stomach", "gastric", False),
    ("liver", "liver", False), ("adrenal gland", "adrenal", True), ("urethra", "urethral", False),
)
TUMOUR_NOUNS = ("cancer", "carcinoma", "mass", "tumor", "lesion", "nodule", "cyst")
TUMOUR_MODIFIERS = ("metastatic", "recurrent", "localized", "high-grade", "low-grade", "invasive", "small", "large")
SYMPTOMS: tuple[str, ...] = (
    "nausea", "vomiting", "diarrhea", "constipation", "fever", "fevers", "chills", "night sweats", "fatigue",
    "malaise", "weakness", "dizziness", "headache", "headaches", "cough", "shortness of breath", "dyspnea",
    "dyspnea on exertion", "wheezing", "palpitations", "chest pain", "abdominal pain", "dysuria",
    "urinary frequency", "urinary urgency", "nocturia", "hesitancy", "weak urinary stream",
    "incomplete bladder emptying", "straining to void", "postvoid dribbling", "urge incontinence",
    "weight gain", "poor appetite", "insomnia", "edema", "leg swelling", "rash", "itching",
    "numbness", "tingling", "blurred vision", "sore throat", "nasal congestion", "jaundice", "bleeding",
    "bruising", "hemoptysis", "melena", "hematochezia", "lightheadedness", "confusion", "tenderness",
    "swelling", "pain", "discomfort", "drainage", "erythema", "urinary leakage", "decreased force of stream",
)
SYMPTOM_MODIFIERS = ("severe", "mild", "intermittent", "persistent", "worsening", "new-onset", "chronic",
                     "occasional", "progressive", "significant")
# Regions that take "pain" (and "tenderness"): "left flank pain", "suprapubic tenderness".
PAIN_REGIONS: tuple[tuple[str, bool], ...] = (
    ("flank", True), ("lower quadrant", True), ("upper quadrant", True), ("groin", True), ("shoulder", True),
    ("knee", True), ("hip", True), ("ankle", True), ("wrist", True), ("elbow", True), ("neck", False),
    ("lower back", False), ("low back", False), ("upper back", False), ("chest wall", True), ("testicular", True),
    ("scrotal", True), ("pelvic", False), ("epigastric", False), ("suprapubic", False), ("periumbilical", False),
    ("perineal", False), ("penile", False), ("rectal", False), ("calf", True), ("heel", True), ("arm", True),
)
PAIN_NOUNS = ("pain", "tenderness", "discomfort")
# Body sites of injuries and skin findings: (site, takes a side).
SURFACE_SITES: tuple[tuple[str, bool], ...] = (
    ("forearm", True), ("hand", True), ("index finger", True), ("thumb", True), ("wrist", True), ("elbow", True),
    ("upper arm", True), ("shoulder", True), ("scalp", False), ("forehead", False), ("face", False),
    ("chin", False), ("lip", False), ("neck", False), ("chest wall", True), ("back", False), ("flank", True),
    ("buttock", True), ("thigh", True), ("knee", True), ("lower leg", True), ("shin", True), ("ankle", True),
    ("foot", True), ("great toe", True), ("heel", True), ("abdominal wall", False), ("groin", True),
    ("scrotum", False), ("penis", False), ("perineum", False), ("eyelid", True), ("ear", True),
)
SURFACE_FINDINGS = ("laceration", "abrasion", "contusion", "abscess", "cellulitis", "cyst", "sebaceous cyst",
                    "lipoma", "mass", "lesion", "ulcer", "wound", "hematoma", "swelling", "rash", "burn")
BONES: tuple[tuple[str, bool], ...] = (
    ("distal radius", True), ("femoral neck", True), ("tibia", True), ("fibula", True), ("humerus", True),
    ("clavicle", True), ("fifth metatarsal", True), ("ankle", True), ("wrist", True), ("hip", True),
    ("pelvis", False), ("rib", True), ("nasal bone", False), ("lumbar spine", False), ("scaphoid", True),
)
FRACTURES = ("fracture", "displaced fracture", "nondisplaced fracture", "comminuted fracture", "stress fracture")
JOINTS = ("knee", "hip", "shoulder", "ankle", "elbow", "wrist")
JOINT_FINDINGS = ("osteoarthritis", "effusion", "degenerative joint disease", "instability", "stiffness",
                  "meniscal tear", "rotator cuff tear", "sprain", "arthritis")
SIDES = ("left", "right", "bilateral")
# Signs an examiner looks for, mostly written as absent ("no murmurs, rubs, or gallops").
EXAM_SIGNS: tuple[str, ...] = (
    "murmurs", "murmur", "rubs", "gallops", "clubbing", "cyanosis", "masses", "hepatosplenomegaly",
    "lymphadenopathy", "adenopathy", "rebound", "guarding", "CVA tenderness", "costovertebral angle tenderness",
    "thyromegaly", "JVD", "jugular venous distention", "crackles", "rales", "rhonchi", "wheezes", "induration",
    "fluctuance", "exudate", "hernias", "organomegaly", "focal deficits", "pedal edema", "calf tenderness",
    "distention", "nystagmus", "meningismus", "tremor", "scleral icterus", "hydroceles", "penile lesions",
)

# --- tests ----------------------------------------------------------------------------------------
# Imaging: (modality as written before a site adjective, as written before "of the SITE").
MODALITIES: tuple[tuple[str, str], ...] = (
    ("x-ray", "x-ray"), ("x-rays", "x-rays"), ("films", "plain films"), ("CT", "CT"), ("CT scan", "CT scan"),
    ("CT with contrast", "CT scan with contrast"), ("noncontrast CT", "noncontrast CT"), ("MRI", "MRI"),
    ("MRI scan", "MRI with and without contrast"), ("ultrasound", "ultrasound"), ("sonogram", "sonogram"),
    ("Doppler ultrasound", "Doppler ultrasound"), ("CT angiogram", "CT angiogram"), ("bone scan", "bone scan"),
    ("PET scan", "PET scan"), ("imaging", "imaging"), ("radiograph", "radiographs"),
)
# Imaging sites: (adjective before a modality or "", site after "of the", takes a side).
IMAGING_SITES: tuple[tuple[str, str, bool], ...] = (
    ("chest", "chest", False), ("abdominal", "abdomen", False), ("pelvic", "pelvis", False),
    ("", "abdomen and pelvis", False), ("head", "head", False), ("brain", "brain", False), ("neck", "neck", False),
    ("cervical spine", "cervical spine", False), ("lumbar spine", "lumbar spine", False),
    ("thoracic spine", "thoracic spine", False), ("knee", "knee", True), ("hip", "hip", True),
    ("shoulder", "shoulder", True), ("ankle", "ankle", True), ("wrist", "wrist", True), ("hand", "hand", True),
    ("foot", "foot", True), ("renal", "kidneys", False), ("bladder", "bladder", False),
    ("scrotal", "scrotum", False), ("testicular", "testes", False), ("prostate", "prostate", False),
    ("", "liver", False), ("gallbladder", "gallbladder", False),
    ("right upper quadrant", "right upper quadrant", False),
    ("thyroid", "thyroid", False), ("carotid", "carotid arteries", False), ("sinus", "sinuses", False),
    ("", "kidneys, ureters, and bladder", False), ("retroperitoneal", "retroperitoneum", False),
)
LABS: tuple[str, ...] = (
    "CBC", "complete blood count", "BMP", "basic metabolic panel", "CMP", "comprehensive metabolic panel",
    "hemoglobin", "hematocrit", "white blood cell count", "WBC", "white count", "platelet count", "platelets",
    "sodium", "potassium", "chloride", "bicarbonate", "BUN", "creatinine", "glucose", "blood sugar",
    "fasting blood sugar", "calcium", "magnesium", "phosphorus", "albumin", "bilirubin", "alkaline phosphatase",
    "AST", "ALT", "liver function tests", "LFTs", "lipase", "amylase", "troponin", "troponins", "CK", "BNP",
    "D-dimer", "INR", "PTT", "coagulation studies", "TSH", "free T4", "hemoglobin A1c", "HbA1c",
    "lipid panel", "LDL", "HDL", "triglycerides", "cholesterol", "PSA", "free PSA", "testosterone level", "ESR",
    "sedimentation rate", "CRP", "C-reactive protein", "lactate", "lactic acid", "ferritin", "iron studies",
    "vitamin D level", "urinalysis", "UA", "urine dipstick", "urine culture", "urine cytology", "blood cultures",
    "wound culture", "sputum culture", "stool studies", "arterial blood gas", "ABG", "type and screen",
    "type and crossmatch", "pregnancy test", "urine pregnancy test", "drug screen", "semen analysis", "GFR",
    "serum creatinine", "serum potassium", "urine output", "electrolytes", "cardiac enzymes", "blood count",
)
LAB_QUALIFIERS = ("repeat", "follow-up", "preoperative", "serial", "baseline", "routine")
DIAGNOSTIC_PROCEDURES: tuple[str, ...] = (
    "cystoscopy", "flexible cystoscopy", "rigid cystoscopy", "office cystoscopy", "cystourethroscopy",
    "colonoscopy", "upper endoscopy", "EGD", "sigmoidoscopy", "bronchoscopy", "prostate biopsy",
    "transrectal ultrasound-guided prostate biopsy", "TRUS biopsy", "renal biopsy", "bone marrow biopsy",
    "skin biopsy", "needle biopsy", "urodynamic studies", "urodynamics", "uroflowmetry", "postvoid residual",
    "PVR", "retrograde pyelogram", "voiding cystourethrogram", "VCUG", "intravenous pyelogram", "IVP", "EKG",
    "ECG", "electrocardiogram", "echocardiogram", "2-D echocardiogram", "transthoracic echocardiogram",
    "stress test", "cardiac catheterization", "Holter monitor", "EEG", "EMG", "nerve conduction studies",
    "pulmonary function tests", "sleep study", "mammogram", "Pap smear", "DEXA scan", "frozen section",
    "cystogram", "KUB", "renal scan", "CT urogram", "MRCP", "HIDA scan", "angiogram", "arteriogram",
)
EXAMS: tuple[str, ...] = (
    "physical examination", "physical exam", "examination", "rectal examination", "rectal exam",
    "digital rectal examination", "DRE", "pelvic examination", "genitourinary examination", "GU exam",
    "neurologic examination", "neurological exam", "abdominal exam", "testicular exam", "vital signs",
    "blood pressure", "heart rate", "pulse", "respiratory rate", "respirations", "temperature",
    "oxygen saturation", "O2 saturation", "weight", "BMI", "height", "pulse oximetry", "BP", "HR", "RR", "temp",
    "O2 sat", "SpO2",
)

# --- treatments -----------------------------------------------------------------------------------
MEDICATIONS: tuple[str, ...] = (
    "lisinopril", "losartan", "amlodipine", "metoprolol", "carvedilol", "atenolol", "hydrochlorothiazide",
    "furosemide", "spironolactone", "atorvastatin", "simvastatin", "pravastatin", "rosuvastatin", "aspirin",
    "baby aspirin", "clopidogrel", "warfarin", "apixaban", "rivaroxaban", "heparin", "enoxaparin", "metformin",
    "glipizide", "glyburide", "insulin glargine", "insulin lispro", "insulin", "sitagliptin", "levothyroxine",
    "omeprazole", "pantoprazole", "famotidine", "ondansetron", "promethazine", "metoclopramide", "docusate",
    "senna", "acetaminophen", "ibuprofen", "naproxen", "ketorolac", "tramadol", "oxycodone", "hydrocodone",
    "morphine", "hydromorphone", "fentanyl", "gabapentin", "pregabalin", "sertraline", "fluoxetine",
    "citalopram", "escitalopram", "trazodone", "bupropion", "amitriptyline", "lorazepam", "alprazolam",
    "diazepam", "zolpidem", "quetiapine", "prednisone", "methylprednisolone", "dexamethasone", "albuterol",
    "ipratropium", "fluticasone", "montelukast", "tiotropium", "cephalexin", "cefazolin", "ceftriaxone",
    "ciprofloxacin", "levofloxacin", "amoxicillin", "amoxicillin-clavulanate", "azithromycin", "doxycycline",
    "trimethoprim-sulfamethoxazole", "nitrofurantoin", "vancomycin", "piperacillin-tazobactam",
    "metronidazole", "clindamycin", "gentamicin", "ampicillin", "fluconazole", "acyclovir", "tamsulosin",
    "finasteride", "dutasteride", "alfuzosin", "terazosin", "doxazosin", "oxybutynin", "tolterodine",
    "solifenacin", "mirabegron", "sildenafil", "tadalafil", "phenazopyridine", "potassium citrate",
    "allopurinol", "colchicine", "leuprolide", "bicalutamide", "tamoxifen", "lidocaine", "bupivacaine",
    "epinephrine", "propofol", "midazolam", "ketamine", "cetirizine", "loratadine", "fexofenadine",
    "diphenhydramine", "nystatin", "potassium chloride", "magnesium sulfate", "calcium carbonate",
    "vitamin D", "iron sulfate", "folic acid", "nitroglycerin", "digoxin", "diltiazem", "hydralazine",
    "clonidine", "isosorbide", "methotrexate", "hydroxychloroquine", "BCG", "mitomycin C", "testosterone",
    "Lasix", "Coumadin", "Plavix", "Eliquis", "Xarelto", "Lovenox", "Lipitor", "Zocor", "Norvasc", "Toprol",
    "Synthroid", "Protonix", "Prilosec", "Zofran", "Tylenol", "Motrin", "Percocet", "Vicodin", "Dilaudid",
    "Neurontin", "Zoloft", "Ativan", "Xanax", "Ambien", "Keflex", "Cipro", "Levaquin", "Augmentin", "Bactrim",
    "Macrobid", "Flomax", "Proscar", "Avodart", "Uroxatral", "Ditropan", "Detrol", "Vesicare", "Myrbetriq",
    "Viagra", "Cialis", "Pyridium", "Lupron", "Casodex", "Marcaine", "Xylocaine", "Ancef", "Rocephin",
    "Toradol", "Versed", "Benadryl", "Claritin", "Zyrtec", "Allegra", "Singulair", "Advair", "Ventolin",
    "lactated Ringer's", "normal saline", "D5W", "contrast", "Kenalog", "Depo-Medrol",
)
# How notes name an operation without saying which one: still a treatment in i2b2 2010.
GENERIC_TREATMENTS = ("the procedure", "the procedures", "surgery", "the surgery", "the operation", "this procedure",
                      "the above procedure", "future procedures", "the above-noted procedure", "the planned procedure")
# Drugs given by injection, which take a route before them ("IV vancomycin", "intravenous Ancef").
INJECTABLES: tuple[str, ...] = (
    "heparin", "enoxaparin", "insulin", "ketorolac", "morphine", "hydromorphone", "fentanyl", "ondansetron",
    "cefazolin", "ceftriaxone", "vancomycin", "gentamicin", "ampicillin", "piperacillin-tazobactam",
    "levofloxacin", "ciprofloxacin", "metronidazole", "clindamycin", "acyclovir", "fluconazole", "dexamethasone",
    "methylprednisolone", "furosemide", "Lasix", "metoprolol", "diltiazem", "hydralazine", "potassium chloride",
    "magnesium sulfate", "famotidine", "pantoprazole", "Protonix", "metoclopramide", "promethazine",
    "diphenhydramine", "Benadryl", "Ancef", "Rocephin", "Toradol", "Zofran", "Dilaudid", "midazolam",
    "Versed", "propofol", "lidocaine", "bupivacaine", "Marcaine", "ketamine", "epinephrine", "Lovenox",
)
ROUTE_PREFIXES = ("IV", "intravenous", "subcu", "subcutaneous", "IM")
STEROID_INJECTIONS = ("steroid injection", "cortisone injection", "corticosteroid injection", "lidocaine injection")
CATHETERS = ("Foley catheter", "coude catheter", "council-tip catheter", "red rubber catheter", "suprapubic tube",
             "Malecot catheter", "nephrostomy tube", "chest tube")
SUTURE_MATERIALS = ("Vicryl", "chromic", "Monocryl", "Prolene", "nylon", "silk", "PDS")
MEDICATION_CLASSES: tuple[str, ...] = (
    "antibiotics", "IV antibiotics", "oral antibiotics", "antibiotic therapy", "pain medication",
    "pain medications", "narcotics", "narcotic pain medication", "steroids", "anticoagulation",
    "blood thinners", "diuretics", "beta-blockers", "antihypertensives", "chemotherapy", "hormone therapy",
    "androgen deprivation therapy", "stool softeners", "antiemetics", "IV fluids", "intravenous fluids",
    "oxygen", "supplemental oxygen", "home oxygen", "alpha-blockers", "anticholinergics", "insulin drip",
    "heparin drip", "nebulizer treatments", "local anesthetic", "a course of antibiotics", "medications",
)
# Procedures and the words that may go before them ("" = none); sided ones may also take a side.
PROCEDURES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("cholecystectomy", ("", "laparoscopic", "open", "robotic"), False),
    ("appendectomy", ("", "laparoscopic", "open"), False),
    ("nephrectomy", ("", "laparoscopic", "radical", "partial", "robotic-assisted laparoscopic", "open"), True),
    ("prostatectomy", ("radical", "robotic-assisted laparoscopic radical", "open radical", "simple"), False),
    ("inguinal hernia repair", ("", "laparoscopic", "open"), True),
    ("orchiectomy", ("", "radical", "simple", "inguinal"), True), ("orchiopexy", ("",), True),
    ("hydrocelectomy", ("",), True), ("varicocelectomy", ("", "microsurgical"), True),
    ("vasectomy", ("", "bilateral", "no-scalpel"), False), ("circumcision", ("", "adult", "neonatal"), False),
    ("ureteroscopy", ("", "flexible", "rigid", "diagnostic"), True),
    ("laser lithotripsy", ("", "holmium"), False), ("extracorporeal shock wave lithotripsy", ("",), False),
    ("transurethral resection of the prostate", ("",), False), ("TURP", ("",), False),
    ("transurethral resection of bladder tumor", ("",), False), ("TURBT", ("",), False),
    ("ureteral stent placement", ("",), True), ("stent removal", ("", "ureteral"), False),
    ("percutaneous nephrolithotomy", ("",), True), ("pyeloplasty", ("", "robotic"), True),
    ("total knee arthroplasty", ("",), True), ("total hip arthroplasty", ("",), True),
    ("knee arthroscopy", ("", "diagnostic"), True), ("rotator cuff repair", ("", "arthroscopic"), True),
    ("carpal tunnel release", ("", "endoscopic"), True), ("open reduction and internal fixation", ("",), True),
    ("ORIF", ("",), False), ("gastric bypass", ("", "laparoscopic", "Roux-en-Y", "laparoscopic Roux-en-Y"), False),
    ("sleeve gastrectomy", ("", "laparoscopic"), False),
    ("colectomy", ("", "partial", "sigmoid", "laparoscopic"), False),
    ("hysterectomy", ("", "total abdominal", "vaginal", "laparoscopic"), False),
    ("thyroidectomy", ("", "total", "partial"), False), ("mastectomy", ("", "modified radical", "simple"), True),
    ("lumpectomy", ("",), True), ("coronary artery bypass grafting", ("",), False), ("CABG", ("",), False),
    ("angioplasty", ("", "balloon"), False), ("pacemaker placement", ("",), False), ("tracheostomy", ("",), False),
    ("debridement", ("", "excisional", "surgical"), False), ("skin graft", ("", "split-thickness"), False),
    ("liposuction", ("",), False), ("abdominoplasty", ("",), False), ("breast reconstruction", ("",), True),
    ("cesarean section", ("", "repeat"), False), ("dilation and curettage", ("",), False),
    ("hemorrhoidectomy", ("",), False), ("incision and drainage", ("",), False), ("hernia repair", ("",), False),
    ("umbilical hernia repair", ("",), False), ("sling procedure", ("", "midurethral"), False),
    ("penile prosthesis placement", ("",), False), ("urethral dilation", ("",), False),
    ("urethroplasty", ("",), False), ("meatotomy", ("",), False), ("brachytherapy", ("", "prostate"), False),
    ("radiation therapy", ("", "external beam"), False), ("cryotherapy", ("",), False),
    ("bladder instillation", ("",), False), ("lysis of adhesions", ("",), False),
    ("excision", ("", "wide local"), False),
    ("repair", ("", "primary", "layered"), False), ("suprapubic tube placement", ("",), False),
)
# Combined by demo_vocabulary: hernia kinds x repairs x approaches; joints x operations; bones x fixations.
HERNIAS = ("inguinal", "umbilical", "ventral", "incisional", "femoral", "hiatal", "epigastric")
HERNIA_REPAIRS = ("hernia repair", "herniorrhaphy", "hernia repair with mesh")
HERNIA_APPROACHES = ("", "open", "laparoscopic", "robotic")
JOINT_OPERATIONS = ("arthroscopy", "arthroplasty", "total arthroplasty", "replacement", "total replacement",
                    "arthroscopic debridement", "synovectomy")
FIXATIONS = ("open reduction and internal fixation of the", "closed reduction of the",
             "intramedullary nailing of the", "percutaneous pinning of the")
ANESTHESIA: tuple[str, ...] = (
    "general anesthesia", "general endotracheal anesthesia", "general endotracheal", "spinal anesthesia",
    "epidural anesthesia", "local anesthesia", "IV sedation", "conscious sedation", "monitored anesthesia care",
    "MAC", "laryngeal mask airway anesthesia", "regional block", "caudal block", "local with sedation",
    "endotracheal intubation",
)
# What an operative note's ANESTHESIA header holds on its own ("ANESTHESIA: , General.").
ANESTHESIA_HEADINGS = ("General", "Spinal", "Local", "General endotracheal", "MAC", "General LMA", "IV sedation")
DEVICES: tuple[str, ...] = (
    "Foley catheter", "16-French Foley catheter", "urinary catheter", "suprapubic catheter", "ureteral stent",
    "double-J stent", "nephrostomy tube", "JP drain", "Jackson-Pratt drain", "Penrose drain", "chest tube",
    "nasogastric tube", "NG tube", "central line", "PICC line", "pacemaker", "sutures", "staples",
    "Steri-Strips", "sterile dressing", "pressure dressing", "splint", "cast", "knee brace", "scrotal support",
    "compression stockings", "SCDs", "CPAP", "catheter", "drain", "mesh", "Prolene mesh", "skin glue",
    "Dermabond", "Vicryl sutures", "chromic sutures", "clean catheterization", "intermittent catheterization",
)
THERAPIES: tuple[str, ...] = (
    "physical therapy", "occupational therapy", "hemodialysis", "dialysis", "blood transfusion",
    "packed red blood cells", "IV hydration", "wound care", "bed rest", "ice packs", "warm compresses",
    "sitz baths", "Kegel exercises", "bladder training", "pelvic floor therapy", "smoking cessation counseling",
    "diet and exercise", "lifestyle modifications", "low-salt diet", "fluid restriction", "timed voiding",
    "biofeedback", "surgery", "surgical repair", "observation", "conservative management", "hydration",
)
# fmt: on
