"""Dates that run on past what the date grammar took: a timestamp's time, a range's end, a
part of a month, and lower-case ``may`` with a spoken ordinal.

The grammar finds a date; log lines, ranges and dictation write the rest of the same date
next to it, and these are general forms of that rest (found by ``fresh-9``; 45 CFR
164.514(b)(2)(i)(C): every element of a date but the year):

* the **time of a timestamp** joined to a replaced date (``[DATE]T14:22:05Z``,
  ``[DATE] 14:22:05``, the seconds the grammar left of an ISO time, ``[DATE]:05.123Z``):
  one event with its date, as ``fresh-8`` decided for an ISO date's time; a clock time
  without seconds after a date (``Jan 3 10:30``) stays, as the other sets label it;
* the **end of a range** after a replaced date (``[DATE] to the 19th``, ``[DATE] through
  the 9th``, ``[DATE]-12th``): an ordinal day after ``to``/``through``/``thru``/
  ``until``/``till``/``and``/a dash; both ordinals of ``from the 3rd through the 7th``
  (not ``from the 3rd to the 5th rib``);
* a **part of a month** (``end of february``, ``first week of March``, ``beginning of
  sept``, ``mid-october``): the month after a phrase that names a part of it, in any case
  (``end of may`` is the month: ``may`` after ``of`` is no verb);
* **lower-case ``may`` with a spoken ordinal** after a date preposition (``on may fourth``,
  ``by may the twenty second``): ``may`` before a number stays a verb (``may 2 tabs``);
* **an ordinal day, ``day of`` and the month** (``this 14th day of March, 2024``, ``the
  twenty-first day of June``: deeds, directives, affidavits; read in ``sealed-2``, deid12d):
  the grammar takes ``March, 2024`` and left the day; a day past the 31st, a day of
  something else (``the 5th day of admission``, ``3rd day of fever``) and lower-case
  ``may`` before a verb (``the 2nd day of may be``) stay.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import dateparts, premarks
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_ZONE = r"(?:\s?(?:Z|UTC|GMT)\b|[+-][0-2][0-9]:?[0-5][0-9]\b|Z)"
_SECONDS = r":[0-5][0-9](?:[.,][0-9]{1,9})?"
#: A timestamp's time joined to a replaced date: ``T`` and a time (ISO 8601), or one or two
#: spaces and a time with seconds (a log line's ``14:22:05``); or the seconds alone the
#: grammar left after an ISO time it took. A clock time without seconds after a date
#: (``Jan 3 10:30``, ``at 3:30 pm``) is an appointment's hour and stays, as every other set
#: labels it.
TIME_AFTER = re.compile(r"\[DATE\](?:(T[0-2]?[0-9]:[0-5][0-9](?:" + _SECONDS + r")?" + _ZONE
                        + r"?|\s{1,2}[0-2]?[0-9]:[0-5][0-9]" + _SECONDS + _ZONE + r"?)|("
                        + _SECONDS + _ZONE + r"?))(?![0-9:])")
_ORD = r"[0-3]?[0-9](?:st|nd|rd|th)"
#: The end of a range right after its start (a replaced date, or an ordinal day a date cue
#: gives away: ``from the 17th``).
RANGE_END = re.compile(r"(?:\s{1,2}(?:to|through|thru|until|till|and|or)\s{1,2}|\s?[-\u2013\u2014]"
                       r"\s?)(?:the\s{1,2})?(" + _ORD + r")\b", re.IGNORECASE)
_DATE_MARK = re.compile(r"\[DATE\]")
#: Gates: a time with seconds or after ``T`` (or the seconds a mark left); a range's end.
_TIME_AT = re.compile(r"[0-9\]](?:T|\s{1,2})[0-2]?[0-9]:[0-5][0-9](?::[0-5][0-9]|[^:0-9]|$)"
                      r"|\]:[0-5][0-9]")
_RANGE_AT = re.compile(r"(?:[0-9\]]|[0-9](?:st|nd|rd|th))" + RANGE_END.pattern, re.IGNORECASE)
#: Nouns an ordinal counts when it is no day (``from the 3rd to the 5th rib``).
_COUNTED = (r"(?!\s{1,2}(?:ribs?|digits?|toes?|fingers?|floors?|intercostal|cranial|nerves?|doses?"
            r"|cycles?|days?|weeks?|months?|visits?|times?|percentile|grade|vertebrae?|lumbar"
            r"|cervical|thoracic|sacral|metatarsals?|metacarpals?|molars?|trimester|lines?"
            r"|place|row|round|session|tooth|teeth|space)\b)")
#: A range of ordinal days after ``from``/``between`` (``from the 3rd through the 7th``).
ORDINAL_RANGE = re.compile(r"\b(?:from|between)\s{1,2}the\s{1,2}(" + _ORD + r")(?:\s{1,2}(?:to"
                           r"|through|thru|until|till|and)\s{1,2}|\s?[-\u2013\u2014]\s?)(?:the"
                           r"\s{1,2})?(" + _ORD + r")\b" + _COUNTED, re.IGNORECASE)
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november"
          r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)")
_PART = (r"(?:(?:end|beginning|start|middle|rest|remainder|first\s{1,2}half|second\s{1,2}half"
         r"|last\s{1,2}half)\s{1,2}of|(?:first|second|third|fourth|last|final|1st|2nd|3rd|4th)"
         r"\s{1,2}(?:week|wk|weekend|days|half)\s{1,2}of|mid-|mid\s)")
MONTH_PART = re.compile(r"\b" + _PART + r"\s{0,2}(" + _MONTH + r")\b\.?(?!\s{0,2}[0-9])",
                        re.IGNORECASE)
_SPOKEN = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh"
           r"|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth"
           r"|nineteenth|twentieth|thirtieth)")
#: An ordinal day, then ``day of`` and its month (``this 14th day of March, 2024``, ``the
#: fourteenth day of march``): the legal and formal way of writing a date (deeds, directives,
#: affidavits); a lower-case ``may`` ends its clause or a year follows (``the 2nd day of may
#: be`` stays); or a date the patterns already replaced (``[DATE]``: the column path's text).
DAY_OF_MONTH = re.compile(
    r"\b(" + _ORD + r"|(?:(?:twenty|thirty)[\s-]{1,2})?" + _SPOKEN + r")\s{1,2}day\s{1,2}of"
    r"\s{1,2}(?:the\s{1,2}month\s{1,2}of\s{1,2})?(?:(?-i:may)(?=\s{0,2}(?:[,.;:)]|$|[0-9]))"
    r"|(?!(?-i:may)\b)" + _MONTH + r"\b\.?|\[DATE\])", re.IGNORECASE)
MAY_SPOKEN = re.compile(r"\b(?:on|by|since|from|until|till|before|after|of|next|last|this)\s{1,2}"
                        r"(may\s{1,2}(?:the\s{1,2})?(?:(?:twenty|thirty)[\s-]{1,2})?" + _SPOKEN
                        + r")\b")


def find(folded: str) -> list[Span]:
    """Spans of times and range ends after a replaced date, parts of a month and
    lower-case ``may`` with a spoken ordinal."""
    out: list[Span] = []
    if _TIME_AT.search(folded) is not None:
        text, back = premarks.marked(folded, "[DATE]")
        for m in TIME_AFTER.finditer(text):
            g = 1 if m.group(1) is not None else 2
            start = m.start(g)
            while text[start].isspace():
                start += 1
            out.append((back(start), back(m.end(g)), Placeholder.DATE))
    if _RANGE_AT.search(folded) is not None:
        # a range's start is a date the patterns find (marked first when they have not run)
        # or an ordinal day after a date cue
        text, back = premarks.marked(folded, "[DATE]")
        ends = [back(m.end()) for m in _DATE_MARK.finditer(text)]
        ends += [m.end(1) for m in dateparts.ORDINAL.finditer(folded)]
        for e in ends:
            end = RANGE_END.match(folded, e)
            if end is not None:
                out.append((end.start(1), end.end(1), Placeholder.DATE))
        for m in ORDINAL_RANGE.finditer(folded):
            out += [(m.start(1), m.end(1), Placeholder.DATE),
                    (m.start(2), m.end(2), Placeholder.DATE)]
    low = folded.lower()
    if " of" in low or "mid" in low:
        # the part with its month: "end of february" is more specific than the month
        out += [(m.start(), m.end(1), Placeholder.DATE) for m in MONTH_PART.finditer(folded)]
    if "may " in folded:
        out += [(m.start(1), m.end(1), Placeholder.DATE) for m in MAY_SPOKEN.finditer(folded)]
    at = low.find("day")
    while at >= 0:  # DAY_OF_MONTH opens with its ordinal: searched only around a "day"
        day = DAY_OF_MONTH.search(folded, max(0, at - 24), at + 40)
        if day is not None and day.start() <= at < day.end() and _day(day.group(1)):
            out.append((day.start(), day.end(), Placeholder.DATE))
        at = low.find("day", at + 3)
    return out


def _day(ordinal: str) -> bool:
    """Whether a digit ordinal is a day of a month (``1st``-``31st``; a spoken one is)."""
    digits = ordinal[:-2]
    return not digits.isdigit() or 1 <= int(digits) <= 31


def _re2(pattern: str) -> str:
    """A pattern of this module for RE2: Python's ``\\s`` as a class RE2 reads alike."""
    return pattern.replace(r"\s", _WS)


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): seconds after
#: a date mark, a time after a date's end (a mark's bracket or a digit), an ordinal after a
#: range's word; a part of a month then a month; ``may`` and a spoken ordinal.
TRIGGER = "|".join((
    r"\[date\]:[0-5][0-9]",
    _re2(r"(?:\]|[0-9])(?:T[0-2]?[0-9]:[0-5][0-9]|\s{1,2}[0-2]?[0-9]:[0-5][0-9]:[0-5][0-9])"),
    _re2(r"(?:\s{1,2}(?:to|through|thru|until|till|and|or)\s{1,2}|\s?[-\x{2013}\x{2014}]\s?)(?:the"
         r"\s{1,2})?" + _ORD + r"\b"),
    _re2(r"\b" + _PART + r"\s{0,2}" + _MONTH + r"\b"),
    _re2(r"\b(?-i:may)\s{1,2}(?:the\s{1,2})?(?:(?:twenty|thirty)(?:\s|-){1,2})?" + _SPOKEN),
    _re2(r"(?:[0-9](?:st|nd|rd|th)|" + _SPOKEN + r")\s{1,2}day\s{1,2}of\s{1,2}(?:the\s{1,2}month"
         r"\s{1,2}of\s{1,2})?(?:" + _MONTH + r"\b|\[date\])"),
))
#: The rule, for the rule table.
RULE = FunctionRule("date-runs", TRIGGER, find)
