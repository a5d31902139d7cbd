"""Towns and address parts by the words and the fields around them: a birthplace or a home
town, a town's residents, lower-case towns with a direction, counties abbreviated, HL7
address fields, a street's quadrant, a town's line under an address, a ZIP after its word.

The gazetteer knows towns of 15,000 people and more; the other place rules know towns by a
cue and a capital, a prefix or a feature word. These are general forms of what is left
(found by ``fresh-9``; 45 CFR 164.514(b)(2)(i)(B): every geographic subdivision smaller
than a state, in any case):

* a **birthplace or home town** after its word (``Born in Dahlonega``, ``Hometown:
  McCook``, ``place of birth: Ely``, ``raised in``, ``resides in``, ``commutes from``,
  ``drove down from``): one to three capitalized words; a state, a country, a month or a
  note word stays;
* a **town's resident or native** (``Lifelong Blue Earth resident``, ``a Tomah native``):
  the capitalized words between ``lifelong``/``longtime``/``former``/``a`` and
  ``resident``/``native``; a state or a country stays (``a Texas native``);
* a **lower-case town with a direction** after a place cue (``lives near east
  thomasview``, ``moved to n. brittany``): the direction and a word that is no English
  word;
* a **county abbreviated** or in lower case without a cue (``pattersonville co``,
  ``marquette cty``, ``dane county``): a name that is no English word before ``co``,
  ``cty``, ``county``, ``parish``;
* the **town of an HL7 address** (``…^^MARQUETTE^MI^49855``): the field between carets
  before a state code, or right after a replaced street;
* a **street's quadrant** after a replaced street (``[ADDRESS] NW``);
* a **town on the line under an address**, before a state code (``[ADDRESS]\\nbaraboo
  wi``);
* a **ZIP code after its word** (``zip is 49855``, ``zipcode 49855``, ``postal code:
  49855-1234``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import forms, geo, grammar, premarks
from medpipe.activities.deid.safelist import english
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAPWORD = r"(?-i:[A-Z][a-z][A-Za-z'-]*|[A-Z]{2,}|Mc[A-Z][a-z]+)"
_CAPRUN = _CAPWORD + r"(?:[ \t](?-i:(?:St\.|Ft\.|Mt\.)[ \t])?" + _CAPWORD + r"){0,2}"
_BIRTH_CUE = (r"(?:born\s{1,2}(?:and\s{1,2}raised\s{1,2})?in|raised\s{1,2}in|grew\s{1,2}up\s{1,2}in"
              r"|home\s{0,2}town\s{0,2}(?:is|was|:)?|birth\s{0,2}place\s{0,2}(?:is|was|:)?"
              r"|place\s{1,2}of\s{1,2}birth\s{0,2}(?:is|was|:)?|resides\s{1,2}in|residing\s{1,2}in"
              r"|resident\s{1,2}of|commutes\s{1,2}(?:in\s{1,2})?from"
              r"|drove\s{1,2}(?:down|up|over|in)\s{1,2}from|hails\s{1,2}from)")
BIRTHPLACE = re.compile(r"\b(?i:" + _BIRTH_CUE + r")[ \t]{1,2}(" + _CAPRUN + r")")
RESIDENT = re.compile(r"\b(?i:lifelong|life-long|longtime|long-time|former|a|an)[ \t]{1,2}("
                      + _CAPRUN + r")[ \t]{1,2}(?i:resident|native)\b")
_CUE = (r"(?:from|in|near|outside(?:\s{1,2}of)?|to|around|lives\s{1,2}in|moved\s{1,2}to"
        r"|moved\s{1,2}from|up\s{1,2}in|out\s{1,2}in|over\s{1,2}in|down\s{1,2}in)")
LOWER_DIRECTED = re.compile(r"\b" + _CUE + r"\s{1,2}((?:north|south|east|west|n\.|s\.|e\.|w\.|new"
                            r"|port|lake|fort|mount|saint|st\.|glen|san|santa)\s{1,2}([a-z]"
                            r"[a-z'-]{2,20}))\b", re.IGNORECASE)
#: A county's name in lower case before its kind; ``cty`` joins the span (group 2): no
#: English word, left after ``[ADDRESS]`` world-forms reads it as a town and the residual
#: check would flag it (``co``, ``county``, ``parish`` stay, as recall8 decided).
COUNTY_WORD = re.compile(r"\b([a-z][a-z'-]{2,20})(?:(\scty\.?)|\s(?:co\.?|county|parish))"
                         r"(?![a-z0-9-])")
_STATE_CODES = r"(?:" + grammar.codes(grammar.STATE_CODES, grammar.TERRITORY_CODES[:3]) + r")"
HL7_TOWN = re.compile(r"(?:\[ADDRESS\]\^{1,3}|\^)([A-Za-z][A-Za-z .'-]{1,40}?)\^(?:(?i:"
                      + _STATE_CODES + r")\^|\^|$)")
#: A quadrant right after a street (no comma: ``, NE`` after a PO box is Nebraska; nor a ZIP
#: after it: ``NE 68102`` is a state and its ZIP).
QUADRANT = re.compile(r"\[ADDRESS\][ \t]{1,2}((?-i:NE|NW|SE|SW|N\.E\.|N\.W\.|S\.E\.|S\.W\.))"
                      r"(?![A-Za-z])(?![ \t,]{0,2}[0-9]{5})")
#: After a street address: the rest of its line, then a town's line ending in a state code
#: (and maybe a ZIP), or in the mark the patterns put over a state and its ZIP.
TOWN_LINE = re.compile(r"[^\n]{0,40}\n[ \t]*([A-Za-z][A-Za-z.'-]*(?:[ \t][A-Za-z][A-Za-z.'-]*)"
                       r"{0,2}?),?[ \t]{1,2}(?:(?i:" + _STATE_CODES + r")(?:[ \t]{1,2}[0-9]{5}"
                       r"(?:-[0-9]{4})?)?|\[ADDRESS\])[ \t]*$", re.MULTILINE)
_ADDRESS_MARK = re.compile(r"\[ADDRESS\]")
#: Gates of ``_after_addresses``: a quadrant's letters, a line ending in a state code (and
#: a ZIP) or in a mark.
_QUADRANT_AT = re.compile(r"\b(?:NE|NW|SE|SW|N\.E\.|N\.W\.|S\.E\.|S\.W\.)(?![A-Za-z])")
_LINE_STATE = re.compile(r"[ \t,](?i:" + _STATE_CODES + r"|\[ADDRESS\])(?:[ \t]{1,2}[0-9]{5}"
                         r"(?:-[0-9]{4})?)?[ \t]*$", re.MULTILINE)
ZIP_WORD = re.compile(r"\b(?:zip|zipcode|zip\s{1,2}code|postal\s{1,2}code|postcode)\s{0,2}"
                      r"(?:is|was|of|:|#|=|-)?\s{0,2}([0-9]{5}(?:-[0-9]{4})?)(?![0-9-])",
                      re.IGNORECASE)
#: Words that open a town's name whatever the word lists say of them (``North Omar``).
_PREFIX = re.compile(r"north|south|east|west|new|port|lake|fort|ft\.?|mount|mt\.?|saint|st\.?"
                     r"|glen|san|santa|upper|lower|little|big|grand")
_MONTHS = frozenset("january february march april may june july august september october"
                    " november december".split())


def _place_words(run: str) -> str:
    """The run without note words at its end (``Dahlonega Hospital`` keeps ``Dahlonega``),
    empty when its first word is one or the run names a state or a country."""
    words = run.split()
    while words and (words[-1].lower() in NOT_NAMES or words[-1].lower() in _MONTHS):
        words.pop()
    if not words or words[0].lower() in _MONTHS or (
            words[0].lower() in NOT_NAMES
            and not (len(words) > 1 and _PREFIX.fullmatch(words[0].lower()))):
        return ""
    if " ".join(words).lower() in geo.gazetteer().regions:
        return ""
    return " ".join(words)


def _runs(pattern: re.Pattern[str], folded: str) -> list[Span]:
    out: list[Span] = []
    for m in pattern.finditer(folded):
        place = _place_words(m.group(1))
        if place:
            out.append((m.start(1), m.start(1) + len(place), Placeholder.ADDRESS))
    return out


def _not_english(word: str) -> bool:
    w = word.lower()
    return w not in english() and w not in NOT_NAMES


def _after_addresses(folded: str) -> list[Span]:
    """HL7 towns, and quadrants and town lines after a street address (marked first when the
    patterns have not run: ``premarks``)."""
    out: list[Span] = []
    if "^" not in folded and _QUADRANT_AT.search(folded) is None and _LINE_STATE.search(
            folded) is None:
        return out  # no form here: the patterns' pass (premarks) costs more than the forms
    text, back = premarks.marked(folded, "[ADDRESS]")
    if "^" in text:
        for m in HL7_TOWN.finditer(text):
            town = m.group(1).strip()
            if town and town.lower() not in geo.gazetteer().regions and _place_words(
                    town.title()):
                out.append((back(m.start(1)), back(m.start(1) + len(m.group(1).rstrip())),
                            Placeholder.ADDRESS))
    if "[ADDRESS]" in text:
        out += [(back(m.start(1)), back(m.end(1)), Placeholder.ADDRESS)
                for m in QUADRANT.finditer(text)]
    if "\n" in text:
        # a street in lower case is a rule's find, not a pattern's: no mark stands for it
        ends = [back(m.end()) for m in _ADDRESS_MARK.finditer(text)]
        ends += [m.end() for m in forms.LOWER_ADDRESS.finditer(folded)]
        for e in ends:
            line = TOWN_LINE.match(folded, e)
            if line is not None and _place_words(line.group(1).title()):
                out.append((line.start(1), line.end(1), Placeholder.ADDRESS))
    return out


def find(folded: str) -> list[Span]:
    """Spans of birthplaces, residents' towns, lower-case towns with a direction, counties
    by an abbreviated word, HL7 towns, quadrants and town lines after an address, ZIPs
    after their word."""
    out: list[Span] = _runs(BIRTHPLACE, folded)
    low = folded.lower()
    if "resident" in low or "native" in low:
        out += _runs(RESIDENT, folded)
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in LOWER_DIRECTED.finditer(folded)
            if _not_english(m.group(2)) and m.group(1).lower() not in geo.gazetteer().regions]
    if "co" in low or "cty" in low or "parish" in low:
        out += [(m.start(1), m.end(2) if m.group(2) else m.end(1), Placeholder.ADDRESS)
                for m in COUNTY_WORD.finditer(folded) if _not_english(m.group(1))]
    if "^" in folded or "[ADDRESS]" in folded or any(c.isdigit() for c in folded):
        out += _after_addresses(folded)
    if "zip" in low or "postal" in low or "postcode" in low:
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in ZIP_WORD.finditer(folded)]
    return out


def _re2(pattern: str) -> str:
    """A pattern of this module for RE2: Python's ``\\s`` as a class RE2 reads alike."""
    return pattern.replace(r"\s", _WS)


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive); a capital
#: may be any non-ASCII letter, so the raw text of a note selects what its folded copy does
#: (``Born in Évora``: the reference engine's prefilter reads the raw text). An HL7 town is
#: a field between carets before a state code and a caret, a caret or the end (a caret
#: alone selected every message); a town's line holds the town's words alone before its
#: state code (the patterns' marks no longer select it).
TRIGGER = "|".join((
    _re2(r"\b" + _BIRTH_CUE + r"[ \t]{1,2}(?-i:[A-Z]|[^\x00-\x7f])"),
    r"\b(?:lifelong|life-long|longtime|long-time|former|a|an)[ \t]{1,2}(?-i:[A-Z]|[^\x00-\x7f])"
    r"[^\n]{0,40}(?:resident|native)\b",
    _re2(r"\b" + _CUE + r"\s{1,2}(?:north|south|east|west|n\.|s\.|e\.|w\.|new|port|lake|fort"
         r"|mount|saint|st\.|glen|san|santa)\s{1,2}[a-z]"),
    r"(?-i:[a-z])[a-z'-]{2}" + _re2(r"\s") + r"(?-i:co|cty|county|parish)"
    r"(?:(?-i:[^a-z0-9-])|$)",
    r"\^[a-z][a-z .'-]{1,40}\^(?:" + _STATE_CODES + r"\^|\^|$|\n)",
    r"(?:\[address\]|[a-z0-9.])[\t ]{1,2}(?-i:NE|NW|SE|SW|N\.E\.|N\.W\.|S\.E\.|S\.W\.)\b",
    r"(?:\[address\]|[0-9])[^\n]{0,60}\n[\t ]*[a-z][a-z.'-]*(?:[\t ][a-z][a-z.'-]*){0,2},?"
    r"[\t ]{1,2}(?:" + _STATE_CODES + r"|\[address\])(?:[\t ]{1,2}[0-9]{5}(?:-[0-9]{4})?)?"
    r"[\t ]*(?:\n|$)",
    _re2(r"\b(?:zip|zipcode|zip\s{1,2}code|postal\s{1,2}code|postcode)\s{0,2}"
         r"(?:is|was|of|:|#|=|-)?\s{0,2}[0-9]{5}"),
))
#: The rule, for the rule table.
RULE = FunctionRule("town-forms", TRIGGER, find)
