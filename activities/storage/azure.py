"""``azblob://container[/prefix]`` adapter (azure-storage-blob).

Configuration, in order:

1. ``?endpoint=ACCOUNT_URL`` on the bucket URI (e.g. Azurite's
   ``http://127.0.0.1:PORT/devstoreaccount1``), credential as in 3. Add
   ``&emulator=1`` for an emulator under a host name (``http://azurite:10000/
   devstoreaccount1`` in compose): the URL is then path-style (account in the
   path), as it is for loopback and IP hosts, rather than ``ACCOUNT.blob…``;
2. else ``AZURE_STORAGE_CONNECTION_STRING`` (endpoint and key together);
3. else ``AZURE_STORAGE_ACCOUNT_URL`` or ``AZURE_STORAGE_ACCOUNT`` (the public
   endpoint of that account), with credential: ``AZURE_STORAGE_KEY`` (the Azure
   CLI's name), else the key of the connection string, else Azurite's
   published development key for its ``devstoreaccount1`` account, else
   ``DefaultAzureCredential`` when azure-identity is installed, else anonymous.

Unlike S3 and GCS, Azure takes an object's metadata when the upload is
*committed*: blocks are staged as they stream in and ``Put Block List`` commits
them with the SHA-256 and ``If-None-Match: *`` (the conditional create that
makes the key write-once). Uncommitted blocks are invisible to readers and
discarded by the service, so a failed upload leaves nothing to clean up.

SDK retries are off and timeouts short: Temporal owns retries. Before each
request the endpoint must answer a quick probe (``liveness.check``), so a
stopped or hung store fails in seconds rather than after the read timeout.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import os
import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

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
from medpipe.contracts.errors import InvalidInput, MedpipeError, NotFound, ProviderUnavailable

blob_sdk: Any = require_sdk("azure.storage.blob", "azure")
azexc: Any = require_sdk("azure.core.exceptions", "azure")
azcore: Any = require_sdk("azure.core", "azure")

#: Metadata field holding the content's SHA-256 (Azure names must be C# identifiers).
SHA256_FIELD = "medpipe_sha256"
#: Azurite's development account and its published key (not a secret: the
#: emulator accepts it by design; see Microsoft's Azurite documentation).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr"
           "/KBHBeksoGMGw==")
_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 0, "connection_timeout": 2.5, "read_timeout": 30,
    "max_single_put_size": PART_SIZE, "max_block_size": PART_SIZE,
    "max_single_get_size": CHUNK_SIZE, "max_chunk_get_size": CHUNK_SIZE,
}
_EXISTS_CODES = {"BlobAlreadyExists", "ConditionNotMet", "InvalidBlockList"}


def _parse_connection_string(conn: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in conn.split(";"):
        if "=" in item:
            k, _, v = item.partition("=")
            fields[k.strip()] = v.strip()
    return fields


def _account_of(account_url: str, emulator: bool = False) -> str:
    """Account name from a path-style (emulator) or host-style (Azure) account URL."""
    parts = urlsplit(account_url)
    host = parts.hostname or ""
    first_path = parts.path.strip("/").split("/", 1)[0]
    if emulator or host in ("127.0.0.1", "localhost", "::1") \
            or host.replace(".", "").isdigit():
        return first_path
    return host.split(".", 1)[0]


def _credential(account_url: str, emulator: bool = False) -> Any:
    account = os.environ.get("AZURE_STORAGE_ACCOUNT") or _account_of(account_url, emulator)
    key = os.environ.get("AZURE_STORAGE_KEY")
    conn = _parse_connection_string(os.environ.get("AZURE_STORAGE_CONNECTION_STRING", ""))
    if not key and conn.get("AccountKey") and conn.get("AccountName", account) == account:
        key = conn["AccountKey"]
    if not key and account == DEV_ACCOUNT:
        key = DEV_KEY
    if key:
        return {"account_name": account, "account_key": key}
    try:
        identity = importlib.import_module("azure.identity")
    except ImportError:
        return None
    return identity.DefaultAzureCredential()


def _probe(request: Any, what: str) -> None:
    """Storage ``raw_request_hook``: the endpoint must answer (``liveness.check``)."""
    liveness.check(request.http_request.url, what)


def make_service_client(endpoint: str | None = None, emulator: bool = False,
                        what: str = "Azure Blob endpoint") -> Any:
    """A BlobServiceClient per the configuration order in the module docstring, each
    request probed first (``liveness.check``; ``what`` names the store in its error)."""
    options = {**_CLIENT_OPTIONS, "raw_request_hook": functools.partial(_probe, what=what)}
    conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if endpoint is None and conn:
        return blob_sdk.BlobServiceClient.from_connection_string(conn, **options)
    account_url = endpoint or os.environ.get("AZURE_STORAGE_ACCOUNT_URL")
    if not account_url and os.environ.get("AZURE_STORAGE_ACCOUNT"):
        account_url = f"https://{os.environ['AZURE_STORAGE_ACCOUNT']}.blob.core.windows.net"
    if not account_url:
        raise InvalidInput("no Azure Blob endpoint: add ?endpoint=ACCOUNT_URL to the bucket URI "
                           "or set AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT")
    return blob_sdk.BlobServiceClient(account_url,
                                      credential=_credential(account_url, emulator),
                                      **options)


def _code(e: Exception) -> str:
    return str(getattr(e, "error_code", "") or "")


def _status(e: Exception) -> int:
    return int(getattr(e, "status_code", 0) or 0)


@register("azblob")
class AzureBlobStore(CloudStore):
    """Write-once, streaming object store over one Azure Blob container (and optional prefix)."""

    SCHEME = "azblob"
    DIGEST_FIELD = SHA256_FIELD
    VENDOR = "Azure Blob"
    PARAMETERS = ("endpoint", "emulator")
    VENDOR_ERRORS = (azexc.AzureError,)

    def __init__(self, bucket_uri: str) -> None:
        super().__init__(bucket_uri)
        try:
            self.service = make_service_client(self.loc.params.get("endpoint") or None,
                                               emulator_flag(self.loc.params.get("emulator")),
                                               f"Azure Blob endpoint for {self.bucket_uri}")
        except ValueError as e:
            raise InvalidInput(f"Azure Blob configuration for {bucket_uri} is invalid: {e}") from e
        self.container = self.service.get_container_client(self.loc.bucket)

    # -- errors ------------------------------------------------------------
    def _translate(self, e: Exception, what: str) -> MedpipeError:
        if isinstance(e, MedpipeError):
            return e
        code, status = _code(e), _status(e)
        if isinstance(e, azexc.ClientAuthenticationError) or status in (401, 403):
            return self._refusal(what, 403, code or str(status))
        if isinstance(e, azexc.ServiceRequestError | azexc.ServiceResponseError):
            return ProviderUnavailable(f"Azure Blob endpoint for {self.bucket_uri} does not "
                                       f"answer ({type(e).__name__})")
        if code == "ContainerNotFound":
            return NotFound(f"Azure container '{self.loc.bucket}' does not exist "
                            f"({self.bucket_uri})")
        if isinstance(e, azexc.ResourceNotFoundError | azexc.HttpResponseError):
            return self._refusal(what, 404 if isinstance(e, azexc.ResourceNotFoundError)
                                 else status, code)
        if isinstance(e, azexc.AzureError):
            return ProviderUnavailable(f"Azure Blob request for {what} failed ({type(e).__name__})")
        raise e

    def _props_or_none(self, key: str) -> Any:
        blob = self.container.get_blob_client(self.loc.name_for(key))
        try:
            return blob.get_blob_properties()
        except azexc.ResourceNotFoundError as e:
            # A HEAD has no body: ask the container to tell "no blob" from "no container".
            if _code(e) not in ("BlobNotFound", "ContainerNotFound"):
                self._check_container()
            elif _code(e) == "ContainerNotFound":
                raise self._translate(e, self.uri_for(key)) from e
            return None
        except azexc.AzureError as e:
            raise self._translate(e, self.uri_for(key)) from e

    def _check_container(self) -> None:
        with self._errors(f"Azure container '{self.loc.bucket}'"):
            present = self.container.exists()
        if not present:
            raise NotFound(f"Azure container '{self.loc.bucket}' does not exist "
                           f"({self.bucket_uri})")

    # -- protocol ----------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        props = self._props_or_none(key)
        if props is None:
            raise NotFound(f"{self.uri_for(key)} does not exist")
        uri = self.uri_for(key)
        return ObjectInfo(uri=uri, key=key, size=int(props.size),
                          sha256=self._stored_sha256(uri, props.metadata))

    def exists(self, key: str) -> bool:
        return self._props_or_none(key) is not None

    def get(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        uri = self.uri_for(key)
        blob = self.container.get_blob_client(self.loc.name_for(key))
        with self._errors(uri):
            # The first request goes out now (NotFound is raised here, not mid-stream);
            # later chunks are pinned to its ETag by the SDK.
            downloader = blob.download_blob(max_concurrency=1)
        props = downloader.properties
        info = ObjectInfo(uri=uri, key=key, size=int(props.size),
                          sha256=self._stored_sha256(uri, props.metadata))
        return self._stream(downloader, info)

    def _stream(self, downloader: Any, info: ObjectInfo) -> Iterator[bytes]:
        with self._errors(info.uri):
            yield from verify_stream(downloader.chunks(), info)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._errors(self.bucket_uri):
            for props in self.container.list_blobs(
                    name_starts_with=self.loc.list_prefix + prefix, include=["metadata"]):
                if self.loc.is_reserved(props.name):
                    continue
                key = self.loc.key_of(props.name)
                uri = self.uri_for(key)
                yield ObjectInfo(uri=uri, key=key, size=int(props.size),
                                 sha256=self._stored_sha256(uri, props.metadata))

    def delete(self, key: str) -> None:
        blob = self.container.get_blob_client(self.loc.name_for(key))
        try:
            with self._errors(self.uri_for(key)):
                blob.delete_blob(delete_snapshots="include")
        except NotFound as e:
            if "container" in e.message:
                raise

    # -- upload helpers ----------------------------------------------------
    def _create_one(self, key: str, data: bytes, digest: Digest) -> bool:
        """A single ``Put Blob`` that refuses an existing blob."""
        blob = self.container.get_blob_client(self.loc.name_for(key))
        try:
            blob.upload_blob(data, overwrite=False, metadata={SHA256_FIELD: digest.hexdigest()},
                             max_concurrency=1)
        except azexc.AzureError as e:
            if isinstance(e, azexc.ResourceExistsError) or _code(e) in _EXISTS_CODES:
                return False
            raise self._translate(e, self.uri_for(key)) from e
        return True

    def _create_staged(self, key: str, parts: Iterable[bytes], digest: Digest) -> bool:
        """Blocks staged as they stream, committed with the digest if the blob is absent."""
        return self._commit_blocks(key, parts, digest)

    def _commit_blocks(self, key: str, parts: Iterable[bytes], digest: Digest,
                       condition: dict[str, Any] | None = None) -> bool:
        """Stage ``parts`` as blocks, then commit them with the digest if the key is absent.

        ``condition`` replaces "if absent" (``etag`` + ``match_condition``, for
        ``replace_if_match``); False when the service refuses it.

        Block ids are unique to this upload, so concurrent writers of one key
        never mix blocks; a commit by one discards the other's uncommitted
        blocks, and the other then sees the key as existing.
        """
        uri = self.uri_for(key)
        blob = self.container.get_blob_client(self.loc.name_for(key))
        token = uuid.uuid4().hex
        block_ids: list[str] = []
        with self._errors(uri):
            for index, part in enumerate(parts):
                block_id = base64.b64encode(f"{token}-{index:08d}".encode()).decode()
                blob.stage_block(block_id, part, length=len(part))
                block_ids.append(block_id)
        try:
            blob.commit_block_list([blob_sdk.BlobBlock(block_id=b) for b in block_ids],
                                   metadata={SHA256_FIELD: digest.hexdigest()},
                                   **(condition or {
                                       "match_condition": azcore.MatchConditions.IfMissing}))
        except azexc.AzureError as e:
            if _refused(e) or (condition is not None and _status(e) == 404):
                return False
            raise self._translate(e, uri) from e
        return True

    # -- key rotation's compare-and-swap (``CloudStore.replace_if_match``) -------
    def _version(self, key: str) -> tuple[str, Version] | None:
        props = self._props_or_none(key)
        if props is None:
            return None
        return self._stored_sha256(self.uri_for(key), props.metadata), str(props.etag)

    def _replace_one(self, key: str, data: bytes, digest: Digest, expected_sha256: str,
                     version: Version) -> bool:
        """A ``Put Blob`` with ``If-Match`` the ETag whose digest was checked."""
        blob = self.container.get_blob_client(self.loc.name_for(key))
        try:
            blob.upload_blob(data, overwrite=True, max_concurrency=1,
                             metadata={SHA256_FIELD: digest.hexdigest()}, **_if_match(version))
        except azexc.AzureError as e:
            if _refused(e):
                return False
            raise self._translate(e, self.uri_for(key)) from e
        return True

    def _replace_staged(self, key: str, parts: Iterable[bytes], digest: Digest,
                        expected_sha256: str, version: Version) -> bool:
        """Staged blocks committed by a ``Put Block List`` with ``If-Match`` the ETag."""
        return self._commit_blocks(key, parts, digest, _if_match(version))

    def ensure_bucket(self) -> None:
        """Create the container if missing (development stacks and tests only)."""
        with self._errors(f"Azure container '{self.loc.bucket}'"):
            if not self.container.exists():
                with contextlib.suppress(azexc.ResourceExistsError):
                    self.container.create_container()


def _if_match(etag: Version) -> dict[str, Any]:
    """The SDK's condition "only if the blob is still at ``etag``"."""
    return {"etag": etag, "match_condition": azcore.MatchConditions.IfNotModified}


def _refused(e: Exception) -> bool:
    """A conditional write refused: the blob exists (create) or changed (replace)."""
    return isinstance(e, azexc.ResourceExistsError | azexc.ResourceModifiedError) \
        or _code(e) in _EXISTS_CODES or _status(e) == 412

