"""The release spec: one YAML file saying what an MLOps engineer knows about a model.

``medpipe release --spec release.yaml`` reads it (every field is also a
flag, and a flag wins); ``medpipe spec init MODEL DATA`` drafts one. A bad
spec is refused naming the field and the reason, before any workflow starts.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from medpipe.contracts.canary import CanaryPlan
from medpipe.contracts.deploy import FallbackSpec
from medpipe.contracts.drift import DriftPolicy
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.evaluate import EvaluationSpec, Task
from medpipe.contracts.fanout import FanoutSettings
from medpipe.contracts.release import ModelThresholds


class ReleaseSpec(BaseModel):
    """A release as written in ``release.yaml`` (paths relative to the file).

    Attributes:
        model / data / policy: ONNX model, dataset (CSV or Parquet), pseudonymization
            policy (a path, or the policy itself written inline as a mapping).
        name / version: model name and version (defaults: file stem, model digest).
        label: the label column; task, features, inputs, positive_class,
            score_output: see ``EvaluationSpec``.
        thresholds: the model gate's limits for the task; canary: the canary plan.
        fallback: the backup inference pathway the gateways keep for this model
            (``kind: previous|model|rule|none``; a ``model`` is a signed artifact's URI,
            digest and bundle; a ``rule`` a fixed safe default per output).
        drift: the drift monitor started at promotion (interval, thresholds, action).
        fanout: from which dataset size data stages fan out over shards across the
            compliant workers (``min_bytes``; 0 never), and how wide.
        allow: jurisdictions allowed for identifiable data; deploy: run the canary.
        purpose / retention: why the data is processed and how long artifacts are
            kept (the DPIA record in the evidence pack quotes both).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    data: str | None = None
    policy: str | dict[str, Any] | None = None
    name: str | None = None
    version: str | None = None
    label: str = "label"
    task: Task = Task.BINARY
    features: tuple[str, ...] = ()
    inputs: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    positive_class: str | None = None
    score_output: str | None = None
    thresholds: ModelThresholds = ModelThresholds()
    canary: CanaryPlan = CanaryPlan()
    fallback: FallbackSpec | None = None
    allow: tuple[str, ...] = ("US",)
    deploy: bool = True
    purpose: str = Field(default="", max_length=2000)
    retention: str = Field(default="", max_length=1000)
    drift: DriftPolicy = DriftPolicy()
    fanout: FanoutSettings = FanoutSettings()

    @model_validator(mode="after")
    def _evaluation_consistent(self) -> ReleaseSpec:
        self.evaluation()
        if isinstance(self.policy, dict) and not self.policy:
            raise ValueError("policy: an inline policy is a mapping with 'fields' (it is empty)")
        if isinstance(self.policy, str) and not self.policy.strip():
            raise ValueError("policy: empty path")
        return self

    def evaluation(self) -> EvaluationSpec:
        """The evaluation part, as the workflow carries it."""
        return EvaluationSpec(task=self.task, features=self.features, inputs=self.inputs,
                              positive_class=self.positive_class,
                              score_output=self.score_output)


def _part(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"field '{loc}': {msg}" if loc else msg


def spec_error(e: ValidationError, source: str) -> InvalidInput:
    """One message naming each bad field and why (never a pydantic dump)."""
    parts = [_part(err) for err in e.errors()[:5]]
    return InvalidInput(f"{source}: invalid release spec: " + "; ".join(parts))


def parse_spec(text: str, source: str = "release spec",
               overrides: dict[str, Any] | None = None) -> ReleaseSpec:
    """A spec from YAML text, with ``overrides`` (flags) applied on top.

    Raises:
        InvalidInput: not YAML, not a mapping, or a field is invalid (named, with the reason).
    """
    try:
        raw = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"{source}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{source}: a release spec is a mapping of fields "
                           f"(found {type(raw).__name__})")
    if isinstance(raw.get("positive_class"), int | float | bool):
        raw["positive_class"] = str(raw["positive_class"]).lower() \
            if isinstance(raw["positive_class"], bool) else str(raw["positive_class"])
    merged = {**raw, **(overrides or {})}
    for key in ("thresholds", "canary", "drift", "fanout"):
        if isinstance(raw.get(key), dict) and isinstance((overrides or {}).get(key), dict):
            merged[key] = {**raw[key], **(overrides or {})[key]}
    try:
        spec = ReleaseSpec.model_validate(merged)
    except ValidationError as e:
        raise spec_error(e, source) from None
    return spec
