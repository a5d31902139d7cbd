"""The trust a gateway places in model signatures: who may sign, who was revoked.

The loader always checks the model file's SHA-256 against the load request; a
``ModelVerifier`` then checks the OMS signature bundle *and* that the bundle was
made for what the admin asked to load (model name, version, release id), and
returns the signing key's fingerprint so the gateway can take the model out of
service if that key is revoked later. Trust is re-read live: ``reload()`` (the
admin call and SIGHUP) re-reads the trusted key files and the revocation list.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)


@runtime_checkable
class ModelVerifier(Protocol):
    """Verifies that a model file is the one its signature bundle vouches for."""

    def verify(self, model_path: Path, bundle_path: Path,
               expected: Mapping[str, str]) -> str:
        """Check ``model_path`` against ``bundle_path`` and the identity ``expected``.

        Returns:
            The signing key's fingerprint.

        Raises:
            SignatureInvalid: the bundle is malformed, untrusted, revoked, made for
                another model/version/release, or does not cover this file; the
                message says which (and names both identities on a mismatch).
        """
        ...

    def distrust(self, fingerprint: str) -> str | None:
        """Why a key that signed a loaded model is no longer accepted (``None``: it is)."""
        ...

    def reload(self) -> TrustSummary:
        """Re-read the trusted keys and revocations from their files."""
        ...


@dataclass(frozen=True)
class TrustSummary:
    """What a verifier trusts after a (re)load."""

    trusted: tuple[str, ...]
    revoked: tuple[str, ...]


def read_revocations(path: Path) -> list[str]:
    """Fingerprints in a revocation list: one per line, ``#`` starts a comment."""
    out = []
    for line in path.read_text().splitlines():
        value = line.split("#", 1)[0].strip().lower()
        if value:
            out.append(value)
    return out


class OMSVerifier:
    """Verifies OpenSSF model-signing bundles against the keys this gateway trusts.

    The same check as the deployment gate (``activities.signing.oms.verify_model``):
    unsigned, tampered, untrusted-key, revoked-key and other-model bundles are
    refused with a message naming which.
    """

    def __init__(self, trusted_keys: Sequence[Path], revoked: Sequence[str] = (),
                 revocation_list: Path | None = None) -> None:
        """Args:
        trusted_keys: public key PEM files, or directories of ``*.pem`` files.
        revoked: fingerprints revoked for the life of the process (``--revoked``).
        revocation_list: a file of revoked fingerprints, re-read on ``reload()``.

        Raises:
            ValueError: no trusted key, or a key file cannot be read.
        """
        if not trusted_keys:
            raise ValueError("a signature verifier needs at least one trusted public key")
        self._key_paths = list(trusted_keys)
        self._static_revoked = [r.strip().lower() for r in revoked]
        self._revocation_list = revocation_list
        self._lock = threading.Lock()
        self.trusted: list[bytes] = []
        self.fingerprints: frozenset[str] = frozenset()
        self.revoked: tuple[str, ...] = ()
        self.reload()

    def reload(self) -> TrustSummary:
        """Re-read key files and the revocation list; the old trust stays on failure.

        Raises:
            ValueError: a key file or the revocation list cannot be read or parsed.
        """
        from medpipe.activities.signing.dsse import key_fingerprint
        from medpipe.contracts.errors import MedpipeError

        files: list[Path] = []
        for p in self._key_paths:
            files += sorted(p.glob("*.pem")) if p.is_dir() else [p]
        pems: list[bytes] = []
        fingerprints: set[str] = set()
        for f in files:
            try:
                pem = f.read_bytes()
                fingerprints.add(key_fingerprint(pem))
            except (OSError, ValueError, MedpipeError) as e:
                detail = e.message if isinstance(e, MedpipeError) else f"{type(e).__name__}"
                raise ValueError(f"trusted key {f} cannot be used: {detail}") from None
            pems.append(pem)
        revoked = list(self._static_revoked)
        if self._revocation_list is not None:  # a vanished list must not un-revoke keys
            try:
                revoked += read_revocations(self._revocation_list)
            except (OSError, ValueError) as e:
                raise ValueError(f"revocation list {self._revocation_list} cannot be read "
                                 f"({type(e).__name__})") from None
        if not pems:
            raise ValueError("no trusted public key found in " +
                             ", ".join(str(p) for p in self._key_paths))
        with self._lock:
            self.trusted, self.fingerprints = pems, frozenset(fingerprints)
            self.revoked = tuple(sorted(set(revoked)))
        return TrustSummary(trusted=tuple(sorted(fingerprints)), revoked=self.revoked)

    def distrust(self, fingerprint: str) -> str | None:
        """``revoked`` / ``no longer trusted`` for a key fingerprint, else ``None``."""
        with self._lock:
            if fingerprint in self.revoked:
                return f"its signing key {fingerprint[:16]}… was revoked"
            if fingerprint not in self.fingerprints:
                return f"its signing key {fingerprint[:16]}… is no longer trusted"
        return None

    def verify(self, model_path: Path, bundle_path: Path,
               expected: Mapping[str, str]) -> str:
        """Refuse a bundle that does not verify or was made for another model/release."""
        from medpipe.activities.signing.oms import verify_model

        with self._lock:
            trusted, revoked = list(self.trusted), self.revoked
        # The loader keeps a private copy under a temporary name; OMS manifests name
        # files, so verify the copy under the name the bundle was made for.
        with tempfile.TemporaryDirectory(prefix="medpipe-verify-") as tmp:
            named = Path(tmp) / _signed_name(bundle_path, model_path.name)
            os.link(model_path, named)
            verified = verify_model(named, bundle_path, trusted, revoked)
        _check_identity(verified.identity, expected, bundle_path.name)
        return verified.key_fingerprint


def _check_identity(signed: Mapping[str, str], expected: Mapping[str, str], what: str) -> None:
    """The bundle's medpipe identity must equal the one asked for (403 naming both)."""
    from medpipe.contracts.errors import SignatureInvalid

    def show(ident: Mapping[str, str]) -> str:
        return " ".join(f"{k}={ident.get(k)!r}" for k in expected)

    if not signed:
        raise SignatureInvalid(f"signature bundle {what} carries no model/version/release "
                               "identity (signed outside a medpipe release?), so it cannot "
                               f"vouch for {show(expected)}")
    if any(signed.get(k) != v for k, v in expected.items()):
        raise SignatureInvalid(f"signature bundle {what} was made for {show(signed)}, but the "
                               f"load asked for {show(expected)}")


def _signed_name(bundle_path: Path, default: str) -> str:
    """The model file name a bundle's statement names (``default`` if unreadable:
    verification then reports the malformed bundle itself)."""
    try:
        doc = json.loads(bundle_path.read_bytes())
        statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
        name = str(statement["subject"][0]["name"])
    except (ValueError, KeyError, IndexError, TypeError):
        return default
    name = Path(name).name
    return name if name and name not in (".", "..") else default
