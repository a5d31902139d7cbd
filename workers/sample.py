"""A synthetic patient cohort and a model trained on it (``medpipe sample``).

Everything is generated here, deterministically from a seed: no downloads.
The cohort looks like what a hospital would hand over (identifiers, dates,
free-text notes) so that the pipeline's protections have something real to
act on; the identifiers are fabricated.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.csv as pacsv
from onnx import TensorProto, helper, numpy_helper

FEATURES = ["age", "hba1c", "ldl", "sbp", "bmi"]
LABEL = "label"

_FIRST = ["Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
          "Kemi", "Liam", "Maya", "Noor", "Oscar", "Priya", "Quinn", "Rosa", "Sven", "Tara"]
_LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Silva", "Kowalski",
         "Brennan", "Achterberg", "Castillo", "Nakamura", "Oduya", "Petrov", "Quist", "Ruiz"]
_ZIPS = ["02139", "10027", "94110", "60614", "73301", "98109", "03601", "55901", "20500", "33101"]


@dataclass(frozen=True)
class Cohort:
    """Columns of a generated cohort, as numpy arrays / lists."""

    table: pa.Table


def make_cohort(patients: int = 2000, visits: int = 3, seed: int = 7) -> Cohort:
    """Generate a longitudinal cohort: ``patients`` × ``visits`` rows.

    The label depends on the features through a known logistic model plus
    noise, so a trained model scores well above chance.
    """
    rng = np.random.default_rng(seed)
    n = patients * visits
    pid = np.repeat(np.arange(patients), visits)
    mrn = np.array([f"MRN{100000 + i:07d}" for i in range(patients)])[pid]
    first = np.array(_FIRST)[rng.integers(0, len(_FIRST), patients)][pid]
    last = np.array(_LAST)[rng.integers(0, len(_LAST), patients)][pid]
    names = np.char.add(np.char.add(first, " "), last)
    ssn = np.array([f"{rng.integers(100, 899):03d}-{rng.integers(10, 99):02d}-"
                    f"{rng.integers(1000, 9999):04d}" for _ in range(patients)])[pid]
    phone = np.array([f"({rng.integers(200, 989)}) {rng.integers(200, 999)}-"
                      f"{rng.integers(1000, 9999):04d}" for _ in range(patients)])[pid]
    email = np.char.add(np.char.add(np.char.lower(first), "."),
                        np.char.add(np.char.lower(last), "@example.org"))
    zips = np.array(_ZIPS)[rng.integers(0, len(_ZIPS), patients)][pid]
    age0 = rng.integers(18, 97, patients)
    birth = [date(2024, 1, 1) - timedelta(days=int(a * 365.25 + rng.integers(0, 365)))
             for a in age0]
    visit_day = rng.integers(0, 700, n)
    enc = [date(2023, 1, 1) + timedelta(days=int(d)) for d in visit_day]
    age = age0[pid] + (visit_day // 365)
    hba1c = np.round(rng.normal(6.0, 1.1, n), 1)
    ldl = np.round(rng.normal(120, 30, n), 0)
    sbp = np.round(rng.normal(130, 18, n), 0)
    bmi = np.round(rng.normal(28, 5, n), 1)
    z = (0.04 * (age - 55) + 0.9 * (hba1c - 6.0) + 0.015 * (ldl - 120)
         + 0.03 * (sbp - 130) + 0.05 * (bmi - 28) - 0.3 + rng.normal(0, 0.8, n))
    label = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    notes = [f"{names[i]} seen on {enc[i].isoformat()}; call {phone[i]} or {email[i]}. "
             f"HbA1c {hba1c[i]}, BP {int(sbp[i])}/80. SSN on file {ssn[i]}, {mrn[i]}."
             for i in range(n)]
    split = np.where((pid % 5) == 0, "test", "train")
    table = pa.table({
        "patient_id": mrn, "name": names, "ssn": ssn, "phone": phone, "email": email,
        "zip": zips, "birth_date": [birth[p].isoformat() for p in pid],
        "encounter_date": [d.isoformat() for d in enc], "age": age.astype(np.int64),
        "hba1c": hba1c, "ldl": ldl, "sbp": sbp, "bmi": bmi, "notes": notes,
        LABEL: label, "split": split,
    })
    return Cohort(table=table)


def feature_rows(dataset: Path, split: str | None = None) -> np.ndarray:
    """The model's feature columns of a written cohort CSV (one split, or all), as the
    rows a client would send the gateway."""
    with open(dataset, newline="") as fh:
        return np.asarray([[float(r[f]) for f in FEATURES] for r in csv.DictReader(fh)
                           if split is None or r["split"] == split], dtype=np.float32)


def train_logistic(x: np.ndarray, y: np.ndarray, steps: int = 400,
                   lr: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fit a standardised logistic regression by gradient descent.

    Returns:
        (mean, std, weights, bias) so the ONNX graph can standardise raw inputs.
    """
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mean) / std
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xs @ w + b)))
        w -= lr * xs.T @ (p - y) / len(y)
        b -= lr * float(np.mean(p - y))
    return mean, std, w, b


