"""The ``ObjectStore`` protocol and the registry of adapters by URI scheme.

A store is opened from a *bucket URI* (``file:///srv/bucket``,
``s3://bucket/prefix``, ``gs://bucket``, ``azblob://container``) and addresses
objects by a relative key. Release artifacts are **write-once**: putting the
same content again is a no-op, different content under an existing key raises
``AlreadyExists``. Every put computes SHA-256 while streaming and stores it
with the object; every get verifies it while streaming and raises
``IntegrityError`` at the end of a mismatching stream. The single exception
to write-once is ``replace_if_match``, a compare-and-swap reserved for key
rotation (same plaintext, new envelope header).

Adding a cloud is one module with ``@register("scheme")`` plus its line in
``STORES`` (the shared ``SchemeRegistry``, which imports it on first use); its SDK
import is guarded (``require_sdk``) so that a missing extra says which one to install.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from medpipe.activities.schemes import SchemeRegistry
from medpipe.contracts.errors import AlreadyExists, InvalidInput, MedpipeError, NotFound

#: Default chunk size for streaming reads and writes.
CHUNK_SIZE = 8 * 1024 * 1024


class ObjectInfo(BaseModel):
    """What a store knows about one object (never its content)."""

    model_config = ConfigDict(frozen=True)

    uri: str
    key: str
    size: int
    sha256: str


@runtime_checkable
class ObjectStore(Protocol):
    """Streaming, write-once object storage bound to one bucket."""

    bucket_uri: str

    def put(self, key: str, chunks: Iterable[bytes]) -> ObjectInfo:
        """Stream ``chunks`` into ``key`` atomically (readers never see a partial object).

        Raises:
            AlreadyExists: ``key`` holds different content.
            ProviderUnavailable: the provider does not answer.
        """
        ...

    def get(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the object's content, verifying its SHA-256 at the end.

        Raises:
            NotFound: no such object.
            IntegrityError: content does not match the digest stored at put time.
        """
        ...

    def head(self, key: str) -> ObjectInfo:
        """Size and digest of an object (``NotFound`` if absent)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object (no error if absent)."""
        ...

    def create_if_absent(self, key: str, data: bytes) -> bool:
        """Conditional create: write ``data`` only if ``key`` does not exist.

        Returns:
            True if this call created the object, False if it already existed
            (whatever its content): the primitive behind race-free appends.
        """
        ...

    def replace_if_match(self, key: str, chunks: Iterable[bytes],
                         expected_sha256: str) -> ObjectInfo:
        """Atomically replace ``key`` only if its stored SHA-256 is still ``expected_sha256``.

        The one sanctioned exception to write-once, and it exists for **key
        rotation only** (``activities.rotation``): an envelope's header is
        replaced by one whose data key is re-wrapped under a new key version,
        while the content segments, and so the plaintext, stay byte for byte
        the same. Nothing else may call it. The compare-and-swap makes a
        concurrent writer (another rotation) lose cleanly instead of one
        overwriting the other; readers see the old object or the new one,
        never a mixture.

        Raises:
            NotFound: no such object (replacing never creates).
            AlreadyExists: the object changed since ``expected_sha256`` was read
                (a conflict: re-read and retry); nothing was written.
            ProviderUnavailable: the provider does not answer.
        """
        ...

    def uri_for(self, key: str) -> str:
        """The absolute URI of ``key`` in this store."""
        ...


#: Key prefix reserved for the adapters' own bookkeeping (metadata, staging, locks).
RESERVED_PREFIX = ".medpipe"


def check_key(key: str) -> str:
    """Reject keys no store accepts (empty, absolute, ``.``/``..``, the reserved prefix)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) \
            or parts[0] == RESERVED_PREFIX:
        raise InvalidInput(f"invalid object key '{key}'")
    return key


def write_once(existing: ObjectInfo, new_sha256: str) -> ObjectInfo:
    """Write-once rule for a key that already holds ``existing``: the same content is a
    no-op (returns it), different content is refused."""
    if existing.sha256 != new_sha256:
        raise AlreadyExists(
            f"{existing.uri} already exists with different content "
            f"(sha256 {existing.sha256[:12]}…, new {new_sha256[:12]}…); "
            "release artifacts are write-once")
    return existing


def replace_conflict(uri: str, expected_sha256: str, found_sha256: str) -> AlreadyExists:
    """The error of a ``replace_if_match`` whose object is no longer the one expected."""
    return AlreadyExists(
        f"{uri} changed since it was read (expected sha256 {expected_sha256[:12]}…, found "
        f"{found_sha256[:12]}…): not replaced; re-read it and retry")


def refused_replacement(store: ObjectStore, key: str, expected_sha256: str) -> MedpipeError:
    """Why a conditional replacement was refused: the object was deleted, or changed."""
    try:
        found = store.head(key).sha256
    except NotFound as e:
        return NotFound(f"{e.message} (deleted during the replacement)")
    return replace_conflict(store.uri_for(key), expected_sha256, found)


StoreFactory = Callable[[str], ObjectStore]

#: scheme -> the module implementing it (its SDK comes with a pip extra: aws, gcp, azure)
STORES: SchemeRegistry[StoreFactory] = SchemeRegistry("unknown storage scheme", {
    "file": "medpipe.activities.storage.local",
    "s3": "medpipe.activities.storage.s3",
    "gs": "medpipe.activities.storage.gcs",
    "azblob": "medpipe.activities.storage.azure",
})
#: Class decorator registering an adapter for a URI scheme; the class must accept the
#: bucket URI as its only required constructor argument.
register = STORES.register


def split_object_uri(uri: str) -> tuple[str, str]:
    """Split an object URI into (bucket URI, key) at the last path component.

    >>> split_object_uri("s3://b/releases/x/model.onnx")
    ('s3://b/releases/x', 'model.onnx')
    >>> split_object_uri("s3://b/model.onnx?endpoint=http://127.0.0.1:9000")
    ('s3://b?endpoint=http://127.0.0.1:9000', 'model.onnx')
    """
    parts = urlsplit(uri)
    if not parts.scheme:
        raise InvalidInput(f"'{uri}' is not a URI (expected scheme://...)")
    # The query (e.g. ``?endpoint=...``) belongs to the bucket, not to the key.
    head, _, key = parts.path.rpartition("/")
    if not key:
        raise InvalidInput(f"'{uri}' names no object (ends with '/')")
    return urlunsplit((parts.scheme, parts.netloc, head, parts.query, "")), key


def open_store(bucket_uri: str) -> ObjectStore:
    """Open the store for ``bucket_uri`` through the adapter of its scheme.

    Raises:
        InvalidInput: unknown scheme, or the adapter's SDK is not installed
            (the message names the extra to install).
    """
    return STORES.backend(bucket_uri)(bucket_uri)
