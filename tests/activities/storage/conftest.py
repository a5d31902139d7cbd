"""Session-scoped real emulators and a per-test ``Backend`` for each storage adapter.

Every test gets a fresh prefix in a shared bucket, so tests never see each
other's objects while the emulators start once per session.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.activities.storage.local import LocalStore
from tests.emulators import AZURITE_ACCOUNT, Azurite, EmulatorProcess, GcsEmulator, MotoS3

BUCKET = "medpipe-contract"
ALL_SCHEMES = ["file", "s3", "gs", "azblob"]


@pytest.fixture(scope="session")
def cloud_env() -> Iterator[None]:
    """Credentials for the emulators; endpoints come from the bucket URIs only."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "STORAGE_EMULATOR_HOST",
                 "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT"):
        mp.delenv(name, raising=False)
    yield
    mp.undo()


def _started(emulator: EmulatorProcess, bucket: str) -> EmulatorProcess:
    emulator.start()
    emulator.create_bucket(bucket)  # type: ignore[attr-defined]
    return emulator


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory, cloud_env: None) -> Iterator[MotoS3]:
    emu = MotoS3(tmp_path_factory.mktemp("moto"))
    _started(emu, BUCKET)
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def gcs(tmp_path_factory: pytest.TempPathFactory, cloud_env: None) -> Iterator[GcsEmulator]:
    emu = GcsEmulator(tmp_path_factory.mktemp("gcs"))
    _started(emu, BUCKET)
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory, cloud_env: None) -> Iterator[Azurite]:
    emu = Azurite(tmp_path_factory.mktemp("azurite"))
    _started(emu, BUCKET)
    yield emu
    emu.stop()


@dataclass
class Backend:
    """One adapter under test, plus raw access to what lies behind it."""

    scheme: str
    store: ObjectStore
    #: overwrite an object's bytes behind the adapter's back, keeping its stored digest
    tamper: Callable[[str, bytes], None]
    #: provider names currently stored under this test's prefix (staging included)
    raw_names: Callable[[], list[str]]
    #: a bucket URI on the same provider whose bucket does not exist
    missing_bucket_uri: str
    emulator: EmulatorProcess | None = None


def _file_backend(root: Path) -> Backend:
    bucket = root / "bucket"
    store = LocalStore(bucket.as_uri())
    store.ensure_bucket()

    def tamper(key: str, data: bytes) -> None:
        (bucket / key).unlink()  # the object is a hard link: replace, do not write through
        (bucket / key).write_bytes(data)

    def raw_names() -> list[str]:
        return sorted(str(p.relative_to(bucket)) for p in bucket.rglob("*")
                      if p.is_file() and ".medpipe" not in p.parts)

    return Backend("file", store, tamper, raw_names, (root / "missing").as_uri())


def _s3_backend(moto: MotoS3, prefix: str) -> Backend:
    raw = moto.client()
    store = open_store(moto.bucket_uri(BUCKET, prefix))

    def tamper(key: str, data: bytes) -> None:
        name = f"{prefix}/{key}"
        meta = raw.head_object(Bucket=BUCKET, Key=name)["Metadata"]
        raw.put_object(Bucket=BUCKET, Key=name, Body=data, Metadata=meta)

    def raw_names() -> list[str]:
        resp = raw.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
        uploads = raw.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{prefix}/")
        return sorted([o["Key"] for o in resp.get("Contents", [])]
                      + [f"upload:{u['Key']}" for u in uploads.get("Uploads", [])])

    return Backend("s3", store, tamper, raw_names, moto.bucket_uri("no-such-bucket-here"), moto)


def _gs_backend(gcs: GcsEmulator, prefix: str) -> Backend:
    raw = gcs.client()
    store = open_store(gcs.bucket_uri(BUCKET, prefix))

    def tamper(key: str, data: bytes) -> None:
        blob = raw.bucket(BUCKET).get_blob(f"{prefix}/{key}")
        meta = dict(blob.metadata)
        blob = raw.bucket(BUCKET).blob(f"{prefix}/{key}")
        blob.metadata = meta
        blob.upload_from_string(data)

    def raw_names() -> list[str]:
        return sorted(b.name for b in raw.list_blobs(BUCKET, prefix=f"{prefix}/"))

    return Backend("gs", store, tamper, raw_names, gcs.bucket_uri("no-such-bucket-here"), gcs)


def _azblob_backend(azurite: Azurite, prefix: str) -> Backend:
    container = azurite.client().get_container_client(BUCKET)
    store = open_store(azurite.bucket_uri(BUCKET, prefix))

    def tamper(key: str, data: bytes) -> None:
        blob = container.get_blob_client(f"{prefix}/{key}")
        meta = blob.get_blob_properties().metadata
        blob.upload_blob(data, overwrite=True, metadata=meta)

    def raw_names() -> list[str]:
        # Uncommitted blocks are not listed: readers cannot see them, and the
        # service discards them (Azure has no call to drop them earlier).
        return sorted(b.name for b in container.list_blobs(name_starts_with=f"{prefix}/"))

    return Backend("azblob", store, tamper, raw_names,
                   azurite.bucket_uri("no-such-container"), azurite)


def make_backend(request: pytest.FixtureRequest, scheme: str, tmp_path: Path) -> Backend:
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    if scheme == "file":
        return _file_backend(tmp_path)
    if scheme == "s3":
        return _s3_backend(request.getfixturevalue("moto"), prefix)
    if scheme == "gs":
        return _gs_backend(request.getfixturevalue("gcs"), prefix)
    if scheme == "azblob":
        return _azblob_backend(request.getfixturevalue("azurite"), prefix)
    raise AssertionError(scheme)


@pytest.fixture(params=ALL_SCHEMES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each contract test runs once per adapter, against its real emulator."""
    return make_backend(request, request.param, tmp_path)


__all__ = ["AZURITE_ACCOUNT", "Backend", "make_backend", "BUCKET"]
