"""Ages over 89 in the short forms handovers and clinic letters use (deid12f).

The patterns read an age over 89 with its unit (``94 years``, ``94y``, ``F/94``); three more
shapes say "an age" as plainly, in any writer's notes (45 CFR 164.514(b)(2)(i)(C): every
age over 89 and every element of it):

* **months after the years** (``97y 4m``, ``101y 11mo``): the patterns take the years and
  leave the months, which narrow the age further; the years and the months go as one
  (in the scrubber's output the years are ``[AGE>89]`` already; ``90y1m`` is read too);
* an **ordinal birthday** of 90 or more (``her 98th birthday``, ``party for his 101st.``):
  after a possessive where the clause ends, or before ``birthday``; ``her 95th
  percentile``, ``the 90th centile``, ``his 100th admission`` stay;
* a **sex glued to the age** (``M93,``, ``F102 for review``) where a clause opens, as a
  triage line or a bed list writes it. ICD-10 codes have this shape too (``F90`` ADHD,
  ``M93`` osteochondropathy), so an age from 90 to 99 is read only where a comma or a word
  of a sentence follows and no code's word (``ICD``, ``Dx``, ``code``, ``diagnosis``) or
  code after a comma is near; from 100 no code has three digits, so any clause opening
  does. Sex letters are upper case; the sex stays;
* an **age after a person's ``is``** (``She is 94 and lives alone``, ``Lola is 99 and still
  walks``, deid12h): a pronoun, a kin word or a given name, ``is``/``was``/``turned``, the
  age with no unit, and the clause going on or ending; a measure's ``is`` stays (``HR is 99
  and regular``, ``Ferritin is 95``, ``temp is 99.1``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: An age over 89 (``patterns._AGE``).
_AGE = r"(?:9[0-9]|1[01][0-9])"
#: The months after the years: ``4m``, ``11 mo``, ``3 mths``, ``7 months``.
YEARS_MONTHS = re.compile(
    r"(?:\[AGE>89\]|(?<![0-9.])" + _AGE + r")[ \t]{0,2}(?:y|yr|yrs|years?)[ \t,]{0,3}"
    r"([0-9]{1,2}[ \t]{0,2}(?:m|mo|mos|mth|mths|months?))(?![a-z0-9])", re.IGNORECASE)
_ORD = r"(" + _AGE + r"(?:st|nd|rd|th))"
#: An ordinal birthday of 90 or more: before ``birthday``, or after a possessive where the
#: clause ends.
BIRTHDAY = re.compile(
    r"(?<![a-z0-9])" + _ORD + r"[ \t]{1,2}(?:birthday|b'?day)\b"
    r"|(?<![a-z])(?:his|her|their|pt's|patient's)[ \t]{1,2}" + _ORD
    + r"(?=[ \t]{0,2}(?:[.;,!)\n]|$))", re.IGNORECASE)
#: A sex glued to an age where a clause opens (a line, ``|``, ``:``, ``;`` or a full stop).
SEX_AGE = re.compile(
    r"(?:^|(?<=[\n|:;])|(?<=[.!?][ \t])|(?<=[\n|:;][ \t]))[ \t]{0,2}(?-i:[MF])"
    r"(" + _AGE + r")(?![0-9.a-zA-Z])(?=([ \t]{0,2}[,)]|[ \t]{1,2}[a-z]))", re.MULTILINE)
#: A code's word before (``Dx: F90, F32``) or a code after a comma (``F90, F32.1``).
_CODE_NEAR = re.compile(r"\b(?:icd|dx|ddx|code[sd]?|coding|diagnos[ie]s|f-code)\b",
                        re.IGNORECASE)
_CODE_AFTER = re.compile(r"[ \t]{0,2},[ \t]{0,2}[A-Z][0-9]{2}\b")


def _sex_age(folded: str, m: re.Match[str]) -> bool:
    """Whether a sex glued to a number is an age, not an ICD-10 code."""
    if int(m.group(1)) >= 100:
        return True
    line_start = folded.rfind("\n", 0, m.start()) + 1
    before = folded[max(line_start, m.start() - 40):m.start()]
    return not _CODE_NEAR.search(before) and not _CODE_AFTER.match(folded, m.end(1))


#: A person, ``is``/``was``/``turned`` and an age over 89 with no unit, where the clause
#: goes on or ends (``She is 94 and lives alone``, ``Lola is 99 and still walks``, ``Nan
#: turned 101.``; deid12h): a pronoun, a kin word or a given name as the subject (``_person``). A
#: measure as the subject (``HR is 99 and regular``, ``Sats were 94``) is no person; a
#: decimal, a percent or a unit after the number is a measure too.
_KIN = (r"she|he|pt|patient|mum|mom|mother|dad|father|nan|nana|gran|granny|grandma|grandpa"
        r"|grandmother|grandfather|lola|lolo|abuela|abuelo")
_PERSON = r"(?:" + _KIN + r"|(?-i:[A-Z][a-z]{2,}))"
_KIN_SUBJECT = re.compile(_KIN)
_MEASURES = frozenset(("hr", "pulse", "sats", "spo2", "temp", "bp", "rr", "glucose", "weight",
                       "score", "sodium", "level", "count", "rate", "it", "this", "that", "he's",
                       "which", "result", "total"))
IS_AGE = re.compile(r"(?<![A-Za-z])(" + _PERSON + r")[ \t]{1,2}(?:is|was|turned|turns|just"
                    r"[ \t]turned|is[ \t]now|now)[ \t]{1,2}(" + _AGE + r")(?![0-9%]|\.[0-9])"
                    r"(?=[ \t]{0,2}(?:[.,;!)]|$|(?:and|but|with|today|now|this|last|next|on|in"
                    r"|yesterday|tomorrow)\b))", re.IGNORECASE)


def _person(subject: str) -> bool:
    """Whether the subject before ``is`` is a person: a pronoun or a kin word, or a
    capitalised word that is a given name of the dictionary (``Lola``, ``Mary``; not
    ``Ferritin``, ``Platelets``, ``Sats``)."""
    low = subject.lower()
    if low in _MEASURES:
        return False
    if _KIN_SUBJECT.fullmatch(low):
        return True
    return low.replace("'", "").replace("-", "") in dictionary()[0]


def find(folded: str) -> list[Span]:
    """Spans of the months after an age over 89, an ordinal birthday of 90 or more, an
    age glued to a sex where a clause opens and an age after a person's ``is``."""
    out: list[Span] = [(m.start(), m.end(1), Placeholder.AGE)
                       for m in YEARS_MONTHS.finditer(folded)]
    for m in BIRTHDAY.finditer(folded):
        g = 1 if m.group(1) is not None else 2
        out.append((m.start(g), m.end(g), Placeholder.AGE))
    out += [(m.start(1), m.end(1), Placeholder.AGE) for m in SEX_AGE.finditer(folded)
            if _sex_age(folded, m)]
    out += [(m.start(2), m.end(2), Placeholder.AGE) for m in IS_AGE.finditer(folded)
            if _person(m.group(1))]
    return out


_A = r"(?:9[0-9]|1[01][0-9])"
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a ``y`` and
#: a month's unit after an age or its mark; an ordinal of 90 or more; a sex glued to one.
TRIGGER = (r"(?:\]|" + _A + r")" + WS + r"{0,2}y[a-z]*[ \t,]{0,3}[0-9]{1,2}" + WS + r"{0,2}m"
           r"|" + _A + r"(?:st|nd|rd|th)"
           r"|(?:^|[^a-z0-9])[mf]" + _A + r"(?:[^0-9.a-z]|$)"
           r"|(?:is|was|turned|turns|now)" + WS + r"{1,2}" + _A)
#: The rule, for the rule table.
RULE = FunctionRule("age-forms", TRIGGER, find)
