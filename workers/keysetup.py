"""Create a deployment's keys once: the data key-encryption key, the signing key, the codec key.

``medpipe dev up`` and the tests call this for the local keyring; against a
real KMS or HSM the customer may pre-create the keys instead (creation of an
existing key is a no-op here).
"""

from __future__ import annotations

from pathlib import Path

from medpipe.activities.keys import shared_provider
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import AlreadyExists

#: The key-encryption key behind Temporal payload encryption (codec keyring).
CODEC_KEK_ID = "medpipe-codec"


def ensure_keys(keys: KeySettings, codec_kek_id: str | None = CODEC_KEK_ID) -> None:
    """Create the data, signing (and codec) keys of ``keys`` if they do not exist yet."""
    provider = shared_provider(keys.key_uri)
    wanted = [(provider.create_key, keys.data_key_id),
              (provider.create_signing_key, keys.signing_key_id)]
    if codec_kek_id:
        wanted.append((provider.create_key, codec_kek_id))
    for create, key_id in wanted:
        try:
            create(key_id)
        except AlreadyExists:
            pass


def export_public_key(keys: KeySettings, out: Path) -> Path:
    """Write the signing key's public key (PEM) for gateways and auditors."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(shared_provider(keys.key_uri).public_key_pem(keys.signing_key_id))
    return out


def local_keys(directory: Path) -> KeySettings:
    """Key settings for a local keyring under ``directory`` (created 0700)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return KeySettings(key_uri=f"local://{(directory / 'keyring.json').resolve()}")
