"""A misspelled month in every shape a date takes, not only before its day.

``forms``' misspelled month (one or two edits from a month's name, same first letter:
``forms.near_month``) was read only before an ordinal day or a day and a year (``Febuary 9
1934``, ``Decmber 3rd``). Read over six seeds of ``sealed`` (deid12), half of its DATE misses
were the same typos in the other shapes of ``grammar``'s dates, in every seed (45 CFR
164.514(b)(2)(i)(C): every element of a date but the year):

* **day first** (``23 Auugust 2016``, ``the 6th of Maarch``, ``3rd Auggust``,
  ``25-Jaunary-64``): a day (an ordinal, or ``the``/``of`` around it), or a day and a year
  after the month;
* **month and year** (``Noovember 1977``, ``Agust 1934``): a four-digit year after it;
* **month and day alone** (``AUGSUT 28``, ``Deecember 1``): here a bare number after the
  word is all the date there is, so the word must also be no English word and no given
  name (``Mach 2``, ``Marc 3``, ``Judy 4`` stay).

The span is the whole date (the year too: a date's pieces go together, as the date patterns
take them). Python ``re`` on the folded text, through the rule table (``rules.MODULES``);
``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import itertools
import re

from medpipe.activities.deid.forms import MONTHS, near_month
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import english
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_ORDINAL = r"(?i:st|nd|rd|th)"
_WORD = r"([JFMASONDjfmasond][A-Za-z]{3,10})(?![A-Za-z])"
_YEAR = r"(?:19|20)[0-9]{2}(?![0-9])"
#: A day before the month: an ordinal or ``the``/``of`` (then a year optional), or a bare day
#: with a year after the month (``23 Auugust 2016``, ``25-Jaunary-64``).
DAY_FIRST = re.compile(
    r"(?<![A-Za-z0-9])((?:(?i:the)[ \t]{1,2})?" + _DAY + r"(?:" + _ORDINAL + r"(?:[ \t]{1,2}"
    r"(?i:of))?[ \t]{1,2}"
    + _WORD
    + r"\.?(?:,?[ \t]{1,2}"
    + _YEAR
    + r")?|(?:[ \t]{1,2}|-)"
    + _WORD
    + r"\.?(?:,?[ \t]{1,2}"
    + _YEAR
    + r"|-(?:[0-9]{2}|(?:19|20)[0-9]{2})(?![0-9]))))"
)
#: The month first, then a four-digit year, or a bare day (``AUGSUT 28``).
MONTH_FIRST = re.compile(
    r"(?<![A-Za-z])("
    + _WORD
    + r"\.?(?:,?[ \t]{1,2}("
    + _YEAR
    + r")|[ \t]{1,2}"
    + _DAY
    + r"(?![0-9]|[.,:/][0-9]|"
    + _ORDINAL
    + r")))"
)


def _no_word(word: str) -> bool:
    """Neither an English word nor a given name."""
    w = word.lower()
    return w not in english() and w not in dictionary()[0]


def find(folded: str) -> list[Span]:
    """Spans of dates whose month is misspelled, in the shapes ``forms`` does not read."""
    out: list[Span] = []
    for m in DAY_FIRST.finditer(folded):
        word = m.group(2) or m.group(3)
        if near_month(word):
            out.append((m.start(1), m.end(1), Placeholder.DATE))
    for m in MONTH_FIRST.finditer(folded):
        if near_month(m.group(2)) and (m.group(3) is not None or _no_word(m.group(2))):
            out.append((m.start(1), m.end(1), Placeholder.DATE))
    return out


def near_words() -> str:
    """An RE2 pattern (read case-insensitively) that every word ``near_month`` takes opens
    with: the month's first letter, then all but three of its other letters in order.

    Why that holds: two edits (``forms._edits``: insert, delete, substitute, swap two
    neighbours) leave at least all but two of a month's letters in the word, in order; at
    most one of them is the word's first letter, which is the month's. So the rest of the
    word holds all but three of the month's other letters in order. A word of the text
    takes the trigger only when it holds such a run (``Marhc``, ``Agust``, ``Setpember``),
    not any word of four letters or more before a number (``dose 5``, ``sats 94``, ``about
    3``: most clinical prose, where ``find`` found nothing: issue 17).
    """
    alternatives = {m[0] + "".join("[a-z]*" + c for c in kept)
                    for m in MONTHS if len(m) >= 4
                    for kept in itertools.combinations(m[1:], len(m) - 3)}
    return "(?:" + "|".join(sorted(alternatives)) + ")"


_NEAR = near_words()
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a day, then a
#: word that opens as a misspelled month does (``DAY_FIRST``), or such a word at a word's
#: start (``MONTH_FIRST``'s look-behind) before a year or a day.
TRIGGER = (
    r"[0-9](?:st|nd|rd|th)?(?:[ \t]+of)?[ \t-]+" + _NEAR
    + r"|(?:^|(?-i:[^A-Za-z]))" + _NEAR + r"[a-z]*\.?,?[ \t]+[0-9]"
)
#: The rule, for the rule table.
RULE = FunctionRule("month-typos", TRIGGER, find)
