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
  "secondary to". Unknown contexts count as dates (recall first). deid12g: the words
  before a range (``Power 4-5/5``, ``GCS 13-15/15``) are the value's; scales scored over a
  maximum (``AMTS 7/10``, ``ESM 2/6``, ``PHQ-9 14/27``) are quantity words, and so is the
  eye after a visual acuity (``6/6 both eyes``, ``6/12 LE``);
  a UK count of days or months (``/7``, ``/12``) is no date in a range (``1-2/7``) or
  after ``x``, ``over``, ``hx of`` or before ``ago`` (not after ``for``: a US date);
  one count after a noun (``Fever 5/7``) stays a date;
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

import re
from functools import lru_cache
from importlib import resources

from medpipe.activities.deid import cues, forms
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

MONTH_DAY = re.compile(r"(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01])\b(?![/\d]|\.\d)")
_WEEKDAY_BEFORE = re.compile(r"\b(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)"
                             r"(?:day)?\b\.?,?\s{1,3}$", re.IGNORECASE)
_QUANTITY_BEFORE = re.compile(
    r"(?:pain|grade|gr|strength|power|score|scale|scored|rated|rate|gcs|apgar|reflexes|reflex"
    r"|dtrs?|motor|murmur|bp|b/p|pressure|ratio|vision|acuity|take|takes|taking|give|given"
    r"|dose|sig|cut|split|about|approx|approximately|only|half|level|stage|class|tanner|nyha"
    r"|ecog|asa|mallampati|qty|quantity|pulses?|sensation|edema|effort|tof|train-of-four|\+"
    # scales and examinations scored over a maximum (deid12g): "AMTS 7/10", "ESM 2/6",
    # "FAST 4/4", "ROSIER 2/7", "Snellen 6/9", "PHQ-9 14/27", "CURB-65 2/5"; not a word
    # that is as often a place or a service before a date ("VA 6/12", "Oxford 3/5")
    r"|\b(?:mrc|amts|mmse|moca|rosier|fast|tone|ashworth|esm|psm|sedation|nausea|vas|nrs"
    r"|nihss|ipss|frailty|cfs|snellen|pinhole|phq-?[0-9]{1,2}|gad-?[0-9]|(?:curb|crb)-?65|news-?2"
    r"|pews|q?sofa|hads|epds"
    # bedside scores over a maximum (deid12h): breastfeeding ("LATCH 8/10"), pressure areas,
    # withdrawal, pain in those who cannot say it, breathlessness, function
    r"|latch|braden|waterlow|norton|ciwa(?:-ar)?|cows|sows|flacc|painad|abbey|borg|barthel"
    r"|mews))"
    r"\s{0,2}[:=]?\s{0,2}$", re.IGNORECASE)
#: A virus whose two types are tested together ("HIV 1/2 Ag/Ab"; deid12g).
_VIRUS_TYPES = re.compile(r"\b(?:hiv|htlv|hsv)[\s-]{0,2}$", re.IGNORECASE)
#: The lower bound of a range before a value (``8-`` of ``8-10/10``, ``1-`` of ``1-2/7``): the
#: words before the range are the value's (deid12g).
_RANGE_BEFORE = re.compile(r"(?<![0-9./])([0-9]{1,2})\s{0,2}-\s{0,2}$")
#: What says a day count (``/7``) or a month count (``/12``) in UK notes (deid12g): ``x 2/7``,
#: ``over 6/12``, ``hx of 10/7``; after it ``ago``. Not ``for``: ``for 3/12`` is three months
#: to a UK writer and 12 March to a US one (``booked for 3/12``), so it stays a date (fail
#: closed; lead, at integration).
_DURATION_BEFORE = re.compile(r"\b(?:x|over|past|within|(?:hx|history)\s{1,2}of)"
                              r"\s{0,2}$", re.IGNORECASE)
