"""Streaming envelope encryption: the only module that touches content crypto.

Every object gets a fresh 256-bit data key from a ``KeyProvider``; the key
leaves this module only wrapped. Content is AES-256-GCM over fixed-size
segments, so memory stays constant whatever the object size, and each
segment's nonce and associated data bind the object's immutable header
fields, the segment index and a final-segment flag: flipped bits, truncation,
reordering, splicing between objects and swapped headers all fail with an
``IntegrityError`` that names the object and the segment.

The wrapped data key sits in a replaceable *key section* of the header that
no segment tag covers, so key rotation re-wraps it (``rewrap_header``,
``rewrap_stream``) without touching the content. A key commitment (an HMAC
under the data key over the immutable fields) ties the header to its data
key, so a swapped or forged key section is detected before any segment is
read. The format is documented byte by byte in ``docs/envelope-format.md``.

Plaintext is yielded one authenticated segment at a time: a consumer must
still treat what it received as provisional until the iterator finishes,
because truncation is only detectable at the end (write to a temporary
object, commit on completion).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict

from medpipe.activities.keys.base import KeyProvider, WrappedKey
from medpipe.contracts.errors import IntegrityError, InvalidInput, KeyProviderError

MAGIC = b"MPEV"
FORMAT_VERSION = 1
ALG_AES256GCM_SEGMENTED = 1
DEFAULT_SEGMENT_SIZE = 1 << 20
MIN_SEGMENT_SIZE = 16
MAX_SEGMENT_SIZE = 1 << 26
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7
MAX_SEGMENTS = (1 << 32) - 1
COMMIT_SIZE = 32
CHECKSUM_SIZE = 32
MAX_OBJECT_ID = 1024
MAX_PROVIDER = 64
MAX_KEY_ID = 2048
MAX_WRAPPED = 8192
#: the context key under which the object id is bound to the wrapped data key
CONTEXT_OBJECT_KEY = "object_id"

_ENC_LABEL = b"medpipe/envelope/v1/aes-256-gcm"
_COMMIT_LABEL = b"medpipe/envelope/v1/commit"
_FIXED = struct.Struct(">4sBBI7sH")  # magic, version, algorithm, segment size, prefix, id len
_SEGMENT_TAIL = struct.Struct(">IB")  # segment index, final flag
_MAX_HEADER = (_FIXED.size + MAX_OBJECT_ID + COMMIT_SIZE + 1 + MAX_PROVIDER + 2 + MAX_KEY_ID
               + 2 + MAX_WRAPPED + CHECKSUM_SIZE)

#: An input chunk: bytes, or a buffer (copied on arrival, since its owner may reuse it).
Chunk = bytes | bytearray | memoryview

#: Resolves a provider scheme named in a header (``local``, ``aws-kms`` ...) to a provider.
ProviderResolver = Callable[[str], KeyProvider]


class EnvelopeHeader(BaseModel):
    """A parsed envelope header.

    Attributes:
        version: format version (1).
        algorithm: content algorithm id (1 = AES-256-GCM, segmented).
        segment_size: plaintext bytes per segment (the final one may be shorter).
        nonce_prefix: 7 random bytes starting every segment nonce.
        object_id: the object this envelope belongs to.
        commitment: HMAC-SHA256 under the data key over the immutable fields.
        wrapped: the wrapped data key (provider, key id, bytes): the replaceable part.
        immutable: the immutable fields' bytes (bound into every segment).
        length: total header bytes; content segments start right after.
    """

    model_config = ConfigDict(frozen=True)

    version: int
    algorithm: int
    segment_size: int
    nonce_prefix: bytes
    object_id: str
    commitment: bytes
    wrapped: WrappedKey
    immutable: bytes
    length: int


# --------------------------------------------------------------------------- helpers


def _bound_context(object_id: str, context: Mapping[str, str]) -> dict[str, str]:
    """The provider context: the caller's plus the object id, which may not disagree."""
    if not object_id:
        raise InvalidInput("an envelope needs a non-empty object id")
    bound = dict(context)
    given = bound.get(CONTEXT_OBJECT_KEY)
    if given is not None and given != object_id:
        raise InvalidInput(f"context names object '{given}' but the envelope is for "
                           f"'{object_id}'")
    bound[CONTEXT_OBJECT_KEY] = object_id
    return bound


