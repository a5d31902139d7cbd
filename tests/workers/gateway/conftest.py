"""Fixtures: tiny ONNX models made here, a throw-away PKI, and a real gateway on free ports."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from medpipe.activities.keys import open_provider
from medpipe.activities.signing.oms import sign_model
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


def unsigned_loader(tmp_path: Path, models: Models, **kwargs: object) -> ModelLoader:
    """A loader for the unsigned test models (their folder is the only model root)."""
    return ModelLoader(tmp_path / "cache", model_roots=(models.stable.path.parent,),
                       allow_unsigned=True, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path, pki: TestPKI, models: Models) -> Iterator[GatewayServer]:
    """A running gateway (unsigned models allowed; slot pinning on) on free ports."""
    gateway = Gateway(MODEL_NAME, unsigned_loader(tmp_path, models))
    srv = GatewayServer(gateway, "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert), allow_pin=True)
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


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """Two signing keys in a local keyring: the one the gateway trusts and a stranger's."""
    provider = open_provider(f"local://{tmp_path / 'keys' / 'keyring.json'}")
    out = {}
    for name in ("ours", "stranger"):
        provider.create_signing_key(name)
        out[name] = tmp_path / f"{name}.pub.pem"
        out[name].write_bytes(provider.public_key_pem(name))
    out["keyring"] = tmp_path / "keys" / "keyring.json"
    return out


def signed_copy(source: Path, folder: Path, keys: dict[str, Path], key: str,
                identity: dict[str, str] | None = None) -> tuple[Path, Path]:
    """A copy of ``source`` as ``folder/model.onnx`` and its OMS bundle, signed by ``key``
    for ``identity`` (default: model readmission, version 1, release rel-1)."""
    folder.mkdir(parents=True)
    model = folder / "model.onnx"
    shutil.copy(source, model)
    bundle = folder / "model.onnx.sig"
    ident = {"model": MODEL_NAME, "version": "1", "release_id": "rel-1"}
    sign_model(model, bundle, open_provider(f"local://{keys['keyring']}"), key,
               identity=ident if identity is None else identity)
    return model, bundle
