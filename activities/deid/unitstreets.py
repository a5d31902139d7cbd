"""A street by its house number and what comes after it, whatever the street's kind.

The address patterns know a street by its kind (``grammar.STREET_SUFFIX``: ``Oak St``,
``Birch Lane``); a kind on no list (``Wall``, ``Keys``, ``Falls``, ``Station``, ``Camp``,
``Lights``, ``Mission`` are USPS suffixes left off it because they are mostly something
else in notes) left the house number and the street in the text while the unit after it
went (``32781 Michael Wall [ADDRESS]``). Read over six seeds of ``sealed`` (deid12), the
forms below were most of its GEO misses, in every seed; 45 CFR 164.514(b)(2)(i)(B) takes
every part of a street address:

* a **street before its unit**: a house number, one to three words (any case, or a name
  already replaced: ``[NAME]``; none a unit, dose or function word) and a unit designator
  with its number (``Apt. 367``, ``Suite 340``, ``Unit 12``, ``Ste #4``): a unit after
  words after a number is an address line, whatever the street's last word;
* a **unit number alone** after ``Unit`` (``Same building, Unit 642``): three to five
  digits, as a building numbers its homes (floor then door); the word stays. ``Unit 4
  West``, ``Unit 7`` (a ward, an ambulance) have fewer digits, and a count or a measure
  after the number (``unit 100 of 200``, ``unit 250 mL``) is no home;
* a **street after a word that sends or fetches** something there (``sent to``, ``mailed
  to``, ``pick-up:``, ``drop-off at``, ``see pt at``): a house number and two to four
  words, up to a comma, a bracket, a stop or the line's end, one of them a name of the
  dictionary, a name replaced already or no English word (``Transport pick-up: 4905 mary
  station (ring bell twice)``, ``Letter sent to 82157 Horton Camp, Clementsville``: the town
  after the comma is ``cityforms``' once the street is ``[ADDRESS]``; ``sent to 3 outside
  hospitals`` stays).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.forms import NOT_STREET
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import english
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: A house number: not inside another number, a word, a decimal or a date.
_NUMBER = r"(?<![A-Za-z0-9.,/:-])[0-9]{1,6}[A-Za-z]?"
#: One word of a street's name (any case; a name replaced before counts as one).
_WORD = r"(?:" + NOT_STREET + r"[A-Za-z][A-Za-z'-]{1,24}|\[NAME\])"
_DIRECTION = r"(?:(?i:[nsew]|north|south|east|west)\.?[ \t]{1,2})?"
_DESIGNATOR = r"(?i:apt|apartment|suite|ste|unit)\.?[ \t]{0,2}#?[ \t]{0,2}[0-9]{1,5}[A-Za-z]?\b"


def _street(more_words: str) -> str:
    """A house number, a direction and the street's name: its first word and then
    ``more_words`` (a regex count such as ``{0,2}``) more; the name is the inner group."""
    return (_NUMBER + r"[ \t]{1,2}" + _DIRECTION
            + r"(" + _WORD + r"(?:[ \t]{1,2}" + _WORD + r")" + more_words + r")")


STREET_BEFORE_UNIT = re.compile(
    r"(" + _street("{0,2}") + r"[ \t]{1,2},?[ \t]{0,2}" + _DESIGNATOR + r")",
    re.IGNORECASE,
)
UNIT_ALONE = re.compile(
    r"(?<![0-9][ \t])(?<![0-9])\b(?i:unit)[ \t]{0,2}(?:#|(?i:no)\.?)?[ \t]{0,2}([0-9]{3,5}"
    r"[A-Za-z]?)\b(?![ \t]{0,2}(?:[/%x-]|(?i:of|to|and|or|mg|mcg|ml|l|cc|units?|mls?|hours?"
    r"|hrs?|min|north|south|east|west|[nsew])\b|[.,][0-9]))"
)
_SENDS = (
    r"(?i:(?:sent|mailed|mail|shipped|ship|delivered|deliver|forwarded|returned)"
    r"[ \t]{1,2}to|(?:pick|drop)[ -]?(?:up|off)(?:[ \t]{1,2}(?:at|from))?[ \t]{0,2}:?"
    r"|(?:see|seen|visit|visited)[ \t]{1,2}(?:pt|patient|him|her|them)[ \t]{1,2}at)"
)
CUED_STREET = re.compile(
    r"\b" + _SENDS + r"[ \t]{1,2}(" + _street("{1,3}") + r")(?=[ \t]{0,2}(?:[,.;:()|\n]|#|$))",
    re.IGNORECASE,
)


def _words_ok(words: str) -> bool:
    """No word of the street is a note word (a unit, a dose, a function word)."""
    return not any(w.lower() in NOT_NAMES for w in words.split() if w != "[NAME]")


def _named(words: str) -> bool:
    """Some word of the street is a name (of the dictionary, or replaced already) or no
    English word: a count after a cue is all English words ("sent to 3 outside hospitals",
    "mailed to 2 other addresses"), a street's name mostly holds a person's or a place's."""
    given, family = dictionary()
    low = words.lower().split()  # "[name]" is no English word
    return any(w not in english() or w in given or w in family for w in low)


def find(folded: str) -> list[Span]:
    """Spans of streets before their unit, units alone after ``Unit`` and streets after a
    word that sends or fetches something there."""
    out = [
        (m.start(1), m.end(1), Placeholder.ADDRESS)
        for m in STREET_BEFORE_UNIT.finditer(folded)
        if _words_ok(m.group(2))
    ]
    out += [
        (m.start(1), m.end(1), Placeholder.ADDRESS)
        for m in CUED_STREET.finditer(folded)
        if _words_ok(m.group(2)) and _named(m.group(2))
    ]
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in UNIT_ALONE.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = (
    r"(?:apt|apartment|suite|ste|unit)\.?[ \t]*(?:#|no\.?)?[ \t]*[0-9]"
    r"|(?:to|up|off|at|from|:)[ \t]+[0-9]{1,6}[a-z]?[ \t]+[a-z\[]"
)
#: The rule, for the rule table.
RULE = FunctionRule("unit-streets", TRIGGER, find)
