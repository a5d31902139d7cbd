"""Envelope encryption: round trips, every tamper case, rotation, provider errors.

Most tests use a tiny in-memory provider (``MemoryProvider``) so the envelope
is checked on its own; the ``local://`` keyring provider is used for the
rotation and crypto-shredding cases, as the pipeline would.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities import envelope
from medpipe.activities.envelope import (
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    read_header,
    rewrap_header,
    rewrap_stream,
)
from medpipe.activities.keys.base import WrappedKey, open_provider
from medpipe.contracts.errors import IntegrityError, InvalidInput, KeyProviderError
from tests.keyfixtures import hsm_dir, hsm_token, kms_endpoint, kms_key_uri

__all__ = ["hsm_dir", "hsm_token", "kms_endpoint"]  # re-exported fixtures

CTX = {"release": "r-1"}
SEG = 64  # small segments: many segments from small objects


class MemoryProvider:
    """A minimal in-memory KeyProvider for unit tests (AES-GCM wrap, context as AAD)."""

    scheme = "memory"

    def __init__(self) -> None:
        self.keks: dict[str, bytes] = {}
        self.unwraps = 0

    def create_key(self, key_id: str) -> str:
        self.keks[key_id] = os.urandom(32)
        return key_id

    def _aad(self, key_id: str, context: Mapping[str, str]) -> bytes:
        return (key_id + "|" + "|".join(f"{k}={v}" for k, v in sorted(context.items()))).encode()

    def _wrap(self, key_id: str, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        if key_id not in self.keks:
            raise KeyProviderError(f"unknown key '{key_id}'")
        nonce = os.urandom(12)
        blob = AESGCM(self.keks[key_id]).encrypt(nonce, data_key, self._aad(key_id, context))
        return WrappedKey(provider=self.scheme, key_id=key_id, wrapped=nonce + blob)

    def new_data_key(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        data_key = os.urandom(32)
        return data_key, self._wrap(key_id, data_key, context)

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        self.unwraps += 1
        kek = self.keks.get(wrapped.key_id)
        if kek is None:
            raise KeyProviderError(f"unknown or destroyed key '{wrapped.key_id}'")
        try:
            return AESGCM(kek).decrypt(wrapped.wrapped[:12], wrapped.wrapped[12:],
                                       self._aad(wrapped.key_id, context))
        except InvalidTag as e:
            raise KeyProviderError(f"wrapped key does not unwrap with '{wrapped.key_id}'") from e

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str],
               new_key_id: str | None = None) -> WrappedKey:
        return self._wrap(new_key_id or wrapped.key_id, self.unwrap(wrapped, context), context)

    def destroy(self, key_id: str) -> None:
        del self.keks[key_id]

    # Not needed by the envelope: refused, so the class still satisfies KeyProvider.
    def rotate(self, key_id: str) -> str:
        raise KeyProviderError("the in-test provider has no key versions")

    def create_signing_key(self, key_id: str) -> str:
        raise KeyProviderError("the in-test provider does not sign")

    def sign_digest(self, key_id: str, sha256_digest: bytes) -> bytes:
        raise KeyProviderError("the in-test provider does not sign")

    def public_key_pem(self, key_id: str) -> bytes:
        raise KeyProviderError("the in-test provider does not sign")


@pytest.fixture
def mem() -> MemoryProvider:
    provider = MemoryProvider()
    provider.create_key("kek-1")
    return provider


def seal(provider: MemoryProvider, data: bytes, object_id: str = "obj/a",
         segment_size: int = SEG) -> bytes:
    return encrypt_bytes(data, object_id=object_id, provider=provider, key_id="kek-1",
                         context=CTX, segment_size=segment_size)


def open_(provider: object, blob: bytes, object_id: str = "obj/a") -> bytes:
    return decrypt_bytes(blob, object_id=object_id, provider=provider,  # type: ignore[arg-type]
                         context=CTX)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


# ----------------------------------------------------------------- round trips


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 10 * SEG + 7])
def test_round_trip_sizes(mem: MemoryProvider, size: int) -> None:
    data = os.urandom(size)
    blob = seal(mem, data)
    header = read_header(blob, object_id="obj/a")
    segments = max(1, -(-size // SEG))
    assert len(blob) == header.length + size + segments * envelope.TAG_SIZE
    assert open_(mem, blob) == data


def test_ciphertext_hides_plaintext_and_differs_each_time(mem: MemoryProvider) -> None:
    data = b"patient-0042 diagnosis " * 50
    first, second = seal(mem, data), seal(mem, data)
    assert b"patient-0042" not in first
    assert first != second  # fresh data key and nonce prefix per object


def test_chunking_of_input_and_ciphertext_does_not_matter(mem: MemoryProvider) -> None:
    data = os.urandom(5 * SEG + 3)
    blob = b"".join(encrypt_stream(pieces(data, 7), object_id="obj/a", provider=mem,
                                   key_id="kek-1", context=CTX, segment_size=SEG))
    for size in (1, 13, SEG + envelope.TAG_SIZE, 1000):
        out = b"".join(decrypt_stream(pieces(blob, size), object_id="obj/a", provider=mem,
                                      context=CTX))
        assert out == data


def test_mutable_input_chunks_are_safe(mem: MemoryProvider) -> None:
    """A producer reusing one bytearray must not corrupt the ciphertext."""
    data = os.urandom(4 * SEG)

    def reused() -> Iterator[bytearray]:
        buf = bytearray(SEG)
        for i in range(0, len(data), SEG):
            buf[:] = data[i:i + SEG]
            yield buf

    blob = b"".join(encrypt_stream(reused(), object_id="obj/a", provider=mem, key_id="kek-1",
                                   context=CTX, segment_size=SEG))
    assert open_(mem, blob) == data


def test_decrypt_yields_per_segment_and_stops_at_damage(mem: MemoryProvider) -> None:
    data = os.urandom(4 * SEG)
    blob = bytearray(seal(mem, data))
    hlen = read_header(bytes(blob)).length
    blob[hlen + 2 * (SEG + 16) + 5] ^= 1  # damage segment 2
    got: list[bytes] = []
    with pytest.raises(IntegrityError, match=r"object 'obj/a': segment 2 failed"):
        for plain in decrypt_stream([bytes(blob)], object_id="obj/a", provider=mem, context=CTX):
            got.append(plain)
    assert got == [data[:SEG], data[SEG:2 * SEG]]


def test_resolver_picks_provider_by_scheme(mem: MemoryProvider) -> None:
    blob = seal(mem, b"hello")
    asked: list[str] = []

    def resolve(scheme: str) -> MemoryProvider:
        asked.append(scheme)
        return mem

    assert open_(resolve, blob) == b"hello"
    assert asked == ["memory"]


def test_bad_arguments_are_invalid_input(mem: MemoryProvider) -> None:
    with pytest.raises(InvalidInput, match="segment size"):
        encrypt_stream([b"x"], object_id="o", provider=mem, key_id="kek-1", context=CTX,
                       segment_size=8)
    with pytest.raises(InvalidInput, match="object id"):
        encrypt_stream([b"x"], object_id="", provider=mem, key_id="kek-1", context=CTX)
    with pytest.raises(InvalidInput, match="context names object 'other'"):
        encrypt_stream([b"x"], object_id="o", provider=mem, key_id="kek-1",
                       context={"object_id": "other"})


# ----------------------------------------------------------------- tampering


def content_start(blob: bytes) -> int:
    return read_header(blob).length


def test_truncation_at_segment_boundary(mem: MemoryProvider) -> None:
    blob = seal(mem, os.urandom(3 * SEG))
    cut = content_start(blob) + 2 * (SEG + 16)
    with pytest.raises(IntegrityError, match="segment 1 is not the final segment.*truncated"):
        open_(mem, blob[:cut])


def test_truncation_inside_a_segment(mem: MemoryProvider) -> None:
    blob = seal(mem, os.urandom(3 * SEG))
    with pytest.raises(IntegrityError, match="object 'obj/a': segment 2"):
        open_(mem, blob[:-5])


def test_truncation_to_header_only(mem: MemoryProvider) -> None:
    blob = seal(mem, b"")
    with pytest.raises(IntegrityError, match="segment 0 missing.*truncated"):
        open_(mem, blob[:content_start(blob)])


def test_data_appended_after_final_segment(mem: MemoryProvider) -> None:
    blob = seal(mem, os.urandom(2 * SEG))
    with pytest.raises(IntegrityError, match="segment 1 is the final segment but data follows"):
        open_(mem, blob + os.urandom(SEG + 16))


def test_reordered_segments(mem: MemoryProvider) -> None:
    blob = seal(mem, os.urandom(3 * SEG))
    start, step = content_start(blob), SEG + 16
    s0, s1 = blob[start:start + step], blob[start + step:start + 2 * step]
    swapped = blob[:start] + s1 + s0 + blob[start + 2 * step:]
    with pytest.raises(IntegrityError, match="segment 0 failed authentication"):
        open_(mem, swapped)


def test_segment_spliced_from_another_object(mem: MemoryProvider) -> None:
    a, b = seal(mem, os.urandom(2 * SEG)), seal(mem, os.urandom(2 * SEG), "obj/b")
    start, step = content_start(a), SEG + 16
    b_start = content_start(b)
    spliced = a[:start + step] + b[b_start + step:]
    with pytest.raises(IntegrityError, match="object 'obj/a': segment 1 failed"):
        open_(mem, spliced)


def test_header_of_another_object(mem: MemoryProvider) -> None:
    a, b = seal(mem, b"a" * 100), seal(mem, b"b" * 100, "obj/b")
    swapped = b[:content_start(b)] + a[content_start(a):]
    with pytest.raises(IntegrityError, match="header belongs to object 'obj/b'"):
        open_(mem, swapped)


def test_header_of_another_version_of_the_same_object(mem: MemoryProvider) -> None:
    """Same object id, encrypted twice: the headers' keys differ, so content fails."""
    a, b = seal(mem, b"a" * 100), seal(mem, b"b" * 100)
    swapped = b[:content_start(b)] + a[content_start(a):]
    with pytest.raises(IntegrityError, match="segment 0 failed authentication"):
        open_(mem, swapped)


