"""Names by the company they keep: lists of people, staff by role in lower case, a family
by its name, nicknames in parentheses, particles of Dutch, German, Arabic and Portuguese
names, self-introductions in dictation, a sign-off run into the next words, lower-case
names after ``spoke with`` or a relation.

The cue rules take a capitalized word after a title or a relation; these are general forms
the notes of ``fresh-9`` wrote names in (45 CFR 164.514(b)(2)(i)(A): names of the
individual, relatives, household members and, as in every set here, staff):

* **names in a list** after a header that lists people (``Present:``, ``Attendees:``,
  ``cc:``, ``Present at the family meeting:``; an EMS run sheet's ``crew:``, ``On scene:``,
  recall11): every item of one to three capitalized
  words (or a replaced name) up to the end of the sentence; an item next to a replaced
  name in a list (``[NAME], Ann Kowalczyk and [NAME]``);
* **staff by role in lower case** (``charge nurse tamsin``, ``cna okafor``): a word that
  is no English word after the role;
* a **family by its name** (``the Lindqvist family``, ``the Okafors``): a capitalized word
  no English word, or a family name of the dictionary that is an English word only in
  lower case, between ``the`` and ``family``/``household``/``kids``;
* a **nickname in parentheses** inside a full name (``Robert (Bob) Lindqvist``): the whole
  name, as ``letterforms`` does for quotes;
* **particles** of names after a title or a given name (``Mr. zu Salm``, ``Elna van der
  Berg``, ``Dr. al-Masri``, ``Ali bin Salleh``);
* a **self-introduction in dictation** (``this is doctor ana lindqvist dictating``): the
  words between ``this is`` (and a title) and a verb of dictating or calling;
* a **sign-off run into the next words** (``-- Emilia dictated by``): a given name of the
  dictionary or a word that is no English word after a dash at a line's start;
* a **lower-case given or family name** after ``spoke with``/``talked to``/``met with``,
  or after a relation and before a verb (``her son nelson is``): a name
  of the dictionary that is an English word only in lower case (``nelson``, ``nova``);
  after a relation and before a comma (``caller is her daughter olwen, states``, deid12d),
  also a word no list holds (no English, safe-vocabulary or note word, with a vowel).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import names
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import english, vocabulary
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import CHAT, NOT_GIVEN_BEFORE_PARTICLE, NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAP = r"(?-i:[A-Z][a-z][A-Za-z'-]*|[A-Z]'[A-Z][a-z]+)"
_ITEM = r"(?:" + _CAP + r"|\[NAME\])(?:[ \t](?:" + _CAP + r"|\[NAME\])){0,2}"
_HEADER = (r"(?:present|attendees|attending|in\s{1,2}attendance|participants|participating"
           r"|cc|copies\s{1,2}to|visitors|care\s{1,2}team|present\s{1,2}at\s{1,2}[a-z ]{3,40}"
           r"|crew|crew\s{1,2}members|responders|on\s{1,2}scene)")
LIST_HEAD = re.compile(r"\b(?i:" + _HEADER + r")[ \t]{0,2}:[ \t]{0,2}")
_SEP = re.compile(r"[ \t]{0,2}(?:,|;|,?[ \t]{1,2}and)[ \t]{1,2}|[ \t]{0,2}&[ \t]{1,2}")
_ITEM_RE = re.compile(_ITEM)
#: An item beside a replaced name in a list.
BESIDE_MARK = re.compile(r"\[NAME\](?:,|,?[ \t]and)[ \t]{1,2}(" + _CAP + r"[ \t]" + _CAP
                         + r")|(" + _CAP + r"[ \t]" + _CAP + r")(?:,[ \t]|,?[ \t]and[ \t])\[NAME\]")
_ROLE = (r"(?:charge\s{1,2}nurse|nurse|cna|rn|lpn|lvn|scribe|aide|chaplain|case\s{1,2}manager"
         r"|unit\s{1,2}clerk|social\s{1,2}worker|msw|pca|interpreter|pharmacist|dietitian"
         r"|therapist|paramedic|emt|attending|hospitalist|np)")
ROLE_LOWER = re.compile(r"\b(?-i:" + _ROLE + r")\s{1,2}((?-i:[a-z][a-z'-]{2,24}))\b")
FAMILY = re.compile(r"\bthe\s{1,2}(" + _CAP + r")\s{1,2}(?:family|household|kids|children|home"
                    r"|residence)\b", re.IGNORECASE)
PAREN_NICK = re.compile(r"(?<![A-Za-z])((?:" + _CAP + r"|\[NAME\])\s{1,2}\((?:" + _CAP
                        + r"|\[NAME\])\)\s{1,2}(?:" + _CAP + r"|\[NAME\]))")
_MORE_CAP = re.compile(r"[ \t]{1,2}(" + _CAP + r")\b")
_PARTICLES = (r"(?:van|von|zu|zum|zur|ter|ten|den|der|de|da|das|do|dos|du|di|del|della|le|la"
              r"|bin|binti|bint|ibn|abu|al|el|ben|ap)")
#: A particle before a capital: the gate of ``PARTICLE``, whose matches open at every capital.
_PARTICLE_AT = re.compile(r"\b(?-i:" + _PARTICLES + r")[ -][A-Z]")
PARTICLE = re.compile(r"\b(?:((?-i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof))\.?|(" + _CAP + r"))\s{1,2}((?-i:"
                      + _PARTICLES + r")(?:[ -](?-i:" + _PARTICLES + r"))?[ -](?-i:[A-Z][A-Za-z'"
                      r"]+))")
_LOW_OR_MARK = r"(?:(?-i:[a-z][a-z'-]+)|\[NAME\])"
SELF_INTRO = re.compile(r"\bthis\s{1,2}is\s{1,2}(?:(?:doctor|dr\.?|nurse)\s{1,2})?(" + _LOW_OR_MARK
                        + r"(?:\s{1,2}" + _LOW_OR_MARK + r"){0,2}?)\s{1,2}(?:dictating"
                        r"|calling|speaking|recording|reporting|from\s{1,2}the|with\s{1,2}the"
                        r"|on\s{1,2}call)\b", re.IGNORECASE)
DASH_RUN = re.compile(r"(?:^[ \t]*-{1,2}|(?<=\s)--)[ \t]?(" + _CAP + r")(?=[ \t]+(?-i:[a-z]))",
                      re.MULTILINE)
SPOKE_WITH = re.compile(r"\b(?:spoke|spoken|talked|speaking|talking|met)\s{1,2}(?:with|to)\s{1,2}"
                        r"((?-i:[a-z][a-z'-]{2,20}))(?=\s{1,2}(?:on|at|by|about|re|who|and"
                        r"|today|this|again|regarding|in)\b|[,.;])", re.IGNORECASE)
#: Or a relation, then a lower-case word and a comma (group 2: ``caller is her daughter
#: olwen, states``): a name typed during a call, set off as an apposition. One pattern, so
#: the text is searched once for both.
RELATIVE = re.compile(r"\b(?:" + names._RELATIONS
                      + r")\s{1,2}([a-z][a-z'-]{2,20})(?:\s{1,2}(?:is|was|will|has|had"
                      r"|came|comes|called|calls|visited|visits|helps|drove|brought|stays"
                      r"|lives|says|said|who|does|did|can)\b|(,)[ \t])")


#: The rest of a hyphenated given name whose first part the known values replaced
#: (``[NAME]-erik``).
MARK_HYPHEN = re.compile(r"\[NAME\]-([A-Za-z][a-z'-]+)")


def _name_like(word: str) -> bool:
    """No English word in any case, or a name of the dictionary that is an English word
    only in lower case (``nelson``); never a clinical or function word."""
    low = word.lower()
    if low in NOT_NAMES:
        return False
    given, family = dictionary()
    return low not in english() or ((low in given or low in family)
                                    and low not in vocabulary()[0])


def _item_ok(item: str) -> bool:
    """A replaced name, or words each a name of the dictionary or no English word (so
    ``Daughter Ann`` is no item), none a clinical or function word."""
    given, family = dictionary()
    return all(w == "[NAME]" or w.lower() not in NOT_NAMES and (
        w.lower() in given or w.lower() in family or w.lower() not in english())
        for w in item.split())


def _lists(folded: str) -> list[Span]:
    """The items of a list of people after its header, up to the first that is no name."""
    out: list[Span] = []
    for head in LIST_HEAD.finditer(folded):
        at = head.end()
        while True:
            m = _ITEM_RE.match(folded, at)
            if m is None or not _item_ok(m.group()) or (
                    m.end() < len(folded) and folded[m.end()].isalpha()):
                break
            if m.group().replace("[NAME]", "").strip():
                out.append((m.start(), m.end(), Placeholder.NAME))
            sep = _SEP.match(folded, m.end())
            if sep is None:
                break
            at = sep.end()
    return out


def find(folded: str) -> list[Span]:
    """Spans of names in lists, after a lower-case role, before ``family``, with a
    nickname in parentheses, with particles, in a self-introduction, after a dash run into
    the next words and in lower case after ``spoke with`` or a relation."""
    out: list[Span] = []
    if ":" in folded:
        out += _lists(folded)
    if "[NAME]" in folded:
        for m in BESIDE_MARK.finditer(folded):
            g = 1 if m.group(1) is not None else 2
            if _item_ok(m.group(g)) and _name_like(m.group(g).split()[-1]):
                out.append((m.start(g), m.end(g), Placeholder.NAME))
    out += [(m.start(1), m.end(1), Placeholder.NAME) for m in ROLE_LOWER.finditer(folded)
            if _name_like(m.group(1))]
    low = folded.lower()
    if "the " in low and any(w in low for w in ("family", "household", "kids", "children",
                                                "home", "residence")):
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in FAMILY.finditer(folded)
                if _name_like(m.group(1))]
    if "(" in folded:
        for m in PAREN_NICK.finditer(folded):
            if any(w.lower() in NOT_NAMES
                   for w in re.findall(r"[A-Za-z]+", m.group(1).replace("[NAME]", " "))):
                continue
            end = m.end(1)
            for _ in range(2):  # "Katherine (Kit) Van Camp": the family name's other words
                w = _MORE_CAP.match(folded, end)
                if w is None or w.group(1).lower() in NOT_NAMES:
                    break
                end = w.end()
            out.append((m.start(1), end, Placeholder.NAME))
    for m in PARTICLE.finditer(folded) if _PARTICLE_AT.search(folded) else ():
        last = m.group(3).replace("-", " ").split()[-1]
        if last.lower() in NOT_NAMES or last.lower() in vocabulary()[0]:
            continue
        if m.group(1) is not None:
            out.append((m.start(3), m.end(3), Placeholder.NAME))
        elif m.group(2).lower() not in NOT_NAMES and m.group(2).lower() not in \
                NOT_GIVEN_BEFORE_PARTICLE and (m.group(2).lower() in dictionary()[0]
                                               or m.group(2).lower() not in english()):
            out.append((m.start(2), m.end(3), Placeholder.NAME))
    if "this is" in low:
        for m in SELF_INTRO.finditer(folded):
            words = m.group(1).split()
            if not any(w.lower() in NOT_NAMES for w in words) and any(
                    w == "[NAME]" or _name_like(w) or w.lower() in dictionary()[0]
                    for w in words) and any(w != "[NAME]" for w in words):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    if "-" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in DASH_RUN.finditer(folded)
                if m.group(1).lower() not in NOT_NAMES and m.group(1).lower() not in english()]
    if "[NAME]-" in folded:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in MARK_HYPHEN.finditer(folded)
                if _name_like(m.group(1))]
    if any(w in low for w in ("spoke", "talk", "met ", "speaking")):
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in SPOKE_WITH.finditer(folded)
                if _name_like(m.group(1))]
    # on the lower-case copy (``re`` is slow case-insensitive on alternations); the name
    # itself in lower case in the text
    out += [(m.start(1), m.end(1), Placeholder.NAME) for m in RELATIVE.finditer(low)
            if folded[m.start(1):m.end(1)].islower() and (
                _relative_name(m.group(1)) if m.group(2) else _name_like(m.group(1)) and (
                    m.group(1) in dictionary()[0] or m.group(1) in dictionary()[1]))]
    return out


def _relative_name(word: str) -> bool:
    """Whether a lower-case word set off by a comma after a relation is a name: no English
    word in any case (``called back, SSN ...``: ``back`` is a family name too, and English),
    no note word (``NOT_NAMES``: ``poa``, ``hcp``), no chat word (``thx``), with a vowel.
    ``word`` comes from the lower-case copy."""
    return word not in english() and word not in NOT_NAMES and word not in CHAT \
        and any(c in "aeiouy" for c in word)


_W = _WS + r"{1,2}"
#: A capitalized word as ``_CAP`` may open it (or a non-ASCII letter).
_CAP_START = r"(?:(?-i:[A-Z][a-z]|[A-Z]')|[^\x00-\x7f])"
_CAP_WORD = r"(?:(?-i:[A-Z])|[^\x00-\x7f])[^\t-\r\x1c-\x1f (]*"
_LOW = r"(?-i:[a-z][a-z'-]+)"
#: ``_SEP`` for RE2.
_SEP_RE2 = r"[\t ]{0,2}(?:,|;|,?[\t ]{1,2}and)[\t ]{1,2}|[\t ]{0,2}&[\t ]{1,2}"
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive). Each part
#: holds the words its form needs besides the cue: a list's items up to one that is not a
#: replaced name (a list of replaced names only adds nothing), two capitalized words beside
#: a replaced name, a whole nickname in parentheses between two names, a lower-case word
#: in a self-introduction and a word before what ends ``SPOKE_WITH``'s.
TRIGGER = "|".join((
    r"\b(?:" + _HEADER.replace(r"\s", _WS) + r")[\t ]{0,2}:[\t ]{0,2}(?:\[name\](?:[\t ]|"
    + _SEP_RE2 + r"))*" + _CAP_START,
    r"\[name\](?:,|,?[\t ]and)[\t ]{1,2}" + _CAP_WORD + r"[\t ](?-i:[A-Z]|[^\x00-\x7f])",
    r"(?-i:[A-Z][a-z][A-Za-z'-]*[\t ][A-Z][a-z][A-Za-z'-]*)(?:,[\t ]|,?[\t ]and[\t ])\[name\]",
    r"\b(?-i:" + _ROLE.replace(r"\s", _WS) + r")" + _W + r"(?-i:[a-z])[a-z'-]{2}",
    r"\bthe" + _W + r"(?-i:[A-Z][a-z]|[A-Z]')[A-Za-z'-]*" + _W
    + r"(?:family|household|kids|children|home|residence)\b",
    r"(?:^|[^a-z])(?:" + _CAP_WORD + r"|\[name\])" + _W + r"\((?:" + _CAP_WORD
    + r"|\[name\])\)" + _W + r"(?:(?-i:[A-Z])|[^\x00-\x7f]|\[name\])",
    r"\b(?-i:" + _PARTICLES + r")[ -](?-i:[A-Z]|[^\x00-\x7f])",
    r"\bthis" + _W + r"is" + _W + r"(?:(?:doctor|dr\.?|nurse)" + _W + r")?(?:\[name\]" + _W
    + r"){0,2}" + _LOW + r"(?:" + _W + r"(?:" + _LOW + r"|\[name\]))*" + _W
    + r"(?:dictating|calling|speaking|recording|reporting|from" + _W + r"the|with" + _W
    + r"the|on" + _W + r"call)\b",
    r"(?:(?m:^)[\t ]*-|--)[\t ]?(?-i:[A-Z][a-z]|[A-Z]')",
    r"\b(?:spoke|spoken|talked|speaking|talking|met)" + _W + r"(?:with|to)" + _W
    + r"(?-i:[a-z][a-z'-]{2,20})(?:" + _W + r"(?:on|at|by|about|re|who|and|today|this|again"
    r"|regarding|in)\b|[,.;])",
    r"\b(?:" + names._RELATIONS + r")" + _W + r"(?-i:[a-z])[a-z'-]{2,20}" + _W + r"(?:is|was|will"
    r"|has|had|came|comes|called|calls|visited|visits|helps|drove|brought|stays|lives|says|said"
    r"|who|does|did|can)\b",
    r"\b(?:" + names._RELATIONS + r")" + _W + r"(?-i:[a-z])[a-z'-]{2,20},[\t ]",
    r"\[name\]-[a-z]",
))
#: The rule, for the rule table.
RULE = FunctionRule("people-forms", TRIGGER, find)
