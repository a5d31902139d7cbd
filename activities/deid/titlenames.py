"""Names after a community's or a faith's title (deid12f).

``names`` reads a name after a clinician's or a courtesy title (``Dr``, ``Mrs``, ``Rev``);
families and communities give their elders and leaders titles too, and a note quotes them
as the family does (``Family spokesman is Chief Ruqayya Yahaya``, ``Alhaji Kabiru Jibril
attended``, ``Pastor Faith Ogunleye``, ``Elder Ctibor Timka (pt's father-in-law)``).

The title (``Chief``, ``Elder``, ``Alhaji``, ``Alhaja``, ``Hajia``, ``Mallam``, ``Pastor``,
``Imam``, ``Sheikh``, ``Rabbi``, ``Reverend``, ``Deacon``, ``Deaconess``, ``Bishop``,
``Evangelist``, ``Apostle``), capitalised, then one to three words, capitalised or in
capitals, each a dictionary name or a word on no list (``words.other_word``): the run stops
at the first English or note word, so ``Chief Complaint``, ``Chief Executive``, ``Elder
Abuse Team``, ``Elder Care``, ``Pastor visited``, ``Rabbi available``, ``Chief Nurse``
stay. The title stays, and no other rule takes it for a name before the name it opens
(``TITLE_WORDS``; deid12g).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.activities.deid.words import other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_TITLES = ("Chief|Elder|Alhaji|Alhaja|Hajia|Mallam|Pastor|Imam|Sheikh|Rabbi|Reverend|Deacon"
           "|Deaconess|Bishop|Evangelist|Apostle")
#: The titles in lower case: a title is no name word where it stands before a name
#: (``names.find_beside``, ``names.find_pair``: ``Pastor [NAME]``, ``Imam John``), though
#: Faker's lists hold ``Pastor``, ``Imam``, ``Bishop`` as names (deid12g).
#: Filipino kin titles before a relative's (nick)name (``Kuya Jun-Jun``, ``Manang Inday``) and
#: an Indian attender's role word (``Attender Venkata Lakshmi``): they open a name and are no
#: part of it (``worldnames`` takes the name; deid12h). ``Tita``, ``Tito``, ``Lola``, ``Lolo``
#: are given names too (``Lola Smith``): they stay name words beside a name.
KIN_TITLES = frozenset(("kuya", "manang", "manong", "ninang", "ninong", "ate"))
ROLES_BEFORE = frozenset(("attender", "attendant", "bystander"))
TITLE_WORDS = frozenset(_TITLES.lower().split("|")) | KIN_TITLES | ROLES_BEFORE
#: A title, then up to three capitalised words (the words are judged one by one).
TITLE_RUN = re.compile(r"(?<![A-Za-z])(?:" + _TITLES + r")\.?[ \t]{1,2}"
                       r"((?:[A-Z][A-Za-z'-]+)(?:[ \t]{1,2}[A-Z][A-Za-z'-]+){0,2})")
_WORD = re.compile(r"[A-Za-z'-]+")


def _name_word(word: str) -> bool:
    """A dictionary name, or a word on no list."""
    w = word.lower().strip("'-")
    given, family = dictionary()
    return w in given or w in family or other_word(word)


def find(folded: str) -> list[Span]:
    """Spans of the name words after a community's or a faith's title."""
    out: list[Span] = []
    for m in TITLE_RUN.finditer(folded):
        end = m.start(1)
        for w in _WORD.finditer(folded, m.start(1), m.end(1)):
            if not _name_word(w.group()):
                break
            end = w.end()
        if end > m.start(1):
            out.append((m.start(1), end, Placeholder.NAME))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a title and
#: a word after it.
TRIGGER = r"(?:" + _TITLES.lower() + r")\.?" + WS + r"{1,2}[a-z]"
#: The rule, for the rule table.
RULE = FunctionRule("title-names", TRIGGER, find)
