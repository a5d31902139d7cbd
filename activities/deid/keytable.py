"""A set of keyed 128-bit digests in sorted numpy arrays, with a small code per entry.

The identifier index (``deid.index.KeyIndex``) used to hold every key and
prefix of every identifier as Python strings in a dict and a set: ~400 bytes
per patient, growing with the dataset, and copied whole into every pool
child and every shard. Here each entry is 16 bytes of a keyed BLAKE2b digest
(the residual check's ``keyed_digest``, so the validate stage's digests come
straight out of these arrays) plus one code byte, and nothing in the clear.

Entries live in a few sorted *runs* (a log-structured merge): a batch of new
entries becomes a run, and runs of similar size are merged, so adding N
entries costs O(N log N) in total while a lookup is one ``np.searchsorted``
per run. Lookups compare the first 64 bits (``hi``); the full 128 bits are
kept for the residual digests (sorted by ``(hi, lo)``, i.e. bytewise, as
``DigestSet.to_bytes`` sorts them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import TypeVar

import numpy as np

DIGEST_BYTES = 16
#: A run is merged into the one before it once it is at least this fraction of its size.
_MERGE_RATIO = 0.5
_BE = np.dtype(">u8")

_Sized = TypeVar("_Sized", bound=Sized)


def settle(runs: list[_Sized], merge: Callable[[_Sized, _Sized], _Sized]) -> None:
    """Merge the newest of ``runs`` into the one before it while it holds at least
    ``_MERGE_RATIO`` of that one's entries, and so on down (a log-structured merge): the
    runs held stay few (~log2 of the entries) and each entry is merged ~log2 times.
    ``merge(older, newer)`` must not depend on how the entries were grouped."""
    while len(runs) > 1 and len(runs[-1]) >= _MERGE_RATIO * len(runs[-2]):
        newer, older = runs.pop(), runs.pop()
        runs.append(merge(older, newer))


def digests(key: bytes, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) uint64 halves of the keyed digests of ``values`` (big-endian halves, so
    ordering by (hi, lo) is the digests' byte order)."""
    if not values:
        z = np.zeros(0, dtype=np.uint64)
        return z, z
    both = np.frombuffer(keyed_blob(key[:64], values), dtype=_BE).reshape(-1, 2) \
        .astype(np.uint64)
    return both[:, 0].copy(), both[:, 1].copy()


def keyed_blob(key: bytes, values: Iterable[str], size: int = DIGEST_BYTES,
               person: bytes = b"") -> bytes:
    """The keyed BLAKE2b digests (``size`` bytes) of ``values``, concatenated.

    Each value's state is a copy of one keyed state: the key is hashed once, not once per
    value (``hashlib.blake2b(v, key=k)`` compresses the key block every call, ~18 % of a
    short value's digest); the digests are the same bytes.
    """
    copy = hashlib.blake2b(key=key, digest_size=size, person=person).copy
    out = []
    for v in values:
        h = copy()
        h.update(v.encode())
        out.append(h.digest())
    return b"".join(out)


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D integer array, sorted: ``np.unique(values)``, by sort.

    Why not ``np.unique``: numpy 2.4 finds the distinct values of an integer array by
    hashing, which on this machine is 6x slower than a sort at 65k distinct 64-bit values
    and 16x at 10M (10.6 s against 0.65), and no faster on sorted input. A stable sort
    (timsort) is also near free on concatenated sorted runs, the usual input here.
    """
    if values.dtype.kind not in "iu":
        raise TypeError(f"sorted_distinct takes integers, not {values.dtype}")
    ordered = np.sort(values, kind="stable")
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def digest_hi(key: bytes, value: str) -> int:
    """The 64-bit lookup half of one value's digest."""
    d = hashlib.blake2b(value.encode(), key=key[:64], digest_size=DIGEST_BYTES).digest()
    return int.from_bytes(d[:8], "big")


