"""OIP v2 as a third-party client speaks it: ``tritonclient[http]`` (sync and aio), with
its defaults (binary tensor data both ways), JSON, every datatype, BYTES, compression,
output selection, parameters, ids, version routes and readiness codes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import onnx
import pytest
import tritonclient.http as triton
import tritonclient.http.aio as triton_aio
from onnx import TensorProto, helper
from tritonclient.utils import InferenceServerException

from medpipe.activities.tls import client_context
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.tensors import OIP_TO_NUMPY
from medpipe.workers.pki import TestPKI

ZOO = "zoo"
TYPES = {"BOOL": TensorProto.BOOL, "UINT8": TensorProto.UINT8, "UINT16": TensorProto.UINT16,
         "UINT32": TensorProto.UINT32, "UINT64": TensorProto.UINT64, "INT8": TensorProto.INT8,
         "INT16": TensorProto.INT16, "INT32": TensorProto.INT32, "INT64": TensorProto.INT64,
         "FP16": TensorProto.FLOAT16, "FP32": TensorProto.FLOAT, "FP64": TensorProto.DOUBLE,
         "BYTES": TensorProto.STRING}


def write_zoo(path: Path) -> str:
    """One Identity per OIP datatype: ``in_<T>`` [batch, 3] -> ``out_<T>``; returns sha256."""
    graph = helper.make_graph(
        [helper.make_node("Identity", [f"in_{t}"], [f"out_{t}"]) for t in TYPES], "zoo",
        [helper.make_tensor_value_info(f"in_{t}", v, ["batch", 3]) for t, v in TYPES.items()],
        [helper.make_tensor_value_info(f"out_{t}", v, ["batch", 3]) for t, v in TYPES.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sample(datatype: str, rows: int, seed: int = 0) -> np.ndarray:
    """Values that exercise each type's range (extremes, signs, non-ASCII text)."""
    rng = np.random.default_rng(seed)
    if datatype == "BYTES":
        words = np.array(["", "héllo", "naïve ✓", "a,b\"c", "x" * 300], dtype=object)
        return words[rng.integers(0, len(words), (rows, 3))]
    dtype = OIP_TO_NUMPY[datatype]
    if datatype == "BOOL":
        return rng.integers(0, 2, (rows, 3)).astype(bool)
    if dtype.kind == "f":
        return (rng.standard_normal((rows, 3)) * 100).astype(dtype)
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, (rows, 3), dtype=dtype, endpoint=True)
    values.flat[0], values.flat[-1] = info.min, info.max
    return values


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[GatewayServer]:
    root = tmp_path_factory.mktemp("zoo")
    path = root / "zoo.onnx"
    digest = write_zoo(path)
    loader = ModelLoader(root / "cache", model_roots=(root,), allow_unsigned=True)
    srv = GatewayServer(Gateway(ZOO, loader), "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    ctx = client_context(pki.client_settings())
    with httpx.Client(base_url=srv.admin_url, verify=ctx, timeout=30) as admin:
        # not ready before a model is loaded: 4xx, which tritonclient reads as False
        client = triton.InferenceServerClient(f"127.0.0.1:{srv.port}")
        assert client.is_server_live() and not client.is_server_ready()
        assert not client.is_model_ready(ZOO)
        client.close()
        r = admin.post("/admin/models", json={"slot": "stable", "name": ZOO, "version": "1",
                                              "model_uri": str(path), "sha256": digest})
        assert r.status_code == 200, r.text
    yield srv
    srv.join()


@pytest.fixture
def client(zoo: GatewayServer) -> Iterator[triton.InferenceServerClient]:
    c = triton.InferenceServerClient(f"127.0.0.1:{zoo.port}")
    yield c
    c.close()


def inputs(rows: int, binary: bool, types: list[str] | None = None
           ) -> tuple[list[triton.InferInput], dict[str, np.ndarray]]:
    sent = {t: sample(t, rows, i) for i, t in enumerate(types or list(TYPES))}
    out = []
    for t, values in sent.items():
        item = triton.InferInput(f"in_{t}", list(values.shape), t)
        item.set_data_from_numpy(values, binary_data=binary)
        out.append(item)
    return out, sent


def check(result: triton.InferResult, sent: dict[str, np.ndarray]) -> None:
    for t, values in sent.items():
        got = result.as_numpy(f"out_{t}")
        assert got is not None, t
        if t == "BYTES":  # tritonclient gives bytes for binary BYTES, str for JSON
            got = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v,
                               otypes=[object])(got)
        assert got.shape == values.shape, t
        assert np.array_equal(got, values), t


