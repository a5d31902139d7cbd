"""``pkcs11://`` key provider: any PKCS#11 HSM (SoftHSM2 in tests).

``pkcs11:///path/to/module.so?token=LABEL&pin-env=VAR`` (or ``pin-file=/path``,
a file readable by its owner only), optionally ``&allow=NAME,NAME``: the key
names (labels without ``#vN``) that may unwrap; an envelope whose header names
another key in the token is refused by name. The user PIN never appears in the URI,
in logs or in error messages. The token is found by *label*: slot ids change
whenever tokens are added or removed.

Objects in the token (all token objects, private, created by medpipe):

- key-encryption key ``name``: one AES-256 secret key per version, labelled
  ``name#v1``, ``name#v2``, …; generated in the token, sensitive and
  non-extractable, usable only to wrap/unwrap. The current version is the
  highest one.
- signing key ``name``: an ECDSA P-256 key pair labelled ``name``, generated
  in the token; the private half is sensitive and non-extractable.
- tombstone ``name#destroyed``: a data object left by ``destroy`` so that
  later errors say "destroyed" rather than "unknown", and the name is never
  reused.

Binding the context. AES key wrap (RFC 3394, ``CKM_AES_KEY_WRAP``) has no
associated data, and it is the wrap mechanism every HSM supports. So the
value wrapped is ``data_key || commitment``, with ``commitment`` the first
16 bytes of SHA-256 over the exact key version and the canonical context.
Key wrap is a deterministic authenticated encryption: without the
key-encryption key nobody can produce a wrapped blob whose commitment matches
another context, and any change to the blob fails the unwrap integrity
check. On unwrap the commitment is recomputed and compared, so a wrapped key
moved to another object is refused by the provider, like an AAD mismatch.

Threads: see ``pkcs11_session`` (one logged-in session per token per process).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from medpipe.activities.keys.base import (
    WrappedKey,
    canonical_context,
    check_key_name,
    register,
    split_version,
    wrapping_key,
)
from medpipe.activities.keys.pkcs11_session import loaded_module
from medpipe.contracts.errors import AlreadyExists, InvalidInput, KeyProviderError, KeyUnavailable

try:
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
    from pkcs11 import exceptions as p11e
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise InvalidInput("python-pkcs11 is not installed: install medpipe[hsm]") from e

T = TypeVar("T")

#: DER encoding of the named curve OID prime256v1 / secp256r1 (CKA_EC_PARAMS).
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
_COMMIT_LEN = 16
_DATA_KEY_LEN = 32
_COMMIT_PREFIX = b"medpipe/pkcs11-wrap/v1\x00"
_TOMBSTONE = "#destroyed"
#: Failures of the device or of our session: reconnect once, then KeyUnavailable.
_TRANSIENT = (p11e.SessionHandleInvalid, p11e.SessionClosed, p11e.UserNotLoggedIn,
              p11e.DeviceRemoved, p11e.TokenNotPresent, p11e.DeviceError,
              p11e.DeviceMemory, p11e.TokenNotRecognised, p11e.SlotIDInvalid)


def _commitment(versioned: str, context: Mapping[str, str]) -> bytes:
    digest = hashlib.sha256(_COMMIT_PREFIX + versioned.encode() + b"\x00"
                            + canonical_context(context)).digest()
    return digest[:_COMMIT_LEN]


@register("pkcs11")
class Pkcs11Provider:
    """Keys generated and kept in a PKCS#11 token; only wrapped keys and signatures leave it."""

    scheme = "pkcs11"

    def __init__(self, key_uri: str) -> None:
        parts = urlsplit(key_uri)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        module_path = unquote(parts.path)
        usage = ("expected pkcs11:///path/to/module.so?token=LABEL&pin-env=VAR "
                 "(or pin-file=PATH)")
        if parts.scheme != "pkcs11" or parts.netloc or not module_path.startswith("/"):
            raise InvalidInput(f"'{key_uri}' is not a PKCS#11 key URI: {usage}")
        if "pin" in query or "pin-value" in query:
            raise InvalidInput("a PKCS#11 key URI must not carry the PIN: use pin-env= or "
                               "pin-file=")
        unknown = set(query) - {"token", "pin-env", "pin-file", "allow"}
        if unknown or not query.get("token") or ("pin-env" in query) == ("pin-file" in query):
            raise InvalidInput(f"PKCS#11 key URI for module {module_path} needs token= and "
                               f"exactly one of pin-env=/pin-file=: {usage}")
        if not Path(module_path).is_file():
            raise KeyProviderError(f"PKCS#11 module {module_path} does not exist")
        self.module_path = module_path
        self.token_label = query["token"]
        self.allow = frozenset(check_key_name(k.strip())
                               for k in query.get("allow", "").split(",") if k.strip())
        self._pin_env = query.get("pin-env")
        self._pin_file = query.get("pin-file")
        # A URI without the PIN's source: safe to log.
        self.key_uri = key_uri

    # -- plumbing ----------------------------------------------------------
    def _pin(self) -> str:
        if self._pin_env is not None:
            pin = os.environ.get(self._pin_env)
            if not pin:
                raise KeyProviderError(f"environment variable {self._pin_env} (the PIN of token "
                                       f"'{self.token_label}') is not set")
            return pin
        assert self._pin_file is not None
        path = Path(self._pin_file)
        try:
            st = path.stat()
            if st.st_mode & 0o077:
                raise KeyProviderError(
                    f"PIN file {path} has mode {stat.S_IMODE(st.st_mode):04o}: it must be "
                    f"readable by its owner only; fix with: chmod 600 {path}")
            return path.read_text().strip()
        except OSError as e:
            raise KeyProviderError(f"PIN file {path} cannot be read: {e.strerror}") from e

    def _run(self, what: str, key_id: str, op: Callable[[Any], T]) -> T:
        """Run ``op(session)`` under the module lock; reconnect once if the session died."""
        module = loaded_module(self.module_path)
        pin = self._pin()
        with module.lock:
            for attempt in (1, 2):
                try:
                    return op(module.session(self.token_label, pin))
                except _TRANSIENT as e:
                    if attempt == 2:
                        raise KeyUnavailable(
                            f"PKCS#11 token '{self.token_label}' does not answer ({what} with key "
                            f"'{key_id}': {type(e).__name__})") from e
                    module.reset()
                except p11e.PKCS11Error as e:
                    raise KeyProviderError(f"PKCS#11 token '{self.token_label}' refused {what} "
                                           f"with key '{key_id}' ({type(e).__name__})") from e
        raise AssertionError("unreachable")

    def _tombstone(self, session: Any, name: str) -> Any | None:
        found = list(session.get_objects({Attribute.CLASS: ObjectClass.DATA,
                                          Attribute.LABEL: name + _TOMBSTONE}))
        return found[0] if found else None

    def _missing(self, session: Any, name: str, what: str) -> KeyProviderError:
        tomb = self._tombstone(session, name)
        if tomb is not None:
            when = bytes(tomb[Attribute.VALUE]).decode(errors="replace")
            return KeyProviderError(f"key '{name}' was destroyed at {when}: what it protected "
                                    "is unrecoverable")
        return KeyProviderError(f"unknown {what} '{name}' in token '{self.token_label}'")

    def _kek_versions(self, session: Any, name: str) -> dict[int, Any]:
        pattern = re.compile(re.escape(name) + r"#v([1-9][0-9]*)")
        versions: dict[int, Any] = {}
        for key in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            match = pattern.fullmatch(key.label or "")
            if match:
                versions[int(match.group(1))] = key
        return versions

    def _kek(self, session: Any, key_id: str) -> tuple[str, Any]:
        """The exact versioned id and key object for ``key_id`` (bare name: current version)."""
        name, version = split_version(key_id)
        if version is not None:  # the common unwrap case: one exact-label lookup
            found = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                              Attribute.LABEL: key_id}))
            if len(found) == 1:
                return key_id, found[0]
        versions = self._kek_versions(session, name)
        if not versions:
            raise self._missing(session, name, "key-encryption key")
        if version is None:
            version = max(versions)
        if version not in versions:
            raise KeyProviderError(f"key '{name}' has no version v{version} in token "
                                   f"'{self.token_label}'")
        return f"{name}#v{version}", versions[version]

    def _signing_pair(self, session: Any, name: str, cls: Any) -> Any:
        found = list(session.get_objects({Attribute.CLASS: cls, Attribute.LABEL: name,
                                          Attribute.KEY_TYPE: KeyType.EC}))
        if not found:
            raise self._missing(session, name, "signing key")
        if len(found) > 1:
            raise KeyProviderError(f"several signing keys are labelled '{name}' in token "
                                   f"'{self.token_label}'")
        return found[0]

    def _check_free(self, session: Any, name: str) -> None:
        if self._tombstone(session, name) is not None:
            raise AlreadyExists(f"key '{name}' was destroyed in token '{self.token_label}'; "
                                "names are not reused")
        if self._kek_versions(session, name) or list(session.get_objects(
                {Attribute.LABEL: name, Attribute.CLASS: ObjectClass.PRIVATE_KEY})):
            raise AlreadyExists(f"key '{name}' already exists in token '{self.token_label}'")

    # -- key-encryption keys ------------------------------------------------
    def _generate_kek(self, session: Any, label: str) -> None:
        session.generate_key(KeyType.AES, 256, label=label, id=label.encode(), store=True,
                             template={Attribute.TOKEN: True, Attribute.PRIVATE: True,
                                       Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                                       Attribute.WRAP: True, Attribute.UNWRAP: True,
                                       Attribute.ENCRYPT: False, Attribute.DECRYPT: False,
                                       Attribute.SIGN: False, Attribute.VERIFY: False,
                                       Attribute.DERIVE: False})

    def _wrap(self, session: Any, key_id: str, data_key: bytes,
              context: Mapping[str, str]) -> WrappedKey:
        versioned, kek = self._kek(session, key_id)
        payload = session.create_object({
            Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
            Attribute.VALUE: data_key + _commitment(versioned, context),
            Attribute.TOKEN: False, Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True})
        try:
            wrapped = kek.wrap_key(payload, mechanism=Mechanism.AES_KEY_WRAP)
        finally:
            payload.destroy()
        return WrappedKey(provider=self.scheme, key_id=versioned, wrapped=bytes(wrapped))

    def _unwrap(self, session: Any, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        name, _ = wrapping_key(wrapped, self.scheme)
        if self.allow and name not in self.allow:
            raise KeyProviderError(
                f"key '{name}' in token '{self.token_label}' is not one the fleet configuration "
                f"lists ({', '.join(sorted(self.allow))}): refusing to unwrap with it")
        versioned, kek = self._kek(session, wrapped.key_id)
        refused = KeyProviderError(
            f"wrapped key does not unwrap with '{versioned}': wrong encryption context (moved "
            "from another object?) or corrupted wrapped key")
        try:
            obj = kek.unwrap_key(ObjectClass.SECRET_KEY, KeyType.GENERIC_SECRET, wrapped.wrapped,
                                 mechanism=Mechanism.AES_KEY_WRAP, store=False,
                                 template={Attribute.SENSITIVE: False,
                                           Attribute.EXTRACTABLE: True})
        except (p11e.GeneralError, p11e.WrappedKeyInvalid, p11e.WrappedKeyLenRange,
                p11e.EncryptedDataInvalid, p11e.EncryptedDataLenRange, p11e.DataInvalid) as e:
            raise refused from e
        try:
            payload = bytes(obj[Attribute.VALUE])
        finally:
            obj.destroy()
        data_key, commit = payload[:_DATA_KEY_LEN], payload[_DATA_KEY_LEN:]
        if len(payload) != _DATA_KEY_LEN + _COMMIT_LEN \
                or not hmac.compare_digest(commit, _commitment(versioned, context)):
            raise refused
        return data_key

    def new_data_key(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        data_key = os.urandom(_DATA_KEY_LEN)
        wrapped = self._run("wrap", key_id,
                            lambda s: self._wrap(s, key_id, data_key, context))
        return data_key, wrapped

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        return self._run("unwrap", wrapped.key_id, lambda s: self._unwrap(s, wrapped, context))

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str],
               new_key_id: str | None = None) -> WrappedKey:
        target = new_key_id or split_version(wrapped.key_id)[0]

        def op(session: Any) -> WrappedKey:
            return self._wrap(session, target, self._unwrap(session, wrapped, context), context)

        return self._run("rewrap", wrapped.key_id, op)

    def create_key(self, key_id: str) -> str:
        name = check_key_name(key_id)

        def op(session: Any) -> str:
            self._check_free(session, name)
            self._generate_kek(session, f"{name}#v1")
            return f"{name}#v1"

        return self._run("create_key", name, op)

    def rotate(self, key_id: str) -> str:
        name = check_key_name(key_id)

        def op(session: Any) -> str:
            versions = self._kek_versions(session, name)
            if not versions:
                raise self._missing(session, name, "key-encryption key")
            label = f"{name}#v{max(versions) + 1}"
            self._generate_kek(session, label)
            return label

        return self._run("rotate", name, op)

    def destroy(self, key_id: str) -> None:
        name = check_key_name(key_id)

        def op(session: Any) -> None:
            objects = list(self._kek_versions(session, name).values())
            objects += list(session.get_objects({Attribute.LABEL: name}))
            if not objects:
                if self._tombstone(session, name) is not None:
                    return  # already destroyed: idempotent, so a retried step succeeds
                raise KeyProviderError(f"unknown key '{name}' in token '{self.token_label}'")
            if self._tombstone(session, name) is None:
                session.create_object({
                    Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True,
                    Attribute.PRIVATE: True, Attribute.LABEL: name + _TOMBSTONE,
                    Attribute.APPLICATION: "medpipe",
                    Attribute.VALUE: datetime.now(UTC).isoformat(timespec="seconds").encode()})
            for obj in objects:
                obj.destroy()

        self._run("destroy", name, op)

    # -- signing keys --------------------------------------------------------
    def create_signing_key(self, key_id: str) -> str:
        name = check_key_name(key_id)

        def op(session: Any) -> str:
            self._check_free(session, name)
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: _P256_PARAMS}, local=True)
            params.generate_keypair(
                store=True, label=name, id=name.encode(),
                public_template={Attribute.TOKEN: True, Attribute.VERIFY: True,
                                 Attribute.PRIVATE: False},
                private_template={Attribute.TOKEN: True, Attribute.PRIVATE: True,
                                  Attribute.SIGN: True, Attribute.SENSITIVE: True,
                                  Attribute.EXTRACTABLE: False, Attribute.DERIVE: False})
            return name

        return self._run("create_signing_key", name, op)

    def sign_digest(self, key_id: str, sha256_digest: bytes) -> bytes:
        if len(sha256_digest) != 32:
            raise InvalidInput(f"expected a 32-byte SHA-256 digest, got {len(sha256_digest)} bytes")
        name = check_key_name(key_id)

        def op(session: Any) -> bytes:
            key = self._signing_pair(session, name, ObjectClass.PRIVATE_KEY)
            raw = bytes(key.sign(sha256_digest, mechanism=Mechanism.ECDSA))
            return raw

        raw = self._run("sign", name, op)
        if len(raw) != 64:
            raise KeyProviderError(f"token '{self.token_label}' returned a {len(raw)}-byte "
                                   "ECDSA signature; expected 64 (r||s, P-256)")
        # PKCS#11 returns r||s; X.509/DSSE verifiers expect DER.
        return encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                    int.from_bytes(raw[32:], "big"))

    def public_key_pem(self, key_id: str) -> bytes:
        name = check_key_name(key_id)
        point = self._run("public_key", name, lambda s: bytes(
            self._signing_pair(s, name, ObjectClass.PUBLIC_KEY)[Attribute.EC_POINT]))
        # CKA_EC_POINT is a DER OCTET STRING around the point; some tokens return it bare.
        if len(point) == 67 and point[:2] == b"\x04\x41":
            point = point[2:]
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        return public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