def test_key_section_swapped_between_versions(mem: MemoryProvider) -> None:
    """A valid key section from another encryption of the object: the commitment catches it."""
    a, b = seal(mem, b"a" * 100), seal(mem, b"b" * 100)
    ha, hb = read_header(a), read_header(b)
    forged = envelope._assemble_header(ha.immutable, ha.commitment, hb.wrapped)
    with pytest.raises(IntegrityError, match="key commitment does not match"):
        open_(mem, forged + a[ha.length:])


def test_segment_size_forged_with_valid_checksum(mem: MemoryProvider) -> None:
    blob = seal(mem, os.urandom(4 * SEG))
    h = read_header(blob)
    immutable = bytearray(h.immutable)
    struct.pack_into(">I", immutable, 6, 2 * SEG)
    forged = envelope._assemble_header(bytes(immutable), h.commitment, h.wrapped)
    with pytest.raises(IntegrityError, match="key commitment does not match"):
        open_(mem, forged + blob[h.length:])


@pytest.mark.parametrize("where,pattern", [
    (0, "bad magic"), (4, "format version"), (5, "algorithm"), (20, "header")])
def test_corrupted_header_fields(mem: MemoryProvider, where: int, pattern: str) -> None:
    blob = bytearray(seal(mem, b"x" * 10))
    blob[where] ^= 0x40
    with pytest.raises(IntegrityError, match=pattern):
        open_(mem, bytes(blob))


