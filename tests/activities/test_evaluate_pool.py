"""Evaluate on a process pool gives the figures of a one-thread sequential run.

Real models (LightGBM, skl2onnx with ZipMap, a two-input network), real
onnxruntime sessions in real child processes: the metrics (but the timing)
and the reference profile must be identical, candidate and baseline alike.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import onnx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities.context import WorkerContext
from medpipe.activities.cores import CoreBudget
from medpipe.activities.evaluate import CPU, EvaluateActivities, load_model, score_dataset
from medpipe.activities.sealed import store_sealed
from medpipe.activities.storage.local import LocalStore
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import DatasetMismatch
from medpipe.contracts.evaluate import EvaluateInput, EvaluationSpec, Task
from medpipe.contracts.placement import Cloud, WorkerProfile
from tests import byom


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return byom.make_table(3000)


def score(models: list[onnx.ModelProto], table: pa.Table, label: str, spec: EvaluationSpec,
          fmt: str, processes: int) -> list[Any]:
    loaded = [load_model(m.SerializeToString(), [CPU], f"model {i}", spec, threads=1)
              for i, m in enumerate(models)]
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink, row_group_size=256)
    else:
        pacsv.write_csv(table, sink, pacsv.WriteOptions(batch_size=256))
    data = sink.getvalue()
    chunks = (data[i:i + 2048] for i in range(0, len(data), 2048))
    runs = score_dataset(loaded, chunks, fmt, label, spec, processes=processes)
    profile = runs[0].profile.profile() if runs[0].profile else None
    return [r.metrics().model_copy(update={"latency_ms_per_1k_rows": 0.0}) for r in runs] + [
        profile]


def test_boosted_with_baseline_pool_equals_sequential(table: pa.Table) -> None:
    spec = EvaluationSpec(features=tuple(byom.LABS))
    models = [byom.lightgbm_binary(table), byom.lightgbm_binary(table, trees=5)]
    seq = score(models, table, "malignant", spec, "parquet", 1)
    par = score(models, table, "malignant", spec, "parquet", 2)
    assert par == seq
    cand, base, profile = seq
    assert cand.rows == base.rows > 500 and cand.auroc is not None and cand.auroc > 0.85
    assert cand != base and profile is not None


def test_zipmap_classifier_pool_equals_sequential(table: pa.Table) -> None:
    spec = EvaluationSpec(task=Task.BINARY, features=tuple(byom.LABS),
                          positive_class="malignant")
    models = [byom.skl_logistic(table, zipmap=True)]
    seq = score(models, table, "diagnosis", spec, "csv", 1)
    assert score(models, table, "diagnosis", spec, "csv", 2) == seq
    assert seq[0].auroc is not None and seq[0].auroc > 0.85


def test_two_input_regression_on_csv_pool_equals_sequential(table: pa.Table) -> None:
    spec = EvaluationSpec(task=Task.REGRESSION,
                          inputs={"vitals": ("age",), "labs": tuple(byom.LABS)})
    models = [byom.two_input_network(table)]
    seq = score(models, table, "size_mm", spec, "csv", 1)
    assert score(models, table, "size_mm", spec, "csv", 3) == seq
    assert seq[0].r2 is not None and seq[0].r2 > 0.8


def test_a_single_batch_is_scored_like_many(table: pa.Table) -> None:
    spec = EvaluationSpec(features=tuple(byom.LABS))
    small = table.slice(0, 200)  # one row group, one held-out batch: scored without a pool
    models = [byom.lightgbm_binary(table)]
    seq = score(models, small, "malignant", spec, "parquet", 1)
    assert score(models, small, "malignant", spec, "parquet", 2) == seq
    assert seq[0].rows > 0


def test_a_refusal_is_the_same_with_a_pool(table: pa.Table) -> None:
    spec = EvaluationSpec(features=tuple(byom.LABS))
    bad = table.set_column(table.schema.get_field_index("texture"), "texture",
                           pa.array(["n/a"] * table.num_rows))
    messages = []
    for processes in (1, 2):
        with pytest.raises(DatasetMismatch) as err:
            score([byom.lightgbm_binary(table)], bad, "malignant", spec, "parquet", processes)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "texture" in messages[0]


def test_the_activity_scores_on_its_core_budget(table: pa.Table, tmp_path: Path) -> None:
    """The evaluate activity on a worker with 1 vs 2 cores: same figures, same profile."""
    bucket = tmp_path / "bucket"
    LocalStore(bucket.as_uri()).ensure_bucket()
    results = []
    for cores in (1, 2):
        ctx = WorkerContext(profile=WorkerProfile(cloud=Cloud.AWS, region="us-east-1",
                                                  jurisdiction="US",
                                                  store_uri=bucket.as_uri()),
                            cores=CoreBudget(cores))
        sink = io.BytesIO()
        pq.write_table(table, sink, row_group_size=256)
        rid = f"r{cores}"
        model = store_sealed(ctx.store, f"{rid}/model.onnx",
                             [byom.lightgbm_binary(table).SerializeToString()], name="model",
                             release_id=rid, keys=KeySettings())
        data = store_sealed(ctx.store, f"{rid}/data.parquet", [sink.getvalue()],
                            name="dataset", release_id=rid, keys=KeySettings())
        result = EvaluateActivities(ctx).evaluate(EvaluateInput(
            release_id=rid, model=model, dataset=data, label_column="malignant",
            spec=EvaluationSpec(features=tuple(byom.LABS))))
        assert ctx.cores.in_use == 0  # the cores went back to the budget
        results.append(result)
    one, two = results
    assert one.execution_provider == two.execution_provider == CPU
    assert two.metrics.model_copy(update={"latency_ms_per_1k_rows": 0.0}) == \
        one.metrics.model_copy(update={"latency_ms_per_1k_rows": 0.0})
    assert two.profile == one.profile and one.metrics.rows > 500


def test_scoring_in_slices_of_a_few_rows_changes_no_figure(table: pa.Table,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``evaluate_pool.run_rows`` runs a batch through the model in slices and joins the
    outputs (arrays, or a ZipMap's lists of maps): the figures and the profile are those of
    whole batches (the test's batches, 256 rows, are under ``SCORE_ROWS``: one run each)."""
    from medpipe.activities import evaluate_pool

    cases = [
        ([byom.skl_logistic(table, zipmap=True)], "diagnosis", "csv", EvaluationSpec(
            task=Task.BINARY, features=tuple(byom.LABS), positive_class="malignant")),
        ([byom.lightgbm_binary(table), byom.lightgbm_binary(table, trees=5)], "malignant",
         "parquet", EvaluationSpec(features=tuple(byom.LABS))),
        ([byom.two_input_network(table)], "size_mm", "csv", EvaluationSpec(
            task=Task.REGRESSION, inputs={"vitals": ("age",), "labs": tuple(byom.LABS)})),
    ]
    runs: list[int] = []
    real = evaluate_pool.ort.InferenceSession.run
    for models, label, fmt, spec in cases:
        whole = score(models, table, label, spec, fmt, 1)
        monkeypatch.setattr(evaluate_pool, "SCORE_ROWS", 7)
        monkeypatch.setattr(evaluate_pool.ort.InferenceSession, "run",
                            lambda self, *a, **k: runs.append(1) or real(self, *a, **k))
        sliced = score(models, table, label, spec, fmt, 1)
        monkeypatch.undo()
        assert sliced == whole
    assert len(runs) > 3000 // 7  # the slices were run
