"""Neighbourhoods, and towns typed in lower case after a strong place cue.

A neighbourhood is a subdivision smaller than a state (45 CFR 164.514(b)(2)(i)(B)) that
no gazetteer of towns holds; a portal message typed on a phone writes its towns in lower
case, where the capital-led place rules see no name. General forms found by ``fresh-10``:

* a **neighbourhood by its word**: ``the Fishtown neighborhood``, ``the Ironbound
  section``, ``the Shaw district``: one to three capitalized words between ``the`` and
  ``neighborhood``/``neighbourhood``/``district``/``section``/``projects``; a run of
  English words alone stays (``the waiting area`` is no form: ``area`` is not a word of
  it);
* a **lower-case town after a strong cue** (``grew up in``, ``born in``, ``raised in``,
  ``at my sisters in``, ``staying at her moms in``): a word that is no English word, nor
  a note word, nor a chat word (``pls``, ``til``), with the next one when it is the same
  (``over-the-rhine``, ``lake heather`` by its prefix: ``lake``, ``port``, ``north``,
  ``new``, ``fort``, ``mount``, ``saint``, ``san``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import CHAT, other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAP = r"(?-i:[A-Z][a-z][A-Za-z'-]*)"
NEIGHBOURHOOD = re.compile(r"\b(?i:the)[ \t]{1,2}(" + _CAP + r"(?:[ \t-]" + _CAP + r"){0,2})"
                           r"[ \t]{1,2}(?i:neighbou?rhood|district|section|projects)\b")
_STRONG = (r"(?:grew[ \t]{1,2}up|born(?:[ \t]{1,2}and[ \t]{1,2}raised)?|raised|(?:at|staying"
           r"[ \t]{1,2}at|over[ \t]{1,2}at)[ \t]{1,2}(?:my|her|his|their|our)[ \t]{1,2}[a-z]+'?s)"
           r"[ \t]{1,2}in")
LOWER_TOWN = re.compile(r"\b(?i:" + _STRONG + r")[ \t]{1,2}([a-z][a-z'-]+)"
                        r"(?:[ \t]([a-z][a-z'-]+))?")
#: Words that open a town's name whatever the word lists say of them (``lake heather``).
PREFIX = frozenset("lake port north south east west new fort mount saint san santa glen "
                   "el la le".split())


def find(folded: str) -> list[Span]:
    """Spans of neighbourhoods by their word and of lower-case towns after a strong cue."""
    out: list[Span] = [(m.start(1), m.end(1), Placeholder.ADDRESS)
                       for m in NEIGHBOURHOOD.finditer(folded)
                       if any(other_word(w) for w in re.split(r"[ \t-]", m.group(1)))]
    for m in LOWER_TOWN.finditer(folded):
        first, second = m.group(1), m.group(2)
        if first in PREFIX and second is not None and second not in CHAT:
            out.append((m.start(1), m.end(2), Placeholder.ADDRESS))
        elif other_word(first):
            end = m.end(2) if second is not None and other_word(second) else m.end(1)
            out.append((m.start(1), end, Placeholder.ADDRESS))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``): one pass for all.
TRIGGER = (r"\bthe[ \t]+(?-i:[A-Z])[^\n]*?[ \t](?:neighbou?rhood|district|section|projects)\b"
           r"|(?:grew[ \t]+up|born|raised|(?:my|her|his|their|our)[ \t]+[a-z']+s)[ \t]+in[ \t]+"
           r"(?-i:[a-z])")
#: The rule, for the rule table.
RULE = FunctionRule("hood-forms", TRIGGER, find)
