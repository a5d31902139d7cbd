"""The identifier-digest key is not stored beside the digests (issue 16)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from medpipe.activities.context import WorkerContext
from medpipe.activities.digestkey import open_digest_key, seal_digest_key
from medpipe.activities.ingest import IngestActivities
from medpipe.activities.pseudonymize.activity import PseudonymizeActivities
from medpipe.activities.residual import DigestSet, keyed_digest
from medpipe.activities.sealed import open_plain
from medpipe.activities.storage.local import LocalStore
from medpipe.activities.validate import ValidateActivities
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import IntegrityError, KeyProviderError
from medpipe.contracts.ingest import IngestInput, SourceSpec
from medpipe.contracts.placement import Cloud, WorkerProfile
from medpipe.contracts.pseudonymize import PseudonymizeInput
from medpipe.contracts.validate import ValidateInput
from medpipe.workers.keysetup import ensure_keys, local_keys
from medpipe.workers.sample import write_sample


@pytest.fixture
def keys(tmp_path: Path) -> KeySettings:
    settings = local_keys(tmp_path / "keys")
    ensure_keys(settings, codec_kek_id=None)
    return settings


def test_header_holds_only_the_wrapped_key(keys: KeySettings) -> None:
    key, header = seal_digest_key(keys, "r1")
    assert len(key) == 32 and key not in header and header.startswith(b"MPDK1")
    body = DigestSet.from_values(key, ["Jane Roe"]).to_bytes()
    opened, rest = open_digest_key(header + body, keys.key_uri, "r1")
    assert opened == key and rest == body
    with pytest.raises(KeyProviderError):  # the wrapping is bound to its release
        open_digest_key(header, keys.key_uri, "r2")
    with pytest.raises(IntegrityError, match="clear key is refused"):
        open_digest_key(b"MPDK0" + key, keys.key_uri, "r1")  # downgraded by a bucket writer
    with pytest.raises(IntegrityError, match="truncated"):
        open_digest_key(header[:-3], keys.key_uri, "r1")
    assert keyed_digest(opened, "Jane Roe") == keyed_digest(key, "Jane Roe")


def test_pseudonymize_stores_digests_without_their_key(tmp_path: Path,
                                                       keys: KeySettings) -> None:
    bucket = tmp_path / "bucket"
    LocalStore(bucket.as_uri()).ensure_bucket()
    (tmp_path / "vault").mkdir()
    LocalStore((tmp_path / "vault").as_uri()).ensure_bucket()
    ctx = WorkerContext(profile=WorkerProfile(cloud=Cloud.AWS, region="us-east-1",
                                              jurisdiction="US", store_uri=bucket.as_uri()))
    sample = write_sample(tmp_path / "sample", patients=40, visits=2)
    rid = f"r-{uuid.uuid4().hex[:8]}"
    ingest = IngestActivities(ctx).ingest(IngestInput(release_id=rid, keys=keys, sources=(
        SourceSpec(name="dataset", uri=sample["dataset"].as_uri()),)))
    pseudo = PseudonymizeActivities(ctx).pseudonymize(PseudonymizeInput(
        release_id=rid, dataset=ingest.artifact("dataset"), keys=keys,
        vault_uri=(tmp_path / "vault").as_uri()))
    blob = b"".join(open_plain(pseudo.identifier_digests))
    assert blob.startswith(b"MPDK1")  # a wrapped key, never the key itself
    with pytest.raises(KeyProviderError):
        open_digest_key(blob, keys.key_uri, "another-release")
    result = ValidateActivities(ctx).validate(ValidateInput(
        release_id=rid, dataset=pseudo.dataset, identifier_digests=pseudo.identifier_digests))
    assert result.residual_failed == 0 and result.rows > 0
