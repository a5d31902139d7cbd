"""Names on a form's signature lines: a signer's header with its number or a note on how the
name is written (``Witness #2 (printed): Ann Lee``, ``Witness 1: Ann Lee``, ``Agent (print
name): Ann Lee``).

Advance directives, consents, proxies and release forms number their witnesses and ask for
the name printed under the signature (45 CFR 164.514(b)(2)(i)(A): names of the individual,
relatives and, as in every set here, anyone named). The cue rules read ``Witness:`` as a
header, but a number or a parenthetical between the word and its colon hid it (read in
``sealed-2``, deid12d). The header is a signer's word (``witness``, ``agent``, ``alternate
agent``, ``principal``, ``declarant``, ``notary``, ``guardian``, ``proxy``,
``surrogate``, ``signer``; not ``interpreter``, whose line names a language: ``Interpreter
#1: Spanish``, and ``Spanish`` is on no word list) with a number (``#2``, ``2``) or a parenthetical
(``(printed)``, ``(print name)``, ``(name)``), or both, then a colon; the name is one to
three words up to the first that is no name (or ``LAST, FIRST`` in capitals): each
capitalized or in capitals, an initial,
a given or family name of the dictionary or a word on no list (``words.other_word``), never
a note or English word (``Witness 2 (printed): Not present``, ``Witness #1: Same as
above`` are kept). A bare ``Agent:`` is no header here (``Agent: Haldol``: an agent is a drug too);
``Witness:`` alone is the cue rules' (``names``).

A **sign-off**: a given name and a family name in capitals standing alone, from the start of
a line or a sentence to the end of the line or a ``|`` (``Zuwena MADHUBUTI | Bed Manager``,
``...dose.\nGoma OTIENO``; deid12e): the family name in capitals is how notes write a
signer, and neither word may be on a word list (``Tazocin STAT``, ``Bed MANAGER`` stay).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES, other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_SIGNER = (r"(?:witness|alternate[ \t]agent|agent|principal|declarant|notary(?:[ \t]public)?"
           r"|guardian|proxy|surrogate|signer)")
_NUMBER = r"(?:#[ \t]?[0-9]{1,2}|no\.?[ \t]?[0-9]{1,2}|[0-9]{1,2})"
_HOW = r"\((?:printed|print(?:ed)?[ \t]name|print|name)\)"
#: The header: its word, a number or a parenthetical (one at least), a colon.
HEADER = re.compile(r"\b(?i:" + _SIGNER + r"(?:[ \t]{0,2}" + _NUMBER + r"[ \t]{0,2}(?:" + _HOW
                    + r")?|[ \t]{0,2}" + _HOW + r"))[ \t]{0,2}:[ \t]{0,2}")
#: One word of the name: capitalized or in capitals (accents folded), or an initial.
_WORD = re.compile(r"[A-Z](?:\.|[A-Za-z'-]*[A-Za-z])")
#: The given name after a family name in capitals and a comma (``OKAFOR, NNEKA``).
_LAST_FIRST = re.compile(r",[ \t]{0,2}([A-Z][A-Z'-]*[A-Z])\b")


def _name_word(word: str) -> bool:
    """A given or family name of the dictionary, or a word on no list; no note word."""
    if len(word) == 2 and word.endswith("."):
        return True
    key = word.lower().strip("'-")
    if key in NOT_NAMES:
        return False
    given, family = dictionary()
    return key in given or key in family or other_word(key)


#: A given name and a family name in capitals alone: from a line's or a sentence's start to
#: the line's end or a ``|``.
SIGNOFF = re.compile(r"(?m:^|(?<=[.!?|] ))([A-Z][a-z'-]+ ([A-Z][A-Z'-]*[A-Z]))(?=[ \t]{0,2}"
                     r"(?m:$|\|))")


def _signoff(folded: str) -> list[Span]:
    """Spans of a sign-off's name: a family name of three letters or more, each word a
    dictionary name or on no list (``_name_word``)."""
    return [(m.start(1), m.end(1), Placeholder.NAME) for m in SIGNOFF.finditer(folded)
            if len(m.group(2)) >= 3 and all(_name_word(w) for w in m.group(1).split())]


def find(folded: str) -> list[Span]:
    """Spans of the names after a signer's numbered or annotated header, and of a
    sign-off."""
    out: list[Span] = _signoff(folded)
    for head in HEADER.finditer(folded):
        at, end = head.end(), -1
        for _ in range(3):
            m = _WORD.match(folded, at)
            if m is None or not _name_word(m.group()):
                break
            end = m.end()
            gap = re.match(r"[ \t]{1,2}", folded[end:end + 2])
            if gap is None:
                break
            at = end + gap.end()
        if end > head.end() and folded[head.end():end].isupper():  # LAST, FIRST
            m = _LAST_FIRST.match(folded, end)
            if m is not None and m.group(1).isupper() and _name_word(m.group(1)):
                end = m.end()
        if end > head.end():
            out.append((head.end(), end, Placeholder.NAME))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = (r"\b" + _SIGNER + r"[ \t]{0,2}(?:#|no|[0-9(])[^:\n]{0,20}:[ \t]{0,2}(?-i:[A-Z])"
           r"|(?:^|[\n.!?|][ \t]?)(?-i:[A-Z][a-z'-]+ [A-Z][A-Z'-]*[A-Z])[ \t]{0,2}(?:$|[\n|])")
#: The rule, for the rule table.
RULE = FunctionRule("sign-forms", TRIGGER, find)
