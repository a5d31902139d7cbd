"""One contract, four adapters: file, s3 (moto), gs (gcp-storage-emulator), azblob (Azurite).

Every test here runs against each adapter with the real emulator behind it;
an adapter that deviates from the ``file://`` semantics fails the same test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medpipe.activities.schemes import require_sdk
from medpipe.activities.storage.base import ObjectStore, open_store, split_object_uri
from medpipe.activities.storage.cloud import PART_SIZE
from medpipe.contracts.errors import (
    AccessDenied,
    AlreadyExists,
    IntegrityError,
    InvalidInput,
    NotFound,
    ProviderUnavailable,
)
from tests.activities.storage.conftest import BUCKET, Backend, make_backend
from tests.emulators import Azurite, GcsEmulator, MotoS3

MiB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.get(key))


def pieces(data: bytes, size: int = 1_000_003) -> Iterator[bytes]:
    """Odd-sized chunks, so parts never line up with what the caller yields."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


# -- put / get / head / exists / list / delete ----------------------------------------
@pytest.mark.parametrize("size", [0, 11, PART_SIZE, PART_SIZE * 2 + 7])
def test_put_then_get_round_trips_with_digest(backend: Backend, size: int) -> None:
    data = os.urandom(size)
    info = backend.store.put("models/m.bin", pieces(data))
    assert (info.key, info.size, info.sha256) == ("models/m.bin", size, sha(data))
    assert info.uri == backend.store.uri_for("models/m.bin")
    assert read(backend.store, "models/m.bin") == data
    assert backend.store.head("models/m.bin") == info


def test_object_uri_round_trips_through_open_store(backend: Backend) -> None:
    # A top-level key: the file:// adapter keeps digests at its root, so a nested key's
    # URI split at its last "/" does not reopen there (the cloud adapters would).
    info = backend.store.put("c.txt", [b"content"])
    bucket_uri, key = split_object_uri(info.uri)
    assert read(open_store(bucket_uri), key) == b"content"


def test_exists_head_and_get_of_absent_key(backend: Backend) -> None:
    assert backend.store.exists("nothing-here") is False
    with pytest.raises(NotFound, match="nothing-here"):
        backend.store.head("nothing-here")
    with pytest.raises(NotFound, match="nothing-here"):
        backend.store.get("nothing-here")


def test_list_is_sorted_filtered_by_prefix_and_hides_internals(backend: Backend) -> None:
    for key in ["b/2", "a/1", "b/1", "c"]:
        backend.store.put(key, [key.encode()])
    assert [i.key for i in backend.store.list()] == ["a/1", "b/1", "b/2", "c"]
    listed = list(backend.store.list("b/"))
    assert [i.key for i in listed] == ["b/1", "b/2"]
    assert listed[0].sha256 == sha(b"b/1") and listed[0].size == 3
    assert list(backend.store.list("zzz")) == []


def test_delete_removes_and_is_idempotent(backend: Backend) -> None:
    backend.store.put("gone", [b"x"])
    backend.store.delete("gone")
    assert not backend.store.exists("gone")
    backend.store.delete("gone")  # absent: no error
    assert [i.key for i in backend.store.list()] == []


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "./a", ".medpipe/x", "a/"])
def test_invalid_keys_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(InvalidInput, match="invalid object key"):
        backend.store.put(key, [b"x"])


# -- write-once -----------------------------------------------------------------------
@pytest.mark.parametrize("size", [5, PART_SIZE + 5])
def test_identical_reput_is_a_noop_and_different_content_is_refused(
        backend: Backend, size: int) -> None:
    data = os.urandom(size)
    first = backend.store.put("k", pieces(data))
    assert backend.store.put("k", pieces(data)) == first
    other = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(AlreadyExists, match="write-once"):
        backend.store.put("k", pieces(other))
    assert read(backend.store, "k") == data  # nothing stored was damaged
    assert backend.store.head("k") == first


def test_create_if_absent_creates_once(backend: Backend) -> None:
    assert backend.store.create_if_absent("entry/0001", b"first") is True
    assert backend.store.create_if_absent("entry/0001", b"second") is False
    assert backend.store.create_if_absent("entry/0001", b"first") is False
    assert read(backend.store, "entry/0001") == b"first"