def test_corrupted_wrapped_key_is_a_header_integrity_error(mem: MemoryProvider) -> None:
    blob = bytearray(seal(mem, b"x" * 10))
    h = read_header(bytes(blob))
    blob[h.length - envelope.CHECKSUM_SIZE - 3] ^= 1  # inside the wrapped key
    with pytest.raises(IntegrityError, match="object 'obj/a': header checksum mismatch"):
        open_(mem, bytes(blob))


def test_not_an_envelope() -> None:
    with pytest.raises(IntegrityError, match="object 'o': header truncated"):
        read_header(b"MPEV", object_id="o")
    with pytest.raises(IntegrityError, match="bad magic"):
        read_header(b"PK\x03\x04" + bytes(100))


# ----------------------------------------------------------------- key errors


def test_wrong_context_is_a_key_error(mem: MemoryProvider) -> None:
    blob = seal(mem, b"hello")
    with pytest.raises(KeyProviderError, match="does not unwrap"):
        decrypt_bytes(blob, object_id="obj/a", provider=mem, context={"release": "r-2"})


def test_destroyed_key_is_a_key_error_not_integrity(mem: MemoryProvider) -> None:
    blob = seal(mem, b"hello")
    mem.destroy("kek-1")
    with pytest.raises(KeyProviderError, match="kek-1"):
        open_(mem, blob)


