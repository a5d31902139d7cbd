"""Fixtures: tiny ONNX models made here, a throw-away PKI, and a real gateway on free ports."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from medpipe.activities.tls import client_context
from medpipe.contracts.deploy import Slot
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.pki import TestPKI, make_test_pki

FEATURES = 4
MODEL_NAME = "readmission"


def write_logreg(path: Path, weights: list[float], bias: float,
                 declared_features: int | str = FEATURES) -> str:
    """Logistic regression (MatMul + Add + Sigmoid) over FEATURES floats; returns sha256.

    ``declared_features="n"`` declares a dynamic feature dimension the weights cannot
    honour: a defective model that fails at run time on a wrong-width row.
    """
    w = numpy_helper.from_array(np.asarray(weights, dtype=np.float32).reshape(FEATURES, 1), "w")
    b = numpy_helper.from_array(np.asarray([bias], dtype=np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["logit0"]),
         helper.make_node("Add", ["logit0", "b"], ["logit"]),
         helper.make_node("Sigmoid", ["logit"], ["probability"])],
        "logreg",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT,
                                       ["batch", declared_features])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])],
        initializer=[w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class ModelFile:
    path: Path
    sha256: str
    version: str

    def request(self, slot: str = Slot.STABLE, **overrides: object) -> dict[str, object]:
        body: dict[str, object] = {"slot": slot, "name": MODEL_NAME, "version": self.version,
                                   "model_uri": str(self.path), "sha256": self.sha256}
        body.update(overrides)
        return body


@dataclass(frozen=True)
class Models:
    stable: ModelFile
    canary: ModelFile
    garbage: ModelFile
    defective: ModelFile


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("gateway-models")
    stable = root / "v1.onnx"
    canary = root / "v2.onnx"
    garbage = root / "garbage.onnx"
    garbage.write_bytes(b"this is not an onnx protobuf" * 10)
    defective = root / "defective.onnx"
    return Models(
        ModelFile(stable, write_logreg(stable, [0.5, -0.25, 0.125, 1.0], -0.1), "1"),
        ModelFile(canary, write_logreg(canary, [1.5, 0.75, -0.5, 2.0], 0.9), "2"),
        ModelFile(garbage, hashlib.sha256(garbage.read_bytes()).hexdigest(), "bad"),
        ModelFile(defective, write_logreg(defective, [1.0] * FEATURES, 0.0, "n"), "3"))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def server(tmp_path: Path, pki: TestPKI, models: Models) -> Iterator[GatewayServer]:
    """A running gateway (stable = v1) on free ports, stopped at teardown."""
    gateway = Gateway(MODEL_NAME, ModelLoader(tmp_path / "cache"))
    srv = GatewayServer(gateway, "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    yield srv
    srv.join()


@pytest.fixture
def public(server: GatewayServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


@pytest.fixture
def admin(server: GatewayServer, pki: TestPKI) -> Iterator[httpx.Client]:
    ctx = client_context(pki.client_settings())
    with httpx.Client(base_url=server.admin_url, verify=ctx, timeout=30) as c:
        yield c


@pytest.fixture
def loaded(admin: httpx.Client, models: Models) -> httpx.Client:
    """Admin client after loading v1 as stable."""
    r = admin.post("/admin/models", json=models.stable.request())
    assert r.status_code == 200, r.text
    return admin


def infer_body(rows: list[list[float]], datatype: str = "FP32",
               name: str = "features") -> dict[str, object]:
    return {"id": "req-1", "inputs": [{"name": name, "shape": [len(rows), FEATURES],
                                       "datatype": datatype,
                                       "data": [v for r in rows for v in r]}]}
