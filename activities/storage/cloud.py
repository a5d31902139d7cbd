"""The base of the cloud adapters (``s3``, ``gs``, ``azblob``) and the pieces they share.

Kept apart from ``base`` (the protocol) so the three adapters agree on the
things a reader of any of them relies on: which keys are valid (the same rule
as the ``file://`` adapter), how a bucket URI with a prefix and query
parameters maps to object names and back to URIs, how uploads are cut into
parts, how a download is verified against the SHA-256 stored at put time, and
how a put goes (``CloudStore.put``: one request for one part, a staged upload
for more, the write-once rule when the key exists). An adapter supplies its
vendor's calls and the translation of its vendor's errors.

A bucket URI looks like ``scheme://bucket[/prefix][?endpoint=URL&...]``. The
query is kept verbatim in ``bucket_uri`` and in every object URI (after the
key), so an ``ArtifactRef`` handed to another worker process reaches the same
endpoint; credentials never go in a URI.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from medpipe.activities.storage.base import (
    CHUNK_SIZE,
    RESERVED_PREFIX,
    ObjectInfo,
    check_key,
    refused_replacement,
    replace_conflict,
    write_once,
)
from medpipe.contracts.errors import (
    AccessDenied,
    IntegrityError,
    InvalidInput,
    MedpipeError,
    NotFound,
    ProviderUnavailable,
)

#: Upload part size. Objects up to this size go up in one request (buffered:
#: memory stays bounded by one part); larger ones are streamed part by part.
PART_SIZE = 8 * 1024 * 1024

#: Uploads in progress are staged under the reserved key prefix; listings never show it.
RESERVED = RESERVED_PREFIX

#: A provider's version of an object, which conditions a replacement (S3 and Azure ETag,
#: GCS generation).
Version = str | int


@dataclass(frozen=True)
class BucketLocation:
    """A parsed bucket URI.

    Attributes:
        scheme: URI scheme (``s3``, ``gs``, ``azblob``).
        bucket: bucket or container name.
        prefix: object-name prefix without leading/trailing ``/`` (may be empty).
        query: the raw query string (kept verbatim in URIs).
        params: the query parameters, one value each.
    """

    scheme: str
    bucket: str
    prefix: str
    query: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def bucket_uri(self) -> str:
        """Canonical bucket URI (no trailing ``/``; query kept)."""
        path = f"/{self.prefix}" if self.prefix else ""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.bucket}{path}{query}"

    def name_for(self, key: str) -> str:
        """Provider object name of ``key`` (prefix applied)."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def key_of(self, name: str) -> str:
        """Inverse of ``name_for`` for names listed under the prefix."""
        return name[len(self.prefix) + 1:] if self.prefix else name

    @property
    def list_prefix(self) -> str:
        """Provider name prefix of every object in this store."""
        return f"{self.prefix}/" if self.prefix else ""

    def staging_name(self, token: str) -> str:
        """Provider name for an upload in progress (never a valid key, never listed)."""
        return f"{self.list_prefix}{RESERVED}/staging/{token}"

    def uri_for(self, key: str) -> str:
        """Absolute URI of ``key`` (query after the key, so ``split_object_uri`` inverts it)."""
        path = f"/{self.prefix}" if self.prefix else ""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.bucket}{path}/{check_key(key)}{query}"

    def is_reserved(self, name: str) -> bool:
        """Whether a listed provider name is medpipe's own (staging) rather than an object."""
        return self.key_of(name).split("/", 1)[0] == RESERVED


def parse_bucket_uri(bucket_uri: str, scheme: str, allowed: Iterable[str]) -> BucketLocation:
    """Parse ``scheme://bucket[/prefix][?k=v...]``.

    Raises:
        InvalidInput: wrong scheme, no bucket name, a repeated or unknown query parameter.
    """
    parts = urlsplit(bucket_uri)
    if parts.scheme != scheme or not parts.netloc:
        raise InvalidInput(f"'{bucket_uri}' is not a {scheme}://bucket[/prefix] URI")
    prefix = parts.path.strip("/")
    if prefix and any(p in ("", ".", "..") for p in prefix.split("/")):
        raise InvalidInput(f"invalid prefix '{prefix}' in '{bucket_uri}'")
    raw = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    allowed_set = set(allowed)
    unknown = sorted(set(raw) - allowed_set)
    if unknown:
        raise InvalidInput(f"unknown parameter(s) {', '.join(unknown)} in '{bucket_uri}' "
                           f"(known: {', '.join(sorted(allowed_set)) or 'none'})")
    repeated = sorted(k for k, v in raw.items() if len(v) != 1)
    if repeated:
        raise InvalidInput(f"parameter(s) {', '.join(repeated)} repeated in '{bucket_uri}'")
    params = {k: v[0] for k, v in raw.items()}
    return BucketLocation(scheme=scheme, bucket=parts.netloc, prefix=prefix,
                          query=parts.query, params=params)


