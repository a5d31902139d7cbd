"""When a known identifier value found in a text is a word there, not the identifier.

The known-value pass matches every record's values in every note, in any
case (``index.find_runs`` per text, ``columnar.find_column`` over a column,
and the residual check through both). A patient named May, Walker, West,
Wells or Clark then turned every "she may need a walker", "4 West", "Wells
score 4" and "Clark level IV" of the dataset into ``[NAME]``: most of the
scrubber's name false positives. A hit of **one token** is taken as the word,
not the value, when one of these holds:

1. **eponym**: the token is an eponym (``safelist.EPONYMS``) right before
   its head noun, in any case ("Wells score", "Clark level", "Foley
   catheter", "Parkinson's disease");
2. **ward**: a compass word right after a number ("4 West", "5 north", "4-WEST");
3. **lower case**: the token is written in lower case in a text that uses
   capitals (a writer who never capitalizes gives case no meaning; a
   placeholder counts as capitals, see ``has_capitals``), it is a word of the
   safe vocabulary (``safelist.vocabulary``: ``may``, ``walker``, ``floor``),
   and it does not open the text, a sentence or a line, nor follow a colon
   ("may agrees.", "grace resting" and "Caller: rose" are the lower-case ways
   a name is written; after a ";" a clause goes on: "stable; may titrate").

and in no case for a month name next to a number ("next appt may 27": a date
the date rules may not know), next to another known value (a name longer than its indexed
runs: "van der Brink" after "Faye-Tara") or right after a name or place cue
("Dr", "daughter", "spoke with", "per", "moved to": ``names.CUES``, a header
such as "Caller" with its colon, and the place cues): there a word is a name.
Runs of two tokens or more ("May Foley", "may foley") are always hits. The
decision reads the text and the spans only (``word_use``), so the per-text and
column paths, and the scrubber and the residual check, agree.
Cost in recall, measured on ``bench/deid.py``: see ``docs/deid.md``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from medpipe.activities.deid.names import CUES
from medpipe.activities.deid.safelist import EPONYMS, vocabulary

#: Head nouns after which an eponym is the eponym (a strict subset of ``safelist``'s:
#: no bare numbers, "Turner 94" may be a patient and an age).
_HEAD = re.compile(
    r"(?:'s)?[ \t-]{1,2}(?:disease|diseases|syndrome|sign|signs|score|scores|scale|criteria"
    r"|catheter|cath|level|stage|staging|grade|classification|maneuver|manoeuvre|reflex"
    r"|fracture|palsy|drain|cyst|tube|test|procedure|triad)\b", re.IGNORECASE)
#: Compass words, which name a ward after a number ("4 West").
COMPASS = frozenset(("north", "south", "east", "west"))
_NUMBER_BEFORE = re.compile(r"(?<![0-9A-Za-z])[0-9]{1,3}[ \t-]{1,2}$")
#: Month names (some are given names: May, June, Jan): next to a number, a date, kept.
MONTHS = frozenset("january february march april may june july august september october "
                   "november december jan feb mar apr jun jul aug sep sept oct nov dec"
                   .split())
_NUMBER_AFTER = re.compile(r"[ \t.,-]{0,2}[0-9]")
#: Words before a place ("moved to Nice", "lives in Reading"): ``context``'s place cues.
PLACE_CUES = frozenset(("from", "in", "to", "near", "outside", "lives in", "living in",
                        "moved to", "moving to", "resides in", "born in", "visiting",
                        "transferred from", "transfer from", "relocated to", "home in"))
_CUES: dict[str, str] = {**CUES, **dict.fromkeys(PLACE_CUES, "place")}
_WORDS_BEFORE = re.compile(r"([A-Za-z/'-]+(?:[ \t]{1,2}[A-Za-z/'-]+){0,3})([ \t.:,]{0,3})$")
_CAPITAL = re.compile(r"[A-Z]")
#: A clause after ";" goes on in lower case ("stable; may titrate"): no sentence end.
_SENTENCE_END = frozenset(".!?:\n\r")
#: Characters a look-back for the word before a token reads (a cue is a few words).
_BEFORE = 40


@lru_cache(maxsize=1)
def candidates() -> frozenset[str]:
    """Lower-case tokens that may be word use (any other token is always a hit)."""
    anycase, lower_only = vocabulary()
    return anycase | lower_only | EPONYMS | COMPASS


#: The last word of every cue: ``_cued`` reads the words before a token only after one.
_CUE_LAST = frozenset(k.split()[-1] for k in _CUES if k.split())
#: The characters of a word of ``_WORDS_BEFORE``.
_WORD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/'-"


def _cued(before: str) -> bool:
    """Whether a name or place cue ends ``before`` (the text right before a token); a
    header ("Pt", "Caller") only with its colon, as ``names`` reads it.

    The word ending ``before`` (up to three of ``[ \t.:,]`` after it) is found
    with two ``str.rstrip`` first: every cue ends with one of ``_CUE_LAST``,
    and most tokens follow another word, so ``_WORDS_BEFORE`` (a search that
    tries every start of the forty characters) runs only after one
    (``tests/activities/deid/test_cues_fast.py`` holds it to the search alone).
    """
    body = before[:-1] if before.endswith("\n") else before  # "$" matches before a last "\n"
    tail = body.rstrip(" \t.:,")
    if len(body) - len(tail) > 3:  # the words must end within three of those
        return False
    if tail[len(tail.rstrip(_WORD_CHARS)):].lower() not in _CUE_LAST:
        return False
    m = _WORDS_BEFORE.search(before)
    if m is None:
        return False
    words = m.group(1).lower().split()
    colon = ":" in m.group(2)
    for i in range(len(words)):
        kind = _CUES.get(" ".join(words[i:]))
        if kind is not None and (colon or kind != "header"):
            return True
    return False


def _opens_sentence(before: str) -> bool:
    """Whether a token after ``before`` opens the text, a sentence or a line."""
    rest = before.rstrip(" \t")
    return not rest or rest[-1] in _SENTENCE_END


def has_capitals(text: str) -> bool:
    """Whether ``text`` holds a capital letter (ASCII, after folding).

    Placeholders count: the residual check reads the scrubber's output, where a
    capitalized name the rules took after the known values is a ``[NAME]``; a text
    with capitals before that pass must still have them after it, or the check
    would count a word the scrubber rightly left.
    """
    return _CAPITAL.search(text) is not None


def word_use(text: str, start: int, end: int, capitals: bool | None = None) -> bool:
    """Whether the one-token known value at ``text[start:end]`` is a word there (see the
    module doc).

    Args:
        text: the folded text, case kept (positions as in the lower-case copy searched).
        start: the token's start.
        end: its end.
        capitals: ``has_capitals(text)`` when the caller knows it (asked at most once).
    """
    word = text[start:end]
    low = word.lower()
    if low not in candidates() or not word.isalpha():
        return False
    before = text[max(0, start - _BEFORE):start]
    if _cued(before):
        return False
    if low in MONTHS and (_NUMBER_AFTER.match(text, end) is not None
                          or _NUMBER_BEFORE.search(before) is not None):
        return False  # a date ("next appt may 27"): the date rules may not know the form
    if low in EPONYMS and _HEAD.match(text, end) is not None:
        return True
    if low in COMPASS and _NUMBER_BEFORE.search(before) is not None:
        return True
    if not word.islower() or _opens_sentence(before):
        return False
    anycase, lower_only = vocabulary()
    if low not in anycase and low not in lower_only:
        return False
    return has_capitals(text) if capitals is None else capitals