class _Run:
    """One sorted run: digests ``(hi, lo)`` sorted, and a code per entry."""

    __slots__ = ("code", "hi", "lo")

    def __init__(self, hi: np.ndarray, lo: np.ndarray, code: np.ndarray) -> None:
        self.hi, self.lo, self.code = hi, lo, code

    def __len__(self) -> int:
        return len(self.hi)

    def find(self, hi: np.ndarray) -> np.ndarray:
        """Position of each of ``hi`` in this run, or -1."""
        pos = np.searchsorted(self.hi, hi)
        ok = pos < len(self.hi)
        ok[ok] = self.hi[pos[ok]] == hi[ok]
        return np.where(ok, pos, -1)

    def contains(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Whether each 128-bit ``(hi, lo)`` is in this run (all 128 bits compared)."""
        left = np.searchsorted(self.hi, hi, "left")
        right = np.searchsorted(self.hi, hi, "right")
        one = right - left == 1  # the rule: 64 bits rarely repeat
        out = np.zeros(len(hi), dtype=bool)
        out[one] = self.lo[left[one]] == lo[one]
        for i in np.flatnonzero(right - left > 1).tolist():  # a shared hi: compare lo too
            out[i] = bool((self.lo[left[i]:right[i]] == lo[i]).any())
        return out


#: A query of at least this many digests is searched in ascending order (``_query_order``).
_SORT_QUERIES = 4096


def _query_order(hi: np.ndarray) -> np.ndarray | None:
    """The order that sorts a large query, or None for a small one.

    Why: ``np.searchsorted`` starts each search where the previous one ended when the keys
    ascend, so a sorted query walks a run forward instead of missing the cache at every
    step: 262k digests looked up in a run of 3.3M take 0.03 s sorted (the sort included)
    against 0.09 s in their own order (the learn merge's vault mint at 10M rows searched
    for 4 s in all).
    """
    return np.argsort(hi, kind="stable") if len(hi) >= _SORT_QUERIES else None


def _unsorted(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Answers to a query sorted by ``order``, put back in the query's own order."""
    out = np.empty_like(values)
    out[order] = values
    return out


def _sorted_run(hi: np.ndarray, lo: np.ndarray, code: np.ndarray) -> _Run:
    order = _order(hi, lo)
    return _Run(hi[order], lo[order], code[order])


def _order(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """``np.lexsort((lo, hi))``, the order by (hi, lo), at a third of its cost or less.

    Why: a run's entries are sorted by ``hi`` alone first (a stable sort; numpy's merges
    the runs it finds, so two sorted runs concatenated cost one merge: 0.001 s against
    lexsort's 0.024 for 200k digests, 0.012 against 0.027 unsorted); the 64-bit halves
    of distinct digests almost never repeat, and where two do, the order is lexsort's own.
    """
    order = np.argsort(hi, kind="stable")
    ranked = hi[order]
    if len(ranked) > 1 and (ranked[1:] == ranked[:-1]).any():  # a shared hi: lo decides
        return np.lexsort((lo, hi))
    return order


class DigestTable:
    """Distinct 128-bit digests with a code each (e.g. a placeholder), sorted in runs."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    def lookup(self, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, code or -1) of each 64-bit ``hi``."""
        order = _query_order(hi)
        if order is not None:
            found, code = self._lookup(hi[order])
            return _unsorted(found, order), _unsorted(code, order)
        return self._lookup(hi)

    def _lookup(self, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = np.zeros(len(hi), dtype=bool)
        code = np.full(len(hi), -1, dtype=np.int64)
        for run in self._runs:
            pos = run.find(hi)
            hit = pos >= 0
            found |= hit
            code[hit] = run.code[pos[hit]]
        return found, code

    def contains(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Whether each digest ``(hi, lo)`` is in the table, comparing all 128 bits
        (``lookup`` compares the first 64)."""
        order = _query_order(hi)
        if order is not None:
            return _unsorted(self._contains(hi[order], lo[order]), order)
        return self._contains(hi, lo)

    def _contains(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        found = np.zeros(len(hi), dtype=bool)
        for run in self._runs:
            found |= run.contains(hi, lo)
        return found

    def add(self, hi: np.ndarray, lo: np.ndarray, code: np.ndarray,
            upgrade: int | None = None) -> None:
        """Add distinct digests with their codes; one already present keeps its code,
        except that it becomes ``upgrade`` when its new code is ``upgrade``."""
        if len(hi) == 0:
            return
        order = _query_order(hi)
        if order is not None:  # searched in ascending order; the new run is sorted anyway
            hi, lo, code = hi[order], lo[order], np.asarray(code)[order]
        fresh = np.ones(len(hi), dtype=bool)
        for run in self._runs:
            pos = run.find(hi)
            hit = pos >= 0
            fresh &= ~hit
            if upgrade is not None:
                up = hit & (code == upgrade)
                if up.any():
                    run.code[pos[up]] = upgrade
        if fresh.any():
            self._runs.append(_sorted_run(hi[fresh], lo[fresh], code[fresh]))
            settle(self._runs, lambda a, b: _sorted_run(
                np.concatenate([a.hi, b.hi]), np.concatenate([a.lo, b.lo]),
                np.concatenate([a.code, b.code])))

    def compact(self) -> None:
        """Merge every run into one (one search per lookup; what is stored or shared)."""
        if len(self._runs) > 1:
            runs = self._runs
            self._runs = [_sorted_run(np.concatenate([r.hi for r in runs]),
                                      np.concatenate([r.lo for r in runs]),
                                      np.concatenate([r.code for r in runs]))]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hi, lo, code), sorted by (hi, lo), compacted."""
        self.compact()
        if not self._runs:
            z = np.zeros(0, dtype=np.uint64)
            return z, z, np.zeros(0, dtype=np.uint8)
        r = self._runs[0]
        return r.hi, r.lo, r.code

    def digest_bytes(self) -> bytes:
        """The digests, 16 bytes each, in byte order (``DigestSet.to_bytes``'s layout)."""
        return b"".join(self.digest_parts())

    def digest_parts(self, entries: int = 1 << 20) -> Iterator[bytes]:
        """``digest_bytes`` in pieces of ``entries`` digests (bounded extra memory)."""
        hi, lo, _ = self.arrays()
        for at in range(0, len(hi), entries):
            out = np.empty((min(entries, len(hi) - at), 2), dtype=_BE)
            out[:, 0], out[:, 1] = hi[at:at + entries], lo[at:at + entries]
            yield out.tobytes()

    @classmethod
    def from_arrays(cls, hi: np.ndarray, lo: np.ndarray, code: np.ndarray) -> DigestTable:
        """A table of already sorted, distinct arrays (no copy of the digests)."""
        t = cls()
        if len(hi):
            t._runs = [_Run(hi, lo, np.array(code))]  # codes stay writable
        return t

    @classmethod
    def from_digest_bytes(cls, blob: bytes | memoryview) -> DigestTable:
        """The table of ``digest_bytes``' layout (16 bytes a digest; codes 0).

        Holds 16 bytes a digest (plus a code byte), against ~90 for the same
        digests as Python ``bytes`` in a set. Digests out of order are sorted
        and repeated ones kept once, so any such blob gives the same table.

        Raises:
            ValueError: the blob is not a whole number of digests.
        """
        if len(blob) % DIGEST_BYTES:
            raise ValueError(f"digest table of {len(blob)} bytes: not a multiple of "
                             f"{DIGEST_BYTES}")
        both = np.frombuffer(blob, dtype=_BE).reshape(-1, 2)
        hi, lo = both[:, 0].astype(np.uint64), both[:, 1].astype(np.uint64)
        if len(hi) > 1:
            ordered = (hi[1:] > hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] > lo[:-1]))
            if not ordered.all():  # not as digest_bytes writes them: sort, keep each once
                order = _order(hi, lo)
                hi, lo = hi[order], lo[order]
                keep = np.ones(len(hi), dtype=bool)
                keep[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
                hi, lo = hi[keep], lo[keep]
        return cls.from_arrays(hi, lo, np.zeros(len(hi), dtype=np.uint8))

    @property
    def nbytes(self) -> int:
        """Bytes the table's arrays hold."""
        return sum(r.hi.nbytes + r.lo.nbytes + r.code.nbytes for r in self._runs)


class ValueSet:
    """Distinct 64-bit values (e.g. the value hashes of a ``unique`` column) in sorted runs.

    8 bytes a distinct value, against ~70 for a Python ``set`` of ``int``; runs merge as
    ``DigestTable``'s do.
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    def add(self, values: np.ndarray) -> int:
        """Add ``values``; how many of them were already there (in the set or earlier
        in ``values``): a duplicate count."""
        uniq = sorted_distinct(np.asarray(values, dtype=np.uint64))
        fresh = np.ones(len(uniq), dtype=bool)
        for run in self._runs:
            pos = np.searchsorted(run, uniq)
            ok = pos < len(run)
            ok[ok] = run[pos[ok]] == uniq[ok]
            fresh &= ~ok
        if fresh.any():
            self._runs.append(uniq[fresh])
            settle(self._runs, lambda a, b: np.sort(np.concatenate([a, b])))
        return len(values) - int(fresh.sum())

    def values(self) -> np.ndarray:
        """The distinct values, sorted (one run from now on)."""
        if len(self._runs) > 1:
            self._runs = [np.sort(np.concatenate(self._runs))]
        return self._runs[0] if self._runs else np.zeros(0, dtype=np.uint64)


__all__ = ["DIGEST_BYTES", "DigestTable", "ValueSet", "digest_hi", "digests", "settle",
           "sorted_distinct"]
