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

#: Patterns of identifiers in free text, in the order the scrubber applies them
#: (``activities.pseudonymize.scrub``), each replaced by ``[LABEL]``. They are
#: written for both Python ``re`` (pandas, great-expectations) and RE2 (Arrow
#: compute, used by the scrubber): ASCII classes only, no look-around, so that
#: both engines agree on what is an identifier.
SCRUB_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "url": r"\b(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)[^ \t\r\n<>\"']+",
    "ip": r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b",
    "ssn": r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
    "phone": r"(?:\+?1[-. ]?)?(?:\([0-9]{3}\) ?|\b[0-9]{3}[-. ])[0-9]{3}[-. ][0-9]{4}\b",
    "date": (r"\b(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.]"
             r"(?:[0-9]{4}|[0-9]{2})|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
             r"[a-z]*\.? [0-9]{1,2}(?:st|nd|rd|th)?,? [0-9]{4})\b"),
    "mrn": (r"\b(?:MRN|MR|Acct|ACCT)[#: ]*[A-Za-z0-9-]*[0-9]{3,}[A-Za-z0-9-]*"
            r"|\b[A-Z]{2,5}-?[0-9]{5,}\b|\b[0-9]{7,}\b"),
}

#: Patterns that must not appear in any text column after pseudonymization
#: (the same expressions the scrubber removes).
RESIDUAL_PATTERNS: dict[str, str] = {k: SCRUB_PATTERNS[k] for k in ("ssn", "phone", "email")}

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
    """The cell itself, each word, and each adjacent word pair (full names).

    Words are also tried without leading/trailing punctuation, so "Okafor."
    at the end of a sentence is still found as "Okafor".
    """
    yield text
    words = _WORD.findall(text)
    yield from words
    trimmed = [w.strip("._+-") for w in words]
    for w, t in zip(words, trimmed, strict=True):
        if t != w and len(t) >= 2:
            yield t
    for a, b in zip(words, words[1:], strict=False):
        yield f"{a} {b}"
    for a, b, ua, ub in zip(trimmed, trimmed[1:], words, words[1:], strict=False):
        if (a, b) != (ua, ub):
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
