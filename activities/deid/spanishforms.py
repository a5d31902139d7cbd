"""Dates and ages written in Spanish, as notes of a border hospital carry them (deid12h).

The date grammar and the age patterns read English: a US hospital near the border writes
half its notes in Spanish (interpreters' summaries, the family's words, a nurse's note),
and there a date is ``14 de marzo``, ``14 de marzo de 1957``, ``marzo del 2019`` or
``3/ago/2024``, and an age is ``94 años``. 45 CFR 164.514(b)(2)(i)(C) asks for every element
of a date but the year, and every age over 89, whatever the language:

* a **day and a Spanish month** (``el 7 de noviembre``, ``3 de marzo de 1938``,
  ``15 de Agosto del 2020``): a day 1-31, ``de``, a month's name, and the year after
  ``de``/``del`` when there is one;
* a **Spanish month and a year** (``mayo del 2015``, ``octubre de 2020``, ``enero 2024``):
  the month's name, ``de``/``del`` or nothing, and a four-digit year. ``Mayo`` alone (a
  county, a clinic, a family name) is no date; only a year after it makes one;
* a **day, a Spanish month's abbreviation and a year** between slashes, dots or dashes
  (``3/ago/2024``, ``14-dic-19``), for the four abbreviations English does not share
  (``ene``, ``abr``, ``ago``, ``dic``; ``mar``, ``may``, ``jun``... are the grammar's);
* an **age over 89 in years** (``99 años``, ``101 anos`` once the accent is folded,
  ``92 años de edad``): the number and the word, as the age patterns take ``94 years``.

Python ``re`` on the folded text (``ñ`` is ``n`` there), through the rule table
(``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: The months' names, folded (``setiembre`` is the spelling of part of Latin America).
MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "setiembre", "octubre", "noviembre", "diciembre")
_MES = "(?:" + "|".join(MESES) + ")"
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_YEAR = r"(?:1[89][0-9]{2}|20[0-9]{2})"
#: A day, ``de`` and a month, then ``de``/``del`` and a year when there is one.
DAY_DE_MES = re.compile(
    r"(?<![0-9A-Za-z.,/-])" + _DAY + r"(?:o|ro|vo|[\u00ba\u00b0])?[ \t]{1,2}de[ \t]{1,2}"
    + _MES + r"(?:[ \t]{1,2}del?[ \t]{1,2}" + _YEAR + r"|,?[ \t]{1,2}" + _YEAR + r")?"
    r"(?![A-Za-z0-9])", re.IGNORECASE)
#: A month and a four-digit year (``de``/``del``, or a space, between).
MES_YEAR = re.compile(
    r"(?<![A-Za-z])" + _MES + r"(?:[ \t]{1,2}del?[ \t]{1,2}|,?[ \t]{1,2})" + _YEAR
    + r"(?![0-9])", re.IGNORECASE)
#: A day, an abbreviation only Spanish uses, and a year.
DAY_ABBR = re.compile(
    r"(?<![0-9A-Za-z])" + _DAY + r"([./-])(?:ene|abr|ago|dic)\.?\1(?:[0-9]{4}|[0-9]{2})"
    r"(?![0-9A-Za-z])", re.IGNORECASE)
#: An age over 89 and ``años`` (folded: ``anos``), ``año`` too (a slip of one letter).
ANOS = re.compile(r"(?<![0-9.,/])(?:9[0-9]|1[01][0-9])[ \t]{0,2}anos?(?![A-Za-z])"
                  r"(?:[ \t]{1,2}de[ \t]{1,2}edad(?![A-Za-z]))?", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of Spanish dates (day and month, month and year, a day between slashes with a
    Spanish abbreviation) and of ages over 89 in ``años``."""
    out: list[Span] = [(m.start(), m.end(), Placeholder.DATE)
                       for pattern in (DAY_DE_MES, MES_YEAR, DAY_ABBR)
                       for m in pattern.finditer(folded)]
    out += [(m.start(), m.end(), Placeholder.AGE) for m in ANOS.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a month's
#: name, a day and an abbreviation only Spanish uses, or a number before ``ano``.
TRIGGER = (_MES
           + r"|[0-9][./-](?:ene|abr|ago|dic)"
           r"|[0-9]" + WS + "{0,2}ano")
#: The rule, for the rule table.
RULE = FunctionRule("spanish-forms", TRIGGER, find)
