"""Post-office boxes and rural routes: the addresses of people who get no street delivery.

A Safe Harbor address is any geographic subdivision smaller than a state (45 CFR
164.514(b)(2)(i)(B)), and a box or a route is where a rural patient's mail, and often the
patient, is found. The street patterns know a house number before a street's kind; these
forms have no street (found by ``fresh-10``):

* a **post-office box** in any spelling with its number (``P.O. Box 1183``, ``PO Box 77``,
  ``POB 553``, ``Post Office Box 12``, ``PO BX 90``, ``P.O. Drawer 4``);
* a **rural route** with its number (``Rural Route 3``, ``R.R. 4``, ``RR#2``), with its box
  when one follows (``R.R. 4 Box 88``); a highway-contract or other route only with its box
  (``HC 65 Box 12``, ``Rt. 3 Box 12``, ``RR 2 Box 14``): ``RR 18`` alone is a respiratory
  rate, ``PO`` alone is by mouth, ``Route 9`` alone a highway.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import grammar
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_NUMBER = r"[ \t]{0,2}#?[ \t]{0,2}[0-9]{1,6}(?![0-9A-Za-z])"
_BOX = r",?[ \t]{1,2}box" + _NUMBER
#: A box's words (``grammar.PO_BOX``) on one line, and its number.
PO_BOX = re.compile(r"\b" + grammar.PO_BOX.replace(r"\s", r"[ \t]") + _NUMBER, re.IGNORECASE)
#: A rural route by its own name, with a box when one follows; any other route with its box.
ROUTE = re.compile(r"\b(?:(?:rural[ \t]{1,2}route|r\.[ \t]?r\.|rr[ \t]{0,2}(?=#))" + _NUMBER
                   + r"(?:" + _BOX + r")?|(?:rr|hc|hcr|rt\.?|rte\.?|route|star[ \t]route)"
                   + _NUMBER + _BOX + r")", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of post-office boxes and rural routes."""
    return [(m.start(), m.end(), Placeholder.ADDRESS)
            for pattern in (PO_BOX, ROUTE) for m in pattern.finditer(folded)]


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a box's or a
#: drawer's word before a number, or a route's.
TRIGGER = (r"(?:box|bx|drawer)[ \t]{0,2}#?[ \t]{0,2}[0-9]|\bpob[ \t]{0,2}#?[ \t]{0,2}[0-9]"
           r"|rural[ \t]{1,2}route|\br\.[ \t]?r\.|\brr[ \t]{0,2}#")
#: The rule, for the rule table.
RULE = FunctionRule("mail-forms", TRIGGER, find)
