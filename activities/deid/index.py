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

The scrubber and the residual check both look up keyed digests of the keys
(``activities.residual``), never the values: the windows and keys are the
same code, and the index of a 10-million-row dataset is a few hundred MB of
numpy arrays, not gigabytes of strings.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Container, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.keytable import DigestTable, digest_hi, digests
from medpipe.activities.deid.normalize import TOKEN, fold, lower
from medpipe.contracts.pseudonymize import Placeholder

#: Longest token run tried (an e-mail, a phone or an address line fits).
MAX_TOKENS = 6
#: Longest separator between tokens of one identifier (``", "``, ``" - "``).
MAX_SEP = 3
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")  # TOKEN on lower-case ASCII, several times faster
#: A lower-case word a dot after it abbreviates rather than ends a sentence: one letter (an
#: initial, "J. Hamilton") or letters with no vowel ("Dr.", "St.", "Mt.", "Mrs.", "Blvd.").
#: English words hold a vowel; abbreviations made by contraction drop them.
ABBREVIATION = re.compile(r"[a-z]|[b-df-hj-np-tv-z]+")
#: A stop that may end a sentence, and what must follow a dot for it to end one.
_STOPS = frozenset(".!?")
#: Spacing on a line (a line break ends every run anyway).
LINE_SPACE = " \t\r\f\v"
_SPACE_AFTER_DOT = re.compile(rf"\.[{LINE_SPACE}]")
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


#: Values of one add_all below which the per-value path is as fast (Arrow's calls cost).
_COLUMNAR_MIN = 64
_NOT_TOKEN = r"[^a-z0-9]+"
#: What ``str.strip`` strips from an ASCII string.
_ASCII_SPACE = " \t\n\v\f\r\x1c\x1d\x1e\x1f"


def plain_runs(values: pa.Array) -> tuple[list[str], list[str], int]:
    """(keys, prefixes, width) that ``value_keys`` gives ASCII values other than names,
    computed over the whole array in Arrow.

    On ASCII text folding changes nothing, lower-casing keeps the length and a
    token is ``[a-z0-9]+``: a value's run is its tokens (the first ``MAX_TOKENS``),
    its key their join, its prefixes the joins of its first 1, 2, … tokens; keys
    shorter than two characters and numbers shorter than four digits are left
    out, prefixes and all, as ``value_keys`` leaves them out.

    Slices of ``_SLICE`` values at a time, on a scratch pool that keeps its pages
    (``_scratch_pool``): a worker's own pool purges freed pages at once
    (``activities.memory``), which made these short-lived arrays cost a third more.
    """
    keys: list[str] = []
    prefixes: list[str] = []
    width = 0
    pool = _scratch_pool()
    for at in range(0, len(values), _SLICE):
        w = _plain_slice(values.slice(at, _SLICE), keys, prefixes, pool)
        width = max(width, w)
    pool.release_unused()
    return keys, prefixes, width


def _plain_slice(values: pa.Array, keys: list[str], prefixes: list[str],
                 pool: pa.MemoryPool) -> int:
    """``plain_runs`` of one slice: keys and prefixes appended; returns the width."""
    mp = {"memory_pool": pool}
    low = pc.ascii_trim(pc.replace_substring_regex(pc.ascii_lower(values, **mp), _NOT_TOKEN,
                                                   " ", **mp), " ", **mp)
    toks = pc.split_pattern(low, " ", **mp)
    count = pc.min_element_wise(pc.list_value_length(toks, **mp), MAX_TOKENS, **mp)
    most = int(pc.max(count).as_py() or 0)
    if most == 0:
        return 0
    joined = [pc.binary_join(pc.list_slice(toks, 0, i, **mp), "", **mp)
              for i in range(1, most + 1)]
    key = joined[-1]  # the first min(tokens, MAX_TOKENS) tokens joined
    size = pc.binary_length(key, **mp)
    kept = pc.and_(pc.greater_equal(size, 2, **mp),
                   pc.invert(pc.and_(pc.ascii_is_decimal(key, **mp), pc.less(size, 4, **mp),
                                     **mp), **mp), **mp)
    for i, pre in enumerate(joined, start=1):
        prefixes += pc.filter(pre, pc.and_(kept, pc.greater_equal(count, i, **mp), **mp),
                              **mp).to_pylist()
    keys += pc.filter(key, kept, **mp).to_pylist()
    return int(pc.max(pc.filter(count, kept, **mp)).as_py() or 0)


