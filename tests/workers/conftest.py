"""Fixtures shared by the codec tests: a local key provider and a payload codec under it."""

from __future__ import annotations

from pathlib import Path

import pytest

from medpipe.activities.keys.base import KeyProvider, open_provider
from medpipe.workers.codec import EncryptionCodec


@pytest.fixture
def provider(tmp_path: Path) -> KeyProvider:
    p = open_provider(f"local://{tmp_path}/kek/keyring.json")
    p.create_key("codec-kek")
    return p


@pytest.fixture
def codec(tmp_path: Path, provider: KeyProvider) -> EncryptionCodec:
    return EncryptionCodec.open(tmp_path / "home", provider, "codec-kek")