def test_provider_of_another_kind(mem: MemoryProvider, tmp_path: object) -> None:
    blob = seal(mem, b"hello")
    other = MemoryProvider()
    other.scheme = "local"
    with pytest.raises(KeyProviderError, match="wrapped by a 'memory' key"):
        open_(other, blob)


def test_unknown_key_on_encrypt(mem: MemoryProvider) -> None:
    with pytest.raises(KeyProviderError, match="unknown key 'nope'"):
        b"".join(encrypt_stream([b"x"], object_id="o", provider=mem, key_id="nope",
                                context=CTX))


# ----------------------------------------------------------------- rotation


def test_rewrap_header_keeps_content_and_switches_key(mem: MemoryProvider) -> None:
    data = os.urandom(5 * SEG)
    blob = seal(mem, data)
    mem.create_key("kek-2")
    new_header = rewrap_header(blob[:300], object_id="obj/a", provider=mem, new_key_id="kek-2",
                               context=CTX)
    old = read_header(blob)
    rotated = new_header + blob[old.length:]
    assert read_header(rotated).wrapped.key_id == "kek-2"
    assert blob[old.length:] == rotated[len(new_header):]  # content untouched
    mem.destroy("kek-1")
    assert open_(mem, rotated) == data
    with pytest.raises(KeyProviderError):
        open_(mem, blob)


def test_rewrap_stream(mem: MemoryProvider) -> None:
    data = os.urandom(3 * SEG + 1)
    blob = seal(mem, data)
    mem.create_key("kek-2")
    rotated = b"".join(rewrap_stream(pieces(blob, 50), object_id="obj/a", provider=mem,
                                     new_key_id="kek-2", context=CTX))
    mem.destroy("kek-1")
    assert open_(mem, rotated) == data


def test_rewrap_refuses_a_damaged_header(mem: MemoryProvider) -> None:
    blob = seal(mem, b"x")
    h = read_header(blob)
    immutable = bytearray(h.immutable)
    immutable[-1] ^= 1  # object id 'obj/a' -> 'obj/`'
    forged = envelope._assemble_header(bytes(immutable), h.commitment, h.wrapped)
    mem.create_key("kek-2")
    with pytest.raises(IntegrityError, match="belongs to object"):
        rewrap_header(forged, object_id="obj/a", provider=mem, new_key_id="kek-2", context=CTX)


def test_local_provider_rotation_and_shredding(tmp_path: object) -> None:
    provider = open_provider(f"local://{tmp_path}/keyring.json")
    kek = provider.create_key("content")
    data = os.urandom(3 * SEG + 5)
    blob = encrypt_bytes(data, object_id="releases/r1/data", provider=provider, key_id="content",
                         context=CTX, segment_size=SEG)
    assert read_header(blob).wrapped.key_id == kek
    new_version = provider.rotate("content")
    rotated = b"".join(rewrap_stream([blob], object_id="releases/r1/data", provider=provider,
                                     new_key_id=None, context=CTX))
    assert read_header(rotated).wrapped.key_id == new_version
    assert decrypt_bytes(rotated, object_id="releases/r1/data", provider=provider,
                         context=CTX) == data
    provider.destroy("content")
    with pytest.raises(KeyProviderError, match="destroyed"):
        decrypt_bytes(rotated, object_id="releases/r1/data", provider=provider, context=CTX)


