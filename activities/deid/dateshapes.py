"""Dates the grammar reads only whole, in three shapes a writer leaves them in (deid12f).

* a **date in digits inside a file or device name** (``derm_20240424_back.jpg``,
  ``IMG_20231102_1432.jpg``, ``scan-19990704.dcm``): the grammar reads ``20240424`` between
  word boundaries, and ``_`` is a word's character, so a camera's or a scanner's file name
  kept it. A year 1900-2099, a month and a day that exist, joined to the name by ``_`` or
  ``-`` on at least one side; ``IMG_12345678.jpg`` (no month 34) stays;
* a **day and a month in Roman numerals without a year** (``biopsy 20.viii``, ``ET planned
  26.ii``, ``seen 3/IV``), as European clerks write it: the grammar reads it with a year
  only. Not where a numbering word is just before (``section 3.ii``, ``para 2.iv``,
  ``Table 1.iii``, ``criterion 4.i``), where a list's bracket follows (``1.ii)``), or where
  it opens its line (a list's number). The separator touches both (``day 3. X-Ray`` is a
  sentence's end and a capital);
* a **range of days in one month** (``Away 17-22/8``, ``Stims 18–26/1``): two days, the
  second over 12 and after the first, then ``/`` and a month. A month of 7 or 12 is left
  unless a date's word comes before (``context.DATE_CUE_BEFORE``: ``approved for 26-28/7``,
  deid12h): ``/7``, ``/12`` and ``/52`` count days, months and weeks in UK notes
  (``13-18/12`` is 13 to 18 months), and a second part of 12 or less is a score's range
  (``8-10/10``, ``2-3/4 tabs``); ``GCS 13-15/15`` has no month; a unit after it (``mg``) is a dose.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.context import DATE_CUE_BEFORE, QUANTITY_AFTER
from medpipe.activities.deid.grammar import ROMAN_MONTH
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_YMD = r"((?:19|20)[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
#: Eight digits of a date joined to a name by ``_`` or ``-`` on one side at least.
NAMED_DATE = re.compile(r"(?:(?<=[_-])" + _YMD + r"(?![0-9])|(?<![0-9A-Za-z])" + _YMD
                        + r"(?=[_-]))")
_DAY = r"(0?[1-9]|[12][0-9]|3[01])"
#: A day and a month in Roman numerals, no year after (``grammar`` reads those).
ROMAN_DAY = re.compile(
    r"(?<![A-Za-z0-9.,/-])" + _DAY + r"[./-](" + ROMAN_MONTH
    + r")(?![A-Za-z0-9)]|-[A-Za-z])(?![ \t]{0,2}[./-][ \t]{0,2}[0-9])", re.IGNORECASE)
#: Two days, a dash and a month (``17-22/8``; an en dash is folded to ``-``).
DAY_RANGE = re.compile(r"(?<![0-9/.])([0-9]{1,2})[ \t]?-[ \t]?([0-9]{1,2})/([0-9]{1,2})"
                       r"(?![0-9/]|\.[0-9])")
#: Words that number a part of a text, not a date (``section 3.ii``).
_NUMBERING = re.compile(
    r"(?:\b(?:section|sect|sec|s|para|paragraph|paras|table|tab|fig|figure|item|items|point"
    r"|appendix|app|clause|step|question|q|part|chapter|ch|criterion|criteria|rule|note"
    r"|standard|objective|outcome|goal|page|p|pp|line|box|level|stage|grade|type|class"
    r"|version|v|ver|no|number|#)\.?[ \t]{0,2}|^[ \t]*)$", re.IGNORECASE)


def _days_in(year: int, month: int) -> int:
    """The number of days of a month (leap years by the Gregorian rule)."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def find(folded: str) -> list[Span]:
    """Spans of a date in digits inside a name, a day and a Roman month, and a range of
    days in one month."""
    out: list[Span] = []
    for m in NAMED_DATE.finditer(folded):
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(4, 5, 6)
        if int(d) <= _days_in(int(y), int(mo)):
            out.append((m.start(), m.end(), Placeholder.DATE))
    for m in ROMAN_DAY.finditer(folded):
        line_start = folded.rfind("\n", 0, m.start()) + 1
        if not _NUMBERING.search(folded[max(line_start, m.start() - 24):m.start()]):
            out.append((m.start(), m.end(), Placeholder.DATE))
    for m in DAY_RANGE.finditer(folded):
        first, last, month = int(m.group(1)), int(m.group(2)), int(m.group(3))
        counted = month in (7, 12) and not DATE_CUE_BEFORE.search(
            folded[max(0, m.start() - 24):m.start()])
        if 1 <= first < last <= 31 and last > 12 and 1 <= month <= 12 and not counted \
                and not QUANTITY_AFTER.match(folded[m.end():m.end() + 24]):
            out.append((m.start(), m.end(), Placeholder.DATE))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): eight
#: digits of a date beside ``_`` or ``-``; a day, a separator and a Roman month's letters.
TRIGGER = (r"[_-](?:19|20)[0-9]{6}|(?:19|20)[0-9]{6}[_-]"
           r"|[0-9][./-][ivx]"
           r"|[0-9]" + WS + r"?-" + WS + r"?[0-9]{1,2}/[0-9]")
#: The rule, for the rule table.
RULE = FunctionRule("date-shapes", TRIGGER, find)