def _derive(data_key: bytes, immutable: bytes) -> tuple[bytes, bytes]:
    """(content key, key commitment) from the data key: separate keys for separate jobs."""
    enc_key = hmac.digest(data_key, _ENC_LABEL, "sha256")
    commit = hmac.digest(data_key, _COMMIT_LABEL + hashlib.sha256(immutable).digest(), "sha256")
    return enc_key, commit


def _immutable_bytes(segment_size: int, nonce_prefix: bytes, object_id: str) -> bytes:
    oid = object_id.encode("utf-8")
    if len(oid) > MAX_OBJECT_ID:
        raise InvalidInput(f"object id longer than {MAX_OBJECT_ID} bytes: '{object_id[:80]}...'")
    return _FIXED.pack(MAGIC, FORMAT_VERSION, ALG_AES256GCM_SEGMENTED, segment_size,
                       nonce_prefix, len(oid)) + oid


def _key_section(wrapped: WrappedKey) -> bytes:
    provider = wrapped.provider.encode("utf-8")
    key_id = wrapped.key_id.encode("utf-8")
    too_long = (len(provider) > MAX_PROVIDER or len(key_id) > MAX_KEY_ID
                or len(wrapped.wrapped) > MAX_WRAPPED)
    if too_long:
        raise InvalidInput(f"wrapped key from '{wrapped.provider}' key '{wrapped.key_id[:80]}' "
                           "exceeds the header's field limits")
    return (struct.pack(">B", len(provider)) + provider
            + struct.pack(">H", len(key_id)) + key_id
            + struct.pack(">H", len(wrapped.wrapped)) + wrapped.wrapped)


def _assemble_header(immutable: bytes, commitment: bytes, wrapped: WrappedKey) -> bytes:
    body = immutable + commitment + _key_section(wrapped)
    return body + hashlib.sha256(body).digest()


def _resolve(provider: KeyProvider | ProviderResolver, header: EnvelopeHeader) -> KeyProvider:
    """The provider for a header, checking that a given provider is of the header's kind."""
    if hasattr(provider, "unwrap"):
        chosen: KeyProvider = provider  # type: ignore[assignment]
    else:
        chosen = provider(header.wrapped.provider)  # type: ignore[operator]
    scheme = getattr(chosen, "scheme", None)
    if scheme != header.wrapped.provider:
        raise KeyProviderError(
            f"object '{header.object_id}' was wrapped by a '{header.wrapped.provider}' key "
            f"('{header.wrapped.key_id}') but the provider given is '{scheme}'")
    return chosen


def _unwrap_and_check(header: EnvelopeHeader, provider: KeyProvider,
                      context: Mapping[str, str]) -> bytes:
    """The content key of ``header`` after checking the key commitment.

    Provider errors (wrong, unknown, destroyed key; wrong context) propagate
    unchanged: they are key errors, not integrity errors.
    """
    data_key = provider.unwrap(header.wrapped, _bound_context(header.object_id, context))
    enc_key, commit = _derive(data_key, header.immutable)
    if not hmac.compare_digest(commit, header.commitment):
        raise IntegrityError(
            f"object '{header.object_id}': header key commitment does not match its data key "
            "(header fields altered or key section swapped)")
    return enc_key


