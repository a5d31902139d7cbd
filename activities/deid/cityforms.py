"""Towns no gazetteer holds, told by where they stand: after a street, before a state.

``geo`` finds the places GeoNames lists; a town under 15,000 people or an invented one
(``Pruittside``, ``Dothan``) is found here by its position in an address, as clerks
write it:

* the **town after a street address** and a comma (``5257 Cedar Knoll Bnd,
  Pruittside``; in the scrubber the street is ``[ADDRESS]`` already): one to three
  capitalized words, none a function word, a unit or a document word
  (``words.NOT_NAMES``);
* the **town before its state** after a place cue (``based in Dothan, OH``, ``from Port
  Ellen, NY``): one to three capitalized words, a comma, a USPS state code in capitals;
  the state stays.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import geo, grammar
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_TOWN = r"((?-i:[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}))\b"
_STATES = ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
           "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI")
_UNIT_WORDS = frozenset("apt apartment unit suite ste room rm floor fl bldg building lot space "
                        "box po".split())
#: A town after a comma (opens with the comma so that ``re`` skips to the commas); what
#: comes before must end a street address (``_ends_street``).
COMMA_TOWN = re.compile(r",\s{1,2}" + _TOWN + r"(?!\s{0,2}(?:#|[0-9]))")
_ADDRESS = re.compile(grammar.ADDRESS, re.IGNORECASE)
_SUFFIX = re.compile(grammar.STREET_SUFFIX + r"\.?", re.IGNORECASE)
_NUMBER_START = re.compile(r"\b[0-9]")
#: A town before its state, after a place cue.
BEFORE_STATE = re.compile(
    r"\b(?:in|from|to|near|outside|at|of)\s{1,2}" + _TOWN + r",\s{1,2}(?-i:(?:"
    + _STATES.replace(" ", "|") + r"))\b(?![A-Za-z'-])", re.IGNORECASE)


def _town(words: str) -> bool:
    """No function, unit or document word; no state or country ("[ADDRESS], England": the
    mark was a city, and the region after it stays)."""
    parts = [w.lower() for w in re.split(r"[ -]", words)]
    if words.lower() in geo.gazetteer().regions:
        return False
    return not any(w in NOT_NAMES or w in _UNIT_WORDS for w in parts)


def _ends_street(folded: str, end: int) -> bool:
    """Whether ``folded[:end]`` ends with a street address (its mark, or the grammar's)."""
    before = folded[max(0, end - 90):end]
    if before.endswith("[ADDRESS]") or before.endswith("[ADDRESS]."):
        return True
    last = before.rsplit(None, 1)[-1] if before.strip() else ""
    if not _SUFFIX.fullmatch(last):  # the street's last word is a suffix (no unit after)
        return False
    stop = len(before) - (1 if before.endswith(".") else 0)
    return any(_ADDRESS.fullmatch(before, m.start(), stop) or _ADDRESS.fullmatch(before, m.start())
               for m in _NUMBER_START.finditer(before))


def find(folded: str) -> list[Span]:
    """Spans of towns after a street or before a state (the town only)."""
    out: list[Span] = []
    if "," not in folded:
        return out
    for m in COMMA_TOWN.finditer(folded):
        if _ends_street(folded, m.start()) and _town(m.group(1)):
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    for m in BEFORE_STATE.finditer(folded):
        if _town(m.group(1)):
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    return out



#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"(?:\[address\]|" + grammar.ADDRESS.replace(r"\s", _WS) + r")\.?," + _WS
           + r"{1,2}(?-i:[A-Z][a-z])"
           r"|(?:in|from|to|near|outside|at|of)" + _WS + r"{1,2}(?-i:[A-Z][a-z])[a-z -]{0,60},"
           + _WS + r"{1,2}(?-i:[A-Z]{2})")
#: The rule, for the rule table.
RULE = FunctionRule("towns", TRIGGER, find)
