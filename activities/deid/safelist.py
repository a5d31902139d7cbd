"""Safe-list (allow-list) mode for free text: a word stays only when it is known to be safe.

The grammar scrubber (``patterns``, ``names``, ``index``...) removes what looks
like an identifier; what it does not recognise stays. In ``safe-list`` mode
(policy ``text_mode: safe-list``, as Philter does it) the scrubber runs first
and then every remaining token that is not known to be safe is replaced by
``[REDACTED]``: an identifier written in a form no rule foresaw is removed
because it is not on the list, at the price of removing rare words too.

What is safe:

* words of the shipped vocabulary (``tests/data/build_safe_vocab.py``): ``safe_words.txt`` in any
  case; ``safe_lower.txt`` (words that are also given, family or place names:
  ``rose``, ``brown``, ``grace``) only written in lower case;
* numbers of the forms clinical values take: up to three digits (``140``,
  ``7``), a decimal (``7.2``, ``36.6``), a ratio of two such numbers
  (``128/82``, ``3/10``), a time (``14:30``), a year (``1900``-``2099``: Safe
  Harbor keeps years), any number of up to seven digits followed by a unit
  (``1500 mL``, ``10,000 units``, ``500mg``);
* short codes that mix letters and digits (``q4h``, ``L4``, ``x2``, ``T12``,
  ``3rd``), and any such word of the vocabulary (``HbA1c``, ``SpO2``);
* the placeholders the grammar scrubber put in (``[NAME]``...).

Decisions: matching is on the folded lower-case word (accents and apostrophe
variants as ``normalize`` folds them), so capitalization and the position in
the sentence do not make a safe word unsafe; they only matter for the
lower-case-only list, where a capital (even at a sentence start: "Grace
period...") makes the word a name (fail closed). A possessive ``'s`` is
ignored (``patient's``). A hyphenated word is safe when it is on the list
whole or when each of its parts is (``follow-up``, ``non-tender``); otherwise
the whole word is replaced (``Anne-Marie``). A single letter is safe in lower
case, as ``I`` and ``A``, after a word that names a letter (``vitamin D``,
``hepatitis B``, ``type A``) and before a value (``K 4.1``, ``T 36.8``); other
capital letters are initials. Everything
else, including numbers of five or more digits without a unit and mixed
letter-digit strings (``AB12345``), is replaced.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib import resources

import numpy as np
import pyarrow as pa

from medpipe.activities.deid.normalize import fold, lower
from medpipe.contracts.pseudonymize import Placeholder

#: What an unsafe token becomes.
REDACTED = f"[{Placeholder.REDACTED.value}]"

_UNITS = (r"mg/dl|mmol/l|g/dl|ml/min|mg/kg|ml/hr|mcg/min|l/min"  # compound units first
          r"|mg|mcg|ug|µg|ng|g|gm|grams?|kg|lbs?|oz|ml|cc|l|dl|liters?|meq|mmol|mol|iu|units?"
          r"|u|%|percent|cm|mm|um|km|m|inch(?:es)?|ft|feet|mmhg|cmh2o|bpm|beats|breaths"
          r"|min|mins|minutes?|h|hr|hrs|hours?|s|sec|secs|seconds?|d|days?|wks?|weeks?|mos?"
          r"|months?|yrs?|years?|x|times|tabs?|tablets?|caps?|capsules?|puffs?|drops?|sprays?"
          r"|doses?|degrees?|deg|f|c|k|hz|khz|db")
_MARKS = "|".join(re.escape(p.value) for p in Placeholder)
#: A placeholder, a number (and its unit), or a word (letters and digits, inner ' and -).
TOKEN = re.compile(
    r"(?P<mark>\[(?:" + _MARKS + r")\])"
    r"|(?P<num>(?<![^\W_])[0-9]+(?:[.,:/][0-9]+)*)(?P<unit>\s?(?:" + _UNITS + r"))?(?![^\W_])"
    r"|(?P<word>[^\W_]+(?:['\u2019-][^\W_]+)*)", re.IGNORECASE)

_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
_DECIMAL = re.compile(r"[0-9]{1,4}\.[0-9]{1,3}")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_TIME = re.compile(r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?")
_RATIO = re.compile(r"[0-9]{1,3}(?:\.[0-9])?/[0-9]{1,3}(?:\.[0-9])?")
_CODE = re.compile(r"[a-z]{1,2}[0-9]{1,2}[a-z]{0,2}|[0-9]{1,2}(?:st|nd|rd|th|[a-z]{1,2})"
                   r"|g[0-9]{1,2}p[0-9]{1,4}")  # q4h, L4, x2, 3rd, 2nd, G3P2012
#: A time on the 24-hour clock without a colon ("at 0745", "1400").
_HHMM = re.compile(r"(?:[01][0-9]|2[0-3])[0-5][0-9]")
#: A value right after a capital letter: the letter is a symbol ("K 4.1", "T 36.8").
_VALUE_AFTER = re.compile(r"\s{0,2}[0-9]")
#: Surnames that name a disease, sign, score or device (lower case): safe right before a
#: head noun ("Parkinson disease", "Foley catheter", "Gleason score") or a score
#: ("Gleason 4+3", "Breslow 1.2 mm", "Snellen 20/40");
#: elsewhere they are names like any other ("Dr. Foley").
EPONYMS = frozenset(
    "addison alzheimer babinski baker barlow barrett bartholin bell bishop bowen breslow "
    "broca brudzinski buerger charcot cheyne chvostek clark colles coombs crohn cushing "
    "doppler down duchenne dupuytren epley finkelstein foley frankl ganz gleason graves guillain "
    "barre hartmann hashimoto hickman hodgkin hoffmann holter homan homans horner huntington "
    "jackson pratt kaposi kawasaki kernig kocher korsakoff kussmaul lachman levine lyme "
    "mallory marfan mcburney mcmurray meniere mobitz murphy nissen ortolani pap parkinson "
    "penrose pfannenstiel phalen raynaud reed reye rinne romberg roux salter harris schilling "
    "sjogren snellen spurling sternberg stokes swan tanner thompson tinel tourette "
    "trendelenburg turner virchow weber weiss wells wenckebach wernicke whipple wilms wilson "
    "wolff parkinsonism".split())
_EPONYM_HEAD = re.compile(
    r"(?:'s)?[\s-]{1,2}(?:disease|diseases|syndrome|sign|signs|test|tests|maneuver|manoeuvre"
    r"|score|scores|scale|stage|stages|staging|level|levels|criteria|catheter|cath|thickness"
    r"|lymphoma|cells?|cyst|fracture|palsy|phenomenon|reflex|triad|procedure|repair|operation"
    r"|shunt|monitor|chart|respirations?|breathing|sarcoma|tumou?r|ulcer|point|incision|tube"
    r"|drain|classification|grade|pattern|ophthalmopathy|dementia|contracture|node|deformity"
    r"|block|type|thyroiditis|encephalopathy|chorea|stain|position|exam|line|smear|sheath"
    r"|hammer|fundoplication|esophagus|ii|iii|tremor)\b"
    r"|\s{1,2}(?:[0-9]+|i|ii|iii|iv|v)\b", re.IGNORECASE)  # a score: "Gleason 4+3", "Frankl 3"

#: Words after which a capital letter is a letter, not an initial ("vitamin D").
LETTER_CUES = frozenset(
    "vitamin vit hepatitis hep type grade class stage group phase factor protein zone part "
    "section lead plan category schedule level blood antigen strep influenza flu dose "
    "hemoglobin hgb apgar wave waves ward unit wing pod tier option".split())


def _load(name: str) -> frozenset[str]:
    text = resources.files("medpipe.activities.deid").joinpath(name).read_text()
    return frozenset(ln for ln in text.splitlines() if ln and not ln.startswith("#"))


@lru_cache(maxsize=1)
def vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """(words safe in any case, words safe in lower case only), from the shipped lists."""
    return _load("safe_words.txt"), _load("safe_lower.txt")


@lru_cache(maxsize=1)
def english() -> frozenset[str]:
    """English words in any case or in lower case only (``grand``, ``rose``): a word outside
    it is no English word even written in lower case."""
    words, lower_only = vocabulary()
    return words | lower_only


@lru_cache(maxsize=65_536)
def _safe_number(num: str, unit: str | None) -> bool:
    digits = sum(c.isdigit() for c in num)
    if unit:
        return digits <= 7 and ":" not in num and num.count("/") <= 1
    if num.isdigit():
        return len(num) <= 3 or (len(num) == 4 and (_YEAR.fullmatch(num) is not None
                                                    or _HHMM.fullmatch(num) is not None))
    return any(rx.fullmatch(num) for rx in (_DECIMAL, _TIME, _RATIO)) \
        or (_GROUPED.fullmatch(num) is not None and digits <= 6)


@lru_cache(maxsize=262_144)
def safe_word(word: str) -> bool:
    """Whether a word token (as written) is safe without context (see the module doc)."""
    anycase, lower_only = vocabulary()
    low = lower(fold(word)[0]).replace("\u2019", "'")
    key = low[:-2] if low.endswith("'s") else low
    if len(key) == 1:  # before the vocabulary, which holds every letter
        return word.islower() or word in ("I", "A")
    if key in anycase or low in anycase:
        return True
    if key in lower_only and word.islower():
        return True
    if "-" in key:
        parts = word.split("-")
        return all(p and (safe_word(p) or (p.isdigit() and len(p) <= 3)) for p in parts)
    if any(c.isdigit() for c in key):
        return _CODE.fullmatch(key) is not None
    return False


@lru_cache(maxsize=65_536)
def _eponym(word: str) -> bool:
    low = lower(fold(word)[0]).replace("\u2019", "'")
    low = low[:-2] if low.endswith("'s") else low
    return all(p in EPONYMS for p in low.split("-"))


def _unsafe_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every token of ``text`` that is not safe."""
    out: list[tuple[int, int]] = []
    prev = ""
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "mark":
            prev = ""
            continue
        if kind == "word" or kind is None:
            w = m.group("word")
            ok = safe_word(w) or (len(w) == 1 and (prev in LETTER_CUES or _VALUE_AFTER.match(
                text, m.end()) is not None)) \
                or (_eponym(w) and _EPONYM_HEAD.match(text, m.end()) is not None)
            prev = w.lower()
        else:
            num, unit = m.group("num"), m.group("unit")
            ok = _safe_number(num, unit)
            prev = ""
        if not ok:
            out.append((m.start(), m.end()))
    return out


