"""Names in lower case after a relation or a clinician's act, and a name in brackets after a
relation (deid12f).

``kinforms`` and ``peopleforms`` read a lower-case word after a relation as a name when the
name dictionary knows it; names from outside the dictionary's locales (``bjartmar``,
``ludovit``, ``kimbilio``) stayed. Three shapes say "a person" whatever the name:

* a **relation, then a word on no list, then what the person does or where they are**
  (``son ludovit at bedside``, ``gdtr bjartmar wants a call``, ``carer tobenna on the way
  in``): the relation written out (``names``' relations) or abbreviated (``kinforms.KIN``),
  or ``carer``, ``flatmate``, ``housemate``; the word must be on no word list
  (``words.other_word``: no English, note, safe or chat word), and a verb or a place's
  preposition must follow. ``son unwell at home``, ``dtr pls call``, ``sis rn at work``
  stay;
* a **relation, then a capitalised name in brackets** (``Flatmate (Samuel) says``,
  ``Friend (Ines Marr)``): a dictionary name or a word on no list; ``Partner (NOK)``,
  ``Son (eldest)`` stay;
* a **clinician's act and ``by``, then two lower-case words (a given and a family name) and
  a role in brackets or after a comma** (``seen by amaka obi (psychiatry liaison)``,
  ``reviewed by tomas kral, ward pharmacist``): each word a given name of the dictionary
  that is no English word, or a word on no list. ``seen by physio (ortho)`` (one word: a
  service is as often written so), ``reviewed by the team,`` stay.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.kinforms import KIN
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.names import CUES
from medpipe.activities.deid.safelist import english
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.activities.deid.words import NOT_NAMES, other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Relations written out (``names``' cue table) and abbreviated (``kinforms``), and people
#: a patient lives with or is cared for by.
_REL = "|".join(sorted({c for c, kind in CUES.items() if kind == "relation" and " " not in c
                        and c not in ("named", "called")}
                       | set(KIN.split("|")) | {"carer", "flatmate", "housemate", "roomie"},
                       key=len, reverse=True))
#: What follows a person: a verb of being, coming, saying or wanting, or a place's word.
_DOES = (r"at|on|is|was|will|wants|wanted|says|said|rang|called|phoned|visiting|visited|here"
         r"|present|aware|has|had|came|brought|arrived|staying|coming|can|would|asked|asks"
         r"|reports|reported|states|stated|agrees|agreed|happy|keen|knows|collecting|bringing")
LOWER_AFTER_KIN = re.compile(r"(?<![A-Za-z])(?i:" + _REL + r")\.?[ \t]{1,2}([a-z][a-z'-]{1,24})"
                             r"(?=[ \t]{1,2}(?:" + _DOES + r")(?![a-z]))")
BRACKETED = re.compile(r"(?<![A-Za-z])(?i:" + _REL + r")[ \t]{0,2}\([ \t]{0,2}"
                       r"([A-Z][a-z'-]+(?:[ \t][A-Z][a-z'-]+)?)[ \t]{0,2}\)")
_AGENT = (r"seen by|reviewed by|assessed by|examined by|checked by|discussed with|d/w"
          r"|spoke with|spoke to")
AGENT_LOWER = re.compile(r"(?<![A-Za-z])(?i:" + _AGENT + r")[ \t]{1,2}"
                         r"([a-z][a-z'-]{1,24}[ \t][a-z][a-z'-]{1,24})"
                         r"(?=[ \t]{0,2}(?:\(|,))")


def _unknown(word: str) -> bool:
    """A word on no list and no relation's word."""
    return other_word(word) and not re.fullmatch(_REL, word, re.IGNORECASE)


def _lower_name(word: str) -> bool:
    """A given name of the dictionary that is no English word, or a word on no list."""
    w = word.lower()
    return (w in dictionary()[0] and w not in english() and w not in NOT_NAMES) \
        or _unknown(word)


def find(folded: str) -> list[Span]:
    """Spans of a lower-case name after a relation or a clinician's act, and of a name in
    brackets after a relation."""
    out: list[Span] = [(m.start(1), m.end(1), Placeholder.NAME)
                       for m in LOWER_AFTER_KIN.finditer(folded) if _unknown(m.group(1))]
    given, family = dictionary()
    for m in BRACKETED.finditer(folded):
        words = m.group(1).split()
        if all(w.lower() in given or w.lower() in family or other_word(w) for w in words) \
                and not any(w.lower() in NOT_NAMES for w in words):
            out.append((m.start(1), m.end(1), Placeholder.NAME))
    out += [(m.start(1), m.end(1), Placeholder.NAME) for m in AGENT_LOWER.finditer(folded)
            if all(_lower_name(w) for w in m.group(1).split())]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a relation,
#: a word and what a person does, or a bracket and a letter; a clinician's act, two words
#: and a bracket or a comma.
TRIGGER = (r"(?:^|[^a-z])(?:" + _REL + r")\.?(?:" + WS + r"{1,2}[a-z][a-z'-]*" + WS
           + r"{1,2}(?:" + _DOES + r")(?:[^a-z]|$)|" + WS + r"{0,2}\(" + WS + r"{0,2}[a-z])"
           r"|(?:" + _AGENT + r")" + WS + r"{1,2}[a-z][a-z'-]*" + WS + r"[a-z][a-z'-]*" + WS
           + r"{0,2}[(,]")
#: The rule, for the rule table.
RULE = FunctionRule("relation-names", TRIGGER, find)
