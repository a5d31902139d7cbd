"""Contracts of signing and provenance (the ledger's are in ``contracts.ledger``).

Everything here is digests, URIs, names and figures: safe in Temporal history
and in evidence handed to auditors. Patient data never appears in any field.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.placement import RanOn
from medpipe.contracts.release import StageResult

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class SignatureRefusal(StrEnum):
    """Why a signed document was refused (the prefix of the error message)."""

    UNSIGNED = "unsigned"
    TAMPERED_MODEL = "tampered model"
    UNTRUSTED_KEY = "untrusted key"
    REVOKED_KEY = "revoked key"
    OTHER_MODEL = "bundle for another model"
    MALFORMED = "malformed bundle"
    BAD_SIGNATURE = "bad signature"


class ResourceDigest(BaseModel):
    """One signed resource of a model (a file, or a shard ``path:start:end``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    algorithm: str
    digest: str


class SignedModel(BaseModel):
    """What ``sign_model`` produced."""

    model_config = ConfigDict(frozen=True)

    model_name: str
    root_digest: str = Field(pattern=SHA256_PATTERN,
                             description="OMS subject digest: SHA-256 over the resource digests")
    resources: tuple[ResourceDigest, ...]
    serialization: str
    key_id: str
    key_fingerprint: str
    bundle_sha256: str = Field(pattern=SHA256_PATTERN)


class VerifiedModel(BaseModel):
    """A model whose signature and every digest verified."""

    model_config = ConfigDict(frozen=True)

    model_name: str
    root_digest: str
    resources: tuple[ResourceDigest, ...]
    key_fingerprint: str
    identity: dict[str, str] = {}


class ArtifactDigest(BaseModel):
    """An input or output of a release, by digest (an in-toto ResourceDescriptor)."""

    model_config = ConfigDict(frozen=True)

    name: str
    sha256: str = Field(pattern=SHA256_PATTERN)
    uri: str | None = None
    size: int | None = Field(default=None, ge=0)


class StagePlacement(BaseModel):
    """Where one stage ran (from its ``StageResult``)."""

    model_config = ConfigDict(frozen=True)

    stage: str
    cloud: str
    region: str
    jurisdiction: str
    host: str
    accelerator: str = "cpu"
    worker_id: str = ""
    started_at: datetime | None = None
    seconds: float = 0.0
    degraded: str | None = None
    failovers: int = 0
    sbom_sha256: str = ""
    sbom_uri: str = ""

    @classmethod
    def from_ran_on(cls, stage: str, ran_on: RanOn, **extra: Any) -> StagePlacement:
        """Build from a worker's ``RanOn`` report."""
        return cls(stage=stage, cloud=ran_on.cloud, region=ran_on.region,
                   jurisdiction=ran_on.jurisdiction, host=ran_on.host,
                   accelerator=ran_on.accelerator, worker_id=ran_on.worker_id,
                   sbom_sha256=ran_on.sbom_sha256, sbom_uri=ran_on.sbom_uri, **extra)

    @classmethod
    def from_stage_result(cls, result: StageResult) -> StagePlacement | None:
        """Build from a workflow ``StageResult`` (None if the stage has not run)."""
        if result.ran_on is None:
            return None
        return cls.from_ran_on(str(result.stage), result.ran_on, started_at=result.started_at,
                               seconds=result.seconds, degraded=result.degraded,
                               failovers=len(result.failovers))


class ProvenanceInput(BaseModel):
    """Everything the SLSA provenance of a release records.

    Attributes:
        release_id: the workflow id (the SLSA invocation id).
        request: the release request as given (``ReleaseRequest.model_dump(mode="json")``);
            sensitive fields and URI credentials are removed before signing.
        model: the model file (or its OMS root digest, ``name`` = model name).
        datasets: input datasets as ingested.
        pseudonymization_policy: the policy applied, if any.
        reports: pseudonymization and validation reports (counts only) by digest.
        metrics: evaluation figures (AUROC, …).
        builder_id: identity of the worker that signs (a URI or worker id).
        stages: where each stage ran.
        code_revision: git commit of the pipeline code (None: read from git or
            ``MEDPIPE_CODE_REVISION``).
        model_signature_sha256: digest of the OMS bundle, tying the two documents.
    """

    model_config = ConfigDict(frozen=True)

    release_id: str = Field(min_length=1)
    request: dict[str, Any]
    model: ArtifactDigest
    datasets: tuple[ArtifactDigest, ...] = ()
    pseudonymization_policy: ArtifactDigest | None = None
    reports: tuple[ArtifactDigest, ...] = ()
    metrics: dict[str, float] = {}
    builder_id: str = Field(min_length=1)
    builder_sbom_sha256: str = Field(default="", description="SBOM digest of the signing "
                                     "worker's runtime")
    builder_sbom_uri: str = ""
    stages: tuple[StagePlacement, ...] = ()
    code_revision: str | None = None
    model_signature_sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class VerifiedProvenance(BaseModel):
    """A provenance statement whose signature verified."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    subject: tuple[ArtifactDigest, ...]
    statement: dict[str, Any]
    key_fingerprint: str


