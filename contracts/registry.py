"""The registry of models in service: which version of a model serves patients now.

Entries are write-once and numbered; the newest is the one in service, the
older ones are the history of promotions (and rollbacks restore them).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.evaluate import ModelMetrics
from medpipe.contracts.placement import RanOn


class InServiceModel(BaseModel):
    """One model version in service, with the figures it was admitted on."""

    model_config = ConfigDict(frozen=True)

    model: str
    version: str
    release_id: str
    artifact: ArtifactRef
    metrics: ModelMetrics
    since: datetime
    sequence: int = Field(default=0, ge=0)


class LookupInServiceInput(BaseModel):
    """Which model's entry to look up, and in which registry."""

    model_config = ConfigDict(frozen=True)

    registry_uri: str
    model: str


class LookupInServiceResult(BaseModel):
    """The entry in service, if any."""

    model_config = ConfigDict(frozen=True)

    current: InServiceModel | None
    ran_on: RanOn


class RecordInServiceInput(BaseModel):
    """Put a version in service (idempotent for the same release)."""

    model_config = ConfigDict(frozen=True)

    registry_uri: str
    entry: InServiceModel


class RecordInServiceResult(BaseModel):
    """The recorded entry with its sequence number."""

    model_config = ConfigDict(frozen=True)

    entry: InServiceModel
    ran_on: RanOn
