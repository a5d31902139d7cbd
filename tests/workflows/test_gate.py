"""The model gate: thresholds and regression against the model in service."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from temporalio.client import Client, WorkflowFailureError

from medpipe.contracts.evaluate import ModelMetrics
from medpipe.contracts.release import ModelThresholds
from medpipe.workers.sample import FEATURES, build_model
from medpipe.workflows.gate import model_gate
from tests.support import make_fleet, make_request, running_workers, start, status_of


def metrics(auroc: float, ece: float = 0.05) -> ModelMetrics:
    return ModelMetrics(rows=100, auroc=auroc, accuracy=0.7, calibration_error=ece,
                        latency_ms_per_1k_rows=1.0)


def test_gate_passes_a_good_model_without_baseline() -> None:
    assert model_gate(ModelThresholds(min_auroc=0.7), metrics(0.8)).passed


def test_gate_names_each_failed_threshold() -> None:
    v = model_gate(ModelThresholds(min_auroc=0.9, max_calibration_error=0.01), metrics(0.8))
    assert not v.passed and len(v.reasons) == 2
    assert "AUROC 0.8000 < minimum 0.9000" in v.reasons[0]


def test_gate_refuses_a_regression_beyond_tolerance() -> None:
    v = model_gate(ModelThresholds(max_auroc_drop=0.02), metrics(0.77), metrics(0.80), "v1")
    assert not v.passed and "regresses 0.0300 against the model in service (v1" in v.reasons[0]
    assert model_gate(ModelThresholds(max_auroc_drop=0.02), metrics(0.79), metrics(0.80),
                      "v1").passed


def test_gate_refuses_an_undefined_auroc() -> None:
    v = model_gate(ModelThresholds(), metrics(math.nan))
    assert not v.passed and "single class" in v.reasons[0]


@pytest.mark.asyncio
async def test_second_release_is_compared_with_the_model_in_service(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    good = make_request(fleet, sample, model="gated")
    # an inverted model: same inputs, scores upside down
    inverted = build_model(np.zeros(5), np.ones(5), -np.ones(5), 0.0, FEATURES)
    bad_path = tmp_path / "inverted.onnx"
    onnx.save(inverted, bad_path)
    bad = make_request(fleet, sample, model="gated", model_uri=bad_path.as_uri())
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        first = await (await start(client, good)).result()
        assert first.gate and first.gate.passed and first.gate.baseline is None
        handle = await start(client, bad)
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        status = await status_of(handle)
    assert "regresses" in str(info.value.cause)
    assert status.gate and status.gate.baseline_version == good.version
    assert status.gate.baseline and status.gate.baseline.auroc == pytest.approx(
        first.evaluation.metrics.auroc)
