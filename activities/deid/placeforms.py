"""Places told by the words around them, in forms no gazetteer lookup or address grammar
takes: the town is small or invented, in lower case, or written without a street suffix.

``geo`` finds listed places after a cue, ``cityforms`` towns after a street or before a
state; these are the other ways notes write where someone lives or comes from (found by
``fresh-6``, general forms rather than its strings):

* a **town in a facility's name** (``transferred from Fort Smith General``, ``dialyzes at
  the New Bern Dialysis unit``): one to three capitalized words after a place cue, before
  a facility word (``General``, ``Memorial``, ``Regional``, ``Hospital``, ``Clinic``,
  ``Dialysis``, ``Rehab``, ``Urgent Care`` …); the facility word stays;
* a **town before ``-based``** (``Chapel Hill-based daughter``): a single word must be no
  English word (``Evidence-based``, ``Home-based`` stay);
* a **town after a direction** (``20 mi north of Walla Walla``, ``just south of Tupelo``);
* a **town after a verb of moving or living and a preposition** (``family lives near
  Kokomo``, ``moving to New Ulm``), capitalized, or in lower case when the gazetteer knows
  the phrase and it is no English word (``moving to mount vernon``);
* a **house number and a street name without a suffix** after a home cue (``Home at 3499
  Wexford, 2nd floor``);
* an **intersection** (``corner of Brookfield and 1st``): both streets;
* a **town before a ZIP code** at the start of a line or after a colon (``Mailing:
  Wenatchee 31602``; the ZIP may be a mark already).

Every capitalized run is refused when one of its words is a clinical or document word
(``words.NOT_NAMES``: ``Cardiac Rehab``, ``Home``, ``Monday``). Python ``re`` on the folded
text, through the rule table (``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import cityforms, geo
from medpipe.activities.deid.safelist import vocabulary
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: One capitalized word of a town (``St.``, ``Ste.``, ``Ft.``, ``Mt.`` with their dot,
#: ``d'Alene``); a run is one to three of them, ``or`` allowed inside (``Truth or
#: Consequences``).
_CAP = r"(?:(?:St|Ste|Ft|Mt|Pt)\.|[A-Z][a-z][A-Za-z'-]*|d'[A-Z][a-z]+)"
_RUN = r"(" + _CAP + r"(?:\s(?:or\s)?" + _CAP + r"){0,2})"
#: Facility words after a town (the first of them ends the town).
_KINDS = ("General", "Memorial", "Regional", "Community", "Medical", "Hospital", "Clinic",
          "Dialysis", "Rehab", "Rehabilitation", "Urgent", "Health", "Infirmary", "Hospice",
          "Nursing", "Surgical", "Surgery", "Family", "Emergency", "Kidney", "Cancer", "Heart",
          "Home", "Healthcare", "Care", "Center", "Centre", "Manor", "Senior", "VA", "ER", "ED")
_KIND_SET = frozenset(k.lower() for k in _KINDS)
FACILITY = re.compile(r"\b(?i:from|to|at|of|in|near|the|via)\s{1,2}" + _RUN + r"\s(?:"
                      + "|".join(_KINDS) + r")\b")
BASED = re.compile(_RUN + r"-(?i:based)\b")
_DIRECTION = r"(?:north|south|east|west)(?:east|west)?|[NSEW]{1,2}"
#: Opens with the direction's first letter (``re`` skips to it); the word is checked after.
DIRECTION_OF = re.compile(r"[NSEWnsew](?<![A-Za-z][NSEWnsew])[A-Za-z]{0,8}\s{1,2}(?i:of)\s{1,2}"
                          + _RUN)
_DIRECTIONS = frozenset("north south east west northeast northwest southeast southwest n s e w "
                        "ne nw se sw".split())
_MOVE = (r"(?:lives?|living|lived|resides?|residing|moved|moving|moves|relocat[a-z]{0,5}|farm"
         r"|ranch|home|house|family|daughter|son|sister|brother|parents|stays?|staying)")
#: A preposition of place (opens with its first letter; the word is checked after), then
#: the verb of living or moving looked for before it (``MOVE_BEFORE``), then the town: a
#: capitalized run (``RUN_AT``) or a lower-case phrase the gazetteer knows (``LOWER_AT``).
PREP = re.compile(r"[nNtToOiIfF](?<![A-Za-z][nNtToOiIfF])[A-Za-z]{0,6}\s{1,2}(?=[A-Za-z])")
_PREPS = frozenset({"near", "to", "outside", "in", "from"})
MOVE_BEFORE = re.compile(r"\b(?i:" + _MOVE + r")(?:\s{1,2}[a-z]{2,10}){0,2}\s{1,2}\Z")
RUN_AT = re.compile(_RUN)
LOWER_AT = re.compile(r"([a-z][a-z.'-]+(?:\s[a-z][a-z.'-]+){0,2})(?![A-Za-z0-9])")
#: A house number (opens with its first digit), the home cue looked for before it
#: (``HOME_BEFORE``), one to three capitalized words.
HOME_NUMBER = re.compile(r"[0-9](?<![0-9A-Za-z][0-9])[0-9]{0,5}\s{1,2}" + _CAP
                         + r"(?:\s" + _CAP + r"){0,2}")
HOME_BEFORE = re.compile(r"\b(?i:home|lives|living|resides|residence|address|addr|house)"
                         r"(?:\s{1,2}(?i:at|on))?\s{0,2}:?\s{1,3}\Z")
_KIND_AT = re.compile(r"\s(?:" + "|".join(_KINDS) + r")\b")
_ZIP_AT = re.compile(r"[0-9]{5}|\[ADDRESS\]")
_STREET = r"(?:[A-Z][a-z][A-Za-z'-]*(?:\s[A-Z][a-z]+\.?)?|[0-9]{1,3}(?:st|nd|rd|th))"
INTERSECTION = re.compile(r"\b(?i:corner|intersection|junction|cross\s{1,2}streets?)"
                          r"\s{1,2}(?i:of)?\s{0,2}(" + _STREET + r"\s{1,2}(?:and|&|/)\s{1,2}"
                          + _STREET + r")")
TOWN_ZIP = re.compile(r"(?:^|[:\n])[ \t]{0,3}((?P<town>" + _RUN[1:-1] + r")\s{1,2}"
                      # five digits, then the line or the clause ends or a sentence starts
                      # ("Auth 12345 valid for 10" is an authorization number); or a ZIP the
                      # patterns or the record's values replaced already
                      r"(?:[0-9]{5}(?:-[0-9]{4})?\b(?=\s{0,2}(?:$|[\n.,;])|\s{1,3}[A-Z])"
                      r"|\[ADDRESS\]))", re.MULTILINE)


_COMPASS = frozenset({"north", "south", "east", "west"})


def _place(words: str, after_verb: bool = False) -> bool:
    """No state or country; no clinical or document word; a single word that is no English
    word or a place the gazetteer knows (``Mercy General`` stays, ``Reading General`` goes);
    after a verb of living, no kind of housing or time either (``moving to Assisted
    Living``)."""
    if words.lower() in geo.gazetteer().regions:  # a state or a country stays ("Son in France")
        return False
    parts = [w.strip(".'").lower() for w in words.split() if w != "or"]
    if len(parts) > 1 and parts[0] in _COMPASS:  # North Platte, West Lafayette
        parts = parts[1:]
    if any(w in NOT_NAMES for w in parts) or after_verb and parts[0] in cityforms.NOT_PLACES \
            and not (parts[0] == "new" and len(parts) > 1):  # New Ulm, not "new apartment"
        return False
    return len(parts) > 1 or parts[0] not in vocabulary()[0] \
        or parts[0] in geo.gazetteer().places


def _strip_kinds(start: int, words: str) -> tuple[int, int]:
    """The run without facility words at its end (``Fort Smith Community`` → ``Fort
    Smith``)."""
    parts = words.split()
    while len(parts) > 1 and parts[-1].lower() in _KIND_SET:
        parts.pop()
    end = start + len(" ".join(parts))
    return start, end


def _lower_town(phrase: str) -> int:
    """Length of the longest prefix of ``phrase`` (1-3 words) the gazetteer knows as a
    place that is no English word, 0 if none."""
    g = geo.gazetteer()
    words = phrase.split()
    for n in range(min(3, len(words)), 0, -1):
        p = " ".join(words[:n])
        if p in g.places and p not in g.words and p not in NOT_NAMES \
                and (n > 1 or p not in vocabulary()[0]):
            return len(p)
    return 0


def find(folded: str) -> list[Span]:
    """Spans of the places in the forms above (each form gated by a substring it needs)."""
    out: list[Span] = []
    low = folded.lower()
    if _KIND_AT.search(folded):
        for m in FACILITY.finditer(folded):
            s, e = _strip_kinds(m.start(1), m.group(1))
            if _place(folded[s:e]) and folded[s:e].lower() not in _KIND_SET:
                out.append((s, e, Placeholder.ADDRESS))
    if "-based" in low:
        for m in BASED.finditer(folded):
            if _place(m.group(1)):
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    if " of " in low:
        for m in DIRECTION_OF.finditer(folded):
            if m.group().split(None, 1)[0].lower() in _DIRECTIONS and _place(m.group(1)):
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    out += _after_verb(folded)
    for m in HOME_NUMBER.finditer(folded):
        if HOME_BEFORE.search(folded, max(0, m.start() - 24), m.start()) is None:
            continue
        street = m.group().split(None, 1)[1]  # after a house number: English words too
        if not any(w.strip(".'").lower() in NOT_NAMES for w in street.split()):
            out.append((m.start(), m.end(), Placeholder.ADDRESS))
    if any(c in low for c in ("corner", "intersection", "junction", "cross")):
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in INTERSECTION.finditer(folded)]
    if _ZIP_AT.search(folded):
        for m in TOWN_ZIP.finditer(folded):
            if _place(m.group("town")):
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    return out


def _after_verb(folded: str) -> list[Span]:
    """Towns after a verb of living or moving and a preposition (capitalized, or a lower-case
    phrase the gazetteer knows)."""
    out: list[Span] = []
    for m in PREP.finditer(folded):  # the town first, the verb before the preposition last
        if m.group().split(None, 1)[0].lower() not in _PREPS:
            continue
        span: tuple[int, int] | None = None
        run = RUN_AT.match(folded, m.end())
        if run is not None:
            if _place(run.group(1), after_verb=True):
                span = run.start(1), run.end(1)
        else:
            low = LOWER_AT.match(folded, m.end())
            n = _lower_town(low.group(1)) if low is not None else 0
            if low is not None and n:
                span = low.start(1), low.start(1) + n
        if span and MOVE_BEFORE.search(folded, max(0, m.start() - 48), m.start()) is not None:
            out.append((*span, Placeholder.ADDRESS))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): each form's
#: pattern with RE2's whitespace, or the part of it every match holds.
TRIGGER = "|".join((
    _WS + r"(?-i:" + "|".join(_KINDS) + r")\b",
    r"-based",
    r"\b(?:" + _DIRECTION + r")" + _WS + r"{1,2}of" + _WS + r"{1,2}(?:[a-z]|d')",
    r"\b" + _MOVE + r"(?:" + _WS + r"{1,2}[a-z]{2,10}){0,2}" + _WS
    + r"{1,2}(?:near|to|outside|in|from)" + _WS + r"{1,2}[a-z]",
    r"\b(?:home|lives|living|resides|residence|address|addr|house)(?:" + _WS
    + r"{1,2}(?:at|on))?" + _WS + r"{0,2}:?" + _WS + r"{1,3}[0-9]",
    r"corner|intersection|junction|cross",
    r"[a-z.'-]" + _WS + r"{1,2}(?:[0-9]{5}|\[address\])",
))
#: The rule, for the rule table.
RULE = FunctionRule("place-forms", TRIGGER, find)
