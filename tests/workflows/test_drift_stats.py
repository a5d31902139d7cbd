"""The drift statistics on their own: chi-square p-values against table values, and
the false-alarm and detection rates over many simulated windows, counted by the
real profile builder (evaluate side) and the real gateway sketch (serving side)."""

from __future__ import annotations

import numpy as np
import pytest

from medpipe.activities.model_inputs import InputBinding
from medpipe.activities.model_io import TensorInfo
from medpipe.activities.profile import ProfileBuilder
from medpipe.contracts.drift import DriftPolicy, DriftVerdictKind
from medpipe.contracts.profile import OTHER, FeatureKind, ReferenceProfile
from medpipe.workers.gateway.sketches import Sketch
from medpipe.workflows.drift_stats import chi2_sf, chi2_two_sample, judge

FEATURES = ("age", "hba1c", "ldl", "sbp", "bmi")
WINDOW = 500
POLICY = DriftPolicy(min_samples=WINDOW)


@pytest.mark.parametrize(("stat", "dof", "p"), [
    (3.841459, 1, 0.05), (6.634897, 1, 0.01), (18.307038, 10, 0.05), (30.143527, 19, 0.05),
    (9.341818, 10, 0.5), (2.558212, 10, 0.99), (43.820196, 19, 0.001)])
def test_chi_square_p_values_match_the_tables(stat: float, dof: int, p: float) -> None:
    assert chi2_sf(stat, dof) == pytest.approx(p, rel=1e-5)


def test_identical_histograms_give_no_evidence_and_disjoint_ones_all_of_it() -> None:
    assert chi2_two_sample([10, 20, 30], [10, 20, 30])[2] == pytest.approx(1.0)
    assert chi2_two_sample([100, 0], [0, 100])[2] < 1e-20
    assert chi2_two_sample([0, 0], [5, 5]) == (0.0, 0, 1.0)


def _binding() -> list[InputBinding]:
    return [InputBinding(TensorInfo(name="features", onnx_type="tensor(float)",
                                    shape=(None, len(FEATURES))), FEATURES)]


def _profile(rng: np.random.Generator, rows: int = 4000) -> ReferenceProfile:
    builder = ProfileBuilder(_binding())
    x = rng.normal(size=(rows, len(FEATURES))).astype(np.float32)
    builder.add({"features": x}, _scores(x))
    return builder.profile()


def _scores(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.sum(axis=1) / 2.0))


def _window(profile: ReferenceProfile, x: np.ndarray) -> Sketch:
    sketch = Sketch("1", profile)
    for start in range(0, len(x), 1):  # one row per request, as the gateway sees them
        row = x[start:start + 1]
        sketch.observe({"features": row}, _scores(row))
    return sketch


def test_the_profile_cuts_numeric_features_at_quantiles_and_scores_in_fixed_bins() -> None:
    profile = _profile(np.random.default_rng(1))
    assert [f.name for f in profile.features] == list(FEATURES)
    f = profile.features[1]
    assert f.kind is FeatureKind.NUMERIC and f.tensor == "features" and f.column == 1
    assert f.bins == 10 and sum(f.counts) == 4000
    assert max(f.counts) - min(f.counts) <= 2  # quantile bins hold equal shares
    assert sum(profile.prediction_counts) == 4000 and len(profile.prediction_counts) == 20


def test_rare_categories_are_folded_into_other_and_never_named() -> None:
    binding = [InputBinding(TensorInfo(name="zip3", onnx_type="tensor(string)",
                                       shape=(None, 1)), ("zip3",))]
    builder = ProfileBuilder(binding, min_category_count=20)
    values = np.array(["021"] * 50 + ["100"] * 30 + ["999"] * 3 + ["P-12345"], dtype=object)
    builder.add({"zip3": values.reshape(-1, 1)}, None)
    f = builder.profile().features[0]
    assert f.kind is FeatureKind.CATEGORICAL
    assert f.categories == ("021", "100") and f.counts == (50, 30, 4)
    assert "P-12345" not in builder.profile().model_dump_json() and OTHER not in f.categories
    sketch = Sketch("1", builder.profile())
    sketch.observe({"zip3": np.array([["021"], ["P-99"], ["100"]], dtype=object)}, None)
    assert sketch.read().features["zip3"] == [1, 1, 1]


def test_thin_traffic_gets_no_verdict() -> None:
    rng = np.random.default_rng(2)
    profile = _profile(rng)
    sketch = _window(profile, rng.normal(size=(WINDOW - 1, 5)).astype(np.float32) + 3.0)
    verdict = judge(profile, sketch.read(), POLICY)
    assert verdict.verdict is DriftVerdictKind.INSUFFICIENT and not verdict.figures
    assert judge(profile, None, POLICY).verdict is DriftVerdictKind.INSUFFICIENT


