"""Canary step analysis: a pure function of the plan and the gateways' figures.

Prediction shift is judged per task on what the gateways record for it:
binary on the positive-class score histogram, multiclass on predicted-class
counts (class-distribution shift), regression on the predicted-value
histogram over the release's quantile edges. Each is a smoothed PSI against
``plan.max_psi`` plus a sampling allowance, reported with the
total-variation distance; the verdict names the task and the metric.

A step is never passed on a shift it could not judge: while stable shares the
traffic (weight below 100 %) and the plan asks for traffic at all
(``min_requests`` > 0), each gateway needs ``plan.min_shift_samples``
predictions on both sides, else the bake is extended like a thin step. Below
that the sampling allowance exceeds any PSI the samples can show (with 9 + 9
predictions it is 4.0, while an inverted model measured 3.0): a time-based
bake on a loaded host saw that few, passed, and promoted such a model.
"""

from __future__ import annotations

import math

from medpipe.contracts.canary import CanaryPlan, GatewayFigures, StepAnalysis, Verdict
from medpipe.contracts.deploy import GatewayMetrics, SlotMetrics
from medpipe.contracts.evaluate import Task
from medpipe.contracts.prediction import PredictionProfile

#: Prediction histograms are merged down to this many bins before comparing.
PSI_BINS = 10
#: ``workflow.patched`` id: the shift must be judged before a step passes, and an extended
#: bake keeps its window (histories recorded before it replay the old behaviour).
JUDGED_PATCH = "canary-shift-judged"


def _merge(counts: list[int], bins: int) -> list[int]:
    if len(counts) <= bins or len(counts) % bins:
        return list(counts)
    k = len(counts) // bins
    return [sum(counts[i:i + k]) for i in range(0, len(counts), k)]


def smoothed_psi(expected: list[int], actual: list[int]) -> float:
    """PSI with Jeffreys smoothing (½ count per bin), finite for empty bins."""
    if len(expected) != len(actual) or not expected:
        return 0.0
    ne, na, k = sum(expected), sum(actual), len(expected)
    if ne == 0 or na == 0:
        return 0.0
    psi = 0.0
    for e, a in zip(expected, actual, strict=True):
        pe = (e + 0.5) / (ne + 0.5 * k)
        pa = (a + 0.5) / (na + 0.5 * k)
        psi += (pa - pe) * math.log(pa / pe)
    return psi


def psi_noise_floor(bins: int, n_expected: int, n_actual: int) -> float:
    """About twice the PSI two samples of these sizes show when nothing shifted.

    Under no shift PSI is roughly (bins − 1)(1/n₁ + 1/n₂); thresholds are
    raised by twice that so small bakes do not roll back healthy models.
    """
    if n_expected == 0 or n_actual == 0:
        return math.inf
    return 2.0 * (bins - 1) * (1.0 / n_expected + 1.0 / n_actual)


def total_variation(expected: list[int], actual: list[int]) -> float:
    """Half the L1 distance between the two normalised histograms (0 same, 1 disjoint)."""
    ne, na = sum(expected), sum(actual)
    if not ne or not na or len(expected) != len(actual):
        return 0.0
    return 0.5 * sum(abs(e / ne - a / na) for e, a in zip(expected, actual, strict=True))


#: What each task's shift is measured on (named in figures and verdicts).
SHIFT_METRIC = {Task.BINARY: "score-histogram PSI",
                Task.MULTICLASS: "class-distribution PSI",
                Task.REGRESSION: "value-histogram PSI"}


def _counts(task: Task, s: SlotMetrics) -> tuple[list[int], tuple[object, ...]]:
    """A slot's window histogram for ``task`` and the bins it is over."""
    if task is Task.MULTICLASS:
        return list(s.class_counts), tuple(s.classes)
    if task is Task.REGRESSION:
        return list(s.value_counts), tuple(s.value_edges)
    return _merge(s.prediction_counts, PSI_BINS), ()


def figures(gateway: str, m: GatewayMetrics,
            prediction: PredictionProfile | None = None) -> GatewayFigures:
    """Per-gateway figures from its window metrics (canary vs stable on the same traffic).

    Args:
        gateway: the gateway's name.
        m: its window metrics.
        prediction: the release's task and bins (None: binary).
    """
    task = prediction.task if prediction is not None else Task.BINARY
    stable, stable_bins = _counts(task, m.stable)
    canary, canary_bins = _counts(task, m.canary)
    problem = None
    if task is not Task.BINARY and (m.canary.task is not task or m.stable.task is not task):
        problem = (f"the gateway records {m.canary.task.value} predictions (stable: "
                   f"{m.stable.task.value}) but the release's task is {task.value}")
    elif task is not Task.BINARY and (stable_bins != canary_bins or len(stable) != len(canary)):
        problem = "stable and canary predictions are recorded on different bins"
    psi, floor = 0.0, math.inf
    if stable and canary and len(stable) == len(canary) and problem is None:
        # bins empty on both sides (an unused class, an "(other)" nobody predicted) add
        # no sampling noise; binary keeps its fixed bin count, as before tasks existed
        used = len(stable) if task is Task.BINARY else \
            max(2, sum(1 for e, a in zip(stable, canary, strict=True) if e or a))
        psi = smoothed_psi(stable, canary)
        floor = psi_noise_floor(used, sum(stable), sum(canary))
    return GatewayFigures(
        gateway=gateway, canary_requests=m.canary.requests, stable_requests=m.stable.requests,
        canary_error_rate=m.canary.error_rate, stable_error_rate=m.stable.error_rate,
        canary_p99_ms=m.canary.latency_p99_ms, stable_p99_ms=m.stable.latency_p99_ms, psi=psi,
        psi_noise=floor if math.isfinite(floor) else None, task=task,
        shift_metric=SHIFT_METRIC[task], canary_predictions=sum(canary),
        stable_predictions=sum(stable),
        tv_distance=total_variation(stable, canary) if problem is None else None,
        problem=problem)


