"""The evaluate stage on models as the converters write them (real onnxruntime, no mocks).

Each model is generated here and scored through ``score_dataset`` on CSV and
Parquet bytes; the refusals name the model or column and what was expected.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities.evaluate import CPU, load_model, score_dataset
from medpipe.contracts.errors import DatasetMismatch, InvalidModel
from medpipe.contracts.evaluate import EvaluationSpec, OutputKind, Task
from tests import byom


@pytest.fixture(scope="module")
def table() -> pa.Table:
    t = byom.make_table(900)
    # as pseudonymized: ZIP3 text
    return t.set_column(t.schema.get_field_index("zip"), "zip",
                        pc.utf8_slice_codeunits(t.column("zip"), 0, 3))


def as_bytes(table: pa.Table, fmt: str) -> bytes:
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink, row_group_size=128)
    else:
        pacsv.write_csv(table, sink)
    return sink.getvalue()


def run(model: onnx.ModelProto, table: pa.Table, label: str, spec: EvaluationSpec,
        fmt: str = "csv", baseline: onnx.ModelProto | None = None) -> list[Any]:
    models = [load_model(model.SerializeToString(), [CPU], "model", spec)]
    if baseline is not None:
        models.append(load_model(baseline.SerializeToString(), [CPU], "model in service", spec))
    data = as_bytes(table, fmt)
    chunks = (data[i:i + 4096] for i in range(0, len(data), 4096))
    return [(m.output, r.metrics()) for m, r in
            zip(models, score_dataset(models, chunks, fmt, label, spec), strict=True)]


BINARY = EvaluationSpec(task=Task.BINARY, features=tuple(byom.LABS), positive_class="malignant")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("zipmap,kind", [(True, OutputKind.ZIPMAP),
                                         (False, OutputKind.PROBABILITIES)])
def test_skl2onnx_logistic_reads_probabilities_not_label(
        table: pa.Table, fmt: str, zipmap: bool, kind: OutputKind) -> None:
    [(choice, m)] = run(byom.skl_logistic(table, zipmap=zipmap), table, "diagnosis", BINARY, fmt)
    assert choice.output == ("output_probability" if zipmap else "probabilities")
    assert choice.kind is kind and choice.classes == ("benign", "malignant")
    assert "output_label" in choice.reason or "label" in choice.reason
    assert m.task is Task.BINARY and m.rows == 300
    assert m.auroc is not None and m.auroc > 0.9 and m.accuracy is not None and m.accuracy > 0.8


def test_positive_class_flips_the_score(table: pa.Table) -> None:
    spec = BINARY.model_copy(update={"positive_class": "benign"})
    [(_, m)] = run(byom.skl_logistic(table), table, "diagnosis", spec)
    [(_, m2)] = run(byom.skl_logistic(table), table, "diagnosis", BINARY)
    assert m.auroc == pytest.approx(m2.auroc, abs=1e-6)  # AUROC is symmetric in the class
    assert m.calibration_error is not None and m.calibration_error < 0.2


def test_column_transformer_one_input_per_column_with_zip3(table: pa.Table) -> None:
    model = byom.skl_column_transformer(table)
    assert [i.name for i in model.graph.input] == [*byom.LABS[:3], "zip"]
    [(choice, m)] = run(model, table, "diagnosis", EvaluationSpec(), "parquet")
    assert choice.kind is OutputKind.ZIPMAP and m.auroc is not None and m.auroc > 0.9


def test_lightgbm_multiclass(table: pa.Table) -> None:
    spec = EvaluationSpec(task=Task.MULTICLASS, features=tuple(byom.LABS))
    [(choice, m)] = run(byom.lightgbm_multiclass(table), table, "grade", spec, "parquet")
    assert choice.kind is OutputKind.ZIPMAP and set(choice.classes) == {"low", "mid", "high"}
    assert m.task is Task.MULTICLASS and m.auroc is not None and m.auroc > 0.8
    assert m.weighted_auroc is not None and set(m.per_class_recall) == {"low", "mid", "high"}
    assert m.accuracy is not None and 0.5 < m.accuracy <= 1
    assert m.calibration_error is not None and 0 <= m.calibration_error < 0.5


@pytest.mark.parametrize("build", [byom.xgboost_binary, byom.lightgbm_binary])
def test_boosted_binary_with_baseline_on_same_rows(
        table: pa.Table, build: Callable[[pa.Table], onnx.ModelProto]) -> None:
    spec = EvaluationSpec(features=tuple(byom.LABS))
    (choice, m), (_, b) = run(build(table), table, "malignant", spec, "parquet",
                              baseline=byom.lightgbm_binary(table, trees=5))
    assert choice.kind is OutputKind.PROBABILITIES and choice.classes == ("0", "1")
    assert m.auroc is not None and m.auroc > 0.85 and b.rows == m.rows == 300


def test_two_input_network_regression(table: pa.Table) -> None:
    spec = EvaluationSpec(task=Task.REGRESSION,
                          inputs={"vitals": ("age",), "labs": tuple(byom.LABS)})
    [(choice, m)] = run(byom.two_input_network(table), table, "size_mm", spec, "parquet")
    assert choice.kind is OutputKind.SCORE and choice.output == "size"
    assert m.task is Task.REGRESSION and m.r2 is not None and m.r2 > 0.8
    assert m.mae is not None and m.rmse is not None and 0 < m.mae <= m.rmse < 2
    assert m.auroc is None


def test_top_coded_age_text_is_a_usable_feature(table: pa.Table) -> None:
    age = pc.cast(table.column("age"), pa.string())
    coded = table.set_column(table.schema.get_field_index("age"), "age",
                             pc.if_else(pc.greater(table.column("age"), 89), "90+", age))
    spec = EvaluationSpec(task=Task.REGRESSION,
                          inputs={"vitals": ("age",), "labs": tuple(byom.LABS)})
    [(_, m)] = run(byom.two_input_network(table), coded, "size_mm", spec, "csv")
    assert m.r2 is not None and m.r2 > 0.8


# -- refusals --------------------------------------------------------------------
def test_model_with_only_a_label_output_is_refused(table: pa.Table) -> None:
    with pytest.raises(InvalidModel, match=r"no output usable for a binary task.*output_label"):
        run(byom.label_only(table), table, "diagnosis", BINARY)


def test_classifier_refused_for_regression(table: pa.Table) -> None:
    with pytest.raises(InvalidModel, match=r"regression task.*predicted values"):
        run(byom.skl_logistic(table, zipmap=False), table, "size_mm",
            EvaluationSpec(task=Task.REGRESSION, features=tuple(byom.LABS)))


def test_missing_feature_is_refused_naming_the_column(table: pa.Table) -> None:
    with pytest.raises(DatasetMismatch, match=r"lacks column 'concavity'.*input 'labs'"):
        run(byom.two_input_network(table), table.drop_columns(["concavity"]), "size_mm",
            EvaluationSpec(task=Task.REGRESSION,
                           inputs={"vitals": ("age",), "labs": tuple(byom.LABS)}))


def test_label_with_unknown_class_is_refused(table: pa.Table) -> None:
    relabelled = table.set_column(
        table.schema.get_field_index("grade"), "grade",
        pc.if_else(pc.equal(table.column("grade"), "high"), "severe", table.column("grade")))
    with pytest.raises(DatasetMismatch, match=r"'grade' has classes model does not know: "
                                              r"'severe'"):
        run(byom.lightgbm_multiclass(table), relabelled, "grade",
            EvaluationSpec(task=Task.MULTICLASS, features=tuple(byom.LABS)))


def test_non_numeric_regression_label_is_refused(table: pa.Table) -> None:
    with pytest.raises(DatasetMismatch, match=r"regression label column 'grade' is not numeric"):
        run(byom.two_input_network(table), table, "grade",
            EvaluationSpec(task=Task.REGRESSION,
                           inputs={"vitals": ("age",), "labs": tuple(byom.LABS)}))


def test_text_column_fed_to_numbers_is_refused(table: pa.Table) -> None:
    with pytest.raises(DatasetMismatch, match=r"column 'diagnosis' holds text"):
        run(byom.skl_logistic(table), table, "malignant",
            EvaluationSpec(features=("radius", "texture", "smoothness", "diagnosis")))


def test_metrics_are_exact_against_numpy(table: pa.Table) -> None:
    spec = EvaluationSpec(task=Task.REGRESSION,
                          inputs={"vitals": ("age",), "labs": tuple(byom.LABS)})
    model = byom.two_input_network(table)
    [(_, m)] = run(model, table, "size_mm", spec)
    import onnxruntime as ort

    test = table.filter(pc.equal(table.column("split"), "test"))
    sess = ort.InferenceSession(model.SerializeToString(), providers=[CPU])
    pred = sess.run(None, {
        "vitals": test.column("age").to_numpy().astype(np.float32).reshape(-1, 1),
        "labs": np.column_stack([test.column(c).to_numpy() for c in byom.LABS]).astype(
            np.float32)})[0].reshape(-1)
    y = test.column("size_mm").to_numpy()
    assert m.mae == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-6)
    assert m.rmse == pytest.approx(float(np.sqrt(np.mean((pred - y) ** 2))), rel=1e-6)


def test_each_batch_is_converted_to_model_inputs_once(table: pa.Table,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidate's inputs are converted once per batch: the reference profile reads every
    row's, scoring takes the held-out rows' from them (it converted them a second time); a
    baseline's inputs, bound on its own, are converted for the held-out rows only."""
    from medpipe.activities import evaluate

    converted: list[int] = []
    real = evaluate.feeds

    def counting(bindings: Any, batch: pa.RecordBatch) -> dict[str, np.ndarray]:
        converted.append(batch.num_rows)
        return real(bindings, batch)

    monkeypatch.setattr(evaluate, "feeds", counting)
    model = byom.skl_logistic(table, zipmap=False)
    alone = run(model, table, "diagnosis", BINARY, fmt="parquet")
    assert converted == [128] * 7 + [4]  # the row groups, each once
    converted.clear()
    both = run(model, table, "diagnosis", BINARY, fmt="parquet", baseline=model)
    held = alone[0][1].rows
    assert converted[::2] == [128] * 7 + [4] and sum(converted[1::2]) == held
    figures = [m.model_copy(update={"latency_ms_per_1k_rows": 0.0})
               for _, m in (*alone, *both)]
    assert figures[0] == figures[1] == figures[2] and held > 100
