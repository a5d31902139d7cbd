"""A month and a two-digit year after a date's cue, and ``may`` after a day.

Two partial dates the date grammar leaves, because each shape is more often no date (45 CFR
164.514(b)(2)(i)(C): every element of a date but the year):

* a **month and a two-digit year** (``8/57``, ``10/51``) after a word that says a date
  follows (``drawn 8/57``, ``ADMIT DATE: 10/51``, ``dob 3/47``, ``since 11/98``, ``last seen
  4/02``): ``m/yy`` is also an acuity (``VA 6/36``), a pressure (``IOP 16/18``, ``BP
  120/80``), a count (``TOF 4/4``, ``4/5 strength``) and a score (``Epworth 14/24``), and
  those are written after their own names, never after a date's cue. The month is 1-12 and
  the year two digits; a unit, a count's or a score's word after it (``on 10/40 mg``,
  ``since 2/10 pain``, ``on 3/12 of``) makes it no date, and so does ``ago`` after it
  (``started 11/12 ago``: eleven months; deid12g). ``context`` reads ``3/4`` as a
  month and a day; a year over 31 was no day and went unread;
* ``may`` **after an ordinal day** (``12th may``, ``the 3rd of May``), or after a bare day
  and a date's cue (``on 12 may``), where the clause ends or a function word or a year
  follows (``seen on 12th may for follow up``): the grammar reads ``may`` as a month only
  with a year or before its day, since it is mostly a verb; a verb after it keeps it one
  (``the 2nd may be given``, ``aged 12 may need``).

The span is the date (the cue stays). Python ``re`` on the folded text, through the rule
table (``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.context import DURATION_AFTER, QUANTITY_AFTER
from medpipe.activities.deid.dateparts import CUE, NOT_YEAR_AFTER
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Words after which a date is written (the last word of the cue).
_DATE_CUE = (
    r"(?:admit|admitted|admission|discharge|discharged|dob|d\.o\.b\.?|birth|born"
    r"|drawn|collected|since|on|dated|date|seen|visit|onset|diagnosed|dx|dx'?d"
    r"|started|stopped|began|until|effective|expires|expired|exp|surgery|last)"
)
#: A month and a two-digit year (opens with a digit, so ``re`` skips to its candidates).
MONTH_YEAR = re.compile(
    r"[0-9](?<![0-9/.][0-9])(?:(?<=1)[0-2]|(?<=0)[1-9])?/[0-9]{2}"
    r"(?![0-9/]|[.,][0-9])" + NOT_YEAR_AFTER
)
#: The cue right before a month and year (``dob: 3/47``, ``seen in 4/02``).
_CUE_BEFORE = re.compile(
    r"(?<![A-Za-z])(" + _DATE_CUE + r")[ \t]{0,2}[:#-]?[ \t]{0,2}"
    r"(?:(?:on|in)[ \t]{1,2})?\Z",
    re.IGNORECASE,
)
#: Cues after which ``n/52`` is a count of weeks (``since 3/52``: three weeks).
_DURATION = frozenset(("since", "last", "until", "on"))
#: Where a date ends: the clause ends, or a function word or a year follows.
_DATE_ENDS = (
    r"(?=[ \t]{0,2}(?:[.,;:)!?\n]|$)|[ \t]{1,2}(?:at|and|or|when|for|to|until|in|with"
    r"|per|as|if|but|then|because|since|so|visit|appt|'?[0-9]{2}(?![0-9])"
    r"|(?:19|20)[0-9]{2})(?![A-Za-z]))"
)
MAY_ORDINAL = re.compile(
    r"(?<![A-Za-z0-9])((?:the[ \t]{1,2})?(?:0?[1-9]|[12][0-9]|3[01])"
    r"(?:st|nd|rd|th)(?:[ \t]{1,2}of)?[ \t]{1,2}may)" + _DATE_ENDS,
    re.IGNORECASE,
)
#: A day before ``may`` (opens with a digit, which ``re`` skips to).
_MAY_GATE = re.compile(r"[0-9](?:st|nd|rd|th)?[ \t]{1,2}(?:of[ \t]{1,2})?may", re.IGNORECASE)
MAY_DAY = re.compile(
    r"(?<![A-Za-z])" + CUE + r"[ \t]{1,2}((?:0?[1-9]|[12][0-9]|3[01])"
    r"[ \t]{1,2}may)" + _DATE_ENDS,
    re.IGNORECASE,
)


def find(folded: str) -> list[Span]:
    """Spans of cued month/two-digit-year dates and of ``may`` after its day."""
    out: list[Span] = []
    for m in MONTH_YEAR.finditer(folded):
        s, e = m.start(), m.end()
        if folded[s] == "0" and folded[s + 1] == "/":  # "0/57": no month
            continue
        cue = _CUE_BEFORE.search(folded, max(0, s - 24), s)
        if cue is None or QUANTITY_AFTER.match(folded[e : e + 24]) is not None:
            continue
        if DURATION_AFTER.match(folded, e) is not None:  # "started 11/12 ago": 11 months
            continue
        if folded[e - 2 : e] == "52" and cue.group(1).lower() in _DURATION:
            continue
        out.append((s, e, Placeholder.DATE))
    if _MAY_GATE.search(folded) is not None:  # the two patterns below open with look-behinds
        out += [(m.start(1), m.end(1), Placeholder.DATE) for m in MAY_ORDINAL.finditer(folded)]
        out += [(m.start(1), m.end(1), Placeholder.DATE) for m in MAY_DAY.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``): a cue's last letters before
#: a month and a year, a day before ``may``.
TRIGGER = (
    r"(?:[a-z]|\.)[ \t]{0,2}[:#-]?[ \t]{0,2}(?:(?:on|in)[ \t]+)?(?:0?[1-9]|1[0-2])/[0-9]{2}"
    r"|[0-9][ \t]+(?:of[ \t]+)?may|(?:st|nd|rd|th)[ \t]+(?:of[ \t]+)?may"
)
#: The rule, for the rule table.
RULE = FunctionRule("cued-dates", TRIGGER, find)
