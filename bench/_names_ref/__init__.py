"""The name finder (``names``, ``cues``, ``context``) verbatim from before the speed work.

``tests/activities/deid/test_names_differential.py`` holds the fast
``medpipe.activities.deid.names.find_names`` to exactly these spans. Not
used by the product.
"""