@pytest.mark.parametrize("scheme", ["file", "azblob"])
def test_racing_creators_exactly_one_wins(request: pytest.FixtureRequest, tmp_path: Path,
                                          scheme: str) -> None:
    # gs is left out: gcp-storage-emulator ignores ifGenerationMatch, so only real GCS
    # makes its create atomic (the adapter sends the precondition; see gcs.py).
    # s3 is left out: moto's server (5.2.x, responses.py ``put_object``) looks the key up
    # and then stores it, with no lock between, on a threaded server, so two racing
    # conditional PUTs can both pass its check (seen once in CI under load). Real S3
    # decides ``If-None-Match: *`` atomically; what the adapter owes is to send it in one
    # request, which the next test checks on the wire.
    store = make_backend(request, scheme, tmp_path).store
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def create(i: int) -> None:
        barrier.wait()
        results.append(store.create_if_absent("race", f"writer-{i}".encode()))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]
    assert read(store, "race").startswith(b"writer-")


def test_s3_create_is_one_conditional_put(moto: MotoS3) -> None:
    """The s3 adapter creates with a single ``PutObject`` carrying ``If-None-Match: *``.

    A look-up before the write (HEAD, then PUT) would let two writers both win however
    atomic the server is; only the server's precondition makes the create write-once.
    """
    store = open_store(moto.bucket_uri(BUCKET, "wire"))
    sent: list[tuple[str, bytes | None]] = []

    def record(request: Any, **_: object) -> None:  # botocore's AWSPreparedRequest
        sent.append((request.method, request.headers.get("If-None-Match")))

    store.client.meta.events.register("before-send.s3", record)  # type: ignore[attr-defined]
    assert store.create_if_absent("entry/0001", b"first") is True
    assert store.create_if_absent("entry/0001", b"second") is False
    assert sent == [("PUT", b"*"), ("PUT", b"*")]
    assert read(store, "entry/0001") == b"first"


# -- integrity ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [100, PART_SIZE + 100])
def test_object_changed_behind_the_adapter_fails_at_end_of_stream(
        backend: Backend, size: int) -> None:
    data = os.urandom(size)
    backend.store.put("victim", pieces(data))
    backend.tamper("victim", data[:-1] + bytes([data[-1] ^ 1]))  # always a change
    stream = backend.store.get("victim", chunk_size=64 * 1024)
    with pytest.raises(IntegrityError, match="changed after it was written"):
        for _ in stream:
            pass


# -- failures -------------------------------------------------------------------------
class Boom(RuntimeError):
    pass


def failing(data: bytes, after: int) -> Iterator[bytes]:
    yield from pieces(data[:after])
    raise Boom("source broke mid-stream")


@pytest.mark.parametrize("size", [1000, 3 * PART_SIZE])
def test_failed_upload_leaves_nothing_visible(backend: Backend, size: int) -> None:
    data = os.urandom(size)
    with pytest.raises(Boom):
        backend.store.put("partial", failing(data, after=size - 10))
    assert not backend.store.exists("partial")
    assert list(backend.store.list()) == []
    names = backend.raw_names()
    assert not any(n.endswith("partial") for n in names), names
    assert not any("staging" in n for n in names), names
    # the key is still free for a complete upload
    assert backend.store.put("partial", [data]).sha256 == sha(data)


def test_failed_upload_does_not_damage_existing_object(backend: Backend) -> None:
    data = os.urandom(PART_SIZE * 2)
    backend.store.put("kept", [data])
    with pytest.raises(Boom):
        backend.store.put("kept", failing(os.urandom(PART_SIZE * 3), after=PART_SIZE * 2 + 1))
    assert read(backend.store, "kept") == data


def test_missing_bucket_names_it(backend: Backend) -> None:
    store = open_store(backend.missing_bucket_uri)
    # The file:// adapter treats a missing root as an unmounted provider (fail over);
    # a cloud bucket that does not exist is a configuration error: NotFound naming it.
    expected = ProviderUnavailable if backend.scheme == "file" else NotFound
    name = "missing" if backend.scheme == "file" else "no-such-"
    for op in (lambda: store.head("k"), lambda: store.exists("k"), lambda: store.get("k"),
               lambda: store.put("k", [b"x"]), lambda: list(store.list())):
        with pytest.raises(expected, match=name):
            op()


def test_unknown_scheme_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown storage scheme 'ftp://'"):
        open_store("ftp://host/bucket")


@pytest.mark.parametrize("uri", ["s3://", "s3://b?bogus=1", "gs://b?endpoint=a&endpoint=b",
                                 "azblob://c/../x"])
def test_malformed_cloud_bucket_uri_is_invalid_input(cloud_env: None, uri: str) -> None:
    with pytest.raises(InvalidInput):
        open_store(uri)


def test_missing_sdk_names_the_extra() -> None:
    with pytest.raises(InvalidInput, match=r"install medpipe\[gcp\]"):
        require_sdk("no_such_sdk_module_xyz", "gcp")


