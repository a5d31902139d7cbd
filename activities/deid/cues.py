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

#: Up to four capitalized words (initials, "O" and particles inside) on one line.
#: Lower-case particles inside names ("Mac an Deisigh", "van Poppel", "de la Cruz").
PARTICLES = frozenset("van von de da del della di du la le den der ter an bin ibn al el dos das y"
                      .split())
_INITIAL = r"(?:[A-Z]\.[ \t]{0,2}|[A-Z][ \t]{1,2})"
#: ``(?<![A-Za-z0-9'-])(?:INITIAL){0,2}[A-Z][A-Za-z'-]*[A-Za-z](?:TAIL){0,3}`` with its
#: first capital taken out in front (``[A-Z](?<![A-Za-z0-9'-][A-Z])``, then the rest of
#: each branch in the same order): a pattern opening with a character set is searched
#: for that set, one opening with a look-behind is tried at every position (1.5x faster,
#: the same matches; ``tests/activities/deid/test_names_differential.py``).
RUN = re.compile(r"[A-Z](?<![A-Za-z0-9'-][A-Z])"
                 r"(?:(?:\.[ \t]{0,2}|[ \t]{1,2})" + _INITIAL + r"?[A-Z][A-Za-z'-]*[A-Za-z]"
                 r"|[A-Za-z'-]*[A-Za-z])"
                 r"(?:[ \t]{1,2}(?:(?:" + "|".join(sorted(PARTICLES)) + r")[ \t]{1,2}){0,2}"
                 + _INITIAL + r"?[A-Z][A-Za-z'-]*[A-Za-z]){0,3}")
#: One word or initial inside a run.
WORD = re.compile(r"[A-Z]\.|[A-Za-z'-]+")  # "O" of "O Seanain" is a word of one letter
_TRAILING = " \t\n.:,("
#: The characters of a word of the text (for the word before a run): ``[A-Za-z/'-]``.
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/'-")


class Run:
    """A run of capitalized words: where, the word before it (lower-case) and its words."""

    __slots__ = ("start", "end", "text", "prev", "punct", "_words")

    def __init__(self, start: int, end: int, text: str, prev: str, punct: str) -> None:
        self.start, self.end, self.text, self.prev, self.punct = start, end, text, prev, punct
        self._words: list[tuple[int, int, str]] | None = None

    @property
    def words(self) -> list[tuple[int, int, str]]:
        """The run's words and initials with their positions in the text."""
        if self._words is None:
            s, t = self.start, self.text
            self._words = [(s + w.start(), s + w.end(), w.group()) for w in WORD.finditer(t)] \
                if (" " in t or "." in t or "\t" in t or "\n" in t) else [(s, self.end, t)]
        return self._words


def word_before(folded: str, s: int) -> tuple[str, str]:
    """(the word right before position ``s``, lower-case; the punctuation between).

    The word is found by stepping back over at most six characters of
    ``_TRAILING`` (a scan of a few characters, rather than a list of every
    word of the text); a word running through ``s`` ("x/Mary") is that word.
    The steps are ``str.rstrip``/``lstrip`` over a short slice (in C), not a
    loop per character (``tests/activities/deid/test_cues_fast.py`` holds it
    to the loop).
    """
    if s and folded[s - 1] in _WORD_CHARS:  # "x/Mary": the word runs through the run
        ws = _word_start(folded, s)
        tail = folded[s:s + _SPAN]
        we = s + len(tail) - len(tail.lstrip(_WORD_STR))
        if we == s + _SPAN:  # a word longer than the slice
            n = len(folded)
            while we < n and folded[we] in _WORD_CHARS:
                we += 1
        return folded[ws:we].lower(), ""
    seg = folded[max(0, s - 6):s]
    p = s - (len(seg) - len(seg.rstrip(_TRAILING)))
    if p and folded[p - 1] in _WORD_CHARS:
        return folded[_word_start(folded, p):p].lower(), folded[p:s]
    return "", ""


#: ``_WORD_CHARS`` as the argument of ``str.rstrip``; the slice a word is looked for in.
_WORD_STR = "".join(sorted(_WORD_CHARS))
_SPAN = 32


def _word_start(folded: str, end: int) -> int:
    """Where the run of ``_WORD_CHARS`` ending at ``end`` starts."""
    lo = max(0, end - _SPAN)
    k = len(folded[lo:end].rstrip(_WORD_STR))
    if k or not lo:
        return lo + k
    ws = lo  # a word longer than the slice
    while ws and folded[ws - 1] in _WORD_CHARS:
        ws -= 1
    return ws


def runs(folded: str) -> Iterator[Run]:
    """The runs of capitalized words of a folded text, left to right."""
    for m in RUN.finditer(folded):
        s, e = m.span()
        yield Run(s, e, m.group(), *word_before(folded, s))


class Text:
    """A folded text with what several rules read of it, each computed once, when first asked.

    The rule table (``activities.deid.rules``) runs only the rules whose
    trigger the text holds: a text whose rules read no run never pays for
    ``runs``.
    """

    __slots__ = ("folded", "_low", "_runs", "_matches")

    def __init__(self, folded: str, runs: list[Run] | None = None) -> None:
        self.folded = folded
        self._low: str | None = None
        self._runs = runs
        self._matches: list[re.Match[str]] | None = None

    @property
    def low(self) -> str:
        """``folded.lower()``."""
        if self._low is None:
            self._low = self.folded.lower()
        return self._low

    @property
    def matches(self) -> list[re.Match[str]]:
        """Every run of capitalized words as a match of ``RUN`` (no word before yet).

        A rule that reads few of the runs builds a ``Run`` (``run_at``) for those
        only, rather than one with its word before for every run.
        """
        if self._matches is None:
            self._matches = list(RUN.finditer(self.folded))
        return self._matches

    @property
    def runs(self) -> list[Run]:
        """Every run of capitalized words of the text, left to right."""
        if self._runs is None:
            folded = self.folded
            self._runs = [Run(m.start(), m.end(), m.group(), *word_before(folded, m.start()))
                          for m in self.matches]
        return self._runs


def run_at(folded: str, m: re.Match[str]) -> Run:
    """The ``Run`` of a match of ``RUN`` in ``folded``."""
    s = m.start()
    return Run(s, m.end(), m.group(), *word_before(folded, s))


def before(folded: str, start: int, span: int = 48) -> tuple[list[str], str]:
    """(the last three lower-case words before ``start``, the punctuation between).

    ``"Caller: Meda"`` at ``Meda`` gives (``["caller"]``, ``": "``).
    """
    pre = folded[max(0, start - span):start]
    i = len(pre)
    while i and pre[i - 1] in _TRAILING:
        i -= 1
    return pre[:i].lower().split()[-3:], pre[i:]


def cue(words: list[str], table: dict[str, str]) -> str | None:
    """The kind of the longest cue the words end with (``table``: cue → kind)."""
    for n in (3, 2, 1):
        if len(words) >= n:
            kind = table.get(" ".join(words[-n:]))
            if kind is not None:
                return kind
    return None