def redact(text: str, counts: Counter[str] | None = None) -> str:
    """``text`` with every unsafe token replaced by ``[REDACTED]`` (counted in ``counts``)."""
    spans = _unsafe_spans(text)
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for s, e in spans:
        parts += [text[last:s], REDACTED]
        last = e
    parts.append(text[last:])
    if counts is not None:
        counts[Placeholder.REDACTED.value] += len(spans)
    return "".join(parts)


def redact_column(col: pa.Array, counts: Counter[str]) -> pa.Array:
    """``redact`` over a column of texts (nulls stay null; a repeated text is done once)."""
    seen: dict[str, tuple[str, int]] = {}
    out: list[str | None] = []
    for t in col.to_pylist():
        if t is None:
            out.append(None)
            continue
        done = seen.get(t)
        if done is None:
            added: Counter[str] = Counter()
            done = seen[t] = (redact(t, added), added[Placeholder.REDACTED.value])
        out.append(done[0])
        if done[1]:
            counts[Placeholder.REDACTED.value] += done[1]
    return pa.array(out, type=col.type)


def unsafe_count(text: str) -> int:
    """How many tokens of ``text`` are not safe (the residual check: 0 after ``redact``)."""
    return len(_unsafe_spans(text))


def unsafe_rows(col: pa.Array) -> tuple[np.ndarray, int]:
    """(mask of the texts holding an unsafe token, number of unsafe tokens) of a column."""
    seen: dict[str, int] = {}
    hits = np.zeros(len(col), dtype=bool)
    total = 0
    for i, t in enumerate(col.to_pylist()):
        if t is None:
            continue
        n = seen.get(t)
        if n is None:
            n = seen[t] = unsafe_count(t)
        if n:
            hits[i] = True
            total += n
    return hits, total
