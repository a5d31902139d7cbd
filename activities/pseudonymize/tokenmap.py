"""The vault's identifier↔token map, compact: Arrow strings and sorted digests.

A vault of millions of patients held as two Python dicts of strings cost
~330 bytes a patient (a 10M-row cohort: over 1 GB per worker, plus its JSON
copy when saved). Here identifiers and tokens are Arrow string chunks in
issue order (~35 bytes a pair), found through sorted 64-bit keyed digests
(``deid.keytable``: 24 bytes an identifier), and every hit is
checked against the stored string, so a digest collision can never give one
patient another's token. The digests are keyed with a key derived from the
vault's secret and never leave the process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.keytable import DigestTable, digests

#: Identifiers digested at a time when a vault is loaded (bounds the Python strings).
_SLICE = 65_536
#: Arrow chunks kept before they are concatenated (lookups take across chunks).
_MAX_CHUNKS = 32

Digested = tuple[np.ndarray, np.ndarray]  # (hi, lo) keyed digests, one pair per identifier


class _Column:
    """Append-only strings in Arrow chunks, taken by position."""

    def __init__(self) -> None:
        self.chunks: list[pa.Array] = []

    def append(self, arr: pa.Array) -> None:
        if len(arr):
            self.chunks.append(arr)
            if len(self.chunks) > _MAX_CHUNKS:
                self.chunks = [pa.concat_arrays(self.chunks)]

    def array(self) -> pa.ChunkedArray:
        return pa.chunked_array(self.chunks, pa.string())

    def take(self, pos: np.ndarray) -> list[str]:
        if len(pos) == 0:
            return []
        return self.array().take(pa.array(pos, pa.int64())).to_pylist()


class _Lookup:
    """Strings to their positions: digests sorted in a table, colliding strings aside."""

    def __init__(self, key: bytes, column: _Column) -> None:
        self._key, self._column = key, column
        self._table = DigestTable()
        self._extra: dict[str, int] = {}  # a string whose 64-bit digest another one has

    def add(self, values: list[str], first: int, digested: Digested | None = None) -> None:
        """Index distinct new ``values`` at positions ``first``, ``first + 1``, ...
        (``digested``: their digests, when ``find`` made them already)."""
        hi, lo = digested if digested is not None else digests(self._key, values)
        pos = np.arange(first, first + len(values), dtype=np.int64)
        taken, _ = self._table.lookup(hi)
        _, first_of = np.unique(hi, return_index=True)
        own = np.zeros(len(values), dtype=bool)
        own[first_of] = True
        own &= ~taken
        for i in np.flatnonzero(~own).tolist():  # pragma: no cover - a 64-bit collision
            self._extra[values[i]] = first + i
        self._table.add(hi[own], lo[own], pos[own])

    def find(self, values: Sequence[str]) -> tuple[np.ndarray, Digested]:
        """Position of each value, or -1; and the values' digests (``add`` takes them)."""
        hi, lo = digests(self._key, list(values))
        found, pos = self._table.lookup(hi)
        hits = np.flatnonzero(found)
        for i, s in zip(hits.tolist(), self._column.take(pos[hits]), strict=True):
            if s != values[i]:  # pragma: no cover - a 64-bit collision
                pos[i] = self._extra.get(values[i], -1)
        return pos, (hi, lo)


class TokenMap:
    """Identifier → token and back, in issue order.

    Args:
        secret: the vault's secret (the lookup digests' key is derived from it).
    """

    def __init__(self, secret: bytes) -> None:
        self.ids, self.tokens = _Column(), _Column()
        self._by_id = _Lookup(hashlib.blake2b(secret, person=b"vault-ids").digest(), self.ids)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, ids: pa.Array, tokens: pa.Array, digested: Digested | None = None
               ) -> None:
        """Add pairs (identifiers new to the map, tokens never issued); ``digested``: the
        identifiers' digests as ``token_positions`` returned them (else made here)."""
        for at in range(0, len(ids), _SLICE):
            i, t = ids.slice(at, _SLICE), tokens.slice(at, _SLICE)
            part = None if digested is None else \
                (digested[0][at:at + _SLICE], digested[1][at:at + _SLICE])
            self._by_id.add(i.to_pylist(), self._n, part)
            self.ids.append(i)
            self.tokens.append(t)
            self._n += len(i)

    def token_positions(self, ids: Sequence[str]) -> tuple[np.ndarray, Digested]:
        """Position of each identifier, or -1; and the identifiers' lookup digests, so
        that the new ones are appended without digesting them again (a vault's mint:
        half its keyed digests)."""
        return self._by_id.find(ids)

    def tokens_at(self, pos: np.ndarray) -> list[str]:
        """The tokens at these positions."""
        return self.tokens.take(pos)

    def issued_any(self, tokens: list[str]) -> bool:
        """Whether any of ``tokens`` was issued already (one scan of the tokens)."""
        if not self.tokens.chunks:
            return False
        return bool(pc.any(pc.is_in(self.tokens.array(), pa.array(tokens, pa.string())))
                    .as_py())

    def identifier_of(self, token: str) -> str | None:
        """The identifier behind a token, or None (a scan: re-identification is rare)."""
        if not self.tokens.chunks:
            return None
        pos = pc.index(self.tokens.array(), token).as_py()
        return self.ids.take(np.array([pos]))[0] if pos >= 0 else None

    def table(self) -> pa.Table:
        """Every (identifier, token) pair, in issue order."""
        return pa.table({"id": self.ids.array(), "token": self.tokens.array()})


__all__ = ["TokenMap"]