class _Reader:
    """Reads exact byte counts from an iterable of chunks, copying only across chunk edges."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        self._it = iter(chunks)
        self._views: deque[memoryview] = deque()
        self._buffered = 0
        self._eof = False

    def _fill(self, n: int) -> None:
        while self._buffered < n and not self._eof:
            try:
                chunk = next(self._it)
            except StopIteration:
                self._eof = True
                return
            if not isinstance(chunk, bytes):
                # A mutable buffer could change under us while we look ahead.
                chunk = bytes(chunk)
            if chunk:
                self._views.append(memoryview(chunk))
                self._buffered += len(chunk)

    def read(self, n: int) -> memoryview | bytes:
        """Up to ``n`` bytes (fewer only at the end of the stream)."""
        self._fill(n)
        if not self._views:
            return b""
        first = self._views[0]
        if len(first) >= n:
            if len(first) == n:
                self._views.popleft()
            else:
                self._views[0] = first[n:]
            self._buffered -= n
            return first[:n]
        parts: list[memoryview] = []
        need = n
        while need and self._views:
            view = self._views.popleft()
            if len(view) > need:
                self._views.appendleft(view[need:])
                view = view[:need]
            parts.append(view)
            need -= len(view)
        out = b"".join(parts)
        self._buffered -= len(out)
        return out

    def at_eof(self) -> bool:
        """Whether the stream has no more bytes (pulls at most one more chunk)."""
        self._fill(1)
        return self._buffered == 0

    def remaining(self) -> Iterator[Chunk]:
        """The rest of the stream as it comes, without reassembling it."""
        while self._views:
            view = self._views.popleft()
            self._buffered -= len(view)
            yield view
        yield from self._it


# --------------------------------------------------------------------------- header


def _parse_header(reader: _Reader, expected_object_id: str | None) -> EnvelopeHeader:
    """Parse and check a header from ``reader`` (magic, version, checksum, object id)."""
    who = f"object '{expected_object_id}'" if expected_object_id else "envelope"

    def take(n: int, what: str) -> bytes:
        data = bytes(reader.read(n))
        if len(data) < n:
            raise IntegrityError(f"{who}: header truncated in the {what}")
        return data

    fixed = take(_FIXED.size, "fixed fields")
    magic, version, algorithm, segment_size, prefix, oid_len = _FIXED.unpack(fixed)
    if magic != MAGIC:
        raise IntegrityError(f"{who}: not a medpipe envelope (bad magic {magic!r})")
    if version != FORMAT_VERSION:
        raise IntegrityError(f"{who}: unsupported envelope format version {version}")
    if algorithm != ALG_AES256GCM_SEGMENTED:
        raise IntegrityError(f"{who}: unknown content algorithm {algorithm}")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE or oid_len > MAX_OBJECT_ID:
        raise IntegrityError(f"{who}: header fields out of range (corrupted header)")
    oid_bytes = take(oid_len, "object id")
    commitment = take(COMMIT_SIZE, "key commitment")
    provider_len = take(1, "key section")[0]
    provider = take(provider_len, "key section")
    key_id_len = struct.unpack(">H", take(2, "key section"))[0]
    key_id = take(key_id_len, "key section")
    wrapped_len = struct.unpack(">H", take(2, "key section"))[0]
    if provider_len > MAX_PROVIDER or key_id_len > MAX_KEY_ID or wrapped_len > MAX_WRAPPED:
        raise IntegrityError(f"{who}: key section fields out of range (corrupted header)")
    wrapped = take(wrapped_len, "wrapped key")
    checksum = take(CHECKSUM_SIZE, "checksum")
    body = (fixed + oid_bytes + commitment + bytes([provider_len]) + provider
            + struct.pack(">H", key_id_len) + key_id + struct.pack(">H", wrapped_len) + wrapped)
    if not hmac.compare_digest(hashlib.sha256(body).digest(), checksum):
        raise IntegrityError(f"{who}: header checksum mismatch (corrupted header)")
    try:
        object_id = oid_bytes.decode("utf-8")
        provider_name = provider.decode("utf-8")
        key_id_text = key_id.decode("utf-8")
    except UnicodeDecodeError as e:
        raise IntegrityError(f"{who}: header text fields are not UTF-8") from e
    if expected_object_id is not None and object_id != expected_object_id:
        raise IntegrityError(f"{who}: header belongs to object '{object_id}' "
                             "(header swapped or object misplaced)")
    return EnvelopeHeader(
        version=version, algorithm=algorithm, segment_size=segment_size, nonce_prefix=prefix,
        object_id=object_id, commitment=commitment,
        wrapped=WrappedKey(provider=provider_name, key_id=key_id_text, wrapped=wrapped),
        immutable=fixed + oid_bytes, length=len(body) + CHECKSUM_SIZE)


def read_header(data: bytes | bytearray | memoryview | Iterable[Chunk], *,
                object_id: str | None = None) -> EnvelopeHeader:
    """Parse the header at the start of an envelope (``data``: leading bytes or chunks).

    Checks structure and checksum only; the key commitment needs the data key
    and is checked on decryption and re-wrapping.

    Raises:
        IntegrityError: not an envelope, corrupted header, or (with
            ``object_id``) the header belongs to another object.
    """
    chunks: Iterable[Chunk]
    if isinstance(data, bytes):
        chunks = [data]
    elif isinstance(data, bytearray | memoryview):
        chunks = [bytes(data[:_MAX_HEADER])]
    else:
        chunks = data
    return _parse_header(_Reader(chunks), object_id)


# --------------------------------------------------------------------------- content


def _segment_nonce_aad(prefix: bytes, digest: bytes, index: int,
                       final: bool) -> tuple[bytes, bytes]:
    tail = _SEGMENT_TAIL.pack(index, 1 if final else 0)
    return prefix + tail, digest + tail


def encrypt_stream(chunks: Iterable[Chunk], *, object_id: str, provider: KeyProvider,
                   key_id: str, context: Mapping[str, str],
                   segment_size: int = DEFAULT_SEGMENT_SIZE) -> Iterator[bytes]:
    """Encrypt ``chunks`` into an envelope: the header, then one ciphertext per segment.

    The data key is fresh for this object, wrapped by ``key_id`` with
    ``context`` plus the object id bound to the wrapping. Memory use is about
    two segments plus one input chunk.

    Raises:
        InvalidInput: bad object id, context or segment size; object too large.
        KeyProviderError / KeyUnavailable: from the provider.
    """
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise InvalidInput(f"segment size {segment_size} outside "
                           f"[{MIN_SEGMENT_SIZE}, {MAX_SEGMENT_SIZE}]")
    bound = _bound_context(object_id, context)
    prefix = os.urandom(NONCE_PREFIX_SIZE)
    immutable = _immutable_bytes(segment_size, prefix, object_id)
    return _encrypt(chunks, object_id, provider, key_id, bound, segment_size, prefix, immutable)


def _encrypt(chunks: Iterable[Chunk], object_id: str, provider: KeyProvider, key_id: str,
             bound: dict[str, str], segment_size: int, prefix: bytes,
             immutable: bytes) -> Iterator[bytes]:
    data_key, wrapped = provider.new_data_key(key_id, bound)
    enc_key, commitment = _derive(data_key, immutable)
    del data_key
    yield _assemble_header(immutable, commitment, wrapped)
    aead = AESGCM(enc_key)
    digest = hashlib.sha256(immutable).digest()
    reader = _Reader(chunks)
    index = 0
    while True:
        plain = reader.read(segment_size)
        final = reader.at_eof()
        if index > MAX_SEGMENTS:
            raise InvalidInput(f"object '{object_id}' exceeds {MAX_SEGMENTS} segments of "
                               f"{segment_size} bytes: use a larger segment size")
        nonce, aad = _segment_nonce_aad(prefix, digest, index, final)
        yield aead.encrypt(nonce, plain, aad)
        if final:
            return
        index += 1


def decrypt_stream(chunks: Iterable[Chunk], *, object_id: str,
                   provider: KeyProvider | ProviderResolver,
                   context: Mapping[str, str]) -> Iterator[bytes]:
    """Decrypt an envelope, yielding plaintext one authenticated segment at a time.

    ``provider`` is a key provider of the header's kind or a resolver from the
    header's provider scheme to one. No segment is yielded before its tag
    verified; a missing final segment raises at the end of the stream.

    Raises:
        IntegrityError: corrupted header, header of another object, key
            commitment mismatch, or a segment that fails authentication
            (flipped, reordered, spliced, truncated, trailing data); the
            message names the object and the segment.
        KeyProviderError / KeyUnavailable: from the provider (wrong, unknown
            or destroyed key), unchanged.
    """
    reader = _Reader(chunks)
    header = _parse_header(reader, object_id)
    enc_key = _unwrap_and_check(header, _resolve(provider, header), context)
    aead = AESGCM(enc_key)
    digest = hashlib.sha256(header.immutable).digest()
    prefix = header.nonce_prefix
    seg_ct = header.segment_size + TAG_SIZE
    index = 0
    while True:
        sealed = reader.read(seg_ct)
        final = reader.at_eof()
        if len(sealed) < TAG_SIZE:
            what = "no content segments" if index == 0 and not sealed else "a cut-off tag"
            raise IntegrityError(f"object '{object_id}': segment {index} missing or truncated "
                                 f"({what}): the object is truncated")
        if index > MAX_SEGMENTS:
            raise IntegrityError(f"object '{object_id}': more than {MAX_SEGMENTS} segments")
        nonce, aad = _segment_nonce_aad(prefix, digest, index, final)
        try:
            plain = aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise IntegrityError(_diagnose(aead, prefix, digest, index, final, sealed,
                                           object_id)) from None
        yield plain
        if final:
            return
        index += 1


def _diagnose(aead: AESGCM, prefix: bytes, digest: bytes, index: int, final: bool,
              sealed: bytes | memoryview, object_id: str) -> str:
    """Why segment ``index`` failed: truncation and trailing data are told apart from damage."""
    nonce, aad = _segment_nonce_aad(prefix, digest, index, not final)
    try:
        aead.decrypt(nonce, sealed, aad)
    except InvalidTag:
        return (f"object '{object_id}': segment {index} failed authentication (content altered, "
                "reordered or spliced from another object)")
    if final:
        return (f"object '{object_id}': segment {index} is not the final segment but the stream "
                "ends there: the object is truncated")
    return (f"object '{object_id}': segment {index} is the final segment but data follows it "
            "(bytes appended)")


# --------------------------------------------------------------------------- rotation


def rewrap_header(data: bytes | bytearray | memoryview | Iterable[Chunk], *, object_id: str,
                  provider: KeyProvider, new_key_id: str | None,
                  context: Mapping[str, str]) -> bytes:
    """A new header whose data key is re-wrapped under ``new_key_id``; content untouched.

    ``data`` is the object's leading bytes (at least its header) or its chunks.
    The old key must still unwrap (that proves the header is intact), and the
    new wrapped key is unwrapped once more and checked against the key
    commitment before the header is returned, so a faulty re-wrap can never
    replace a good header.

    Raises:
        IntegrityError: corrupted header / commitment mismatch.
        KeyProviderError / KeyUnavailable: from the provider.
    """
    header = read_header(data, object_id=object_id)
    key_provider = _resolve(provider, header)
    _unwrap_and_check(header, key_provider, context)
    bound = _bound_context(object_id, context)
    rewrapped = key_provider.rewrap(header.wrapped, bound, new_key_id)
    new_header = header.model_copy(update={"wrapped": rewrapped})
    _unwrap_and_check(new_header, key_provider, context)
    return _assemble_header(header.immutable, header.commitment, rewrapped)


def rewrap_stream(chunks: Iterable[Chunk], *, object_id: str, provider: KeyProvider,
                  new_key_id: str | None, context: Mapping[str, str]) -> Iterator[bytes]:
    """The object with its header replaced by a re-wrapped one; segments pass through as is."""
    reader = _Reader(chunks)
    header = _parse_header(reader, object_id)
    key_provider = _resolve(provider, header)
    _unwrap_and_check(header, key_provider, context)
    rewrapped = key_provider.rewrap(header.wrapped, _bound_context(object_id, context), new_key_id)
    _unwrap_and_check(header.model_copy(update={"wrapped": rewrapped}), key_provider, context)
    yield _assemble_header(header.immutable, header.commitment, rewrapped)
    for piece in reader.remaining():
        yield piece if isinstance(piece, bytes) else bytes(piece)


def encrypt_bytes(data: bytes, *, object_id: str, provider: KeyProvider, key_id: str,
                  context: Mapping[str, str], segment_size: int = DEFAULT_SEGMENT_SIZE) -> bytes:
    """``encrypt_stream`` for a small in-memory object (keyrings, token maps)."""
    return b"".join(encrypt_stream([data], object_id=object_id, provider=provider,
                                   key_id=key_id, context=context, segment_size=segment_size))


def decrypt_bytes(data: bytes, *, object_id: str, provider: KeyProvider | ProviderResolver,
                  context: Mapping[str, str]) -> bytes:
    """``decrypt_stream`` for a small in-memory object."""
    return b"".join(decrypt_stream([data], object_id=object_id, provider=provider,
                                   context=context))
