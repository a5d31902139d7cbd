"""Towns by what is named after them: agencies, schools, parks, townships, "the X area".

A town's agencies and landmarks carry its name (``Ruthfort Fire Rescue``, ``Vokil PD``,
``Mathewville Middle School``, ``Larsonfurt State Park``), and so do the municipal words
of the places smaller than a county (``Dorren Township``, ``the Village of Bel``,
``Borough of Tavo``) and the way people say a region (``the Vincentshire area``, a
``Sutter-based cardiologist``). No verb or preposition cue need come first (an EMS run
sheet writes ``Transported by X EMS``), so the word after the name says it is a place.
Probed in recall11 (``bench/deid_places_probe.py``): a town before ``EMS`` or a store, a
village, a town before ``area`` were not found. General forms found by ``fresh-11``
(45 CFR 164.514(b)(2)(i)(B): every geographic subdivision smaller than a state):

* a **town before a civic or landmark kind** (``EMS``, ``Fire Rescue``/``Dept``/
  ``Company``, ``Rescue Squad``, ``Ambulance``, ``PD``, ``Police``, ``Sheriff's Office``,
  ``Middle``/``High School``, ``Elementary``, ``Public Schools``, ``School District``,
  ``Public Library``, ``State Park``, ``Senior Center``, ``Community College``,
  ``Fairgrounds``, ``Rec Center``, ``Housing Authority``, ``Walmart``, ``YMCA``) or a
  municipal word (``Township``, ``Twp``, ``Village``, ``Borough``, ``Hamlet``), or
  between ``the`` and ``area`` / ``region``, or before ``-based``: the run of one to three
  capitalized words right before it whose words are no English, note or safe word
  (``words.other_word``) nor an eponym (``Parkinson PD``), or a place the gazetteer
  knows, or a town's prefix and the next word (``East Amber``); a state or a country
  stays (``Texas State Park``, ``the Ohio area``), as do runs of English words
  (``Central High School``, ``Volunteer Fire Company``);
* a **county in lower case** after ``the`` or a preposition (``the sanders county health
  dept``, ``in marion county``): one or two words that are a place the gazetteer knows, a
  family name of the dictionary or no English word; no adjective (``the next county``,
  ``the same county``, ``the north county``) or note word;
* a **town after a municipal word and of** (``the Village of X``, ``Town of X``,
  ``Township of X``, ``Borough of X``, ``Hamlet of X``): one to three capitalized words,
  the first no note word.

The kind and the municipal word stay out of the span (as ``County`` does). Python ``re``
on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER`` selects its
texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import geo
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import EPONYMS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.townshapes import TOWN_PREFIXES
from medpipe.activities.deid.words import NOT_NAMES, other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: What a town names after itself: agencies, schools, parks, stores, municipal words.
KINDS = (r"EMS|Fire[ \t](?:Rescue|Dept\.?|Department|Company|District)|Fire[ \t]&[ \t]Rescue"
         r"|Rescue[ \t]Squad|Ambulance|PD|Police|Sheriff'?s?[ \t](?:Office|Dept\.?|Department)"
         r"|Sheriff|(?:Middle|High|Junior[ \t]High|Elementary|Primary)[ \t]School|Elementary"
         r"|Public[ \t](?:Schools|Library)|School[ \t]District|State[ \t]Park|Senior[ \t]Center"
         r"|Community[ \t]College|Fairgrounds|Rec(?:reation)?[ \t]Center|Housing[ \t]Authority"
         r"|Walmart|YMCA|Township|Twp\.?|Village|Borough|Hamlet")
_WORD = r"[A-Z][a-z][A-Za-z'-]*"
_RUN = r"(" + _WORD + r"(?:[ \t]" + _WORD + r"){0,2})"
BEFORE_KIND = re.compile(r"(?<![A-Za-z0-9'-])" + _RUN + r"[ \t](?-i:" + KINDS + r")(?![A-Za-z])")
AREA = re.compile(r"\b(?i:the)[ \t]{1,2}" + _RUN + r"[ \t](?i:area|region)\b"
                  r"|(?<![A-Za-z0-9'-])" + _RUN + r"-(?i:based)\b")
OF_TOWN = re.compile(r"\b(?i:village|town|township|borough|hamlet)[ \t](?i:of)[ \t]{1,2}("
                     + _WORD + r"(?:[ \t]" + _WORD + r"){0,2})")
#: A county, parish or borough in lower case after ``the``/a preposition (``the sanders
#: county health dept``): one or two words.
LOWER_COUNTY = re.compile(r"\b(?i:the|in|of|from|to|for|by)[ \t]{1,2}((?-i:[a-z][a-z'-]+)"
                          r"(?:[ \t](?-i:[a-z][a-z'-]+))?)[ \t](?-i:county|parish|borough)\b")
#: Adjectives that stand before ``county`` without naming one (``the next county``).
_COUNTY_ADJ = frozenset("same next home rural local neighboring neighbouring surrounding whole "
                        "entire other adjacent nearby small large big north south east west "
                        "upper lower northern southern eastern western central own".split())
#: Words that open a town's name whatever the word lists say of the next one.
PREFIX = frozenset(p.lower() for p in TOWN_PREFIXES)


def _place_word(word: str) -> bool:
    """A word of a town's name: no eponym, and no English, note or safe word, or a place
    the gazetteer knows that is no English word."""
    low = word.lower()
    if low in EPONYMS:
        return False
    gaz = geo.gazetteer()
    return other_word(word) or (low in gaz.places and low not in gaz.words and low not in NOT_NAMES)


def _town_run(run: str) -> tuple[int, bool]:
    """Where the town starts in a run before a kind (the words before it that are English
    words are dropped: ``Volunteer``, ``Central``), and whether there is one."""
    words = run.split()
    for i, w in enumerate(words):
        low = w.lower()
        if low in PREFIX and i + 1 < len(words):
            rest = " ".join(words[i:])
            return len(" ".join(words[:i])) + (1 if i else 0), \
                rest.lower() not in geo.gazetteer().regions
        if _place_word(w):
            rest = " ".join(words[i:])
            ok = rest.lower() not in geo.gazetteer().regions and all(
                _place_word(x) or x.lower() in PREFIX for x in words[i:])
            return len(" ".join(words[:i])) + (1 if i else 0), ok
    return 0, False


def _county(run: str) -> bool:
    """A lower-case county's name: a place the gazetteer knows, or a family name of the
    dictionary, or no English word; no adjective of ``_COUNTY_ADJ``, note or safe word."""
    words = run.split()
    if any(w in _COUNTY_ADJ or w in NOT_NAMES for w in words):
        return False
    family = dictionary()[1]
    return run in geo.gazetteer().places or all(w in family or other_word(w) for w in words)


def _spans(pattern: re.Pattern[str], folded: str) -> list[Span]:
    out: list[Span] = []
    for m in pattern.finditer(folded):
        g = 1 if m.group(1) is not None else m.lastindex or 1
        skip, ok = _town_run(m.group(g))
        if ok:
            out.append((m.start(g) + skip, m.end(g), Placeholder.ADDRESS))
    return out


def find(folded: str) -> list[Span]:
    """Spans of towns before a civic kind, a municipal word, ``area`` or ``-based``, and
    after ``Village of``/``Town of``."""
    out = _spans(BEFORE_KIND, folded) + _spans(AREA, folded)
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in OF_TOWN.finditer(folded)
            if m.group(1).split()[0].lower() not in NOT_NAMES
            and m.group(1).lower() not in geo.gazetteer().regions]
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in LOWER_COUNTY.finditer(folded)
            if _county(m.group(1))]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a capital's
#: word, then a civic kind's first word, ``area``/``region``, ``-based``; or a municipal word
#: and ``of``.
TRIGGER = (r"(?-i:[A-Z])[A-Za-z'-]*[ \t](?-i:EMS|Fire|Rescue|Ambulance|PD|Police|Sheriff|Middle"
           r"|High|Junior|Elementary|Primary|Public|School|State|Senior|Community|Fairgrounds"
           r"|Rec|Housing|Walmart|YMCA|Township|Twp|Village|Borough|Hamlet)|(?-i:[A-Z])[A-Za-z'-]*"
           r"[ \t](?:area|region)\b|-based\b"
           r"|\b(?:village|town|township|borough|hamlet)[ \t]of[ \t]"
           r"|(?-i:[a-z])[ \t](?-i:county|parish|borough)\b")
#: The rule, for the rule table.
RULE = FunctionRule("civic-forms", TRIGGER, find)
