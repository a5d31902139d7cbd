"""Postal codes and geocodes by their own shape or word: a ZIP before its word, a Canadian
postal code, a census tract.

Safe Harbor takes the ZIP code (all but its first three digits, under conditions) and
"their equivalent geocodes" (45 CFR 164.514(b)(2)(i)(B)). The address patterns know a ZIP
after a state and ``townforms`` after its word (``zip is 49855``); probed in recall11
(``bench/deid_places_probe.py``), a ZIP written before its word (``the 49855 zip``), a
Canadian postal code and a census tract were never found. General forms found by
``fresh-11``:

* a **ZIP before its word**: five digits (and ``-`` and four) before ``zip``, ``zip
  code``, ``zipcode``, ``postal code`` or, after ``the``, ``area``; the word stays;
* a **Canadian postal code** (``B3H 4R2``, ``K1A-0B1``): a letter, a digit, a letter, a
  space or a hyphen, a digit, a letter, a digit, in capitals, with the letters Canada Post
  uses (no D, F, I, O, Q, U; no W or Z first); written together (``B3H4R2``) only after
  ``postal code``/``postcode``;
* a **census tract or block group** number after its words (``census tract 4001.03``,
  ``tract #12``, ``block group 3``): the number; ``the GI tract`` has none.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

ZIP_BEFORE = re.compile(r"(?<![0-9A-Za-z.,/-])([0-9]{5}(?:-[0-9]{4})?)[ \t]{1,2}(?i:zip"
                        r"(?:[ \t-]?code)?|postal[ \t]code)\b"
                        r"|\b(?i:the)[ \t]{1,2}([0-9]{5}(?:-[0-9]{4})?)[ \t]{1,2}(?i:area)\b")
_FIRST, _OTHER = "[ABCEGHJ-NPRSTVXY]", "[ABCEGHJ-NPRSTV-Z]"
POSTAL = re.compile(r"(?<![A-Za-z0-9-])(" + _FIRST + r"[0-9]" + _OTHER + r"[ -][0-9]" + _OTHER
                    + r"[0-9])(?![A-Za-z0-9])"
                    r"|\b(?i:postal[ \t]?code|postcode)[ \t:#]{1,3}(" + _FIRST + r"[0-9]" + _OTHER
                    + r"[0-9]" + _OTHER + r"[0-9])(?![A-Za-z0-9])")
TRACT = re.compile(r"\b(?i:census[ \t]{1,2}tract|tract[ \t]{0,2}(?:#|no\.?|number)|block"
                   r"[ \t]{1,2}group)[ \t:#]{1,3}([0-9]{1,6}(?:\.[0-9]{1,2})?)(?![0-9])")


def _groups(pattern: re.Pattern[str], folded: str) -> list[Span]:
    return [(m.start(g), m.end(g), Placeholder.ADDRESS) for m in pattern.finditer(folded)
            for g in range(1, (pattern.groups or 0) + 1) if m.group(g) is not None]


def find(folded: str) -> list[Span]:
    """Spans of ZIP codes before their word, Canadian postal codes and census tracts."""
    return _groups(ZIP_BEFORE, folded) + _groups(POSTAL, folded) + _groups(TRACT, folded)


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = (r"[0-9]{5}(?:-[0-9]{4})?[ \t]+(?:zip|postal|area)|(?-i:[A-Z][0-9][A-Z])[ -]?"
           r"(?-i:[0-9][A-Z][0-9])|tract|block[ \t]+group")
#: The rule, for the rule table.
RULE = FunctionRule("post-forms", TRIGGER, find)
