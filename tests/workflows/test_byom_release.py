"""Bring your own model: models as the converters write them, released end to end.

A real Temporal dev server and real workers run ingest → pseudonymize →
validate → evaluate → sign for each model, on CSV and Parquet, with the
release's evaluation spec saying task, features/inputs, label and positive
class; the output read is recorded in the result. A model with no usable
output is refused naming its outputs, before anything is signed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import onnx
import pyarrow as pa
import pytest
from temporalio.client import Client, WorkflowFailureError

from medpipe.contracts.evaluate import EvaluationSpec, OutputKind, Task
from medpipe.contracts.release import ModelThresholds, ReleaseState, ReleaseStatus
from tests import byom
from tests.support import make_fleet, make_request, running_workers, start, status_of

pytestmark = pytest.mark.asyncio

FEATURES = tuple(byom.LABS)
CASES: dict[str, tuple[Callable[[pa.Table], onnx.ModelProto], str, str, EvaluationSpec,
                       OutputKind]] = {
    "skl-zipmap": (byom.skl_logistic, "parquet", "diagnosis",
                   EvaluationSpec(features=FEATURES, positive_class="malignant"),
                   OutputKind.ZIPMAP),
    "skl-nozipmap": (lambda t: byom.skl_logistic(t, zipmap=False), "csv", "diagnosis",
                     EvaluationSpec(features=FEATURES, positive_class="malignant"),
                     OutputKind.PROBABILITIES),
    "skl-columns": (byom.skl_column_transformer, "parquet", "diagnosis",
                    EvaluationSpec(positive_class="malignant"), OutputKind.ZIPMAP),
    "lgbm-grade": (byom.lightgbm_multiclass, "parquet", "grade",
                   EvaluationSpec(task=Task.MULTICLASS, features=FEATURES), OutputKind.ZIPMAP),
    "xgb": (byom.xgboost_binary, "csv", "malignant", EvaluationSpec(features=FEATURES),
            OutputKind.PROBABILITIES),
    "net-size": (byom.two_input_network, "parquet", "size_mm",
                 EvaluationSpec(task=Task.REGRESSION,
                                inputs={"vitals": ("age",), "labs": FEATURES}),
                 OutputKind.SCORE),
}


async def test_each_converter_model_is_released_end_to_end(
        client: Client, tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    table = byom.make_table(600)
    data = {fmt: byom.write_table(table, tmp_path / f"cohort.{fmt}") for fmt in ("csv", "parquet")}
    policy = tmp_path / "policy.yaml"
    policy.write_text(byom.POLICY)
    requests = {}
    for name, (build, fmt, label, spec, _) in CASES.items():
        model = byom.save(build(table), tmp_path / f"{name}.onnx")
        requests[name] = make_request(
            fleet, {"model": model, "dataset": data[fmt]}, model=name, label_column=label,
            policy_uri=policy.as_uri(), evaluation=spec, prefer_gpu=False, deploy=False,
            thresholds=ModelThresholds(min_auroc=0.8, min_r2=0.7))
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        handles = [await start(client, r) for r in requests.values()]
        results: list[ReleaseStatus] = await asyncio.gather(*(h.result() for h in handles))
    for (name, (_, _, _, spec, kind)), status in zip(CASES.items(), results, strict=True):
        assert status.state is ReleaseState.SUCCEEDED, (name, status.error)
        ev = status.evaluation
        assert ev is not None and ev.output is not None and ev.output.kind is kind, name
        m = ev.metrics
        assert m.task is spec.task and m.rows == 200, name
        assert status.gate is not None and status.gate.passed and status.gate.checks, name
        assert status.signature is not None, name
        if spec.task is Task.REGRESSION:
            assert m.r2 is not None and m.r2 > 0.7 and m.auroc is None
            assert ev.features == ("age", *FEATURES)
        else:
            assert m.auroc is not None and m.auroc > 0.8, name
        if spec.task is Task.MULTICLASS:
            assert set(m.per_class_recall) == {"low", "mid", "high"}
    # the ColumnTransformer read the pseudonymized ZIP3 as its own text input
    assert "zip" in results[2].evaluation.features  # type: ignore[union-attr]


async def test_model_without_usable_output_is_refused_before_signing(
        client: Client, tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    table, data, policy = byom.cohort(tmp_path)
    model = byom.save(byom.label_only(table), tmp_path / "tree.onnx")
    request = make_request(fleet, {"model": model, "dataset": data}, model="tree",
                           label_column="diagnosis", policy_uri=policy.as_uri(),
                           evaluation=EvaluationSpec(features=FEATURES), prefer_gpu=False,
                           deploy=False)
    async with running_workers(client, fleet, ["aws/us-east-1"]):
        handle = await start(client, request)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        status = await status_of(handle)
    assert status.state is ReleaseState.FAILED and status.error_type == "InvalidModel"
    assert status.error is not None and "no output usable for a binary task" in status.error
    assert "output_label" in status.error
    assert status.signature is None and status.evaluation is None
    # nothing was signed or put in service under this release
    assert not list((tmp_path / "buckets" / "aws-us-east-1").rglob("*.sig"))
