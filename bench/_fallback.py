"""Fallback figures for ``bench/gateway.py``: what a caller pays when the fallback answers.

One gateway process serves the sample model as ``previous`` and, as stable, the same
model behind a tripwire (a real ONNX check that makes the run fail for rows whose
first feature is out of range). Sequential one-row predictions over one keep-alive
connection measure p50/p99 of: the stable model answering; the fallback answering
after the stable model failed the same request (breaker kept closed); and the
fallback answering directly while the breaker is open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

#: rows whose first feature is above this fail the tripwire model
TRIP = 1.0e6


def tripwire(base: Path, out: Path) -> str:
    """``base`` with a Reshape the runtime refuses when any row's first feature > TRIP."""
    model = onnx.load(base)
    width = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    source = model.graph.input[0].name
    model.graph.initializer.extend([numpy_helper.from_array(np.asarray(v, dt), n) for n, v, dt in (
        ("t_col", 0, np.int64), ("t_limit", TRIP, np.float32), ("t_width", [width], np.int64),
        ("t_rows", [-1], np.int64))])
    for node in model.graph.node:
        node.input[:] = ["t_checked" if i == source else i for i in node.input]
    checks = [
        helper.make_node("Gather", [source, "t_col"], ["t_x0"], axis=1),
        helper.make_node("Greater", ["t_x0", "t_limit"], ["t_over"]),
        helper.make_node("Cast", ["t_over"], ["t_over_i"], to=onnx.TensorProto.INT64),
        helper.make_node("ReduceMax", ["t_over_i"], ["t_trip"], keepdims=1),
        helper.make_node("Add", ["t_width", "t_trip"], ["t_cols"]),
        helper.make_node("Concat", ["t_rows", "t_cols"], ["t_target"], axis=0),
        helper.make_node("Reshape", [source, "t_target"], ["t_checked"])]
    for i, node in enumerate(checks):
        model.graph.node.insert(i, node)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def fallback_latency(tmp: Path, model: Path, digest: str, data: np.ndarray,
                     server: Callable[[list[str], int], Any],
                     latency: Callable[[int, str, np.ndarray], tuple[float, float]],
                     free_port: Callable[[], int], name: str) -> dict[str, tuple[float, float]]:
    """p50/p99 ms per path (``primary``, ``after_failure``, ``breaker_open``)."""
    import sys

    import httpx

    from medpipe.activities.tls import client_context
    from medpipe.workers.pki import make_test_pki

    trip = model.with_name("tripwire.onnx")
    trip_digest = tripwire(model, trip)
    pki = make_test_pki(tmp / "pki-fallback")
    port, admin_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(port),
           "--admin-port", str(admin_port), "--tls-cert", str(pki.server_cert),
           "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
           "--model-name", name, "--allow-unsigned", "--model-root", str(model.parent),
           "--model", str(model), "--model-sha256", digest, "--http", "httptools",
           "--loop", "uvloop"]
    bad = data.copy()
    bad[:, 0] = TRIP * 10
    out: dict[str, tuple[float, float]] = {}
    with server(cmd, port), httpx.Client(base_url=f"https://127.0.0.1:{admin_port}",
                                         verify=client_context(pki.client_settings()),
                                         timeout=30) as admin:
        r = admin.post("/admin/models", json={
            "slot": "stable", "name": name, "version": "2", "model_uri": str(trip),
            "sha256": trip_digest})
        r.raise_for_status()
        never = {"min_failures": 10**9, "open_s": 3600}
        admin.put("/admin/fallback", json={"breaker": never}).raise_for_status()
        latency(port, "json", data[:200])  # warm-up
        out["primary"] = latency(port, "json", data)
        latency(port, "json", bad[:200])
        out["after_failure"] = latency(port, "json", bad)
        admin.put("/admin/fallback", json={"breaker": {"min_failures": 1, "open_s": 3600}}
                  ).raise_for_status()
        latency(port, "json", bad[:200])  # the first failure opens it
        if admin.get("/admin/status").json()["fallback"]["breaker"] != "open":
            raise RuntimeError("the breaker did not open")
        out["breaker_open"] = latency(port, "json", bad)
    return out