@pytest.mark.parametrize("backend", ["aws-kms", "pkcs11"])
def test_real_providers_round_trip_rotate_shred(request: pytest.FixtureRequest,
                                                backend: str) -> None:
    """The envelope over moto's KMS and a SoftHSM2 token, as in production."""
    uri = (kms_key_uri(request.getfixturevalue("kms_endpoint")) if backend == "aws-kms"
           else request.getfixturevalue("hsm_token"))
    provider = open_provider(uri)
    name = f"env-{os.urandom(3).hex()}"
    provider.create_key(name)
    data = os.urandom(3 * SEG + 9)
    blob = encrypt_bytes(data, object_id="releases/r9/model.onnx", provider=provider,
                         key_id=name, context=CTX, segment_size=SEG)
    assert read_header(blob).wrapped.provider == backend
    assert decrypt_bytes(blob, object_id="releases/r9/model.onnx", provider=provider,
                         context=CTX) == data
    new_version = provider.rotate(name)
    rotated = b"".join(rewrap_stream([blob], object_id="releases/r9/model.onnx",
                                     provider=provider, new_key_id=new_version, context=CTX))
    assert read_header(rotated).wrapped.key_id == new_version
    assert rotated[read_header(rotated).length:] == blob[read_header(blob).length:]
    assert decrypt_bytes(rotated, object_id="releases/r9/model.onnx", provider=provider,
                         context=CTX) == data
    provider.destroy(name)
    with pytest.raises(KeyProviderError):
        decrypt_bytes(rotated, object_id="releases/r9/model.onnx", provider=provider,
                      context=CTX)


# ----------------------------------------------------------------- properties

_PROVIDER = MemoryProvider()
_PROVIDER.create_key("kek-1")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.one_of(st.integers(0, 12 * SEG), st.sampled_from([0, SEG, 2 * SEG, 7 * SEG])),
       seg=st.sampled_from([16, 17, SEG, 100]), chunk=st.integers(1, 300))
def test_property_round_trip(size: int, seg: int, chunk: int) -> None:
    data = os.urandom(size)
    blob = b"".join(encrypt_stream(pieces(data, chunk), object_id="p", provider=_PROVIDER,
                                   key_id="kek-1", context=CTX, segment_size=seg))
    out = b"".join(decrypt_stream(pieces(blob, chunk), object_id="p", provider=_PROVIDER,
                                  context=CTX))
    assert out == data


def test_every_single_byte_flip_fails() -> None:
    """Exhaustive over a small 3-segment object: any flipped byte, header included, fails."""
    data = os.urandom(2 * 16 + 5)
    blob = encrypt_bytes(data, object_id="flip", provider=_PROVIDER, key_id="kek-1",
                         context=CTX, segment_size=16)
    for i in range(len(blob)):
        damaged = bytearray(blob)
        damaged[i] ^= 0x01
        with pytest.raises(IntegrityError):
            decrypt_bytes(bytes(damaged), object_id="flip", provider=_PROVIDER, context=CTX)


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, 10_000), mask=st.integers(1, 255))
def test_property_any_flip_any_bit_fails(position: int, mask: int) -> None:
    data = b"0123456789" * 20
    blob = encrypt_bytes(data, object_id="flip", provider=_PROVIDER, key_id="kek-1",
                         context=CTX, segment_size=32)
    damaged = bytearray(blob)
    damaged[position % len(blob)] ^= mask
    with pytest.raises(IntegrityError):
        decrypt_bytes(bytes(damaged), object_id="flip", provider=_PROVIDER, context=CTX)


@pytest.mark.slow
def test_large_object_streams_in_constant_chunks(mem: MemoryProvider) -> None:
    """64 MiB through 1 MiB segments: every yielded piece is at most one segment."""
    block = os.urandom(1 << 20)

    def source() -> Iterator[bytes]:
        for _ in range(64):
            yield block

    sealed = encrypt_stream(source(), object_id="big", provider=mem, key_id="kek-1",
                            context=CTX)
    total = 0
    for plain in decrypt_stream(sealed, object_id="big", provider=mem, context=CTX):
        assert len(plain) <= envelope.DEFAULT_SEGMENT_SIZE
        assert plain == block
        total += len(plain)
    assert total == 64 << 20
