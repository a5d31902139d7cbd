"""Temporal payload encryption: nothing readable about patients reaches Temporal.

Every payload (workflow and activity arguments, results, heartbeat details,
and failure messages and stack traces through
``DefaultFailureConverterWithEncodedAttributes``) is serialized and sealed
with AES-256-GCM under a *codec key*. The encoded payload carries
``encoding=binary/encrypted`` and the codec key id in its metadata, so after
a rotation old histories still decode with the old key.

Codec keys are data keys from a ``KeyProvider``: the keyring file
(``codec-keys.json``, mode 0600) holds them only wrapped, and they are
unwrapped once at startup. Each codec key is bound to its id and purpose via
the wrapping context, so a wrapped key relabelled in the file does not
unwrap. Payloads use random 96-bit nonces; ``rotate()`` regularly (well
before 2^32 payloads per key) keeps nonce collisions out of reach.

The associated data of every sealed payload is its key id, so moving a
payload under another key id fails authentication instead of decrypting to
garbage.

One exception to "every payload": UI summaries. ``SummaryPayloadConverter``
marks the payload of a ``contracts.summary.Summary`` (model, version, stage,
placement: never patient data, by construction) and the codec leaves a
marked payload in clear if it is a short JSON string (dropping the marker, so
it is a plain ``json/plain`` string in history), so on-call staff read
summaries without the codec server. Anything else marked is sealed anyway.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from medpipe.activities.atomicfile import write_atomically
from medpipe.activities.keys.base import KeyProvider, WrappedKey
from medpipe.contracts.errors import IntegrityError, InvalidInput, KeyProviderError
from medpipe.contracts.summary import CLEAR_METADATA, MAX_SUMMARY_CHARS, is_summary

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEYRING_FILE = "codec-keys.json"
_FORMAT = 1
_NONCE = 12
_PURPOSE = "temporal-payload-codec"


def _context(codec_key_id: str) -> dict[str, str]:
    return {"purpose": _PURPOSE, "codec_key": codec_key_id}


class SummaryPayloadConverter(PydanticPayloadConverter):
    """The pydantic payload converter, marking the payloads of UI summaries as clear."""

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        payloads = super().to_payloads(values)
        for value, p in zip(values, payloads, strict=True):
            if is_summary(value):
                p.metadata[CLEAR_METADATA] = b"1"
        return payloads


def is_clear_summary(payload: Payload) -> bool:
    """Whether the codec leaves ``payload`` in clear: a marked, short JSON string."""
    return (payload.metadata.get(CLEAR_METADATA) == b"1"
            and payload.metadata.get("encoding") == b"json/plain"
            and payload.data[:1] == b'"'
            and len(payload.data) <= 6 * MAX_SUMMARY_CHARS + 2
            and len(payload.metadata) == 2)


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec over a small keyring of provider-wrapped keys."""

    def __init__(self, keys: Mapping[str, bytes], current: str,
                 keyring: CodecKeyring | None = None) -> None:
        """Args:
        keys: codec key id -> 32-byte key (clear, in memory only).
        current: the key id new payloads are sealed with.
        keyring: where the keys came from (for ``rotate`` and reloads).
        """
        if current not in keys:
            raise InvalidInput(f"current codec key '{current}' is not among the keys")
        self._lock = threading.Lock()
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self._current = current
        self._keyring = keyring

    @classmethod
    def open(cls, directory: Path, provider: KeyProvider, kek_id: str) -> EncryptionCodec:
        """The codec for the keyring in ``directory`` (created with one key if absent).

        Raises:
            KeyProviderError / KeyUnavailable: a codec key does not unwrap.
            InvalidInput: the keyring file is unreadable or too open (not 0600).
        """
        keyring = CodecKeyring(directory / KEYRING_FILE, provider, kek_id)
        keys, current = keyring.load(create=True)
        return cls(keys, current, keyring)

    @property
    def current_key_id(self) -> str:
        """The key id new payloads are sealed with."""
        return self._current

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec can decode."""
        return sorted(self._ciphers)

    def rotate(self) -> str:
        """Add a new codec key, make it current and persist it; old payloads still decode."""
        if self._keyring is None:
            raise InvalidInput("this codec has no keyring file to rotate")
        keys, current = self._keyring.rotate()
        with self._lock:
            self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
            self._current = current
        return current

    def _reload(self) -> None:
        """Pick up keys another process added to the keyring (after its rotation)."""
        if self._keyring is None:
            return
        keys, current = self._keyring.load(create=False)
        with self._lock:
            self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
            self._current = current

    def encode_one(self, payload: Payload) -> Payload:
        """Seal one payload (the whole serialized payload, metadata included).

        A UI summary (``is_clear_summary``) is returned unsealed, without the
        marker, so the UI and ``temporal workflow describe`` show it as text.
        """
        if is_clear_summary(payload):
            return Payload(metadata={"encoding": b"json/plain"}, data=payload.data)
        key_id = self._current
        aead = self._ciphers[key_id]
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
                       data=nonce + sealed)

    def decode_one(self, payload: Payload) -> Payload:
        """Open one payload; payloads that are not ``binary/encrypted`` pass through.

        Raises:
            KeyProviderError: sealed with a codec key this keyring does not have.
            IntegrityError: the payload fails authentication.
        """
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", "replace")
        aead = self._ciphers.get(key_id)
        if aead is None:
            self._reload()
            aead = self._ciphers.get(key_id)
        if aead is None:
            raise KeyProviderError(
                f"payload sealed with codec key '{key_id}', which is not in this process's "
                f"codec keyring (known: {', '.join(self.key_ids)}): it was written by a "
                "process with another keyring (another stack on the same Temporal address, "
                "or a replaced keyring)")
        blob = payload.data
        try:
            clear = aead.decrypt(blob[:_NONCE], blob[_NONCE:], key_id.encode())
        except (InvalidTag, ValueError):
            raise IntegrityError(f"encrypted payload under codec key '{key_id}' fails "
                                 "authentication (altered or truncated)") from None
        out = Payload()
        out.ParseFromString(clear)
        return out

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(p) for p in payloads]


class CodecKeyring:
    """The codec keys, wrapped, in one JSON file (0600, atomic replace under flock).

    File layout::

        {"format": 1, "current": "ck2-…",
         "keys": {"ck1-…": {"provider": "local", "key_id": "kek#v1",
                            "wrapped": "<base64>", "created": "2026-…"}, …}}
    """

    def __init__(self, path: Path, provider: KeyProvider, kek_id: str) -> None:
        self.path = path
        self.provider = provider
        self.kek_id = kek_id

    def _read(self) -> dict[str, Any] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        if st.st_mode & 0o077:
            raise InvalidInput(f"codec keyring {self.path} has mode "
                               f"{stat.S_IMODE(st.st_mode):04o}; it must be 0600 "
                               f"(chmod 600 {self.path})")
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError) as e:
            raise InvalidInput(f"codec keyring {self.path} is unreadable "
                               f"({type(e).__name__})") from e
        well_formed = (isinstance(data, dict) and data.get("format") == _FORMAT
                       and isinstance(data.get("keys"), dict)
                       and data.get("current") in data["keys"])
        if not well_formed:
            raise InvalidInput(f"codec keyring {self.path} has an unknown format")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _new_entry(self, data: dict[str, Any]) -> str:
        key_id = f"ck{len(data['keys']) + 1}-{secrets.token_hex(4)}"
        _, wrapped = self.provider.new_data_key(self.kek_id, _context(key_id))
        data["keys"][key_id] = {
            "provider": wrapped.provider, "key_id": wrapped.key_id,
            "wrapped": base64.b64encode(wrapped.wrapped).decode(),
            "created": datetime.now(UTC).isoformat(timespec="seconds")}
        data["current"] = key_id
        return key_id

    def _unwrap_all(self, data: dict[str, Any]) -> tuple[dict[str, bytes], str]:
        keys: dict[str, bytes] = {}
        for key_id, entry in data["keys"].items():
            wrapped = WrappedKey(provider=entry["provider"], key_id=entry["key_id"],
                                 wrapped=base64.b64decode(entry["wrapped"]))
            keys[key_id] = self.provider.unwrap(wrapped, _context(key_id))
        return keys, str(data["current"])

    def load(self, create: bool) -> tuple[dict[str, bytes], str]:
        """Every codec key, unwrapped, and the current key id (creating the file if asked)."""
        data = self._read()
        if data is None:
            if not create:
                raise InvalidInput(f"no codec keyring at {self.path}")
            with self._locked():
                data = self._read()
                if data is None:
                    data = {"format": _FORMAT, "keys": {}, "current": None}
                    self._new_entry(data)
                    self._write(data)
        return self._unwrap_all(data)

    def rotate(self) -> tuple[dict[str, bytes], str]:
        """Add a new current key (under the lock) and return the whole keyring."""
        with self._locked():
            data = self._read() or {"format": _FORMAT, "keys": {}, "current": None}
            self._new_entry(data)
            self._write(data)
        return self._unwrap_all(data)


def make_data_converter(codec: PayloadCodec) -> DataConverter:
    """The pydantic data converter with ``codec`` on every payload and encoded failures.

    ``DefaultFailureConverterWithEncodedAttributes`` moves failure messages and
    stack traces into an encoded payload, so error text (which may quote data)
    is sealed like everything else; ``SummaryPayloadConverter`` marks UI
    summaries, which the codec leaves in clear.
    """
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=codec,
        payload_converter_class=SummaryPayloadConverter,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


def open_codec(home: Path, key_uri: str, kek_id: str) -> EncryptionCodec:
    """The codec for ``$MEDPIPE_HOME`` (``home/codec-keys.json``), keys wrapped by ``kek_id``."""
    from medpipe.activities.keys.base import open_provider

    return EncryptionCodec.open(home, open_provider(key_uri), kek_id)
