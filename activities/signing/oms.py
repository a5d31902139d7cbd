"""Model signatures in the OpenSSF model-signing (OMS) format, keys in a KeyProvider.

A signature is a Sigstore bundle v0.3 holding a DSSE envelope over an in-toto
Statement v1 with predicate ``https://model_signing/signature/v1.0``, exactly
what ``model_signing verify key --signature S --public_key P MODEL`` checks.
The ``model-signing`` library does the model side (streaming hashing of each
file, the manifest, the statement, the bundle file); we supply only a
``Signer`` whose private key stays in the provider (AWS KMS, an HSM, or a
development keyring): it receives the SHA-256 of the DSSE PAE, never a key.

Verification is ours rather than the library's so that a refusal says which
case it is (unsigned, tampered model naming the file, untrusted key, revoked
key, bundle for another model, malformed bundle, bad signature) and so that
trust is a list of public keys plus a revocation list instead of one key.
The statement may carry a ``medpipe`` identity (model, version, release id)
in its predicate; OMS v1.0 verifiers ignore extra predicate fields, we use it
to tell "bundle for another model" from "tampered model".

Hashing: one pass over each file, 1 MiB reads straight into OpenSSL SHA-256
(``model_signing``'s file serialization); sharded serialization hashes large
files in parallel shards and is available with ``shard_size``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from model_signing import hashing as ms_hashing
from model_signing import manifest as ms_manifest
from model_signing._signing import sign_sigstore_pb as ms_sigstore_pb
from model_signing._signing import signing as ms_signing
from sigstore_models.bundle import v1 as bundle_pb

from medpipe.activities.keys.base import KeyProvider
from medpipe.activities.signing.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    ProviderKey,
    SignatureRefused,
    TrustedKeys,
    bundle_dict,
    open_envelope,
    parse_bundle,
)
from medpipe.contracts.errors import InvalidInput, NotFound
from medpipe.contracts.provenance import (
    ResourceDigest,
    SignatureRefusal,
    SignedModel,
    VerifiedModel,
)

#: Predicate type of an OMS model signature.
OMS_PREDICATE_TYPE = "https://model_signing/signature/v1.0"
#: Read size for hashing (large enough to amortise syscalls, small enough for the cache).
HASH_CHUNK = 1024 * 1024


class ProviderSigner(ms_sigstore_pb.Signer):
    """A ``model_signing`` signer whose ECDSA key lives in a ``KeyProvider``."""

    def __init__(self, key: ProviderKey) -> None:
        self._key = key

    def sign(self, payload: ms_signing.Payload) -> ms_sigstore_pb.Signature:
        """Sign the statement of ``payload`` as DSSE inside a Sigstore bundle v0.3."""
        raw_payload = json_format.MessageToJson(payload.statement.pb).encode("utf-8")
        doc = bundle_dict(self._key, raw_payload, IN_TOTO_PAYLOAD_TYPE)
        return ms_sigstore_pb.Signature(bundle_pb.Bundle.from_dict(doc))


def _hashing_config(model_path: Path, bundle_path: Path | None,
                    shard_size: int | None = None) -> ms_hashing.Config:
    config = ms_hashing.Config()
    if shard_size:
        config.use_shard_serialization(chunk_size=HASH_CHUNK, shard_size=shard_size)
    else:
        config.use_file_serialization(chunk_size=HASH_CHUNK)
    ignored = _ignored_inside(model_path, bundle_path)
    return config.set_ignored_paths(paths=ignored, ignore_git_paths=True)


def _ignored_inside(model_path: Path, bundle_path: Path | None) -> list[str]:
    """The bundle path relative to a model directory, if it lies inside it."""
    if bundle_path is None or not model_path.is_dir():
        return []
    try:
        return [str(bundle_path.resolve().relative_to(model_path.resolve()))]
    except ValueError:
        return []


def _resources(manifest: ms_manifest.Manifest) -> tuple[ResourceDigest, ...]:
    return tuple(ResourceDigest(name=rd.identifier, algorithm=rd.digest.algorithm,
                                digest=rd.digest.digest_hex)
                 for rd in manifest.resource_descriptors())


def _check_model(model_path: Path) -> None:
    if not model_path.exists():
        raise NotFound(f"model {model_path} does not exist")
    if model_path.is_symlink():
        raise InvalidInput(f"model {model_path} is a symbolic link: sign the file it points to")


def sign_model(model_path: str | os.PathLike[str], bundle_path: str | os.PathLike[str],
               provider: KeyProvider, key_id: str, *,
               identity: Mapping[str, str] | None = None,
               shard_size: int | None = None) -> SignedModel:
    """Sign a model file or directory; write the OMS bundle to ``bundle_path``.

    Args:
        model_path: the model (one file, or a directory of files).
        bundle_path: where to write the bundle (ignored when hashing if it
            lies inside the model directory).
        provider: the key provider holding ``key_id``.
        key_id: an ECDSA P-256 signing key of the provider.
        identity: optional ``{"model", "version", "release_id"}`` recorded in
            the predicate so that a bundle cannot pass for another release.
        shard_size: hash files in shards of this many bytes (parallel).

    Raises:
        NotFound / InvalidInput: no model, or a symlinked model.
        KeyProviderError / KeyUnavailable: from the provider.
    """
    model = Path(model_path)
    bundle = Path(bundle_path)
    _check_model(model)
    key = ProviderKey.open(provider, key_id)
    manifest = _hashing_config(model, bundle, shard_size).hash(model)
    payload = ms_signing.Payload(manifest)
    if identity:
        payload.statement.pb.predicate.update({"medpipe": {k: str(v) for k, v in
                                                           sorted(identity.items())}})
    signature = ProviderSigner(key).sign(payload)
    bundle.parent.mkdir(parents=True, exist_ok=True)
    tmp = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
    signature.write(tmp)
    os.replace(tmp, bundle)
    subject = json.loads(json_format.MessageToJson(payload.statement.pb))["subject"][0]
    return SignedModel(
        model_name=manifest.model_name,
        root_digest=subject["digest"]["sha256"],
        resources=_resources(manifest),
        serialization=str(manifest.serialization_type.get("method")),
        key_id=key_id,
        key_fingerprint=key.fingerprint,
        bundle_sha256=hashlib.sha256(bundle.read_bytes()).hexdigest(),
    )


def _display(name: str, model: Path) -> str:
    """A resource name as a person reads it (a single-file model's resource is '.')."""
    return model.name if name == "." else name


def _parse_manifest(statement: Mapping[str, Any], what: str) -> ms_manifest.Manifest:
    try:
        return ms_signing.dsse_payload_to_manifest(dict(statement))
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise SignatureRefused(SignatureRefusal.MALFORMED,
                               f"{what} does not hold a valid OMS manifest ({e})") from e


def _identity(statement: Mapping[str, Any]) -> dict[str, str]:
    ident = statement.get("predicate", {}).get("medpipe")
    return {str(k): str(v) for k, v in ident.items()} if isinstance(ident, dict) else {}


def verify_model(model_path: str | os.PathLike[str], bundle_path: str | os.PathLike[str],
                 trusted_keys: Iterable[bytes | str], revoked: Iterable[str] = (), *,
                 expected: Mapping[str, str] | None = None) -> VerifiedModel:
    """Verify a model against its OMS bundle, trusting only ``trusted_keys``.

    Args:
        model_path: the model file or directory.
        bundle_path: its signature bundle.
        trusted_keys: public keys (PEM) allowed to sign models.
        revoked: key fingerprints (``dsse.key_fingerprint``) no longer allowed.
        expected: identity fields the bundle must carry (e.g. ``{"release_id": …}``).

    Returns:
        The verified model (name, root digest, resources, signing key).

    Raises:
        SignatureRefused (a ``SignatureInvalid``): ``reason`` and message say
            which case: unsigned, malformed bundle, untrusted key, revoked key,
            bad signature, bundle for another model, tampered model (naming
            the files).
        NotFound: the model itself does not exist.
    """
    model = Path(model_path)
    bundle = Path(bundle_path)
    _check_model(model)
    what = f"signature bundle {bundle.name}"
    if not bundle.is_file():
        raise SignatureRefused(SignatureRefusal.UNSIGNED,
                               f"model {model.name} has no signature bundle (no file {bundle})")
    trust = TrustedKeys(trusted_keys, revoked)
    doc = parse_bundle(bundle.read_bytes(), what)
    opened = open_envelope(doc, trust, what)
    if opened.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise SignatureRefused(SignatureRefusal.MALFORMED,
                               f"{what} signs a {opened.payload_type!r} payload, not an in-toto "
                               "statement")
    try:
        statement = json.loads(opened.payload)
    except ValueError as e:
        raise SignatureRefused(SignatureRefusal.MALFORMED,
                               f"{what}: signed payload is not JSON ({e})") from e
    if not isinstance(statement, dict) or statement.get("predicateType") != OMS_PREDICATE_TYPE:
        got = statement.get("predicateType") if isinstance(statement, dict) else None
        raise SignatureRefused(SignatureRefusal.MALFORMED,
                               f"{what} is not a model signature (predicate type {got!r}, "
                               f"expected {OMS_PREDICATE_TYPE!r})")
    expected_manifest = _parse_manifest(statement, what)
    identity = _identity(statement)
    for field, value in (expected or {}).items():
        if identity.get(field) != str(value):
            raise SignatureRefused(
                SignatureRefusal.OTHER_MODEL,
                f"{what} was made for {field}={identity.get(field)!r}, not {value!r}")

    config = _verifier_hashing(expected_manifest, model, bundle)
    actual_manifest = config.hash(model)
    want = {rd.identifier: rd.digest.digest_hex
            for rd in expected_manifest.resource_descriptors()}
    have = {rd.identifier: rd.digest.digest_hex
            for rd in actual_manifest.resource_descriptors()}
    if want != have:
        raise _mismatch(model, expected_manifest.model_name, want, have, bool(expected))
    return VerifiedModel(model_name=expected_manifest.model_name,
                         root_digest=statement["subject"][0]["digest"]["sha256"],
                         resources=_resources(expected_manifest),
                         key_fingerprint=opened.key_fingerprint, identity=identity)


def _verifier_hashing(manifest: ms_manifest.Manifest, model: Path,
                      bundle: Path) -> ms_hashing.Config:
    """The hashing the signer used, read from the manifest's serialization record."""
    args = manifest.serialization_type
    config = ms_hashing.Config()
    try:
        if args["method"] == "files":
            config.use_file_serialization(hashing_algorithm=args["hash_type"],
                                          chunk_size=HASH_CHUNK,
                                          allow_symlinks=bool(args["allow_symlinks"]))
        elif args["method"] == "shards":
            config.use_shard_serialization(hashing_algorithm=args["hash_type"],
                                           chunk_size=HASH_CHUNK,
                                           shard_size=int(args["shard_size"]),
                                           allow_symlinks=bool(args["allow_symlinks"]))
        else:
            raise ValueError(f"unknown serialization method {args['method']!r}")
    except (KeyError, ValueError) as e:
        raise SignatureRefused(SignatureRefusal.MALFORMED,
                               f"bundle records an unusable serialization ({e})") from e
    ignored = [str(p) for p in args.get("ignore_paths", [])] + _ignored_inside(model, bundle)
    return config.set_ignored_paths(paths=ignored, ignore_git_paths=True)


def _mismatch(model: Path, signed_name: str, want: Mapping[str, str], have: Mapping[str, str],
              identity_checked: bool) -> SignatureRefused:
    """Tell a tampered model from a bundle made for another model, naming files."""
    changed = sorted(n for n in want.keys() & have.keys() if want[n] != have[n])
    missing = sorted(want.keys() - have.keys())
    extra = sorted(have.keys() - want.keys())
    same = [n for n in want.keys() & have.keys() if want[n] == have[n]]
    parts = []
    if changed:
        parts.append("digest mismatch in " + ", ".join(_display(n, model) for n in changed[:10]))
    if missing:
        parts.append("missing " + ", ".join(_display(n, model) for n in missing[:10]))
    if extra:
        parts.append("unsigned extra " + ", ".join(_display(n, model) for n in extra[:10]))
    detail = "; ".join(parts)
    renamed = signed_name != model.name
    if not identity_checked and not same and (renamed or not (want.keys() & have.keys())):
        return SignatureRefused(
            SignatureRefusal.OTHER_MODEL,
            f"the bundle was made for model {signed_name!r}, not {model.name!r} "
            f"(no signed file matches: {detail})")
    return SignatureRefused(SignatureRefusal.TAMPERED_MODEL,
                            f"model {model.name} does not match its signature: {detail}")
