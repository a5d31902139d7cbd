"""Signing keys in each real key provider: development keyring, moto KMS, SoftHSM2."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medpipe.activities.keys import KeyProvider, open_provider
from tests.keyfixtures import hsm_dir, hsm_token, kms_endpoint, kms_key_uri  # noqa: F401


@dataclass
class SigningKey:
    """A provider, a signing key in it, and its public PEM."""

    provider: KeyProvider
    key_id: str
    public_pem: bytes


def local_key(tmp_path: Path, name: str = "signer") -> SigningKey:
    """A fresh signing key in a development keyring under ``tmp_path``."""
    provider = open_provider(f"local://{tmp_path}/keyring-{name}.json")
    key_id = provider.create_signing_key(name)
    return SigningKey(provider, key_id, provider.public_key_pem(key_id))


@pytest.fixture
def signing_key(tmp_path: Path) -> SigningKey:
    """A signing key in the local keyring (fast; used by the refusal tests)."""
    return local_key(tmp_path)


@pytest.fixture
def other_key(tmp_path: Path) -> SigningKey:
    """A second, unrelated signing key."""
    return local_key(tmp_path, "intruder")


@pytest.fixture(params=["local", "aws-kms", "pkcs11"])
def provider_key(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SigningKey]:
    """A signing key in each key provider (the round trip runs over all three)."""
    if request.param == "local":
        yield local_key(tmp_path)
        return
    if request.param == "aws-kms":
        uri = kms_key_uri(request.getfixturevalue("kms_endpoint"))
    else:
        uri = request.getfixturevalue("hsm_token")
    provider = open_provider(uri)
    key_id = provider.create_signing_key(f"model-signer-{tmp_path.name[-8:]}".lower())
    yield SigningKey(provider, key_id, provider.public_key_pem(key_id))
