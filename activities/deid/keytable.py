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
from collections.abc import Iterator, Sequence

import numpy as np

DIGEST_BYTES = 16
#: A run is merged into the one before it once it is at least this fraction of its size.
_MERGE_RATIO = 0.5
_BE = np.dtype(">u8")


def digests(key: bytes, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) uint64 halves of the keyed digests of ``values`` (big-endian halves, so
    ordering by (hi, lo) is the digests' byte order)."""
    if not values:
        z = np.zeros(0, dtype=np.uint64)
        return z, z
    k = key[:64]
    blob = b"".join([hashlib.blake2b(v.encode(), key=k, digest_size=DIGEST_BYTES).digest()
                     for v in values])
    both = np.frombuffer(blob, dtype=_BE).reshape(-1, 2).astype(np.uint64)
    return both[:, 0].copy(), both[:, 1].copy()


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


def _sorted_run(hi: np.ndarray, lo: np.ndarray, code: np.ndarray) -> _Run:
    order = np.lexsort((lo, hi))
    return _Run(hi[order], lo[order], code[order])


class DigestTable:
    """Distinct 128-bit digests with a code each (e.g. a placeholder), sorted in runs."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    def lookup(self, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, code or -1) of each 64-bit ``hi``."""
        found = np.zeros(len(hi), dtype=bool)
        code = np.full(len(hi), -1, dtype=np.int64)
        for run in self._runs:
            pos = run.find(hi)
            hit = pos >= 0
            found |= hit
            code[hit] = run.code[pos[hit]]
        return found, code

    def add(self, hi: np.ndarray, lo: np.ndarray, code: np.ndarray,
            upgrade: int | None = None) -> None:
        """Add distinct digests with their codes; one already present keeps its code,
        except that it becomes ``upgrade`` when its new code is ``upgrade``."""
        if len(hi) == 0:
            return
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
            self._settle()

    def _settle(self) -> None:
        runs = self._runs
        while len(runs) > 1 and len(runs[-1]) >= _MERGE_RATIO * len(runs[-2]):
            b, a = runs.pop(), runs.pop()
            runs.append(_sorted_run(np.concatenate([a.hi, b.hi]), np.concatenate([a.lo, b.lo]),
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


__all__ = ["DIGEST_BYTES", "DigestTable", "digest_hi", "digests"]
