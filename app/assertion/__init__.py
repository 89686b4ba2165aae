"""Assertion status of concept spans: is the problem present, absent, possible, hypothetical,
conditional, or someone else's, and is it historical.

Two sources answer it through one entity stage (:mod:`app.assertion.stage`): ConText rules
(medSpaCy, :mod:`app.assertion.rules`) and a trained sequence classifier run through the same
batcher and executor as the tagger (:mod:`app.assertion.classifier`).
"""
