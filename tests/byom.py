"""Models as the converters write them, and a hospital-like table to release them on.

Everything is generated here (no downloads): a table with a patient id, a
ZIP, an age, lab values, a binary, a three-class and a continuous target;
models trained on its training rows and exported with skl2onnx, onnxmltools
(LightGBM, XGBoost) or built with ``onnx.helper`` in the shape
``torch.onnx.export`` writes (named inputs, dynamic batch axis).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from onnx import TensorProto, helper, numpy_helper

LABS = ["radius", "texture", "smoothness", "concavity"]
ZIPS = ["02139", "10027", "94110", "60614", "73301"]
POLICY = """format: tabular
patient_id: patient_id
token_mode: vault
fields:
  patient_id: {action: token, placeholder: MRN}
  zip: {action: generalize, kind: zip3}
  age: {action: generalize, kind: age}
  radius: {action: keep}
  texture: {action: keep}
  smoothness: {action: keep}
  concavity: {action: keep}
  diagnosis: {action: keep}
  malignant: {action: keep}
  grade: {action: keep}
  size_mm: {action: keep}
  split: {action: keep}
"""


def make_table(rows: int = 600, seed: int = 3) -> pa.Table:
    """A table whose targets depend on the labs (models score well above chance)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (rows, len(LABS)))
    age = rng.integers(20, 99, rows)
    z = 1.5 * x[:, 0] + 1.0 * x[:, 1] - 0.8 * x[:, 2] + rng.normal(0, 0.7, rows)
    diagnosis = np.where(z > 0, "malignant", "benign")
    grade = np.array(["low", "mid", "high"])[np.digitize(z, [-0.7, 0.7])]
    size = 20 + 6 * x[:, 0] + 3 * x[:, 3] + 0.05 * age + rng.normal(0, 1, rows)
    cols: dict[str, object] = {
        "patient_id": [f"P{i:06d}" for i in range(rows)],
        "zip": np.array(ZIPS)[rng.integers(0, len(ZIPS), rows)],
        "age": age.astype(np.int64)}
    cols.update({n: x[:, i].round(4) for i, n in enumerate(LABS)})
    cols.update({"diagnosis": diagnosis, "malignant": (z > 0).astype(np.int64),
                 "grade": grade, "size_mm": size.round(3),
                 "split": np.where(np.arange(rows) % 3 == 0, "test", "train")})
    return pa.table(cols)


def cohort(folder: Path, rows: int = 300, fmt: str = "parquet") -> tuple[pa.Table, Path, Path]:
    """A release's inputs in ``folder``: the table, it written as ``cohort.<fmt>``, and
    ``policy.yaml`` (``POLICY``); what every BYOM release test starts from."""
    table = make_table(rows)
    policy = folder / "policy.yaml"
    policy.write_text(POLICY)
    return table, write_table(table, folder / f"cohort.{fmt}"), policy


def write_table(table: pa.Table, path: Path) -> Path:
    """CSV or Parquet by suffix."""
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return path


