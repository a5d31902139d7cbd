"""Residual-identifier detection without identifiers in the clear.

The pseudonymize stage records a keyed digest (keyed BLAKE2b under a key from
the key provider) of every original identifier value it replaced. Here we
digest every cell, word and word pair of the output the same way and count
matches: an original identifier that survived anywhere is found, and no
identifier is ever stored or compared in clear.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import numpy as np

#: Patterns that must not appear in any text column after pseudonymization.
RESIDUAL_PATTERNS: dict[str, str] = {
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "phone": r"(?:\(\d{3}\)\s?|\b\d{3}[-.\s])\d{3}[-.\s]\d{4}\b",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
}

_WORD = re.compile(r"[A-Za-z0-9@._+-]{2,}")
DIGEST_BYTES = 16


def normalize(value: str) -> str:
    """Canonical form of an identifier for digesting (case and spacing folded)."""
    return " ".join(value.strip().lower().split())


def keyed_digest(key: bytes, value: str) -> bytes:
    """Keyed BLAKE2b (a PRF; 128-bit) of a normalized value.

    BLAKE2b in keyed mode is a MAC by design and several times cheaper per
    call than HMAC-SHA256, which matters at one call per word of free text.
    """
    return hashlib.blake2b(normalize(value).encode(), key=key[:64],
                           digest_size=DIGEST_BYTES).digest()


def candidate_strings(text: str) -> Iterable[str]:
    """The cell itself, each word, and each adjacent word pair (full names)."""
    yield text
    words = _WORD.findall(text)
    yield from words
    for a, b in zip(words, words[1:], strict=False):
        yield f"{a} {b}"


class DigestSet:
    """Keyed digests of original identifiers, and the key to compute more."""

    def __init__(self, key: bytes, digests: Iterable[bytes]) -> None:
        self._key = key
        self._digests = frozenset(digests)

    def __len__(self) -> int:
        return len(self._digests)

    @classmethod
    def from_values(cls, key: bytes, values: Iterable[str]) -> DigestSet:
        """Digest original identifier values (used by pseudonymization and tests)."""
        return cls(key, {keyed_digest(key, v) for v in values if v and v.strip()})

    def to_bytes(self) -> bytes:
        """Serialized digests (sorted, fixed width); the key is never serialized."""
        return b"".join(sorted(self._digests))

    @classmethod
    def from_bytes(cls, key: bytes, blob: bytes) -> DigestSet:
        """Inverse of ``to_bytes``."""
        if len(blob) % DIGEST_BYTES:
            raise ValueError("identifier digest blob has a partial record")
        return cls(key, {blob[i:i + DIGEST_BYTES] for i in range(0, len(blob), DIGEST_BYTES)})

    def rows_matching(self, values: Iterable[object]) -> np.ndarray:
        """Boolean mask: which values contain an original identifier."""
        out = []
        for v in values:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out.append(False)
                continue
            text = str(v)
            out.append(any(keyed_digest(self._key, s) in self._digests
                           for s in candidate_strings(text)))
        return np.asarray(out, dtype=bool)
