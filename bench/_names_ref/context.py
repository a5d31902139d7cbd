"""Identifiers that only context tells apart from clinical values.

``3/4`` is a date in "recheck 3/4" and a dose in "3/4 tablet"; ``92F`` is a
92-year-old woman and ``101F`` a fever; ``24270`` is a ZIP code after
"zip code". These rules need look-around, which RE2 (the vectorised pattern
pass) lacks, so they run in Python on the texts the name prefilter selects
(``names.CANDIDATE`` includes ``CANDIDATE`` below) and on every text the
residual check reads the same way.

Decisions (precision against recall):

* a month/day without a year is a date unless a word around it makes it a
  quantity or a score: before it ``pain``, ``grade``, ``strength``, ``take``,
  ``BP``, ``reflexes``...; after it ``tablet``, ``of``, ``mg``, ``murmur``,
  ``strength``, ``pain``...; ``2/2`` followed by a lower-case word is
  "secondary to". Unknown contexts count as dates (recall first);
* ``92F`` / ``104 M`` (sex after an age over 89) is an age unless a
  temperature word (``T``, ``temp``, ``Tmax``, ``fever to``) comes before it;
* a unit designator and its number alone (``Apt 4B``) is part of an
  address; it runs here, after the record's own street was looked up whole;
* a five-digit number after ``zip``/``zip code``/``postal code`` is a ZIP
  code (the number only; the label stays);
* a city of the gazetteer (``places.txt``) after a place cue (``from``,
  ``lives in``, ``moved to``, ``transferred from``...) is a place.
"""

from __future__ import annotations

from bench._names_ref import cues
from medpipe.activities.deid import forms, rules

# The rules (patterns, cue lists, gazetteer) are the product's: this copy pins the engine only.
from medpipe.activities.deid.context import (
    _PLACE_CUE_SET,
    _PLACE_LAST_WORDS,
    _QUANTITY_BEFORE,
    _SECONDARY_TO,
    _TEMPERATURE_BEFORE,
    _WEEKDAY_BEFORE,
    AGE_SEX,
    MONTH_DAY,
    QUANTITY_AFTER,
    UNIT,
    ZIP,
    _dash_slash_dates,
    places,
)
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]



def _starts_word(folded: str, i: int) -> bool:
    """Whether a number starting at ``i`` is a whole number (no digit, dot or slash before)."""
    return i == 0 or not (folded[i - 1].isalnum() or folded[i - 1] in "./")


def _dates(folded: str) -> list[Span]:
    out: list[Span] = []
    if "/" not in folded:
        return out
    out.extend(_dash_slash_dates(folded))  # a rule (deid12g's d-m/yy), not engine
    for m in MONTH_DAY.finditer(folded):
        s = m.start()
        if not _starts_word(folded, s):
            continue
        before = folded[max(0, s - 24):s]
        after = folded[m.end():m.end() + 24]
        if _QUANTITY_BEFORE.search(before) or QUANTITY_AFTER.search(after):
            continue
        if m.group() == "2/2" and _SECONDARY_TO.match(after):  # "fall 2/2 syncope"
            continue
        if forms.is_score(folded, s, m.group()):  # "pain 6/10, improved to 3/10"
            continue
        wd = _WEEKDAY_BEFORE.search(folded[max(0, s - 14):s])
        out.append((s - (len(wd.group()) if wd else 0), m.end(), Placeholder.DATE))
    return out


def _ages(folded: str) -> list[Span]:
    out: list[Span] = []
    for m in AGE_SEX.finditer(folded):
        if _starts_word(folded, m.start()) and \
                not _TEMPERATURE_BEFORE.search(folded[max(0, m.start() - 16):m.start()]):
            out.append((m.start(), m.end(), Placeholder.AGE))
    return out


def _places(folded: str, runs: list[cues.Run]) -> list[Span]:
    known = places()
    out: list[Span] = []
    for run in runs:
        if run.prev not in _PLACE_LAST_WORDS:
            continue
        prev, punct = cues.before(folded, run.start, 24)
        if punct.strip() or cues.cue(prev, _PLACE_CUE_SET) is None:
            continue
        words = run.words
        for n in range(len(words), 0, -1):  # longest known prefix ("Des Moines", "Fort Wayne")
            if " ".join(w for _, _, w in words[:n]).lower() in known:
                out.append((run.start, words[n - 1][1], Placeholder.ADDRESS))
                break
    return out


def find_context(folded: str, runs: list[cues.Run] | None = None) -> list[Span]:
    """Spans of dates, ages, ZIP codes, units and places found by context in a folded text.

    ``runs``: the text's runs of capitalized words, when the caller has them.
    """
    out = _dates(folded) + _ages(folded)
    low = folded.lower()
    if "zip" in low or "postal" in low:
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in ZIP.finditer(folded)]
    if "apt" in low or "suite" in low or "ste" in low or "apartment" in low:
        out += [(m.start(), m.end(), Placeholder.ADDRESS) for m in UNIT.finditer(folded)]
    out += _places(folded, list(cues.runs(folded)) if runs is None else runs)
    # its own runs: the engine's, not this copy's; the rule modules (``rules.MODULES``, since
    # recall4) are rules, not engine: imported like the forms
    return out + rules.find(folded, rules.FORMS + rules.MODULE_RULES)
