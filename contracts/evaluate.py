"""Contracts of the evaluate stage: the model's figures on held-out rows, and the gate's verdict."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.placement import RanOn


class EvaluateInput(BaseModel):
    """Score held-out rows with the candidate model."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    model: ArtifactRef
    dataset: ArtifactRef
    label_column: str = "label"
    require_accelerator: bool = False
    baseline: ArtifactRef | None = None


class ModelMetrics(BaseModel):
    """Quality and speed of a model on held-out rows."""

    model_config = ConfigDict(frozen=True)

    rows: int
    auroc: float
    accuracy: float
    calibration_error: float
    latency_ms_per_1k_rows: float


class EvaluateResult(BaseModel):
    """Metrics plus the execution provider that produced them."""

    model_config = ConfigDict(frozen=True)

    metrics: ModelMetrics
    execution_provider: str
    ran_on: RanOn
    baseline_metrics: ModelMetrics | None = None


class ModelGateVerdict(BaseModel):
    """The model gate's decision with the figures it was made on."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    reasons: tuple[str, ...] = ()
    candidate: ModelMetrics
    baseline: ModelMetrics | None = None
    baseline_version: str | None = None
