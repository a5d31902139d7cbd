"""Which known identifier values a text contains, however they are written.

A value is looked up by its *key*: its folded tokens joined
(``normalize.key``). A text is split into tokens the same way and every run
of up to ``width`` adjacent tokens (separated by at most a few characters of
spacing/punctuation) is joined and looked up, longest first. So
``O'Brien``, ``O’Brien``, ``O Brien`` and ``OBrien`` are one key, as are
``Anne-Marie``, ``Anne Marie`` and ``AnneMarie``, and ``123 45 6789`` finds
the SSN ``123-45-6789``. Names are indexed as a whole and by every run of
their parts (``Anne-Marie O'Brien`` → ``annemarieobrien``, ``annemarie``,
``anne``, ``marie``, ``obrien``, ...).

The scrubber looks keys up in a dict of values; the residual check looks up
keyed digests of the same keys (``activities.residual``): the windows and
keys are the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from itertools import accumulate
from typing import Any

from medpipe.activities.deid.normalize import TOKEN, fold, lower
from medpipe.contracts.pseudonymize import Placeholder

#: Longest token run tried (an e-mail, a phone or an address line fits).
MAX_TOKENS = 6
#: Longest separator between tokens of one identifier (``", "``, ``" - "``).
MAX_SEP = 3
_SPLIT = re.compile(r"([^\W_]+)")
_PARTS = re.compile(r"[\s\-/,]+")

Span = tuple[int, int, Placeholder]


def value_keys(value: str, kind: Placeholder) -> list[tuple[str, ...]]:
    """Token runs under which a value is indexed.

    Names: every run of up to four of their parts (whitespace, hyphen); other
    values: the whole value. Runs longer than ``MAX_TOKENS`` are cut there;
    keys shorter than two characters, and numbers shorter than four digits,
    are not indexed (they would match everywhere).
    """
    folded = lower(fold(value)[0])
    if kind is Placeholder.NAME:
        parts = [TOKEN.findall(p) for p in _PARTS.split(folded)]
        parts = [p for p in parts if p]
        runs = [tuple(t for p in parts[i:j] for t in p)
                for i in range(len(parts)) for j in range(i + 1, min(len(parts), i + 4) + 1)]
    else:
        runs = [tuple(TOKEN.findall(folded))]
    out = []
    for run in runs:
        run = run[:MAX_TOKENS]
        k = "".join(run)
        if len(k) < 2 or (k.isdigit() and len(k) < 4):
            continue
        out.append(run)
    return out


class KeyIndex:
    """Known identifier values by key, with their placeholders."""

    def __init__(self) -> None:
        self.keys: dict[str, Placeholder] = {}
        self.starts: set[str] = set()
        self.width = 1

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, value: str, kind: Placeholder) -> None:
        """Index one value (names also by their parts)."""
        for run in value_keys(value, kind):
            k = "".join(run)
            old = self.keys.get(k)
            if old is None or (kind is Placeholder.NAME and old is not Placeholder.NAME):
                self.keys[k] = kind
            self.starts.add(run[0])
            self.starts.add(k)  # written as one word ("AnneMarie", "OBrien")
            self.width = max(self.width, len(run))

    def add_all(self, values: Iterable[object], kind: Placeholder) -> None:
        """Index many values (None and blanks skipped)."""
        for v in values:
            if v is not None and (s := str(v).strip()):
                self.add(s, kind)

    def find(self, low: str) -> list[Span]:
        """Spans of ``low`` (folded, lower-case) holding a known value."""
        return find_runs(low, self.starts, self.width, self.keys.get)


def find_runs(low: str, starts: Collection[Any], width: int,
              lookup: Callable[[str], Placeholder | None],
              mapper: Callable[[str], object] | None = None) -> list[Span]:
    """Spans of token runs whose joined key ``lookup`` knows (longest run first).

    ``mapper`` maps a token before the ``starts`` test (the residual check
    passes its keyed digest: it holds digests, not values).
    """
    parts = _SPLIT.split(low)
    toks = parts[1::2]
    mapped: list[object] = toks if mapper is None else [mapper(t) for t in toks]
    if isinstance(starts, set | frozenset):
        if starts.isdisjoint(mapped):  # the common case, at C speed
            return []
    elif not any(t in starts for t in mapped):
        return []
    pos = list(accumulate(map(len, parts), initial=0))
    out: list[Span] = []
    n, k = len(toks), 0
    while k < n:
        if mapped[k] not in starts:
            k += 1
            continue
        top = k + 1
        while top < n and top - k < width and len(parts[2 * top]) <= MAX_SEP \
                and "\n" not in parts[2 * top]:
            top += 1
        for j in range(top, k, -1):
            ph = lookup("".join(toks[k:j]))
            if ph is not None:
                out.append((pos[2 * k + 1], pos[2 * j], ph))
                k = j
                break
        else:
            k += 1
    return out
