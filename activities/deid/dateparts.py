"""Partial dates that only a word next to them makes dates.

The date grammar (``grammar.DATE``, RE2) takes every partial form that is a date by itself
(``3 Mar``, ``March 3rd``, ``Mar '19``, ``the 3rd of March``, ``03MAR``); the forms here
need look-around, so they are a rule of the table (``rules.MODULES``):

* a **two-digit year** after a day and a month (``3 Mar 19``, ``Mar 3, 19``), unless a unit
  or a count follows the number (``given 3 Mar 25 mg``);
* an **ordinal day alone** after a date cue (``on the 4th``, ``since the 21st,``, ``due
  the 2nd at 9``), unless a noun follows it (``on the 4th dose``, ``the 3rd toe``);
* a **day/month** (``25/12``, a day over 12 first) after a date cue (``on 25/12``,
  ``dated 14/3``): month/day is ``context``'s; without a cue ``25/12`` stays.
* a **month-day with a dash** after a date cue, where the clause ends or a function word
  follows (``ready on 5-28``, ``due by 11-3.``; ``ready on 5-28 pm`` only when the day
  cannot be an hour): ``on 2-3 L``, ``from 2-3 pm``, ``on 1-2 tabs`` stay.

Cues are words of time (``on``, ``by``, ``until``…) and of scheduling (``rescheduled to the
3rd``, ``booked for the 12th``): a noun after the ordinal still makes it no date (``to the
3rd floor``, ``for the 2nd time``).

``in March`` and ``may`` are no dates here: a month alone names no day.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import grammar
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?"
_ORDINAL = r"(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)"
#: A unit or a count after a number: it is no year.
NOT_YEAR_AFTER = (r"(?!\s{0,2}(?:%|mg|mcg|g\b|kg|ml|cc|units?|iu|tabs?|tablets?|caps?|pills?"
                  r"|doses?|times|x\b|hrs?|hours?|min|minutes|days?|wks?|weeks?|months?"
                  r"|yrs?|years?|y/?o|am|pm|/|:|[.,][0-9]))")
#: A day and a month, then a two-digit year; in the scrubber the pattern pass has put
#: ``[DATE]`` over the day and the month already. Each opens with a character class (or a
#: literal) so that ``re`` skips to its candidates; day and month are checked after.
_YY = r"\s{1,3}'?([0-9]{2})\b" + NOT_YEAR_AFTER
YEAR2_DAY_FIRST = re.compile(r"[0-9](?<![A-Za-z0-9][0-9])[0-9]?(?:st|nd|rd|th)?[\s.-]{1,3}"
                             + grammar.MONTH + _YY, re.IGNORECASE)
YEAR2_MONTH_FIRST = re.compile(r"[JFMASONDjfmasond](?<![A-Za-z][JFMASONDjfmasond])[a-z]{2,8}"
                               r"\.?\s{1,3}([0-9]{1,2})(?:st|nd|rd|th)?,?" + _YY, re.IGNORECASE)
YEAR2_MARK = re.compile(r"\[DATE\],?" + _YY)
_MONTH_WORD = re.compile(grammar.MONTH, re.IGNORECASE)
_DAY_OK = re.compile(r"(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?\Z")
#: A word before a partial date (a day and a month, an ordinal): "on", "since", "seen".
CUE = (r"(?:on|since|by|until|till|from|before|after|due|dated|starting|beginning|through"
       r"|thru|effective|eff|as\s{1,2}of|date|dos|seen|visit|appt|appointment|returns?"
       r"|scheduled|surgery|procedure|to|for)")
#: Words an ordinal may be followed by while still a date ("on the 4th at 9").
_AFTER_ORDINAL = (r"(?=\s{0,2}(?:[.,;:)!?]|$)|\s{1,2}(?:at|and|or|when|for|to|until|in|with"
                  r"|per|as|if|but|then|because|since|instead|so)\b)")
ORDINAL = re.compile(r"\b" + CUE + r"\s{1,2}the\s{1,2}(" + _ORDINAL + r")\b" + _AFTER_ORDINAL,
                     re.IGNORECASE)
_ORDINAL_GATE = re.compile(r"the\s{1,2}[0-9]", re.IGNORECASE)
_DAY_MONTH_GATE = re.compile(r"(?:1[3-9]|2[0-9]|3[01])/[0-9]")
DAY_MONTH = re.compile(
    r"\b" + CUE + r"\s{0,2}:?\s{1,2}((?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]|1[0-2]))\b(?![/\d]|\.\d)",
    re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of the cued partial dates of a folded text."""
    out: list[Span] = []
    for m in YEAR2_DAY_FIRST.finditer(folded):
        if _DAY_OK.match(folded[m.start():].split(None, 1)[0].rstrip(".-")):
            out.append((m.start(), m.end(), Placeholder.DATE))
    for m in YEAR2_MONTH_FIRST.finditer(folded):
        word = folded[m.start():m.start(1)].split(None, 1)[0]
        if _MONTH_WORD.fullmatch(word) and _DAY_OK.match(m.group(1)):
            out.append((m.start(), m.end(), Placeholder.DATE))
    if "[DATE]" in folded:
        out += [(m.start(), m.end(), Placeholder.DATE) for m in YEAR2_MARK.finditer(folded)]
    if _ORDINAL_GATE.search(folded):
        out += _cued_groups(folded, _DIGIT_AFTER_SPACE, _ORDINAL_AT, _ORDINAL_CUE_BEFORE)
    if _DAY_MONTH_GATE.search(folded):
        out += _cued_groups(folded, _DAY_AFTER_SPACE, _DAY_MONTH_AT, _DAY_MONTH_CUE_BEFORE)
    if _MONTH_DAY_DASH_GATE.search(folded):
        out += [sp for sp in _cued_groups(folded, _DIGIT_AFTER_SPACE, _MONTH_DAY_DASH_AT,
                                          _DAY_MONTH_CUE_BEFORE)
                if _hour_free(folded, sp)]
    return out


