"""Canary step analysis (pure): each limit rolls back, thin traffic extends then pauses."""

from __future__ import annotations

from medpipe.contracts.canary import CanaryPlan, GatewayFigures, Verdict
from medpipe.contracts.deploy import GatewayMetrics, SlotMetrics
from medpipe.workflows.analysis import analyse, figures, psi_noise_floor, smoothed_psi

PLAN = CanaryPlan(min_requests=30, min_latency_samples=100, max_psi=0.25)


def figs(**kw: object) -> GatewayFigures:
    base: dict[str, object] = dict(gateway="gw-a", canary_requests=400, stable_requests=400,
                                   canary_error_rate=0.0, stable_error_rate=0.0,
                                   canary_p99_ms=4.0, stable_p99_ms=4.0, psi=0.01,
                                   psi_noise=0.05, canary_predictions=400,
                                   stable_predictions=400)
    return GatewayFigures.model_validate({**base, **kw})


def test_healthy_step_continues() -> None:
    assert analyse(PLAN, 25, [figs()], 0).verdict is Verdict.CONTINUE


def test_error_rate_above_limit_rolls_back_and_names_the_gateway() -> None:
    a = analyse(PLAN, 25, [figs(), figs(gateway="gw-b", canary_error_rate=0.05)], 0)
    assert a.verdict is Verdict.ROLLBACK
    assert a.reasons == ("gw-b: canary error rate 0.050 (stable 0.000, limit 0.020)",)


def test_latency_regression_rolls_back_once_there_are_enough_samples() -> None:
    a = analyse(PLAN, 50, [figs(canary_p99_ms=30.0, stable_p99_ms=4.0)], 0)
    assert a.verdict is Verdict.ROLLBACK and "p99 30.0 ms vs stable 4.0 ms" in a.reasons[0]


def test_a_p99_from_few_requests_is_not_judged() -> None:
    """With 53 requests the p99 is the slowest one: noise, not a regression."""
    a = analyse(PLAN, 10, [figs(canary_requests=53, canary_p99_ms=29.3, stable_p99_ms=4.5)], 0)
    assert a.verdict is Verdict.CONTINUE


def test_small_latency_excess_under_the_delta_is_tolerated() -> None:
    a = analyse(PLAN, 50, [figs(canary_p99_ms=3.0, stable_p99_ms=1.0)], 0)
    assert a.verdict is Verdict.CONTINUE  # ×3 but only 2 ms slower (< 5 ms)


def test_prediction_shift_beyond_limit_and_allowance_rolls_back() -> None:
    assert analyse(PLAN, 50, [figs(psi=0.29, psi_noise=0.05)], 0).verdict is Verdict.CONTINUE
    a = analyse(PLAN, 50, [figs(psi=0.31, psi_noise=0.05)], 0)
    assert a.verdict is Verdict.ROLLBACK and "PSI 0.310" in a.reasons[0]


def test_thin_traffic_extends_then_pauses() -> None:
    thin = [figs(canary_requests=10)]
    assert analyse(PLAN, 5, thin, 0).verdict is Verdict.EXTEND
    paused = analyse(PLAN, 5, thin, PLAN.max_extensions)
    assert paused.verdict is Verdict.PAUSE and "too little canary traffic on gw-a" \
        in paused.reasons[0]


def test_psi_is_zero_for_identical_and_large_for_disjoint_distributions() -> None:
    same = [10, 20, 30, 40]
    assert smoothed_psi(same, same) == 0.0
    assert smoothed_psi([100, 0, 0, 0], [0, 0, 0, 100]) > 3.0
    assert psi_noise_floor(10, 1000, 1000) < psi_noise_floor(10, 50, 50)


def inverted(canary: int, stable: int) -> GatewayFigures:
    """Figures of an inverted model's step: stable scores spread, canary's all near 0
    (the sizes a 1 s bake at 50 % saw on a host under load 18)."""
    stable_counts = [0] * 20
    for i in range(stable):  # spread over the middle bins, as the sample model's scores
        stable_counts[2 + (i * 7) % 16] += 1
    m = GatewayMetrics(stable=SlotMetrics(requests=stable, prediction_counts=stable_counts),
                       canary=SlotMetrics(requests=canary, prediction_counts=[canary] + [0] * 19))
    return figures("gw-a", m)


def test_a_shift_too_thin_to_judge_extends_then_pauses_instead_of_passing() -> None:
    """9 canary vs 10 stable predictions: PSI ~3 stays under its ~3.8 sampling allowance,
    so the step says nothing about the shift; it must bake on, never pass."""
    fast = CanaryPlan(steps=(50, 100), min_requests=5, max_extensions=2)
    thin = [inverted(9, 10)]
    assert thin[0].psi_noise is not None and thin[0].psi < fast.max_psi + thin[0].psi_noise
    assert analyse(fast, 50, thin, 0, shift_required=False).verdict is Verdict.CONTINUE  # old
    a = analyse(fast, 50, thin, 0)
    assert a.verdict is Verdict.EXTEND
    assert a.reasons == ("prediction shift not judged on gw-a (9 canary vs 10 stable) "
                         "predictions (< 30 each)",)
    assert analyse(fast, 50, thin, fast.max_extensions).verdict is Verdict.PAUSE
    judged = analyse(fast, 50, [inverted(30, 30)], 1)
    assert judged.verdict is Verdict.ROLLBACK and "score-histogram PSI" in judged.reasons[0]


def test_a_shift_is_not_required_at_100_percent_or_from_a_plan_asking_no_traffic() -> None:
    alone = [figs(stable_requests=0, stable_predictions=0, psi=0.0, psi_noise=None)]
    assert analyse(PLAN, 100, alone, 0).verdict is Verdict.CONTINUE  # stable serves nothing
    assert analyse(PLAN, 50, alone, 0).verdict is Verdict.EXTEND
    idle = CanaryPlan(min_requests=0)
    none = [figs(canary_requests=0, stable_requests=0, canary_predictions=0,
                 stable_predictions=0, psi=0.0, psi_noise=None)]
    assert analyse(idle, 10, none, 0).verdict is Verdict.CONTINUE


def test_thin_traffic_and_an_unjudged_shift_are_both_named() -> None:
    a = analyse(PLAN, 25, [figs(canary_requests=10, canary_predictions=10)], 0)
    assert a.verdict is Verdict.EXTEND and len(a.reasons) == 2
    assert "too little canary traffic on gw-a" in a.reasons[0]
    assert "prediction shift not judged on gw-a (10 canary vs 400 stable)" in a.reasons[1]


def test_a_gateway_without_metrics_pauses_the_step_instead_of_passing_it() -> None:
    """Fail closed: no figures from a gateway is no evidence the canary is fine there."""
    a = analyse(PLAN, 50, [figs()], 0, unanswered=("gw-b",))
    assert a.verdict is Verdict.PAUSE
    assert a.reasons == ("gw-b: no metrics returned, the step cannot be judged",)
    assert analyse(PLAN, 50, [], 0, unanswered=("gw-a",)).verdict is Verdict.PAUSE
    # a breach seen on another gateway still rolls back at once
    bad = analyse(PLAN, 50, [figs(canary_error_rate=0.5)], 0, unanswered=("gw-b",))
    assert bad.verdict is Verdict.ROLLBACK
