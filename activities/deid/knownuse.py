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
   Spanish function words (``FUNCTION_WORDS``: "la vecina le ayuda") are read as the
   vocabulary is in a text written in Spanish (``spanish``: two more of them; deid12h).

Three more hold for **any** one-token value, a name of no list: the token is
read with the words around it, and the phrase they make is not a person's:

4. **term**: the token right before a term's head noun, without a possessive
   ("Hamilton scale", "Trendelenburg position": ``TERM_HEADS``); a possessive is
   the person's ("Hamilton's disease progressed"), kept for the eponyms of rule 1;
5. **saint**: the token right after "St." or "Saint" and before "'s" ("St. John's
   wort", "St. Mary's"): a saint's possessive names a herb, a hospital or a day;
   a family name such as St. John is a run of two tokens, always a hit;
6. **region**: the token is a word of a state's or a country's name of two words or
   more written out with the words around it ("West Virginia", "New Mexico", "El
   Salvador": ``geo.gazetteer``'s regions), after a place cue too ("from West
   Virginia"): Safe Harbor leaves states and countries; a city or county is not one
   ("Virginia City", "Virginia Beach" stay hits), nor a one-word state ("from
   Virginia" may be a person).

7. **issuer**: two or three capitals right before ``ID`` ("SA ID no.", "NZ ID"): the
   code of the country or state that issued the number (deid12h).

A patient whose own name is such a phrase is a run of two tokens ("Hamilton
Scale", "West Virginia" as a name), always a hit. A patient Virginia West
written family name first without a comma ("West Virginia") reads as the state:
with the comma ("West, Virginia") no region is read (rule 6 reads words apart by
spaces only). Rules 4-6
yield to a name cue ("Dr Hamilton scale", "Mr. West Virginia"): there the token is a
name. docs/deid.md (precision12) argues each.

Rule 6 also holds for a token next to another value (``region_use``): patients named
West and Virginia leave "West Virginia".

and in no case for a month name next to a number ("next appt may 27": a date
the date rules may not know), next to another known value in the same sentence (a name
longer than its indexed runs: "van der Brink" after "Faye-Tara"; not across a sentence's end,
``index.sentence_end``)
or right after a name or place cue
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

from medpipe.activities.deid.geo import gazetteer
from medpipe.activities.deid.names import CUES
from medpipe.activities.deid.safelist import EPONYMS, vocabulary

#: Head nouns after which an eponym is the eponym (a strict subset of ``safelist``'s:
#: no bare numbers, "Turner 94" may be a patient and an age).
TERM_HEADS = ("disease", "diseases", "syndrome", "sign", "signs", "score", "scores", "scale",
              "criteria", "catheter", "cath", "level", "stage", "staging", "grade",
              "classification", "maneuver", "manoeuvre", "reflex", "fracture", "palsy", "drain",
              "cyst", "tube", "test", "procedure", "triad", "position")
_HEADS = "(?:" + "|".join(TERM_HEADS) + r")\b"
_HEAD = re.compile(r"(?:'s)?[ \t-]{1,2}" + _HEADS, re.IGNORECASE)
#: Rule 4 (any token): the head right after it, no possessive.
_TERM = re.compile(r"[ \t-]{1,2}" + _HEADS, re.IGNORECASE)
#: Rule 5: "St." or "Saint" right before the token ...
_SAINT_BEFORE = re.compile(r"(?<![A-Za-z])(?:st\.?|saint)[ \t]{1,2}$", re.IGNORECASE)
#: ... and a possessive right after it.
_POSSESSIVE = re.compile(r"'s(?![A-Za-z])", re.IGNORECASE)
#: Rule 6: up to four words either side of the token (a region's name has at most five).
_LEFT_WORDS = re.compile(r"(?:[A-Za-z]+[ \t]{1,2}){0,4}$")
_RIGHT_WORDS = re.compile(r"(?:[ \t]{1,2}[A-Za-z]+){0,4}")
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
def regions() -> frozenset[str]:
    """States' and countries' names of two words or more (lower case, one space)."""
    return frozenset(k for k in gazetteer().regions if " " in k)


@lru_cache(maxsize=1)
def region_words() -> frozenset[str]:
    """The words of ``regions`` (rule 6 reads the words around a token only for these)."""
    return frozenset(w for k in regions() for w in k.split())


#: Rule 3 for a border hospital's Spanish (deid12h): articles, pronouns, prepositions and
#: conjunctions of Spanish (and their Portuguese and French kin a Romance name holds), read
#: as rule 3 reads the safe vocabulary. Patients named Le, La, De, Sa (Vietnamese, Korean,
#: Portuguese names folded) turned every "la vecina le ayuda" into names; written in lower
#: case, mid-sentence, in a text with capitals, they are the words.
FUNCTION_WORDS = frozenset("la las le les lo los el del al de en y con su sus se que por para "
                           "una uno unos unas mi mis tu tus nos da das dos du des".split())
_LOWER_NEXT = re.compile(r"[ \t]{1,2}[a-z]")
_FUNCTION_WORD = re.compile(r"(?<![A-Za-z'-])(?:" + "|".join(sorted(FUNCTION_WORDS))
                            + r")(?![A-Za-z'-])")


def spanish(text: str, start: int) -> bool:
    """Whether ``text`` is written (partly) in Spanish: two of ``FUNCTION_WORDS`` in lower
    case at least, besides the one at ``start`` (one Spanish sentence in an English note has
    them: "vive sola, la vecina le ayuda"; an English note with a patient Luca Le written
    "luca le" has none)."""
    return sum(m.start() != start for m in _FUNCTION_WORD.finditer(text)) >= 2


def function_use(text: str, start: int, end: int) -> bool:
    """Rule 3 for a known value of Spanish function words alone, one token or a run of them
    (patients named De and La make "de la hija" a run of two, always a hit otherwise):
    every token of ``text[start:end]`` is one of ``FUNCTION_WORDS`` in lower case (the first
    capitalised where it opens a sentence and a lower-case word follows: "Le operaron"), the
    text is written in Spanish (``spanish``) and uses capitals, and no name cue comes before
    (deid12h). A run joined to another known run is a name's particle ("Joao da Silva"):
    the callers do not ask."""
    words = text[start:end].split()
    if not words or _cue(text[max(0, start - _BEFORE):start]) is not None:
        return False  # after a name cue a word is a name ("Mr. da Silva")
    if words[0][:1].isupper() and words[0].lower() in FUNCTION_WORDS and words[0][1:].islower():
        # a sentence's first word ("Le operaron la cadera"): a lower-case word must follow
        if not _opens_sentence(text[max(0, start - _BEFORE):start]) \
                or not _LOWER_NEXT.match(text, end):
            return False
        words = [words[0].lower(), *words[1:]]
    return all(w in FUNCTION_WORDS for w in words) and spanish(text, start) \
        and has_capitals(text)


#: Rule 7 (deid12h): two or three capitals right before ``ID`` are the code of the country
#: or state that issued it (``SA ID no.``, ``NZ ID``, ``TX ID``), not a person.
_ISSUED = re.compile(r"[ \t]{1,2}(?-i:ID)(?![A-Za-z])")


@lru_cache(maxsize=1)
def candidates() -> frozenset[str]:
    """Lower-case tokens that may be word use by themselves (rules 1-3 and 6); any other
    token only with a word of ``NEXT_WORDS`` after it or of ``PREVIOUS_WORDS`` before it."""
    anycase, lower_only = vocabulary()
    return anycase | lower_only | EPONYMS | COMPASS | region_words() | FUNCTION_WORDS


#: Tokens after a value that may make it a term (rule 4; the tokenizer splits "'s" off), or
#: an issuer's code (rule 7: ``id``).
NEXT_WORDS = frozenset(TERM_HEADS) | {"id"}
#: Tokens before a value that may make it a saint's (rule 5).
PREVIOUS_WORDS = frozenset(("st", "saint"))


#: The last word of every cue: ``_cued`` reads the words before a token only after one.
_CUE_LAST = frozenset(k.split()[-1] for k in _CUES if k.split())
#: The characters of a word of ``_WORDS_BEFORE``.
_WORD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/'-"


def _cued(before: str) -> bool:
    """Whether a name or place cue ends ``before`` (``_cue``)."""
    return _cue(before) is not None


def _cue(before: str) -> str | None:
    """The kind of the name or place cue ending ``before`` (the text right before a
    token: ``"place"`` or one of ``names.CUES``'), if any; a header ("Pt", "Caller") only
    with its colon, as ``names`` reads it.

    The word ending ``before`` (up to three of ``[ \t.:,]`` after it) is found
    with two ``str.rstrip`` first: every cue ends with one of ``_CUE_LAST``,
    and most tokens follow another word, so ``_WORDS_BEFORE`` (a search that
    tries every start of the forty characters) runs only after one
    (``tests/activities/deid/test_cues_fast.py`` holds it to the search alone).
    """
    body = before[:-1] if before.endswith("\n") else before  # "$" matches before a last "\n"
    tail = body.rstrip(" \t.:,")
    if len(body) - len(tail) > 3:  # the words must end within three of those
        return None
    if tail[len(tail.rstrip(_WORD_CHARS)):].lower() not in _CUE_LAST:
        return None
    m = _WORDS_BEFORE.search(before)
    if m is None:
        return None
    words = m.group(1).lower().split()
    colon = ":" in m.group(2)
    for i in range(len(words)):
        kind = _CUES.get(" ".join(words[i:]))
        if kind is not None and (colon or kind != "header"):
            return kind
    return None


def _in_region(text: str, start: int, end: int, low: str) -> bool:
    """Rule 6: whether the token ``text[start:end]`` (``low``) and words either side of it
    spell a state's or a country's name of two words or more."""
    left = _LEFT_WORDS.search(text, max(0, start - _BEFORE), start)
    right = _RIGHT_WORDS.match(text, end)
    before = left.group().lower().split() if left else []
    after = right.group().lower().split() if right else []
    names = regions()
    for i in range(len(before) + 1):
        head = before[len(before) - i:] + [low]
        for j in range(len(after) + 1):
            if i + j and " ".join(head + after[:j]) in names:
                return True
    return False


def _phrase_use(text: str, start: int, end: int, low: str, before: str) -> bool:
    """Rules 4 and 5 (any token, no cue before it): a term's or a saint's word."""
    if _HEAD.match(text, end) if low in EPONYMS else _TERM.match(text, end):
        return True
    return _SAINT_BEFORE.search(before) is not None and _POSSESSIVE.match(text, end) is not None


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


def region_use(text: str, start: int, end: int) -> bool:
    """Rule 6 alone, for a one-token value next to another value (which ``word_use`` never
    reads: a name longer than its indexed runs): "West Virginia" when patients are named
    West and Virginia, "El Salvador. Virginia Hamilton" (runs join across ". ")."""
    word = text[start:end]
    low = word.lower()
    if low not in region_words() or not word.isalpha():
        return False
    return _cue(text[max(0, start - _BEFORE):start]) in (None, "place") \
        and _in_region(text, start, end, low)


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
    if not word.isalpha():
        return False
    before = text[max(0, start - _BEFORE):start]
    cue = _cue(before)
    if cue in (None, "place") and low in region_words() and _in_region(text, start, end, low):
        return True
    if cue not in (None, "place"):
        return False
    if _phrase_use(text, start, end, low, before):
        return True
    if cue is not None:
        return False
    if 2 <= len(word) <= 3 and word.isupper() and _ISSUED.match(text, end):
        return True
    if low not in candidates():
        return False
    if low in MONTHS and (_NUMBER_AFTER.match(text, end) is not None
                          or _NUMBER_BEFORE.search(before) is not None):
        return False  # a date ("next appt may 27"): the date rules may not know the form
    if low in COMPASS and _NUMBER_BEFORE.search(before) is not None:
        return True
    if not word.islower():
        return False
    anycase, lower_only = vocabulary()
    if low not in anycase and low not in lower_only:
        # a Spanish function word in lower case, after an abbreviation's full stop too
        # ("Cel. de la hija": a sentence opens with a capital)
        if low not in FUNCTION_WORDS or not spanish(text, start):
            return False
    elif _opens_sentence(before):
        return False
    return has_capitals(text) if capitals is None else capitals
