"""Towns no gazetteer holds, told by where they stand: after a street, before a state.

``geo`` finds the places GeoNames lists; a town under 15,000 people or an invented one
(``Pruittside``, ``Dothan``) is found here by its position in an address, as clerks
write it:

* the **town after a street address** and a comma or a semicolon (``5257 Cedar Knoll Bnd,
  Pruittside``, ``Addr: 5834 Beechwood Dr; Opelousas; HI``; in the scrubber the street is
  ``[ADDRESS]`` already): one to three capitalized words, none a function word, a unit or
  a document word (``words.NOT_NAMES``);
* the **town before its state** after a place cue (``based in Dothan, OH``, ``from Port
  Ellen, NY``) or after a street (``[ADDRESS] Pocatello ID``, a street broken over two
  lines): one to three capitalized words, maybe a comma, a USPS state code in capitals;
  the state stays (Safe Harbor keeps the state);
* a street's **unit** before the comma does not hide the town (``Willow Bend Ct Apt. 2,
  Johnville``);
* where a person **lives** (``lives alone in Fishtown``, ``resides with her son in Crown
  Heights``) and a **neighbourhood** named as one (``the Five Points neighborhood``): no
  month, weekday or kind of housing (``lives in Assisted Living``).
"""

from __future__ import annotations

import re

from medpipe.activities.deid import geo, grammar
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: One to three capitalized words, joined by spaces, hyphens or a particle between hyphens
#: (``Over-the-Rhine``, ``Stratford-upon-Avon``), maybe opening with ``St.``/``Ft.``/``Mt.``
#: or joined by ``Ste.`` (``St. Augustine``, ``Sault Ste. Marie``).
_TOWN = (r"((?-i:(?:(?:St|Ste|Ft|Mt)\. )?[A-Z][a-z]+(?:(?: Ste?\. |[ -]|-(?:the|on|upon|in"
         r"|under|by|de|la|le|les|sur|en)-)[A-Z][a-z]+){0,2}))\b")
_STATES = grammar.codes(grammar.STATE_CODES, grammar.TERRITORY_CODES)
_UNIT_WORDS = frozenset("apt apartment unit suite ste room rm floor fl bldg building lot space "
                        "box po".split())
#: A town after a comma (opens with the comma so that ``re`` skips to the commas); what
#: comes before must end a street address (``_ends_street``).
COMMA_TOWN = re.compile(r"[,;]\s{1,2}" + _TOWN + r"(?!\s{0,2}(?:#|[0-9]))")
_ADDRESS = re.compile(grammar.ADDRESS, re.IGNORECASE)
_SUFFIX = re.compile(grammar.STREET_SUFFIX + r"\.?", re.IGNORECASE)
_NUMBER_START = re.compile(r"\b[0-9]")
#: A unit at the end of a street address (``Apt. 2``, ``Unit C``, ``# 14``).
_UNIT_END = re.compile(r"(?:" + grammar.UNIT + r")$", re.IGNORECASE)
#: A town after a street without a comma, its state after it (``[ADDRESS] Pocatello ID``,
#: ``... Ln\nLake Deanna, IN``); opens with the whitespace after the street (no full stop
#: between: "[ADDRESS].\nMember ID 4471" is no town), no number after the state.
STATE_AFTER_TOWN = re.compile(
    r"(?<=[A-Za-z0-9\]])\s{1,2}" + _TOWN + r",?\s{1,2}(?-i:(?:" + _STATES
    + r"))\b(?![A-Za-z'-]|\s{0,2}[:#0-9])")
#: A town before its state, after a place cue.
BEFORE_STATE = re.compile(
    r"\b(?:in|from|to|near|outside|at|of)\s{1,2}" + _TOWN + r",\s{1,2}(?-i:(?:"
    + _STATES + r"))\b(?![A-Za-z'-])", re.IGNORECASE)


#: Where a person lives, after a verb of residence (``lives alone in Fishtown``, ``resides
#: with her son in Crown Heights``): up to two words between the verb and ``in``.
LIVES_IN = re.compile(
    r"\b(?i:lives?|living|lived|resides?|residing|resided|grew\s{1,2}up)(?:\s{1,2}[a-z]{2,12})"
    r"{0,3}\s{1,2}(?i:in)\s{1,2}(?:(?i:the)\s{1,2})?" + _TOWN + r"(?!\s{0,2}[0-9])")
