"""Places written in prose: crossings, towns after an address, towns by their kind of name.

The street grammar finds a house number and a street; the gazetteer finds towns of 15,000
people and more after a cue. People also say where they are in other ways, and these are
general forms of them (found by ``fresh-8``; 45 CFR 164.514(b)(2)(i)(B): every geographic
subdivision smaller than a state):

* a **crossing** of two streets (``Heron St & Willow Ave``, ``Maple/10th``, ``Hwy 9 and
  Rt 1``): a named street with its suffix, a numbered street or a route on each side of
  ``&``/``and``/``/``/``at``; two bare ordinals (``3rd and 4th digits``) stay;
* the **town after an address** and ``in`` (``[ADDRESS] in coral springs with her
  daughter``, ``1244 elm avenue apartment 21 in grand island``): one to three words up to
  a function or clinical word (``words.NOT_NAMES``), in any case;
* a town whose name opens with a **place prefix** (``St.``, ``Saint``, ``Fort``,
  ``Mount``, ``Port``, ``New``, ``North``…) after a place cue (``drives in from St.
  Charles``) or between ``the`` and a kind of facility (``the North Platte clinic``); a US
  state (``New York``, ``North Dakota``) stays;
* a town whose name ends in a **feature word** (``falls``, ``city``, ``springs``,
  ``grove``, ``rapids``, ``land``, ``island``…: most US towns made of English words) after
  a place cue, in any case (``grew up near cedar falls``, ``outside silver city``); no
  article or pronoun first (``near the falls``, ``in her city``);
* a **county, parish or borough in lower case** after a place cue (``from lafourche
  parish``): the name only, as ``forms.COUNTY`` does for capitalized ones;
* a **ZIP code alone on its line** after an address line (an address block), with the
  words left after the street on the line above (the town).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import forms
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_SUFFIX = r"(?:St|Ave|Rd|Dr|Blvd|Ln|Ct|Pl|Way|Pkwy|Hwy|Ter|Cir|Street|Avenue|Road|Drive|Lane)"
_NUMBERED = r"[0-9]{1,3}(?:st|nd|rd|th)"
_ROUTE = (r"(?:Hwy|Highway|Route|Rte|Rt|SR|State\s(?:Route|Rd|Road|Hwy)|US|I|County\s(?:Rd|Road)"
          r"|CR)[ -]?[0-9]{1,4}")
_NAMED = r"(?-i:[A-Z][a-z]{2,})\.?\s" + _SUFFIX + r"\b\.?"
#: A street of a crossing: named with its suffix, numbered (``5th``, ``5th St``) or a route.
_STREET = (r"(?:" + _NAMED + r"|" + _NUMBERED + r"(?:\s" + _SUFFIX + r"\b\.?)?|" + _ROUTE + r")")
CROSSING = re.compile(r"(?<![A-Za-z0-9])(" + _STREET + r"\s{0,2}(?:&|and|/|at)\s{0,2}" + _STREET
                      + r"|(?-i:[A-Z][a-z]{2,})/" + _NUMBERED + r")(?![A-Za-z0-9])")
#: Words of a town: letters, maybe an apostrophe or a hyphen.
_TOWN_WORD = re.compile(r"\s{1,2}([A-Za-z][A-Za-z'-]{1,20})\b")
_IN = re.compile(r",?\s{1,2}in\b", re.IGNORECASE)
_ADDRESS_MARK = re.compile(r"\[ADDRESS\]")
#: A unit at the end of a street (``apt. 636``): the street before it may be no street the
#: grammar knows (``3915 andrew run apt. 636 in new ulm``).
_UNIT = re.compile(r"\b(?:apt|apartment|unit|suite|ste|lot|rm|trlr)\.?\s{0,2}#?\s{0,2}[0-9]{1,5}"
                   r"[a-z]?\b", re.IGNORECASE)
_PREFIX = (r"(?:St\.?|Saint|Ste\.?|Ft\.?|Fort|Mt\.?|Mount|Port|New|North|South|East|West|Lake"
           r"|Glen|San|Santa)")
_PREFIX_WORD = re.compile(r"(?:st|saint|ste|ft|fort|mt|mount|port|new|north|south|east|west"
                          r"|lake|glen|san|santa)")
_CAP = r"(?-i:[A-Z][a-z]{2,})"
_PLACE_CUE = (r"(?:from|in|near|outside(?:\s{1,2}of)?|to|of|around|lives\s{1,2}in|moved\s{1,2}to"
              r"|grew\s{1,2}up\s{1,2}(?:in|near))")
PREFIX_TOWN = re.compile(r"\b(" + _PLACE_CUE + r"|the)\s{1,2}((?-i:" + _PREFIX + r")\s{1,2}"
                         + _CAP + r"(?:\s" + _CAP + r")?)\b(?!')")
_FACILITY = re.compile(r"\s{1,2}(?:clinic|hospital|office|ed|er|va|practice|center|centre"
                       r"|dialysis|pharmacy|urgent\s{1,2}care|nursing\s{1,2}home|rehab|campus"
                       r"|branch|location|site|fire|police|ems)\b", re.IGNORECASE)
#: A facility's kind after a town's name (``Fort Smith Memorial``): it stays.
_KINDS = frozenset("general memorial regional community medical university rehab dialysis"
                   " county health baptist methodist presbyterian mercy".split())
_STATES = frozenset({"new york", "new jersey", "new mexico", "new hampshire", "north carolina",
                     "north dakota", "south carolina", "south dakota", "west virginia",
                     "new england", "new zealand", "south africa", "north korea",
                     "south korea", "new guinea"})
_FEATURES = (r"(?:falls|city|springs?|grove|rapids|land|island|hills?|mountain|ridge|plains"
             r"|church|bay|park|lake|beach|valley|heights|harbou?r|creek|point|junction"
             r"|village|bluffs?|crossing|forge|mills?|rock|port|haven|fields?|woods?|view"
             r"|landing|prairie|meadows|lakes|shores?|gap|hollow|cove|glen|ford)")
FEATURE_TOWN = re.compile(r"\b" + _PLACE_CUE + r"\s{1,2}([A-Za-z][a-z'-]{2,20}\s{1,2}"
                          + _FEATURES + r")\b", re.IGNORECASE)
LOWER_COUNTY = re.compile(r"\b" + _PLACE_CUE + r"\s{1,2}((?-i:[a-z][a-z'-]{2,20})"
                          r"(?:\s(?-i:[a-z][a-z'-]{2,20}))?)\s(?-i:county|parish|borough)\b")
#: Words that open no town: articles, pronouns, quantities (``near the falls``, ``in her
#: city``, ``in one park``) and a few clinical heads (``trigger point``, ``sick bay``).
_NOT_FIRST = frozenset("the a an this that these those his her their our your my its each every"
                       " some any no one two three several many another same other trigger"
                       " pressure end sick blood water mid high low entry starting".split())
#: A ZIP code (or ZIP+4) alone on its line.
ZIP_LINE = re.compile(r"^[ \t]*([0-9]{5}(?:-[0-9]{4})?)[ \t]*$", re.MULTILINE)
#: A town's line of an address block: one to three words (``North Pole``, ``St. Cloud``).
_TOWN_LINE = re.compile(r"[ \t]*[A-Za-z][A-Za-z.'-]*(?:[ \t]+[A-Za-z][A-Za-z.'-]*){0,2}[ \t]*\Z")
_LINE_AFTER_MARK = re.compile(r"\[ADDRESS\]((?:[ \t,]+[A-Za-z][A-Za-z.'-]*){1,3})[ \t]*$")


_CAPITAL = re.compile(r"[A-Z]")


def _town_words(folded: str, at: int) -> int:
    """The end of one to three town words from ``at``, up to a function or clinical word
    (``at`` itself when the first word is one); a place prefix opens a town whatever the
    word lists say of it (``in new ulm``)."""
    end = at
    for i in range(3):
        m = _TOWN_WORD.match(folded, end)
        if m is None:
            break
        w = m.group(1).lower()
        if (w in NOT_NAMES or w in _NOT_FIRST) and not (i == 0 and _PREFIX_WORD.fullmatch(w)):
            break
        end = m.end()
    return end


def _towns_after_addresses(folded: str) -> list[Span]:
    out: list[Span] = []
    ends = [m.end() for m in _ADDRESS_MARK.finditer(folded)]
    ends += [m.end() for m in forms.LOWER_ADDRESS.finditer(folded)]
    ends += [m.end() for m in _UNIT.finditer(folded)]
    for e in ends:
        m = _IN.match(folded, e)
        if m is not None:
            end = _town_words(folded, m.end())
            if end > m.end():
                out.append((m.end() + 1, end, Placeholder.ADDRESS))
    return out


def _prefix_towns(folded: str) -> list[Span]:
    out: list[Span] = []
    for m in PREFIX_TOWN.finditer(folded):
        town = m.group(2)
        words = town.split()
        if len(words) > 2 and words[-1].lower() in _KINDS:  # "Fort Smith Memorial"
            words.pop()
        if " ".join(words[:2]).lower() in _STATES or any(w.lower() in NOT_NAMES
                                                         for w in words[1:]):
            continue
        if m.group(1).lower() == "the" and _FACILITY.match(folded, m.end()) is None:
            continue
        out.append((m.start(2), m.start(2) + len(" ".join(words)), Placeholder.ADDRESS))
    return out


def _first_ok(word: str) -> bool:
    w = word.lower()
    return w not in NOT_NAMES and w not in _NOT_FIRST


def _zip_lines(folded: str) -> list[Span]:
    out: list[Span] = []
    for m in ZIP_LINE.finditer(folded):
        above = folded[:m.start()].rstrip("\n").rsplit("\n", 2)
        if not any("[ADDRESS]" in line for line in above[-2:]):
            continue
        out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
        line_start = m.start() - 1 - len(above[-1])
        town = _LINE_AFTER_MARK.search(above[-1])
        if town is not None:  # the street's line ends with the town ("[ADDRESS] Cloud")
            out.append((line_start + town.start(1), line_start + town.end(1),
                        Placeholder.ADDRESS))
        elif len(above) > 1 and "[ADDRESS]" in above[-2] and _TOWN_LINE.match(above[-1]):
            out.append((line_start, line_start + len(above[-1]), Placeholder.ADDRESS))
    return out


def find(folded: str) -> list[Span]:
    """Spans of crossings, towns after an address, towns by their prefix or feature word,
    lower-case counties and ZIP codes alone on a line of an address block."""
    out: list[Span] = []
    low = folded.lower()
    if "&" in low or " and " in low or "/" in low or " at " in low:
        # two bare ordinals ("the 3rd and 4th digits") are no crossing: a named street or a
        # route (a capital) is
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in CROSSING.finditer(folded)
                if _CAPITAL.search(m.group(1))]
    if " in " in low or ",in " in low:
        out += _towns_after_addresses(folded)
    out += _prefix_towns(folded)
    for m in FEATURE_TOWN.finditer(folded):
        if _first_ok(m.group(1).split()[0]):
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    if "county" in low or "parish" in low or "borough" in low:
        for m in LOWER_COUNTY.finditer(folded):
            if _first_ok(m.group(1).split()[0]):
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    if "[ADDRESS]" in folded and "\n" in folded:
        out += _zip_lines(folded)
    return out


def _re2(pattern: str) -> str:
    """A pattern of this module for RE2: Python's ``\\s`` as a class RE2 reads alike."""
    return pattern.replace(r"\s", _WS)


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a street's
#: end then ``&``/``and``/``/``/``at``; a word slash an ordinal; an address's end (a mark,
#: a number, a suffix) then ``in``; a place prefix and a capitalized word; a place cue, a
#: word and a feature word; a county word in lower case; a ZIP alone on a line after a mark.
TRIGGER = "|".join((
    r"(?:\b" + _SUFFIX + r"\.?|[0-9](?:st|nd|rd|th)|\b(?:hwy|highway|route|rte|rt|sr|us|i|rd"
    r"|road|cr)[ -]?[0-9]{1,4})" + _re2(r"\s{0,2}(?:&|and|/|at)\s{0,2}")
    + r"[a-z0-9]",
    r"[a-z]{3}/[0-9]{1,3}(?:st|nd|rd|th)",
    r"(?:\]|[0-9][a-z]?|\b" + forms._ABBR_SUFFIX + r"|" + forms._FULL_SUFFIX + r"),?"
    + _re2(r"\s{1,2}in\s{1,2}") + r"[a-z]",
    r"(?-i:" + _PREFIX + r")" + _re2(r"\s{1,2}") + r"(?-i:[A-Z][a-z]{2})",
    _re2(r"\b" + _PLACE_CUE + r"\s{1,2}[a-z][a-z'-]{2,20}\s{1,2}" + _FEATURES + r"\b"),
    r"(?-i:county|parish|borough)",
    r"\[address\][^\x00]*\n[\t ]*[0-9]{5}(?:-[0-9]{4})?[\t ]*(?:\n|$)",
))
#: The rule, for the rule table.
RULE = FunctionRule("prose-places", TRIGGER, find)