#: Values per Arrow slice of ``plain_runs`` (its temporaries: a few MB).
_SLICE = 1 << 15


def _scratch_pool() -> pa.MemoryPool:
    """A pool that keeps freed pages for reuse (mimalloc when this pyarrow has it), emptied
    after each ``plain_runs``."""
    try:
        return pa.mimalloc_memory_pool()
    except NotImplementedError:
        return pa.system_memory_pool()


class KeyIndex:
    """Known identifier values by key, with their placeholders, as keyed digests.

    Every key (a value's joined token run) and every token-boundary prefix of
    one (``o``, ``obrien`` for ``O'Brien``; ``anne``, ``annemarie``, ...) is
    held as a 128-bit BLAKE2b digest under ``key`` (``deid.keytable``), never
    as a string: 17 bytes a key and 16 a prefix instead of ~400 bytes a
    patient, and nothing in the clear to share with pool children or shards.
    A window starts only at a token that is a prefix, and grows only while it
    is one, exactly as before; a lookup compares 64 bits (a false match is a
    chance in 2^64 / entries per lookup, and scrubs a word too many).

    A key added under several placeholders keeps the first one, unless one of
    them is ``NAME`` (then ``NAME``). Added values wait in a small buffer and
    are digested in batches; ``freeze`` marks the index complete (the learn
    pass saw every record), after which adds are skipped.

    Args:
        key: the digest key (the release's identifier-digest key, so the residual
            check's digests are these; default: a fresh random key).
    """

    #: Values buffered before they are digested into the tables.
    BUFFER = 65_536

    def __init__(self, key: bytes | None = None) -> None:
        self.key = bytes(key) if key is not None else secrets.token_bytes(32)
        self.width = 1
        self.frozen = False
        self._keys = DigestTable()
        self._prefixes = DigestTable()
        self._pending: dict[str, int] = {}  # key -> placeholder code (first, NAME wins)
        self._pending_prefixes: set[str] = set()
        self._cache: dict[str, int] = {}

    def __len__(self) -> int:
        self._flush()
        return len(self._keys)

    def __getstate__(self) -> dict[str, object]:
        self._flush()
        self._keys.compact()
        self._prefixes.compact()
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._cache = {}

    def add(self, value: str, kind: Placeholder) -> None:
        """Index one value (names also by their parts)."""
        if self.frozen:
            return
        code = _CODE[kind]
        pending, prefixes = self._pending, self._pending_prefixes
        for run in value_keys(value, kind):
            k = "".join(run)
            old = pending.get(k)
            if old is None or (code == _NAME and old != _NAME):
                pending[k] = code
            acc = ""
            for t in run:
                acc += t
                prefixes.add(acc)
            prefixes.add(k)  # also written as one word ("AnneMarie", "OBrien")
            self.width = max(self.width, len(run))
        if len(prefixes) >= self.BUFFER:
            self._flush()

    def add_all(self, values: Iterable[object] | pa.Array | pa.ChunkedArray,
                kind: Placeholder) -> None:
        """Index many values (None and blanks skipped; all skipped once frozen).

        ASCII values other than names take ``plain_runs`` (Arrow compute over them all,
        ~1 µs a value instead of ``add``'s 11–13 µs for an SSN, a phone or an e-mail);
        names and non-ASCII values take ``add``. ``values`` may be an Arrow string
        column (a learn pass's): it is then stripped and made distinct in Arrow too. The
        index is the same either way (``tests/activities/deid/test_index_fast.py``).
        """
        if self.frozen:
            return
        if isinstance(values, pa.ChunkedArray | pa.Array) and pa.types.is_string(values.type):
            arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
            ascii_ = pc.fill_null(pc.string_is_ascii(arr), False)
            others: list[object] = arr.filter(pc.invert(ascii_)).to_pylist()
            plain = pc.unique(pc.ascii_trim(arr.filter(ascii_), _ASCII_SPACE))
            plain = plain.filter(pc.greater(pc.binary_length(plain), 0))
        else:
            others, plain = list(values if not isinstance(values, pa.Array | pa.ChunkedArray)
                                 else values.to_pylist()), None
        distinct = list(dict.fromkeys(
            s for v in others if v is not None and (s := str(v).strip())))
        if plain is not None and kind is Placeholder.NAME:  # names: value by value
            distinct = list(dict.fromkeys(distinct + plain.to_pylist()))
            plain = None
        if plain is None and kind is not Placeholder.NAME and len(distinct) >= _COLUMNAR_MIN:
            arr = pa.array(distinct, pa.string())
            ascii_ = pc.string_is_ascii(arr)
            plain, distinct = arr.filter(ascii_), arr.filter(pc.invert(ascii_)).to_pylist()
        for s in distinct:
            self.add(s, kind)
        if plain is not None and len(plain):
            self._add_plain(plain, kind)

    def _add_plain(self, values: pa.Array, kind: Placeholder) -> None:
        """Index distinct, stripped, non-empty ASCII values that are not names."""
        keys, prefixes, width = plain_runs(values)
        code, pending = _CODE[kind], self._pending
        for k in keys:
            if k not in pending:  # the first placeholder stays (NAME never comes here)
                pending[k] = code
        self._pending_prefixes.update(prefixes)
        self.width = max(self.width, width)
        if len(self._pending_prefixes) >= self.BUFFER:
            self._flush()

    def freeze(self) -> None:
        """The index is complete: later adds (of values it already holds) are skipped."""
        self._flush()
        self._keys.compact()
        self._prefixes.compact()
        self.frozen = True

    def _flush(self) -> None:
        """Digest the buffered keys and prefixes into the tables."""
        if not self._pending_prefixes and not self._pending:
            return
        pending = self._pending
        names = [k for k, c in pending.items() if c == _NAME]
        others = [k for k, c in pending.items() if c != _NAME]
        # every key is also its own prefix (``add`` and ``add_all`` put it in both): one
        # digest each, the keys' first, then the other prefixes' (~0.7 µs a digest)
        rest = list(self._pending_prefixes.difference(pending))
        hi, lo = digests(self.key, names + others + rest)
        # NAME first: a key pending as NAME upgrades one already indexed under another kind
        at = 0
        for group, upgrade in ((names, _NAME), (others, None)):
            code = np.array([pending[k] for k in group], dtype=np.uint8)
            self._keys.add(hi[at:at + len(group)], lo[at:at + len(group)], code,
                           upgrade=upgrade)
            at += len(group)
        self._prefixes.add(hi, lo, np.zeros(len(hi), dtype=np.uint8))
        self._pending.clear()
        self._pending_prefixes.clear()

    def _hi(self, run: str) -> int:
        h = self._cache.get(run)
        if h is None:
            if len(self._cache) >= 1 << 17:  # a speed cache only, bounded
                self._cache.clear()
            h = self._cache[run] = digest_hi(self.key, run)
        return h

    def lookup_runs(self, runs: list[str]) -> tuple[list[bool], list[Placeholder | None]]:
        """(is a key prefix, placeholder or None) of each joined token run (the columnar
        scrubber's lookup, ``deid.columnar.find_column``)."""
        self._flush()
        hi = np.fromiter((self._hi(r) for r in runs), dtype=np.uint64, count=len(runs))
        prefix, _ = self._prefixes.lookup(hi)
        _, code = self._keys.lookup(hi)
        return prefix.tolist(), [_KINDS[c] if c >= 0 else None for c in code.tolist()]

    def _kind(self, run: str) -> Placeholder | None:
        _, code = self._keys.lookup(np.array([self._hi(run)], dtype=np.uint64))
        c = int(code[0])
        return _KINDS[c] if c >= 0 else None

    def find(self, low: str) -> list[Span]:
        """Spans of ``low`` (folded, lower-case) holding a known value."""
        self._flush()
        return find_runs(low, _Prefixes(self._prefixes), self.width, self._kind, self._hi)

    def digest_bytes(self) -> tuple[bytes, bytes]:
        """The digests of the keys and of the prefixes, each sorted, 16 bytes apiece (the
        residual check's ``DigestSet`` of this index, under ``key``)."""
        self._flush()
        return self._keys.digest_bytes(), self._prefixes.digest_bytes()

    def tables(self) -> tuple[DigestTable, DigestTable]:
        """The key table (code: placeholder) and the prefix table, compacted."""
        self._flush()
        self._keys.compact()
        self._prefixes.compact()
        return self._keys, self._prefixes

    @classmethod
    def from_tables(cls, key: bytes, width: int, keys: DigestTable,
                    prefixes: DigestTable) -> KeyIndex:
        """A complete (frozen) index from stored tables."""
        index = cls(key)
        index.width = width
        index._keys, index._prefixes = keys, prefixes
        index.frozen = True
        return index


