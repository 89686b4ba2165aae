"""De-identification: a PHI tagger's spans turned into a note with its PHI replaced.

Pure functions, no I/O: ``categories`` (i2b2 2014 PHI categories, label sets), ``patterns``
(structured identifiers), ``spans`` (joining model and pattern spans), ``dates`` (date shifting),
``surrogates`` (Faker values), ``operators`` (what replaces a span), ``apply`` (the whole step).
"""
