"""DSSE envelopes in Sigstore bundles (v0.3), signed through a ``KeyProvider``.

Both signed documents of a release use this one container: the OMS model
signature (``oms``) and the SLSA provenance (``provenance``). The envelope is
the DSSE v1 protocol (signature over the pre-authentication encoding, PAE, of
the payload type and payload); the bundle carries a public-key *hint* instead
of the key, so trust comes from the verifier's own list of public keys, never
from the bundle. The private key never leaves the provider: we hand it the
SHA-256 of the PAE and get a DER ECDSA signature back.

A key's *fingerprint* here is the SHA-256 (hex) of its SubjectPublicKeyInfo in
PEM, which is exactly the hint ``model_signing`` writes and checks, so the
same string names a key in bundles, revocation lists and the ledger.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from medpipe.activities.keys.base import KeyProvider
from medpipe.contracts.errors import InvalidInput, KeyProviderError, SignatureInvalid
from medpipe.contracts.provenance import SignatureRefusal

#: Sigstore bundle media type written by ``model_signing`` for key-based signing.
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
#: DSSE payload type of an in-toto statement.
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: in-toto Statement v1 ``_type``.
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: Refuse bundles larger than this before parsing them (a sharded multi-TB
#: model's manifest stays far below it).
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


class SignatureRefused(SignatureInvalid):
    """A signature check failed; ``reason`` says which case (see ``SignatureRefusal``)."""

    def __init__(self, reason: SignatureRefusal, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding of ``payload``."""
    head = f"DSSEv1 {len(payload_type)} {payload_type} {len(payload)} "
    return head.encode() + payload


def load_public_key(pem: bytes | str, what: str = "public key") -> ec.EllipticCurvePublicKey:
    """Load an ECDSA public key from PEM.

    Raises:
        InvalidInput: not a PEM public key, or not an elliptic-curve key.
    """
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as e:
        raise InvalidInput(f"{what} is not a PEM public key ({e})") from e
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidInput(f"{what} is not an elliptic-curve (ECDSA) key")
    return key


def canonical_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    """The key's SubjectPublicKeyInfo as PEM, byte-for-byte as model_signing writes it."""
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(pem: bytes | str | ec.EllipticCurvePublicKey) -> str:
    """SHA-256 hex of the key's canonical PEM (the OMS bundle's public-key hint)."""
    key = pem if isinstance(pem, ec.EllipticCurvePublicKey) else load_public_key(pem)
    return hashlib.sha256(canonical_pem(key)).hexdigest()


