"""Contracts of the sign stage: the model's OMS bundle and the release's provenance."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.ledger import LedgerAppendResult
from medpipe.contracts.placement import RanOn
from medpipe.contracts.provenance import StagePlacement


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
    ledger_checkpoint_uri: str = ""


class SignResult(BaseModel):
    """The signed model as deployed (clear: a model is not patient data), its bundle, provenance."""

    model_config = ConfigDict(frozen=True)

    model: ArtifactRef
    bundle: ArtifactRef
    provenance: ArtifactRef
    key_fingerprint: str
    ran_on: RanOn
    ledger_head: LedgerAppendResult | None = Field(
        default=None, description="the ``signed`` entry: a head anchor to keep outside storage")
