"""A town before its state: a town's name known by the state written after it.

Safe Harbor keeps a state and takes every subdivision smaller (45 CFR
164.514(b)(2)(i)(B)); a state written out after a run of capitalized words says the run is
a town, whatever the gazetteer knows of it (invented and small towns: ``Spent the winter
in Jessicachester, Tennessee``). General forms found by ``fresh-10``:

* a **town before a state spelled out** (``Glenwood, Iowa``, ``Port Angela West
  Virginia``) after a place word (``in``, ``from``, ``to``, ``near``, ``outside``,
  ``of``, ``at``) or right after a street's mark (``[ADDRESS] Lake Heather Tennessee``):
  the shortest run of one to three capitalized words before the state, so the state's
  own words stay (``West Virginia``);
* a **town between a street's mark and a state code** (``[ADDRESS], PORT BROOKEBURGH,
  OR``, ``[ADDRESS] 9, South Lisa, OH``), in any case: the patterns took the street,
  the town is the next field (a unit's number the patterns left may stand between).

A run that is itself a state, a region or a country stays, as does one holding a note word
(``Mayo Clinic, Minnesota``). Python ``re`` on the folded text, through the rule table
(``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import geo, grammar
from medpipe.activities.deid.hoodforms import PREFIX
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: The fifty states and the District of Columbia, as written out.
STATES = ("Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida"
          "|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine"
          "|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska"
          "|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota"
          "|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota"
          "|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin"
          "|Wyoming|District of Columbia")
_STATE = r"(?:" + STATES + r"|" + STATES.upper() + r")(?![A-Za-z])"
#: A state's code (the fifty and DC, ``grammar.STATE_CODES``) as a word of its own.
CODES = r"(?:" + grammar.codes(grammar.STATE_CODES) + r")(?![A-Za-z])"
_WORD = r"(?:[A-Z][a-z][A-Za-z'-]*|[A-Z]{2,}[A-Z'-]*)"
_RUN = _WORD + r"(?:[ \t]" + _WORD + r"){0,2}?"
#: A unit's number the patterns left after a street's mark (``[ADDRESS] 9``).
_LEFT = r"(?:[ \t][0-9][0-9A-Za-z]{0,4})?"
BEFORE_STATE = re.compile(r"(?:\[ADDRESS\]" + _LEFT + r",?|\b(?i:in|from|to|near|outside|of|at))"
                          r"[ \t]{1,2}(" + _RUN + r"),?[ \t]{1,2}" + _STATE)
_ANY = r"[A-Za-z][A-Za-z'-]+"
AFTER_MARK = re.compile(r"\[ADDRESS\]" + _LEFT + r",[ \t]{0,2}(" + _ANY + r"(?:[ \t]"
                        + _ANY + r"){0,2}),[ \t]{0,2}(?:" + CODES + r"|" + _STATE + r")")


def _town(run: str) -> bool:
    """Whether a run before a state is a town: no state, region or country itself, no word
    of it a note word (``Mayo Clinic, Minnesota``) but a first one that opens a town's
    name (``North Markton``)."""
    low = run.lower()
    words = low.split()
    if len(words) > 1 and words[0] in PREFIX:
        words = words[1:]
    return low not in geo.gazetteer().regions and not any(w in NOT_NAMES for w in words)


def find(folded: str) -> list[Span]:
    """Spans of towns before a state written out, or between a street's mark and a state."""
    out = [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in BEFORE_STATE.finditer(folded)
           if _town(m.group(1))]
    if "[ADDRESS]" in folded:
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in AFTER_MARK.finditer(folded)
                if _town(m.group(1))]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a state
#: written out after a capital's word, or a street's mark, a field and a comma.
TRIGGER = (r"(?-i:[A-Z])[A-Za-z'-]*,?[ \t]{1,2}(?-i:" + STATES + r"|" + STATES.upper()
           + r")(?:[^A-Za-z]|$)|\[address\](?:[ \t][0-9][0-9a-z]{0,4})?,[ \t]{0,2}[a-z]")
#: The rule, for the rule table.
RULE = FunctionRule("state-forms", TRIGGER, find)
