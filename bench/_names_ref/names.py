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

from bench._names_ref import context, cues

# The rules (cue lists, patterns, dictionary) are the product's: this copy pins the engine only.
from medpipe.activities.deid.names import (
    _LAST_WORDS,
    AFTER_CREDENTIAL,
    AFTER_RELATION,
    CUES,
    _word_key,
    dictionary,
    inner_title,
    name_end,
)
from medpipe.activities.deid.titlenames import TITLE_WORDS
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

_CAP = r"[A-Z][A-Za-z'-]+"
#: A dictionary name right before or after a name already replaced ("[NAME] Felipe").
BESIDE = re.compile(r"\[NAME\][\s,]+(" + _CAP + r")|\b(" + _CAP + r")\s+\[NAME\]")
PAIR = re.compile(r"\b(" + _CAP + r")\s+(?:[A-Z]\.\s+)?(" + _CAP + r")\b")


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
    elif (j := inner_title(words)) is not None:  # the product's rule (deid12e)
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
    end = name_end(words[i:], kind, given, family)  # the product's rule (deid12e)
    return (words[i][0], end) if end is not None else None


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


def find_names(folded: str) -> list[tuple[int, int, Placeholder]]:
    """Spans of names found by cue or dictionary, and the context rules, in a folded text."""
    given, family = dictionary()
    out: list[tuple[int, int, Placeholder]] = []
    all_runs = list(cues.runs(folded))
    header_end = -1
    for run in all_runs:
        text = run.text
        sp = text.find(" ")
        first = (text if sp < 0 else text[:sp]).rstrip(".").lower()
        span = _cued(folded, run, given, family) \
            if first in CUES or run.prev.rstrip(".") in _LAST_WORDS \
            or inner_title(run.words) is not None else None
        if header_end >= 0:
            if span is None and _COMMA.fullmatch(folded, header_end, run.start) \
                    and len(run.words) <= 2 and not run.words[0][2].endswith(".") \
                    and all(_is_name_word(w, given, family, True) for _, _, w in run.words):
                span = (run.start, run.end)  # "Patient: DOE, JANE" (not "Udeh, M.D.")
            header_end = -1
        if span is not None and ":" in run.punct and _header_before(folded, run.start):
            header_end = span[1]
        nxt = folded[run.end:run.end + 3]
        if span is None and (("(" in nxt or "," in nxt) and AFTER_RELATION.match(folded, run.end)
                             or ("," in nxt or nxt[1:2].isupper())
                             and AFTER_CREDENTIAL.match(folded, run.end)):
            span = _before_marker(run, given, family)
        if span is None and "." in run.text:  # "J. Smith": an initial and a dictionary family
            w = run.words
            span = next(((w[i][0], w[i + 1][1]) for i in range(len(w) - 1)
                         if w[i][2].endswith(".") and _word_key(w[i + 1][2]) in family), None)
        if span is not None:
            out.append((*span, Placeholder.NAME))
    for m in BESIDE.finditer(folded):
        g = 1 if m.group(1) else 2
        if g == 2 and m.group(2).lower() in TITLE_WORDS:
            continue  # deid12g: a community's or a faith's title stays ("Pastor [NAME]")
        if _word_key(m.group(g)) in given or _word_key(m.group(g)) in family:
            out.append((m.start(g), m.end(g), Placeholder.NAME))
    for m in PAIR.finditer(folded):
        if _word_key(m.group(1)) in given and _word_key(m.group(2)) in family \
                and m.group(1).lower() not in TITLE_WORDS:  # deid12g: "Imam John"
            out.append((m.start(), m.end(), Placeholder.NAME))
    return out + context.find_context(folded, all_runs)
