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

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import vocabulary
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


#: Credentials written after a name or initials (``K. Patel, RN``, ``PF, OTR/L``).
_CRED = (r"(?:RN|BSN|LPN|CNA|NP|FNP|APRN|PA-C|PA|MD|DO|PT|DPT|PTA|OT|OTR/L|OTR|COTA|SLP"
         r"|CCC-SLP|RD|RDN|RT|RRT|LCSW|MSW|LMSW|CCRC|CRC|PharmD|RPh|CRNA|EMT|CNM|MA)")
#: ``LAST, I`` (one initial) after a role header's colon (``REFERRING MD: SPEARS, E``).
LAST_INITIAL = re.compile(
    r"\b(?i:md|do|physician|provider|attending|referring|pcp|doctor|surgeon|consultant"
    r"|cosigned|signed|by|therapist|clinician|nurse|author|dictated)\s{0,2}:\s{0,3}"
    r"((?:\[NAME\]\s)?[A-Z][A-Z'-]+(?:\s[A-Z][A-Z'-]+)?,\s{1,2}[A-Z]\b\.?)(?![A-Za-z])")
#: Two or three initials before a credential, after a dash, a colon or a line start
#: (``cosigned - PF, OTR/L``).
INITIALS_CRED = re.compile(
    r"(?:^|[-:\u2013\u2014]\s{0,2}|\b(?i:by|per|cosigned|signed)\s{1,2})([A-Z]{2,3}),?\s{1,2}"
    + _CRED + r"(?![A-Za-z])", re.MULTILINE)
#: One to three initials and a family name before a credential or a role in parentheses
#: (``J. Gloor, CCRC``, ``K. R. Iyer, MBBS``, ``J. Roosen (OT)``) or after a word that
#: introduces a person (``with J. Roosen``).
#: Each opens with the initial (``re`` skips to the capitals); what must come after
#: (``CRED_AFTER``) or before (``PERSON_CUE_BEFORE``) is checked where it stands.
INITIAL_FAMILY = re.compile(r"[A-Z](?<![A-Za-z.][A-Z])\.(?:\s{0,2}[A-Z]\.){0,2}\s{1,2}"
                            r"[A-Z][a-z][A-Za-z'-]+")
CRED_AFTER = re.compile(r",?\s{1,2}" + _CRED + r"(?![A-Za-z])|\s{0,2}\((?:" + _CRED + r")\)")
PERSON_CUE_BEFORE = re.compile(r"\b(?i:with|by|per|to|from|and|cc|signed|dr|mr|mrs|ms|attn)\.?"
                               r"\s{1,2}\Z")
#: A user name after its word (``entered by user jchan93``, ``login: smithj``).
USER_NAME = re.compile(r"\b(?i:user(?:\s?name|\s?id)?|login|logon|logged\s{1,2}in\s{1,2}as)"
                       r"\s{0,2}[:#]?\s{0,2}([a-z][a-z0-9._-]{2,30})\b")
#: A nickname in quotes inside a name (``Kelly "Scooter" Gorey``, ``[NAME] "Tiny" [NAME]``).
NICKNAME = re.compile(r"(?:\[NAME\]|[A-Z][a-z][A-Za-z'-]*)\s{1,2}[\"'(]([A-Z][a-z]{1,14})"
                      r"[\"')]\s{1,2}(?:\[NAME\]|[A-Z][a-z])")
#: A family name with a particle after a title (``Dr de la Ernst``, ``Mrs. van der Berg``).
PARTICLE_AFTER_TITLE = re.compile(
    r"\b(?i:dr|mr|mrs|ms|miss|mx)\.?\s{1,2}((?i:van\s{1,2}der|van\s{1,2}den|von\s{1,2}der"
    r"|de\s{1,2}la|de\s{1,2}los|van|von|de|del|della|di|da|du|le|la|st\.?)\s{1,2}"
    r"[A-Z][A-Za-z'-]+)")
#: The rest of a family name after a particle that an earlier pass took for a name
#: (``Dr [NAME] la Chevalier``: ``de`` was replaced before this rule read the text).
PARTICLE_AFTER_MARK = re.compile(
    r"\[NAME\]\s{1,2}((?i:la|der|den|los|las|del|de|van|von|da|di)\s{1,2}[A-Z][A-Za-z'-]+)")
