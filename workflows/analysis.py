"""Canary step analysis: a pure function of the plan and the gateways' figures."""

from __future__ import annotations

import math

from medpipe.contracts.canary import CanaryPlan, GatewayFigures, StepAnalysis, Verdict
from medpipe.contracts.deploy import GatewayMetrics

#: Prediction histograms are merged down to this many bins before comparing.
PSI_BINS = 10


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


def figures(gateway: str, m: GatewayMetrics) -> GatewayFigures:
    """Per-gateway figures from its window metrics (canary vs stable on the same traffic)."""
    stable = _merge(m.stable.prediction_counts, PSI_BINS)
    canary = _merge(m.canary.prediction_counts, PSI_BINS)
    psi, floor = 0.0, math.inf
    if stable and canary and len(stable) == len(canary):
        psi = smoothed_psi(stable, canary)
        floor = psi_noise_floor(len(stable), sum(stable), sum(canary))
    return GatewayFigures(
        gateway=gateway, canary_requests=m.canary.requests, stable_requests=m.stable.requests,
        canary_error_rate=m.canary.error_rate, stable_error_rate=m.stable.error_rate,
        canary_p99_ms=m.canary.latency_p99_ms, stable_p99_ms=m.stable.latency_p99_ms, psi=psi,
        psi_noise=floor if math.isfinite(floor) else None)


def analyse(plan: CanaryPlan, weight: int, per_gateway: list[GatewayFigures],
            extensions: int) -> StepAnalysis:
    """Continue, extend the bake, pause, or roll back — with the reasons.

    Any gateway breaching a limit rolls back everywhere; a step without
    enough canary traffic is extended, then paused for a person to decide.
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
        if f.psi_noise is not None and f.psi > plan.max_psi + f.psi_noise:
            reasons.append(f"{f.gateway}: prediction shift PSI {f.psi:.3f} > {plan.max_psi:g} "
                           f"(+{f.psi_noise:.3f} sampling allowance)")
    if reasons:
        return StepAnalysis(weight=weight, verdict=Verdict.ROLLBACK, reasons=tuple(reasons),
                            figures=tuple(per_gateway))
    thin = [f.gateway for f in per_gateway if f.canary_requests < plan.min_requests]
    if thin:
        why = (f"too little canary traffic on {', '.join(thin)} "
               f"(< {plan.min_requests} requests)")
        verdict = Verdict.EXTEND if extensions < plan.max_extensions else Verdict.PAUSE
        return StepAnalysis(weight=weight, verdict=verdict, reasons=(why,),
                            figures=tuple(per_gateway))
    return StepAnalysis(weight=weight, verdict=Verdict.CONTINUE, figures=tuple(per_gateway))