def train_rows(table: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    return table.filter(pc.equal(table.column("split"), "train"))


def xy(table: pa.Table, features: list[str], target: str) -> tuple[np.ndarray, np.ndarray]:
    t = train_rows(table)
    x = np.column_stack([t.column(c).to_numpy().astype(np.float32) for c in features])
    return x, t.column(target).to_numpy(zero_copy_only=False)


def skl_logistic(table: pa.Table, zipmap: bool = True) -> onnx.ModelProto:
    """StandardScaler + LogisticRegression via ``skl2onnx.to_onnx`` (defaults: ZipMap on)."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = xy(table, LABS, "diagnosis")
    clf = LogisticRegression(max_iter=500)
    pipe = make_pipeline(StandardScaler(), clf).fit(x, y)
    options = None if zipmap else {id(clf): {"zipmap": False}}
    return to_onnx(pipe, x[:1], options=options, target_opset=17)


def skl_column_transformer(table: pa.Table) -> onnx.ModelProto:
    """A Pipeline with a ColumnTransformer: one named input per column (ZIP3 as text)."""
    import pandas as pd
    from skl2onnx import to_onnx
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    t = train_rows(table)
    frame = pd.DataFrame({c: t.column(c).to_numpy().astype(np.float32) for c in LABS[:3]})
    frame["zip"] = [z[:3] for z in t.column("zip").to_pylist()]  # as pseudonymized: ZIP3
    y = t.column("diagnosis").to_numpy(zero_copy_only=False)
    pre = ColumnTransformer([("num", StandardScaler(), LABS[:3]),
                             ("zip", OneHotEncoder(handle_unknown="ignore"), ["zip"])])
    pipe = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(frame, y)
    return to_onnx(pipe, frame[:1], target_opset=17)


def lightgbm_multiclass(table: pa.Table, target: str = "grade", trees: int = 30,
                        seed: int = 0) -> onnx.ModelProto:
    """LightGBM three-class classifier via onnxmltools (ZipMap output), trained on ``target``."""
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    x, y = xy(table, LABS, target)
    clf = lgb.LGBMClassifier(n_estimators=trees, num_leaves=8, verbose=-1,
                             random_state=seed).fit(x, y)
    return convert_lightgbm(clf, initial_types=[("input", FloatTensorType([None, len(LABS)]))],
                            target_opset=15)


def lightgbm_binary(table: pa.Table, trees: int = 50) -> onnx.ModelProto:
    """LightGBM binary classifier via onnxmltools, labels 0/1 (for the benchmark)."""
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    x, y = xy(table, LABS, "diagnosis")
    clf = lgb.LGBMClassifier(n_estimators=trees, num_leaves=15, verbose=-1)
    clf.fit(x, (y == "malignant").astype(np.int64))
    return convert_lightgbm(clf, initial_types=[("input", FloatTensorType([None, len(LABS)]))],
                            target_opset=15, zipmap=False)


def xgboost_binary(table: pa.Table) -> onnx.ModelProto:
    """XGBoost binary classifier via onnxmltools (label + probability tensor), labels 0/1."""
    import xgboost as xgb
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    x, y = xy(table, LABS, "diagnosis")
    clf = xgb.XGBClassifier(n_estimators=30, max_depth=3).fit(
        x, (y == "malignant").astype(np.int64))
    return convert_xgboost(clf, initial_types=[("input", FloatTensorType([None, len(LABS)]))],
                           target_opset=15)


def two_input_network(table: pa.Table, offset: float = 0.0) -> onnx.ModelProto:
    """A regression network in torch.onnx.export's shape: named inputs, dynamic batch.

    ``vitals`` [batch, 1] (age) and ``labs`` [batch, 4] → ``size`` [batch, 1],
    weights fitted by least squares so the prediction is good (``offset`` is added
    to every prediction: a miscalibrated model).
    """
    t = train_rows(table)
    labs = np.column_stack([t.column(c).to_numpy() for c in LABS]).astype(np.float64)
    age = t.column("age").to_numpy().astype(np.float64).reshape(-1, 1)
    a = np.column_stack([age, labs, np.ones(len(age))])
    w, *_ = np.linalg.lstsq(a, t.column("size_mm").to_numpy(), rcond=None)
    inits = [numpy_helper.from_array(w[:1].reshape(1, 1).astype(np.float32), "fc_vitals.weight"),
             numpy_helper.from_array(w[1:5].reshape(4, 1).astype(np.float32), "fc_labs.weight"),
             numpy_helper.from_array((w[5:] + offset).astype(np.float32), "fc.bias")]
    nodes = [helper.make_node("MatMul", ["vitals", "fc_vitals.weight"], ["/fc_vitals/MatMul"]),
             helper.make_node("MatMul", ["labs", "fc_labs.weight"], ["/fc_labs/MatMul"]),
             helper.make_node("Add", ["/fc_vitals/MatMul", "/fc_labs/MatMul"], ["/Add"]),
             helper.make_node("Add", ["/Add", "fc.bias"], ["size"])]
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("vitals", TensorProto.FLOAT, ["batch_size", 1]),
         helper.make_tensor_value_info("labs", TensorProto.FLOAT, ["batch_size", 4])],
        [helper.make_tensor_value_info("size", TensorProto.FLOAT, ["batch_size", 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="pytorch", producer_version="2.5.0")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def label_only(table: pa.Table) -> onnx.ModelProto:
    """A classifier exporting only its predicted label (unusable for any metric)."""
    from skl2onnx import to_onnx
    from sklearn.tree import DecisionTreeClassifier

    x, y = xy(table, LABS, "diagnosis")
    model = to_onnx(DecisionTreeClassifier(max_depth=3).fit(x, y), x[:1], target_opset=17)
    keep = model.graph.output[0]
    del model.graph.output[:]
    model.graph.output.append(keep)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    """Write a model and return its path."""
    onnx.save(model, path)
    return path
