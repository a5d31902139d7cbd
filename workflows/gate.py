"""The model gate: a pure decision on evaluation figures (unit-tested, replay-safe)."""

from __future__ import annotations

import math

from medpipe.contracts.evaluate import ModelGateVerdict, ModelMetrics
from medpipe.contracts.release import ModelThresholds


def model_gate(thresholds: ModelThresholds, candidate: ModelMetrics,
               baseline: ModelMetrics | None = None,
               baseline_version: str | None = None) -> ModelGateVerdict:
    """Check the candidate against absolute thresholds and the model in service.

    Both models are scored on the same held-out rows by the evaluate stage,
    so the regression check compares like with like.
    """
    reasons: list[str] = []
    if math.isnan(candidate.auroc):
        reasons.append("AUROC undefined: the held-out rows contain a single class")
    elif candidate.auroc < thresholds.min_auroc:
        reasons.append(f"AUROC {candidate.auroc:.4f} < minimum {thresholds.min_auroc:.4f}")
    if candidate.calibration_error > thresholds.max_calibration_error:
        reasons.append(f"calibration error {candidate.calibration_error:.4f} > maximum "
                       f"{thresholds.max_calibration_error:.4f}")
    if baseline is not None and not math.isnan(baseline.auroc) \
            and not math.isnan(candidate.auroc):
        drop = baseline.auroc - candidate.auroc
        if drop > thresholds.max_auroc_drop:
            reasons.append(f"AUROC {candidate.auroc:.4f} regresses {drop:.4f} against the model "
                           f"in service ({baseline_version}: {baseline.auroc:.4f}; tolerated "
                           f"{thresholds.max_auroc_drop:.4f})")
    return ModelGateVerdict(passed=not reasons, reasons=tuple(reasons), candidate=candidate,
                            baseline=baseline, baseline_version=baseline_version)
