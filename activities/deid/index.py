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
from typing import Any

from medpipe.activities.deid.normalize import TOKEN, fold, lower
from medpipe.contracts.pseudonymize import Placeholder

#: Longest token run tried (an e-mail, a phone or an address line fits).
MAX_TOKENS = 6
#: Longest separator between tokens of one identifier (``", "``, ``" - "``).
MAX_SEP = 3
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")  # TOKEN on lower-case ASCII, several times faster
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
    words = folded.split()
    if folded.isascii() and all(w.isalnum() for w in words):  # fast path: plain words
        runs = [tuple(words[i:j]) for i in range(len(words))
                for j in range(i + 1, min(len(words), i + 4) + 1)] \
            if kind is Placeholder.NAME else [tuple(words)]
    elif kind is Placeholder.NAME:
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
    """Known identifier values by key, with their placeholders.

    ``prefixes`` holds every token-boundary prefix of every indexed run
    (``o``, ``obrien`` for ``O'Brien``; ``anne``, ``annemarie``, ...): a
    window starts only at a token that is one, and grows only while it is
    one, so a text costs one set test per token plus a few lookups.
    """

    def __init__(self) -> None:
        self.keys: dict[str, Placeholder] = {}
        self.prefixes: set[str] = set()
        self.width = 1
        self._seen: set[tuple[str, Placeholder]] = set()

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, value: str, kind: Placeholder) -> None:
        """Index one value (names also by their parts)."""
        for run in value_keys(value, kind):
            k = "".join(run)
            old = self.keys.get(k)
            if old is None or (kind is Placeholder.NAME and old is not Placeholder.NAME):
                self.keys[k] = kind
            acc = ""
            for t in run:
                acc += t
                self.prefixes.add(acc)
            self.prefixes.add(k)  # also written as one word ("AnneMarie", "OBrien")
            self.width = max(self.width, len(run))

    def add_all(self, values: Iterable[object], kind: Placeholder) -> None:
        """Index many values (None, blanks and values already indexed skipped)."""
        seen = self._seen
        for v in values:
            if v is not None and (s := str(v).strip()) and (s, kind) not in seen:
                seen.add((s, kind))
                self.add(s, kind)

    def find(self, low: str) -> list[Span]:
        """Spans of ``low`` (folded, lower-case) holding a known value."""
        return find_runs(low, self.prefixes, self.width, self.keys.get)


def find_runs(low: str, prefixes: Collection[Any], width: int,
              lookup: Callable[[str], Placeholder | None],
              mapper: Callable[[str], object] | None = None) -> list[Span]:
    """Spans of token runs whose joined key ``lookup`` knows (longest run first).

    ``mapper`` maps a token run before the ``prefixes`` test (the residual
    check passes its keyed digest: it holds digests, not values).
    """
    toks = (_ASCII_TOKEN if low.isascii() else TOKEN).findall(low)
    n = len(toks)
    mapped: list[Any] = toks if mapper is None else [mapper(t) for t in toks]
    if isinstance(prefixes, set | frozenset):
        if prefixes.isdisjoint(mapped):  # the common case, at C speed
            return []
    hits = [i for i, t in enumerate(mapped) if t in prefixes]
    if not hits:
        return []
    rx = _ASCII_TOKEN if low.isascii() else TOKEN
    spans = [m.span() for m in rx.finditer(low)]  # only texts with a candidate get here
    out: list[Span] = []
    done = 0
    for k in hits:
        if k < done:
            continue
        acc = toks[k]
        ph = lookup(acc)
        best = (k + 1, ph) if ph is not None else None
        j = k + 1
        while j < n and j - k < width:
            end, nxt = spans[j - 1][1], spans[j][0]
            if nxt - end > MAX_SEP or "\n" in low[end:nxt]:
                break
            acc += toks[j]
            j += 1
            if (acc if mapper is None else mapper(acc)) not in prefixes:
                break
            ph = lookup(acc)
            if ph is not None:
                best = (j, ph)
        if best is not None:
            out.append((spans[k][0], spans[best[0] - 1][1], best[1]))
            done = best[0]
    return out