# -- outage: stop the provider, start it again on the same port ------------------------
@pytest.mark.timeout(60)  # a hanging client fails here instead of stalling the suite
@pytest.mark.parametrize("scheme", ["file", "s3", "gs", "azblob"])
def test_provider_down_is_unavailable_and_recovers(tmp_path: Path, cloud_env: None,
                                                   scheme: str) -> None:
    if scheme == "file":
        root = tmp_path / "bucket"
        store = open_store(root.as_uri())
        root.mkdir()
        store.put("k", [b"v"])
        shutil.move(root, tmp_path / "unmounted")
        with pytest.raises(ProviderUnavailable):
            store.head("k")
        shutil.move(tmp_path / "unmounted", root)
        assert read(store, "k") == b"v"
        return
    emu = {"s3": MotoS3, "gs": GcsEmulator, "azblob": Azurite}[scheme](tmp_path / scheme)
    emu.start()
    try:
        emu.create_bucket(BUCKET)  # type: ignore[attr-defined]
        store = open_store(emu.bucket_uri(BUCKET))  # type: ignore[attr-defined]
        store.put("k", [b"v"])
        emu.stop()
        started = time.monotonic()
        for op in (lambda: store.head("k"), lambda: store.exists("k"), lambda: store.get("k"),
                   lambda: store.put("k2", [b"x"]), lambda: store.put("k3", pieces(
                       os.urandom(PART_SIZE + 1))), lambda: list(store.list()),
                   lambda: store.delete("k"), lambda: store.create_if_absent("k4", b"y")):
            with pytest.raises(ProviderUnavailable, match="does not answer"):
                op()
        elapsed = time.monotonic() - started
        emu.start()  # same port (the store's URI still names it): the provider comes back
        assert store.put("after", [b"back"]).size == 4
        assert read(store, "after") == b"back"
        print(f"{scheme}: 8 failing calls took {elapsed:.2f}s")
    finally:
        emu.stop()


# -- access denied --------------------------------------------------------------------
def test_s3_unknown_credentials_are_access_denied(tmp_path: Path, cloud_env: None) -> None:
    emu = MotoS3(tmp_path / "moto-auth", enforce_auth=True)
    emu.start()
    try:
        store = open_store(emu.bucket_uri(BUCKET))
        with pytest.raises(AccessDenied, match="refused access"):
            store.head("k")
        with pytest.raises(AccessDenied):
            store.put("k", [b"x"])
    finally:
        emu.stop()