#: A capitalized word joined by a hyphen to a name already replaced (``[NAME]-Hasler``).
HYPHEN_PART = re.compile(r"\[NAME\]-([A-Z][a-z][A-Za-z'-]*)|\b([A-Z][a-z][A-Za-z'-]*)-\[NAME\]")
#: A given name in lower case after a relation, before a verb (``son jakob coming at 3``).
RELATIVE_LOWER = re.compile(
    r"\b(?i:wife|husband|son|daughter(?:-in-law)?|son-in-law|brother|sister|niece|nephew"
    r"|grandson|granddaughter|roommate|mother|father|mom|dad|partner|friend|aunt|uncle)"
    r"\s{1,2}([a-z]{3,15})\s{1,2}(?=(?:is|was|will|coming|came|called|calls|says|said|at|here"
    r"|visiting|visited|present|wants|wanted|asked|asks|to|and|has|had|can|brought|states)\b)")

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
    out += _more_forms(folded, low)
    for rx, stems in ((AFTER_HEADER, _HEADER_STEMS), (AFTER_SIGNATURE, _SIGNATURE_STEMS)):
        if not any(s in low for s in stems):
            continue
        for m in rx.finditer(folded):
            start, end = _name_span(m.start(1), m.group(1))
            if end > start and folded[start:end] != "[NAME]":
                out.append((start, end, Placeholder.NAME))
    return out


#: Cheap gates (each opens with a character class, so ``re`` skips to its candidates): a text
#: without a match cannot match the form behind it.
_GATES = {
    "last_initial": re.compile(r"[A-Z'-],\s{1,2}[A-Z]\b"),
    "initials_cred": re.compile(r"[A-Z]{2,3},?\s{1,2}" + _CRED + r"(?![A-Za-z])"),
    "nickname": re.compile(r"[\"'(][A-Z][a-z]{1,14}[\"')]\s"),
    "particle": re.compile(r"(?i:[dm][a-z]{0,3})\.?\s{1,2}(?i:van|von|de|del|della|di|da|du|le|la"
                           r"|st)\b"),
}
_RELATION_STEMS = ("wife", "husband", "son", "daughter", "brother", "sister", "niece", "nephew",
                   "roommate", "mother", "father", "mom", "dad", "partner", "friend", "aunt",
                   "uncle")


def _film_view(m: re.Match[str]) -> bool:
    """``PA`` after three capitals that are a word of the safe vocabulary (any case: no
    name's) and no dictionary name: a film and its view (``CXR PA``, ``AXR PA``:
    posteroanterior), not initials and a physician assistant (deid12g). Only ``PA`` after a
    space (``JAM, PA`` is a signature), and three initials that spell a word before another
    credential are still initials."""
    low = m.group(1).lower()
    given, family = dictionary()
    return (m.string[m.end(1):m.end()].strip() == "PA" and "," not in m.string[m.end(1):m.end()]
            and len(low) == 3 and low in vocabulary()[0]
            and low not in given and low not in family)


def _family_ok(word: str) -> bool:
    return word.lower() not in NOT_NAMES and word.lower() not in _STOP