def test_metadata_and_readiness(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(ZOO) and client.is_model_ready(ZOO, "1")
    assert not client.is_model_ready(ZOO, "2")
    meta = client.get_server_metadata()
    assert {"binary_tensor_data", "parameters"} <= set(meta["extensions"])
    model = client.get_model_metadata(ZOO)
    assert model["versions"] == ["1"]
    assert {i["datatype"] for i in model["inputs"]} == set(TYPES)
    assert client.get_model_metadata(ZOO, "1")["name"] == ZOO
    with pytest.raises(InferenceServerException, match="unknown model 'nope'"):
        client.get_model_metadata("nope")


def test_defaults_binary_in_and_out_every_datatype(client: triton.InferenceServerClient
                                                   ) -> None:
    items, sent = inputs(5, binary=True)
    result = client.infer(ZOO, items)
    response = result.get_response()
    assert all("data" not in o and o["parameters"]["binary_data_size"] > 0
               for o in response["outputs"])
    check(result, sent)


def test_json_in_and_out_every_datatype(client: triton.InferenceServerClient) -> None:
    items, sent = inputs(4, binary=False)
    outputs = [triton.InferRequestedOutput(f"out_{t}", binary_data=False) for t in TYPES]
    result = client.infer(ZOO, items, outputs=outputs)
    assert all("data" in o for o in result.get_response()["outputs"])
    check(result, sent)


def test_mixed_binary_json_selection_id_parameters(client: triton.InferenceServerClient
                                                   ) -> None:
    items, sent = inputs(3, binary=True)
    items[1].set_data_from_numpy(sent["UINT8"], binary_data=False)  # JSON among binary
    outputs = [triton.InferRequestedOutput("out_FP32", binary_data=True),
               triton.InferRequestedOutput("out_BYTES", binary_data=False)]
    result = client.infer(ZOO, items, outputs=outputs, request_id="visit-42",
                          parameters={"caller": "ward-7", "priority_hint": 2})
    response = result.get_response()
    assert response["id"] == "visit-42"
    assert [o["name"] for o in response["outputs"]] == ["out_FP32", "out_BYTES"]
    assert response["parameters"]["slot"] == "stable"
    check(result, {t: sent[t] for t in ("FP32", "BYTES")})
    assert result.as_numpy("out_INT8") is None  # not requested, not sent


@pytest.mark.parametrize("request_coding", ["gzip", "deflate"])
@pytest.mark.parametrize("response_coding", ["gzip", "deflate"])
def test_compression_both_ways(client: triton.InferenceServerClient, request_coding: str,
                               response_coding: str) -> None:
    items, sent = inputs(200, binary=True)  # responses large enough to be compressed
    result = client.infer(ZOO, items, request_compression_algorithm=request_coding,
                          response_compression_algorithm=response_coding)
    check(result, sent)


def test_version_route_and_errors(client: triton.InferenceServerClient) -> None:
    items, sent = inputs(2, binary=True)
    check(client.infer(ZOO, items, model_version="1"), sent)
    with pytest.raises(InferenceServerException, match="no version '7'"):
        client.infer(ZOO, items, model_version="7")
    wrong = triton.InferInput("in_FP32", [2, 3], "FP64")
    wrong.set_data_from_numpy(np.zeros((2, 3)))
    with pytest.raises(InferenceServerException, match="model expects FP32") as e:
        client.infer(ZOO, [wrong] + items[:10] + items[11:])
    assert e.value.status() == "400"


async def test_aio_client_defaults_and_compression(zoo: GatewayServer) -> None:
    client = triton_aio.InferenceServerClient(f"127.0.0.1:{zoo.port}")
    try:
        assert await client.is_server_ready() and await client.is_model_ready(ZOO)
        items, sent = inputs(6, binary=True)
        check(await client.infer(ZOO, items), sent)
        items, sent = inputs(150, binary=False)
        outputs = [triton.InferRequestedOutput(f"out_{t}", binary_data=t != "BYTES")
                   for t in TYPES]
        result = await client.infer(ZOO, items, outputs=outputs, request_id="aio-1",
                                    request_compression_algorithm="gzip",
                                    response_compression_algorithm="gzip")
        assert result.get_response()["id"] == "aio-1"
        check(result, sent)
    finally:
        await client.close()
