"""Residual-identifier detection without identifiers in the clear.

The pseudonymize stage indexes every identifier value it replaced by key
(``activities.deid.index``) and hands over keyed digests (keyed BLAKE2b
under a throwaway key) of those keys and of their token prefixes. Here an
output text is folded and split exactly as the scrubber does it, each token
run's key is digested the same way and looked up: an original identifier
that survived anywhere, however it is written, is found, and no identifier is
ever stored or compared in clear. Free text is also checked against the
scrubber's own patterns and name cues (``activities.deid.detect.find``).
Results are counts only.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa

from medpipe.activities.deid import detect
from medpipe.activities.deid.columnar import Hits, find_column
from medpipe.activities.deid.index import KeyIndex, Span, find_runs, tokens
from medpipe.activities.deid.keytable import DigestTable, digests
from medpipe.activities.deid.patterns import PATTERNS
from medpipe.contracts.pseudonymize import Placeholder

#: Patterns great-expectations checks on every text column (Python ``re``).
RESIDUAL_PATTERNS: dict[str, str] = {label: "(?i)" + p for label, p, _ in PATTERNS
                                     if label in ("ssn", "phone", "email")}
DIGEST_BYTES = 16
_MAGIC = b"MPD2"
#: With the names of the columns scrubbed in safe-list mode after the digests.
_MAGIC_SAFE = b"MPD3"


def keyed_digest(key: bytes, value: str) -> bytes:
    """Keyed BLAKE2b (a PRF; 128-bit) of an index key (already folded)."""
    return hashlib.blake2b(value.encode(), key=key[:64], digest_size=DIGEST_BYTES).digest()


#: Token runs whose lookup is remembered (a speed cache only: ~120 bytes a run, bounded).
CACHE_RUNS = 1 << 17
_PREFIX, _KEY = 1, 2  # a run's flags: a key prefix, a key


class DigestSet:
    """Keyed digests of original identifier keys, and the key to compute more.

    The key digests and the prefix digests are two ``deid.keytable.DigestTable``
    (sorted numpy arrays, 16 bytes a digest, membership by ``searchsorted`` on all
    128 bits), not sets of Python ``bytes`` (~90 bytes a digest, and as much again
    in every pool child): at a few digests per patient this was the validate
    stage's memory growing with the dataset.

    ``safe_list`` names the columns the policy scrubbed in safe-list mode: the
    residual check also counts their unsafe words (``deid.safelist``). It
    travels with the digests from the pseudonymize stage to the validate stage.
    """

    def __init__(self, key: bytes, keys: DigestTable | Iterable[bytes] = (),
                 prefixes: DigestTable | Iterable[bytes] = (), width: int = 1,
                 safe_list: Iterable[str] = ()) -> None:
        self.safe_list = frozenset(safe_list)
        self._key = key
        self._keys = _table(keys)
        self._prefixes = _table(prefixes)
        self._width = width
        self._cache: dict[str, int] = {}  # token run -> _PREFIX | _KEY flags

    def __len__(self) -> int:
        return len(self._keys)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}  # pool children

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._cache = {}

    @property
    def key(self) -> bytes:
        """The digest key (kept in memory only; never serialized with the digests)."""
        return self._key

    @property
    def nbytes(self) -> int:
        """Bytes the digest arrays hold."""
        return self._keys.nbytes + self._prefixes.nbytes

    @classmethod
    def from_index(cls, key: bytes, index: KeyIndex) -> DigestSet:
        """The digests of an index built under ``key`` (its digests are these)."""
        if index.key != key:
            raise ValueError("the index was digested under another key: build it with "
                             "KeyIndex(key)")
        keys, prefixes = index.tables()
        return cls(key, _membership(keys), _membership(prefixes), index.width)

    @classmethod
    def from_values(cls, key: bytes, values: Iterable[str],
                    kind: Placeholder = Placeholder.ID) -> DigestSet:
        """Digest original identifier values (tests, small callers)."""
        index = KeyIndex(key)
        index.add_all(values, kind)
        return cls.from_index(key, index)

    def to_bytes(self) -> bytes:
        """Serialized digests (sorted, fixed width); the key is never serialized."""
        body = self._keys.digest_bytes() + self._prefixes.digest_bytes()
        if self.safe_list:
            return (_MAGIC_SAFE + struct.pack(">BII", self._width, len(self._keys),
                                              len(self._prefixes))
                    + body + json.dumps(sorted(self.safe_list)).encode())
        return _MAGIC + struct.pack(">BI", self._width, len(self._keys)) + body

    @classmethod
    def from_bytes(cls, key: bytes, blob: bytes | memoryview) -> DigestSet:
        """Inverse of ``to_bytes`` (the digests read into arrays, not copied as objects)."""
        view = memoryview(blob)
        if view[:4] == _MAGIC_SAFE and len(view) >= 13:
            width, n, m = struct.unpack(">BII", view[4:13])
            end = 13 + (n + m) * DIGEST_BYTES
            try:
                cols = json.loads(bytes(view[end:]).decode()) if len(view) > end else None
            except (UnicodeDecodeError, ValueError):
                raise ValueError("identifier digest blob is truncated") from None
            if cols is None:
                raise ValueError("identifier digest blob is truncated")
            if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
                raise ValueError("identifier digest blob is not a digest set")
            mid = 13 + n * DIGEST_BYTES
            return cls(key, DigestTable.from_digest_bytes(view[13:mid]),
                       DigestTable.from_digest_bytes(view[mid:end]), width, cols)
        if view[:4] != _MAGIC or len(view) < 9 or (len(view) - 9) % DIGEST_BYTES:
            raise ValueError("identifier digest blob is not a digest set (or is truncated)")
        width, n = struct.unpack(">BI", view[4:9])
        mid = 9 + n * DIGEST_BYTES
        if mid > len(view):
            raise ValueError("identifier digest blob is truncated")
        return cls(key, DigestTable.from_digest_bytes(view[9:mid]),
                   DigestTable.from_digest_bytes(view[mid:]), width)

    def shared_parts(self) -> Iterator[bytes]:
        """The digest arrays as ``from_shared`` reads them in place: key digests' high and
        low halves, then the prefixes' (native uint64; no key, no identifier)."""
        for table in (self._keys, self._prefixes):
            hi, lo, _ = table.arrays()
            yield hi.tobytes()
            yield lo.tobytes()

    def shared_shape(self) -> tuple[int, int, int, tuple[str, ...]]:
        """(keys, prefixes, width, safe-list columns): what ``from_shared`` needs beside
        the buffer and the key."""
        return len(self._keys), len(self._prefixes), self._width, tuple(sorted(self.safe_list))

    @classmethod
    def from_shared(cls, key: bytes, buf: memoryview, keys: int, prefixes: int, width: int,
                    safe_list: Iterable[str]) -> DigestSet:
        """A digest set over ``shared_parts``' bytes without copying them (a pool child
        maps one file: N children, one copy in the page cache).

        Raises:
            ValueError: the buffer does not hold that many digests.
        """
        u = np.frombuffer(buf, dtype=np.uint64)
        if len(u) != 2 * (keys + prefixes):
            raise ValueError(f"shared digests: {len(u) * 8} bytes for {keys} key and "
                             f"{prefixes} prefix digests")
        p = 2 * keys
        return cls(key, DigestTable.from_arrays(u[:keys], u[keys:p], np.zeros(keys, np.uint8)),
                   DigestTable.from_arrays(u[p:p + prefixes], u[p + prefixes:],
                                           np.zeros(prefixes, np.uint8)), width, safe_list)

    def _flags(self, runs: list[str]) -> list[int]:
        """``_PREFIX | _KEY`` flags of each token run: its keyed digest looked up in both
        tables, once per run not in the cache (digested and searched together)."""
        cache = self._cache
        out = [cache.get(r, -1) for r in runs]
        miss = [i for i, f in enumerate(out) if f < 0]
        if miss:
            values = list(dict.fromkeys(runs[i] for i in miss))
            hi, lo = digests(self._key, values)
            flags = (self._prefixes.contains(hi, lo).astype(np.int64) * _PREFIX
                     | self._keys.contains(hi, lo).astype(np.int64) * _KEY).tolist()
            if len(cache) + len(values) > CACHE_RUNS:
                cache.clear()
            cache.update(zip(values, flags, strict=True))
            found = dict(zip(values, flags, strict=True))
            for i in miss:
                out[i] = found[runs[i]]
        return out

    def _flag(self, run: str) -> int:
        f = self._cache.get(run)
        return f if f is not None else self._flags([run])[0]

    def find(self, low: str) -> list[Span]:
        """Spans of a folded, lower-case text holding an original identifier."""
        if not any(f & _PREFIX for f in self._flags(tokens(low))):
            return []  # the common case: no token starts an identifier
        return find_runs(low, _Prefixes(self), self._width,
                         lambda k: Placeholder.ID if self._flag(k) & _KEY else None)

    def find_column(self, texts: pa.Array) -> Hits:
        """``find`` over a column of ASCII texts (no nulls), vectorised (``deid.columnar``).

        Each distinct token run of the column is digested once.
        """
        def lookup(runs: list[str]) -> tuple[list[bool], list[Placeholder | None]]:
            flags = self._flags(runs)
            return ([bool(f & _PREFIX) for f in flags],
                    [Placeholder.ID if f & _KEY else None for f in flags])

        return find_column(texts, lookup, self._width)

    def rows_matching(self, values: Iterable[object]) -> np.ndarray:
        """Boolean mask: which values contain an original identifier."""
        return np.asarray([bool(scan(v, self, free_text=False)) for v in values], dtype=bool)


