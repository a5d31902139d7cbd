"""The hook through which model signatures are checked before a model may serve.

The gateway always checks the model file's SHA-256 against the digest in the load
request itself (``loader``); a ``ModelVerifier`` adds the signature check. The
signing work plugs an OMS-bundle verifier in here; without one, the default
verifier accepts what the digest check accepted, unless the gateway was started
to require signatures, in which case an unsigned model is refused.
"""

from __future__ import annotations

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
