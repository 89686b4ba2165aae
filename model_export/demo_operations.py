"""Hand-written blocks of the operations, implants and generic treatments that operative notes name.

Why a second block module: MTSamples notes are mostly operative reports, whose treatments carry
modifiers that belong to the concept in i2b2 2010 ("a **second stage cystolithotripsy**", "**permanent
pacemaker insertion**", "**further intervention**", "**The catheters**"). ``demo_vocabulary``
combines these blocks with the ones in ``demo_terms``. Written for this project from general
clinical knowledge; nothing is copied from a terminology or a note.
"""

from __future__ import annotations

# fmt: off
# Operations named by one word, and whether they take a side.
OPERATIONS: tuple[tuple[str, bool], ...] = (
    ("cystolithotripsy", False), ("cystolitholapaxy", False), ("cystolithotomy", False), ("cystectomy", False),
    ("cystorrhaphy", False), ("ureterolithotomy", True), ("ureterolysis", True), ("ureteroneocystostomy", True),
    ("ureteroureterostomy", True), ("pyelolithotomy", True), ("nephrolithotomy", True), ("nephroureterectomy", True),
    ("nephropexy", True), ("urethrotomy", False), ("urethroplasty", False), ("urethropexy", False),
    ("urethrolysis", False), ("vesicostomy", False), ("meatoplasty", False), ("orchiectomy", True),
    ("epididymectomy", True), ("spermatocelectomy", True), ("vasovasostomy", False), ("colostomy", False),
    ("ileostomy", False), ("ileocecectomy", False), ("proctocolectomy", False), ("hemicolectomy", True),
    ("choledochotomy", False), ("cholecystostomy", False), ("salpingo-oophorectomy", True), ("oophorectomy", True),
    ("salpingectomy", True), ("myomectomy", False), ("tracheostomy", False), ("thyroidectomy", False),
    ("parathyroidectomy", False), ("adrenalectomy", True), ("splenectomy", False), ("gastrostomy", False),
    ("jejunostomy", False), ("enterolysis", False), ("herniorrhaphy", True), ("hernioplasty", True),
    ("arthrotomy", True), ("tenotomy", True), ("tenolysis", True), ("tenodesis", True), ("fasciotomy", True),
    ("fasciectomy", True), ("laminectomy", False), ("hemilaminectomy", True), ("laminotomy", False),
    ("discectomy", False), ("microdiscectomy", False), ("foraminotomy", True), ("craniotomy", True),
    ("thoracotomy", True), ("thoracostomy", True), ("pleurodesis", True), ("lobectomy", True),
    ("sternotomy", False), ("pericardiectomy", False), ("thrombectomy", False), ("embolectomy", False),
    ("endarterectomy", True), ("phlebectomy", True), ("adenoidectomy", False), ("tonsillectomy", False),
    ("septoplasty", False), ("rhinoplasty", False), ("blepharoplasty", True), ("myringotomy", True),
    ("mastoidectomy", True), ("amputation", True), ("arthrodesis", True), ("osteotomy", True),
    ("sequestrectomy", False), ("polypectomy", False), ("fulguration", False), ("marsupialization", False),
    ("frenuloplasty", False), ("glansplasty", False), ("corporoplasty", False), ("plication", False),
    ("orchiopexy", True), ("pyeloplasty", True), ("prostatectomy", False), ("vasectomy", False),
    ("lithotripsy", False), ("nephrostomy", True), ("ureterotomy", True), ("resection", False),
)
# Words that may go before any operation, kept inside the concept: "a second stage cystolithotripsy".
OPERATION_MODIFIERS = ("repeat", "redo", "staged", "second stage", "second-stage", "first stage", "completion",
                       "revision", "elective", "emergent", "urgent", "diagnostic", "therapeutic", "simple", "radical",
                       "partial", "total", "subtotal", "open", "laparoscopic", "robotic", "endoscopic",
                       "percutaneous", "transurethral", "cystoscopic", "arthroscopic", "minimally invasive",
                       "second", "bilateral", "extended", "limited", "uncomplicated")
# Implants: placing, changing or removing one is a treatment ("permanent pacemaker insertion").
IMPLANTS = ("permanent pacemaker", "pacemaker", "dual-chamber pacemaker", "implantable cardioverter-defibrillator",
            "ICD", "port-a-cath", "Mediport", "tunneled dialysis catheter", "Hickman catheter",
            "central venous catheter", "PICC", "inferior vena cava filter", "IVC filter", "penile prosthesis",
            "inflatable penile prosthesis", "three-piece inflatable penile prosthesis", "artificial urinary sphincter",
            "sacral neuromodulator", "InterStim", "spinal cord stimulator", "ventriculoperitoneal shunt",
            "VP shunt", "gastrostomy tube", "PEG tube", "tissue expander", "breast implant", "cochlear implant",
            "tympanostomy tube", "ureteral stent", "double-J stent", "nephrostomy tube", "suprapubic tube",
            "suprapubic catheter", "testicular prosthesis", "feeding tube", "arteriovenous graft",
            "arteriovenous fistula", "dialysis access", "ureteral stents", "stents", "sling", "midurethral sling",
            "mesh", "hardware", "plate and screws", "intramedullary rod", "external fixator", "K-wires")
