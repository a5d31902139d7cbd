"""The vault's identifier↔token map, compact: Arrow strings and sorted lookup keys.

A vault of millions of patients held as two Python dicts of strings cost
~330 bytes a patient (a 10M-row cohort: over 1 GB per worker, plus its JSON
copy when saved). Here identifiers and tokens are Arrow string chunks in
issue order (~35 bytes a pair), found through sorted 64-bit lookup keys
(``deid.keytable``'s table: 24 bytes an identifier), and every hit is
checked against the stored string, so a key collision can never give one
patient another's token. The keys are Python's own keyed string hash
(``_lookup_keys``) and never leave the process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.keytable import DigestTable

#: Identifiers keyed at a time when a vault is loaded (bounds the Python strings).
_SLICE = 65_536
#: Arrow chunks kept before they are concatenated (lookups take across chunks).
_MAX_CHUNKS = 32

Digested = tuple[np.ndarray, np.ndarray]  # (hi, lo) lookup keys, one pair per identifier


def _lookup_keys(values: Sequence[str]) -> Digested:
    """The 64-bit lookup keys of ``values`` (``hi``; ``lo`` is zero: a lookup compares
    ``hi`` only): Python's ``hash`` of each string, SipHash under the interpreter's own
    random key (PEP 456).

    Why not a keyed BLAKE2b digest, as the identifier index uses: these keys never leave
    the process and every hit is checked against the stored string, so they need only
    spread well and resist collisions crafted without the key, which a keyed SipHash
    does. A BLAKE2b digest cost ~1.2 µs of Python a value, ``hash`` ~0.06: loading a
    vault of 3.3M patients spent ~4 s digesting, in every pseudonymize shard before its
    pool got a chunk, and the learn merge as much again finding its identifiers. (Run
    with ``PYTHONHASHSEED=0`` the hash is not keyed: a crafted collision then costs a
    dict entry and a lookup's speed, never a wrong token.)
    """
    hi = np.fromiter(map(hash, values), dtype=np.int64, count=len(values)).view(np.uint64)
    return hi, np.zeros(len(hi), dtype=np.uint64)


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
    """Strings to their positions: lookup keys sorted in a table, colliding strings aside."""

    def __init__(self, column: _Column) -> None:
        self._column = column
        self._table = DigestTable()
        self._extra: dict[str, int] = {}  # a string whose 64-bit key another one has

    def add(self, values: list[str], first: int, digested: Digested | None = None) -> None:
        """Index distinct new ``values`` at positions ``first``, ``first + 1``, ...
        (``digested``: their lookup keys, when ``find`` made them already)."""
        hi, lo = digested if digested is not None else _lookup_keys(values)
        pos = np.arange(first, first + len(values), dtype=np.int64)
        taken, _ = self._table.lookup(hi)
        _, first_of = np.unique(hi, return_index=True)
        own = np.zeros(len(values), dtype=bool)
        own[first_of] = True
        own &= ~taken
        for i in np.flatnonzero(~own).tolist():  # a 64-bit key collision
            self._extra[values[i]] = first + i
        self._table.add(hi[own], lo[own], pos[own])

    def index_all(self, values: pa.Array) -> None:
        """Index every one of ``values`` (distinct) at its position, into an empty lookup:
        one sort of all their keys, not ``add`` slice by slice (which searches and merges
        the table built so far each time: loading a vault of 3.3M patients, 2.2 s).
        Where keys repeat, the earliest value owns the key and the later ones are kept
        aside, as ``add`` keeps them."""
        if len(self._table) or self._extra:
            raise ValueError("index_all builds an empty lookup")
        hi = np.concatenate([np.zeros(0, dtype=np.uint64)] + [
            _lookup_keys(values.slice(at, _SLICE).to_pylist())[0]
            for at in range(0, len(values), _SLICE)])
        order = np.argsort(hi, kind="stable")  # stable: a repeated key's earliest first
        ranked = hi[order]
        owner = np.ones(len(ranked), dtype=bool)
        owner[1:] = ranked[1:] != ranked[:-1]
        for i in order[~owner].tolist():  # a 64-bit key collision
            self._extra[values[i].as_py()] = i
        self._table = DigestTable.from_arrays(ranked[owner], np.zeros(int(owner.sum()),
                                                                      dtype=np.uint64),
                                              order[owner])

    def find(self, values: Sequence[str]) -> tuple[np.ndarray, Digested]:
        """Position of each value, or -1; and the values' lookup keys (``add`` takes them)."""
        hi, lo = _lookup_keys(values)
        found, pos = self._table.lookup(hi)
        hits = np.flatnonzero(found)
        for i, s in zip(hits.tolist(), self._column.take(pos[hits]), strict=True):
            if s != values[i]:  # a 64-bit key collision
                pos[i] = self._extra.get(values[i], -1)
        return pos, (hi, lo)


class TokenMap:
    """Identifier → token and back, in issue order."""

    def __init__(self) -> None:
        self.ids, self.tokens = _Column(), _Column()
        self._by_id = _Lookup(self.ids)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @classmethod
    def loaded(cls, ids: pa.Array, tokens: pa.Array) -> TokenMap:
        """The map of stored pairs (distinct identifiers, in issue order, as ``table``
        gives them), its lookup built in one sort (``_Lookup.index_all``)."""
        out = cls()
        out._by_id.index_all(ids)
        out.ids.append(ids)
        out.tokens.append(tokens)
        out._n = len(ids)
        return out

    def __reduce__(self) -> tuple[object, ...]:
        """Refused: the lookup keys are this process's string hashes, wrong in any other
        (a vault travels as ``Vault.to_bytes``)."""
        raise TypeError("a TokenMap is not sent to another process: its lookup keys are "
                        "this process's string hashes (send the vault's bytes)")

    def append(self, ids: pa.Array, tokens: pa.Array, digested: Digested | None = None
               ) -> None:
        """Add pairs (identifiers new to the map, tokens never issued); ``digested``: the
        identifiers' lookup keys as ``token_positions`` returned them (else made here)."""
        for at in range(0, len(ids), _SLICE):
            i, t = ids.slice(at, _SLICE), tokens.slice(at, _SLICE)
            part = None if digested is None else \
                (digested[0][at:at + _SLICE], digested[1][at:at + _SLICE])
            self._by_id.add(i.to_pylist(), self._n, part)
            self.ids.append(i)
            self.tokens.append(t)
            self._n += len(i)

    def token_positions(self, ids: Sequence[str]) -> tuple[np.ndarray, Digested]:
        """Position of each identifier, or -1; and the identifiers' lookup keys, so that
        the new ones are appended without hashing them again."""
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
