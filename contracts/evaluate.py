"""Contracts of the evaluate stage: the model's figures on held-out rows, and the gate's verdict."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.placement import RanOn
from medpipe.contracts.profile import ReferenceProfile


class Task(StrEnum):
    """What the model predicts, which decides its metrics and its gate."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


class OutputKind(StrEnum):
    """How a model output was recognised (by ONNX type and shape, then by name)."""

    PROBABILITIES = "probabilities"  # float tensor [batch, classes]
    ZIPMAP = "zipmap"                # seq(map(class, float)), skl2onnx/onnxmltools default
    SCORE = "score"                  # float tensor [batch] or [batch, 1]: P(positive) or a value
    LABEL = "label"                  # int/string tensor of predicted classes (never a score)


class EvaluationSpec(BaseModel):
    """What the MLOps engineer states about the model (the evaluation part of a release spec).

    Attributes:
        task: binary, multiclass or regression.
        features: dataset columns feeding a model with one 2-D input, in the input's
            order; empty: the model's ``medpipe.features`` metadata, else its input names.
        inputs: for models with several inputs, the columns feeding each input
            (an input absent here reads the column of its own name).
        positive_class: the label value counted as positive (binary); default: the
            model's second class (1 for models that do not name their classes).
        score_output: the output holding probabilities/scores; default: recognised by
            type and name.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task = Task.BINARY
    features: tuple[str, ...] = ()
    inputs: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    positive_class: str | None = None
    score_output: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationSpec:
        if self.features and self.inputs:
            raise ValueError("give either features (one 2-D input) or inputs (several "
                             "inputs), not both")
        if len(set(self.features)) != len(self.features):
            raise ValueError("features lists a column twice")
        if self.positive_class is not None and self.task is not Task.BINARY:
            raise ValueError(f"positive_class applies to binary tasks, not {self.task.value}")
        for name, cols in self.inputs.items():
            if not cols:
                raise ValueError(f"inputs.{name} lists no column")
        return self


class EvaluateInput(BaseModel):
    """Score held-out rows with the candidate model (and the model in service)."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    model: ArtifactRef
    dataset: ArtifactRef
    label_column: str = "label"
    require_accelerator: bool = False
    baseline: ArtifactRef | None = None
    spec: EvaluationSpec = EvaluationSpec()
    keys: KeySettings = KeySettings()


class ModelMetrics(BaseModel):
    """Quality and speed of a model on held-out rows.

    Which figures are set depends on ``task``: binary sets AUROC, accuracy and
    calibration error; multiclass adds the weighted AUROC and per-class recall
    (``auroc`` is then the macro one-vs-rest AUROC); regression sets MAE, RMSE
    and R². An undefined figure (e.g. AUROC over one class) is None.
    """

    model_config = ConfigDict(frozen=True)

    rows: int
    auroc: float | None = None
    accuracy: float | None = None
    calibration_error: float | None = None
    latency_ms_per_1k_rows: float
    task: Task = Task.BINARY
    weighted_auroc: float | None = None
    per_class_recall: dict[str, float] = Field(default_factory=dict)
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None

    def figures(self) -> dict[str, float]:
        """The defined figures by name (for provenance and summaries)."""
        names = ("auroc", "weighted_auroc", "accuracy", "calibration_error", "mae", "rmse", "r2")
        out = {n: float(v) for n in names if (v := getattr(self, n)) is not None}
        out["rows"] = float(self.rows)
        return out

    def summary(self) -> str:
        """One line naming the task's figures."""
        f = self.figures()
        shown = ", ".join(f"{k} {v:.4f}" for k, v in f.items() if k != "rows")
        return f"{self.task.value}: {shown or 'no defined figure'} on {self.rows} held-out rows"


class OutputChoice(BaseModel):
    """Which model output was read, and why (recorded in the evaluation result)."""

    model_config = ConfigDict(frozen=True)

    output: str
    kind: OutputKind
    onnx_type: str
    classes: tuple[str, ...] = ()
    reason: str = ""


class EvaluateResult(BaseModel):
    """Metrics plus the execution provider that produced them."""

    model_config = ConfigDict(frozen=True)

    metrics: ModelMetrics
    execution_provider: str
    ran_on: RanOn
    baseline_metrics: ModelMetrics | None = None
    output: OutputChoice | None = None
    baseline_output: OutputChoice | None = None
    features: tuple[str, ...] = ()
    prediction_edges: tuple[float, ...] = Field(default=(), description=(
        "regression: quantile edges of the candidate's predictions on the held-out rows; "
        "the gateways bin served predictions over them for the canary analysis"))
    profile: ReferenceProfile | None = None
    profile_ref: ArtifactRef | None = None


class GateCheck(BaseModel):
    """One comparison the model gate made: the metric, both figures, the verdict."""

    model_config = ConfigDict(frozen=True)

    metric: str
    candidate: float | None
    limit: float | None = None
    baseline: float | None = None
    passed: bool
    reason: str = ""


class ModelGateVerdict(BaseModel):
    """The model gate's decision with the figures it was made on."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    reasons: tuple[str, ...] = ()
    candidate: ModelMetrics
    baseline: ModelMetrics | None = None
    baseline_version: str | None = None
    checks: tuple[GateCheck, ...] = ()
