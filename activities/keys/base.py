"""The ``KeyProvider`` protocol and the registry of key backends.

A key provider holds the customer's keys (BYOK/BYOHSM) and never lets
medpipe see a key-encryption key or a signing private key: medpipe hands it
data keys to wrap and digests to sign. Backends are opened from a *key URI*:

- ``local:///path/to/keyring.json`` — a keyring file for development;
- ``aws-kms://REGION`` (optional ``?endpoint=http://127.0.0.1:PORT``) — AWS KMS;
- ``pkcs11:///path/to/module.so?token=LABEL&pin-env=VAR`` — any PKCS#11 HSM.

Keys inside a provider are addressed by a *key id* (alias, ARN or label).
Adding a backend is one module with ``@register("scheme")`` plus an entry in
``PROVIDERS`` (the shared ``SchemeRegistry``, which imports it on first use); its
SDK import is guarded so that a missing extra says which one to install.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from medpipe.activities.schemes import SchemeRegistry
from medpipe.contracts.errors import InvalidInput, KeyProviderError


class WrappedKey(BaseModel):
    """A data key wrapped by a key-encryption key.

    Attributes:
        provider: the provider's scheme (``local``, ``aws-kms``, ``pkcs11``).
        key_id: the key-encryption key that wrapped it (a specific version,
            so that unwrapping after rotation uses the right one).
        wrapped: the opaque wrapped bytes.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    key_id: str
    wrapped: bytes


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps data keys and signs digests with keys that never leave the provider."""

    scheme: str

    def new_data_key(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        """A fresh 256-bit data key, in clear (for this object only) and wrapped.

        ``context`` (object id, release id) is bound to the wrapping where the
        backend supports it (KMS encryption context; AAD otherwise), so a
        wrapped key moved to another object does not unwrap.

        Raises:
            KeyProviderError: unknown, disabled or destroyed key.
            KeyUnavailable: the key service does not answer.
        """
        ...

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        """The clear data key of ``wrapped``.

        Raises:
            KeyProviderError: wrong key, wrong context, disabled/destroyed key.
            KeyUnavailable: the key service does not answer.
        """
        ...

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str],
               new_key_id: str | None = None) -> WrappedKey:
        """Re-wrap a data key under ``new_key_id`` (default: the current version of its key).

        The content encrypted with the data key is untouched; the context is checked
        on the way (a wrapped key with the wrong context is refused, not re-wrapped).
        """
        ...

    def create_key(self, key_id: str) -> str:
        """Create a key-encryption key; returns its versioned id.

        Raises:
            AlreadyExists: the name is taken, or was destroyed (names are never reused).
        """
        ...

    def rotate(self, key_id: str) -> str:
        """Make a new version of ``key_id`` current; old versions still unwrap. Returns it."""
        ...

    def destroy(self, key_id: str) -> None:
        """Destroy every version of ``key_id``: what it wrapped becomes unrecoverable.

        Idempotent (destroying a destroyed key succeeds, so a retried step does);
        afterwards every use fails with a ``KeyProviderError`` saying "destroyed".
        """
        ...

    # Signing (ECDSA P-256 / SHA-256). The private key never leaves the provider.
    def create_signing_key(self, key_id: str) -> str:
        """Create an ECDSA P-256 signing key; returns its id."""
        ...

    def sign_digest(self, key_id: str, sha256_digest: bytes) -> bytes:
        """DER-encoded ECDSA signature over a SHA-256 digest."""
        ...

    def public_key_pem(self, key_id: str) -> bytes:
        """The signing key's public key, PEM (SubjectPublicKeyInfo)."""
        ...


ProviderFactory = Callable[[str], KeyProvider]

#: scheme -> the module implementing it (its SDK comes with a pip extra: aws, hsm)
PROVIDERS: SchemeRegistry[ProviderFactory] = SchemeRegistry("unknown key provider", {
    "local": "medpipe.activities.keys.local",
    "aws-kms": "medpipe.activities.keys.aws_kms",
    "pkcs11": "medpipe.activities.keys.pkcs11",
})
#: Class decorator registering a key backend for a URI scheme; the class must accept
#: the key URI as its only required constructor argument.
register = PROVIDERS.register


def open_provider(key_uri: str) -> KeyProvider:
    """Open the key provider for ``key_uri``.

    Raises:
        InvalidInput: unknown scheme, or the backend's SDK is not installed.
    """
    return PROVIDERS.backend(key_uri)(key_uri)


# -- helpers shared by the backends ------------------------------------------

#: Key names: letters, digits and ``._:/-`` (KMS aliases and ARNs fit; ``#``
#: is reserved for versions, ``name#v2``).
_KEY_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-")


def check_key_name(key_id: str) -> str:
    """Return ``key_id`` if it is a plausible key name (no version suffix).

    Raises:
        InvalidInput: empty, too long, or characters a provider would not accept.
    """
    if not key_id or len(key_id) > 256 or not set(key_id) <= _KEY_NAME_CHARS:
        raise InvalidInput(f"invalid key id {key_id!r}: use 1-256 characters among "
                           "letters, digits and ._:/-")
    return key_id


def split_version(key_id: str) -> tuple[str, int | None]:
    """Split ``name#vN`` into ``(name, N)``; a bare name gives ``(name, None)``.

    Raises:
        InvalidInput: a malformed name or version suffix.
    """
    name, sep, version = key_id.partition("#")
    check_key_name(name)
    if not sep:
        return name, None
    if not (version.startswith("v") and version[1:].isdigit() and int(version[1:]) > 0):
        raise InvalidInput(f"invalid key version in {key_id!r}: expected name#vN (N >= 1)")
    return name, int(version[1:])


def check_origin(wrapped: WrappedKey, scheme: str) -> None:
    """Refuse a key another provider (not ``scheme``) wrapped: its key id names nothing here.

    Raises:
        KeyProviderError: the key comes from another provider.
    """
    if wrapped.provider != scheme:
        raise KeyProviderError(f"wrapped key comes from provider '{wrapped.provider}', "
                               f"not '{scheme}'")


def wrapping_key(wrapped: WrappedKey, scheme: str) -> tuple[str, int]:
    """The name and version of the key that wrapped ``wrapped``, one of this provider's
    (``scheme``): a wrapped key names the exact version it was wrapped with, so that it
    still unwraps after the key has rotated.

    Raises:
        KeyProviderError: another provider's key, or no version named.
        InvalidInput: a malformed key id.
    """
    check_origin(wrapped, scheme)
    name, version = split_version(wrapped.key_id)
    if version is None:
        raise KeyProviderError(f"wrapped key names no key version ('{wrapped.key_id}')")
    return name, version


def canonical_context(context: Mapping[str, str]) -> bytes:
    """The encryption context as canonical bytes (sorted, compact JSON).

    Used as AAD (or mixed into the wrapping) so that a wrapped key only unwraps
    for the object it was made for.

    Raises:
        InvalidInput: a key or value that is not a string.
    """
    items = dict(context)
    for k, v in items.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InvalidInput("encryption context keys and values must be strings")
    return json.dumps(items, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


_SHARED: dict[str, KeyProvider] = {}
_SHARED_LOCK = threading.Lock()


def shared_provider(key_uri: str) -> KeyProvider:
    """The process-wide provider for ``key_uri``, opened once.

    Providers are thread-safe, and opening one is not free (a boto3 client,
    a PKCS#11 login): workers should call this rather than ``open_provider``
    for every activity.
    """
    with _SHARED_LOCK:
        provider = _SHARED.get(key_uri)
        if provider is None:
            provider = _SHARED[key_uri] = open_provider(key_uri)
        return provider
