"""The gateway records predictions per task, over real HTTP, for converter-written models.

Multiclass: rows per predicted class (arg-max of a ZipMap or a probability
tensor, by the model's class labels; classes beyond the profile count as
``(other)``). Regression: a histogram over the edges given at load time. Both
in the analysis window and in ``/metrics``, read back with prometheus_client's
own parser; both slots record on the canary's profile while a canary is loaded.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import onnx
import onnxruntime as ort
import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families

from medpipe.activities.tls import client_context
from medpipe.contracts.deploy import GatewayMetrics
from medpipe.contracts.prediction import OTHER_CLASS
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.pki import TestPKI
from tests import byom

NAME = "tumour"


@pytest.fixture
def server(tmp_path: Path, pki: TestPKI) -> Iterator[GatewayServer]:
    loader = ModelLoader(tmp_path / "cache", model_roots=(tmp_path,), allow_unsigned=True)
    srv = GatewayServer(Gateway(NAME, loader), "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert), allow_pin=True)
    srv.start_in_thread()
    yield srv
    srv.join()


@pytest.fixture
def admin(server: GatewayServer, pki: TestPKI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.admin_url, verify=client_context(pki.client_settings()),
                      timeout=30) as c:
        yield c


@pytest.fixture
def public(server: GatewayServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return byom.make_table(300)


def rows(table: pa.Table, n: int = 60) -> np.ndarray:
    return np.column_stack([table.column(c).to_numpy() for c in byom.LABS])[:n].astype(
        np.float32)


def load(admin: httpx.Client, model: onnx.ModelProto, path: Path, slot: str, version: str,
         prediction: dict[str, object]) -> None:
    byom.save(model, path)
    body = {"slot": slot, "name": NAME, "version": version, "model_uri": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "prediction": prediction}
    r = admin.post("/admin/models", json=body)
    assert r.status_code == 200, r.text


def infer(public: httpx.Client, inputs: dict[str, np.ndarray], slot: str = "stable") -> None:
    body = {"inputs": [{"name": k, "shape": list(v.shape), "datatype": "FP32",
                        "data": v.ravel().tolist()} for k, v in inputs.items()]}
    r = public.post(f"/v2/models/{NAME}/infer", json=body, headers={"x-medpipe-slot": slot})
    assert r.status_code == 200, r.text


def predicted_classes(path: Path, x: np.ndarray, input_name: str) -> Counter[str]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label = session.run([session.get_outputs()[0].name], {input_name: x})[0]
    return Counter(str(v) for v in label)


def scrape(public: httpx.Client) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(public.get("/metrics").text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def test_multiclass_zipmap_counts_predicted_classes(
        tmp_path: Path, admin: httpx.Client, public: httpx.Client, table: pa.Table) -> None:
    path = tmp_path / "lgbm.onnx"
    load(admin, byom.lightgbm_multiclass(table), path, "stable", "1",
         {"task": "multiclass", "classes": ["high", "low", "mid"]})
    x = rows(table)
    for i in range(0, len(x), 10):
        infer(public, {"input": x[i:i + 10]})
    expected = predicted_classes(path, x, "input")
    assert len(expected) == 3  # all three classes are predicted: the test can tell them apart
    window = GatewayMetrics.model_validate(admin.get("/admin/metrics").json()).stable
    assert window.task == "multiclass" and window.classes == ["high", "low", "mid", OTHER_CLASS]
    assert dict(zip(window.classes, window.class_counts, strict=True)) == \
        {**expected, OTHER_CLASS: 0}
    assert sum(window.prediction_counts) == 0  # no binary score histogram for 3 classes
    samples = scrape(public)["medpipe_gateway_predicted_class_total"]
    scraped = {labels["class"]: v for labels, v in samples if labels["slot"] == "stable"}
    assert scraped == {**{k: float(v) for k, v in expected.items()}, OTHER_CLASS: 0.0}


def test_probability_tensor_uses_graph_classes_and_bounds_the_rest_as_other(
        tmp_path: Path, admin: httpx.Client, public: httpx.Client, table: pa.Table) -> None:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x_train, y = byom.xy(table, byom.LABS, "grade")
    clf = LogisticRegression(max_iter=500).fit(x_train, y)
    model = to_onnx(clf, x_train[:1], options={id(clf): {"zipmap": False}}, target_opset=17)
    path = tmp_path / "skl.onnx"
    load(admin, model, path, "stable", "1", {"task": "multiclass", "classes": ["high", "low"]})
    x = rows(table)
    infer(public, {"X": x})
    expected = predicted_classes(path, x, "X")
    assert expected["mid"] > 0
    window = GatewayMetrics.model_validate(admin.get("/admin/metrics").json()).stable
    assert dict(zip(window.classes, window.class_counts, strict=True)) == {
        "high": expected["high"], "low": expected["low"], OTHER_CLASS: expected["mid"]}


def test_regression_histogram_over_the_edges_given_at_load(
        tmp_path: Path, admin: httpx.Client, public: httpx.Client, table: pa.Table) -> None:
    path = tmp_path / "net.onnx"
    edges = [18.0, 21.0, 24.0]
    load(admin, byom.two_input_network(table), path, "stable", "1",
         {"task": "regression", "edges": edges})
    labs = rows(table)
    vitals = table.column("age").to_numpy()[:len(labs)].astype(np.float32).reshape(-1, 1)
    for i in range(5):  # single rows (the usual request) and batches are binned alike
        infer(public, {"vitals": vitals[i:i + 1], "labs": labs[i:i + 1]})
    for i in range(5, len(labs), 20):
        infer(public, {"vitals": vitals[i:i + 20], "labs": labs[i:i + 20]})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    values = session.run(None, {"vitals": vitals, "labs": labs})[0].ravel()
    expected = np.bincount(np.searchsorted(edges, values, side="left"), minlength=4)
    assert (expected > 0).sum() >= 3  # the values spread over the bins
    window = GatewayMetrics.model_validate(admin.get("/admin/metrics").json()).stable
    assert window.task == "regression" and window.value_edges == edges
    assert window.value_counts == expected.tolist()
    metrics = scrape(public)
    buckets = {labels["le"]: v for labels, v in metrics["medpipe_gateway_prediction_value_bucket"]
               if labels["slot"] == "stable"}
    assert buckets == {"18.0": expected[0], "21.0": expected[:2].sum(),
                       "24.0": expected[:3].sum(), "+Inf": len(values)}
    total = next(v for labels, v in metrics["medpipe_gateway_prediction_value_sum"]
                 if labels["slot"] == "stable")
    assert total == pytest.approx(float(values.astype(np.float64).sum()), rel=1e-5)


def test_both_slots_record_on_the_canarys_profile_until_it_goes(
        tmp_path: Path, admin: httpx.Client, public: httpx.Client, table: pa.Table) -> None:
    load(admin, byom.lightgbm_multiclass(table), tmp_path / "a.onnx", "stable", "1",
         {"task": "multiclass", "classes": ["high", "low", "mid"]})
    load(admin, byom.lightgbm_multiclass(table, trees=40, seed=1), tmp_path / "b.onnx",
         "canary", "2", {"task": "multiclass", "classes": ["low", "high"]})
    x = rows(table, 30)
    infer(public, {"input": x}, "stable")
    infer(public, {"input": x}, "canary")
    m = GatewayMetrics.model_validate(admin.get("/admin/metrics").json())
    assert m.stable.classes == m.canary.classes == ["low", "high", OTHER_CLASS]
    assert sum(m.stable.class_counts) == sum(m.canary.class_counts) == 30
    assert admin.post("/admin/rollback", json={"reason": "test"}).status_code == 200
    m = GatewayMetrics.model_validate(admin.get("/admin/metrics").json())
    assert m.stable.classes == ["high", "low", "mid", OTHER_CLASS]


def test_a_restarted_gateway_records_on_the_recorded_profile(tmp_path: Path,
                                                             table: pa.Table) -> None:
    import asyncio

    from medpipe.contracts.deploy import LoadModelRequest, Slot
    from medpipe.contracts.evaluate import Task
    from medpipe.contracts.prediction import PredictionProfile
    from medpipe.workers.gateway.state import ServingStateFile

    path = byom.save(byom.two_input_network(table), tmp_path / "net.onnx")
    profile = PredictionProfile(task=Task.REGRESSION, edges=(18.0, 21.0, 24.0))
    req = LoadModelRequest(slot=Slot.STABLE, name=NAME, version="1", model_uri=str(path),
                           sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                           prediction=profile)

    def gateway() -> Gateway:
        return Gateway(NAME, ModelLoader(tmp_path / "cache", model_roots=(tmp_path,),
                                         allow_unsigned=True),
                       ServingStateFile(tmp_path / "serving.json"))

    asyncio.run(gateway().load(req))
    restarted = gateway()
    assert asyncio.run(restarted.restore()) == {}
    window = restarted.metrics().stable
    assert window.task == "regression" and window.value_edges == [18.0, 21.0, 24.0]
