"""Names in messages and arrival lines: who writes, who signs, who arrives.

Patients writing in the portal name themselves the way they speak, often in lower case, and
sign off with their first name; triage lines put the whole name between ``Pt`` and a verb.
The cue rules look for titles and relations; these are the other places a name stands
(found by ``fresh-7``, general forms rather than its strings):

* a **self-introduction** (``hi this is dona webb and i need``, ``my name is Maria``, ``it's
  amy``): a given name the dictionary holds (``namelists``), then maybe a family name; a
  given name that is also an English word (``grace``, ``mark``) only with a family name
  the dictionary holds after it (``this is grace smith``; not ``this is new``);
* a **sign-off** at the end of a line (``ok thanks for the help, dona``, ``Thanks again -
  Maria``, ``regards, frances``): after ``thanks``/``thank you``/``regards``/``cheers`` in
  the same line, a given name the dictionary holds and maybe a family name, then the line
  ends; a given name that is an English word only after a comma or a dash;
* a **name field** of a header (``Patient Name: GARCIA LOPEZ, MARIA JOSE``): family names
  in capitals, a comma, given names in capitals;
* a **name between ``Pt``/``Patient`` and a lower-case verb** (``Pt Dona Webb O Heaghra
  arrives by EMS``): two to five capitalized words or one-letter particles (``O`` folded
  from ``Ó``) or marks of names already replaced, none a clinical word
  (``words.NOT_NAMES``) and at least one no English word, so ``Patient Care Plan
  reviewed`` stays.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import vocabulary
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_WORD = r"[A-Za-z][a-z'-]{1,19}"
SELF_NAME = re.compile(r"\b(?i:this\s{1,2}is|my\s{1,2}name\s{1,2}is|it'?s|i\s?'?m)\s{1,2}("
                       + _WORD + r"|\[NAME\])(?:\s{1,2}(" + _WORD + r"))?")
#: More name words after a self-introduction's name (``maria dolores sabharwal``, ``james
#: mac seaghain``: a particle counts with the word after it).
_MORE = re.compile(r"\s{1,2}((?:(?i:mac|mc|o|de|del|la|van|von|di|da|le)\s{1,2})?" + _WORD + r")")
#: A name field of a header (``Patient Name: GARCIA LOPEZ, MARIA JOSE``): family names in
#: capitals (particles and marks of names already replaced too), a comma, given names.
_UPPER = r"(?:[A-Z][A-Z'-]+|\[NAME\]|DE|LA|DEL|VAN|VON|[A-Z])"
NAME_FIELD = re.compile(r"\b(?i:patient\s{1,2}name|pt\s{1,2}name|name)\s{0,2}:\s{0,3}("
                        + _UPPER + r"(?:\s" + _UPPER + r"){0,4},\s{0,2}[A-Z][A-Z'-]+"
                        r"(?:\s[A-Z][A-Z'-]+){0,2})\b")
SIGN_OFF = re.compile(r"\b(?i:thanks|thank\s{1,2}you|thx|regards|cheers|sincerely)\b[^\n]{0,40}?"
                      r"(,|\s-|\s)\s{0,2}(" + _WORD + r")(?:\s{1,2}(" + _WORD + r"))?"
                      # then the line ends, or the next sentence starts (notes run on)
                      r"\s{0,2}[.!]?(?=[ \t]*$|\s{1,3}[A-Z])", re.MULTILINE)
_CAP = r"(?:[A-Z][a-z][A-Za-z'-]*|[A-Z]'[A-Z][a-z]+|\[NAME\])"
_PARTICLE = r"(?:de|del|la|van|von|der|den|di|da|du|le|dos|das)"
ARRIVING = re.compile(r"\b(?:Pt|PT|Patient|PATIENT)\.?\s{1,2}(" + _CAP + r"(?:\s(?:" + _CAP
                      + r"|[A-Z](?=\s[A-Z][a-z])|" + _PARTICLE + r"(?=\s[A-Z][a-z]))){1,4})"
                      r"\s{1,2}[a-z]{2,}")


def _given(word: str, strict: bool) -> bool:
    """A given name the dictionary holds; when ``strict``, also no English word."""
    w = word.lower()
    return w in dictionary()[0] and w not in NOT_NAMES and not (strict and w in vocabulary()[0])


def _family(word: str | None) -> bool:
    """A family name the dictionary holds that is no English word."""
    return word is not None and word.lower() in dictionary()[1] \
        and word.lower() not in NOT_NAMES and word.lower() not in vocabulary()[0]


def _named(m: re.Match[str], first: int, after_mark: bool) -> Span | None:
    """The span of a given name (group ``first``) and of the family name after it when the
    dictionary holds one. With that family name, the given name may be any word that is no
    English word; alone, it must be a given name of the dictionary, and no English word
    unless a comma or a dash stands before it (``after_mark``)."""
    given, family = m.group(first), m.group(first + 1)
    if _family(family) and (_given(given, strict=False) or given.lower() not in NOT_NAMES
                            and given.lower() not in vocabulary()[0]):
        return m.start(first), m.end(first + 1), Placeholder.NAME
    if _given(given, strict=not after_mark):
        return m.start(first), m.end(first), Placeholder.NAME
    return None


def _longer(folded: str, sp: Span) -> Span:
    """``sp`` with up to two more words after it that are no English word and no clinical
    word (a second given name, a family name: ``maria dolores sabharwal``)."""
    s, e, ph = sp
    for _ in range(2):
        m = _MORE.match(folded, e)
        w = m.group(1).lower() if m is not None else ""
        if m is None or w.split()[-1] in vocabulary()[0] or w.split()[-1] in NOT_NAMES:
            break
        e = m.end()
    return s, e, ph


def find(folded: str) -> list[Span]:
    """Spans of names after a self-introduction, in a sign-off, or after ``Pt``."""
    out: list[Span] = []
    low = folded.lower()
    if "is " in low or "'s " in low or "im " in low or "i'm " in low:
        for m in SELF_NAME.finditer(folded):
            sp = (m.start(1), m.end(1), Placeholder.NAME) if m.group(1) == "[NAME]" \
                else _named(m, 1, after_mark=False)
            if sp is not None:
                out.append(_longer(folded, sp))
    if any(s in low for s in ("thank", "thx", "regards", "cheers", "sincerely")):
        for m in SIGN_OFF.finditer(folded):
            sp = _named(m, 2, after_mark=m.group(1).strip() in (",", "-"))
            if sp is not None:
                out.append(sp)
    if "name" in low:
        for m in NAME_FIELD.finditer(folded):
            words = re.findall(r"[A-Za-z]{2,}", m.group(1).replace("[NAME]", " "))
            if not any(w.lower() in NOT_NAMES for w in words):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    for m in ARRIVING.finditer(folded):
        words = [w for w in m.group(1).split() if w != "[NAME]" and w[0].isupper()]
        if words and not any(w.lower() in NOT_NAMES for w in words) \
                and any(len(w) > 1 and w.lower() not in vocabulary()[0] for w in words):
            out.append((m.start(1), m.end(1), Placeholder.NAME))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"\b(?:this" + _WS + r"{1,2}is|my" + _WS + r"{1,2}name" + _WS + r"{1,2}is|it'?s|i"
           + _WS + r"?'?m)" + _WS + r"{1,2}(?:[a-z]|\[name\])"
           r"|\b(?:thanks|thank" + _WS + r"{1,2}you|thx|regards|cheers|sincerely)\b"
           r"|\b(?-i:Pt|PT|Patient|PATIENT)\.?" + _WS + r"{1,2}(?-i:[A-Z][a-z]|\[NAME\])"
           r"|name" + _WS + r"{0,2}:" + _WS + r"{0,3}(?-i:[A-Z]|\[NAME\])")
#: The rule, for the rule table.
RULE = FunctionRule("message-forms", TRIGGER, find)