def _hour_free(folded: str, sp: Span) -> bool:
    """Whether a cued month-day is no clock range: ``am``/``pm`` after it only when its
    day cannot be an hour (``ready on 5-28 pm``; ``from 2-3 pm`` stays)."""
    if _CLOCK_AFTER.match(folded, sp[1]) is None:
        return True
    return int(folded[sp[0]:sp[1]].split("-")[1]) > 12


#: ``ORDINAL`` and ``DAY_MONTH`` from their number: each opens with a cue alternation that
#: ``re`` tries at every position of the text; the number (group 1) follows whitespace and
#: opens with a digit, which ``re`` skips to. Each number is matched where it stands
#: (``*_AT``: group 1 and what follows it) and the cue looked for right before it
#: (``*_CUE_BEFORE``, ending at the number). Two matches of either never overlap (each
#: ends at its number, the next cue starts a word after it), so the numbers with a cue
#: before are the groups ``finditer`` gives (``tests/activities/deid/test_cues_fast.py``).
_DIGIT_AFTER_SPACE = re.compile(r"[0-9](?<=\s[0-9])")
_DAY_AFTER_SPACE = re.compile(r"[123](?<=\s[123])")
_ORDINAL_AT = re.compile(_ORDINAL + r"\b" + _AFTER_ORDINAL, re.IGNORECASE)
_ORDINAL_CUE_BEFORE = re.compile(r"\b" + CUE + r"\s{1,2}the\s{1,2}\Z", re.IGNORECASE)
_DAY_MONTH_AT = re.compile(r"(?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]|1[0-2])\b(?![/\d]|\.\d)",
                           re.IGNORECASE)
_DAY_MONTH_CUE_BEFORE = re.compile(r"\b" + CUE + r"\s{0,2}:?\s{1,2}\Z", re.IGNORECASE)
_MONTH_DAY_DASH_GATE = re.compile(r"[0-9]-[0-9]")
#: A month-day with a dash (``5-28``), where the clause ends or a function word or
#: ``am``/``pm`` follows; no year, range or decimal after it.
_MONTH_DAY_DASH_AT = re.compile(r"(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12][0-9]|3[01])\b"
                                r"(?![-/]|\.[0-9])(?=" + _AFTER_ORDINAL[3:-1]
                                + r"|\s{1,2}(?:am|pm)\b)", re.IGNORECASE)
_CLOCK_AFTER = re.compile(r"\s{1,2}(?:am|pm)\b", re.IGNORECASE)
#: The longest cue with its whitespace ("appointment", "as  of"; "the" and spaces).
_CUE_REACH = 24


def _cued_groups(folded: str, starts: re.Pattern[str], at: re.Pattern[str],
                 cue: re.Pattern[str]) -> list[Span]:
    out: list[Span] = []
    for d in starts.finditer(folded):
        g = d.start()
        m = at.match(folded, g)
        if m is not None and cue.search(folded, max(0, g - _CUE_REACH), g) is not None:
            out.append((g, m.end(), Placeholder.DATE))
    return out



#: A superset of the texts ``find`` finds something in (RE2, case-insensitive). Each part
#: holds what its form needs around the number, as ``find`` reads it: a two-digit year ends
#: a word; an ordinal, a day/month and a month-day follow their cue (``CUE``, then
#: whitespace); a day/month or a month-day ends a word and is no part of a longer run of
#: digits, slashes or dashes (``BP 121/80`` holds ``21/8`` but no cue, and its ``21`` follows
#: a digit: no date, and the text is no longer sent to ``find``).
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_W = r"[\t-\r\x1c-\x1f ]"
_CUE_RE2 = r"\b" + CUE.replace(r"\s", _W)
#: What may follow the number (``\b``, then no ``/``, digit or ``.`` and a digit; for a
#: month-day no ``-`` either).
_END = r"(?:$|[^0-9a-z_/.]|\.(?:$|[^0-9]))"
_END_DASH = r"(?:$|[^0-9a-z_/.-]|\.(?:$|[^0-9]))"
TRIGGER = (r"(?:" + _MON + _W + r"{1,3}[0-9]{1,2}(?:st|nd|rd|th)?,?"
           r"|[0-9](?:st|nd|rd|th)?[\t-\r\x1c-\x1f .-]{1,3}" + _MON
           + r"|\[date\],?)" + _W + r"{1,3}'?[0-9]{2}(?:$|[^0-9a-z_])"
           r"|" + _CUE_RE2 + _W + r"{1,2}the" + _W + r"{1,2}" + _ORDINAL + r"(?:$|[^0-9a-z_])"
           r"|" + _CUE_RE2 + _W + r"{0,2}:?" + _W + r"{1,2}(?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]"
           r"|1[0-2])" + _END
           + r"|" + _CUE_RE2 + _W + r"{0,2}:?" + _W + r"{1,2}(?:0?[1-9]|1[0-2])-(?:0?[1-9]"
           r"|[12][0-9]|3[01])" + _END_DASH)
#: The rule, for the rule table.
RULE = FunctionRule("date-parts", TRIGGER, find)
