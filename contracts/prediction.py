"""What a gateway records of a model's predictions, per task, for the canary analysis.

A binary model's predictions are a positive-class probability (a histogram over
fixed bins of [0, 1]); a multiclass model's are a predicted class (counts per
class label the model names, bounded); a regression model's are values on the
model's own scale (a histogram over edges fixed when the model is loaded,
taken from the release's evaluation: quantiles of the candidate's predictions
on held-out rows, so each bin holds about the same share when nothing moved).
The release hands this profile to the canary, the canary to every gateway
with the load request, and the analysis compares canary and stable per task.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medpipe.contracts.evaluate import EvaluateResult, Task

#: At most this many class labels are counted one by one; the rest count as ``OTHER_CLASS``.
MAX_CLASSES = 50
#: Class labels are cut to this many characters (they become Prometheus label values).
MAX_CLASS_LABEL = 64
#: Bucket for predictions whose class is not in the profile (another model's, or beyond
#: ``MAX_CLASSES``).
OTHER_CLASS = "(other)"
#: Quantile bins of a regression model's predictions on held-out rows.
VALUE_BINS = 10
#: At most this many regression bin edges.
MAX_EDGES = 64
#: Regression edges when the evaluation gave none: symmetric decades around 0, so
#: values from 0.1 to 10 000 on either side land in distinct bins whatever the unit.
DEFAULT_VALUE_EDGES: tuple[float, ...] = (
    -1e4, -1e3, -1e2, -10.0, -1.0, -0.1, 0.0, 0.1, 1.0, 10.0, 1e2, 1e3, 1e4)


class PredictionProfile(BaseModel):
    """How a gateway bins one model's predictions.

    Attributes:
        task: binary, multiclass or regression.
        classes: multiclass: the class labels, in the model's output order.
        edges: regression: increasing finite bin edges (Prometheus ``le`` bounds;
            a last, open bucket holds values above the last edge); empty: the defaults.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task = Task.BINARY
    classes: tuple[str, ...] = Field(default=(), max_length=MAX_CLASSES)
    edges: tuple[float, ...] = Field(default=(), max_length=MAX_EDGES)

    @field_validator("classes")
    @classmethod
    def _labels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not c or len(c) > MAX_CLASS_LABEL for c in v):
            raise ValueError(f"class labels are 1 to {MAX_CLASS_LABEL} characters")
        if len(set(v)) != len(v) or OTHER_CLASS in v:
            raise ValueError(f"class labels must be distinct and not '{OTHER_CLASS}'")
        return v

    @field_validator("edges")
    @classmethod
    def _increasing(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not math.isfinite(e) for e in v) or \
                any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("edges must be finite and strictly increasing")
        return v

    def value_edges(self) -> tuple[float, ...]:
        """The regression edges in force (the defaults when none were given)."""
        return self.edges or DEFAULT_VALUE_EDGES

    def bins(self) -> tuple[str, ...]:
        """Multiclass buckets: the classes, then ``OTHER_CLASS``."""
        return (*self.classes, OTHER_CLASS)


def profile_for(task: Task, evaluation: EvaluateResult | None) -> PredictionProfile:
    """The profile of a released model, from its task and its evaluation result.

    Multiclass takes the classes of the output the evaluation read (the first
    ``MAX_CLASSES``, cut to ``MAX_CLASS_LABEL`` characters); regression the
    evaluation's quantile edges. Pure and deterministic: safe in workflow code.
    """
    if task is Task.MULTICLASS:
        classes: list[str] = []
        for c in (evaluation.output.classes if evaluation and evaluation.output else ()):
            label = c[:MAX_CLASS_LABEL]
            if label and label != OTHER_CLASS and label not in classes:
                classes.append(label)
        return PredictionProfile(task=task, classes=tuple(classes[:MAX_CLASSES]))
    if task is Task.REGRESSION:
        edges: list[float] = []
        for e in (evaluation.prediction_edges if evaluation else ()):
            if math.isfinite(e) and (not edges or e > edges[-1]):
                edges.append(float(e))
        return PredictionProfile(task=task, edges=tuple(edges[:MAX_EDGES]))
    return PredictionProfile(task=task)
