"""Sentence patterns of an operation's narrative, where most noun phrases are NOT concepts.

Real operative notes walk through positions, instruments, anatomy and steps, with the concepts
(the operation, the anaesthesia, drugs given, devices left in place, findings) among them. Here the
same frames hold a concept in one sentence and a non-concept in the next ("{a_device} was placed
into ..." vs "{a_instrument} was placed into ..."), so the model must tell them apart by what the
words are, not by where they stand.

Slots as in ``demo_phrases`` (concepts, with ``a_``/``the_``/``poss_`` determiners inside the span),
plus the scenery slots of ``demo_scenery``, always plain text with their determiner: ``{anatomy}``,
``{instrument}``, ``{position}``, ``{step}``, ``{part}`` (of a device), ``{action}`` (what was done),
``{normal}`` (a normal finding), ``{quantity}`` ("a little bit of").
"""

from __future__ import annotations

# fmt: off
NARRATIVE: tuple[str, ...] = (
    "The patient was brought to the operating room and placed in {the_position}.",
    "The patient was placed in {position}.", "{He} was then repositioned in {the_position}.",
    "After induction of {anesthesia}, the patient was placed in {the_position}.",
    "{He} was positioned in {the_position} with all pressure points padded.",
    "The patient was then turned to {the_position}.",
    "{the_anatomy} was {action} with {a_instrument}.", "Using {a_instrument}, {the_anatomy} was {action}.",
    "{a_instrument} was advanced into {the_anatomy} under direct vision.",
    "{a_instrument} was passed through {the_anatomy} into {the_anatomy}.",
    "{the_instrument} was then removed.", "{the_instrument} was withdrawn and {the_anatomy} was {action}.",
    "{the_anatomy} was {action} and {action}.", "Attention was then turned to {the_anatomy}.",
    "{the_anatomy} and {the_anatomy} were {normal}.", "{the_anatomy} appeared {normal}.",
    "{poss_anatomy} was {normal}.",
    "{the_anatomy} was inspected and found to be {normal}.", "{the_anatomy} was noted to be {normal}.",
    "{step} was carried out with {a_instrument}.", "{step} was then performed.",
    "{step} was used to develop the plane between {the_anatomy} and {the_anatomy}.",
    "{step} was achieved with {the_instrument}.", "Once {step} was achieved, {the_anatomy} was {action}.",
    "{step} and {step} were performed.", "{a_device} was then placed into {the_anatomy}.",
    "{a_device} was inserted over {the_instrument} into {the_anatomy}.",
    "{a_device} was placed through {the_anatomy} and secured with {suture}.",
    "{the_anatomy} was closed with {suture}.", "{the_anatomy} was reapproximated with {suture}.",
    "{the_anatomy} was infiltrated with {medication}.", "{the_anatomy} was injected with {ml} mL of {medication}.",
    "{the_procedure} was then performed in the usual fashion.", "{a_procedure} was performed using {a_instrument}.",
    "This was {action} with {a_instrument}.", "This was done under direct vision.", "This was then {action}.",
    "{the_part} was placed in {the_anatomy}.", "{the_part} was {action} and {the_part} was {action}.",
    "{the_part} of {the_device} was positioned in {the_anatomy}.", "{quantity} {symptom} was noted.",
    "There was {quantity} {symptom} from {the_anatomy}.", "The patient tolerated {generic} well.",
    "{He} will likely need {intervention}.", "{He} may require {intervention} in the future.",
    "No {intervention} was required.", "{He} was offered {intervention}.", "{He} declined {intervention}.",
    "{He} will need {intervention} if {he} develops {symptom:hypothetical}.",
    "{the_device} remained in place.", "{the_device} was secured to {the_anatomy} with {suture}.",
    "{the_anatomy} was then {action}, taking care to avoid injury to {the_anatomy}.",
    "{a_instrument} was placed to retract {the_anatomy}.", "{instrument} was used for hemostasis.",
    "Hemostasis was obtained with {the_instrument}.", "{the_anatomy} was entered and {the_anatomy} was {action}.",
    "The scope was advanced to {the_anatomy}, which was {normal}.",
    "Pneumoperitoneum was established with {the_instrument}.",
    "{a_instrument} was placed in {the_anatomy} under direct vision.",
    "{the_anatomy} was {normal} without evidence of {finding:absent}.",
    "{the_anatomy} was {action} using {the_instrument} and {the_instrument}.",
    "{the_anatomy} was {action} over {a_instrument}.", "A time-out was performed.",
    "All pressure points were padded.", "The wound was closed in layers.",
    "{a_finding} was found arising from {the_anatomy}.", "{the_device} was removed without difficulty.",
    "At the end of {generic}, {the_anatomy} was {action}.",
    "{He} was taken to the recovery room after {generic}, having tolerated it well.",
    "{the_anatomy} was examined with {the_instrument} and was {normal}.",
    "Next, {the_anatomy} was {action} with {the_instrument}.", "{a_procedure} was then carried out.",
    "{anesthesia} was administered by the anesthesia team.", "{He} received {medication} prior to {generic}.",
    "{ml} mL of {medication} {percent} was injected into {the_anatomy}.",
    "{the_anatomy} was anesthetized with {medication} {percent} with {medication}.",
    "{medication} {percent} was used for {anesthesia}.",
    "{He} was given {medication} for {medication} and placed on {medication}.",
    "{generic} was performed under {anesthesia}.", "{the_procedure} was performed under {anesthesia}.",
    "{He} was brought to the operating room, where {anesthesia} was induced.",
    "{a_device} was applied to {the_anatomy}.", "{device} and {device} were applied.",
    "{the_anatomy} was dressed with {device}.", "{He} was placed on {therapy} after {generic}.",
    "{the_anatomy} was then {action}, and {a_device} was left in {the_anatomy}.",
    # plural devices ("The catheters were then removed"); a count stays outside the concept
    "{the_devices} were then removed.", "{the_devices} were left in place.", "{the_devices} were removed intact.",
    "We also placed {count} {devices}, 1 in {the_anatomy} and 1 in {the_anatomy}.",
    "{count} {devices} were brought out through separate stab incisions.", "{devices} were placed and secured.",
    # closures in the words surgeons dictate them
    "{the_anatomy} was closed in {fashion} fashion with {suture}.", "Wound was closed in {fashion} fashion {suture}.",
    "{anatomy} closed with {suture} in {fashion} fashion.", "{the_anatomy} was approximated using {suture}.",
    "The skin was closed with {suture} and {suture}.",
    # what comes next, named by the surgeon
    "We will probably bring {him} back for {a_procedure}, and ultimately do {a_procedure}.",
    "{He} will need {a_procedure} and eventually {a_procedure}.", "Plan is to do {a_procedure} at a later date.",
)
# Exam lines of structures that are normal ("Left testicle:  Normal in size."): no concept at all.
NORMAL_EXAM: tuple[str, ...] = ("{normal}.", "{normal} bilaterally.", "{normal}, without {sign:absent}.")
# fmt: on
