"""Sealed artifacts: release data written envelope-encrypted, read back decrypted.

Every stage that stores or reads patient data goes through these two
functions, so that plaintext exists only in a worker's memory, one segment
at a time: ``store_sealed`` encrypts while streaming into the store (and
digests the clear content on the way, for provenance), ``open_plain``
streams it back, checking the stored digest first and every segment's tag.

Write-once meets fresh data keys: a retried step re-encrypts under a new
data key, so its ciphertext differs from the first attempt's. When the key
already exists, the stored object is opened and its clear digest compared:
the same content is the same artifact (a no-op), different content is
refused. An object that fails to decrypt is never overwritten or deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from medpipe.activities.artifacts import read_artifact
from medpipe.activities.envelope import decrypt_stream, encrypt_stream
from medpipe.activities.keys import shared_provider
from medpipe.activities.storage.base import ObjectStore
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import EncryptionRef, KeySettings
from medpipe.contracts.errors import AlreadyExists, IntegrityError


class _Digesting:
    """Pass chunks through while hashing and counting them."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.sha256 = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.sha256.update(chunk)
            self.size += len(chunk)
            yield chunk


def store_sealed(store: ObjectStore, key: str, chunks: Iterable[bytes], *, name: str,
                 release_id: str, keys: KeySettings) -> ArtifactRef:
    """Stream ``chunks`` into ``store`` under ``key``, encrypted when ``keys`` says so.

    Raises:
        AlreadyExists: ``key`` holds different content.
        KeyProviderError / KeyUnavailable: the customer's key refused or did not answer.
    """
    plain = _Digesting(chunks)
    if not keys.enabled:
        info = store.put(key, plain)
        return ArtifactRef(name=name, bucket_uri=store.bucket_uri, key=key, sha256=info.sha256,
                           size=info.size, content_sha256=info.sha256)
    enc = EncryptionRef(key_uri=keys.key_uri, object_id=key, release_id=release_id)
    provider = shared_provider(keys.key_uri)
    sealed = encrypt_stream(plain, object_id=enc.object_id, provider=provider,
                            key_id=keys.data_key_id, context=enc.context)
    try:
        info = store.put(key, sealed)
    except AlreadyExists:
        info = store.head(key)
        existing = ArtifactRef(name=name, bucket_uri=store.bucket_uri, key=key,
                               sha256=info.sha256, size=info.size, encryption=enc)
        again = _Digesting(open_plain(existing))
        for _ in again:
            pass
        if again.sha256.hexdigest() != plain.sha256.hexdigest():
            raise
        return existing.model_copy(update={"content_sha256": again.sha256.hexdigest()})
    return ArtifactRef(name=name, bucket_uri=store.bucket_uri, key=key, sha256=info.sha256,
                       size=info.size, encryption=enc, content_sha256=plain.sha256.hexdigest())


def open_plain(ref: ArtifactRef) -> Iterator[bytes]:
    """Stream an artifact's clear content (decrypting and verifying when sealed).

    A sealed artifact whose header a key rotation re-wrote has new stored bytes
    (and digest) but the same content: it is accepted, and its clear content is
    checked against ``content_sha256`` at the end of the stream instead.

    Raises:
        InputUnavailable: the artifact's store does not answer.
        IntegrityError: stored bytes or a segment do not verify (names object and segment).
        KeyProviderError: the key is wrong, unknown or destroyed.
    """
    stored = read_artifact(ref, rewrapped_ok=True)
    if ref.encryption is None:
        return stored
    enc = ref.encryption
    plain = decrypt_stream(stored, object_id=enc.object_id,
                           provider=shared_provider(enc.key_uri), context=enc.context)
    return _checked(plain, ref) if ref.content_sha256 else plain


def _checked(chunks: Iterator[bytes], ref: ArtifactRef) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != ref.content_sha256:
        raise IntegrityError(f"{ref.uri} decrypts to content other than the one recorded "
                             f"(sha256 {digest.hexdigest()[:12]}… != "
                             f"{(ref.content_sha256 or '')[:12]}…)")
