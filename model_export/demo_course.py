"""Sentence patterns of what happens after an operation or during a stay: the course, as notes tell it.

Why a module of its own: hospital courses and postoperative follow-up visits (a large share of
MTSamples) list care measures next to drugs and devices ("DVT prophylaxis was continued with subcu
heparin, early ambulation, and SCDs": three treatments), send the patient for diagnostic procedures
("underwent cystoscopy on 4/13": a test, not a treatment), tell of complications and what they
required, and talk of recovery and of instruments that were not used, which are no concepts at all.
Without such sentences the model reads an unfamiliar list item after a drug as a problem and every
"underwent" as an operation.

Slots as in ``demo_phrases`` (concept pools, with their determiners and assertion suffixes) and
``demo_narrative`` (scenery: ``{instrument}``, ``{quantity}``, ``{anatomy}``), plus the fillers
``{date}`` and ``{pod}`` (a postoperative day).
"""

from __future__ import annotations

# fmt: off
COURSE: tuple[str, ...] = (
    # care measures listed with drugs and devices: all treatments
    "{prophylaxis} was continued with {medication}, {care}, and {device}.",
    "{He} was maintained on {prophylaxis} with {medication} and {device}.",
    "{prophylaxis} consisted of {device} and {care}.",
    "{He} was encouraged in {care} and {care}.",
    "Postoperatively, {he} was started on {care} and {therapy}.",
    "{He} was continued on {medication}, {care}, and {therapy}.",
    "{care} was begun on postoperative day {pod}.",
    "{He} was treated with {medication}, {care}, and {device}, with good effect.",
    "{He} received {medication} and {care} throughout the stay.",
    # diagnostic procedures the patient underwent: tests
    "{He} underwent {study} on {date}.", "After {procedure}, {he} underwent {study} on {date}.",
    "{He} underwent {a_study}, which showed {a_finding}.", "{He} underwent {a_imaging} on {date}.",
    "On {date}, {he} underwent {study}, which was {normal}.",
    "{study} on {date} revealed {finding}.", "{He} then underwent {a_imaging} that was negative for {finding:absent}.",
    "The patient underwent {study} and {lab} prior to discharge.",
    # complications and what they required
    "{He} did have {quantity} {symptom} in the recovery room, which required {procedure}, but after that, "
    "{his} recovery has been uneventful.",
    "{He} had {quantity} {symptom} on postoperative day {pod}, which resolved with {medication}.",
    "{He} developed {symptom} on postoperative day {pod} and was treated with {medication}.",
    "There was {quantity} {symptom} at the site of {the_device}, which required {the_procedure}.",
    "{the_device} was removed on postoperative day {pod}.", "{the_device} was discontinued on {date}.",
    "{He} had {quantity} {symptom}, which was controlled without {the_instrument}.",
    "This was left in place to avoid {symptom:hypothetical} without the use of {instrument}.",
    "{the_part} was left in place because of the risk of {symptom:hypothetical}.",
    # recovery, with no concept or with the operation named
    "{His} postoperative course was uncomplicated.", "{His} recovery has been complete.",
    "{His} postoperative recovery was unremarkable.", "{He} recovered well from {generic}.",
    "{He} has recovered nicely since {the_procedure}.", "{He} was discharged home on postoperative day {pod}.",
    "{He} is now {pod} weeks out from {poss_procedure} and doing well.",
    # treatments judged unnecessary
    "No {intervention} from my point of view.", "No {intervention} is needed at this time.",
    "{intervention} is not indicated at this time.", "No {intervention} was deemed necessary.",
)
# fmt: on
