"""Names by how a form writes them: ``LAST, First M.``, after a contact header, a signature.

The name lists and the cue rules find a name by its words or by a title before it; these
are the forms registration systems and signature blocks print, where the shape itself
says "a person":

* **``LAST, First M.``**: a family name in capitals (one to three words, ``O MONGAIN``, or a
  name already replaced), a comma, one or two capitalized given names and a middle initial
  with its dot (``BOECHAT, Rosemarie J.``); the initial and its dot are what make it a
  name and not a list (``CKD, Afib``, ``NSR, Normal axis``);
* a **name after a contact header**, the relation in parentheses maybe (``Emergency contact
  (daughter): Yacine Arendt``, ``NOK: Max Ampadu``, ``HCPOA - Jane Ziane``): one to three
  capitalized words after the header's colon or dash;
* a **name after a signature mark** (``/s/ Emily N. Guerfi``, ``cc: Jane Cornuz``,
  ``e-signed by Akos Kyei``): ``First [M.] Last``.

Words that are clinical or document words (``words.NOT_NAMES``: ``Patient``, ``Office``,
``Normal``) end a name. Python ``re`` on the folded text, through the rule table
(``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAPS = r"(?:[A-Z][A-Z'-]+|[A-Z](?=\s[A-Z]{2}))"
_GIVEN = r"(?:[A-Z][a-z][A-Za-z'-]*|\[NAME\])"
#: ``LAST, First M.`` (opens with a capital or a mark, so that ``re`` skips to them).
LAST_FIRST_INITIAL = re.compile(
    r"(?:(?<![A-Za-z'-])" + _CAPS + r"(?:\s[A-Z][A-Z'-]+){0,2}|\[NAME\]),\s{1,2}(" + _GIVEN
    + r"(?:\s" + _GIVEN + r")?)\s([A-Z])\.")
_HEADER = (r"(?:emergency\s{1,2}contact|e/?c|nok|next\s{1,2}of\s{1,2}kin|contact|proxy|hcp|hcpoa"
           r"|poa|dpoa|guardian|caregiver|informant|surrogate|spouse)")
_WORD = r"(?:[A-Z][a-z][A-Za-z'-]*|\[NAME\])"
#: One to four words; a middle initial, or a particle of one capital before a capitalized
#: word (``O Riollain`` folded from ``Ó Riolláin``), inside.
_RUN = r"(" + _WORD + r"(?:[ -](?:" + _WORD + r"|[A-Z]\.|[A-Z](?= [A-Z][a-z]))){0,3})"
#: A name after a contact header (the header case-insensitive, the name capitalized).
AFTER_HEADER = re.compile(
    r"\b(?i:" + _HEADER + r")(?:\s{0,2}\((?i:[a-z /-]{2,24})\))?\s{0,2}[:-]\s{0,3}" + _RUN)
#: ``First [M.] Last`` after a signature mark or a copy line.
AFTER_SIGNATURE = re.compile(
    r"(?:/s/|\b(?i:cc|bcc)\s{0,2}:|\b(?i:e-?signed|electronically\s{1,2}signed)(?:\s{1,2}(?i:by))?"
    r"\s{0,2}:?)\s{0,3}" + _RUN)


#: Titles a name may open with (not part of it) and words that end a name besides
#: ``NOT_NAMES``.
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "miss", "prof"})
_STOP = frozenset({"normal", "pcp", "self", "same", "see", "above", "below", "n/a", "na"})


def _name_span(start: int, words: str) -> tuple[int, int]:
    """(start, end) of the name in ``words`` (at ``start``): past a leading title, before the
    first word that is no name."""
    s = e = -1
    for m in re.finditer(r"\[NAME\]|[A-Za-z][A-Za-z'.-]*", words):
        w = m.group().rstrip(".").lower()
        if s < 0 and w in _TITLES:
            continue
        if (w in NOT_NAMES or w in _STOP) and not re.fullmatch(r"[A-Z]\.", m.group()):
            break  # a middle initial ("A.") is no word
        if s < 0:
            s = start + m.start()
        e = start + m.end()
    return (s, e) if s >= 0 else (start, start)


_INITIAL = re.compile(r"\s[A-Z]\.")
_HEADER_STEMS = ("contact", "nok", "next of kin", "proxy", "hcp", "poa", "guardian",
                 "caregiver", "informant", "surrogate", "spouse", "ec:", "ec :", "ec -", "e/c")
_SIGNATURE_STEMS = ("/s/", "cc:", "cc :", "signed")


def find(folded: str) -> list[Span]:
    """Spans of names in the forms above (each form gated by a substring it needs)."""
    out: list[Span] = []
    if "," in folded and _INITIAL.search(folded):
        for m in LAST_FIRST_INITIAL.finditer(folded):
            given = m.group(1)
            if not any(w.lower() in NOT_NAMES for w in given.split()):
                out.append((m.start(), m.end(), Placeholder.NAME))
    low = folded.lower()
    for rx, stems in ((AFTER_HEADER, _HEADER_STEMS), (AFTER_SIGNATURE, _SIGNATURE_STEMS)):
        if not any(s in low for s in stems):
            continue
        for m in rx.finditer(folded):
            start, end = _name_span(m.start(1), m.group(1))
            if end > start and folded[start:end] != "[NAME]":
                out.append((start, end, Placeholder.NAME))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"(?-i:[A-Z\]])," + _WS + r"{1,2}(?-i:[A-Z\[])[^,\n]{0,60}(?-i:" + _WS + r"[A-Z]\.)"
           r"|(?:emergency" + _WS + r"{1,2}contact|e/?c|nok|kin|contact|proxy|hcp|hcpoa|poa|dpoa"
           r"|guardian|caregiver|informant|surrogate|spouse)"
           r"(?:" + _WS + r"{0,2}\([a-z /-]{2,24}\))?" + _WS + r"{0,2}[:-]"
           r"|/s/|\bb?cc" + _WS + r"{0,2}:|signed")
#: The rule, for the rule table.
RULE = FunctionRule("name-forms", TRIGGER, find)
