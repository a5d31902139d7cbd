"""Drift statistics: PSI and a two-sample chi-square test on binned counts.

Pure Python (``math`` only), deterministic, so the DriftMonitorWorkflow runs
it in workflow code and the figures it decides on are in history. The
chi-square p-value uses the regularized upper incomplete gamma function
(series below ``a + 1``, continued fraction above: Numerical Recipes §6.2).

A feature drifted when both hold: PSI at or over the policy's threshold (the
shift is large enough to matter) and the chi-square test rejects at the
policy's level divided by the number of tests (Bonferroni: the chance of any
false alarm in a window stays under ``p_value``). The test alone would flag
trivial shifts on heavy traffic; PSI alone would flag noise on light traffic.

With label feedback, the window's AUROC (over the labelled requests' score bins)
more than ``max_auroc_drop`` under the release's evaluated AUROC, on at least
``min_labels`` labels, is performance drift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from medpipe.contracts.deploy import population_stability_index
from medpipe.contracts.drift import (
    DriftPolicy,
    DriftVerdict,
    DriftVerdictKind,
    FeatureDrift,
    PerformanceFigure,
    SlotSketch,
)
from medpipe.contracts.profile import ReferenceProfile

PREDICTION = "prediction"
_EPS = 1e-300


def _gamma_series(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x) by its series (x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(1000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * 1e-15:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_cf(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction."""
    b = x + 1.0 - a
    c = 1.0 / _EPS
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _EPS if abs(d) < _EPS else d
        c = b + an / c
        c = _EPS if abs(c) < _EPS else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ chi-square with ``dof`` degrees of freedom."""
    if dof <= 0 or statistic <= 0.0:
        return 1.0
    a, x = dof / 2.0, statistic / 2.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _gamma_series(a, x))
    return min(1.0, _gamma_cf(a, x))


def chi2_two_sample(reference: Sequence[int], window: Sequence[int]) -> tuple[float, int, float]:
    """Chi-square test of homogeneity of two histograms over the same bins.

    Bins empty in both samples are left out. Returns (statistic, dof, p-value);
    (0, 0, 1) when either sample is empty or one bin holds everything.
    """
    n_r, n_w = sum(reference), sum(window)
    if n_r == 0 or n_w == 0:
        return 0.0, 0, 1.0
    total = n_r + n_w
    stat, bins = 0.0, 0
    for r, w in zip(reference, window, strict=True):
        col = r + w
        if col == 0:
            continue
        bins += 1
        e_r, e_w = n_r * col / total, n_w * col / total
        stat += (r - e_r) ** 2 / e_r + (w - e_w) ** 2 / e_w
    dof = bins - 1
    return stat, dof, chi2_sf(stat, dof)


def compare(name: str, reference: Sequence[int], window: Sequence[int], psi_threshold: float,
            level: float) -> FeatureDrift:
    """PSI and the chi-square test of one histogram against its reference.

    Raises:
        ValueError: the histograms have different numbers of bins.
    """
    psi = population_stability_index(list(reference), list(window))
    stat, dof, p = chi2_two_sample(reference, window)
    return FeatureDrift(feature=name, psi=round(psi, 6), chi2=round(stat, 4), dof=dof,
                        p_value=p, drifted=psi >= psi_threshold and p < level)


def binned_auroc(positive: Sequence[int], negative: Sequence[int]) -> float | None:
    """AUROC of labelled scores given per score bin (ties within a bin count half).

    None when either class is missing.
    """
    total_p, total_n = sum(positive), sum(negative)
    if not total_p or not total_n:
        return None
    below = 0.0
    wins = 0.0
    for p, n in zip(positive, negative, strict=True):
        wins += p * (below + 0.5 * n)
        below += n
    return wins / (total_p * total_n)


def performance(window: SlotSketch, reference_auroc: float | None,
                policy: DriftPolicy) -> PerformanceFigure | None:
    """The window's rolling AUROC from label feedback, against the evaluated AUROC."""
    labels = sum(window.labelled_positive) + sum(window.labelled_negative)
    if not labels:
        return None
    auroc = binned_auroc(window.labelled_positive, window.labelled_negative)
    drifted = (labels >= policy.min_labels and auroc is not None
               and reference_auroc is not None
               and reference_auroc - auroc > policy.max_auroc_drop)
    return PerformanceFigure(labels=labels, auroc=round(auroc, 4) if auroc is not None
                             else None, reference_auroc=reference_auroc, drifted=drifted)