DURATION_AFTER = re.compile(r"\s{0,2}ago\b", re.IGNORECASE)
#: A day-month/yy date written with a dash then a slash (``DOB 03-04/85``) — or a range over
#: a maximum (``Pain 8-10/10``) or of UK days or months (``Sx 13-18/12``): the grammar leaves
#: this shape to ``_dash_slash_dates``, where the words around it decide (deid12g).
DASH_SLASH = re.compile(r"(?<![0-9./-])([0-9]{1,2})-([0-9]{1,2})/([0-9]{2})\b(?![/\d]|\.\d)")
#: A date's word right before the value: what follows is a date whatever its shape
#: (``DOB 03-04/85``, ``seen 1-2/12``). ``for`` too (deid12h): a range after it is as often
#: the days something is booked for (``take-homes approved for 24-26/12``) as a UK count
#: (``abx for 5-7/7``); one count after ``for`` is a date already (``f/u for 3/12``,
#: deid12g's integration), and a range fails closed the same way.
DATE_CUE_BEFORE = re.compile(
    r"\b(?:dob|d\.?o\.?b\.?|born|birth|birthdate|on|since|from|until|till|dated|date|seen|for"
    r"|admitted|admission|discharged|discharge|by|before|after|due|review|reviewed|last|next"
    r"|appt|appointment|booked|scheduled|visit|op|surgery|died|deceased|expired)"
    r"\s{0,2}[:#=-]?\s{0,2}$", re.IGNORECASE)
QUANTITY_AFTER = re.compile(
    r"^\s{0,2}(?:of\b|tabs?\b|tablets?\b|caps?\b|capsules?\b|pills?\b|doses?\b|strength\b"
    r"|cups?\b|tsp\b|tbsp\b|teaspoons?\b|tablespoons?\b|inch|\"|cm\b|mm\b|ml\b|mg\b"
    r"|units?\b|murmur|systolic|diastolic|holosystolic|pain\b|scale\b|score\b|power\b"
    r"|reflex|motor\b|sensation|bilat|b/l|pulses?\b|dtrs?\b|x\b|times\b|ratio|full\b"
    r"|portion|mmhg|\+"
    # the eye a visual acuity was measured in (deid12g: "VA 6/6 both eyes", "6/12 LE")
    r"|both\s{1,2}eyes|unaided|aided|(?-i:[RL]E)\b(?!\s{0,2}:)|o[dsu]\b|(?:right|left)\s{1,2}eye"
    r"|with\s{1,2}(?:glasses|pinhole|correction))", re.IGNORECASE)

#: "2/2 mechanical fall": the clinical shorthand for "secondary to" (a word follows).
_SECONDARY_TO = re.compile(r"\s{1,2}[a-z]{2}")
AGE_SEX = re.compile(r"(?:9[0-9]|1[01][0-9])\s?(?:[MF]|yo[MF]|y/o[MF])\b")
_TEMPERATURE_BEFORE = re.compile(
    r"(?:\bt|temp|temperature|tmax|tm|fever|febrile|pyrexia|to|of|up to|at)\s{0,2}[:=]?\s{0,2}$",
    re.IGNORECASE)

#: A unit designator alone ("Apt 4B, 12 Elm St", "Suite 200").
UNIT = re.compile(r"\b(?:apt|apartment|suite|ste)\.?\s{0,2}#?\s{0,2}[0-9]{1,5}[a-z]?\b",
                  re.IGNORECASE)
ZIP = re.compile(r"\b(?:zip|postal)(?:\s?code)?\s{0,2}[:#]?\s{0,2}([0-9]{5}(?:-[0-9]{4})?)\b",
                 re.IGNORECASE)

_PLACE_CUES = (r"from|in|to|near|outside|lives in|living in|moved to|moving to|resides in"
               r"|born in|visiting|transferred from|transfer from|relocated to|home in")
_PLACE_CUE_SET = dict.fromkeys(_PLACE_CUES.split("|"), "place")
_PLACE_LAST_WORDS = frozenset(c.split()[-1] for c in _PLACE_CUE_SET)