def parts_of(chunks: Iterable[bytes], part_size: int = PART_SIZE) -> Iterator[bytes]:
    """Re-cut a stream of arbitrary chunks into parts of exactly ``part_size`` (last shorter).

    Yields at least one part (possibly empty), so an empty object is still one upload.
    Holds at most one part plus one incoming chunk in memory.
    """
    buf = bytearray()
    emitted = False
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            take = min(part_size - len(buf), len(view))
            buf += view[:take]
            view = view[take:]
            if len(buf) == part_size:
                yield bytes(buf)
                buf.clear()
                emitted = True
    if buf or not emitted:
        yield bytes(buf)


def split_parts(chunks: Iterable[bytes]) -> tuple[Digest, bytes, Iterator[bytes] | None]:
    """Cut ``chunks`` into parts, digesting them as they pass.

    Returns the digest (complete once the parts are consumed), the first part, and
    None when that part is the whole object, else an iterator over every part (the
    first included) for a staged upload.
    """
    digest = Digest()
    parts = parts_of(digest.update(c) for c in chunks)
    first = next(parts)
    second = next(parts, None)
    if second is None:
        return digest, first, None
    return digest, first, itertools.chain((first, second), parts)


class Digest:
    """SHA-256 and byte count of a stream, updated as parts pass through."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> bytes:
        """Account for ``data`` and hand it back (so it can wrap a generator expression)."""
        self._h.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        """The SHA-256 so far, hex-encoded."""
        return self._h.hexdigest()


def verify_stream(chunks: Iterable[bytes], info: ObjectInfo) -> Iterator[bytes]:
    """Pass ``chunks`` through, raising ``IntegrityError`` at the end if they do not match ``info``.

    The caller wraps provider errors; this only checks content.
    """
    digest = Digest()
    for chunk in chunks:
        if chunk:
            yield digest.update(chunk)
    got = digest.hexdigest()
    if digest.size != info.size or got != info.sha256:
        raise IntegrityError(
            f"{info.uri} changed after it was written (expected sha256 "
            f"{info.sha256[:12]}…, {info.size} bytes; read {got[:12]}…, {digest.size} bytes)")


def digest_from_metadata(uri: str, metadata: dict[str, str] | None, field_name: str) -> str:
    """The SHA-256 an adapter stored with an object, or ``IntegrityError`` if missing/garbled.

    An object without it was not written through medpipe (or was overwritten
    behind its back): it cannot be trusted, so it is an integrity failure,
    exactly as a missing digest record is for the ``file://`` adapter.
    """
    value = (metadata or {}).get(field_name, "")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise IntegrityError(f"{uri} has no readable digest record")
    return value


def emulator_flag(value: str | None) -> bool:
    """The ``emulator=`` parameter of a bucket URI (absent: not an emulator).

    Raises:
        InvalidInput: a value other than 1/0/true/false.
    """
    if value is None or value == "":
        return False
    flag = {"1": True, "true": True, "0": False, "false": False}.get(value.lower())
    if flag is None:
        raise InvalidInput(f"emulator={value!r} in a bucket URI: use emulator=1 or "
                           "emulator=0")
    return flag


class CloudStore(ABC):
    """What the S3, GCS and Azure adapters share: the bucket URI, error translation at one
    edge, and the write-once ``put``.

    Subclasses set ``SCHEME``, ``PARAMETERS`` (query parameters their bucket URIs accept),
    ``DIGEST_FIELD`` and ``VENDOR_ERRORS`` (the SDK's exception roots, translated by
    ``_errors``), and implement the vendor calls below.
    """

    SCHEME: ClassVar[str]
    #: Object metadata field holding the content's SHA-256, written at put time.
    DIGEST_FIELD: ClassVar[str]
    #: The service's name in messages ("S3").
    VENDOR: ClassVar[str]
    PARAMETERS: ClassVar[tuple[str, ...]] = ()
    VENDOR_ERRORS: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, bucket_uri: str) -> None:
        self.loc = parse_bucket_uri(bucket_uri, self.SCHEME, allowed=self.PARAMETERS)
        self.bucket_uri = self.loc.bucket_uri

    # -- errors ------------------------------------------------------------
    @abstractmethod
    def _translate(self, e: Exception, what: str) -> MedpipeError:
        """Map a vendor error to the domain tree; ``what`` names the object or bucket."""

    def _refusal(self, what: str, status: int, code: str = "") -> MedpipeError:
        """The domain error of an HTTP refusal, mapped alike for every cloud: 404 is
        ``NotFound``, 401/403 ``AccessDenied``, 429 and 5xx ``ProviderUnavailable`` (retry
        later), anything else ``InvalidInput`` (retrying will not help)."""
        shown = code or status
        if status == 404:
            return NotFound(f"{what} does not exist")
        if status in (401, 403):
            return AccessDenied(f"{self.VENDOR} refused access to {what} ({shown})")
        if status == 429 or status >= 500:
            return ProviderUnavailable(f"{self.VENDOR} is unavailable for {what} ({shown})")
        return InvalidInput(f"{self.VENDOR} rejected the request for {what} ({shown})")

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Translate the vendor errors raised inside the block (domain errors pass)."""
        try:
            yield
        except MedpipeError:
            raise
        except self.VENDOR_ERRORS as e:
            raise self._translate(e, what) from e

    # -- vendor calls ------------------------------------------------------
    @abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """The stored object's size and SHA-256 (``NotFound`` if absent)."""

    @abstractmethod
    def get(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the object, verified against its stored SHA-256."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete ``key`` (absent is fine)."""

    @abstractmethod
    def _version(self, key: str) -> tuple[str, Version] | None:
        """The stored SHA-256 of ``key`` and the provider's version of it; None if absent."""

    @abstractmethod
    def _replace_one(self, key: str, data: bytes, digest: Digest, expected_sha256: str,
                     version: Version) -> bool:
        """Overwrite ``key`` with ``data`` in one request if it is still at ``version``;
        False if the provider refuses the condition."""

    @abstractmethod
    def _replace_staged(self, key: str, parts: Iterable[bytes], digest: Digest,
                        expected_sha256: str, version: Version) -> bool:
        """Overwrite ``key`` with ``parts`` if it is still at ``version``; False if the
        provider refuses the condition."""

    @abstractmethod
    def _create_one(self, key: str, data: bytes, digest: Digest) -> bool:
        """Create ``key`` holding ``data`` in one request, if absent; False if it exists."""

    @abstractmethod
    def _create_staged(self, key: str, parts: Iterable[bytes], digest: Digest) -> bool:
        """Create ``key`` from ``parts`` (more than one), if absent; False if it exists.

        ``digest`` is complete only once ``parts`` is consumed: the vendor's commit, which
        records it, comes after the upload.
        """

    # -- protocol ----------------------------------------------------------
    def uri_for(self, key: str) -> str:
        """Absolute URI of ``key`` (query kept)."""
        return self.loc.uri_for(key)

    def create_if_absent(self, key: str, data: bytes) -> bool:
        """Create a small object if the key is free; False if it exists."""
        digest = Digest()
        digest.update(data)
        return self._create_one(key, data, digest)

    def _stored_sha256(self, uri: str, metadata: dict[str, str] | None) -> str:
        """The SHA-256 recorded in an object's metadata (``IntegrityError`` if absent)."""
        return digest_from_metadata(uri, metadata, self.DIGEST_FIELD)

    def _expect(self, key: str, expected_sha256: str, version: Version | None = None
                ) -> Version:
        """The version of ``key`` if it still holds ``expected_sha256`` (and is still at
        ``version``, if given).

        Raises:
            NotFound: ``key`` does not exist (a replacement never creates).
            AlreadyExists: ``key`` changed since it was read.
        """
        uri = self.uri_for(key)
        found = self._version(key)
        if found is None:
            raise NotFound(f"{uri} does not exist (replace never creates)")
        sha256, current = found
        if sha256 != expected_sha256 or (version is not None and current != version):
            raise replace_conflict(uri, expected_sha256, sha256)
        return current

    def replace_if_match(self, key: str, chunks: Iterable[bytes],
                         expected_sha256: str) -> ObjectInfo:
        """Replace ``key`` if its digest is still ``expected_sha256`` (key rotation only).

        The write is conditioned on the provider's version of the object whose digest
        was checked, so a concurrent change makes it fail instead of being overwritten.
        """
        version = self._expect(key, expected_sha256)
        digest, first, parts = split_parts(chunks)
        if parts is None:
            replaced = self._replace_one(key, first, digest, expected_sha256, version)
        else:
            replaced = self._replace_staged(key, parts, digest, expected_sha256, version)
        if not replaced:
            raise refused_replacement(self, key, expected_sha256)
        return ObjectInfo(uri=self.uri_for(key), key=key, size=digest.size,
                          sha256=digest.hexdigest())

    def put(self, key: str, chunks: Iterable[bytes]) -> ObjectInfo:
        """Stream ``chunks`` to ``key``, write-once (the same content again is a no-op)."""
        digest, first, parts = split_parts(chunks)
        if parts is None:
            created = self._create_one(key, first, digest)
        else:
            created = self._create_staged(key, parts, digest)
        if not created:
            return write_once(self.head(key), digest.hexdigest())
        return ObjectInfo(uri=self.uri_for(key), key=key, size=digest.size,
                          sha256=digest.hexdigest())
