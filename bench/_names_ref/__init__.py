"""The name finder's engine (``names``, ``cues``, ``context``) from before the speed work.

The engine (walking every run of capitals, the per-run cue tests, the word
before a run, the context rules' loops) is copied verbatim; the rules it
applies (cue lists, patterns, the dictionary, the gazetteer, ``forms``) are
imported from the product, so a rule change needs no copy here and the
differential test keeps comparing engines only.
``tests/activities/deid/test_names_differential.py`` holds the product's
rule table (``medpipe.activities.deid.rules.find`` over
``rules.RULES``) to exactly these spans. Not used by the product.
"""
