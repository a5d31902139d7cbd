"""Per-task canary analysis: class-distribution shift (multiclass), histogram shift
(regression), the minimum-sample rule, and a task the gateway does not record."""

from __future__ import annotations

import pytest

from medpipe.contracts.canary import CanaryPlan, Verdict
from medpipe.contracts.deploy import GatewayMetrics, SlotMetrics
from medpipe.contracts.evaluate import EvaluateResult, ModelMetrics, OutputChoice, OutputKind, Task
from medpipe.contracts.placement import RanOn
from medpipe.contracts.prediction import (
    DEFAULT_VALUE_EDGES,
    MAX_CLASSES,
    OTHER_CLASS,
    PredictionProfile,
    profile_for,
)
from medpipe.workflows.analysis import analyse, figures, total_variation

PLAN = CanaryPlan(min_requests=30, max_psi=0.25, min_shift_samples=30)
CLASSES = ["low", "mid", "high", OTHER_CLASS]
MULTI = PredictionProfile(task=Task.MULTICLASS, classes=("low", "mid", "high"))
EDGES = [1.0, 2.0, 3.0]
REGRESSION = PredictionProfile(task=Task.REGRESSION, edges=tuple(EDGES))


def slot(task: Task, counts: list[int]) -> SlotMetrics:
    n = sum(counts)
    if task is Task.MULTICLASS:
        return SlotMetrics(requests=n, task=task, classes=CLASSES, class_counts=counts)
    return SlotMetrics(requests=n, task=task, value_edges=EDGES, value_counts=counts)


def verdict(profile: PredictionProfile, stable: list[int], canary: list[int],
            plan: CanaryPlan = PLAN):  # type: ignore[no-untyped-def]
    m = GatewayMetrics(stable=slot(profile.task, stable), canary=slot(profile.task, canary))
    return analyse(plan, 25, [figures("gw-a", m, profile)], 0)


def test_a_class_distribution_shift_rolls_back_naming_task_and_metric() -> None:
    a = verdict(MULTI, [300, 300, 300, 0], [10, 20, 270, 0])
    assert a.verdict is Verdict.ROLLBACK
    assert "multiclass prediction shift, class-distribution PSI" in a.reasons[0]
    f = a.figures[0]
    assert f.task is Task.MULTICLASS and f.shift_metric == "class-distribution PSI"
    assert f.canary_predictions == 300 and f.stable_predictions == 900
    assert f.tv_distance == pytest.approx(total_variation([300, 300, 300, 0], [10, 20, 270, 0]))
    assert f.tv_distance > 0.5


def test_matching_class_distributions_continue() -> None:
    a = verdict(MULTI, [300, 310, 290, 0], [95, 105, 100, 0])
    assert a.verdict is Verdict.CONTINUE, a.reasons
    assert a.figures[0].psi < 0.05


def test_predictions_outside_the_canarys_classes_count_as_a_shift() -> None:
    a = verdict(MULTI, [100, 100, 100, 600], [100, 100, 100, 0])
    assert a.verdict is Verdict.ROLLBACK, a.figures


def test_class_shift_below_the_minimum_sample_is_recorded_not_judged() -> None:
    a = verdict(MULTI, [300, 300, 300, 0], [0, 0, 29, 0])
    assert a.verdict is Verdict.EXTEND  # too little traffic, not a rollback
    assert a.figures[0].psi > 1.0 and a.figures[0].canary_predictions == 29
    a = verdict(MULTI, [300, 300, 300, 0], [0, 0, 30, 0],
                PLAN.model_copy(update={"min_requests": 0}))
    assert a.verdict is Verdict.ROLLBACK


def test_a_value_histogram_shift_rolls_back_and_a_match_continues() -> None:
    a = verdict(REGRESSION, [100, 100, 100, 100], [0, 5, 95, 300])
    assert a.verdict is Verdict.ROLLBACK
    assert "regression prediction shift, value-histogram PSI" in a.reasons[0]
    assert verdict(REGRESSION, [100, 100, 100, 100], [26, 24, 25, 25]).verdict \
        is Verdict.CONTINUE


def test_a_gateway_recording_another_task_pauses_instead_of_guessing() -> None:
    m = GatewayMetrics(stable=SlotMetrics(requests=100, prediction_counts=[5] * 20),
                       canary=SlotMetrics(requests=100, prediction_counts=[5] * 20))
    a = analyse(PLAN, 25, [figures("gw-a", m, MULTI)], 0)
    assert a.verdict is Verdict.PAUSE
    assert "release's task is multiclass" in a.reasons[0] and "binary" in a.reasons[0]


def test_binary_is_judged_on_the_score_histogram_as_before() -> None:
    stable = SlotMetrics(requests=200, prediction_counts=[10] * 20)
    canary = SlotMetrics(requests=200, prediction_counts=[0] * 19 + [200])
    a = analyse(PLAN, 25, [figures("gw-a", GatewayMetrics(stable=stable, canary=canary))], 0)
    assert a.verdict is Verdict.ROLLBACK
    assert "binary prediction shift, score-histogram PSI" in a.reasons[0]


def _evaluation(task: Task, classes: tuple[str, ...] = (),
                edges: tuple[float, ...] = ()) -> EvaluateResult:
    return EvaluateResult(
        metrics=ModelMetrics(rows=10, latency_ms_per_1k_rows=1.0, task=task),
        execution_provider="CPUExecutionProvider",
        ran_on=RanOn(cloud="aws", region="us-east-1", jurisdiction="US", host="h"),
        output=OutputChoice(output="p", kind=OutputKind.ZIPMAP, onnx_type="t", classes=classes),
        prediction_edges=edges)


def test_profile_from_the_evaluation_is_bounded_and_valid() -> None:
    many = tuple(f"c{i}" for i in range(MAX_CLASSES + 20)) + ("x" * 200, OTHER_CLASS)
    p = profile_for(Task.MULTICLASS, _evaluation(Task.MULTICLASS, classes=many))
    assert len(p.classes) == MAX_CLASSES and OTHER_CLASS not in p.classes
    p = profile_for(Task.REGRESSION, _evaluation(Task.REGRESSION, edges=(1.0, 1.0, 2.0, 0.5)))
    assert p.edges == (1.0, 2.0)
    assert profile_for(Task.REGRESSION, None).value_edges() == DEFAULT_VALUE_EDGES
    assert profile_for(Task.BINARY, None) == PredictionProfile()
    with pytest.raises(ValueError, match="strictly increasing"):
        PredictionProfile(task=Task.REGRESSION, edges=(2.0, 1.0))