#: A superset of the texts a rule here matches, for RE2 (Arrow) prefiltering.
CANDIDATE = (r"\b(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01])\b"
             r"|\b[0-9]{1,2}-[0-9]{1,2}/[0-9]{2}\b"
             r"|\b(?:9[0-9]|1[01][0-9])\s?(?:[MF]|yo[MF]|y/o[MF])\b"
             r"|(?i:zip|postal|apt|apartment|suite|ste)"
             r"|\b(?:" + _PLACE_CUES + r")\s{1,3}[A-Z][a-z]{2}"
             r"|" + forms.CANDIDATE)  # the cue rules of ``forms`` run here too


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """City names of the gazetteer (lower-case), see ``places.txt``."""
    pkg = resources.files("medpipe.activities.deid")
    return frozenset(line.strip() for line in pkg.joinpath("places.txt").read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def _starts_word(folded: str, i: int) -> bool:
    """Whether a number starting at ``i`` is a whole number (no digit, dot or slash before)."""
    return i == 0 or not (folded[i - 1].isalnum() or folded[i - 1] in "./")


def _duration(value: str, rng: re.Match[str] | None, before: str, after: str) -> bool:
    """Whether ``value`` (a month/day) counts days (``/7``) or months (``/12``) as UK notes
    write them: a range (``1-2/7``, ``2-3/12``: a range of days in July or December reads
    the same, and ``dateshapes`` leaves those for the same reason), or one count after
    ``x``, ``over``… or before ``ago`` (not ``for``: a US writer's date). One count after
    a noun (``Fever 5/7``) is as often the day it began: it stays a date."""
    high, _, den = value.partition("/")
    if den.lstrip("0") not in ("7", "12"):
        return False
    if rng is not None:
        return int(rng.group(1)) < int(high)
    return bool(_DURATION_BEFORE.search(before) or DURATION_AFTER.match(after))


def _dash_slash_dates(folded: str) -> list[Span]:
    """``d-m/yy`` dates. A range reads as one only when it rises (``8-10``), no date's word
    comes before it, and a score or quantity word is before or after it, or it counts UK
    days, weeks or months (``/7``, ``/52``, ``/12``); anything else keeps the date reading
    (fail closed)."""
    out: list[Span] = []
    for m in DASH_SLASH.finditer(folded):
        low, high, den = (int(g) for g in m.groups())
        before = folded[max(0, m.start() - 24):m.start()]
        after = folded[m.end():m.end() + 24]
        rising = low < high and not DATE_CUE_BEFORE.search(before)
        if rising and (_QUANTITY_BEFORE.search(before) or QUANTITY_AFTER.search(after)
                       or den in (7, 12, 52)):
            continue
        out.append((m.start(), m.end(), Placeholder.DATE))
    return out


def _dates(folded: str) -> list[Span]:
    out: list[Span] = []
    if "/" not in folded:
        return out
    out.extend(_dash_slash_dates(folded))
    for m in MONTH_DAY.finditer(folded):
        s = m.start()
        if not _starts_word(folded, s):
            continue
        rng = _RANGE_BEFORE.search(folded, max(0, s - 6), s)
        lead = rng.start() if rng else s
        before = folded[max(0, lead - 24):lead]
        after = folded[m.end():m.end() + 24]
        if _QUANTITY_BEFORE.search(before) or QUANTITY_AFTER.search(after):
            continue
        if _duration(m.group(), rng, before, after):
            continue
        if m.group() == "2/2" and _SECONDARY_TO.match(after):  # "fall 2/2 syncope"
            continue
        if m.group() == "1/2" and _VIRUS_TYPES.search(before):  # "HIV 1/2 Ag/Ab"
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


def _places(folded: str, matches: list[re.Match[str]]) -> list[Span]:
    """Cities after a place cue; only the runs a cue word precedes become ``cues.Run``."""
    known = places()
    out: list[Span] = []
    for m in matches:
        if cues.word_before(folded, m.start())[0] not in _PLACE_LAST_WORDS:
            continue
        run = cues.run_at(folded, m)
        prev, punct = cues.before(folded, run.start, 24)
        if punct.strip() or cues.cue(prev, _PLACE_CUE_SET) is None:
            continue
        words = run.words
        for n in range(len(words), 0, -1):  # longest known prefix ("Des Moines", "Fort Wayne")
            if " ".join(w for _, _, w in words[:n]).lower() in known:
                out.append((run.start, words[n - 1][1], Placeholder.ADDRESS))
                break
    return out


def find_dates(t: cues.Text) -> list[Span]:
    """Month/day dates without a year, unless a quantity or a score."""
    return _dates(t.folded)


def find_ages(t: cues.Text) -> list[Span]:
    """Ages over 89 with a sex after them ("92F"), unless a temperature."""
    return _ages(t.folded)


def find_zip(t: cues.Text) -> list[Span]:
    """A ZIP code after its label."""
    if "zip" in t.low or "postal" in t.low:
        return [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in ZIP.finditer(t.folded)]
    return []


def find_units(t: cues.Text) -> list[Span]:
    """A unit designator and its number alone ("Apt 4B")."""
    low = t.low
    if "apt" in low or "suite" in low or "ste" in low or "apartment" in low:
        return [(m.start(), m.end(), Placeholder.ADDRESS) for m in UNIT.finditer(t.folded)]
    return []


def find_places(t: cues.Text) -> list[Span]:
    """A city of the gazetteer after a place cue."""
    return _places(t.folded, t.matches)
