"""Dates without a year that say they are dates by what stands around the day (deid12e).

A day and a month in digits (``14/11``) or an ordinal day (``14th``) alone is as often a
score, a ratio or a rank; the grammar reads it only with a year or a month's name, and
``context``/``dateparts`` only month first or after a date's cue (``on``, ``since``). Four
more neighbours say "a date" as plainly, in any writer's notes (45 CFR 164.514(b)(2)(i)(C):
every element of a date but the year):

* a **weekday before it**, abbreviated any way (``Adm Thurs 14/11``, ``EDD Fri 14th``,
  ``Weds 3/4``, ``since Sun 25th,``): the weekday goes with the date. An ordinal must end
  its clause or meet a function word or a time (``sat 2nd row``, ``Sun 1st degree burn``
  stay);
* a **week's cue before it** (``w/c 13/3``: week commencing; ``w/b``, ``w/e``, ``wk of``,
  ``week ending``…);
* a **clock time after it** (``stored 14/06 at 02:10``, ``14/06 0210``): the day and the
  month then written zero-padded or with a part over 12 (``pain 4/10 at 14:00`` stays;
  ``GCS 13/15 at 02:00`` is no day and month);
* ``of the``/``on the`` **and an ordinal where the clause ends** or ``before``, ``after``,
  ``at``, ``when`` follows (``in the early hours of the 6th;``, ``on the 22nd before the
  hearing``): ``base of the 5th metatarsal``, ``of the 4th and 5th toes``, ``on the 2nd
  attempt`` stay.

The span is the date (with its weekday); the cue stays. Python ``re`` on the folded text,
through the rule table (``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.context import QUANTITY_AFTER
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: A weekday, in full or abbreviated as notes do (``Tues``, ``Weds``, ``Thurs``, ``Sat.``).
_WEEKDAY = (r"(?:mon|tue|tues|wed|weds|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?"
            r"(?![a-z])\.?,?")
#: A day and a month in digits, either order (checked: both 1-31, one of them 1-12); no
#: year, fraction or decimal after it.
_DM = r"([0-3]?[0-9])/([0-3]?[0-9])(?![/0-9]|\.[0-9])"
_ORDINAL = r"(0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)(?![a-z0-9])"
#: Where an ordinal date ends: the clause, a function word, a time of day or a clock time.
_ORDINAL_ENDS = (r"(?=[ \t]{0,2}(?:[.,;:)!?\n]|$)|[ \t]{1,2}(?:at|and|or|when|for|to|until|in"
                 r"|with|per|as|if|but|then|because|since|so|before|after|am|pm|morning"
                 r"|evening|night|overnight|[0-9])(?![a-z]))")
WEEKDAY_DATE = re.compile(
    r"(?<![a-z])(" + _WEEKDAY + r"[ \t]{1,3}(?:" + _DM + r"|" + _ORDINAL + _ORDINAL_ENDS + r"))",
    re.IGNORECASE)
#: A week's cue (``w/c`` week commencing, ``w/b`` beginning, ``w/e`` ending).
WEEK_DATE = re.compile(
    r"(?<![a-z0-9])(?:w/[cbe]|(?:wk|week)[ \t]{1,2}(?:of|commencing|beginning|starting"
    r"|ending))\.?:?[ \t]{1,2}(" + _DM + r"|" + _ORDINAL + r")", re.IGNORECASE)
#: A day and a month, then a clock time (``at``/``@`` and ``HH:MM``, ``HH.MM`` or ``HHMM``).
TIMED_DATE = re.compile(
    r"(?<![0-9/.,])" + _DM + r"(?=[ \t]{1,2}(?:(?:at|@)[ \t]{0,2})?(?:[01]?[0-9]|2[0-3])"
    r"(?:[:.h]?[0-5][0-9])(?![0-9]|[ \t]{0,2}(?:%|mg|ml|units?)))", re.IGNORECASE)
#: ``of the``/``on the`` and an ordinal, where the clause ends or a date's word follows (no
#: enumeration after a comma: ``of the 2nd, 3rd and 4th``).
THE_ORDINAL = re.compile(
    r"(?<![a-z])(?:of|on)[ \t]{1,2}the[ \t]{1,2}" + _ORDINAL
    + r"(?=[ \t]{0,2}(?:[.;:!?)\n]|,(?![ \t]{0,2}(?:and[ \t]{1,2})?[0-9])|$)"
    r"|[ \t]{1,2}(?:before|after|at|when|then)(?![a-z]))", re.IGNORECASE)


def _day_month(a: str, b: str, padded: bool) -> bool:
    """Whether ``a/b`` can be a day and a month (either order); ``padded``: it must also be
    written as dates are and scores are not (a zero-padded part, or a part over 12)."""
    x, y = int(a), int(b)
    if not (1 <= x <= 31 and 1 <= y <= 31 and (x <= 12 or y <= 12)):
        return False
    return not padded or a.startswith("0") or b.startswith("0") or x > 12 or y > 12


def find(folded: str) -> list[Span]:
    """Spans of day-month dates read by a weekday, a week's cue, a clock time, or ``of
    the``/``on the`` and a clause's end."""
    out: list[Span] = []
    for m in WEEKDAY_DATE.finditer(folded):
        if m.group(2) is not None and (not _day_month(m.group(2), m.group(3), False)
                                       or QUANTITY_AFTER.match(folded[m.end():m.end() + 24])):
            continue
        out.append((m.start(1), m.end(1), Placeholder.DATE))
    for m in WEEK_DATE.finditer(folded):
        if m.group(2) is None or _day_month(m.group(2), m.group(3), False):
            out.append((m.start(1), m.end(1), Placeholder.DATE))
    if "/" in folded:
        out += [(m.start(), m.end(), Placeholder.DATE) for m in TIMED_DATE.finditer(folded)
                if _day_month(m.group(1), m.group(2), True)]
    out += [(m.start(1), m.end(), Placeholder.DATE) for m in THE_ORDINAL.finditer(folded)]
    return out


_D = r"[0-9]{1,2}"
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a weekday's
#: letters before a day; a week's cue before a day; a day and a month before a clock time;
#: ``of the``/``on the`` before an ordinal.
TRIGGER = (r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?" + WS + r"{1,3}" + _D
           + r"(?:/|st|nd|rd|th)"
           r"|(?:w/[cbe]|wk|week)(?:" + WS + r"{1,2}[a-z]+)?\.?:?" + WS + r"{1,2}" + _D
           + r"(?:/|st|nd|rd|th)"
           r"|" + _D + r"/" + _D + WS + r"{1,2}(?:(?:at|@)" + WS + r"{0,2})?" + _D
           + r"[:.h]?[0-9]{2}"
           r"|(?:of|on)" + WS + r"{1,2}the" + WS + r"{1,2}" + _D + r"(?:st|nd|rd|th)")
#: The rule, for the rule table.
RULE = FunctionRule("day-forms", TRIGGER, find)