def build_model(mean: np.ndarray, std: np.ndarray, weights: np.ndarray, bias: float,
                features: list[str], hidden: int = 0, seed: int = 0,
                version: str = "1") -> onnx.ModelProto:
    """An ONNX graph: standardise → (optional ReLU layer) → linear → sigmoid.

    ``hidden`` > 0 adds a layer that leaves the prediction unchanged (its
    contribution is zeroed) but makes the model bigger: benchmarks use it to
    get realistic model sizes without changing the scores.
    """
    f = len(features)
    inits = [
        numpy_helper.from_array(mean.astype(np.float32).reshape(1, f), "mean"),
        numpy_helper.from_array(std.astype(np.float32).reshape(1, f), "std"),
        numpy_helper.from_array(weights.astype(np.float32).reshape(f, 1), "w"),
        numpy_helper.from_array(np.array([bias], dtype=np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centered"]),
        helper.make_node("Div", ["centered", "std"], ["scaled"]),
        helper.make_node("MatMul", ["scaled", "w"], ["linear0"]),
        helper.make_node("Add", ["linear0", "b"], ["logit"]),
    ]
    if hidden > 0:
        rng = np.random.default_rng(seed)
        inits += [
            numpy_helper.from_array(rng.normal(0, 0.1, (f, hidden)).astype(np.float32), "w1"),
            numpy_helper.from_array(rng.normal(0, 0.1, (hidden, hidden)).astype(np.float32),
                                    "w2"),
            numpy_helper.from_array(np.zeros((hidden, 1), dtype=np.float32), "w3"),
        ]
        nodes[-1] = helper.make_node("Add", ["linear0", "b"], ["logit0"])
        nodes += [
            helper.make_node("MatMul", ["scaled", "w1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["a1"]),
            helper.make_node("MatMul", ["a1", "w2"], ["h2"]),
            helper.make_node("Relu", ["h2"], ["a2"]),
            helper.make_node("MatMul", ["a2", "w3"], ["extra"]),
            helper.make_node("Add", ["logit0", "extra"], ["logit"]),
        ]
    nodes.append(helper.make_node("Sigmoid", ["logit"], ["probability"]))
    graph = helper.make_graph(
        nodes, "medpipe_risk",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", f])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="medpipe-sample")
    model.ir_version = 8
    helper.set_model_props(model, {"medpipe.features": json.dumps(features),
                                   "medpipe.label": LABEL, "medpipe.version": version})
    onnx.checker.check_model(model)
    return model


def write_sample(out_dir: Path, patients: int = 2000, visits: int = 3, seed: int = 7,
                 hidden: int = 0) -> dict[str, Path]:
    """Write ``cohort.csv``, ``model.onnx`` (v1) and ``model-v2.onnx`` to ``out_dir``.

    v2 is v1's decision function in other bytes (its version in the metadata, and
    the seed of its extra layer, which contributes nothing): another file and digest
    that the release evaluates against v1 in service, with scores equal to v1's. A
    canary of v2 is therefore judged on sampling noise alone and promotes: a
    retrained v2 shifted the scores enough to be rolled back now and then (score
    PSI 0.907 > 0.25 + 0.597 allowance on 53 vs 70 predictions). Tests and demos
    that need a shifted model build their own.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    cohort = make_cohort(patients, visits, seed)
    t = cohort.table
    train = t.filter(pa.compute.equal(t.column("split"), "train"))
    x = np.column_stack([train.column(c).to_numpy().astype(np.float64) for c in FEATURES])
    y = train.column(LABEL).to_numpy()
    mean, std, w, b = train_logistic(x, y)
    paths = {"dataset": out_dir / "cohort.csv", "model": out_dir / "model.onnx",
             "model_v2": out_dir / "model-v2.onnx"}
    pacsv.write_csv(t, paths["dataset"])
    onnx.save(build_model(mean, std, w, b, FEATURES, hidden=hidden, version="1"), paths["model"])
    onnx.save(build_model(mean, std, w, b, FEATURES, hidden=hidden, seed=1, version="2"),
              paths["model_v2"])
    return paths