#: A neighbourhood named before the word (``in the Five Points neighborhood``).
NEIGHBOURHOOD = re.compile(_TOWN + r"\s{1,2}(?i:neighbou?rhoods?)\b")
#: First words of a capitalized run after ``in`` that name no place (months, days, care).
NOT_PLACES = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday assisted skilled section "
    "independent senior memory group foster long the a an this that our their his her my "
    "your its same safe quiet new".split())


def _town(words: str) -> bool:
    """No function, unit or document word; no state or country ("[ADDRESS], England": the
    mark was a city, and the region after it stays)."""
    if words.lower() in geo.gazetteer().regions:
        return False
    if re.search(r"-[a-z]+-", words):  # capitals joined by a particle: a place's shape
        return True
    parts = [w.lower() for w in re.split(r"[ -]", words)]
    if len(parts) > 1 and parts[0] in ("north", "south", "east", "west"):
        parts = parts[1:]  # a compass word opens a town's name (North Platte)
    return not any(w in NOT_NAMES or w in _UNIT_WORDS for w in parts)


def _ends_street(folded: str, end: int) -> bool:
    """Whether ``folded[:end]`` ends with a street address (its mark, or the grammar's)."""
    before = folded[max(0, end - 90):end]
    if before.endswith("[ADDRESS]") or before.endswith("[ADDRESS]."):
        return True
    last = before.rsplit(None, 1)[-1] if before.strip() else ""
    if not _SUFFIX.fullmatch(last) and not _UNIT_END.search(before):  # a suffix or a unit
        return False
    stop = len(before) - (1 if before.endswith(".") else 0)
    return any(_ADDRESS.fullmatch(before, m.start(), stop) or _ADDRESS.fullmatch(before, m.start())
               for m in _NUMBER_START.finditer(before))


def find(folded: str) -> list[Span]:
    """Spans of towns after a street or before a state (the town only)."""
    out: list[Span] = []
    if "," in folded or ";" in folded:
        for m in COMMA_TOWN.finditer(folded):
            if _ends_street(folded, m.start()) and _town(m.group(1)):
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    low = folded.lower()
    for rx, stems in ((LIVES_IN, ("liv", "resid", "grew")), (NEIGHBOURHOOD, ("neighbo",))):
        if not any(s in low for s in stems):
            continue
        for m in rx.finditer(folded):
            # the word "neighborhood" names the run a place, common words and all ("the Old
            # Fourth Ward neighborhood"); after "lives in" it must look like a town
            ok = rx is NEIGHBOURHOOD or _town(m.group(1))
            if ok and m.group(1).split()[0].lower() not in NOT_PLACES:
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    for m in STATE_AFTER_TOWN.finditer(folded):
        if _ends_street(folded, m.start()) and _town(m.group(1)):
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    for m in BEFORE_STATE.finditer(folded):
        if _town(m.group(1)):
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    return out



#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"(?:\[address\]|" + grammar.ADDRESS.replace(r"\s", _WS) + r")\.?[,;]" + _WS
           + r"{1,2}(?-i:[A-Z][a-z])"
           r"|(?:in|from|to|near|outside|at|of)" + _WS + r"{1,2}(?-i:[A-Z][a-z])[a-z. -]{0,60},"
           + _WS + r"{1,2}(?-i:[A-Z]{2})"
           r"|(?:\[address\]|" + grammar.ADDRESS.replace(r"\s", _WS) + r")" + _WS
           + r"{1,2}(?-i:[A-Z][a-z])[a-z. -]{0,60},?" + _WS + r"{1,2}(?-i:[A-Z]{2})"
           r"|(?:live|living|reside|residing|grew)[a-z]{0,2}[a-z\t-\r\x1c-\x1f ]{0,42}"
           + _WS + r"in" + _WS + r"|neighbou?rhood")
#: The rule, for the rule table.
RULE = FunctionRule("towns", TRIGGER, find)
