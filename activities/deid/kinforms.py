"""Names a handover, a ward's bed table, a ``cc:`` line and a phone message write.

General forms found by ``fresh-10`` (a name is an identifier wherever it stands, 45 CFR
164.514(b)(2)(i)(A)):

* a **name after an abbreviated relation** (``Dtr Kim``, ``Hsb Raj``, ``Gdtr Ada``,
  ``Sis Ona``, ``Stepdtr Ali``; since deid12c a nursery's ``MOB``/``FOB``, mother and
  father of baby, and the grandparents ``MGM``, ``PGF``…, after a colon or a bracket
  too): a capitalized word that is no note word, a word in capitals the name dictionary
  knows (``MOB PAULETTE``; ``MOB AWARE``, ``FOB NICU`` stay), or a lower-case given name
  of the dictionary that is no English word (``mob paulette``; ``sis ok`` stays), and a
  second such word after it; the relation stays (``Daughter at bedside`` has no name
  after it);
* a **bed table's name cell** between ``|`` bars (``| OKAFOR, Chidi |``): a family name
  in any case, a comma and a given name with a capital (or its mark: the known values'
  pass took it first), no word of them a note word, and
  not every word of the safe vocabulary (``| CHF, DM |``, ``| Lasix, Metformin |``
  stay);
* a **name listed after a name**: the capitalized words after a name's mark and ``/``,
  ``&`` or ``;`` (``cc: [NAME] / Ja'far Iwu``), no note word (``[NAME] / Team B``);
* a **lower-case sign-off** at the start of the line after a thanks line (``ok thank u
  for calling back\\nemeka``): a given name of the dictionary that is no English word,
  or a word no list holds (no English, note, safe or chat word).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``: ``RULE``, and
``ABBR_RULE`` for the abbreviated relations); ``TRIGGER`` and ``ABBR_TRIGGER``
select their texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import english, vocabulary
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import CHAT, NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAP = r"(?-i:[A-Z][a-z][A-Za-z'-]*|[A-Z]'[A-Z][a-z]+)"
_UPPER = r"(?-i:[A-Z][A-Za-z'-]+)"
#: Abbreviated relations only: the relation words written out (``niece``, ``stepson``) are
#: the cue rules' (``names``), which read a capital after them with more care (``lives w
#: niece Echo Feb 04`` opens a sentence).
KIN = (r"dtr|dau|dghtr|hsb|hsbd|hus|husb|sis|bro|gdtr|gdau|gson|gma|gpa|wf|sil|dil|stepdtr|neph"
       r"|mob|fob|mgm|mgf|pgm|pgf|ggm|ggf")
_ANY = r"([A-Za-z][A-Za-z'-]*[A-Za-z])"
ABBR_KIN = re.compile(r"\b(?i:" + KIN + r")\.?(?:[ \t]{1,2}|[ \t]{0,2}[:(][ \t]{0,2})" + _ANY
                      + r"(?:[ \t]" + _ANY + r")?(?![A-Za-z0-9'-])")
_CAP_WORD = re.compile(_CAP)
CELL = re.compile(r"\|[ \t]*(" + _UPPER + r"(?:[ \t]" + _UPPER + r")?,[ \t]{0,2}(?:" + _CAP
                  + r"|\[NAME\])(?:[ \t]" + _CAP + r")?)[ \t]*(?=\|)")
LISTED = re.compile(r"\[NAME\][ \t]{0,2}[/&;][ \t]{0,2}(" + _CAP + r"(?:[ \t]" + _CAP
                    + r"){0,2})")
SIGN_OFF = re.compile(r"\b(?i:thank|thanks|thx|ty|cheers|regards)\b[^\n]{0,60}\n"
                      r"[ \t]*([a-z][a-z'-]{1,20})(?![A-Za-z0-9])([ \t]*(?:\n|$))?")


def _kin_name(word: str) -> bool:
    """A word after an abbreviated relation is a name: capitalized and no note word, in
    capitals and known to the name dictionary, or in lower case a given name of the
    dictionary that is no English word."""
    w = word.lower()
    if w in NOT_NAMES:
        return False
    if _CAP_WORD.fullmatch(word):
        return True
    given, family = dictionary()
    if word.isupper():
        return w in given or w in family
    return word.islower() and w in given and w not in english()


def _kin_spans(folded: str) -> list[Span]:
    """The name after each abbreviated relation: its first word, and the second when it is
    a name too (``MOB PAULETTE ROSS``)."""
    out: list[Span] = []
    for m in ABBR_KIN.finditer(folded):
        if not _kin_name(m.group(1)):
            continue
        two = m.group(2) is not None and _kin_name(m.group(2))
        out.append((m.start(1), m.end(2 if two else 1), Placeholder.NAME))
    return out


def _names(run: str) -> bool:
    """No word of the run a note word, and not every word a safe word."""
    words = [w.lower() for w in re.split(r"[ \t,]+", run) if w]
    anycase, lower = vocabulary()
    return (not any(w in NOT_NAMES for w in words)
            and not all(w in anycase or w in lower or w in english() for w in words))


def _sign_off(word: str, alone: bool) -> bool:
    """A lower-case word is a name after a thanks line: a given name of the dictionary that
    is no English word or stands alone on its line (``thanks\nwill``), or a word no list
    holds."""
    if word in CHAT or word in NOT_NAMES:
        return False
    if word in dictionary()[0] and (alone or word not in english()):
        return True
    anycase, lower = vocabulary()
    return word not in english() and word not in anycase and word not in lower


def find(folded: str) -> list[Span]:
    """Spans of names in bed-table cells, listed after a name, and signing off in lower
    case."""
    out: list[Span] = []
    if "|" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in CELL.finditer(folded)
                if _names(m.group(1))]
    if "[NAME]" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in LISTED.finditer(folded)
                if _names(m.group(1))]
    if "\n" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in SIGN_OFF.finditer(folded)
                if _sign_off(m.group(1), m.group(2) is not None)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``): a cell's comma, a listed
#: name's mark, a thanks line.
TRIGGER = (r"\|\s*(?-i:[A-Z])[^|,\n]*,|\[name\]\s*[/&;]"
           r"|(?:thank|thx|ty|cheers|regards)[^\n]*\n\s*(?-i:[a-z])")
#: The rule, for the rule table.
RULE = FunctionRule("kin-forms", TRIGGER, find)
#: The names after abbreviated relations: a rule of their own since deid12c, whose trigger
#: reads each relation whole (a name in lower case is read too, so the first letters and any
#: letter after them would select most notes: ``bronchitis``, ``steps``, ``nephrology``).
ABBR_TRIGGER = (r"\b(?:d(?:tr|au|ghtr|il)|h(?:sbd?|usb?)|s(?:is|il|tepdtr)|bro"
                r"|g(?:dtr|dau|son|ma|pa|g[mf])|wf|neph|[mf]ob|[mp]g[mf])\.?\W+[a-z]")
#: The rule of the abbreviated relations, for the rule table.
ABBR_RULE = FunctionRule("kin-abbrevs", ABBR_TRIGGER, _kin_spans)
