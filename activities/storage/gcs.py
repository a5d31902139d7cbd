"""``gs://bucket[/prefix]`` adapter (google-cloud-storage).

Configuration is the SDK's own, so a real project works by configuration
alone: Application Default Credentials and ``GOOGLE_CLOUD_PROJECT``; with
``STORAGE_EMULATOR_HOST`` set the SDK talks to that emulator anonymously. A
bucket URI may also carry ``?endpoint=URL`` (and ``project=``); an endpoint is
an emulator (anonymous credentials) only when the URI says so with
``emulator=1`` — configuration, not the hostname, decides: in a compose stack
the emulator is ``http://gcs:9023``, and a loopback endpoint may be a real
proxy that needs credentials. Any other endpoint keeps ADC.

Why uploads are staged: GCS fixes an object's metadata when an upload starts,
but the SHA-256 is only known at its end. Objects up to one part (8 MiB) go
up in one request carrying the digest, with ``ifGenerationMatch=0``. Larger
ones are streamed with a resumable upload to a staging name, then ``compose``
(server-side, no data through the worker) creates the final object with the
digest and ``ifGenerationMatch=0`` — the conditional create that makes the
key write-once and the commit atomic. The staging object is deleted whatever
happens; a crash can leave one under ``<prefix>/.medpipe/staging/`` (a
lifecycle rule should expire it).

The gcp-storage-emulator ignores preconditions, so every create is preceded
by an existence check: write-once holds against the emulator for writers that
do not race each other, and atomically against real GCS.

SDK retries are off (``retry=None``) and every call has a short timeout:
Temporal owns retries. A stopped or hung store fails in seconds: see ``liveness``.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from medpipe.activities.schemes import require_sdk
from medpipe.activities.storage import liveness
from medpipe.activities.storage.base import CHUNK_SIZE, ObjectInfo, register
from medpipe.activities.storage.cloud import (
    PART_SIZE,
    CloudStore,
    Digest,
    Version,
    emulator_flag,
    verify_stream,
)
from medpipe.contracts.errors import (
    AccessDenied,
    InvalidInput,
    MedpipeError,
    NotFound,
    ProviderUnavailable,
)

storage: Any = require_sdk("google.cloud.storage", "gcp")
gexc: Any = require_sdk("google.api_core.exceptions", "gcp")
gauth_exc: Any = require_sdk("google.auth.exceptions", "gcp")
gcreds: Any = require_sdk("google.auth.credentials", "gcp")
requests_exc: Any = require_sdk("requests.exceptions", "gcp")
resumable_common: Any = require_sdk("google.resumable_media.common", "gcp")

#: Custom metadata field holding the content's SHA-256.
SHA256_FIELD = "medpipe-sha256"
#: (connect, read) timeout of every request, seconds.
TIMEOUT = (2.5, 30.0)
_CONTENT_TYPE = "application/octet-stream"


def make_client(endpoint: str | None = None, project: str | None = None,
                emulator: bool = False, what: str = "GCS endpoint") -> Any:
    """A storage client: ``endpoint`` from the URI, else the SDK's own env rules;
    anonymous only when the configuration says the endpoint is an emulator."""
    client = _sdk_client(endpoint, project, emulator)
    liveness.mount(client._http, what)  # the SDK's (authorized) requests session
    return client


def _sdk_client(endpoint: str | None, project: str | None, emulator: bool) -> Any:
    """The SDK's client, as ``make_client`` describes."""
    if endpoint is None:
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            return storage.Client(project=project or os.environ.get("GOOGLE_CLOUD_PROJECT")
                                  or "medpipe-local")
        return storage.Client(project=project)
    options = {"api_endpoint": endpoint}
    if emulator:
        return storage.Client(project=project or "medpipe-local",
                              credentials=gcreds.AnonymousCredentials(), client_options=options)
    return storage.Client(project=project, client_options=options)