def _hash_for(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    size = key.curve.key_size
    if size == 256:
        return hashes.SHA256()
    raise KeyProviderError(
        f"signing key uses curve {key.curve.name}: only P-256 (SHA-256 digests) is supported "
        "by the key providers")


@dataclass(frozen=True)
class ProviderKey:
    """A signing key held by a provider, with its public half loaded once."""

    provider: KeyProvider
    key_id: str
    public_key: ec.EllipticCurvePublicKey

    @classmethod
    def open(cls, provider: KeyProvider, key_id: str) -> ProviderKey:
        """Fetch the public key of ``key_id`` from ``provider``."""
        pem = provider.public_key_pem(key_id)
        key = load_public_key(pem, f"public key of signing key '{key_id}'")
        _hash_for(key)
        return cls(provider, key_id, key)

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint (see module docstring)."""
        return key_fingerprint(self.public_key)

    @property
    def public_pem(self) -> bytes:
        """The canonical PEM of the public key."""
        return canonical_pem(self.public_key)

    def sign_digest(self, digest: bytes) -> bytes:
        """DER ECDSA signature over a SHA-256 digest, checked before it is returned.

        Checking our own signature costs a fraction of a millisecond and turns
        a provider returning garbage (wrong key behind an alias, truncated DER)
        into a clear error at signing time instead of a refusal at deployment.
        """
        der = self.provider.sign_digest(self.key_id, digest)
        try:
            self.public_key.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        except InvalidSignature as e:
            raise KeyProviderError(
                f"key provider '{self.provider.scheme}' returned a signature that does not "
                f"verify under the public key of '{self.key_id}'") from e
        return der

    def sign_envelope(self, payload: bytes, payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> bytes:
        """DER signature over the PAE of ``payload``."""
        return self.sign_digest(hashlib.sha256(pae(payload_type, payload)).digest())


def bundle_dict(key: ProviderKey, payload: bytes,
                payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> dict[str, Any]:
    """A Sigstore bundle v0.3 (JSON form) holding a DSSE envelope over ``payload``."""
    signature = key.sign_envelope(payload, payload_type)
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key.fingerprint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": payload_type,
            "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
        },
    }


def sign_statement(key: ProviderKey, statement: Mapping[str, Any]) -> bytes:
    """Serialize an in-toto statement and return the signed bundle as JSON bytes."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return json.dumps(bundle_dict(key, payload), indent=2).encode()


class TrustedKeys:
    """The verifier's trust: public keys by fingerprint, and revoked fingerprints."""

    def __init__(self, public_keys: Iterable[bytes | str], revoked: Iterable[str] = ()) -> None:
        self.keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for i, pem in enumerate(public_keys):
            key = load_public_key(pem, f"trusted key #{i + 1}")
            self.keys[key_fingerprint(key)] = key
        self.revoked = frozenset(r.strip().lower() for r in revoked)


@dataclass(frozen=True)
class OpenedEnvelope:
    """A DSSE envelope whose signature verified under a trusted, unrevoked key."""

    payload_type: str
    payload: bytes
    key_fingerprint: str


def _refuse_malformed(what: str, detail: str) -> SignatureRefused:
    return SignatureRefused(SignatureRefusal.MALFORMED, f"{what} is not a valid signature "
                                                        f"bundle: {detail}")


def parse_bundle(raw: bytes, what: str) -> dict[str, Any]:
    """Parse and shape-check a Sigstore bundle holding a DSSE envelope.

    Raises:
        SignatureRefused(MALFORMED): anything about the container is wrong.
    """
    if len(raw) > MAX_BUNDLE_BYTES:
        raise _refuse_malformed(what, f"{len(raw)} bytes, over the {MAX_BUNDLE_BYTES} limit")
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise _refuse_malformed(what, f"not JSON ({e})") from e
    if not isinstance(doc, dict):
        raise _refuse_malformed(what, "not a JSON object")
    if doc.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise _refuse_malformed(what, f"media type {doc.get('mediaType')!r}, expected "
                                      f"{BUNDLE_MEDIA_TYPE!r}")
    env = doc.get("dsseEnvelope")
    if not isinstance(env, dict):
        raise _refuse_malformed(what, "no DSSE envelope")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs or not isinstance(sigs[0], dict):
        raise _refuse_malformed(what, "the DSSE envelope has no signature")
    if not isinstance(env.get("payloadType"), str) or not isinstance(env.get("payload"), str):
        raise _refuse_malformed(what, "the DSSE envelope has no payload or payload type")
    try:
        env["_payload"] = base64.b64decode(env["payload"], validate=True)
        env["_sig"] = base64.b64decode(str(sigs[0].get("sig", "")), validate=True)
    except ValueError as e:
        raise _refuse_malformed(what, f"payload or signature is not base64 ({e})") from e
    material = doc.get("verificationMaterial")
    if not isinstance(material, dict):
        raise _refuse_malformed(what, "no verification material")
    return doc


def open_envelope(doc: Mapping[str, Any], trust: TrustedKeys, what: str) -> OpenedEnvelope:
    """Check the envelope's signature against the trusted keys.

    Order of checks: a revoked key is reported as revoked even if it is still
    in the trusted list (revocation wins); a key outside the list as
    untrusted; a signature that does not verify under the key it names as
    ``bad-signature`` (the bundle was altered after signing).
    """
    env = doc["dsseEnvelope"]
    material = doc["verificationMaterial"]
    payload_type, payload, sig = env["payloadType"], env["_payload"], env["_sig"]
    message = pae(payload_type, payload)
    public_key = material.get("publicKey")
    hint = public_key.get("hint") if isinstance(public_key, dict) else None
    if public_key is None:
        raise SignatureRefused(SignatureRefusal.UNTRUSTED_KEY,
                               f"{what} is signed with a certificate, not one of the trusted "
                               "public keys")
    if hint:
        hint = str(hint).lower()
        if hint in trust.revoked:
            raise SignatureRefused(SignatureRefusal.REVOKED_KEY,
                                   f"{what} is signed by key {hint[:16]}…, which is revoked")
        key = trust.keys.get(hint)
        if key is None:
            raise SignatureRefused(SignatureRefusal.UNTRUSTED_KEY,
                                   f"{what} is signed by key {hint[:16]}…, which is not among "
                                   f"the {len(trust.keys)} trusted key(s)")
        candidates = {hint: key}
    else:
        candidates = dict(trust.keys)
    for fp, key in candidates.items():
        try:
            key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            continue
        if fp in trust.revoked:
            raise SignatureRefused(SignatureRefusal.REVOKED_KEY,
                                   f"{what} is signed by key {fp[:16]}…, which is revoked")
        return OpenedEnvelope(payload_type, payload, fp)
    if hint:
        raise SignatureRefused(SignatureRefusal.BAD_SIGNATURE,
                               f"the signature of {what} does not verify under key "
                               f"{hint[:16]}…: the bundle was altered after signing")
    raise SignatureRefused(SignatureRefusal.UNTRUSTED_KEY,
                           f"{what} names no key and its signature matches none of the "
                           f"{len(trust.keys)} trusted key(s)")


def open_statement(raw: bytes, trust: TrustedKeys, what: str,
                   predicate_type: str) -> tuple[dict[str, Any], str]:
    """Verify a signed in-toto statement bundle; returns (statement, key fingerprint).

    Raises:
        SignatureRefused: malformed, untrusted, revoked, bad signature, or a
            statement of another predicate type.
    """
    doc = parse_bundle(raw, what)
    opened = open_envelope(doc, trust, what)
    if opened.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise _refuse_malformed(what, f"payload type {opened.payload_type!r}, expected "
                                      f"{IN_TOTO_PAYLOAD_TYPE!r}")
    try:
        statement = json.loads(opened.payload)
    except ValueError as e:
        raise _refuse_malformed(what, f"signed payload is not JSON ({e})") from e
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise _refuse_malformed(what, "signed payload is not an in-toto Statement v1")
    if statement.get("predicateType") != predicate_type:
        raise _refuse_malformed(what, f"predicate type {statement.get('predicateType')!r}, "
                                      f"expected {predicate_type!r}")
    return statement, opened.key_fingerprint
