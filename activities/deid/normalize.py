"""Text folding for matching, with a map back to the original characters.

Identifiers are written many ways: ``O’Brien`` / ``O'Brien`` / ``OBrien``,
``José Núñez`` / ``Jose Nunez``, ``Anne‐Marie`` with a Unicode hyphen,
full-width digits. Matching runs on a *folded* copy of each text (NFKC,
apostrophe and dash variants unified, accents stripped; case kept so that
capitalization cues still work) and the spans found there are mapped back to
the original, so the placeholders replace the original characters. Folding
is done once per text; ASCII texts (the common case) fold to themselves.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = "\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032\uff07\u201b"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
#: Latin letters that Unicode does not decompose (``ł`` is no ``l`` + accent): their base
#: (Azerbaijani's schwa ``ə`` as ``e``, as its names are romanised: deid12f).
_BARE = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h",
         "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ð": "d", "Ð": "D", "ŀ": "l", "Ŀ": "L", "ƚ": "l",
         "ə": "e", "Ə": "E", "ǝ": "e", "Ǝ": "E",
         "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th"}
_MAP = str.maketrans({**dict.fromkeys(_APOSTROPHES, "'"), **dict.fromkeys(_DASHES, "-"),
                      "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u00ad": "", **_BARE})
#: A token: letters or digits of any script (after folding, mostly ASCII).
TOKEN = re.compile(r"[^\W_]+")


@lru_cache(maxsize=65_536)
def fold_char(c: str) -> str:
    """The folded form of one character (possibly empty or several characters)."""
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", c.translate(_MAP)))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).translate(_MAP)
    return s.replace("\u00df", "ss")


def fold(text: str) -> tuple[str, list[int] | None]:
    """(folded text, offset of each folded character in ``text``).

    The offsets are ``None`` when every character folds to exactly one
    character (ASCII text, accented letters, apostrophe and dash variants):
    positions are then the same in both texts.
    """
    if text.isascii():
        return text, None
    table: dict[int, str] = {}
    same_length = True
    for c in set(text):  # a handful of distinct non-ASCII characters per text
        if c >= "\x80":
            f = table[ord(c)] = fold_char(c)
            same_length = same_length and len(f) == 1
    if same_length:  # é → e, ’ → ': one character for one, offsets unchanged
        if all(f.isascii() for f in table.values()):
            for code, f in table.items():  # a few str.replace run in C; translate is per char
                if chr(code) != f:
                    text = text.replace(chr(code), f)
            return text, None
        return text.translate(table), None
    out: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(text):
        f = c if c < "\x80" else fold_char(c)
        out.append(f)
        offsets.extend([i] * len(f))
    return "".join(out), offsets


def lower(folded: str) -> str:
    """Lower-case a folded text without changing its length."""
    low = folded.lower()
    if len(low) == len(folded):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)


def to_original(start: int, end: int, offsets: list[int] | None, size: int) -> tuple[int, int]:
    """Map a span of the folded text back to the original text."""
    if offsets is None:
        return start, end
    s = offsets[start] if start < len(offsets) else size
    e = offsets[end - 1] + 1 if end - 1 < len(offsets) and end > start else s
    return s, e


def tokens(value: str) -> list[str]:
    """The lower-case tokens of a value (letters/digits runs of the folded text)."""
    return TOKEN.findall(lower(fold(value)[0]))


def key(value: str) -> str:
    """Matching key of a value: its folded tokens joined (``O’Brien`` → ``obrien``)."""
    return "".join(tokens(value))


def folds_to_letters(text: str) -> bool:
    """Whether folding changes only letters (accents): patterns need not run again.

    The scrubber's patterns (digits, separators, month names) then match the
    folded text exactly where they match the original.
    """
    return all(fold_char(c).isalpha() for c in set(text) if c >= "\x80")
