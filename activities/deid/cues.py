"""Runs of capitalized words and the words right before them.

The context rules (``names``, ``context``) ask the same two questions of a
text: where are the runs of capitalized words ("Alica Donovan", "W. Madsen",
"Des Moines"), and which words come right before each run ("daughter",
"spoke with", "Caller:", "transferred from")? Answering them by walking the
runs and looking the preceding words up in sets costs a few microseconds per
run; one regular expression per cue list, case-insensitive, tried at every
position of every text, cost ten times more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

#: Up to three capitalized words (or initials before a word), no punctuation between.
RUN = re.compile(r"(?<![A-Za-z0-9'-])(?:[A-Z]\.\s{0,2}){0,2}[A-Z][A-Za-z'-]*[A-Za-z]"
                 r"(?:\s{1,2}(?:[A-Z]\.\s{0,2})?[A-Z][A-Za-z'-]*[A-Za-z]){0,3}")
#: One word or initial inside a run.
WORD = re.compile(r"[A-Z]\.|[A-Za-z'-]+")
_TRAILING = " \t\n.:,("


class Run(NamedTuple):
    """A run of capitalized words: where, and its words with their positions."""

    start: int
    end: int
    words: list[tuple[int, int, str]]


def runs(folded: str) -> Iterator[Run]:
    """The runs of capitalized words of a folded text, left to right."""
    for m in RUN.finditer(folded):
        s, e = m.span()
        text = m.group()
        if " " in text or "." in text or "\t" in text or "\n" in text:
            yield Run(s, e, [(s + w.start(), s + w.end(), w.group()) for w in WORD.finditer(text)])
        else:  # one word, the common case
            yield Run(s, e, [(s, e, text)])


def before(folded: str, start: int, span: int = 48) -> tuple[list[str], str]:
    """(the last three lower-case words before ``start``, the punctuation between).

    ``"Caller: Meda"`` at ``Meda`` gives (``["caller"]``, ``": "``).
    """
    pre = folded[max(0, start - span):start]
    i = len(pre)
    while i and pre[i - 1] in _TRAILING:
        i -= 1
    return pre[:i].lower().split()[-3:], pre[i:]


def last_word(folded: str, start: int) -> str:
    """The lower-case word right before ``start`` (punctuation skipped): a cheap first test."""
    pre = folded[max(0, start - 24):start].rstrip(_TRAILING)
    parts = pre.rsplit(None, 1)
    return parts[-1].lower() if parts else ""


def cue(words: list[str], table: dict[str, str]) -> str | None:
    """The kind of the longest cue the words end with (``table``: cue → kind)."""
    for n in (3, 2, 1):
        if len(words) >= n:
            kind = table.get(" ".join(words[-n:]))
            if kind is not None:
                return kind
    return None