def test_azure_wrong_account_key_is_access_denied(azurite: Azurite,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    uri = azurite.bucket_uri(BUCKET, "denied")
    open_store(uri).put("k", [b"secret-free content"])
    monkeypatch.setenv("AZURE_STORAGE_KEY", "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=")
    store = open_store(uri)
    for op in (lambda: store.head("k"), lambda: store.get("k"), lambda: store.put("j", [b"x"]),
               lambda: list(store.list())):
        with pytest.raises(AccessDenied, match="refused access"):
            op()


def test_azure_connection_string_configures_the_endpoint(azurite: Azurite,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    store = open_store(f"azblob://{BUCKET}/conn")
    assert store.put("k", [b"via env"]).size == 7
    assert read(open_store(azurite.bucket_uri(BUCKET, "conn")), "k") == b"via env"


def test_s3_env_endpoint_configures_the_client(moto: MotoS3,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint)
    store = open_store(f"s3://{BUCKET}/env")
    assert store.put("k", [b"via env"]).size == 7
    assert read(open_store(moto.bucket_uri(BUCKET, "env")), "k") == b"via env"


def test_gcs_emulator_host_configures_the_client(gcs: GcsEmulator,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
    store = open_store(f"gs://{BUCKET}/env")
    assert store.put("k", [b"via env"]).size == 7
    assert read(open_store(gcs.bucket_uri(BUCKET, "env")), "k") == b"via env"


# -- large objects: streamed both ways in constant memory ------------------------------
class PeakRss:
    """Samples this process's RSS in a thread; ``peak_delta`` is the growth over the start."""

    def __init__(self) -> None:
        self.base = self._rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def peak_delta(self) -> int:
        return self.peak - self.base


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_large_object_streams_in_constant_memory(backend: Backend) -> None:
    size = 100 * MiB + 12345
    block = os.urandom(MiB)

    def source() -> Iterator[bytes]:
        sent = 0
        while sent < size:
            n = min(MiB, size - sent)
            yield block[:n]
            sent += n

    expected = hashlib.sha256()
    for chunk in source():
        expected.update(chunk)
    with PeakRss() as put_mem:
        info = backend.store.put("large.bin", source())
    assert (info.size, info.sha256) == (size, expected.hexdigest())
    got = hashlib.sha256()
    n = 0
    with PeakRss() as get_mem:
        for chunk in backend.store.get("large.bin"):
            got.update(chunk)
            n += len(chunk)
    assert (n, got.hexdigest()) == (size, expected.hexdigest())
    # Bounded by a few parts, far below the object size.
    assert put_mem.peak_delta < 48 * MiB, put_mem.peak_delta
    assert get_mem.peak_delta < 48 * MiB, get_mem.peak_delta


# -- replace_if_match (key rotation's compare-and-swap) ------------------------------
@pytest.mark.parametrize("size", [11, PART_SIZE + 7])
def test_replace_if_match_swaps_only_the_expected_object(backend: Backend, size: int) -> None:
    old, new = os.urandom(size), os.urandom(size)
    first = backend.store.put("sealed/o", pieces(old))

    info = backend.store.replace_if_match("sealed/o", pieces(new), first.sha256)

    assert (info.key, info.size, info.sha256) == ("sealed/o", size, sha(new))
    assert backend.store.head("sealed/o") == info
    assert read(backend.store, "sealed/o") == new
    assert [i.sha256 for i in backend.store.list()] == [sha(new)]
    with pytest.raises(AlreadyExists, match="changed since it was read"):
        backend.store.replace_if_match("sealed/o", [old], first.sha256)  # stale digest
    assert read(backend.store, "sealed/o") == new
    names = backend.raw_names()
    assert not any("staging" in n or n.startswith("upload:") for n in names), names


def test_replace_if_match_never_creates(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.store.replace_if_match("absent", [b"x"], sha(b""))
    assert not backend.store.exists("absent")


@pytest.mark.parametrize("size", [1000, PART_SIZE * 2 + 3])
def test_replace_if_match_loses_to_a_change_made_while_it_streams(
        backend: Backend, size: int) -> None:
    old = os.urandom(size)
    first = backend.store.put("sealed/o", pieces(old))
    theirs = os.urandom(size)
    other = open_store(backend.store.bucket_uri)  # another worker, same bucket

    def ours() -> Iterator[bytes]:
        yield os.urandom(size // 2)
        other.replace_if_match("sealed/o", pieces(theirs), first.sha256)  # it commits first
        yield os.urandom(size - size // 2)

    with pytest.raises(AlreadyExists, match="changed since it was read"):
        backend.store.replace_if_match("sealed/o", ours(), first.sha256)
    assert read(backend.store, "sealed/o") == theirs
    assert backend.store.head("sealed/o").sha256 == sha(theirs)


def test_failed_replace_does_not_damage_the_object(backend: Backend) -> None:
    data = os.urandom(PART_SIZE + 1)
    first = backend.store.put("kept", [data])
    for size in (100, PART_SIZE * 2):
        with pytest.raises(Boom):
            backend.store.replace_if_match("kept", failing(os.urandom(size), after=size - 1),
                                           first.sha256)
    assert read(backend.store, "kept") == data and backend.store.head("kept") == first


def test_gcs_emulator_is_said_by_configuration_not_hostname(
        gcs: GcsEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``emulator=1`` makes an endpoint anonymous (a compose host name such as ``gcs``);
    a loopback endpoint without it keeps Application Default Credentials."""
    from google.auth.credentials import AnonymousCredentials

    from medpipe.activities.storage.gcs import make_client

    compose = make_client("http://gcs:9023", emulator=True)  # no request is made
    assert isinstance(compose._credentials, AnonymousCredentials)
    uri = gcs.bucket_uri(BUCKET, "flag")
    assert "emulator=1" in uri
    assert open_store(uri).put("k", [b"anonymous"]).size == 9
    for var in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST",
                "CLOUDSDK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # no metadata server either
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    with pytest.raises(AccessDenied, match="no usable Google credentials"):
        open_store(uri.replace("&emulator=1", ""))
    with pytest.raises(InvalidInput, match="emulator=1 or emulator=0"):
        open_store(uri.replace("emulator=1", "emulator=yes"))


def test_azure_emulator_under_a_host_name_is_path_style(azurite: Azurite) -> None:
    """``http://azurite:10000/devstoreaccount1`` (compose) with ``emulator=1``: the account
    is in the path and takes Azurite's development key; without it, the host is the account."""
    from medpipe.activities.storage.azure import make_service_client

    compose = make_service_client("http://azurite:10000/devstoreaccount1", emulator=True)
    assert compose.credential.account_name == "devstoreaccount1"  # no request is made
    assert compose.url.startswith("http://azurite:10000/devstoreaccount1")
    assert "emulator=1" in azurite.bucket_uri(BUCKET)
    assert open_store(azurite.bucket_uri(BUCKET, "flag")).put("k", [b"dev key"]).size == 7