def _status(e: BaseException) -> int:
    code = getattr(e, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(e, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


class _Abandoned(Exception):
    """The reader stopped early: end the download quietly."""


@register("gs")
class GcsStore(CloudStore):
    """Write-once, streaming object store over one GCS bucket (and optional prefix)."""

    SCHEME = "gs"
    DIGEST_FIELD = SHA256_FIELD
    VENDOR = "GCS"
    PARAMETERS = ("endpoint", "project", "emulator")
    #: The SDK raises from api_core, auth, requests and the stdlib: ``_translate`` sorts them.
    VENDOR_ERRORS = (Exception,)

    def __init__(self, bucket_uri: str) -> None:
        super().__init__(bucket_uri)
        try:
            self.client = make_client(self.loc.params.get("endpoint") or None,
                                      self.loc.params.get("project") or None,
                                      emulator_flag(self.loc.params.get("emulator")),
                                      f"GCS endpoint for {self.bucket_uri}")
        except Exception as e:
            raise self._translate(e, bucket_uri) from e
        self.bucket = self.client.bucket(self.loc.bucket)

    # -- errors ------------------------------------------------------------
    def _translate(self, e: Exception, what: str) -> MedpipeError:
        """Map a google/requests error to the domain tree; ``what`` names object or bucket."""
        if isinstance(e, MedpipeError):
            return e
        if isinstance(e, gauth_exc.DefaultCredentialsError | gauth_exc.RefreshError):
            return AccessDenied(f"no usable Google credentials for {self.bucket_uri} "
                                f"({type(e).__name__})")
        if isinstance(e, requests_exc.RequestException | gauth_exc.TransportError
                      | ConnectionError | TimeoutError):
            return ProviderUnavailable(f"GCS endpoint for {self.bucket_uri} does not answer "
                                       f"({type(e).__name__})")
        status = _status(e)
        if isinstance(e, gexc.GoogleAPICallError | resumable_common.InvalidResponse):
            return self._refusal(what, status)
        raise e

    def _check_bucket(self) -> None:
        """Raise NotFound naming the bucket if it is the bucket, not the object, that is missing."""
        with self._errors(f"GCS bucket '{self.loc.bucket}'"):
            present = self.bucket.exists(retry=None, timeout=TIMEOUT)
        if not present:
            raise NotFound(f"GCS bucket '{self.loc.bucket}' does not exist ({self.bucket_uri})")

    def _blob_or_none(self, key: str) -> Any:
        name = self.loc.name_for(key)
        with self._errors(self.uri_for(key)):
            blob = self.bucket.get_blob(name, retry=None, timeout=TIMEOUT)
        if blob is None:
            self._check_bucket()
        return blob

    def _info(self, key: str, blob: Any) -> ObjectInfo:
        uri = self.uri_for(key)
        return ObjectInfo(uri=uri, key=key, size=int(blob.size or 0),
                          sha256=self._stored_sha256(uri, blob.metadata))

    # -- protocol ----------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        blob = self._blob_or_none(key)
        if blob is None:
            raise NotFound(f"{self.uri_for(key)} does not exist")
        return self._info(key, blob)

    def exists(self, key: str) -> bool:
        return self._blob_or_none(key) is not None

    def get(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        blob = self._blob_or_none(key)
        if blob is None:
            raise NotFound(f"{self.uri_for(key)} does not exist")
        info = self._info(key, blob)
        return verify_stream(self._ranges(blob, info, chunk_size), info)

    def _ranges(self, blob: Any, info: ObjectInfo, chunk_size: int) -> Iterator[bytes]:
        """One streaming download of one generation, handed over through a small bounded
        queue: constant memory, one request (ranged reads cost a round trip each), and a
        replaced object fails (the generation is pinned)."""
        pinned = self.bucket.blob(blob.name, generation=blob.generation)
        # One part waits in the queue while the reader holds another, the download fills a
        # third and copies a fourth into the queue: four parts (32 MiB) at most. A deeper
        # queue only adds memory (seven parts, 54 MB, broke the contract test's 48 MiB bound
        # in a fresh-clone CI); the download and the reader still overlap.
        pipe: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=1)
        stop = threading.Event()

        class _Pipe(io.RawIOBase):
            def writable(self) -> bool:
                return True

            def write(self, b: Any) -> int:
                data = bytes(b)
                while not stop.is_set():
                    try:
                        pipe.put(data, timeout=0.5)
                        return len(data)
                    except queue.Full:
                        continue
                raise _Abandoned()

        def download() -> None:
            try:
                with self._errors(info.uri):
                    sink = io.BufferedWriter(_Pipe(), buffer_size=chunk_size)
                    pinned.download_to_file(sink, raw_download=True, checksum=None, retry=None,
                                            timeout=TIMEOUT)
                    sink.flush()
                pipe.put(None)
            except _Abandoned:
                return
            except BaseException as e:  # handed to the reader, raised there
                pipe.put(e)

        worker = threading.Thread(target=download, name="gcs-download", daemon=True)
        worker.start()
        try:
            while True:
                item = pipe.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join(timeout=5)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._errors(self.bucket_uri):
            blobs = self.client.list_blobs(self.bucket, prefix=self.loc.list_prefix + prefix,
                                           retry=None, timeout=TIMEOUT)
            for blob in blobs:
                if self.loc.is_reserved(blob.name):
                    continue
                yield self._info(self.loc.key_of(blob.name), blob)

    def delete(self, key: str) -> None:
        name = self.loc.name_for(key)
        try:
            with self._errors(self.uri_for(key)):
                self.bucket.blob(name).delete(retry=None, timeout=TIMEOUT)
        except NotFound:
            self._check_bucket()

    # -- upload helpers ----------------------------------------------------
    def _create_one(self, key: str, data: bytes, digest: Digest) -> bool:
        """A single upload with ``ifGenerationMatch=0`` (after an existence check: the
        emulator ignores preconditions)."""
        return not self.exists(key) and self._create(key, data, digest)

    def _create_staged(self, key: str, parts: Iterable[bytes], digest: Digest) -> bool:
        """A resumable upload to a staging name, then ``compose`` with ``ifGenerationMatch=0``."""
        uri = self.uri_for(key)
        staging = self.bucket.blob(self.loc.staging_name(uuid.uuid4().hex), chunk_size=PART_SIZE)
        try:
            self._upload_staging(staging, parts, uri)
            info = ObjectInfo(uri=uri, key=key, size=digest.size, sha256=digest.hexdigest())
            return not self.exists(key) and self._compose(staging, key, info)
        finally:
            with contextlib.suppress(Exception):
                staging.delete(retry=None, timeout=TIMEOUT)

    def _final_blob(self, key: str, sha256: str) -> Any:
        blob = self.bucket.blob(self.loc.name_for(key))
        blob.metadata = {SHA256_FIELD: sha256}
        blob.content_type = _CONTENT_TYPE
        return blob

    def _create(self, key: str, data: bytes, digest: Digest) -> bool:
        """Single-request conditional create; False if the key already exists."""
        blob = self._final_blob(key, digest.hexdigest())
        try:
            with self._errors(self.uri_for(key)):
                blob.upload_from_string(data, content_type=_CONTENT_TYPE, if_generation_match=0,
                                        retry=None, timeout=TIMEOUT)
        except InvalidInput as e:
            if _status(e.__cause__ or e) == 412:
                return False
            raise
        except NotFound:
            self._check_bucket()
            raise
        return True

    def _upload_staging(self, staging: Any, parts: Iterable[bytes], what: str) -> None:
        """Resumable upload of ``parts`` (size unknown up front).

        If the source fails, the exception leaves the SDK mid-session: the
        session is never finalized, so no object appears (it expires unused).
        """
        try:
            with self._errors(what):
                staging.upload_from_file(_PartsReader(parts), size=None,
                                         content_type=_CONTENT_TYPE, retry=None,
                                         timeout=TIMEOUT, checksum=None)
        except NotFound:
            self._check_bucket()
            raise

    def _compose(self, staging: Any, key: str, info: ObjectInfo) -> bool:
        """Create ``key`` from ``staging`` server-side with the digest; False if it exists."""
        final = self._final_blob(key, info.sha256)
        try:
            with self._errors(info.uri):
                final.compose([staging], if_generation_match=0, retry=None, timeout=TIMEOUT)
        except InvalidInput as e:
            if _status(e.__cause__ or e) == 412:
                return False
            raise
        return True

    # -- key rotation's compare-and-swap (``CloudStore.replace_if_match``) -------
    def _replace_one(self, key: str, data: bytes, digest: Digest, expected_sha256: str,
                     version: Version) -> bool:
        """One upload with ``ifGenerationMatch`` the generation whose digest was checked
        (re-checked just before: the emulator ignores preconditions)."""
        self._expect(key, expected_sha256, version)
        blob = self._final_blob(key, digest.hexdigest())
        return self._conditionally(key, lambda: blob.upload_from_string(
            data, content_type=_CONTENT_TYPE, if_generation_match=version,
            retry=None, timeout=TIMEOUT))

    def _replace_staged(self, key: str, parts: Iterable[bytes], digest: Digest,
                        expected_sha256: str, version: Version) -> bool:
        """A staged upload, then ``compose`` with ``ifGenerationMatch`` (re-checked just
        before: the emulator ignores preconditions)."""
        staging = self.bucket.blob(self.loc.staging_name(uuid.uuid4().hex), chunk_size=PART_SIZE)
        try:
            self._upload_staging(staging, parts, self.uri_for(key))
            self._expect(key, expected_sha256, version)
            final = self._final_blob(key, digest.hexdigest())
            return self._conditionally(key, lambda: final.compose(
                [staging], if_generation_match=version, retry=None, timeout=TIMEOUT))
        finally:
            with contextlib.suppress(Exception):
                staging.delete(retry=None, timeout=TIMEOUT)

    def _version(self, key: str) -> tuple[str, Version] | None:
        blob = self._blob_or_none(key)
        if blob is None:
            return None
        return self._info(key, blob).sha256, int(blob.generation)

    def _conditionally(self, key: str, write: Callable[[], object]) -> bool:
        """Run a conditional write; False if its precondition was refused."""
        try:
            with self._errors(self.uri_for(key)):
                write()
        except InvalidInput as e:
            if _status(e.__cause__ or e) != 412:
                raise
            return False
        return True

    def ensure_bucket(self) -> None:
        """Create the bucket if missing (development stacks and tests only)."""
        with self._errors(f"GCS bucket '{self.loc.bucket}'"):
            if not self.bucket.exists(retry=None, timeout=TIMEOUT):
                self.client.create_bucket(self.loc.bucket, retry=None, timeout=TIMEOUT)


class _PartsReader(io.RawIOBase):
    """A read-only file over an iterator of byte strings.

    ``read(n)`` returns exactly ``n`` bytes until the end: the resumable
    upload takes a short read for the end of the object.
    """

    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts = iter(parts)
        self._buf = bytearray()
        self._eof = False
        self._pos = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        want = None if size is None or size < 0 else size
        while not self._eof and (want is None or len(self._buf) < want):
            part = next(self._parts, None)
            if part is None:
                self._eof = True
            else:
                self._buf += part
        n = len(self._buf) if want is None else min(want, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self._pos += n
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

