"""``open_plain`` on a sealed artifact: nothing but the recorded content comes out of it
(flipped stored bytes, another valid envelope of the same object put in place)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medpipe.activities.envelope import DEFAULT_SEGMENT_SIZE, encrypt_stream
from medpipe.activities.keys import shared_provider
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.storage.local import LocalStore
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import IntegrityError

KEY = "releases/rel-1/pseudonymized/cohort.csv"


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[LocalStore, KeySettings, ArtifactRef, bytes]:
    """A local store holding one sealed artifact of three segments, and its content."""
    store = LocalStore((tmp_path / "bucket").as_uri())
    store.ensure_bucket()
    keys = KeySettings(key_uri=f"local://{tmp_path}/keyring.json", data_key_id="data")
    shared_provider(keys.key_uri).create_key("data")
    content = os.urandom(2 * DEFAULT_SEGMENT_SIZE + 999)
    ref = store_sealed(store, KEY, [content[:5000], content[5000:]], name="dataset",
                       release_id="rel-1", keys=keys)
    return store, keys, ref, content


def test_an_artifact_stored_as_recorded_opens(
        sealed: tuple[LocalStore, KeySettings, ArtifactRef, bytes]) -> None:
    store, _, ref, content = sealed
    assert store.head(KEY).sha256 == ref.sha256
    assert b"".join(open_plain(ref)) == content


@pytest.mark.parametrize("where", [-5, 3000, DEFAULT_SEGMENT_SIZE + 100])
def test_a_flipped_stored_byte_fails(sealed: tuple[LocalStore, KeySettings, ArtifactRef, bytes],
                                     where: int) -> None:
    """The bytes changed behind the store (its digest record kept): the segment's tag or,
    at the latest, the store's digest at the end of the stream refuses them."""
    store, _, ref, _ = sealed
    path = store.root / KEY
    data = bytearray(path.read_bytes())
    data[where] ^= 0x01
    path.unlink()  # the object is a hard link of the store's spool: write a new file
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        b"".join(open_plain(ref))


def test_another_envelope_of_the_same_object_is_refused(
        sealed: tuple[LocalStore, KeySettings, ArtifactRef, bytes]) -> None:
    """A valid envelope of the same object id with other content, put in place with its
    digest record: its clear content is not the recorded ``content_sha256``, refused."""
    store, keys, ref, content = sealed
    other = bytes(reversed(content))
    assert ref.encryption is not None
    envelope = encrypt_stream([other], object_id=KEY, provider=shared_provider(keys.key_uri),
                              key_id="data", context=ref.encryption.context)
    store.replace_if_match(KEY, envelope, expected_sha256=ref.sha256)
    with pytest.raises(IntegrityError, match="decrypts to content other than"):
        b"".join(open_plain(ref))
