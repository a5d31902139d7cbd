"""De-identification primitives shared by the scrubber and the residual check.

One source of truth: ``normalize`` (how text is folded for matching),
``patterns`` (what an identifier looks like), ``index`` (which known
identifier values a text contains) and ``names`` (names no column lists).
The pseudonymize stage replaces what they find; the validate stage and the
``medpipe pseudonymize`` command count what they still find in the output.
"""