IMPLANT_ACTIONS = ("insertion", "placement", "removal", "exchange", "revision", "implantation", "replacement",
                   "explantation", "repositioning")
# Treatments named without saying which: still concepts in i2b2 2010 ("further intervention").
GENERIC_COMBINED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("intervention", ("further", "additional", "surgical", "operative", "urgent", "immediate", "early",
                      "any further", "definitive")),
    ("surgery", ("further", "additional", "urgent", "future", "definitive", "elective", "emergency", "immediate")),
    ("treatment", ("further", "additional", "definitive", "surgical", "conservative", "medical", "aggressive",
                   "nonoperative", "early")),
    ("management", ("conservative", "medical", "surgical", "operative", "nonoperative", "aggressive", "expectant")),
    ("therapy", ("medical", "conservative", "further", "additional", "definitive")),
    ("repair", ("definitive", "surgical", "primary", "operative")),
)
GENERIC_NAMED = ("the procedure", "the procedures", "this procedure", "the operation", "this operation",
                 "the surgery", "the repair", "the above procedures", "the planned operation", "today's procedure",
                 "the initial procedure", "the prior surgery", "the index operation", "a second procedure",
                 "the second procedure", "the first procedure", "a procedure", "an operation", "both procedures")
# Devices left in the patient that notes name in the plural: "The catheters", "2 Blake drains".
PLURAL_DEVICES = ("catheters", "stents", "drains", "ureteral stents", "JP drains", "Blake drains",
                  "Jackson-Pratt drains", "chest tubes", "Penrose drains", "sutures", "staples", "Steri-Strips",
                  "clips", "surgical clips", "Hem-o-lok clips", "tacks", "pledgets", "K-wires", "screws", "anchors",
                  "suture anchors")
DEVICES_MORE = ("Blake drain", "Hemovac drain", "wound VAC", "negative pressure dressing", "pressure bandage",
                "Xeroform dressing", "Tegaderm", "Kerlix", "ACE wrap", "ACE bandage", "Coban", "Bacitracin ointment",
                "sling", "cervical collar", "stent on a string", "tissue expander", "nasal packing", "Foley",
                "urethral catheter", "three-way Foley catheter", "hematuria catheter", "Malecot tube")
# Prevention given as a treatment: "DVT prophylaxis" is one concept.
PROPHYLAXIS = ("DVT", "VTE", "antibiotic", "GI", "stress ulcer", "endocarditis", "seizure", "infection")
# Care measures that are not drugs or devices: treatments in i2b2 2010 ("early and frequent mobilization").
CARE = ("early ambulation", "early mobilization", "early and frequent mobilization", "frequent ambulation",
        "incentive spirometry", "pulmonary toilet", "aggressive pulmonary toilet", "chest physiotherapy",
        "ambulation", "sequential compression devices", "pneumatic compression devices", "leg elevation",
        "elevation and ice", "scrotal elevation", "a clear liquid diet", "a regular diet", "diet advancement",
        "Foley catheter care", "stoma care", "pain control", "patient-controlled analgesia", "PCA",
        "a PCA pump", "epidural analgesia", "nutritional support", "tube feeds", "bladder irrigation",
        "continuous bladder irrigation", "CBI", "dressing changes", "wet-to-dry dressings", "range of motion exercises",
        # abbreviated treatments, so that an upper-case plural is not read as a test ("SCDs", "LFTs")
        "SCDs", "TEDs", "TED hose", "BiPAP", "TPN", "PRBCs", "FFP", "IVF", "IV fluids", "NSAIDs", "PPI", "PPIs",
        "IV abx", "abx", "ESWL", "PCNL", "XRT", "ADT", "HCTZ", "ASA", "KCl", "NTG", "SL NTG", "G-tube", "J-tube",
        "NGT", "CIC", "PT/OT", "OT")
CLOSURES = ("staples", "skin staples", "Dermabond", "Steri-Strips", "skin glue", "sutures", "Vicryl sutures",
            "chromic sutures", "a running subcuticular stitch", "interrupted sutures", "figure-of-eight sutures")
# fmt: on
