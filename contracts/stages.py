"""Activity contracts of the data-protection stages: pseudonymize, sign, ledger.

(Ingest and evaluate are in ``contracts.release``; validate in ``contracts.validate``.)
Results carry references, digests and counts: never a value from the dataset.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.placement import RanOn
from medpipe.contracts.provenance import StagePlacement
from medpipe.contracts.pseudonymize import PseudonymizeReport


class PseudonymizeInput(BaseModel):
    """Replace identifiers in the ingested dataset before anything else reads it.

    Attributes:
        policy_uri: the policy (YAML; ``file://`` or ``https://``); None = the default.
        vault_uri: bucket of the token vault (identifiers: home jurisdiction only).
    """

    model_config = ConfigDict(frozen=True)

    release_id: str
    dataset: ArtifactRef
    policy_uri: str | None = None
    keys: KeySettings = KeySettings()
    vault_uri: str


class PseudonymizeResult(BaseModel):
    """The pseudonymized dataset, the report (counts only) and the residual-check digests."""

    model_config = ConfigDict(frozen=True)

    dataset: ArtifactRef
    report: PseudonymizeReport
    report_ref: ArtifactRef
    policy_sha256: str
    identifier_digests: ArtifactRef
    ran_on: RanOn


class SignInput(BaseModel):
    """Sign the model (OMS bundle) and the release's provenance (SLSA v1)."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    model_name: str
    version: str
    model: ArtifactRef
    keys: KeySettings
    request: dict[str, Any]
    datasets: tuple[ArtifactRef, ...] = ()
    policy_sha256: str | None = None
    reports: tuple[ArtifactRef, ...] = ()
    metrics: dict[str, float] = Field(default_factory=dict)
    stages: tuple[StagePlacement, ...] = ()
    ledger_uri: str = ""


class SignResult(BaseModel):
    """The signed model as deployed (clear: a model is not patient data), its bundle, provenance."""

    model_config = ConfigDict(frozen=True)

    model: ArtifactRef
    bundle: ArtifactRef
    provenance: ArtifactRef
    key_fingerprint: str
    ran_on: RanOn


class LedgerAppendInput(BaseModel):
    """Append one entry to the provenance ledger (idempotent by ``idempotency_key``)."""

    model_config = ConfigDict(frozen=True)

    ledger_uri: str
    keys: KeySettings
    kind: str
    release_id: str
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str


class LedgerAppendResult(BaseModel):
    """Where the entry landed in the chain."""

    model_config = ConfigDict(frozen=True)

    seq: int
    entry_hash: str