def test_steady_traffic_raises_almost_no_false_alarms_over_1000_windows() -> None:
    """False-alarm rate measured: 1,000 windows of 500 rows from the reference
    distribution, counted by the gateway sketch, judged by the monitor's code."""
    rng = np.random.default_rng(3)
    profile = _profile(rng)
    sketch = Sketch("1", profile)
    alarms, worst_psi = 0, 0.0
    for _ in range(1000):
        x = rng.normal(size=(WINDOW, 5)).astype(np.float32)
        sketch.observe({"features": x}, _scores(x))
        verdict = judge(profile, sketch.read(reset=True), POLICY)
        assert verdict.verdict is not DriftVerdictKind.INSUFFICIENT
        alarms += verdict.verdict is DriftVerdictKind.DRIFT
        worst_psi = max(worst_psi, *(f.psi for f in verdict.figures))
    print(f"false alarms: {alarms} per 1000 windows; worst PSI {worst_psi:.3f}")
    assert alarms <= 2  # the family-wise level is 0.001 per window


def test_a_half_sd_shift_in_one_feature_is_detected_in_every_window() -> None:
    rng = np.random.default_rng(4)
    profile = _profile(rng)
    sketch = Sketch("1", profile)
    missed = 0
    for _ in range(200):
        x = rng.normal(size=(WINDOW, 5)).astype(np.float32)
        x[:, 2] += 0.5
        sketch.observe({"features": x}, _scores(x))
        verdict = judge(profile, sketch.read(reset=True), POLICY)
        drifted = {f.feature for f in verdict.figures if f.drifted}
        missed += verdict.verdict is not DriftVerdictKind.DRIFT or "ldl" not in drifted
        assert drifted <= {"ldl", "prediction"}, drifted
    assert missed <= 2, missed


def test_a_window_counted_over_other_bins_is_named_not_tested() -> None:
    rng = np.random.default_rng(5)
    profile = _profile(rng)
    x = rng.normal(size=(WINDOW, 5)).astype(np.float32)
    window = _window(profile, x).read()
    broken = window.model_copy(update={"features": {**window.features, "ldl": [1, 2]}})
    verdict = judge(profile, broken, POLICY)
    assert any("ldl" in r for r in verdict.reasons)
    assert "ldl" not in {f.feature for f in verdict.figures}


def test_the_profile_stays_small_however_wide_the_model() -> None:
    from medpipe.activities import profile as profile_module

    wide = [InputBinding(TensorInfo(name="x", onnx_type="tensor(float)", shape=(None, 300)),
                         tuple(f"c{i}" for i in range(300))),
            InputBinding(TensorInfo(name="site", onnx_type="tensor(string)", shape=(None, 1)),
                         ("site",))]
    builder = ProfileBuilder(wide)
    rng = np.random.default_rng(6)
    builder.add_inputs({"x": rng.normal(size=(100, 300)),
                        "site": np.array([[f"s{i % 80}"] for i in range(8000)], dtype=object)})
    assert len(builder.profile().features) == profile_module.MAX_FEATURES
    assert len(builder.profile().model_dump_json()) < 256_000
    builder = ProfileBuilder(wide[1:])
    builder.add_inputs({"site": np.array([[f"s{i % 80}"] for i in range(8000)], dtype=object)})
    site = builder.profile().features[0]
    assert len(site.categories) == profile_module.MAX_CATEGORIES
    assert site.counts[-1] == 30 * 100  # the other 30 categories, 100 rows each


def test_binned_auroc_matches_the_exact_one_up_to_binning() -> None:
    from medpipe.activities.metrics import auroc
    from medpipe.workflows.drift_stats import binned_auroc

    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, size=4000)
    scores = np.clip(rng.normal(0.35 + 0.3 * labels, 0.15), 0, 1)
    bins = np.clip((scores * 20).astype(int), 0, 19)
    pos = np.bincount(bins[labels == 1], minlength=20).tolist()
    neg = np.bincount(bins[labels == 0], minlength=20).tolist()
    assert binned_auroc(pos, neg) == pytest.approx(auroc(labels, scores), abs=0.01)
    assert binned_auroc([0] * 20, neg) is None


def test_label_feedback_gives_a_performance_verdict_once_there_are_enough_labels() -> None:
    rng = np.random.default_rng(8)
    profile = _profile(rng)
    sketch = Sketch("1", profile)
    x = rng.normal(size=(WINDOW, 5)).astype(np.float32)
    scores = _scores(x)
    sketch.observe({"features": x}, scores)
    for i, s in enumerate(scores[:300]):
        sketch.remember(f"r{i}", np.array([s]))
        sketch.feedback(f"r{i}", bool(rng.random() < 0.5))  # outcomes unrelated to scores
    assert not sketch.feedback("r0", True)  # reported once
    window = sketch.read()
    verdict = judge(profile, window, POLICY, reference_auroc=0.85)
    assert verdict.performance is not None and verdict.performance.labels == 300
    assert verdict.performance.drifted and verdict.verdict is DriftVerdictKind.DRIFT
    assert any(r.startswith("performance: AUROC") for r in verdict.reasons)
    few = POLICY.model_copy(update={"min_labels": 301})
    assert not judge(profile, window, few, reference_auroc=0.85).performance.drifted  # type: ignore[union-attr]
    assert judge(profile, window, POLICY).performance.drifted is False  # type: ignore[union-attr]