_KINDS: tuple[Placeholder, ...] = tuple(Placeholder)
_CODE = {k: i for i, k in enumerate(_KINDS)}
_NAME = _CODE[Placeholder.NAME]


class _Prefixes:
    """``x in prefixes`` on 64-bit digests (what ``find_runs`` asks of a prefix set)."""

    def __init__(self, table: DigestTable) -> None:
        self._table = table

    def __contains__(self, hi: object) -> bool:
        found, _ = self._table.lookup(np.array([hi], dtype=np.uint64))
        return bool(found[0])


def sentence_end(word: str, gap: str, following: str) -> bool:
    """Whether ``gap``, the characters between the tokens ``word`` and ``following`` (lower
    case), ends a sentence: a run of known tokens grows over a gap that does not.

    "!" and "?" end one; a dot does when a space follows it ("john.smith" is one address),
    the word before is no abbreviation (``ABBREVIATION``) and the next token is a word, not
    a number ("Apt. 4", "No. 5", "Mar. 3": a number after a dot goes on what the dot cut).
    So "daughter Virginia. Hamilton score" is two mentions, each read alone, while "St.
    John", "Dr. Hamilton", "J. Hamilton" and "Mt. Sinai" grow as one run. A word with a
    vowel abbreviated before a word ("Prof. Hamilton", "Ave. Apt") reads as a sentence's
    end: the run stops there and each side is looked up alone.
    """
    if "!" in gap or "?" in gap:
        return True
    return (_SPACE_AFTER_DOT.search(gap) is not None and not following[:1].isdigit()
            and ABBREVIATION.fullmatch(word) is None)


def tokens(low: str) -> list[str]:
    """The tokens of a folded, lower-case text, as ``find_runs`` splits it."""
    return (_ASCII_TOKEN if low.isascii() else TOKEN).findall(low)


def find_runs(low: str, prefixes: Container[Any], width: int,
              lookup: Callable[[str], Placeholder | None],
              mapper: Callable[[str], object] | None = None) -> list[Span]:
    """Spans of token runs whose joined key ``lookup`` knows (longest run first).

    ``mapper`` maps a token run before the ``prefixes`` test (the residual
    check passes its keyed digest: it holds digests, not values).
    """
    toks = tokens(low)
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
            gap = low[end:nxt]
            if nxt - end > MAX_SEP or "\n" in gap or (
                    not _STOPS.isdisjoint(gap) and sentence_end(toks[j - 1], gap, toks[j])):
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
