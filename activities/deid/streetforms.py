"""Streets without a house number: a street named after a place cue, and intersections.

The address patterns know a street by its number; a social-work or a handover note names
the street alone (``the shelter on Quarry Blvd``, ``the free clinic on Hall Circle``,
``found down at the corner of Larch and Fifth``). A street is a geographic subdivision
smaller than a state (45 CFR 164.514(b)(2)(i)(B)). General forms found by ``fresh-10``:

* a **named street** after ``on``/``off``/``along``/``near``/``at``: one to three
  capitalized words and a street's kind (``Street``, ``Ave``, ``Blvd``, ``Circle``,
  ``Trail``, …); ``Dr`` and ``St`` followed by a capitalized word are a title and a
  saint (``on call with Dr Abebe`` has no capital before it; ``seen on Ward St Mary``
  is left); a weekday, a month or a note word first is no street (``on Friday Dr``);
* a **street named after a person** after the same cues, of any kind of USPS Publication
  28 (``on Clarence Station``, ``near Alvarado Meadow``: read in ``sealed-2``, deid12d):
  one or two given or family names of the dictionary that are no English word, then the
  kind (``PERSON_KINDS``; ``on Memorial Park``, ``at Union Station``, ``on Waters view``
  stay): a rule of its own, ``PERSON_RULE``;
* an **intersection** after ``corner of`` / ``intersection of``: two runs of capitalized
  words (or ordinals) joined by ``and``/``&``, each with or without its kind.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import forms, grammar
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import vocabulary
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Kinds a street after a place cue has besides the common ones (``grammar.STREET_KINDS``):
#: British and Commonwealth streets' (a ``Walk``, a ``Row`` or a ``Close`` after ``on`` and a
#: capitalized name is a street, where after a number the address grammar must leave it:
#: "6 Minute Walk", ``grammar.STREET_SUFFIX``), and squares and plazas.
_MORE_KINDS = (("crescent",), ("close",), ("grove",), ("mews",), ("walk",), ("row",),
               ("square", "sq"), ("plaza",))
#: The kinds, capitalized (as the names before them), abbreviations with or without a dot.
KINDS = "|".join(alt for full, *short in grammar.STREET_KINDS + _MORE_KINDS
                 for alt in (full.capitalize(), *(a.capitalize() + r"\.?" for a in short)))
_KIND = r"(?-i:" + KINDS + r"|" + KINDS.upper().replace(r"\.?", r"\.?") + r")"
_WORD = r"(?-i:[A-Z][a-z][A-Za-z'-]*|[A-Z]{2,}|[0-9]{1,3}(?:st|nd|rd|th))"
_RUN = _WORD + r"(?:[ \t]" + _WORD + r"){0,2}"
NAMED = re.compile(r"\b(?i:on|off|along|near|at)[ \t]{1,2}(" + _RUN + r"[ \t]" + _KIND
                   + r")(?![A-Za-z])")
CORNER = re.compile(r"\b(?i:corner|intersection)[ \t]{1,2}(?i:of)[ \t]{1,2}(" + _RUN
                    + r"(?:[ \t]" + _KIND + r")?[ \t]{1,2}(?:and|&)[ \t]{1,2}" + _RUN
                    + r"(?:[ \t]" + _KIND + r")?)(?![A-Za-z])")
#: The street kinds of USPS Publication 28, appendix C1 (primary names, written out) that
#: ``KINDS`` leaves out, for a street named after a person (``NAMED_AFTER``): ``on
#: Clarence Station``, ``near Alvarado Meadow``. Left out as what follows a person's name
#: in a note more often than a street's: ``View(s)`` (``on Waters view``: a radiograph),
#: ``Light`` (``Wood light``), ``Center``, ``Club``, ``Field``, ``Key``, ``Rest``, ``Run``,
#: ``Well``, ``Union``, ``Course``, ``Lock``, ``Neck``, ``Track``, ``Land``, ``Bottom``.
PERSON_KINDS = (
    "alley annex arcade bayou beach bend bluff bluffs boulevard branch bridge brook brooks "
    "burg burgs bypass camp canyon cape causeway circles cliff cliffs common commons corner "
    "corners courts cove coves creek crest crossing crossroad curve dale dam divide drives "
    "estate estates expressway extension falls ferry flat flats ford fords forest forge forges "
    "fork forks fort freeway garden gardens gateway glen glens green greens groves harbor "
    "harbors haven heights hill hills hollow inlet island islands isle junction junctions "
    "knoll knolls lake lakes landing loaf lodge mall manor manors meadow meadows mill mills "
    "mission motorway mount mountain mountains orchard oval overpass park parks parkways pass "
    "passage path pine pines plain plains point points port ports prairie radial ramp ranch "
    "rapid rapids ridge ridges river roads route shoal shoals shore shores skyway spring "
    "springs spur spurs squares station stravenue stream streets summit throughway trace "
    "trafficway tunnel turnpike underpass valley valleys viaduct village villages ville vista "
    "ways").split()
_PERSON_KIND = r"(?-i:" + "|".join(k.capitalize() for k in PERSON_KINDS) + r")"
_PERSON_WORD = r"(?-i:[A-Z][a-z][a-z'-]*)"
#: A place cue, one or two capitalized words and a kind of ``PERSON_KINDS``; the words must
#: be names of the dictionary that are no English word (``_person``).
NAMED_AFTER = re.compile(r"\b(?i:on|off|along|near|at)[ \t]{1,2}(" + _PERSON_WORD + r"(?:[ \t]"
                         + _PERSON_WORD + r")?)[ \t](" + _PERSON_KIND + r")(?![A-Za-z])")
_TITLE_AFTER = re.compile(r"[ \t]{1,2}[A-Z]")
_NOT_FIRST = frozenset("monday tuesday wednesday thursday friday saturday sunday the her his "
                       "my their our this that".split()) | frozenset(forms.MONTHS)


def _street(run: str) -> bool:
    """Whether a run before a kind names a street: its first word no weekday, month, article
    or note word."""
    first = run.split()[0].lower()
    return first not in _NOT_FIRST and first not in NOT_NAMES


def find(folded: str) -> list[Span]:
    """Spans of named streets after a place cue, and of intersections."""
    out: list[Span] = []
    for m in NAMED.finditer(folded):
        kind = m.group(1).split()[-1].rstrip(".").lower()
        if kind in ("dr", "st") and _TITLE_AFTER.match(folded, m.end()) is not None:
            continue
        if _street(m.group(1)):
            out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in CORNER.finditer(folded)
            if _street(m.group(1))]
    return out


def _person(word: str) -> bool:
    """Whether a word before a street's kind names the person a street is named after: a
    given or family name of the dictionary, no note word and an English word at most in lower
    case (``miller``; ``on Memorial Park``,
    ``at Union Station``, ``near Lake Mall`` stay)."""
    key = word.lower()
    given, family = dictionary()
    return (key in given or key in family) and key not in vocabulary()[0] and key not in NOT_NAMES


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``): a place cue, a capital
#: or a number, and later on the line a street's kind (a capitalized word of two to four
#: letters or in capitals, or the first letters of a longer kind); or a corner's words.
TRIGGER = (r"\b(?:on|off|along|near|at)\s+(?-i:[A-Z0-9])[^\n]*?\s(?-i:(?:[A-Z][a-z]{1,3}|[A-Z]{2,})"
           r"\.?(?:[^A-Za-z]|$)|(?:Str|Ave|Dri|Cou|Ter|Pla|Bou|Par|Cir|Tra|Hig|Cre|Clo|Gro|Squ))"
           r"|\b(?:corner|intersection)\s+of")
#: The rule, for the rule table.
RULE = FunctionRule("street-forms", TRIGGER, find)


def find_named_after(folded: str) -> list[Span]:
    """Spans of streets named after a person, after a place cue (``NAMED_AFTER``)."""
    return [(m.start(1), m.end(2), Placeholder.ADDRESS) for m in NAMED_AFTER.finditer(folded)
            if all(_person(w) for w in m.group(1).split())]


#: ``find_named_after``'s trigger (RE2, case-insensitive): a place cue and two or three
#: capitalized words.
PERSON_TRIGGER = (r"\b(?:on|off|along|near|at)\s+(?-i:[A-Z][a-z])[a-z'-]*\s(?:(?-i:[A-Z][a-z])"
                  r"[a-z'-]*\s)?(?-i:[A-Z][a-z]{2})")
#: The street named after a person, a rule of its own (its trigger selects other texts).
PERSON_RULE = FunctionRule("person-streets", PERSON_TRIGGER, find_named_after)