def _more_forms(folded: str, low: str) -> list[Span]:
    """The forms of ``fresh-6``: ``LAST, I`` after a role, initials before a credential, an
    initial and a family name, user names, nicknames, particles, hyphenated parts, lower-case
    relatives."""
    out: list[Span] = []
    if ":" in folded:  # LAST, I: the header looked for before each comma that may end one
        for g in _GATES["last_initial"].finditer(folded):
            m = LAST_INITIAL.search(folded, max(0, g.start() - 80), min(len(folded), g.end() + 2))
            if m is not None and _family_ok(m.group(1).split()[0].rstrip(",.")):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    for m in INITIAL_FAMILY.finditer(folded):
        if _family_ok(m.group().split()[-1]) and (
                CRED_AFTER.match(folded, m.end()) is not None
                or PERSON_CUE_BEFORE.search(folded, max(0, m.start() - 10), m.start())):
            out.append((m.start(), m.end(), Placeholder.NAME))
    groups = [rx for rx, gate in ((INITIALS_CRED, "initials_cred"), (NICKNAME, "nickname"))
              if _GATES[gate].search(folded)]
    for rx in groups:
        out += [(m.start(1), m.end(1), Placeholder.NAME) for m in rx.finditer(folded)
                if rx is not INITIALS_CRED or not _film_view(m)]
    if "user" in low or "log" in low:
        safe = vocabulary()[0]
        for m in USER_NAME.finditer(folded):
            w = m.group(1)
            if any(c.isdigit() for c in w) or w not in safe and w not in NOT_NAMES:
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    particles = [PARTICLE_AFTER_TITLE] if _GATES["particle"].search(folded) else []
    if "[NAME] " in folded:
        particles.append(PARTICLE_AFTER_MARK)
    for rx in particles:
        for m in rx.finditer(folded):
            if _family_ok(m.group(1).split()[-1]):
                out.append((m.start(1), m.end(1), Placeholder.NAME))
    if "[NAME]-" in folded or "-[NAME]" in folded:
        for m in HYPHEN_PART.finditer(folded):
            k = 1 if m.group(1) else 2
            if _family_ok(m.group(k)):
                out.append((m.start(k), m.end(k), Placeholder.NAME))
    if not any(r in low for r in _RELATION_STEMS):
        return out
    given = dictionary()[0]
    safe = vocabulary()[0]
    for stem in _RELATION_STEMS:  # the relation matched where each stem stands
        i = low.find(stem)
        while i >= 0:
            m = RELATIVE_LOWER.match(folded, i)
            if m is not None and m.group(1) in given and m.group(1) not in safe \
                    and m.group(1) not in NOT_NAMES:
                out.append((m.start(1), m.end(1), Placeholder.NAME))
            i = low.find(stem, i + 1)
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"(?-i:[A-Z\]])," + _WS + r"{1,2}(?-i:[A-Z\[])[^,\n]{0,60}(?-i:" + _WS + r"[A-Z]\.)"
           r"|(?:emergency" + _WS + r"{1,2}contact|e/?c|nok|kin|contact|proxy|hcp|hcpoa|poa|dpoa"
           r"|guardian|caregiver|informant|surrogate|spouse)"
           r"(?:" + _WS + r"{0,2}\([a-z /-]{2,24}\))?" + _WS + r"{0,2}[:-]"
           r"|/s/|\bb?cc" + _WS + r"{0,2}:|signed"
           # the forms of ``_more_forms``
           r"|(?-i:[A-Z'-])," + _WS + r"{1,2}(?-i:[A-Z])\b"
           r"|(?-i:[A-Z]{2,3}),?" + _WS + r"{1,2}(?-i:" + _CRED + r")"
           r"|(?:^|[^A-Za-z.])(?-i:[A-Z])\.(?:" + _WS + r"{0,2}(?-i:[A-Z])\.){0,2}" + _WS
           + r"{1,2}(?-i:[A-Z][a-z])"
           r"|user|login|logon|logged"
           r"|(?-i:[A-Za-z'\]-])" + _WS + r"{1,2}[\"'(](?-i:[A-Z])[a-z]{1,14}[\"')]"
           r"|(?:dr|mr|mrs|ms|miss|mx)\.?" + _WS + r"{1,2}(?:van|von|de|del|della|di|da|du|le"
           r"|la|st)"
           r"|\[name\]-|-\[name\]|\[name\]" + _WS + r"{1,2}(?:la|der|den|los|las|del|de|van"
           r"|von|da|di)" + _WS
           + r"|\b(?:wife|husband|son|daughter|brother|sister|niece|nephew|grandson|granddaughter"
           r"|roommate|mother|father|mom|dad|partner|friend|aunt|uncle|-in-law)" + _WS
           + r"{1,2}[a-z]{3,15}"
           + _WS + r"{1,2}[a-z]")
#: The rule, for the rule table.
RULE = FunctionRule("name-forms", TRIGGER, find)
