"""Dates said rather than written, and a typed weekday before a date.

Speech recognition writes a day as the number said (``follow up on march twelve``), and a
message typed on a phone abbreviates its weekday its own way (``weds 3/12``, ``thurs``).
Any element of a date but the year is an identifier (45 CFR 164.514(b)(2)(i)(C)).
General forms found by ``fresh-10``:

* a **month and a cardinal day** in words (``august eighteen``, ``may twenty three``,
 not before a unit or a count's
  noun (``march twelve miles``); lower-case ``may`` and ``march`` only after a date's
  word (``on``, ``by``, ``since``, ``until``, ``before``, ``after``, ``from``, ``of``):
  ``she may two-step`` is a verb;
* a **typed weekday** right before a date's mark (``weds [DATE]``, ``thurs, [DATE]``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import forms
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

MONTHS = "|".join(forms.MONTHS)
_UNIT = (r"one|two|three|four|five|six|seven|eight|nine")
CARDINAL = (r"(?:twenty|thirty)(?:[ \t-](?:" + _UNIT + r"))?|ten|eleven|twelve|thirteen"
            r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|" + _UNIT)
_COUNTED = (r"(?:years?|yrs?|days?|weeks?|wks?|months?|times|tablets?|tabs?|pills?|mg|units?"
            r"|hours?|hrs?|minutes?|mins?|of|percent|pounds?|lbs?|kg|miles?|people|patients?"
            r"|doses?|puffs?|drops?|cm|mm)\b")
SPOKEN = re.compile(r"\b(" + MONTHS + r")[ \t]{1,2}(?:the[ \t]{1,2})?(" + CARDINAL + r")\b"
                    r"(?![ \t]{1,2}" + _COUNTED + r")", re.IGNORECASE)
_DATE_WORD = re.compile(r"\b(?:on|by|since|until|till|before|after|from|of)[ \t]{1,2}$",
                        re.IGNORECASE)
TYPED_WEEKDAY = re.compile(r"\b(?:mon|tues?|weds?|thu|thur|thurs|fri|sat|sun)\.?,?(?=[ \t]{1,2}"
                           r"\[DATE\])", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of months with a cardinal day in words, and of typed weekdays before a date."""
    out: list[Span] = []
    for m in SPOKEN.finditer(folded):
        if m.group(1) in ("may", "march") and _DATE_WORD.search(
                folded, max(0, m.start() - 10), m.start()) is None:
            continue
        out.append((m.start(), m.end(), Placeholder.DATE))
    if "[DATE]" in folded:
        out += [(m.start(), m.end(), Placeholder.DATE) for m in TYPED_WEEKDAY.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``): a month's first letters
#: before a cardinal's (``thr`` of three, thirteen; ``twe`` of twelve, twenty), or a
#: weekday's before a date's mark.
TRIGGER = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ \t]+(?:the[ \t]+)?"
           r"(?:one|two|thr|fou|fiv|six|sev|eig|nin|ten|ele|twe|thi|fif)"
           r"|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?[ \t]+\[date\]")
#: The rule, for the rule table.
RULE = FunctionRule("spoken-dates", TRIGGER, find)