def _judged(plan: CanaryPlan, f: GatewayFigures) -> bool:
    """Binary relies on its sampling allowance alone (as before tasks existed); the
    per-task shifts also need ``plan.min_shift_samples`` predictions on each side."""
    if f.psi_noise is None:
        return False
    return f.task is Task.BINARY or \
        min(f.canary_predictions, f.stable_predictions) >= plan.min_shift_samples


def _unjudged(plan: CanaryPlan, weight: int, per_gateway: list[GatewayFigures]) -> list[str]:
    """Gateways whose prediction shift this step could not judge, with their sample sizes.

    At 100 % stable serves nothing by design (the shift was judged at the earlier steps);
    ``min_requests`` 0 asks for no traffic at all, so nothing is required either.
    """
    if weight >= 100 or plan.min_requests == 0:
        return []
    return [f"{f.gateway} ({f.canary_predictions} canary vs {f.stable_predictions} stable)"
            for f in per_gateway if f.problem is None and (
                f.psi_noise is None
                or min(f.canary_predictions, f.stable_predictions) < plan.min_shift_samples)]


def analyse(plan: CanaryPlan, weight: int, per_gateway: list[GatewayFigures],
            extensions: int, *, shift_required: bool = True,
            unanswered: tuple[str, ...] = ()) -> StepAnalysis:
    """Continue, extend the bake, pause, or roll back — with the reasons.

    Any gateway breaching a limit rolls back everywhere; a step without
    enough canary traffic, or (``shift_required``) without enough predictions
    on both sides to judge the shift, is extended, then paused for a person
    to decide. ``shift_required`` is False only to replay histories recorded
    before that rule (``JUDGED_PATCH``). A gateway that returned no metrics
    (``unanswered``) cannot be judged: the step pauses for a person (fail closed)
    unless another gateway's figures already roll it back.
    """
    reasons: list[str] = []
    for f in per_gateway:
        if f.canary_error_rate > plan.max_error_rate or \
                f.canary_error_rate > f.stable_error_rate + plan.max_error_rate_increase:
            reasons.append(f"{f.gateway}: canary error rate {f.canary_error_rate:.3f} "
                           f"(stable {f.stable_error_rate:.3f}, limit {plan.max_error_rate:.3f})")
        if f.canary_p99_ms is not None and f.stable_p99_ms is not None \
                and min(f.canary_requests, f.stable_requests) >= plan.min_latency_samples \
                and f.canary_p99_ms > f.stable_p99_ms * plan.max_latency_ratio \
                and f.canary_p99_ms - f.stable_p99_ms > plan.min_latency_delta_ms:
            reasons.append(f"{f.gateway}: canary p99 {f.canary_p99_ms:.1f} ms vs stable "
                           f"{f.stable_p99_ms:.1f} ms (limit ×{plan.max_latency_ratio:g})")
        if _judged(plan, f) and f.psi_noise is not None \
                and f.psi > plan.max_psi + f.psi_noise:
            tv = f" total variation {f.tv_distance:.3f}," if f.tv_distance is not None else ""
            reasons.append(f"{f.gateway}: {f.task.value} prediction shift, {f.shift_metric} "
                           f"{f.psi:.3f} > {plan.max_psi:g} (+{f.psi_noise:.3f} sampling "
                           f"allowance;{tv} {f.canary_predictions} canary vs "
                           f"{f.stable_predictions} stable predictions)")
    if reasons:
        return StepAnalysis(weight=weight, verdict=Verdict.ROLLBACK, reasons=tuple(reasons),
                            figures=tuple(per_gateway))
    mismatched = [f"{g}: no metrics returned, the step cannot be judged" for g in unanswered]
    mismatched += [f"{f.gateway}: predictions not compared: {f.problem}" for f in per_gateway
                   if f.problem is not None]
    if mismatched:  # fail closed: a shift nobody can measure is for a person to judge
        return StepAnalysis(weight=weight, verdict=Verdict.PAUSE, reasons=tuple(mismatched),
                            figures=tuple(per_gateway))
    thin = [f.gateway for f in per_gateway if f.canary_requests < plan.min_requests]
    unjudged = _unjudged(plan, weight, per_gateway) if shift_required else []
    if thin or unjudged:
        why = ((f"too little canary traffic on {', '.join(thin)} "
                f"(< {plan.min_requests} requests)",) if thin else ()) + \
              ((f"prediction shift not judged on {', '.join(unjudged)} predictions "
                f"(< {plan.min_shift_samples} each)",) if unjudged else ())
        verdict = Verdict.EXTEND if extensions < plan.max_extensions else Verdict.PAUSE
        return StepAnalysis(weight=weight, verdict=verdict, reasons=why,
                            figures=tuple(per_gateway))
    return StepAnalysis(weight=weight, verdict=Verdict.CONTINUE, figures=tuple(per_gateway))
