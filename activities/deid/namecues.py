"""Names after a credential or a message, cues the name lists do not hold.

* a **credential, then a name, then a verb** (``Infusion RN Lamoureux placed``, ``per NP
  Okafor reviewed``): the credential in capitals, one or two capitalized words that are
  no clinical word (``words.NOT_NAMES``: ``RN Supervisor``, ``MD Office``), a lower-case
  word after them;
* the **person a message is for** (``Left voicemail for Bastian``, ``VM left for Luis
  Ortega``, ``msg to Adaeze re: refill``): one or two capitalized words after
  ``voicemail``/``vm``/``message``/``msg`` (``left``) ``for``/``to``.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``).
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_NAME = r"([A-Z][a-z][A-Za-z'-]*(?:\s[A-Z][a-z][A-Za-z'-]*)?)\b"
#: Not ``PA`` (posteroanterior: "PA Chest"), ``RT`` (right: "RT Shoulder"), ``DO``.
#: Home-health and personal-care aides too (``HHA Roxanne present``).
_CREDENTIALS = r"(?:RN|LPN|LVN|CNA|NP|APRN|FNP|PA-C|CRNA|EMT|MD|PharmD|SW|LCSW|MSW|HHA|CHHA|PCA)"
AFTER_CREDENTIAL = re.compile(r"(?<![A-Za-z-])" + _CREDENTIALS + r"\s{1,2}" + _NAME
                              + r"(?=\s{1,2}[a-z]{2,})")
FOR_MESSAGE = re.compile(
    r"\b(?i:voice\s?mail|vm|message|msg|text)(?:\s{1,2}(?i:left|sent))?\s{1,2}(?i:for|to)"
    r"\s{1,2}" + _NAME)


def _name(words: str) -> bool:
    return not any(w.lower() in NOT_NAMES for w in words.split())


def find(folded: str) -> list[Span]:
    """Spans of names after a credential or a message."""
    out: list[Span] = []
    for rx in (AFTER_CREDENTIAL, FOR_MESSAGE):
        for m in rx.finditer(folded):
            if _name(m.group(1)):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    return out



#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"(?-i:" + _CREDENTIALS + _WS + r"{1,2}[A-Z][a-z])"
           r"|(?:voice" + _WS + r"?mail|vm|message|msg|text)(?:" + _WS + r"{1,2}(?:left|sent))?"
           + _WS + r"{1,2}(?:for|to)" + _WS + r"{1,2}(?-i:[A-Z][a-z])")
#: The rule, for the rule table.
RULE = FunctionRule("name-cues", TRIGGER, find)
