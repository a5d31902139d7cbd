"""A person's initials after the word ``initials``: ``subject initials JS``, ``pt initials:
J.S.``.

A research or a transfusion note names a subject or a patient by initials where it names
no one else (45 CFR 164.514(b)(2)(i)(A): names, and a name's initials are a part of it).
The cue is the plural ``initials`` (``initial CT``, ``initial BP`` are no cue), then an
optional ``are``/``is``/``:``/``=``/``(``, then two to four letters:

* in **capitals**, with dots or dashes between or none (``JS``, ``J.S.``, ``J-M-S``), unless
  the letters are a word of the safe vocabulary or a note word (``initials RN``, ``initials
  NA``: a credential, not a person);
* in **lower case** (``initials: js``) only when the letters are no English word, no word
  of the safe vocabulary and no note word (``initials and date`` stays).

Only the letters are replaced; the cue stays. Python ``re`` on the folded text, through the
rule table (``rules.MODULES``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.safelist import english, vocabulary
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

INITIALS = re.compile(
    r"\b(?i:initials)(?:[ \t]{1,2}(?i:are|is|were))?[ \t]{0,2}[:=#(-]?[ \t]{0,2}"
    r"((?-i:[A-Z](?:[.-]?[A-Z]){1,3}\.?|[a-z](?:\.?[a-z]){1,3}\.?))(?![A-Za-z0-9/'-])"
)


def _letters_name(letters: str) -> bool:
    """Whether the letters after ``initials`` are a person's: no word of a list."""
    word = re.sub(r"[.-]", "", letters).lower()
    anycase, lower = vocabulary()
    if word in NOT_NAMES or word in anycase or word in lower:
        return False
    return letters.isupper() or word not in english()


def find(folded: str) -> list[Span]:
    """Spans of initials after ``initials``."""
    return [
        (m.start(1), m.end(1), Placeholder.NAME)
        for m in INITIALS.finditer(folded)
        if _letters_name(m.group(1))
    ]


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``).
TRIGGER = r"\binitials[ \t:=#(a-z-]*[a-z]"
#: The rule, for the rule table.
RULE = FunctionRule("initial-forms", TRIGGER, find)
