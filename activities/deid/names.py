"""Names that no structured column lists: clinicians, relatives, visitors.

The record's own columns say who the patient is; "seen by Dr. Jones", "his
daughter Mary" name people no column holds. The text is walked run by run of
capitalized words (``cues``), and a run is a name when:

* a cue comes right before it or opens it: a title (``Dr``, ``Mrs``,
  ``Nurse``, ``seen by``, ``attending``), a relation (``son``, ``wife (``,
  ``pt's daughter,``), a header with a colon (``Caller:``, ``Re:``,
  ``Patient: DOE, JANE``) or a phrase (``spoke with``, ``report given to``,
  ``Yours sincerely,``); the name is the run's words up to the first word
  of ``words.NOT_NAMES`` ("seen by Physical Therapy" is no name), a word in
  capitals counting only when the dictionary knows it;
* a relation or a credential comes right after it: ``Steve (daughter)``,
  ``Lukas, her niece``, ``Alica Donovan, MD``, ``E. Sarlija, RN``;
* an initial precedes a dictionary family name (``J. Smith``), a dictionary
  given name precedes a dictionary family name (``Mary Smith`` anywhere), or
  a dictionary name stands beside a name already replaced.

The cue rules need no dictionary: relatives and clinicians from anywhere in
the world are found by how notes mention them. What they miss: a name
with no cue and not in the dictionary ("Kazutro agreed"), a name written in
lower case after a cue, a cue the lists lack.

The dictionary is Faker's person-provider lists (MIT licence) for 21 locales
in Latin script after folding, shipped as ``given_names.txt`` and
``family_names.txt`` (regenerate with ``python -m medpipe.activities.deid.names``;
nothing is downloaded at run time). A single dictionary word without a cue is
*not* a name here ("Grace", "Hope", "Brown", "Parkinson" are also words):
that is the precision cost kept low, and the miss documented.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import context, cues, registry
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.normalize import fold, lower
from medpipe.activities.deid.titlenames import TITLE_WORDS
from medpipe.activities.deid.words import NOT_NAMES, other_word
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAP = r"[A-Z][A-Za-z'-]+"
_TITLES = ("dr|mr|mrs|ms|mx|miss|prof|professor|doctor|nurse|rn|np|pa-c|rev|sr|fr"
           "|signed by|electronically signed by|attending|resident|pcp|physician|provider"
           "|seen by|referred by|dictated by|cc|per")
#: The titles that name the person after them wherever they stand in a run of capitals.
_HONORIFICS = frozenset(("dr", "mr", "mrs", "ms", "mx", "prof", "professor", "doctor"))
_HONORIFIC_INSIDE = re.compile(r"\s(?:dr|mr|mrs|ms|mx|prof|professor|doctor)\b", re.IGNORECASE)
#: A clinician's act and ``by`` ("Device interrogated by Lin/Koc", deid12e): what follows is
#: as often a service or a test ("reviewed by Interventional Radiology", "checked by
#: Pharmacy"), so its words must be dictionary names or on no word list (``other_word``).
_AGENTS = ("reviewed by|checked by|verified by|examined by|assessed by|evaluated by"
           "|performed by|interrogated by|completed by")
_RELATIONS = ("son|daughter|wife|husband|mother|father|mom|dad|brother|sister|sibling"
              "|partner|spouse|friend|neighbor|neighbour|caregiver|aunt|uncle|cousin|grandson"
              "|granddaughter|grandmother|grandfather|niece|nephew|fiance|fiancee|named|called"
              "|goes by|visitor|guardian|stepson|stepdaughter|son-in-law|daughter-in-law"
              "|boyfriend|girlfriend|roommate|landlord|sitter|companion")
#: Headers whose value is a name (with a colon: "Caller: Meda", "Re: Maria Gonzalez").
_HEADERS = ("patient|pt|patient name|name|re|caller|contact|emergency contact|poa|hcp|proxy"
            "|informant|interpreter|attn|from|to|witness|guarantor|subscriber|insured|surgeon"
            "|surgeons|assistant|assistants|anesthesiologist|anesthesia|pmd|primary care"
            "|referring physician|referring provider|consultant|cosigner|cosigned by|author"
            "|scribe|transcribed by|ordering provider|ordering physician|reading physician")
#: Phrases followed by a name ("spoke with Ivan", "Yours sincerely, Anna Kowalski").
_PHRASES = ("dear|accompanied by|spoke with|spoke to|talked to|talked with|discussed with"
            "|report given to|report to|handoff to|hand off to|handed over to|handover to"
            "|care of|c/o|sincerely|regards"
            "|yours truly|best wishes|called by|message from|message for|call from|call to"
            "|returned call to|left message for|consented by|witnessed by|translated by"
            "|this is|my name is|i am|i'm")
#: A master's degree is a credential only before a licence (``J. Okafor, MS, CGC``: ``MS``
#: alone after a word is as often multiple sclerosis); genetic counsellors' ``CGC``/``LCGC``
#: (deid12d).
_CREDENTIALS = (r"MD|M\.D\.|DO|D\.O\.|RN|NP|PA-C|PhD|DDS|DMD|LPN|CNA|MSW|LCSW|PharmD|FNP"
                r"|APRN|CRNA|RD|DPT|CNM|FACP|FACS|MBBS|FRCP|BSN|MSN|DNP|L?CGC"
                r"|(?:MS|MA|MSc|MEd|MPH),?[ \t]{1,2}(?:L?CGC|RD|LD|CCC-SLP|LCSW|LMHC|LPC|CNS|RN"
                r"|NP|BCBA)")
#: Cue → kind: a title, a relation, a header (needs a colon) or a phrase.
CUES: dict[str, str] = {
    **dict.fromkeys(_PHRASES.split("|"), "phrase"),
    **dict.fromkeys(_HEADERS.split("|"), "header"),
    **dict.fromkeys(_RELATIONS.split("|"), "relation"),
    **dict.fromkeys(_AGENTS.split("|"), "agent"),
    **dict.fromkeys(_TITLES.split("|"), "title")}
#: The last word of every cue (a cheap test before the cue lookup).
_LAST_WORDS = frozenset(c.split()[-1] for c in CUES)
#: Right after a run: a relation ("Steve (daughter)", "Lukas, her niece").
AFTER_RELATION = re.compile(r"\s{0,2}(?:\(\s{0,2}|,\s{0,2}(?:(?:her|his|their|the|pt's"
                            r"|patient's|pt)\s{1,2})?)(?:" + _RELATIONS + r")\b", re.IGNORECASE)
#: Right after a run: a credential ("Alica Donovan, MD", "E. Sarlija, RN").
AFTER_CREDENTIAL = re.compile(r",?\s{1,2}(?:" + _CREDENTIALS + r")(?![A-Za-z])")
#: A dictionary name right before or after a name already replaced ("[NAME] Felipe").
#: ``[A-Z](?<=\b[A-Z])`` is ``\b[A-Z]`` written so that ``re`` skips to the capitals
#: (a pattern opening with a character set is searched for that set; one
#: opening with ``\b`` is tried at every position).
_BCAP = r"[A-Z](?<=\b[A-Z])[A-Za-z'-]+"
BESIDE = re.compile(r"\[NAME\][\s,]+(" + _CAP + r")|(" + _BCAP + r")\s+\[NAME\]")
PAIR = re.compile(r"(" + _BCAP + r")\s+(?:[A-Z]\.\s+)?(" + _CAP + r")\b")
_THEN_TITLE = r"(?:(?i:dr|mr|mrs|ms|prof|doctor)\b\.?\s+)?"
#: A superset of the texts any rule here can match, for RE2 (Arrow) prefiltering.
CANDIDATE = (r"\b[A-Z][A-Za-z'-]*\s+(?:[A-Z]\.\s+)?[A-Z][A-Za-z'-]*[a-z]"
             r"|\b[A-Z]{2,}[A-Za-z'-]*\s+(?:[A-Z]\.\s+)?[A-Z]{2,}"
             r"|\b(?i:" + _TITLES + "|" + _AGENTS + "|" + _RELATIONS + "|" + _HEADERS + "|"
             + _PHRASES + r")\b[\s.:,(]{0,5}" + _THEN_TITLE + "[A-Z]"
             r"|[A-Z][A-Za-z'-]+\s{0,2}(?:\(\s{0,2}|,\s{0,2}(?:(?i:her|his|their|the|pt's"
             r"|patient's|pt)\s{1,2})?)(?i:" + _RELATIONS + r")\b"
             r"|[A-Za-z'-],?\s{1,2}(?:" + _CREDENTIALS + r")\b"
             r"|\b[A-Z]\.\s{0,2}[A-Z][a-z]"
             r"|\[NAME\][\s,]+[A-Z]|[A-Z][A-Za-z'-]+\s+\[NAME\]|" + context.CANDIDATE
             + "|(?i:" + registry.TRIGGER + ")")  # the registry's rules run on the same texts

def _word_key(w: str) -> str:
    return lower(w).replace("'", "").replace("-", "")


def _is_name_word(w: str, given: frozenset[str], family: frozenset[str],
                  capitals: bool = False) -> bool:
    """Whether a capitalized word after a cue can be part of a name.

    Not a word of ``words.NOT_NAMES``; a word in capitals only when the
    dictionary knows it ("WIFE PRESENT" is no name, "DR WOODWARD" is) or
    ``capitals`` (after a header: "Patient: DOE, JANE").
    """
    k = _word_key(w.rstrip("."))
    if k in NOT_NAMES:
        return False
    return capitals or not (len(k) > 1 and w.isupper()) or k in given or k in family


def _cued(folded: str, run: cues.Run, given: frozenset[str],
          family: frozenset[str]) -> tuple[int, int] | None:
    """The name part of a run that follows a cue (before it or inside it), if any."""
    kind = None
    i = 0
    words = run.words
    if words[0][2].rstrip(".").lower() in CUES:  # opens with its cue: "Dr Bentley", "Son Ivo"
        while i < len(words) and (k := words[i][2].rstrip(".").lower()) in CUES:
            kind = CUES[k]
            i += 1
    elif (j := inner_title(words)) is not None:
        kind, i = "title", j
    if kind is None or kind == "header":
        if run.prev.rstrip(".") not in _LAST_WORDS:
            return None
        prev, punct = cues.before(folded, run.start)
        kind = cues.cue(prev, CUES)
        if kind is None or (kind == "header" and ":" not in punct) \
                or ("." in punct and kind != "title") or len(punct.strip()) > 3 \
                or ("\n" in punct and kind != "phrase"):  # a cue ends at the end of its line
            return None
        i = 0
    end = name_end(words[i:], kind, given, family)
    return (words[i][0], end) if end is not None else None


def inner_title(words: list[tuple[int, int, str]]) -> int | None:
    """The index of the word after an honorific inside a run ("Under Dr A. BRIEDIS", "Ask
    Mrs Okafor"; deid12e), if any."""
    j = next((j for j in range(1, len(words) - 1)
              if words[j][2].rstrip(".").lower() in _HONORIFICS), None)
    return None if j is None else j + 1


def name_end(words: list[tuple[int, int, str]], kind: str, given: frozenset[str],
             family: frozenset[str]) -> int | None:
    """Where the name after a cue of ``kind`` ends: its words up to the first that is no
    name word (particles pass), or None.

    An initial is a name word (``Dr A. Lee``: the article ``a`` is a note word); after an
    initial, a word in capitals on no list is one (``Dr A. BRIEDIS``, not ``per Dr K. NAD``);
    after a clinician's act (``agent``), only dictionary names and words on no list are
    (deid12e).
    """
    end = None
    initial = False
    for _, e, w in words:
        if w in cues.PARTICLES:
            continue
        if len(w) == 2 and w[1] == "." and w[0].isupper():
            initial = True
            end = e
            continue
        capitals = kind == "header" or initial and other_word(w)
        if not _is_name_word(w, given, family, capitals) or kind == "agent" and not (
                other_word(w) or _word_key(w) in given or _word_key(w) in family):
            break
        end = e
        initial = False
    return end


def _before_marker(run: cues.Run, given: frozenset[str],
                   family: frozenset[str]) -> tuple[int, int] | None:
    """The trailing name words of a run followed by a relation or a credential."""
    start = None
    for s, _, w in reversed(run.words):
        if w in cues.PARTICLES:
            continue
        if not _is_name_word(w, given, family):
            break
        start = s
    return (start, run.end) if start is not None else None


_COMMA = re.compile(r",\s{1,2}")


def _header_before(folded: str, start: int) -> bool:
    prev, punct = cues.before(folded, start)
    return ":" in punct and cues.cue(prev, CUES) == "header"




def find_cued(t: cues.Text) -> list[Span]:
    """Names by a cue before or opening a run, a relation or credential after it, an initial.

    A run with no cue word before it or opening it, no "(", "," or capital
    right after it, no full stop and no header before it can be none of these:
    it is passed over without building its ``cues.Run`` (its word before is
    what costs).
    """
    folded = t.folded
    given, family = dictionary()
    out: list[Span] = []
    header_end = -1
    cue_words, last_words = CUES, _LAST_WORDS  # locals: the loop runs ~18 times per note
    word_before = cues.word_before
    for m in t.matches:
        s, e = m.span()
        text = m.group()
        first = text.partition(" ")[0].rstrip(".").lower()
        opens = first in cue_words
        if not opens and header_end < 0 and "." not in text \
                and _HONORIFIC_INSIDE.search(text) is None:
            nxt = folded[e:e + 3]
            if "(" not in nxt and "," not in nxt and not nxt[1:2].isupper() \
                    and word_before(folded, s)[0] not in last_words:
                continue
        run = cues.run_at(folded, m)
        span = _cued(folded, run, given, family) \
            if opens or run.prev in last_words or _HONORIFIC_INSIDE.search(text) \
            else None  # prev holds no "."
        if header_end >= 0:
            if span is None and _COMMA.fullmatch(folded, header_end, s) \
                    and len(run.words) <= 2 and not run.words[0][2].endswith(".") \
                    and all(_is_name_word(w, given, family, True) for _, _, w in run.words):
                span = (s, e)  # "Patient: DOE, JANE" (not "Udeh, M.D.")
            header_end = -1
        if span is not None and ":" in run.punct and _header_before(folded, s):
            header_end = span[1]
        nxt = folded[e:e + 3]
        if span is None and (("(" in nxt or "," in nxt) and AFTER_RELATION.match(folded, e)
                             or ("," in nxt or nxt[1:2].isupper())
                             and AFTER_CREDENTIAL.match(folded, e)):
            span = _before_marker(run, given, family)
        if span is None and "." in text:  # "J. Smith": an initial and a dictionary family
            w = run.words
            span = next(((w[i][0], w[i + 1][1]) for i in range(len(w) - 1)
                         if w[i][2].endswith(".") and _word_key(w[i + 1][2]) in family), None)
        if span is not None:
            out.append((*span, Placeholder.NAME))
    return out


def find_beside(t: cues.Text) -> list[Span]:
    """A dictionary name right before or after a name already replaced."""
    given, family = dictionary()
    out: list[Span] = []
    for m in BESIDE.finditer(t.folded) if "[NAME]" in t.folded else ():
        g = 1 if m.group(1) else 2
        if g == 2 and m.group(2).lower() in TITLE_WORDS:
            continue  # "Pastor [NAME]": the title stays
        if _word_key(m.group(g)) in given or _word_key(m.group(g)) in family:
            out.append((m.start(g), m.end(g), Placeholder.NAME))
    return out


def find_pair(t: cues.Text) -> list[Span]:
    """A dictionary given name then a dictionary family name ("Mary Smith"), anywhere; a
    community's or a faith's title is no given name ("Imam John": ``titlenames`` takes
    the name after it, the title stays)."""
    given, family = dictionary()
    return [(m.start(), m.end(), Placeholder.NAME) for m in PAIR.finditer(t.folded)
            if _word_key(m.group(1)) in given and _word_key(m.group(2)) in family
            and m.group(1).lower() not in TITLE_WORDS]


def build(locales: tuple[str, ...] = (
        "en_US", "en_GB", "en_IE", "en_IN", "es_ES", "es_MX", "fr_FR", "de_DE", "it_IT",
        "pt_BR", "pl_PL", "nl_NL", "vi_VN", "tr_TR", "ar_AA", "sv_SE", "hi_IN", "da_DK",
        "fi_FI", "cs_CZ", "hu_HU")) -> tuple[list[str], list[str]]:
    """Given and family names from Faker's locale data (development only)."""
    import importlib

    def names(provider: object, attr: str) -> list[str]:
        v = getattr(provider, attr, ())
        return list(v.keys()) if isinstance(v, dict) else list(v)

    given: set[str] = set()
    family: set[str] = set()
    for loc in locales:
        p = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr, into in (("first_names", given), ("first_names_male", given),
                           ("first_names_female", given), ("last_names", family)):
            for n in names(p, attr):
                k = _word_key(fold(n)[0])
                if k.isascii() and k.isalpha() and len(k) >= 2:
                    into.add(k)
    return sorted(given), sorted(family)


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped lists
    from pathlib import Path

    g, f = build()
    here = Path(__file__).parent
    (here / "given_names.txt").write_text("\n".join(g) + "\n")
    (here / "family_names.txt").write_text("\n".join(f) + "\n")
    print(f"{len(g)} given names, {len(f)} family names")
