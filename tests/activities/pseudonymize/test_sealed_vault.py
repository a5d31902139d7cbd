"""The deployment's vault store: versioned, sealed, conditional; the HMAC token key sealed too."""

from __future__ import annotations

from pathlib import Path

import pytest

from medpipe.activities.pseudonymize.activity import HMAC_KEY_OBJECT, SealedVaultStore
from medpipe.activities.pseudonymize.tokens import Vault
from medpipe.activities.storage.local import LocalStore
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import InvalidInput, Transient
from medpipe.workers.keysetup import ensure_keys, local_keys


@pytest.fixture
def setup(tmp_path: Path) -> tuple[LocalStore, KeySettings]:
    store = LocalStore((tmp_path / "vault").as_uri())
    store.ensure_bucket()
    keys = local_keys(tmp_path / "keys")
    ensure_keys(keys, codec_kek_id=None)
    return store, keys


def test_hmac_key_is_created_once_and_sealed(setup: tuple[LocalStore, KeySettings]) -> None:
    store, keys = setup
    first = SealedVaultStore(store, keys).hmac_key()
    again = SealedVaultStore(store, keys).hmac_key()
    assert len(first) == 32 and first == again
    assert first not in b"".join(store.get(HMAC_KEY_OBJECT))


def test_vault_versions_are_sealed_and_a_concurrent_update_is_retried(
        setup: tuple[LocalStore, KeySettings]) -> None:
    store, keys = setup
    a, b = SealedVaultStore(store, keys), SealedVaultStore(store, keys)
    va, vb = Vault(a.load, a.save), Vault(b.load, b.save)
    token = va.token("MRN-0001")
    vb.token("MRN-0002")
    va.commit()
    with pytest.raises(Transient, match="updated by another release"):
        vb.commit()  # b read version 0 too: it must not overwrite a's tokens
    c = SealedVaultStore(store, keys)
    assert Vault(c.load, c.save).reidentify(token) == "MRN-0001"
    assert b"MRN-0001" not in b"".join(store.get("vault/v000000000001.sealed"))


def test_a_vault_without_a_key_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="configure a key provider"):
        SealedVaultStore(LocalStore(tmp_path.as_uri()), KeySettings())
