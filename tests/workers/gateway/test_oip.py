"""Open Inference Protocol v2 REST conformance over a real uvicorn server."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path

import httpx
import numpy as np
import onnxruntime as ort
import pytest

from medpipe.activities.tls import client_context
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import (
    FEATURES,
    MODEL_NAME,
    Models,
    infer_body,
    unsigned_loader,
)

ROWS = [[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 2.0, 0.5], [0.0, 0.0, 0.0, 0.0]]


def test_health_before_any_model_is_loaded(public: httpx.Client) -> None:
    assert public.get("/v2/health/live").status_code == 200
    r = public.get("/v2/health/ready")
    assert r.status_code == 400 and r.json() == {"ready": False}  # OIP: 4xx when not ready
    assert public.get(f"/v2/models/{MODEL_NAME}/ready").status_code == 400
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(ROWS))
    assert r.status_code == 503 and "no stable version loaded" in r.json()["error"]


def test_metadata_describes_the_onnx_signature(public: httpx.Client, loaded: httpx.Client) -> None:
    assert public.get("/v2/health/ready").status_code == 200
    r = public.get(f"/v2/models/{MODEL_NAME}/ready")
    assert r.status_code == 200 and r.json()["ready"] is True
    meta = public.get(f"/v2/models/{MODEL_NAME}").json()
    assert meta["name"] == MODEL_NAME and meta["versions"] == ["1"]
    assert meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, FEATURES]}]
    assert meta["outputs"] == [{"name": "probability", "datatype": "FP32", "shape": [-1, 1]}]
    assert public.get(f"/v2/models/{MODEL_NAME}/versions/1").json()["name"] == MODEL_NAME


def test_infer_matches_onnxruntime(public: httpx.Client, loaded: httpx.Client,
                                   models: Models) -> None:
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(ROWS))
    assert r.status_code == 200, r.text
    assert r.headers["x-medpipe-slot"] == "stable"
    body = r.json()
    assert body["model_name"] == MODEL_NAME and body["model_version"] == "1"
    assert body["id"] == "req-1"
    assert body["parameters"] == {"slot": "stable", "model_version": "1"}
    [out] = body["outputs"]
    assert out["name"] == "probability" and out["datatype"] == "FP32"
    assert out["shape"] == [3, 1]
    session = ort.InferenceSession(str(models.stable.path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"features": np.asarray(ROWS, dtype=np.float32)})[0]
    assert np.allclose(np.asarray(out["data"]).reshape(3, 1), expected, atol=1e-6)


def test_infer_by_version_and_requested_outputs(public: httpx.Client,
                                                loaded: httpx.Client) -> None:
    body = infer_body(ROWS[:1]) | {"outputs": [{"name": "probability"}]}
    r = public.post(f"/v2/models/{MODEL_NAME}/versions/1/infer", json=body)
    assert r.status_code == 200 and r.json()["outputs"][0]["shape"] == [1, 1]
    r = public.post(f"/v2/models/{MODEL_NAME}/versions/9/infer", json=body)
    assert r.status_code == 404 and "version '9'" in r.json()["error"]


def _input(**overrides: object) -> dict[str, object]:
    item: dict[str, object] = {"name": "features", "shape": [1, FEATURES], "datatype": "FP32",
                               "data": [0.1, 0.2, 0.3, 0.4]}
    item.update(overrides)
    return {"inputs": [item]}


BAD_REQUESTS = {
    "wrong input name": (_input(name="age"), "no input 'age'"),
    "wrong rank": (_input(shape=[FEATURES]), "model expects [-1, 4]"),
    "wrong feature count": (_input(shape=[1, 3], data=[1, 2, 3]), "model expects [-1, 4]"),
    "data does not fill shape": (_input(shape=[2, FEATURES]), "needs 8"),
    "wrong datatype": (_input(datatype="FP64"), "model expects FP32"),
    "unknown datatype": (_input(datatype="COMPLEX"), "model expects FP32"),
    "non-numeric data": (_input(data=["a", "b", "c", "d"]), "not FP32"),
    "null data": (_input(data=[None, 1, 2, 3]), "null"),
    "negative shape": (_input(shape=[-1, FEATURES]), "non-negative"),
    "no inputs": ({"inputs": []}, "non-empty 'inputs'"),
    "not an object": ([1, 2], "JSON object"),
    "duplicate input": ({"inputs": [_input()["inputs"][0]] * 2}, "given twice"),  # type: ignore[index]
    "unknown output": (_input() | {"outputs": [{"name": "logits"}]}, "no output 'logits'"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_client_errors_are_400_with_a_message(public: httpx.Client, loaded: httpx.Client,
                                              case: str) -> None:
    body, fragment = BAD_REQUESTS[case]
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]


def test_malformed_json_unknown_model_and_bad_pin(public: httpx.Client,
                                                  loaded: httpx.Client) -> None:
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    r = public.post("/v2/models/other/infer", json=_input())
    assert r.status_code == 404 and "unknown model 'other'" in r.json()["error"]
    assert public.get("/v2/models/other").status_code == 404
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=_input(),
                    headers={"x-medpipe-slot": "blue"})
    assert r.status_code == 400 and "x-medpipe-slot" in r.json()["error"]
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=_input(),
                    headers={"x-medpipe-slot": "canary"})
    assert r.status_code == 503
    assert public.get(f"/v2/models/{MODEL_NAME}/infer").status_code == 405
    assert public.get("/v3/nothing").json()["error"].startswith("no such endpoint")


def test_metrics_exposed_per_slot(public: httpx.Client, loaded: httpx.Client) -> None:
    for _ in range(5):
        assert public.post(f"/v2/models/{MODEL_NAME}/infer",
                           json=infer_body(ROWS)).status_code == 200
    public.post(f"/v2/models/{MODEL_NAME}/infer", json=_input(datatype="INT64"))
    text = public.get("/metrics").text
    assert 'medpipe_gateway_requests_total{slot="stable"} 6.0' in text
    assert 'medpipe_gateway_errors_total{kind="client",slot="stable"} 1.0' in text
    assert 'medpipe_gateway_request_latency_seconds_count{slot="stable"} 6.0' in text
    assert 'medpipe_gateway_prediction_score_count{slot="stable"} 15.0' in text
    assert "medpipe_gateway_canary_weight_ratio 0.0" in text
    assert 'medpipe_gateway_model_info{name="readmission",provider="CPUExecutionProvider",' \
           'slot="stable",version="1"} 1.0' in text
    # the default collectors, and names as the Prometheus guide wants them
    for family in ("process_resident_memory_bytes", "process_cpu_seconds_total",
                   "python_info", "python_gc_collections_total"):
        assert f"\n{family}" in text, family
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines()
             if line.startswith("medpipe_")}
    assert all(n.endswith(("_total", "_seconds_bucket", "_seconds_sum", "_seconds_count",
                           "_ratio", "_info", "_score_bucket", "_score_sum", "_score_count",
                           # 0/1 gauges, and an enum as one 0/1 series per state
                           "_out_of_service", "_allowed", "_available", "_state"))
               for n in names), names


def test_plain_asyncio_h11_has_no_nagle_stall(tmp_path: Path, pki: TestPKI,
                                              models: Models) -> None:
    """Without uvloop/httptools, small responses must not wait on delayed ACKs (~40 ms):
    the accepted connection has TCP_NODELAY, so the response's writes leave at once.
    (The latency itself is measured by the gateway benchmark, not asserted here.)"""
    gateway = Gateway(MODEL_NAME, unsigned_loader(tmp_path, models))
    srv = GatewayServer(gateway, "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert), http="h11")
    srv.start_in_thread(loop="asyncio")
    try:
        ctx = client_context(pki.client_settings())
        r = httpx.post(f"{srv.admin_url}/admin/models", json=models.stable.request(), verify=ctx)
        assert r.status_code == 200, r.text
        conn = http.client.HTTPConnection("127.0.0.1", srv.port)
        body = json.dumps(infer_body(ROWS)).encode()
        for _ in range(5):  # one keep-alive connection, as a client reuses it
            conn.request("POST", f"/v2/models/{MODEL_NAME}/infer", body,
                         {"content-type": "application/json"})
            assert conn.getresponse().read()
        connections = list(srv._public.server_state.connections)
        assert len(connections) == 1
        accepted = connections[0].transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        conn.close()
    finally:
        srv.join()


def test_large_batch_runs_in_the_thread_pool(public: httpx.Client, loaded: httpx.Client) -> None:
    rows = [[i / 2000, 0.5, -0.5, 1.0] for i in range(2000)]  # 8,000 elements > inline limit
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(rows))
    assert r.status_code == 200
    out = r.json()["outputs"][0]
    assert out["shape"] == [2000, 1] and len(out["data"]) == 2000
    assert all(0.0 < p < 1.0 for p in out["data"])
    window = loaded.get("/admin/metrics").json()["stable"]
    assert sum(window["prediction_counts"]) == 2000
