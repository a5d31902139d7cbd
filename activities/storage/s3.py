"""``s3://bucket[/prefix]`` adapter (boto3): AWS S3 and S3-compatible endpoints.

Configuration is boto3's own, so a real account works by configuration alone:
credentials and region from the usual chain (env, profile, instance role),
endpoint from ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``. A bucket URI may
also carry ``?endpoint=URL`` (and ``region=``), so that each worker of a local
stack can bind its own emulator through its profile alone.

Why uploads are staged: S3 fixes an object's metadata when an upload *starts*,
but the SHA-256 is only known at its end. Objects up to one part (8 MiB) are
buffered and sent in one ``PutObject`` carrying the digest. Larger ones are
streamed as a multipart upload to a staging name, then copied server-side
(``UploadPartCopy``, no data through the worker) into a second multipart
upload that carries the digest and completes with ``If-None-Match: *`` — the
conditional create that makes the key write-once and the commit atomic.
Failed uploads are aborted and the staging object deleted; a crash can leave
one under ``<prefix>/.medpipe/staging/`` (a lifecycle rule should expire it).

Vendor retries are bounded to one retry with a short connect timeout: Temporal
owns retries, and an outage must surface as ``ProviderUnavailable`` in seconds.
A store that accepts connections but never answers (stopped, hung) is caught
before each request by ``liveness.check`` rather than by the read timeout,
which stays long enough for server-side work on large artifacts.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from medpipe.activities.schemes import require_sdk
from medpipe.activities.storage import liveness
from medpipe.activities.storage.base import CHUNK_SIZE, ObjectInfo, register
from medpipe.activities.storage.cloud import CloudStore, Digest, Version, verify_stream
from medpipe.contracts.errors import AccessDenied, MedpipeError, NotFound, ProviderUnavailable

boto3: Any = require_sdk("boto3", "aws")
botocore_config: Any = require_sdk("botocore.config", "aws")
botocore_exc: Any = require_sdk("botocore.exceptions", "aws")

#: User metadata field holding the content's SHA-256 (``x-amz-meta-medpipe-sha256``).
SHA256_FIELD = "medpipe-sha256"
#: Largest range copied by one ``UploadPartCopy`` (S3 allows 5 GiB).
_COPY_PART = 1024 * 1024 * 1024
_BUCKET_MISSING = {"NoSuchBucket"}
_KEY_MISSING = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403",
           "ExpiredToken", "InvalidToken", "AllAccessDisabled", "AccountProblem"}
_UNAVAILABLE = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
                "503", "500", "ThrottlingException"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def make_client(endpoint: str | None = None, region: str | None = None,
                what: str = "S3 endpoint") -> Any:
    """An S3 client with medpipe's bounded retries and timeouts, each request probed
    first (``liveness.check``; ``what`` names the store in its error).

    ``endpoint=None`` leaves boto3 to read ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``.
    """
    config = botocore_config.Config(
        retries={"total_max_attempts": 2, "mode": "standard"},
        connect_timeout=2.5, read_timeout=20,
        # Path-style works with every S3-compatible endpoint and with IP hosts.
        s3={"addressing_style": "path"} if endpoint else None,
    )
    session = boto3.session.Session()
    client = session.client("s3", endpoint_url=endpoint, region_name=region, config=config)
    client.meta.events.register("before-send.s3", functools.partial(_probe, what=what))
    return client


def _probe(request: Any, what: str, **_: Any) -> None:
    """botocore ``before-send`` hook: the endpoint must answer (``liveness.check``)."""
    liveness.check(request.url, what)


def _code(e: Exception) -> str:
    return str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))


def _status(e: Exception) -> int:
    return int(getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


@register("s3")
class S3Store(CloudStore):
    """Write-once, streaming object store over one S3 bucket (and optional prefix)."""

    SCHEME = "s3"
    DIGEST_FIELD = SHA256_FIELD
    VENDOR = "S3"
    PARAMETERS = ("endpoint", "region")
    VENDOR_ERRORS = (botocore_exc.BotoCoreError, botocore_exc.ClientError)

    def __init__(self, bucket_uri: str) -> None:
        super().__init__(bucket_uri)
        self.bucket = self.loc.bucket
        self.client = make_client(self.loc.params.get("endpoint") or None,
                                  self.loc.params.get("region") or None,
                                  f"S3 endpoint for {self.bucket_uri}")

    # -- errors ------------------------------------------------------------
    def _translate(self, e: Exception, what: str) -> MedpipeError:
        """Map a boto error to the domain tree; ``what`` names the object or bucket."""
        if isinstance(e, MedpipeError):
            return e
        if isinstance(e, botocore_exc.NoCredentialsError | botocore_exc.PartialCredentialsError):
            return AccessDenied(f"no usable AWS credentials for {self.bucket_uri} "
                                "(set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)")
        if isinstance(e, botocore_exc.HTTPClientError | botocore_exc.ConnectionError):
            return ProviderUnavailable(f"S3 endpoint for {self.bucket_uri} does not answer "
                                       f"({type(e).__name__})")
        if isinstance(e, botocore_exc.ClientError):
            code, status = _code(e), _status(e)
            if code in _BUCKET_MISSING:
                return NotFound(f"S3 bucket '{self.bucket}' does not exist ({self.bucket_uri})")
            if code in _KEY_MISSING:
                status = 404
            elif status not in (401, 403, 404) and code in _DENIED:
                status = 403
            elif status not in (401, 403, 404) and code in _UNAVAILABLE:
                status = 503
            return self._refusal(what, status, code)
        if isinstance(e, botocore_exc.BotoCoreError):
            return ProviderUnavailable(f"S3 request for {what} failed ({type(e).__name__})")
        raise e

    def _head_raw(self, key: str) -> dict[str, Any] | None:
        """``HeadObject``; None if the object is absent, NotFound if the bucket is.

        ``HeadObject`` answers a bare 404 for both; one ``HeadBucket`` on the miss
        path tells them apart, so the error names what is actually missing.
        """
        uri = self.uri_for(key)
        try:
            resp: dict[str, Any] = self.client.head_object(Bucket=self.bucket,
                                                           Key=self.loc.name_for(key))
            return resp
        except botocore_exc.ClientError as e:
            if _status(e) != 404 and _code(e) not in _KEY_MISSING:
                raise self._translate(e, uri) from e
        except botocore_exc.BotoCoreError as e:
            raise self._translate(e, uri) from e
        self._check_bucket()
        return None

    def _check_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except botocore_exc.ClientError as e:
            if _status(e) == 404 or _code(e) in _BUCKET_MISSING | _KEY_MISSING:
                raise NotFound(f"S3 bucket '{self.bucket}' does not exist "
                               f"({self.bucket_uri})") from e
            raise self._translate(e, f"S3 bucket '{self.bucket}'") from e
        except botocore_exc.BotoCoreError as e:
            raise self._translate(e, f"S3 bucket '{self.bucket}'") from e

    # -- protocol ----------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        uri = self.uri_for(key)
        resp = self._head_raw(key)
        if resp is None:
            raise NotFound(f"{uri} does not exist")
        return ObjectInfo(uri=uri, key=key, size=int(resp["ContentLength"]),
                          sha256=self._stored_sha256(uri, resp.get("Metadata")))

    def exists(self, key: str) -> bool:
        return self._head_raw(key) is not None

    def get(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        name = self.loc.name_for(key)
        uri = self.uri_for(key)
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=name)
        except botocore_exc.ClientError as e:
            if _code(e) in _KEY_MISSING:
                raise NotFound(f"{uri} does not exist") from e
            raise self._translate(e, uri) from e
        except botocore_exc.BotoCoreError as e:
            raise self._translate(e, uri) from e
        body = resp["Body"]
        try:
            info = ObjectInfo(uri=uri, key=key, size=int(resp["ContentLength"]),
                              sha256=self._stored_sha256(uri, resp.get("Metadata")))
        except MedpipeError:
            body.close()
            raise
        return self._stream(body, info, chunk_size)

    def _stream(self, body: Any, info: ObjectInfo, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._errors(info.uri):
                yield from verify_stream(body.iter_chunks(chunk_size), info)
        finally:
            body.close()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.loc.list_prefix + prefix)
        with self._errors(self.bucket_uri):
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"]
                    if self.loc.is_reserved(name):
                        continue
                    key = self.loc.key_of(name)
                    with contextlib.suppress(NotFound):  # deleted since the listing
                        yield self.head(key)

    def delete(self, key: str) -> None:
        name = self.loc.name_for(key)
        with self._errors(self.uri_for(key)):
            self.client.delete_object(Bucket=self.bucket, Key=name)

    # -- upload helpers ----------------------------------------------------
    def _create_one(self, key: str, data: bytes, digest: Digest) -> bool:
        """A single conditional ``PutObject`` (``If-None-Match: *``)."""
        uri = self.uri_for(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.loc.name_for(key), Body=data,
                                   Metadata={SHA256_FIELD: digest.hexdigest()}, IfNoneMatch="*")
        except botocore_exc.ClientError as e:
            if _refused_condition(e):
                return False
            raise self._translate(e, uri) from e
        except botocore_exc.BotoCoreError as e:
            raise self._translate(e, uri) from e
        return True

    def _create_staged(self, key: str, parts: Iterable[bytes], digest: Digest) -> bool:
        """A multipart upload to a staging name, then its conditional server-side copy."""
        uri = self.uri_for(key)
        staging = self.loc.staging_name(uuid.uuid4().hex)
        try:
            self._multipart(staging, parts, {}, uri)
            info = ObjectInfo(uri=uri, key=key, size=digest.size, sha256=digest.hexdigest())
            return self._copy_conditionally(staging, self.loc.name_for(key), info)
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=staging)

    def _multipart(self, name: str, parts: Iterable[bytes], metadata: dict[str, str],
                   what: str) -> None:
        """Stream ``parts`` into a multipart upload of ``name``; abort it on any failure."""
        with self._errors(what):
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=name, Metadata=metadata)["UploadId"]
        try:
            done = []
            with self._errors(what):
                for number, part in enumerate(parts, start=1):
                    resp = self.client.upload_part(Bucket=self.bucket, Key=name,
                                                   UploadId=upload_id, PartNumber=number,
                                                   Body=part)
                    done.append({"PartNumber": number, "ETag": resp["ETag"]})
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id,
                    MultipartUpload={"Parts": done})
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name,
                                                   UploadId=upload_id)
            raise

    def _copy_conditionally(self, staging: str, name: str, info: ObjectInfo,
                            condition: dict[str, str] | None = None,
                            precheck: Callable[[], object] | None = None) -> bool:
        """Server-side copy ``staging`` → ``name`` with the digest; False if refused.

        ``condition`` is the completion's precondition (default ``If-None-Match: *``,
        refused when ``name`` exists); ``precheck`` runs just before completing.
        """
        with self._errors(info.uri):
            upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=name, Metadata={SHA256_FIELD: info.sha256})["UploadId"]
        try:
            done = []
            with self._errors(info.uri):
                for number, start in enumerate(range(0, max(info.size, 1), _COPY_PART), 1):
                    end = min(start + _COPY_PART, info.size) - 1
                    resp = self.client.upload_part_copy(
                        Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number,
                        CopySource={"Bucket": self.bucket, "Key": staging},
                        CopySourceRange=f"bytes={start}-{end}")
                    done.append({"PartNumber": number,
                                 "ETag": resp["CopyPartResult"]["ETag"]})
            if precheck is not None:
                precheck()
            try:
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id,
                    MultipartUpload={"Parts": done}, **(condition or {"IfNoneMatch": "*"}))
            except botocore_exc.ClientError as e:
                if _refused_condition(e):
                    self._abort(name, upload_id)
                    return False
                raise self._translate(e, info.uri) from e
            except botocore_exc.BotoCoreError as e:
                raise self._translate(e, info.uri) from e
            return True
        except BaseException:
            self._abort(name, upload_id)
            raise

    def _abort(self, name: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)

    # -- key rotation's compare-and-swap (``CloudStore.replace_if_match``) -------
    def _replace_one(self, key: str, data: bytes, digest: Digest, expected_sha256: str,
                     version: Version) -> bool:
        """A ``PutObject`` with ``If-Match`` the ETag whose digest was checked."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.loc.name_for(key), Body=data,
                                   Metadata={SHA256_FIELD: digest.hexdigest()}, IfMatch=version)
        except botocore_exc.ClientError as e:
            if _refused_condition(e) or _code(e) in _KEY_MISSING or _status(e) == 404:
                return False
            raise self._translate(e, self.uri_for(key)) from e
        except botocore_exc.BotoCoreError as e:
            raise self._translate(e, self.uri_for(key)) from e
        return True

    def _replace_staged(self, key: str, parts: Iterable[bytes], digest: Digest,
                        expected_sha256: str, version: Version) -> bool:
        """The server-side copy of a staged upload, completed with ``If-Match`` the ETag.

        moto (5.2) enforces ``If-Match`` on ``PutObject`` only, so the ETag is also
        re-checked just before completing.
        """
        uri = self.uri_for(key)
        staging = self.loc.staging_name(uuid.uuid4().hex)
        try:
            self._multipart(staging, parts, {}, uri)
            info = ObjectInfo(uri=uri, key=key, size=digest.size, sha256=digest.hexdigest())
            return self._copy_conditionally(
                staging, self.loc.name_for(key), info, condition={"IfMatch": str(version)},
                precheck=lambda: self._expect(key, expected_sha256, version))
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=staging)

    def _version(self, key: str) -> tuple[str, Version] | None:
        resp = self._head_raw(key)
        if resp is None:
            return None
        return self._stored_sha256(self.uri_for(key), resp.get("Metadata")), str(resp["ETag"])

    def ensure_bucket(self) -> None:
        """Create the bucket if missing (development stacks and tests only)."""
        with self._errors(f"S3 bucket '{self.bucket}'"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except botocore_exc.ClientError as e:
                if _status(e) != 404:
                    raise
                self.client.create_bucket(Bucket=self.bucket)


def _refused_condition(e: Exception) -> bool:
    """A conditional write refused because the key exists (or a racing write holds it)."""
    return _code(e) in _PRECONDITION or _status(e) in (409, 412)