class _Prefixes:
    """``run in prefixes`` for ``find_runs``: whether a token run is a key prefix."""

    def __init__(self, digests: DigestSet) -> None:
        self._digests = digests

    def __contains__(self, run: object) -> bool:
        return bool(self._digests._flag(str(run)) & _PREFIX)


def _table(digests: DigestTable | Iterable[bytes]) -> DigestTable:
    """A table of digests given as one, or as 16-byte ``bytes`` (small callers)."""
    if isinstance(digests, DigestTable):
        return digests
    return DigestTable.from_digest_bytes(b"".join(digests))


def _membership(table: DigestTable) -> DigestTable:
    """A compacted table's digests for membership only (its codes not shared)."""
    hi, lo, _ = table.arrays()
    return DigestTable.from_arrays(hi, lo, np.zeros(len(hi), dtype=np.uint8))


def scan(value: object, digests: DigestSet | None, *, free_text: bool) -> Counter[str]:
    """What identifiers a value still holds, by placeholder type (counts only).

    Free text is searched like the scrubber searches it (patterns, name cues,
    known values); other values (tokens, shifted dates, codes) only for known
    identifier values.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Counter()
    text = str(value)
    spans = detect.find(text, digests.find if digests is not None else None,
                        patterns=free_text, names=free_text)
    return Counter(ph.value for _, _, ph in spans)


def looks_free_text(value: object) -> bool:
    """A value worth the pattern checks: text with white space inside (notes, names,
    addresses), of any kind (``residual_scan.INNER_SPACE`` is the same test over a column).

    Tokens, shifted ISO dates, codes and numbers have none; searching them for
    date or number patterns would only find what the policy meant to keep.
    """
    return isinstance(value, str) and len(value.split()) > 1
