"""A day of this, last or next month in the Latin of old letters: ``the 14th inst.`` (deid12h).

Irish, British and Indian correspondence still writes ``your letter of the 14th inst.`` (of
this month), ``seen on the 28th ult.`` (of last month) and ``the 3rd prox.`` (of next
month). The ordinal alone is no date to the grammar (a count: ``his 3rd admission``); with
``inst``, ``ult`` or ``prox`` after it, it is a day the letter's date pins to one month, an
element of a date (45 CFR 164.514(b)(2)(i)(C)). The ordinal and the word go; the ``the``
before stays. A day 1-31, the word written short (with or without its full stop) or whole
(``instant``, ``ultimo``, ``proximo``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: An ordinal day, then ``inst``/``ult``/``prox``, short or whole.
LETTER_DAY = re.compile(
    r"(?<![0-9A-Za-z])(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)[ \t]{1,2}"
    r"(?:inst|ult|prox|instant|ultimo|ulto|proximo|proxo)(?:\.|(?![A-Za-z]))", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of an ordinal day before ``inst``, ``ult`` or ``prox``."""
    return [(m.start(), m.end(), Placeholder.DATE) for m in LETTER_DAY.finditer(folded)]


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = r"(?:st|nd|rd|th)" + WS + r"{1,2}(?:inst|ult|prox)"
#: The rule, for the rule table.
RULE = FunctionRule("letter-days", TRIGGER, find)
