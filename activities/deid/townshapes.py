"""Towns known by their shape after a bare preposition: ``came in from Ruthfort``.

The place rules know a town by the gazetteer (15,000 people and more), by a verb cue
(``lives in``, ``moved to``, ``born in``), by a prefix or a feature word, or by the state
after it. A triage or EMS note writes the town after a bare preposition with no verb
(``came in from X by private vehicle``, ``en route to X``, ``two hours north of X``),
where a capital after ``in``/``from``/``to`` alone is as often a language, a department or
a scale; probed in recall11 (``bench/deid_places_probe.py``): a made-up town after
``from`` was never found. English place names are made in a few ways that other capitalized
words are not: a name and one of the old words for a settlement, a fort, a ford or a
harbour (``-ton``, ``-ville``, ``-burgh``, ``-borough``, ``-chester``, ``-field``,
``-ford``, ``-haven``, ``-mouth``, …: the suffixes of English, Scots and Dutch/German
toponyms, and those Faker's city providers build towns with). General form found by
``fresh-11``:

* a **town-shaped word before a state** (``Robertfort, KS``, ``Abigailland Kansas``) or
  before ``resident``/``native`` (``Sotoburgh resident``), with no cue; a town's prefix and
  any capitalized word there too (``Port Paul, KS``, ``New Austin resident``); the same
  checks (``West Virginia, WV`` and ``North Carolina resident`` stay);
* a **town-shaped word after a bare preposition** (``in``, ``from``, ``to``, ``near``, ``nr``,
  ``o/s``, ``outside``, ``around``, ``toward(s)``, ``past``, ``through``, ``via``, a direction
  and ``of``): one word that ends in a toponymic suffix, with a stem of two letters or more
  before it, and is no English, note, safe or chat word (``words.other_word``), no state or
  country (``Washington``, ``England``) and no eponym (``safelist.EPONYMS``:
  ``Trendelenburg``), with a town's prefix before it (``Port Anthonybury``, ``New
  Alexanderfort``); in title case, in capitals, or in lower case (dictation: ``brought in
  from chrisburgh``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import geo
from medpipe.activities.deid.safelist import EPONYMS
from medpipe.activities.deid.stateforms import CODES, STATES
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Endings of English (and Scots, Dutch, German) place names: an old word for a farm, a
#: settlement, a fort, a ford, a harbour, a hill or a wood after a name.
SUFFIXES = ("ton|town|ville|burg|burgh|berg|borough|boro|bury|chester|caster|cester|field"
            "|ford|fort|furt|haven|mouth|port|shire|stad|side|view|land|dale|wood|ham|mont"
            "|ridge|worth|wick|stead|minster|polis|heim|dorf|bourg")
_PREP = (r"(?:in|from|to|near|nr|o/s|outside|around|towards?|past|through|via"
         r"|(?:north|south|east|west|northeast|northwest|southeast|southwest)[ \t]{1,2}of)")
#: The words a town's name may start with before another word (``New Austin``).
TOWN_PREFIXES = ("North", "South", "East", "West", "New", "Lake", "Port", "Fort", "Mount", "Glen",
                 "Upper", "Lower", "Great", "Little")
_PREFIX = "(?:" + "|".join(TOWN_PREFIXES) + ")"
_SHAPE = r"[a-z]{2,}(?:" + SUFFIXES + r")"
SHAPED = re.compile(r"\b(?i:" + _PREP + r")[ \t]{1,2}((?:(?:" + _PREFIX + r"|" + _PREFIX.upper()
                    + r"|" + _PREFIX.lower() + r")[ \t])?(?-i:[A-Z](?:" + _SHAPE + r")|[A-Z]{3,}"
                    r"(?:" + SUFFIXES.upper() + r")|[a-z]{3,}(?:" + SUFFIXES + r")))"
                    r"(?![A-Za-z0-9_'-])")

#: A town-shaped word (``Robertfort``), or a town's prefix and a capitalized word (``Port
#: Paul``), before a state (``, KS``, ``Kansas``) or ``resident``/``native``: no cue needed.
BEFORE_STATE = re.compile(r"(?<![A-Za-z0-9'-])((?:" + _PREFIX + r"[ \t])?[A-Z](?:" + _SHAPE
                          + r")|" + _PREFIX + r"[ \t][A-Z][a-z][A-Za-z'-]*)(?:,?[ \t]{1,2}(?:"
                          + CODES + r"|" + STATES + r")(?![A-Za-z])|[ \t](?i:resident|native)"
                          r"\b)")


def _town(run: str) -> bool:
    """Whether a town-shaped run is a town: its last word no English, note, safe or chat
    word, no eponym, and the run no state or country."""
    word = run.split()[-1]
    low = word.lower()
    regions = geo.gazetteer().regions
    return other_word(word) and low not in EPONYMS and low not in regions \
        and run.lower() not in regions


def find(folded: str) -> list[Span]:
    """Spans of town-shaped words after a bare preposition, and of a town-shaped word or a
    prefix and a word before a state or ``resident``."""
    out = [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in SHAPED.finditer(folded)
           if _town(m.group(1))]
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in BEFORE_STATE.finditer(folded)
            if _town(m.group(1))]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a bare
#: preposition, then a word ending in a toponymic suffix; a capital's word before a comma
#: and a state's code or name, or before ``resident``/``native``.
TRIGGER = (r"\b(?:in|from|to|near|nr|o/s|outside|around|towards?|past|through|via|of)[ \t]+"
           r"(?:[a-z]+[ \t])?[a-z]{3,}(?:" + SUFFIXES + r")\b|(?-i:[A-Z])[a-z'-]+,?[ \t]+(?:(?-i:"
           + CODES.replace("(?![A-Za-z])", "") + r"|" + STATES + r")|resident|native)")
#: The rule, for the rule table.
RULE = FunctionRule("town-shapes", TRIGGER, find)
