"""Known values for the model-quality figures (AUROC, accuracy, calibration error).

Expected values are worked out by hand in the comments, by an independent
definition (AUROC as the share of positive/negative pairs ranked correctly,
ties counting one half), or by scikit-learn; never by calling the code under
test twice.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from medpipe.activities.metrics import (
    accuracy,
    auroc,
    expected_calibration_error,
    one_vs_rest_auroc,
    top_label_calibration_error,
)


def pairwise_auroc(labels: list[int], scores: list[float]) -> float:
    """AUROC by its definition: P(score of a positive > score of a negative), ties ½."""
    pos = [s for y, s in zip(labels, scores, strict=True) if y]
    neg = [s for y, s in zip(labels, scores, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def arrays(labels: list[int], scores: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(labels, dtype=np.int64), np.asarray(scores, dtype=np.float64)


@pytest.mark.parametrize(("labels", "scores", "expected"), [
    # perfect ranking, and the same ranking reversed
    ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0),
    ([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], 0.0),
    # scikit-learn's documented example: one of four pairs misranked (0.35 < 0.4)
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
    # every score tied: each pair counts one half
    ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),
    # a tie across classes: pos {.6,.9,.1} vs neg {.2,.6}: 1 + ½ + 1 + 1 + 0 + 0 = 3.5 of 6
    ([0, 0, 1, 1, 1], [0.2, 0.6, 0.6, 0.9, 0.1], 3.5 / 6),
    # ties within a class do not matter: pos {.7,.7} vs neg {.3,.3,.7}: 2 × (1 + 1 + ½) of 6
    ([1, 0, 1, 0, 0], [0.7, 0.3, 0.7, 0.3, 0.7], 5.0 / 6),
])
def test_auroc_known_values(labels: list[int], scores: list[float], expected: float) -> None:
    assert auroc(*arrays(labels, scores)) == pytest.approx(expected, abs=1e-12)
    assert pairwise_auroc(labels, scores) == pytest.approx(expected, abs=1e-12)  # the oracle


def test_auroc_matches_the_pairwise_definition_with_many_ties() -> None:
    rng = np.random.default_rng(20261201)
    for size in (2, 3, 7, 50, 301):
        labels = rng.integers(0, 2, size)
        labels[0], labels[-1] = 0, 1  # both classes present
        scores = np.round(rng.random(size), 1)  # one decimal: ties everywhere
        expected = pairwise_auroc(labels.tolist(), scores.tolist())
        assert auroc(labels, scores) == pytest.approx(expected, abs=1e-12), size


def test_auroc_depends_on_ranks_only_not_on_order_or_scale() -> None:
    labels, scores = arrays([0, 0, 1, 1, 1, 0], [0.2, 0.6, 0.6, 0.9, 0.1, 0.3])
    order = np.array([5, 2, 0, 4, 1, 3])
    expected = auroc(labels, scores)
    assert auroc(labels[order], scores[order]) == pytest.approx(expected, abs=1e-12)
    assert auroc(labels, np.log(scores) * 7 + 3) == pytest.approx(expected, abs=1e-12)
    assert auroc(labels.astype(bool), scores.astype(np.float32)) == pytest.approx(expected)


@pytest.mark.parametrize("labels", [[1, 1, 1], [0, 0, 0, 0]], ids=["positives", "negatives"])
def test_auroc_of_a_single_class_is_undefined(labels: list[int]) -> None:
    """The contract: NaN (no pair to rank), which the model gate refuses by name."""
    assert math.isnan(auroc(*arrays(labels, [0.2, 0.5, 0.9, 0.4][:len(labels)])))


def test_accuracy_known_values_and_threshold_boundary() -> None:
    labels, scores = arrays([1, 0, 1, 0, 1], [0.9, 0.1, 0.5, 0.5, 0.49])
    # 0.9→1 ✓, 0.1→0 ✓, 0.5→1 ✓ (the threshold counts as positive), 0.5→1 ✗, 0.49→0 ✗
    assert accuracy(labels, scores) == pytest.approx(3 / 5)
    assert accuracy(labels, scores, threshold=0.95) == pytest.approx(2 / 5)  # all say 0
    assert math.isnan(accuracy(*arrays([], [])))


@pytest.mark.parametrize(("labels", "scores", "bins", "expected"), [
    # bin 3 holds .3,.3,.35 (mean .31667, positives 2/3: gap .35, weight 3); bin 7 holds
    # .7 with a negative (gap .7, weight 1): (3 × .35 + .7) / 4
    ([1, 0, 1, 0], [0.3, 0.3, 0.35, 0.7], 10, (3 * 0.35 + 0.7) / 4),
    # one bin per sample: .05|0, .15|0, .55|0, .85|1 → .05 + .15 + .55 + .15; and 0.95 and
    # 1.0 share the last bin (1.0 is clamped into it): mean .975 vs 1 → 2 × .025
    ([0, 0, 1, 1, 1, 0], [0.05, 0.15, 0.85, 0.95, 1.0, 0.55], 10,
     (0.05 + 0.15 + 0.55 + 0.15 + 2 * 0.025) / 6),
    # perfectly calibrated: every score .5 with half the labels positive
    ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 10, 0.0),
    # two bins: [0, .5) holds .1,.2 (mean .15, positives ½: gap .35); [.5, 1] holds .6,.8,.9
    # (mean .76667, positives 1: gap .23333): (2 × .35 + 3 × .23333) / 5
    ([0, 1, 1, 1, 1], [0.1, 0.2, 0.6, 0.8, 0.9], 2, (2 * 0.35 + 3 * (1 - 2.3 / 3)) / 5),
    # a single class is still defined: all negative, gap = mean score per bin
    ([0, 0, 0], [0.1, 0.1, 0.4], 10, (2 * 0.1 + 0.4) / 3),
])
def test_calibration_error_known_values(labels: list[int], scores: list[float], bins: int,
                                        expected: float) -> None:
    assert expected_calibration_error(*arrays(labels, scores), bins=bins) == \
        pytest.approx(expected, abs=1e-12)


def test_calibration_error_clips_scores_outside_zero_one_and_is_nan_when_empty() -> None:
    # -0.5 → 0 (bin 0, negative: gap 0); 1.5 → 1 (last bin, positive: gap 0)
    assert expected_calibration_error(*arrays([0, 1], [-0.5, 1.5])) == pytest.approx(0.0)
    assert math.isnan(expected_calibration_error(*arrays([], [])))


def test_auroc_and_accuracy_agree_with_scikit_learn_on_tied_scores() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    for size in (5, 40, 500):
        labels = rng.integers(0, 2, size)
        labels[:2] = (0, 1)
        scores = np.round(rng.random(size), 1)
        assert auroc(labels, scores) == pytest.approx(metrics.roc_auc_score(labels, scores),
                                                      abs=1e-12)
        assert accuracy(labels, scores) == pytest.approx(
            metrics.accuracy_score(labels, scores >= 0.5))


def test_one_vs_rest_auroc_known_values_and_an_absent_class() -> None:
    labels = np.array([0, 0, 0, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.5, 0.1], [0.3, 0.6, 0.1], [0.1, 0.4, 0.5]])
    # class 0: positives {.8,.6,.3} all above the negative .1 → 1; class 1: positive .4
    # above .1 only, below .5 and .6 → 1/3; class 2 is absent from the rows: left out
    macro, weighted = one_vs_rest_auroc(labels, probs)
    assert macro == pytest.approx((1 + 1 / 3) / 2)
    assert weighted == pytest.approx((3 * 1 + 1 * (1 / 3)) / 4)  # weighted by 3 and 1 rows
    assert all(np.isnan(v) for v in one_vs_rest_auroc(np.array([1, 1]), probs[:2]))


def test_one_vs_rest_auroc_agrees_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(11)
    labels = np.concatenate([[0, 1, 2], rng.integers(0, 3, 97)])
    probs = rng.dirichlet(np.ones(3), size=100)
    macro, weighted = one_vs_rest_auroc(labels, probs)
    assert macro == pytest.approx(metrics.roc_auc_score(labels, probs, multi_class="ovr",
                                                        average="macro"), abs=1e-12)
    assert weighted == pytest.approx(metrics.roc_auc_score(labels, probs, multi_class="ovr",
                                                           average="weighted"), abs=1e-12)


def test_top_label_calibration_error_known_value() -> None:
    labels = np.array([0, 0, 2, 1])
    probs = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6], [0.5, 0.45, 0.05]])
    # top labels 0, 1, 2, 0 → correct 1, 0, 1, 0; confidences .7 | .6 .6 | .5 in bins 7|6|5:
    # |.7 − 1| + 2 × |.6 − ½| + |.5 − 0| = .3 + .2 + .5, over 4 rows
    assert top_label_calibration_error(labels, probs) == pytest.approx(1.0 / 4)
    assert np.isnan(top_label_calibration_error(np.array([]), np.empty((0, 3))))
