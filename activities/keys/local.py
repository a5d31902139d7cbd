"""``local://`` key provider: a keyring file, for development and tests.

``local:///abs/path/keyring.json`` holds AES-256 key-encryption keys (with
versions) and ECDSA P-256 signing keys in one JSON file::

    {"format": 1,
     "keys": {"kek-a": {"kind": "aes-256", "current": 2,
                        "versions": {"1": "<base64>", "2": "<base64>"}},
              "signer": {"kind": "ecdsa-p256", "pem": "-----BEGIN PRIVATE KEY-----..."}},
     "destroyed": {"kek-b": {"kind": "aes-256", "at": "2026-01-01T00:00:00+00:00"}}}

Why these choices:

- The file holds secrets in the clear, so it must be readable by its owner
  only: a keyring with any group/other permission is refused (the message
  gives the mode and the ``chmod 600`` fix). It is created 0600 and every
  write replaces it atomically (temp file + fsync + rename) under an
  ``flock``, so concurrent workers never read half a keyring.
- A data key is wrapped with AES-256-GCM; the AAD is the exact key version
  plus the canonical (sorted JSON) context, so a wrapped key copied to
  another object, or relabelled with another version, does not unwrap.
- ``destroy`` removes every version and keeps a *tombstone*, so unwrapping
  later says "destroyed" rather than "unknown", and the name is never reused
  (a new key under an old name would turn crypto-shredding into confusion).
  Being a plain file, old keyring contents may survive on disk blocks:
  this backend demonstrates crypto-shredding, a KMS/HSM provides it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import stat
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from medpipe.activities.atomicfile import write_atomically
from medpipe.activities.keys.base import (
    WrappedKey,
    canonical_context,
    check_key_name,
    register,
    split_version,
    wrapping_key,
)
from medpipe.contracts.errors import AlreadyExists, InvalidInput, KeyProviderError

_FORMAT = 1
_KEK = "aes-256"
_SIGNING = "ecdsa-p256"
_NONCE = 12
_AAD_PREFIX = b"medpipe/local-wrap/v1\x00"


def _empty() -> dict[str, Any]:
    return {"format": _FORMAT, "keys": {}, "destroyed": {}}


@register("local")
class LocalKeyProvider:
    """Keys kept in a 0600 JSON keyring file (development only)."""

    scheme = "local"

    def __init__(self, key_uri: str) -> None:
        parts = urlsplit(key_uri)
        path = unquote(parts.path)
        if parts.scheme != "local" or parts.netloc not in ("", "localhost") \
                or not path.startswith("/") or parts.query:
            raise InvalidInput(f"'{key_uri}' is not a local key URI: expected "
                               "local:///absolute/path/keyring.json")
        self.key_uri = key_uri
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._mutex = threading.Lock()
        self._cache_stamp: tuple[int, int, int] | None = None
        self._cache: dict[str, Any] = _empty()
        self._aead: dict[tuple[str, int], AESGCM] = {}
        if self.path.exists():
            self._load()  # refuse a badly protected keyring at once

    # -- keyring file ------------------------------------------------------
    def _check_mode(self, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            raise KeyProviderError(f"keyring {self.path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeyProviderError(
                f"keyring {self.path} has mode {stat.S_IMODE(st.st_mode):04o}: it holds keys "
                f"in the clear and must be readable by its owner only; "
                f"fix with: chmod 600 {self.path}")

    def _load(self) -> dict[str, Any]:
        """The keyring as a dict (re-read only when the file was replaced)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._cache_stamp, self._cache = None, _empty()
            return self._cache
        except OSError as e:
            raise KeyProviderError(f"keyring {self.path} cannot be read: {e.strerror}") from e
        self._check_mode(st)
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._cache_stamp:
            return self._cache
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError) as e:
            raise KeyProviderError(f"keyring {self.path} is not a readable keyring "
                                   f"({type(e).__name__})") from e
        if not isinstance(data, dict) or data.get("format") != _FORMAT \
                or not isinstance(data.get("keys"), dict):
            raise KeyProviderError(f"keyring {self.path} has an unknown format")
        data.setdefault("destroyed", {})
        self._cache_stamp, self._cache = stamp, data
        self._aead.clear()
        return data

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, Any]]:
        """Lock the keyring, yield a copy to edit, then replace the file atomically."""
        with self._mutex:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                data = json.loads(json.dumps(self._load()))  # deep copy
                yield data
                self._write(data)
            finally:
                os.close(fd)

    def _write(self, data: dict[str, Any]) -> None:
        write_atomically(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    # -- lookups -----------------------------------------------------------
    def _entry(self, data: dict[str, Any], name: str, kind: str) -> dict[str, Any]:
        entry = data["keys"].get(name)
        if entry is None:
            tomb = data["destroyed"].get(name)
            if tomb is not None:
                raise KeyProviderError(f"key '{name}' was destroyed at {tomb.get('at')}: "
                                       "what it protected is unrecoverable")
            raise KeyProviderError(f"unknown key '{name}' in keyring {self.path}")
        if entry.get("kind") != kind:
            what = "an AES key-encryption key" if kind == _KEK else "an ECDSA signing key"
            raise KeyProviderError(f"key '{name}' is not {what} (it is {entry.get('kind')})")
        return entry

    def _kek(self, key_id: str) -> tuple[str, AESGCM]:
        """The exact versioned id and cipher for ``key_id`` (bare name: current version)."""
        with self._mutex:
            data = self._load()
            name, version = split_version(key_id)
            entry = self._entry(data, name, _KEK)
            if version is None:
                version = int(entry["current"])
            cached = self._aead.get((name, version))
            if cached is None:
                material = entry["versions"].get(str(version))
                if material is None:
                    raise KeyProviderError(f"key '{name}' has no version v{version}")
                cached = AESGCM(base64.b64decode(material))
                self._aead[(name, version)] = cached
            return f"{name}#v{version}", cached

    def _signing_key(self, key_id: str) -> ec.EllipticCurvePrivateKey:
        with self._mutex:
            entry = self._entry(self._load(), check_key_name(key_id), _SIGNING)
            key = serialization.load_pem_private_key(entry["pem"].encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyProviderError(f"key '{key_id}' is not an EC private key")
        return key

    # -- key-encryption keys ------------------------------------------------
    def _wrap(self, key_id: str, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        versioned, aead = self._kek(key_id)
        nonce = os.urandom(_NONCE)
        aad = _AAD_PREFIX + versioned.encode() + b"\x00" + canonical_context(context)
        return WrappedKey(provider=self.scheme, key_id=versioned,
                          wrapped=nonce + aead.encrypt(nonce, data_key, aad))

    def new_data_key(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        data_key = os.urandom(32)
        return data_key, self._wrap(key_id, data_key, context)

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        wrapping_key(wrapped, self.scheme)  # this provider's, and a version named
        versioned, aead = self._kek(wrapped.key_id)
        aad = _AAD_PREFIX + versioned.encode() + b"\x00" + canonical_context(context)
        blob = wrapped.wrapped
        try:
            return aead.decrypt(blob[:_NONCE], blob[_NONCE:], aad)
        except (InvalidTag, ValueError) as e:
            raise KeyProviderError(
                f"wrapped key does not unwrap with '{versioned}': wrong encryption context "
                "(moved from another object?) or corrupted wrapped key") from e

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str],
               new_key_id: str | None = None) -> WrappedKey:
        data_key = self.unwrap(wrapped, context)
        target = new_key_id or split_version(wrapped.key_id)[0]
        return self._wrap(target, data_key, context)

    def _check_new_name(self, data: dict[str, Any], name: str) -> None:
        if name in data["keys"]:
            raise AlreadyExists(f"key '{name}' already exists in keyring {self.path}")
        if name in data["destroyed"]:
            raise AlreadyExists(f"key '{name}' was destroyed at "
                                f"{data['destroyed'][name].get('at')}; names are not reused")

    def create_key(self, key_id: str) -> str:
        name = check_key_name(key_id)
        with self._editing() as data:
            self._check_new_name(data, name)
            data["keys"][name] = {"kind": _KEK, "current": 1,
                                  "versions": {"1": base64.b64encode(os.urandom(32)).decode()}}
        return f"{name}#v1"

    def rotate(self, key_id: str) -> str:
        name = check_key_name(key_id)
        with self._editing() as data:
            entry = self._entry(data, name, _KEK)
            version = max(int(v) for v in entry["versions"]) + 1
            entry["versions"][str(version)] = base64.b64encode(os.urandom(32)).decode()
            entry["current"] = version
        return f"{name}#v{version}"

    def destroy(self, key_id: str) -> None:
        name = check_key_name(key_id)
        with self._editing() as data:
            if name in data["destroyed"] and name not in data["keys"]:
                return  # already destroyed: idempotent, so a retried step succeeds
            entry = data["keys"].pop(name, None)
            if entry is None:
                raise KeyProviderError(f"unknown key '{name}' in keyring {self.path}")
            data["destroyed"][name] = {"kind": entry.get("kind"),
                                       "at": datetime.now(UTC).isoformat(timespec="seconds")}

    # -- signing keys --------------------------------------------------------
    def create_signing_key(self, key_id: str) -> str:
        name = check_key_name(key_id)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        with self._editing() as data:
            self._check_new_name(data, name)
            data["keys"][name] = {"kind": _SIGNING, "pem": pem}
        return name

    def sign_digest(self, key_id: str, sha256_digest: bytes) -> bytes:
        if len(sha256_digest) != 32:
            raise InvalidInput(f"expected a 32-byte SHA-256 digest, got {len(sha256_digest)} bytes")
        key = self._signing_key(key_id)
        return key.sign(sha256_digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    def public_key_pem(self, key_id: str) -> bytes:
        return self._signing_key(key_id).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
