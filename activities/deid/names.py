"""Names that no structured column lists: clinicians, relatives, visitors.

The record's own columns say who the patient is; "seen by Dr. Jones", "his
daughter Mary" name people no column holds. Two signals find them:

* context cues: a title (``Dr``, ``Mr``, ``Mrs``, ``Ms``, ``Prof``, ``Nurse``...)
  or a role word (``signed by``, ``attending``, ``PCP``) followed by a
  capitalized word: always a name; a relation word (``son``, ``daughter``,
  ``wife``, ``neighbor``...), ``named`` or ``called`` followed by a
  capitalized word: a name when the word is in the name dictionary;
* a capitalized given name from the dictionary followed by a capitalized
  family name from the dictionary (``Mary Smith`` anywhere).

The dictionary is Faker's person-provider lists (MIT licence) for 21 locales
in Latin script after folding, shipped as ``given_names.txt`` and
``family_names.txt`` (regenerate with ``python -m medpipe.activities.deid.names``;
nothing is downloaded at run time). A single dictionary word without a cue is
*not* a name here ("Grace", "Hope", "Brown", "Parkinson" are also words):
that is the precision cost kept low, and the miss documented.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from medpipe.activities.deid.normalize import fold, lower
from medpipe.contracts.pseudonymize import Placeholder

_CAP = r"[A-Z][A-Za-z'-]+"
_TITLES = (r"dr|mr|mrs|ms|mx|miss|prof|professor|doctor|nurse|rn|np|pa-c|rev|sr|fr"
           r"|signed by|electronically signed by|attending|resident|pcp|physician|provider"
           r"|seen by|referred by|dictated by|cc")
_RELATIONS = (r"son|daughter|wife|husband|mother|father|mom|dad|brother|sister|sibling"
              r"|partner|spouse|friend|neighbou?r|caregiver|aunt|uncle|cousin|grandson"
              r"|granddaughter|grandmother|grandfather|niece|nephew|fiancee?|named|called"
              r"|goes by|visitor|guardian")
_THEN_TITLE = r"(?:(?i:dr|mr|mrs|ms|prof|doctor)\b\.?\s+)?"
_TITLE = r"\b(?i:" + _TITLES + r")\b\.?:?\s+" + _THEN_TITLE
_RELATION = r"\b(?i:" + _RELATIONS + r")\b,?\s+"
TITLED = re.compile(_TITLE + r"((?:" + _CAP + r")(?:\s+(?:[A-Z]\.\s+)?(?:" + _CAP + r")){0,2})")
RELATED = re.compile(_RELATION + r"((?:" + _CAP + r")(?:\s+(?:" + _CAP + r"))?)")
#: A dictionary name right before or after a name already replaced ("[NAME] Felipe").
BESIDE = re.compile(r"\[NAME\][\s,]+(" + _CAP + r")|\b(" + _CAP + r")\s+\[NAME\]")
PAIR = re.compile(r"\b(" + _CAP + r")\s+(?:[A-Z]\.\s+)?(" + _CAP + r")\b")
#: A superset of the texts any rule here can match, for RE2 (Arrow) prefiltering.
CANDIDATE = (r"\b[A-Z][A-Za-z'-]*\s+(?:[A-Z]\.\s+)?[A-Z][A-Za-z'-]*[a-z]"
             r"|\b[A-Z]{2,}[A-Za-z'-]*\s+(?:[A-Z]\.\s+)?[A-Z]{2,}"
             r"|\b(?i:" + _TITLES + "|" + _RELATIONS + r")\b[.:,]*\s+" + _THEN_TITLE + "[A-Z]"
             r"|\[NAME\][\s,]+[A-Z]|[A-Z][A-Za-z'-]+\s+\[NAME\]")
_NOT_NAMES = frozenset({"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "professor", "doctor",
                        "nurse", "the", "patient", "team", "service", "clinic", "department",
                        "unit", "er", "ed", "icu", "on", "at", "for"})


@lru_cache(maxsize=1)
def dictionary() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, family names), folded and lower-case."""
    pkg = resources.files("medpipe.activities.deid")
    given = frozenset(pkg.joinpath("given_names.txt").read_text().split())
    family = frozenset(pkg.joinpath("family_names.txt").read_text().split())
    return given, family


def _word_key(w: str) -> str:
    return lower(w).replace("'", "").replace("-", "")


def find_names(folded: str) -> list[tuple[int, int, Placeholder]]:
    """Spans of names found by cue or by dictionary pair in a folded text."""
    given, family = dictionary()
    out: list[tuple[int, int, Placeholder]] = []
    for m in TITLED.finditer(folded):
        if _word_key(m.group(1).split()[0]) not in _NOT_NAMES:
            out.append((m.start(1), m.end(1), Placeholder.NAME))
    for m in RELATED.finditer(folded):
        words = m.group(1).split()
        if any(_word_key(w) in given or _word_key(w) in family for w in words):
            out.append((m.start(1), m.end(1), Placeholder.NAME))
    for m in BESIDE.finditer(folded):
        g = 1 if m.group(1) else 2
        if _word_key(m.group(g)) in given or _word_key(m.group(g)) in family:
            out.append((m.start(g), m.end(g), Placeholder.NAME))
    for m in PAIR.finditer(folded):
        if _word_key(m.group(1)) in given and _word_key(m.group(2)) in family:
            out.append((m.start(), m.end(), Placeholder.NAME))
    return out


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
