"""Contracts of drift monitoring: the policy in the release spec, what the gateways
count, the monitor's verdict, and the inputs of its workflow and activities.

Everything is counts, figures, names and URIs (no patient data): verdicts are
written to history, to the ledger and to the alert webhook.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.placement import GatewayTarget
from medpipe.contracts.profile import ReferenceProfile


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DriftAction(StrEnum):
    """What the monitor does when it finds drift."""

    RECORD = "record"
    ALERT = "alert"
    ROLLBACK = "rollback"


class DriftPolicy(_Frozen):
    """The ``drift`` section of the release spec.

    Attributes:
        enabled: create a drift schedule when the release is promoted.
        interval_s: seconds between checks (each check reads and resets the window).
        action: record (history, search attribute), alert (also the webhook and the
            ledger) or rollback (also the canary's rollback Update, then the webhook if set).
        webhook_url: where alerts are POSTed (JSON, ``Idempotency-Key`` header).
        min_samples: no verdict on a window with fewer rows (thin traffic).
        psi_threshold: PSI at or above which a feature (or the predictions) drifted...
        p_value: ...provided the chi-square test also rejects at this family-wise level
            (Bonferroni over the features and the predictions).
        min_labels / max_auroc_drop: with label feedback (``POST /admin/feedback``), the
            window's AUROC on at least ``min_labels`` labelled requests more than
            ``max_auroc_drop`` under the release's evaluated AUROC is performance drift.
    """

    enabled: bool = True
    interval_s: float = Field(default=600.0, ge=1.0, le=7 * 86400.0)
    action: DriftAction = DriftAction.RECORD
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    min_samples: int = Field(default=500, ge=10)
    psi_threshold: float = Field(default=0.1, gt=0.0)
    p_value: float = Field(default=0.001, gt=0.0, lt=1.0)
    min_labels: int = Field(default=200, ge=10)
    max_auroc_drop: float = Field(default=0.05, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _alert_needs_url(self) -> DriftPolicy:
        if self.action is DriftAction.ALERT and not self.webhook_url:
            raise ValueError("action 'alert' needs a webhook_url")
        return self


class SlotSketch(_Frozen):
    """One slot's counts over its model's reference bins, over one window.

    Attributes:
        version: the model version in the slot.
        rows: input rows counted.
        features: feature name -> rows per reference bin.
        predictions: rows per prediction bin (same bins as the profile's).
        window_started_at: when the window began (gateway clock).
        labelled_positive / labelled_negative: per prediction bin, requests whose
            observed outcome was reported (``POST /admin/feedback``) positive / negative.
    """

    version: str
    rows: int = 0
    features: dict[str, list[int]] = Field(default_factory=dict)
    predictions: list[int] = Field(default_factory=list)
    window_started_at: datetime | None = None
    labelled_positive: list[int] = Field(default_factory=list)
    labelled_negative: list[int] = Field(default_factory=list)


class GatewaySketches(_Frozen):
    """``/admin/sketches``: per serving slot that has a reference profile."""

    stable: SlotSketch | None = None
    canary: SlotSketch | None = None


class DriftVerdictKind(StrEnum):
    """The monitor's verdict (the value of the ``MedpipeDrift`` search attribute)."""

    OK = "ok"
    DRIFT = "drift"
    INSUFFICIENT = "insufficient-data"


class FeatureDrift(_Frozen):
    """One feature's (or the predictions') figures over the window.

    Attributes:
        feature: the feature name, or ``prediction``.
        psi: population stability index, window vs reference.
        chi2 / dof / p_value: two-sample chi-square test on the binned counts.
        drifted: PSI at or over the threshold and p under the corrected level.
    """

    feature: str
    psi: float
    chi2: float
    dof: int
    p_value: float
    drifted: bool


class PerformanceFigure(_Frozen):
    """The rolling performance over the window's labelled requests.

    Attributes:
        labels: labelled requests in the window.
        auroc: AUROC over them (scores binned as the prediction histogram), None when
            one class is missing; reference_auroc: the release's evaluated AUROC.
        drifted: ``labels >= min_labels`` and the drop exceeds ``max_auroc_drop``.
    """

    labels: int
    auroc: float | None = None
    reference_auroc: float | None = None
    drifted: bool = False


class DriftVerdict(_Frozen):
    """The verdict of one check, with its figures."""

    verdict: DriftVerdictKind
    rows: int
    figures: tuple[FeatureDrift, ...] = ()
    performance: PerformanceFigure | None = None
    reasons: tuple[str, ...] = ()
    at: datetime | None = None


class DriftMonitorInput(_Frozen):
    """What each scheduled ``DriftMonitorWorkflow`` run checks.

    Attributes:
        model / version / release_id: the release in service.
        canary_workflow_id: where the rollback Update goes.
        targets: gateways serving it; activity_queue: where gateway/webhook activities run.
        profile: the release's reference profile; policy: thresholds and action.
        ledger_uri / ledger_checkpoint_uri / keys: where alerts are recorded.
    """

    model: str
    version: str
    release_id: str
    canary_workflow_id: str
    targets: tuple[GatewayTarget, ...]
    activity_queue: str
    profile: ReferenceProfile
    policy: DriftPolicy
    ledger_uri: str | None = None
    ledger_checkpoint_uri: str = ""
    keys: KeySettings = KeySettings()
    reference_auroc: float | None = None


class DriftMonitorResult(_Frozen):
    """The verdict and what was done about it."""

    verdict: DriftVerdict
    actions: tuple[str, ...] = ()


class FeedbackRequest(_Frozen):
    """``POST /admin/feedback``: the observed outcome of one answered request.

    Attributes:
        request_id: the ``id`` the client gave the inference request (OIP ``id``).
        outcome: the observed outcome (True: the positive class).
    """

    request_id: str = Field(min_length=1, max_length=200)
    outcome: bool


class DriftAlertInput(_Frozen):
    """POST a verdict to the alert webhook, once per ``idempotency_key``."""

    url: str
    idempotency_key: str
    model: str
    version: str
    release_id: str
    action: DriftAction
    verdict: DriftVerdict


class DriftAlertResult(_Frozen):
    """The receiver's answer."""

    status: int


class DriftRollbackInput(_Frozen):
    """Roll the release back through the canary's rollback Update (or, when that
    workflow has closed, on each gateway directly)."""

    canary_workflow_id: str
    version: str
    targets: tuple[GatewayTarget, ...]
    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = "drift-monitor"


class DriftRollbackResult(_Frozen):
    """How the rollback went."""

    via: str
    state: str
    restored_previous: bool = False


class DriftScheduleInput(_Frozen):
    """Create/replace (``monitor`` given) or delete (``monitor`` None) a model's schedule."""

    model: str
    control_queue: str
    monitor: DriftMonitorInput | None = None


class DriftScheduleResult(_Frozen):
    """The schedule id and what was done."""

    schedule_id: str
    action: str


def drift_schedule_id(model: str, control_queue: str) -> str:
    """One drift schedule per model name and fleet (the next promotion replaces it).

    The fleet's control queue is part of the id, so fleets sharing a Temporal
    namespace (staging and a chaos copy, parallel tests) never replace each other's.
    """
    return f"drift-{model}@{control_queue}"
