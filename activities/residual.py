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
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from medpipe.activities.deid import detect
from medpipe.activities.deid.columnar import Hits, find_column
from medpipe.activities.deid.index import KeyIndex, Span, find_runs
from medpipe.activities.deid.patterns import PATTERNS
from medpipe.contracts.pseudonymize import Placeholder

#: Patterns great-expectations checks on every text column (Python ``re``).
RESIDUAL_PATTERNS: dict[str, str] = {label: "(?i)" + p for label, p, _ in PATTERNS
                                     if label in ("ssn", "phone", "email")}
DIGEST_BYTES = 16
_MAGIC = b"MPD2"
#: With the names of the columns scrubbed in safe-list mode after the digests.
_MAGIC_SAFE = b"MPD3"


def _split(blob: bytes) -> list[bytes]:
    return [blob[i:i + DIGEST_BYTES] for i in range(0, len(blob), DIGEST_BYTES)]


def keyed_digest(key: bytes, value: str) -> bytes:
    """Keyed BLAKE2b (a PRF; 128-bit) of an index key (already folded)."""
    return hashlib.blake2b(value.encode(), key=key[:64], digest_size=DIGEST_BYTES).digest()


class DigestSet:
    """Keyed digests of original identifier keys, and the key to compute more.

    ``safe_list`` names the columns the policy scrubbed in safe-list mode: the
    residual check also counts their unsafe words (``deid.safelist``). It
    travels with the digests from the pseudonymize stage to the validate stage.
    """

    def __init__(self, key: bytes, digests: Iterable[bytes], prefixes: Iterable[bytes] = (),
                 width: int = 1, safe_list: Iterable[str] = ()) -> None:
        self.safe_list = frozenset(safe_list)
        self._key = key
        self._digests = frozenset(digests)
        self._prefixes = frozenset(prefixes)
        self._width = width
        self._cache: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._digests)

    @classmethod
    def from_index(cls, key: bytes, index: KeyIndex) -> DigestSet:
        """The digests of an index built under ``key`` (its digests are these)."""
        if index.key != key:
            raise ValueError("the index was digested under another key: build it with "
                             "KeyIndex(key)")
        keys, prefixes = index.digest_bytes()
        return cls(key, _split(keys), _split(prefixes), index.width)

    @classmethod
    def from_values(cls, key: bytes, values: Iterable[str],
                    kind: Placeholder = Placeholder.ID) -> DigestSet:
        """Digest original identifier values (tests, small callers)."""
        index = KeyIndex(key)
        index.add_all(values, kind)
        return cls.from_index(key, index)

    def to_bytes(self) -> bytes:
        """Serialized digests (sorted, fixed width); the key is never serialized."""
        body = b"".join(sorted(self._digests)) + b"".join(sorted(self._prefixes))
        if self.safe_list:
            return (_MAGIC_SAFE + struct.pack(">BII", self._width, len(self._digests),
                                              len(self._prefixes))
                    + body + json.dumps(sorted(self.safe_list)).encode())
        return _MAGIC + struct.pack(">BI", self._width, len(self._digests)) + body

    @classmethod
    def from_bytes(cls, key: bytes, blob: bytes) -> DigestSet:
        """Inverse of ``to_bytes``."""
        if blob.startswith(_MAGIC_SAFE) and len(blob) >= 13:
            width, n, m = struct.unpack(">BII", blob[4:13])
            end = 13 + (n + m) * DIGEST_BYTES
            try:
                cols = json.loads(blob[end:].decode())
            except (UnicodeDecodeError, ValueError):
                raise ValueError("identifier digest blob is truncated") from None
            if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
                raise ValueError("identifier digest blob is not a digest set")
            items = [blob[i:i + DIGEST_BYTES] for i in range(13, end, DIGEST_BYTES)]
            return cls(key, items[:n], items[n:], width, cols)
        if not blob.startswith(_MAGIC) or (len(blob) - 9) % DIGEST_BYTES:
            raise ValueError("identifier digest blob is not a digest set (or is truncated)")
        width, n = struct.unpack(">BI", blob[4:9])
        body = blob[9:]
        items = [body[i:i + DIGEST_BYTES] for i in range(0, len(body), DIGEST_BYTES)]
        if n > len(items):
            raise ValueError("identifier digest blob is truncated")
        return cls(key, items[:n], items[n:], width)

    def _digest(self, value: str) -> bytes:
        # A text repeats its words: each distinct one is digested once (a speed cache
        # only; emptied when large, which changes no result).
        d = self._cache.get(value)
        if d is None:
            if len(self._cache) > 1_000_000:
                self._cache.clear()
            d = self._cache[value] = keyed_digest(self._key, value)
        return d

    def find(self, low: str) -> list[Span]:
        """Spans of a folded, lower-case text holding an original identifier."""
        return find_runs(low, self._prefixes, self._width,
                         lambda k: Placeholder.ID if self._digest(k) in self._digests else None,
                         self._digest)

    def find_column(self, texts: pa.Array) -> Hits:
        """``find`` over a column of ASCII texts (no nulls), vectorised (``deid.columnar``).

        Each distinct token run of the column is digested once.
        """
        def lookup(runs: list[str]) -> tuple[list[bool], list[Placeholder | None]]:
            ds = [self._digest(r) for r in runs]
            return ([d in self._prefixes for d in ds],
                    [Placeholder.ID if d in self._digests else None for d in ds])

        return find_column(texts, lookup, self._width)

    def rows_matching(self, values: Iterable[object]) -> np.ndarray:
        """Boolean mask: which values contain an original identifier."""
        return np.asarray([bool(scan(v, self, free_text=False)) for v in values], dtype=bool)


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
    """A value worth the pattern checks: text with a space (notes, names, addresses).

    Tokens, shifted ISO dates, codes and numbers have none; searching them for
    date or number patterns would only find what the policy meant to keep.
    """
    return isinstance(value, str) and (" " in value.strip())
