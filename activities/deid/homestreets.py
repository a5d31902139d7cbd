"""A house number and a street written out in lower case after a home's verb:
``she lives at 2276 church drive``.

The address patterns take a lower-case street by an abbreviated kind (``2276 church dr``)
or by a full kind with a unit after it (``… drive apt 4``): a full kind alone after a
number is too often no street (``2 court dates``, ``10 way valve``). A dictated discharge
summary writes the street in lower case and in full with no unit, after the verb that says
it is a home. General form found by ``fresh-11`` (45 CFR 164.514(b)(2)(i)(B)):

* a **street after a home's verb**: ``lives``/``living``/``resides``/``residing``/
  ``stays``/``staying``/``moved``/``moving``/``home is``/``house is``/``address is``/
  ``address:`` and ``at``/``to``/``on`` (or none after ``address``), then a house number,
  one to three words in lower case (no unit, dose or function word: ``forms``' list) and
  a street's kind written out (``street``, ``road``, ``avenue``, ``lane``, ``drive``,
  ``court``, ``place``, ``boulevard``, ``way``, ``circle``, ``terrace``, ``trail``,
  ``parkway``, ``highway``, ``pike``, ``loop``); the number and the street are the span.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import grammar
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_HOME = (r"(?:(?:lives|living|resides|residing|stays|staying|moved|moving)[ \t]{1,2}(?:at|to|on)"
         r"|(?:home|house|address)[ \t]{1,2}is(?:[ \t]{1,2}(?:at|on))?|address[ \t]{0,2}:)")
#: The common kinds written out (``grammar.STREET_KINDS``): not the British ones
#: ``streetforms`` adds, which in lower case are words of a note ("moving to 6 minute walk").
_KINDS = "(?:" + "|".join(full for full, *_ in grammar.STREET_KINDS) + ")"
HOME_STREET = re.compile(r"\b(?i:" + _HOME + r")[ \t]{1,2}([0-9]{1,5}[ \t]{1,2}((?-i:[a-z][a-z'-]+)"
                         r"(?:[ \t](?-i:[a-z][a-z'-]+)){0,2})[ \t](?-i:" + _KINDS + r"))\b")


def find(folded: str) -> list[Span]:
    """Spans of lower-case streets with their number after a home's verb."""
    return [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in HOME_STREET.finditer(folded)
            if not any(w in NOT_NAMES for w in m.group(2).split())]


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = (r"\b(?:liv|resid|stay|mov|home|house|address)[a-z:]*[ \t]+(?:[a-z:]+[ \t]+){0,2}"
           r"[0-9]{1,5}[ \t]+[a-z]")
#: The rule, for the rule table.
RULE = FunctionRule("home-streets", TRIGGER, find)
