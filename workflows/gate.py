"""The model gate: a pure decision on evaluation figures (unit-tested, replay-safe).

Per task: binary and multiclass check the AUROC (macro one-vs-rest for
multiclass), accuracy and calibration error against the thresholds and the
AUROC against the model in service; regression checks MAE, RMSE and R², and
the RMSE against the model in service. Every check names its metric and both
figures, passed or not.
"""

from __future__ import annotations

import math

from medpipe.contracts.evaluate import GateCheck, ModelGateVerdict, ModelMetrics, Task
from medpipe.contracts.release import ModelThresholds


def _undefined(v: float | None) -> bool:
    return v is None or math.isnan(v)


def _at_least(metric: str, value: float | None, limit: float | None) -> GateCheck | None:
    if limit is None or (limit <= 0 and not _undefined(value)):
        return None
    if _undefined(value):
        return GateCheck(metric=metric, candidate=None, limit=limit, passed=False,
                         reason=f"{metric} undefined on the held-out rows (a single class?); "
                                f"minimum {limit:.4f}")
    assert value is not None
    ok = value >= limit
    return GateCheck(metric=metric, candidate=value, limit=limit, passed=ok,
                     reason="" if ok else f"{metric} {value:.4f} < minimum {limit:.4f}")


def _at_most(metric: str, value: float | None, limit: float | None) -> GateCheck | None:
    if limit is None or _undefined(value):
        return None
    assert value is not None
    ok = value <= limit
    return GateCheck(metric=metric, candidate=value, limit=limit, passed=ok,
                     reason="" if ok else f"{metric} {value:.4f} > maximum {limit:.4f}")


def _vs_baseline(metric: str, cand: float | None, base: float | None, version: str | None,
                 tolerated: float, higher_is_better: bool) -> GateCheck | None:
    if _undefined(cand) or _undefined(base):
        return None
    assert cand is not None and base is not None
    if higher_is_better:
        worse = base - cand
        ok = worse <= tolerated
        reason = (f"{metric} {cand:.4f} regresses {worse:.4f} against the model in service "
                  f"({version}: {base:.4f}; tolerated {tolerated:.4f})")
    else:
        limit = base * (1.0 + tolerated)
        ok = cand <= limit
        reason = (f"{metric} {cand:.4f} is worse than the model in service ({version}: "
                  f"{base:.4f}; tolerated up to {limit:.4f}, +{tolerated:.0%})")
    return GateCheck(metric=f"{metric} vs in service", candidate=cand, baseline=base,
                     limit=tolerated, passed=ok, reason="" if ok else reason)


def model_gate(thresholds: ModelThresholds, candidate: ModelMetrics,
               baseline: ModelMetrics | None = None,
               baseline_version: str | None = None) -> ModelGateVerdict:
    """Check the candidate against absolute thresholds and the model in service.

    Both models are scored on the same held-out rows by the evaluate stage,
    so the comparison is like with like.
    """
    t = thresholds
    c = candidate
    if c.task is Task.REGRESSION:
        checks = [_at_most("MAE", c.mae, t.max_mae), _at_most("RMSE", c.rmse, t.max_rmse),
                  _at_least("R²", c.r2, t.min_r2)]
        if c.rmse is None:
            checks.append(GateCheck(metric="RMSE", candidate=None, passed=False,
                                    reason="RMSE undefined: no held-out rows"))
        if baseline is not None:
            checks.append(_vs_baseline("RMSE", c.rmse, baseline.rmse, baseline_version,
                                       t.max_rmse_increase, higher_is_better=False))
    else:
        name = "AUROC" if c.task is Task.BINARY else "macro AUROC"
        auroc_check = _at_least(name, c.auroc, t.min_auroc)
        if auroc_check is None and _undefined(c.auroc):
            auroc_check = GateCheck(metric=name, candidate=None, passed=False,
                                    reason=f"{name} undefined: the held-out rows contain a "
                                           "single class")
        checks = [auroc_check, _at_least("accuracy", c.accuracy, t.min_accuracy or None),
                  _at_most("calibration error", c.calibration_error, t.max_calibration_error)]
        if baseline is not None:
            checks.append(_vs_baseline(name, c.auroc, baseline.auroc, baseline_version,
                                       t.max_auroc_drop, higher_is_better=True))
    done = tuple(x for x in checks if x is not None)
    reasons = tuple(x.reason for x in done if not x.passed)
    return ModelGateVerdict(passed=not reasons, reasons=reasons, candidate=candidate,
                            baseline=baseline, baseline_version=baseline_version, checks=done)
