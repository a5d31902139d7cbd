"""``aws-kms://`` key provider: AWS KMS (moto's server in tests).

``aws-kms://REGION`` (optionally ``?endpoint=http://127.0.0.1:PORT`` and
``&allow=KEY,KEY``); credentials come from the usual boto3 chain (env, profile,
instance role).

Which keys may unwrap. An envelope's header names the key that wrapped its data
key, and whoever can write a bucket writes headers: unwrapping with whatever key
the header names would let anyone who owns a KMS key forge envelopes (a new
``vault/vN.sealed``) that pass every check. So ``unwrap`` and ``rewrap`` accept
only keys the fleet configuration lists: ``allow=`` names ARNs, ``alias/…`` or
medpipe key ids (a medpipe key id allows every version medpipe created for it).
Without ``allow=`` only keys medpipe created in the caller's account (tagged
``medpipe:key-id``) are accepted. Any other key is refused by its ARN.

Names and versions. A medpipe key id ``kek-a`` is the KMS alias
``alias/kek-a`` (ids that already start with ``alias/`` or ``arn:``, or a bare
key UUID, are used as given). Each *version* is a separate KMS key: rotation
creates a new key and repoints the alias, and ``WrappedKey.key_id`` is the
concrete key ARN, so objects wrapped before a rotation still decrypt with the
key that wrapped them. Keys medpipe creates are tagged ``medpipe:key-id`` and
``medpipe:version`` so that ``rewrap`` finds the current key of an old
version and ``destroy`` finds every version.

Why the extra ``DescribeKey`` before every use: KMS refuses disabled and
pending-deletion keys itself, but moto (our test double) still decrypts with
them; checking the state ourselves makes the refusal, and its message, the
same everywhere. It costs one round trip per call.

SDK retries are bounded (two attempts, short timeouts): Temporal owns
retries, and a KMS that does not answer must surface quickly as
``KeyUnavailable`` so the step can be retried or moved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from medpipe.activities.keys.base import WrappedKey, check_key_name, check_origin, register
from medpipe.contracts.errors import AlreadyExists, InvalidInput, KeyProviderError, KeyUnavailable

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise InvalidInput("boto3 is not installed: install medpipe[aws]") from e

from cryptography.hazmat.primitives import serialization

_TAG_ID = "medpipe:key-id"
_TAG_VERSION = "medpipe:version"
#: KMS error codes meaning the service (not the key) has a problem: retry later.
_UNAVAILABLE_CODES = frozenset({
    "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException",
    "ThrottlingException", "ServiceUnavailable", "ServiceUnavailableException",
    "InternalFailure", "RequestTimeout", "RequestTimeoutException",
})
_USAGE_NAMES = {"ENCRYPT_DECRYPT": "a key-encryption key", "SIGN_VERIFY": "a signing key"}


def _is_literal_kms_id(key_id: str) -> bool:
    if key_id.startswith(("alias/", "arn:")):
        return True
    parts = key_id.split("-")  # a bare key UUID, or an mrk- multi-region key id
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] or key_id.startswith("mrk-")


@register("aws-kms")
class AwsKmsProvider:
    """Data keys and signatures from AWS KMS; keys never leave KMS."""

    scheme = "aws-kms"

    def __init__(self, key_uri: str) -> None:
        parts = urlsplit(key_uri)
        query = parse_qs(parts.query)
        unknown = set(query) - {"endpoint", "allow"}
        if parts.scheme != "aws-kms" or not parts.netloc or parts.path not in ("", "/") \
                or unknown:
            raise InvalidInput(f"'{key_uri}' is not an AWS KMS key URI: expected "
                               "aws-kms://REGION[?endpoint=URL][&allow=KEY,KEY]")
        self.region = parts.netloc
        self.allow = tuple(check_key_name(k.strip()) for v in query.get("allow", [])
                           for k in v.split(",") if k.strip())
        self._allowed_arns: frozenset[str] = frozenset()
        self.endpoint = query.get("endpoint", [None])[0]
        self.where = f"AWS KMS {self.region}" + (f" at {self.endpoint}" if self.endpoint else "")
        config = Config(
            region_name=self.region,
            retries={"total_max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=10,
        )
        # One session per provider: boto3 clients are thread-safe, sessions are not.
        self._client: Any = boto3.session.Session().client(
            "kms", region_name=self.region, endpoint_url=self.endpoint, config=config)
        self._admin = threading.Lock()

    # -- plumbing ----------------------------------------------------------
    def _kms_id(self, key_id: str) -> str:
        return key_id if _is_literal_kms_id(key_id) else f"alias/{check_key_name(key_id)}"

    def _call(self, what: str, key_id: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """Call KMS, translating its failures into domain errors that name the key."""
        try:
            return fn(**kwargs)
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
                ConnectionClosedError) as e:
            raise KeyUnavailable(f"{self.where} does not answer ({what} with key "
                                 f"'{key_id}': {type(e).__name__})") from e
        except NoCredentialsError as e:
            raise KeyProviderError(f"no AWS credentials for {self.where}: set them through "
                                   "the usual boto3 chain (env, profile, role)") from e
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status >= 500 and code not in _UNAVAILABLE_CODES:
                code = "ServiceUnavailable"  # a server fault, whatever its body says
            raise self._translate(code, what, key_id) from e
        except BotoCoreError as e:
            raise KeyUnavailable(f"{self.where} failed on {what} with key '{key_id}': "
                                 f"{type(e).__name__}") from e

    def _translate(self, code: str, what: str, key_id: str) -> Exception:
        if code in _UNAVAILABLE_CODES:
            return KeyUnavailable(f"{self.where} is unavailable ({code}) on {what} "
                                  f"with key '{key_id}'")
        reasons = {
            "NotFoundException": "does not exist",
            "DisabledException": "is disabled",
            "KMSInvalidStateException": "is not in a usable state (disabled or destroyed)",
            "InvalidCiphertextException": ("does not decrypt this wrapped key: wrong encryption "
                                           "context (moved from another object?) or corrupted"),
            "IncorrectKeyException": "is not the key that wrapped this data key",
            "AccessDeniedException": ("refused access (not the key that wrapped this data key, "
                                      "or missing permission)"),
            "InvalidKeyUsageException": "does not allow this operation (wrong key usage)",
            "AlreadyExistsException": "already exists",
        }
        reason = reasons.get(code, f"was refused ({code or 'unknown error'})")
        if code == "AlreadyExistsException":
            return AlreadyExists(f"KMS key '{key_id}' {reason} in {self.where}")
        return KeyProviderError(f"KMS key '{key_id}' {reason} ({what}, {self.where})")

    def _describe(self, key_id: str) -> dict[str, Any]:
        meta: dict[str, Any] = self._call("DescribeKey", key_id, self._client.describe_key,
                                          KeyId=self._kms_id(key_id))["KeyMetadata"]
        return meta

    def _usable(self, key_id: str, usage: str) -> dict[str, Any]:
        """KeyMetadata of an enabled key with ``usage``, or a clear ``KeyProviderError``."""
        meta = self._describe(key_id)
        state = meta.get("KeyState")
        if state == "PendingDeletion" or state == "Pending Deletion":
            when = meta.get("DeletionDate")
            raise KeyProviderError(
                f"KMS key '{key_id}' ({meta['Arn']}) was destroyed: scheduled for deletion"
                + (f" on {when:%Y-%m-%d}" if when else "")
                + "; what it wrapped is unrecoverable")
        if state != "Enabled":
            raise KeyProviderError(f"KMS key '{key_id}' ({meta['Arn']}) is {state}, not Enabled")
        if meta.get("KeyUsage") != usage:
            raise KeyProviderError(f"KMS key '{key_id}' is not {_USAGE_NAMES[usage]} "
                                   f"(KeyUsage {meta.get('KeyUsage')})")
        return meta

    def _tags(self, arn: str) -> dict[str, str]:
        out = self._call("ListResourceTags", arn, self._client.list_resource_tags, KeyId=arn)
        return {t["TagKey"]: t["TagValue"] for t in out.get("Tags", [])}

    def _versions_of(self, name: str) -> list[str]:
        """ARNs of every key medpipe created under ``name`` (all versions)."""
        arns: list[str] = []
        marker: dict[str, str] = {}
        while True:
            page = self._call("ListKeys", name, self._client.list_keys, **marker)
            for key in page["Keys"]:
                try:
                    if self._tags(key["KeyArn"]).get(_TAG_ID) == name:
                        arns.append(key["KeyArn"])
                except KeyProviderError:
                    continue  # a key we may not read: not ours
            if not page.get("Truncated"):
                break
            marker = {"Marker": page["NextMarker"]}
        return arns

    def _new_key(self, name: str, version: int, spec: str, usage: str) -> str:
        meta = self._call("CreateKey", name, self._client.create_key,
                          KeySpec=spec, KeyUsage=usage,
                          Description=f"medpipe {name} v{version}",
                          Tags=[{"TagKey": _TAG_ID, "TagValue": name},
                                {"TagKey": _TAG_VERSION, "TagValue": str(version)}])
        arn: str = meta["KeyMetadata"]["Arn"]
        return arn

    def _create(self, key_id: str, spec: str, usage: str) -> str:
        name = check_key_name(key_id)
        alias = f"alias/{name}"
        with self._admin:
            try:
                self._describe(name)
            except KeyProviderError:
                pass  # the alias is free
            else:
                raise AlreadyExists(f"KMS alias '{alias}' already exists in {self.where}")
            arn = self._new_key(name, 1, spec, usage)
            try:
                self._call("CreateAlias", name, self._client.create_alias,
                           AliasName=alias, TargetKeyId=arn)
            except AlreadyExists:
                # Another process took the alias meanwhile: do not leave an orphan key.
                self._call("ScheduleKeyDeletion", arn, self._client.schedule_key_deletion,
                           KeyId=arn.rsplit("/", 1)[-1], PendingWindowInDays=7)
                raise
        return arn

    # -- key-encryption keys ------------------------------------------------
    def new_data_key(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        meta = self._usable(key_id, "ENCRYPT_DECRYPT")
        out = self._call("GenerateDataKey", key_id, self._client.generate_data_key,
                         KeyId=meta["Arn"], KeySpec="AES_256",
                         EncryptionContext=dict(context))
        return out["Plaintext"], WrappedKey(provider=self.scheme, key_id=out["KeyId"],
                                            wrapped=out["CiphertextBlob"])

    def _resolve_allowed(self) -> frozenset[str]:
        arns: set[str] = set()
        for name in self.allow:
            if name.startswith("arn:") and ":key/" in name:
                arns.add(name)
                continue
            try:
                arns.add(self._describe(name)["Arn"])
            except KeyProviderError:
                pass  # a listed alias that does not exist (yet): allows nothing
            if not _is_literal_kms_id(name):
                arns.update(self._versions_of(name))
        return frozenset(arns)

    def _check_allowed(self, key_id: str) -> None:
        """Refuse a wrapping key the fleet configuration does not list (by its ARN).

        Raises:
            KeyProviderError: naming the key and the configured list.
        """
        if self.allow:
            if key_id in self._allowed_arns:
                return
            self._allowed_arns = self._resolve_allowed()  # a rotation may have added one
            if key_id in self._allowed_arns:
                return
            listed = ", ".join(self.allow)
        else:
            arn = self._describe(key_id)["Arn"]
            try:
                if self._tags(arn).get(_TAG_ID):
                    return
            except KeyProviderError:
                pass  # tags we may not read: not a key of ours
            listed = "keys medpipe created in this account (no allow= in the key URI)"
        raise KeyProviderError(f"KMS key '{key_id}' is not one the fleet configuration lists "
                               f"({listed}): refusing to unwrap with it (an envelope whose "
                               "header names another key is forged or from another fleet)")

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        check_origin(wrapped, self.scheme)
        self._check_allowed(wrapped.key_id)
        meta = self._usable(wrapped.key_id, "ENCRYPT_DECRYPT")
        out = self._call("Decrypt", wrapped.key_id, self._client.decrypt,
                         CiphertextBlob=wrapped.wrapped, KeyId=meta["Arn"],
                         EncryptionContext=dict(context))
        plain: bytes = out["Plaintext"]
        return plain

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str],
               new_key_id: str | None = None) -> WrappedKey:
        check_origin(wrapped, self.scheme)
        self._check_allowed(wrapped.key_id)
        source = self._usable(wrapped.key_id, "ENCRYPT_DECRYPT")
        if new_key_id is None:
            name = self._tags(source["Arn"]).get(_TAG_ID)
            if name is None:
                raise KeyProviderError(f"KMS key {source['Arn']} was not created by medpipe: "
                                       "say which key to re-wrap under (new_key_id)")
            new_key_id = name
        target = self._usable(new_key_id, "ENCRYPT_DECRYPT")
        out = self._call("ReEncrypt", wrapped.key_id, self._client.re_encrypt,
                         CiphertextBlob=wrapped.wrapped, SourceKeyId=source["Arn"],
                         SourceEncryptionContext=dict(context),
                         DestinationKeyId=target["Arn"],
                         DestinationEncryptionContext=dict(context))
        return WrappedKey(provider=self.scheme, key_id=out["KeyId"],
                          wrapped=out["CiphertextBlob"])

    def create_key(self, key_id: str) -> str:
        return self._create(key_id, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")

    def rotate(self, key_id: str) -> str:
        name = check_key_name(key_id)
        with self._admin:
            current = self._usable(name, "ENCRYPT_DECRYPT")
            version = int(self._tags(current["Arn"]).get(_TAG_VERSION, "1")) + 1
            arn = self._new_key(name, version, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
            self._call("UpdateAlias", name, self._client.update_alias,
                       AliasName=f"alias/{name}", TargetKeyId=arn)
        return arn

    def destroy(self, key_id: str) -> None:
        """Schedule every version of ``key_id`` for deletion (KMS's minimum window, 7 days).

        From now on medpipe refuses the keys; KMS deletes them when the window ends.
        The alias stays (KMS removes it with the key) so that errors say "destroyed".
        """
        with self._admin:
            arns = set()
            if not _is_literal_kms_id(key_id):
                arns.update(self._versions_of(check_key_name(key_id)))
            try:
                arns.add(self._describe(key_id)["Arn"])
            except KeyProviderError:
                if not arns:
                    raise
            for arn in sorted(arns):
                meta = self._describe(arn)
                if meta.get("KeyState") in ("PendingDeletion", "Pending Deletion"):
                    continue  # already destroyed: idempotent for retried steps
                # The bare KeyId: AWS takes an ARN too, moto 5.2 only the id.
                self._call("ScheduleKeyDeletion", arn, self._client.schedule_key_deletion,
                           KeyId=meta["KeyId"], PendingWindowInDays=7)

    # -- signing keys --------------------------------------------------------
    def create_signing_key(self, key_id: str) -> str:
        return self._create(key_id, "ECC_NIST_P256", "SIGN_VERIFY")

    def sign_digest(self, key_id: str, sha256_digest: bytes) -> bytes:
        if len(sha256_digest) != 32:
            raise InvalidInput(f"expected a 32-byte SHA-256 digest, got {len(sha256_digest)} bytes")
        meta = self._usable(key_id, "SIGN_VERIFY")
        out = self._call("Sign", key_id, self._client.sign, KeyId=meta["Arn"],
                         Message=sha256_digest, MessageType="DIGEST",
                         SigningAlgorithm="ECDSA_SHA_256")
        signature: bytes = out["Signature"]  # KMS returns ECDSA signatures DER-encoded
        return signature

    def public_key_pem(self, key_id: str) -> bytes:
        meta = self._usable(key_id, "SIGN_VERIFY")
        out = self._call("GetPublicKey", key_id, self._client.get_public_key, KeyId=meta["Arn"])
        public = serialization.load_der_public_key(out["PublicKey"])
        return public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
