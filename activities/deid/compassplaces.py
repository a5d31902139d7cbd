"""The compass word of a town whose other word a name's mark replaced: ``East [NAME]``.

Many towns are a compass word and a given or family name (``East Lansing``, ``North
Jennifer``, ``West Jefferson``). When a patient or a relative of the dataset bears the name
part, the known values' pass replaces it first (``[NAME]``), and the rules that read a town
(a place cue, an address's line, a state after it) no longer see one: ``East`` stayed, and
with it the town's half (45 CFR 164.514(b)(2)(i)(B): a town is a geographic subdivision
smaller than a state). A compass word written with a capital (``North``, ``SOUTHWEST``…)
right before a name's mark is the town's first word: the word and the mark become one
``[ADDRESS]``. A ward after its floor (``4 West [NAME]``, ``Unit 3 East``) stays: a number
before the compass word makes it a ward, not a town.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts (the mark only appears after the known values' pass, in both paths).
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_COMPASS = r"(?:north|south)(?:east|west)?|east|west"
COMPASS_MARK = re.compile(
    r"(?<![A-Za-z0-9'-])(?<![0-9][ \t])((?=[A-Z])(?i:" + _COMPASS + r")[ \t]{1,2}\[NAME\])"
)


def find(folded: str) -> list[Span]:
    """Spans of a capitalized compass word and the name's mark after it."""
    if "[NAME]" not in folded:
        return []
    out: list[Span] = []
    for m in COMPASS_MARK.finditer(folded):
        word = m.group(1).split()[0]
        if word[1:].islower() or word.isupper():
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = r"(?:east|west|north|south)[ \t]+\[name\]"
#: The rule, for the rule table.
RULE = FunctionRule("compass-places", TRIGGER, find)
