"""The hook through which model signatures are checked before a model may serve.

The gateway always checks the model file's SHA-256 against the digest in the load
request itself (``loader``); a ``ModelVerifier`` adds the signature check. The
signing work plugs an OMS-bundle verifier in here; without one, the default
verifier accepts what the digest check accepted, unless the gateway was started
to require signatures, in which case an unsigned model is refused.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class ModelVerifier(Protocol):
    """Verifies that a model file is the one its signature bundle vouches for."""

    def verify(self, model_path: Path, bundle_path: Path | None) -> None:
        """Check ``model_path`` against ``bundle_path``.

        Raises:
            SignatureInvalid: the signature is missing, malformed, untrusted, or does
                not cover this file; the message says which.
        """
        ...


class DigestOnlyVerifier:
    """Default verifier: relies on the loader's SHA-256 check, checks no signature.

    Used only when no signature verifier is configured; ``require_signature`` on the
    gateway still refuses models that come without a bundle.
    """

    def verify(self, model_path: Path, bundle_path: Path | None) -> None:
        """Accept: the digest was already checked by the loader."""
        return None


class OMSVerifier:
    """Verifies OpenSSF model-signing bundles against the keys this gateway trusts.

    The same check as the deployment gate (``activities.signing.oms.verify_model``):
    unsigned, tampered, untrusted-key, revoked-key and other-model bundles are
    refused with a message naming which.
    """

    def __init__(self, trusted_keys: list[Path], revoked: tuple[str, ...] = ()) -> None:
        if not trusted_keys:
            raise ValueError("a signature verifier needs at least one trusted public key")
        self.trusted = [p.read_bytes() for p in trusted_keys]
        self.revoked = revoked

    def verify(self, model_path: Path, bundle_path: Path | None) -> None:
        """Refuse a model without a bundle, or whose bundle does not verify."""
        from medpipe.activities.signing.oms import verify_model
        from medpipe.contracts.errors import SignatureInvalid

        if bundle_path is None:
            raise SignatureInvalid(f"unsigned model: {model_path.name} came without a "
                                   "signature bundle and this gateway requires one")
        # The loader keeps a private copy under a temporary name; OMS manifests name
        # files, so verify the copy under the name the bundle was made for.
        with tempfile.TemporaryDirectory(prefix="medpipe-verify-") as tmp:
            named = Path(tmp) / _signed_name(bundle_path, model_path.name)
            os.link(model_path, named)
            verify_model(named, bundle_path, self.trusted, self.revoked)


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
