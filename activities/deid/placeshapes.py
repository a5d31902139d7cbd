"""Places written in shapes other countries' and services' addresses use (deid12f).

45 CFR 164.514(b)(2)(i)(B) takes every geographic subdivision smaller than a state: the
street address, the city, the postcode and their equivalents abroad. Four shapes name a
home whatever the place's name, so no gazetteer is needed:

* a **what3words address** (``///filled.count.soap``): three words naming a 3 m square,
  as ambulance services and rural notes give a location; after ``///``, or after
  ``what3words``/``w3w`` without the slashes. ``file:///a.b.c`` stays (a path);
* a **room in a residence hall** (``Kingsley Hall rm 442``, ``Birchwood Halls, room
  12B``): a student's home address, the hall's name and the room. A hall that is a room
  of a building (``Lecture Hall rm 2``, ``Town Hall room 4``, ``Sports Hall``, ``Main
  Hall``) stays, as does a hospital's ward and room (not an address by itself);
* an **Australian town and postcode with its state** (``Footscray 3011, VIC``, ``Inala
  QLD 4077``, ``[ADDRESS] 2960 (NSW)``): one to three capitalised words and four digits
  next to a state's code in capitals (after the postcode, behind a comma or a bracket);
  the state stays. ``Hb 1234 SA node`` (no comma or bracket; ``Hb`` no town's word)
  stays;
* a **Canadian unit-civic address** (``42-1782 Maple View``, ``9-530 hicks lane``): the
  unit, a hyphen and the civic number, then one to three words (any case; a name replaced
  already) ending in a street's kind, as Canada Post writes a unit. The civic number has
  three digits or more (a house number of one or two is the address grammar's, with a
  capitalised street). A range of a count (``20-300 min walk``, ``10-120 days run``)
  stays: no word after the number may be a unit of time or measure (``forms.NOT_STREET``),
  ``am`` or ``pm``. Gives up: a three-digit unit before a four-digit civic number is a
  seven-digit telephone number to the patterns (``100-1000``), which take it first; the
  street's words then stay.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.forms import NOT_STREET
from medpipe.activities.deid.grammar import STREET_SUFFIX
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Three words joined by dots after ``///`` (or a what3words cue), not a file URL's path.
W3W = re.compile(r"(?<![:/A-Za-z0-9])(///[a-z]{2,20}\.[a-z]{2,20}\.[a-z]{2,20})(?![a-z.])"
                 r"|\b(?:what3words|w3w)\b[ \t:]{0,3}(?:address[ \t:]{1,3})?(?:is[ \t]{1,2})?"
                 r"((?:///)?[a-z]{2,20}\.[a-z]{2,20}\.[a-z]{2,20})(?![a-z.])", re.IGNORECASE)
_CAPWORD = r"[A-Z][a-z'-]+"
#: A hall's name, the hall and a room: the name one to three capitalised words.
HALL_ROOM = re.compile(
    r"(?<![A-Za-z])((?:" + _CAPWORD + r"[ \t]){1,3})(?:Hall|Halls|Residence|Residences|Lodge)"
    r",?[ \t]{1,2}(?i:rm|room|flat|apt|unit|no)\.?[ \t]{0,2}#?[ \t]{0,2}[0-9]{1,4}[A-Za-z]?\b")
#: Halls that are rooms of a building (or a council's), not a home.
_NOT_RESIDENCE = frozenset(
    "lecture town main sports sport dining exam examination assembly church concert"
    " exhibition city music study meeting conference entrance village great banquet"
    " festival common function county court market school college university student"
    " students hospital medical teaching training drill parish memorial sports' reading"
    " the a an at in of".split())
_STATE = r"(?:NSW|VIC|QLD|TAS|ACT|NT|SA|WA)"
#: A town's word: a capital and two lower-case letters or more (``Hb``, ``K`` are no town).
_TOWNWORD = r"[A-Z][a-z][a-z'-]+"
#: A town, its postcode, then its state (``Footscray 3011, VIC``, ``[ADDRESS] 2960 (VIC)``),
#: or the town, the state and the postcode (``Inala QLD 4077``).
AU_TOWN = re.compile(
    r"(?<![A-Za-z])((?:" + _TOWNWORD + r"[ \t]){0,2}" + _TOWNWORD + r"|\[ADDRESS\])"
    r"(?:[ \t]{1,2}([0-9]{4})(?=(?:,[ \t]{0,2}\(?|[ \t]{0,2}\()" + _STATE + r"\b)"
    r"|,?[ \t]{1,2}(?=" + _STATE + r"\b)" + _STATE + r"[ \t]{1,2}([0-9]{4}))(?![0-9])")
_KIND = (r"(?:" + STREET_SUFFIX + r"|views?|walks?|falls?|forges?|crossroads?|locks?|prairies?"
         r"|runs?|rows?|walls?|wells?|keys?|pass|passage|stations?|camps?|bends?|fields?|tracks?"
         r"|clubs?|necks?|bridges?|malls?|lands?|rests?|lights?|springs?|unions?|courses?"
         r"|close|gate|gates|hill|rise|wynd|chase|line|sideroad|concession|crest|centre)")
#: A unit, a hyphen, a civic number, one to three words and a street's kind.
UNIT_CIVIC = re.compile(
    r"(?<![0-9A-Za-z.,/-])([0-9]{1,4}-[0-9]{3,6}[ \t]{1,2}(?:(?:(?!(?:am|pm)\b)" + NOT_STREET
    + r"[A-Za-z][A-Za-z'-]{1,24}|\[NAME\])[ \t]{1,2}){1,3}" + _KIND + r")\b\.?",
    re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of a what3words address, a room in a residence hall, an Australian town and
    postcode before or after its state, and a Canadian unit-civic address."""
    out: list[Span] = []
    if "///" in folded or "w3w" in folded.lower() or "what3words" in folded.lower():
        for m in W3W.finditer(folded):
            g = 1 if m.group(1) is not None else 2
            out.append((m.start(g), m.end(g), Placeholder.ADDRESS))
    for m in HALL_ROOM.finditer(folded):
        words = m.group(1).split()
        while words and (words[0].lower() in _NOT_RESIDENCE or words[0].lower() in NOT_NAMES):
            words.pop(0)
        if words and not any(w.lower() in _NOT_RESIDENCE for w in words):
            out.append((m.end(1) - len(" ".join(words)) - 1, m.end(), Placeholder.ADDRESS))
    for m in AU_TOWN.finditer(folded):
        code = 2 if m.group(2) is not None else 3
        out.append((m.start(code), m.end(code), Placeholder.ADDRESS))
        start, town = m.start(1), m.group(1)
        for w in town.split() if town != "[ADDRESS]" else ():
            if w.lower() not in NOT_NAMES:  # a sentence's first word ("Lives Inala QLD 4077")
                out.append((start, m.end(1), Placeholder.ADDRESS))
                break
            start = folded.index(w, start) + len(w) + 1
    if "-" in folded:
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in UNIT_CIVIC.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): ``///`` and
#: a word, or a what3words cue; a hall and a room; four digits beside a state's code; a
#: unit-civic number (no digit group before it: not an SSN's or a telephone's tail) before
#: a word.
TRIGGER = (r"///[a-z]{2}|(?:what3words|w3w)[^a-z]"
           r"|(?:hall|halls|residences?|lodge),?" + WS + r"{1,2}(?:rm|room|flat|apt|unit|no)"
           r"|[0-9]{4},?" + WS + r"{0,2}\(?(?-i:" + _STATE + r")|(?-i:" + _STATE + r")" + WS
           + r"{1,2}[0-9]{4}"
           r"|(?:^|[^0-9/.,-])[0-9]{1,4}-[0-9]{3,6}" + WS + r"{1,2}[a-z\[]")
#: The rule, for the rule table.
RULE = FunctionRule("place-shapes", TRIGGER, find)