def _sum(a: list[int], b: list[int]) -> list[int]:
    if not a:
        return list(b)
    return [x + y for x, y in zip(a, b, strict=True)] if b else a


def merge(sketches: Sequence[SlotSketch]) -> SlotSketch | None:
    """Sum the windows of several gateways (same version, same bins)."""
    if not sketches:
        return None
    features: dict[str, list[int]] = {}
    predictions: list[int] = []
    positive: list[int] = []
    negative: list[int] = []
    for s in sketches:
        positive, negative = _sum(positive, s.labelled_positive), \
            _sum(negative, s.labelled_negative)
        for name, counts in s.features.items():
            acc = features.setdefault(name, [0] * len(counts))
            if len(acc) == len(counts):
                features[name] = [a + c for a, c in zip(acc, counts, strict=True)]
        predictions = _sum(predictions, s.predictions)
    starts = [s.window_started_at for s in sketches if s.window_started_at]
    return SlotSketch(version=sketches[0].version, rows=sum(s.rows for s in sketches),
                      features=features, predictions=predictions,
                      window_started_at=min(starts) if starts else None,
                      labelled_positive=positive, labelled_negative=negative)


def judge(profile: ReferenceProfile, window: SlotSketch | None, policy: DriftPolicy,
          at: datetime | None = None, reference_auroc: float | None = None) -> DriftVerdict:
    """The verdict of one window against the reference profile.

    Fewer rows than ``policy.min_samples`` gives ``insufficient-data`` (no figures
    decide anything on thin traffic). Features the window lacks, or counts over other
    bins (a profile mismatch), are named in the reasons and not tested.
    """
    rows = window.rows if window else 0
    if window is None or rows < policy.min_samples:
        return DriftVerdict(verdict=DriftVerdictKind.INSUFFICIENT, rows=rows, at=at, reasons=(
            f"{rows} rows in the window, fewer than the {policy.min_samples} required",))
    pairs: list[tuple[str, Sequence[int], Sequence[int]]] = []
    reasons: list[str] = []
    for f in profile.features:
        counts = window.features.get(f.name)
        if counts is None or len(counts) != len(f.counts):
            reasons.append(f"feature '{f.name}' not counted over the reference bins")
            continue
        pairs.append((f.name, f.counts, counts))
    if profile.prediction_counts and len(window.predictions) == len(profile.prediction_counts) \
            and sum(window.predictions):
        pairs.append((PREDICTION, profile.prediction_counts, window.predictions))
    level = policy.p_value / max(len(pairs), 1)
    figures = tuple(compare(n, r, w, policy.psi_threshold, level) for n, r, w in pairs)
    drifted = [f for f in figures if f.drifted]
    reasons += [f"{f.feature}: PSI {f.psi:.3f} >= {policy.psi_threshold:g}, chi-square "
                f"p {f.p_value:.2g} < {level:.2g}" for f in drifted]
    perf = performance(window, reference_auroc, policy)
    if perf is not None and perf.drifted:
        reasons.append(f"performance: AUROC {perf.auroc:.3f} on {perf.labels} labelled "
                       f"requests, {perf.reference_auroc:.3f} at evaluation (drop > "
                       f"{policy.max_auroc_drop:g})")
    bad = bool(drifted) or (perf is not None and perf.drifted)
    return DriftVerdict(verdict=DriftVerdictKind.DRIFT if bad else DriftVerdictKind.OK,
                        rows=rows, figures=figures, performance=perf, reasons=tuple(reasons),
                        at=at)
