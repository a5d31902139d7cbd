"""Key rotation over stored objects (activities.rotation) and ``medpipe keys rotate|shred``.

Real providers (keyring file, SoftHSM2, moto's KMS server) and the real
``file://`` store: objects are sealed with ``store_sealed`` as the pipeline
does, re-wrapped, then checked byte by byte.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from medpipe.activities.envelope import (
    _MAX_HEADER,
    DEFAULT_SEGMENT_SIZE,
    decrypt_bytes,
    encrypt_bytes,
    read_header,
    rewrap_stream,
)
from medpipe.activities.keys import KeyProvider, open_provider, shared_provider
from medpipe.activities.rotation import HEADER_PEEK, context_for_key, rewrap_objects
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.storage.base import CHUNK_SIZE, ObjectInfo, ObjectStore, open_store
from medpipe.activities.storage.local import LocalStore
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import AlreadyExists, IntegrityError, KeyProviderError, NotFound
from medpipe.workers.cli_keys import keys
from tests.keyfixtures import hsm_dir, hsm_token, kms_endpoint, kms_key_uri  # noqa: F401

VAULT_KEY = "vault/v000000000001.sealed"
VAULT_CONTEXT = {"purpose": "pseudonymization-vault"}


def local_store(path: Path) -> LocalStore:
    path.mkdir(parents=True, exist_ok=True)
    store = open_store(f"file://{path}")
    assert isinstance(store, LocalStore)
    return store


def raw(store: LocalStore, key: str) -> bytes:
    """The stored bytes, read behind the adapter (no digest check)."""
    return (store.root / key).read_bytes()


def refreshed(ref: ArtifactRef, store: ObjectStore) -> ArtifactRef:
    """The ref with the stored digest after re-wrapping (the plaintext digest is unchanged)."""
    return ref.model_copy(update={"sha256": store.head(ref.key).sha256})


def plain(ref: ArtifactRef) -> bytes:
    return b"".join(open_plain(ref))


class Sealed:
    """A store holding what a release writes: sealed artifacts, a vault, clear objects."""

    def __init__(self, store: LocalStore, key_uri: str, key_id: str) -> None:
        self.store = store
        self.keys = KeySettings(key_uri=key_uri, data_key_id=key_id)
        self.provider = shared_provider(key_uri)
        big = os.urandom(2 * DEFAULT_SEGMENT_SIZE + 12345)  # three segments
        self.refs = {
            "big": store_sealed(store, "releases/rel-1/inputs/cohort.csv", [big[:70000],
                                big[70000:]], name="cohort", release_id="rel-1", keys=self.keys),
            "small": store_sealed(store, "releases/rel-2/pseudonymized/cohort.csv",
                                  [b"patient,token\n"], name="ds", release_id="rel-2",
                                  keys=self.keys),
        }
        self.plain = {"big": big, "small": b"patient,token\n"}
        self.vault_plain = b'{"tokens": {}}'
        store.create_if_absent(VAULT_KEY, encrypt_bytes(
            self.vault_plain, object_id=VAULT_KEY, provider=self.provider, key_id=key_id,
            context=VAULT_CONTEXT))
        # Clear objects: a JSON report (store_sealed without keys) and a model.
        store_sealed(store, "releases/rel-1/reports/validate.json", [b'{"ok": true}'],
                     name="report", release_id="rel-1", keys=KeySettings())
        store.put("models/m.onnx", [b"\x08\x07onnx-bytes"])
        self.envelopes = [ref.key for ref in self.refs.values()] + [VAULT_KEY]

    def snapshot(self) -> dict[str, bytes]:
        return {info.key: raw(self.store, info.key) for info in self.store.list()}


def kek(provider: KeyProvider, name: str = "data") -> str:
    provider.create_key(name)
    return name


# -- the round trip over every provider -----------------------------------------------


@pytest.fixture(params=["local", "pkcs11", "aws-kms"])
def key_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return f"local://{tmp_path}/keyring.json"
    if request.param == "pkcs11":
        return str(request.getfixturevalue("hsm_token"))
    return kms_key_uri(request.getfixturevalue("kms_endpoint"))


def test_rotate_rewraps_headers_and_leaves_content_segments_identical(
        tmp_path: Path, key_uri: str) -> None:
    provider = shared_provider(key_uri)
    name = kek(provider, f"data-{tmp_path.name[-20:]}".replace("_", "-"))
    sealed = Sealed(local_store(tmp_path / "bucket"), key_uri, name)
    before = sealed.snapshot()
    old_headers = {k: read_header(before[k], object_id=k) for k in sealed.envelopes}

    new_version = provider.rotate(name)
    report = rewrap_objects(sealed.store, provider, name)

    assert report.target_key_id == new_version
    assert report.counts() == {"rewrapped": 3, "current": 0, "skipped": 2, "failed": 0}
    assert {o.key for o in report.outcomes if o.status == "skipped"} == {
        "models/m.onnx", "releases/rel-1/reports/validate.json"}
    after = sealed.snapshot()
    for key in sealed.envelopes:
        old, new = old_headers[key], read_header(after[key], object_id=key)
        assert old.wrapped.key_id != new_version
        assert new.wrapped.key_id == new_version
        assert new.immutable == old.immutable and new.commitment == old.commitment
        assert after[key][new.length:] == before[key][old.length:]  # segments untouched
        assert sealed.store.head(key).sha256 == hashlib.sha256(after[key]).hexdigest()
    for clear in ("models/m.onnx", "releases/rel-1/reports/validate.json"):
        assert after[clear] == before[clear]
    for label, ref in sealed.refs.items():
        assert plain(refreshed(ref, sealed.store)) == sealed.plain[label]
    vault = b"".join(sealed.store.get(VAULT_KEY))  # the store's digest record was updated too
    assert decrypt_bytes(vault, object_id=VAULT_KEY, provider=provider,
                         context=VAULT_CONTEXT) == sealed.vault_plain

    again = rewrap_objects(sealed.store, provider, name)
    assert again.counts() == {"rewrapped": 0, "current": 3, "skipped": 2, "failed": 0}
    assert sealed.snapshot() == after


def test_objects_of_other_keys_are_skipped(tmp_path: Path, key_uri: str) -> None:
    provider = shared_provider(key_uri)
    suffix = tmp_path.name[-16:].replace("_", "-")
    mine, other = kek(provider, f"mine-{suffix}"), kek(provider, f"other-{suffix}")
    store = local_store(tmp_path / "bucket")
    ref_mine = store_sealed(store, "releases/r/a.bin", [b"a"], name="a", release_id="r",
                            keys=KeySettings(key_uri=key_uri, data_key_id=mine))
    ref_other = store_sealed(store, "releases/r/b.bin", [b"b"], name="b", release_id="r",
                             keys=KeySettings(key_uri=key_uri, data_key_id=other))
    other_bytes = raw(store, ref_other.key)
    provider.rotate(mine)
    provider.rotate(other)

    report = rewrap_objects(store, provider, mine)

    by_key = {o.key: o for o in report.outcomes}
    assert by_key[ref_mine.key].status == "rewrapped"
    assert by_key[ref_other.key].status == "skipped"
    assert "another key" in by_key[ref_other.key].reason
    assert raw(store, ref_other.key) == other_bytes
    assert plain(refreshed(ref_mine, store)) == b"a"


# -- failures leave objects as they were ----------------------------------------------


@pytest.fixture
def local_keys(tmp_path: Path) -> tuple[str, KeyProvider]:
    uri = f"local://{tmp_path}/keyring.json"
    provider = shared_provider(uri)
    provider.create_key("data")
    provider.create_signing_key("ledger")
    return uri, provider


def test_objects_that_do_not_rewrap_are_reported_and_left_byte_identical(
        tmp_path: Path, local_keys: tuple[str, KeyProvider]) -> None:
    uri, provider = local_keys
    sealed = Sealed(local_store(tmp_path / "bucket"), uri, "data")
    store = sealed.store
    good = raw(store, sealed.refs["small"].key)
    # A flipped bit in the header's wrapped key: the header checksum no longer matches.
    corrupt = bytearray(good)
    corrupt[read_header(good).length - 40] ^= 0x01
    store.put("releases/rel-1/inputs/corrupt.csv", [bytes(corrupt)])
    # An envelope copied under another key: its header names another object.
    store.put("releases/rel-2/pseudonymized/copy.csv", [good])
    # Sealed for another release than its key says: the wrapping context does not match.
    store.put("releases/rel-1/inputs/moved.csv", [encrypt_bytes(
        b"x", object_id="releases/rel-1/inputs/moved.csv", provider=provider, key_id="data",
        context={"release_id": "rel-9"})])
    # No writer seals objects here, so no context is known.
    store.put("elsewhere/x.sealed", [encrypt_bytes(
        b"y", object_id="elsewhere/x.sealed", provider=provider, key_id="data",
        context={"release_id": "x"})])
    broken = ["releases/rel-1/inputs/corrupt.csv", "releases/rel-2/pseudonymized/copy.csv",
              "releases/rel-1/inputs/moved.csv", "elsewhere/x.sealed"]
    before = {k: (raw(store, k), store.head(k)) for k in broken}
    provider.rotate("data")

    report = rewrap_objects(store, provider, "data")

    assert report.counts() == {"rewrapped": 3, "current": 0, "skipped": 2, "failed": 4}
    reasons = {o.key: o.reason for o in report.failures()}
    assert "checksum" in reasons["releases/rel-1/inputs/corrupt.csv"]
    assert "belongs to object" in reasons["releases/rel-2/pseudonymized/copy.csv"]
    assert "does not unwrap" in reasons["releases/rel-1/inputs/moved.csv"]
    assert "no known encryption context" in reasons["elsewhere/x.sealed"]
    for key, (data, info) in before.items():
        assert raw(store, key) == data
        assert store.head(key) == info


def test_a_concurrent_change_wins_and_the_rewrap_is_reported(
        tmp_path: Path, local_keys: tuple[str, KeyProvider]) -> None:
    uri, provider = local_keys
    store = local_store(tmp_path / "bucket")
    ref = store_sealed(store, "releases/r/a.bin", [b"content"], name="a", release_id="r",
                       keys=KeySettings(key_uri=uri, data_key_id="data"))
    v2 = provider.rotate("data")

    class Racing:
        """The store, with another rotation replacing the object just before ours does."""

        bucket_uri = store.bucket_uri

        def __init__(self) -> None:
            self.raced = False

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def replace_if_match(self, key: str, chunks: Iterable[bytes],
                             expected_sha256: str) -> ObjectInfo:
            ours = list(chunks)  # our new bytes are ready: now the other writer commits
            if not self.raced:
                self.raced = True
                theirs = rewrap_stream(store.get(key), object_id=key, provider=provider,
                                       new_key_id=v2, context={"release_id": "r"})
                store.replace_if_match(key, theirs, expected_sha256)
            return store.replace_if_match(key, ours, expected_sha256)

    racing = Racing()
    winner_free = raw(store, ref.key)
    report = rewrap_objects(racing, provider, "data")  # type: ignore[arg-type]

    assert racing.raced and report.failed == 1
    assert "changed during re-wrap" in report.failures()[0].reason
    after = raw(store, ref.key)
    assert after != winner_free and read_header(after).wrapped.key_id == v2
    assert plain(refreshed(ref, store)) == b"content"
    assert rewrap_objects(store, provider, "data").counts()["current"] == 1


def test_after_shred_objects_are_unrecoverable(
        tmp_path: Path, local_keys: tuple[str, KeyProvider]) -> None:
    uri, provider = local_keys
    sealed = Sealed(local_store(tmp_path / "bucket"), uri, "data")
    provider.rotate("data")
    rewrap_objects(sealed.store, provider, "data")
    refs = [refreshed(ref, sealed.store) for ref in sealed.refs.values()]
    assert plain(refs[1]) == sealed.plain["small"]
    before = sealed.snapshot()

    provider.destroy("data")

    for ref in refs:
        with pytest.raises(KeyProviderError, match="destroyed"):
            plain(ref)
    with pytest.raises(KeyProviderError, match="destroyed"):
        rewrap_objects(sealed.store, provider, "data")
    assert sealed.snapshot() == before  # shredding destroys keys, not objects


def test_context_for_key_matches_the_writers() -> None:
    assert context_for_key("releases/rel-7/inputs/a.csv") == {"release_id": "rel-7"}
    assert context_for_key("vault/v000000000003.sealed") == VAULT_CONTEXT
    assert context_for_key("vault/hmac-token-key.wrapped.json") is None
    assert context_for_key("ledger/000000000001.json") is None
    assert HEADER_PEEK >= _MAX_HEADER  # the peek always holds a whole header


# -- the local store's compare-and-swap -------------------------------------------------


def test_local_replace_if_match(tmp_path: Path) -> None:
    store = local_store(tmp_path / "bucket")
    first = store.put("a/b", [b"one"])
    with pytest.raises(NotFound):
        store.replace_if_match("a/missing", [b"x"], first.sha256)
    assert not store.exists("a/missing")
    with pytest.raises(AlreadyExists, match="changed since it was read"):
        store.replace_if_match("a/b", [b"two"], "0" * 64)
    assert b"".join(store.get("a/b")) == b"one"

    second = store.replace_if_match("a/b", [b"tw", b"o"], first.sha256)

    assert store.head("a/b") == second and second.size == 3
    assert b"".join(store.get("a/b")) == b"two"
    with pytest.raises(AlreadyExists):
        store.replace_if_match("a/b", [b"three"], first.sha256)  # stale digest
    assert not list((store.root / ".medpipe" / "tmp").iterdir())


def test_local_replace_interrupted_between_renames_still_reads(tmp_path: Path) -> None:
    store = local_store(tmp_path / "bucket")
    first = store.put("k", [b"old content"])
    # A crash after the new content was renamed in, before its record was: the pending
    # record is left beside the old one.
    (store.root / "k").write_bytes(b"new content")
    meta = store.root / ".medpipe" / "meta" / "k.json"
    pending = meta.with_name("k.json.pending")
    new_sha = hashlib.sha256(b"new content").hexdigest()
    pending.write_text(json.dumps({"size": 11, "sha256": new_sha}))

    assert store.head("k").sha256 == new_sha
    assert b"".join(store.get("k")) == b"new content"
    with pytest.raises(AlreadyExists):
        store.replace_if_match("k", [b"newer"], first.sha256)
    assert not pending.exists()  # settled under the lock
    assert json.loads(meta.read_text())["sha256"] == new_sha

    # A crash before the content was renamed: the pending record is dropped.
    pending.write_text(json.dumps({"size": 5, "sha256": "ab" * 32}))
    assert store.head("k").sha256 == new_sha
    third = store.replace_if_match("k", [b"third"], new_sha)
    assert not pending.exists() and b"".join(store.get("k")) == b"third"
    assert store.head("k") == third


def test_local_replace_of_a_stream_that_fails_changes_nothing(tmp_path: Path) -> None:
    store = local_store(tmp_path / "bucket")
    info = store.put("k", [b"kept"])

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise IntegrityError("segment 3 failed authentication")

    with pytest.raises(IntegrityError):
        store.replace_if_match("k", failing(), info.sha256)
    assert b"".join(store.get("k", CHUNK_SIZE)) == b"kept" and store.head("k") == info


# -- the CLI ------------------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(keys, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


def test_cli_rotate_rewrap_shred_with_ledger(tmp_path: Path) -> None:
    uri = f"local://{tmp_path}/keyring.json"
    assert cli("create", "data", "--provider", uri)[0] == 0
    assert cli("create", "ledger-signer", "--signing", "--provider", uri)[0] == 0
    sealed = Sealed(local_store(tmp_path / "bucket"), uri, "data")
    other = Sealed(local_store(tmp_path / "bucket2"), uri, "data")
    ledger_dir = tmp_path / "ledger"
    ledger_dir.mkdir()
    ledger_uri = f"file://{ledger_dir}"
    stores = ["--rewrap", sealed.store.bucket_uri, "--rewrap", other.store.bucket_uri]
    signing = ["--ledger", ledger_uri, "--signing-key", "ledger-signer", "--by", "oncall"]

    code, out = cli("rotate", "data", "--provider", uri, *stores, *signing)

    assert code == 0, out
    assert "current version is data#v2" in out
    assert out.count("rewrapped 3, already current 0, skipped 2, failed 0") == 2
    for s in (sealed, other):
        assert plain(refreshed(s.refs["big"], s.store)) == s.plain["big"]
        assert read_header(raw(s.store, VAULT_KEY)).wrapped.key_id == "data#v2"

    code, out = cli("rewrap", "data", "--provider", uri, "--store", sealed.store.bucket_uri)
    assert code == 0 and "rewrapped 0, already current 3, skipped 2, failed 0" in out

    code, out = cli("shred", "data", "--provider", uri, "--yes", *signing)
    assert code == 0 and "unrecoverable" in out
    assert cli("shred", "data", "--provider", uri, "--yes", *signing)[0] == 0  # idempotent
    with pytest.raises(KeyProviderError, match="destroyed"):
        plain(refreshed(sealed.refs["small"], sealed.store))

    ledger = Ledger(open_store(ledger_uri))
    pem = open_provider(uri).public_key_pem("ledger-signer")
    assert ledger.verify([pem]).entries == 2
    rotated, shredded = ledger.entries()
    assert rotated.kind == "key-rotated" and rotated.idempotency_key == "key-rotated/data/data#v2"
    assert rotated.payload["key_id"] == "data" and rotated.payload["new_version"] == "data#v2"
    assert rotated.payload["by"] == "oncall"
    assert [s["rewrapped"] for s in rotated.payload["stores"]] == [3, 3]
    assert shredded.kind == "key-shredded" and shredded.payload["key_id"] == "data"
    assert shredded.payload["by"] == "oncall" and shredded.payload["at"]


def test_cli_rotate_reports_failures_and_refuses_bad_ledger_options(tmp_path: Path) -> None:
    uri = f"local://{tmp_path}/keyring.json"
    cli("create", "data", "--provider", uri)
    sealed = Sealed(local_store(tmp_path / "bucket"), uri, "data")
    sealed.store.put("releases/rel-1/inputs/copy.csv", [raw(sealed.store, VAULT_KEY)])

    code, out = cli("rotate", "data", "--provider", uri, "--ledger", f"file://{tmp_path}")
    assert code == 2 and "--signing-key" in out
    assert read_header(raw(sealed.store, VAULT_KEY)).wrapped.key_id == "data#v1"  # not rotated
    code, out = cli("rotate", "data", "--provider", uri, "--rewrap", "nosuch://bucket")
    assert code == 2 and "unknown storage scheme" in out
    assert open_provider(uri).new_data_key("data", {"o": "x"})[1].key_id == "data#v1"

    code, out = cli("rotate", "data", "--provider", uri, "--rewrap", sealed.store.bucket_uri)
    assert code == 1
    assert "rewrapped 3, already current 0, skipped 2, failed 1" in out
    assert "failed releases/rel-1/inputs/copy.csv: " in out and "belongs to object" in out


def test_rewrap_over_an_s3_store(tmp_path: Path, local_keys: tuple[str, KeyProvider],
                                 request: pytest.FixtureRequest) -> None:
    """The same round trip through the S3 adapter (moto), multipart replacement included."""
    import boto3

    endpoint = str(request.getfixturevalue("kms_endpoint"))  # moto serves S3 as well
    uri, provider = local_keys
    bucket = f"rotation-{tmp_path.name[-20:].replace('_', '-').lower()}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket)
    store = open_store(f"s3://{bucket}/p?endpoint={endpoint}")
    keys_ = KeySettings(key_uri=uri, data_key_id="data")
    big = os.urandom(9 * 1024 * 1024)  # more than one upload part
    refs = [store_sealed(store, "releases/r/big.bin", [big], name="big", release_id="r",
                         keys=keys_),
            store_sealed(store, "releases/r/small.bin", [b"small"], name="small",
                         release_id="r", keys=keys_)]
    store.put("models/m.onnx", [b"clear"])
    before = {r.key: b"".join(store.get(r.key)) for r in refs}
    v2 = provider.rotate("data")

    report = rewrap_objects(store, provider, "data")

    assert report.counts() == {"rewrapped": 2, "current": 0, "skipped": 1, "failed": 0}
    for ref, content in zip(refs, (big, b"small"), strict=True):
        after = b"".join(store.get(ref.key))
        old, new = read_header(before[ref.key]), read_header(after)
        assert new.wrapped.key_id == v2 and after[new.length:] == before[ref.key][old.length:]
        assert plain(refreshed(ref, store)) == content
    assert rewrap_objects(store, provider, "data").counts()["current"] == 2


def test_refs_recorded_before_a_rotation_still_open_and_content_is_checked(
        tmp_path: Path) -> None:
    """A release's ArtifactRefs name the stored digest of their time; after a re-wrap the
    stored bytes differ, the content does not: they open, checked against content_sha256."""
    key_uri = f"local://{tmp_path}/keyring.json"
    provider = shared_provider(key_uri)
    name = kek(provider)
    sealed = Sealed(local_store(tmp_path / "bucket"), key_uri, name)
    provider.rotate(name)
    assert rewrap_objects(sealed.store, provider, name).counts()["rewrapped"] == 3
    for label, ref in sealed.refs.items():
        assert sealed.store.head(ref.key).sha256 != ref.sha256  # the header changed
        assert plain(ref) == sealed.plain[label]  # the old ref still opens
    lying = sealed.refs["small"].model_copy(update={"content_sha256": "0" * 64})
    with pytest.raises(IntegrityError, match="decrypts to content other than"):
        plain(lying)
    clear_ref = ArtifactRef(name="m", bucket_uri=sealed.store.bucket_uri, key="models/m.onnx",
                            sha256="1" * 64, size=1)
    with pytest.raises(IntegrityError, match="not the artifact recorded"):
        plain(clear_ref)  # a clear artifact's stored digest is still binding
