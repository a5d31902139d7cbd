"""The key of the identifier digests, kept apart from the digests (issue 16).

The pseudonymize stage records a keyed digest of every identifier it replaced,
and the validate stage looks for them in its output (``activities.residual``).
Identifiers are low-entropy (names, record numbers): whoever holds the digests
*and* their key can test guesses offline. So the artifact never holds the key in
clear: the key is a data key of the customer's key provider, generated and
wrapped under the fleet's key-encryption key with its own context
(``purpose=identifier-digests``, the release), and only the wrapped form is
stored. Opening the artifact's envelope gives digests and a wrapped key; using
them needs one more, separately authorised and logged, unwrap by the provider.

A fleet without a key provider (``insecure_dev``) stores the key in clear, as it
stores everything else.

Layout: ``MPDK1`` + 4-byte big-endian length + the wrapped key as JSON (provider,
key id, base64 bytes) + digests;
``MPDK0`` + the 32-byte key + digests when there is no key provider.
"""

from __future__ import annotations

import base64
import json
import secrets
import struct

from medpipe.activities.keys.base import WrappedKey, shared_provider
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import IntegrityError

_WRAPPED = b"MPDK1"
_CLEAR = b"MPDK0"
_KEY_BYTES = 32


def _context(release_id: str) -> dict[str, str]:
    return {"purpose": "identifier-digests", "release": release_id}


def seal_digest_key(keys: KeySettings, release_id: str) -> tuple[bytes, bytes]:
    """A fresh digest key: (the key in clear, for this process only; the header to store).

    Raises:
        KeyProviderError / KeyUnavailable: the customer's key refused or did not answer.
    """
    if not keys.enabled:
        key = secrets.token_bytes(_KEY_BYTES)
        return key, _CLEAR + key
    key, wrapped = shared_provider(keys.key_uri).new_data_key(keys.data_key_id,
                                                              _context(release_id))
    body = json.dumps({"provider": wrapped.provider, "key_id": wrapped.key_id,
                       "wrapped": base64.b64encode(wrapped.wrapped).decode()}).encode()
    return key, _WRAPPED + struct.pack(">I", len(body)) + body


def open_digest_key(blob: bytes, key_uri: str, release_id: str) -> tuple[bytes, bytes]:
    """Split a digest artifact into (digest key, digests), unwrapping the key.

    Raises:
        IntegrityError: not a digest artifact, or truncated.
        KeyProviderError: the key provider refuses the wrapped key (wrong release,
            a key the fleet does not list, destroyed key).
    """
    if blob.startswith(_CLEAR) and not key_uri:
        key = blob[len(_CLEAR):len(_CLEAR) + _KEY_BYTES]
        if len(key) != _KEY_BYTES:
            raise IntegrityError("identifier-digest artifact is truncated")
        return key, blob[len(_CLEAR) + _KEY_BYTES:]
    if not blob.startswith(_WRAPPED) or len(blob) < len(_WRAPPED) + 4:
        raise IntegrityError("identifier-digest artifact does not hold a wrapped digest key "
                             "(a clear key is refused when the fleet has a key provider)")
    (size,) = struct.unpack(">I", blob[len(_WRAPPED):len(_WRAPPED) + 4])
    start = len(_WRAPPED) + 4
    if len(blob) < start + size:
        raise IntegrityError("identifier-digest artifact is truncated")
    try:
        fields = json.loads(blob[start:start + size])
        wrapped = WrappedKey(provider=fields["provider"], key_id=fields["key_id"],
                             wrapped=base64.b64decode(fields["wrapped"], validate=True))
    except (ValueError, KeyError, TypeError) as e:
        raise IntegrityError("identifier-digest artifact: its wrapped key does not parse") from e
    key = shared_provider(key_uri).unwrap(wrapped, _context(release_id))
    return key, blob[start + size:]
