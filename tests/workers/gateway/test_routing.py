"""Weighted routing between stable and canary, measured over real HTTP requests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from medpipe.activities.tls import client_context
from medpipe.contracts.deploy import GatewayMetrics, population_stability_index
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body, unsigned_loader

ROW = [[0.3, -0.2, 0.8, 0.1]]


def _slots(public: httpx.Client, n: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    for _ in range(n):
        r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW))
        assert r.status_code == 200
        assert r.json()["parameters"]["slot"] == r.headers["x-medpipe-slot"]
        seen[r.headers["x-medpipe-slot"]] += 1
    return seen


def test_weight_25_routes_a_binomial_quarter(public: httpx.Client, loaded: httpx.Client,
                                             models: Models) -> None:
    assert loaded.post("/admin/models", json=models.canary.request("canary")).status_code == 200
    assert loaded.put("/admin/weight", json={"weight": 25}).json()["canary_weight"] == 25
    n = 2000
    seen = _slots(public, n)
    # mean 500, sd ≈ 19.4: 4.5 sd keeps a false failure below 1e-5
    assert abs(seen["canary"] - n * 0.25) < 90, seen
    assert seen["stable"] + seen["canary"] == n
    figures = GatewayMetrics.model_validate(loaded.get("/admin/metrics").json())
    assert figures.canary.requests == seen["canary"]
    assert figures.stable.requests == seen["stable"]
    assert sum(figures.canary.prediction_counts) == seen["canary"]
    assert figures.canary.latency_p50_ms is not None and figures.canary.latency_p99_ms is not None
    assert figures.canary.latency_p50_ms <= figures.canary.latency_p99_ms
    # same row, different weights: the prediction histograms must diverge
    psi = population_stability_index(figures.stable.prediction_counts,
                                      figures.canary.prediction_counts)
    assert psi > 1.0


def test_weight_extremes_and_pinning(public: httpx.Client, loaded: httpx.Client,
                                     models: Models) -> None:
    assert loaded.post("/admin/models", json=models.canary.request("canary")).status_code == 200
    assert _slots(public, 200) == Counter({"stable": 200})  # a fresh canary gets no traffic
    loaded.put("/admin/weight", json={"weight": 100})
    assert _slots(public, 200) == Counter({"canary": 200})
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW),
                    headers={"x-medpipe-slot": "stable"})
    assert r.headers["x-medpipe-slot"] == "stable" and r.json()["model_version"] == "1"
    r = public.post(f"/v2/models/{MODEL_NAME}/versions/1/infer", json=infer_body(ROW))
    assert r.headers["x-medpipe-slot"] == "stable"


def test_metrics_window_reset(public: httpx.Client, loaded: httpx.Client) -> None:
    _slots(public, 30)
    before = loaded.post("/admin/metrics/reset").json()
    assert before["stable"]["requests"] == 30
    after = loaded.get("/admin/metrics").json()
    assert after["stable"]["requests"] == 0 and after["stable"]["latency_p50_ms"] is None
    assert sum(after["stable"]["prediction_counts"]) == 0
    # the Prometheus view stays cumulative
    assert 'medpipe_gateway_requests_total{slot="stable"} 30.0' in public.get("/metrics").text


def test_psi_of_identical_histograms_is_zero() -> None:
    assert population_stability_index([5, 10, 0], [10, 20, 0]) == 0.0
    assert population_stability_index([10, 0], [0, 10]) > 1.0


def test_pin_header_ignored_when_disabled(tmp_path: Path, pki: TestPKI, models: Models) -> None:
    srv = GatewayServer(Gateway(MODEL_NAME, unsigned_loader(tmp_path, models)), "127.0.0.1", 0,
                        0, AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    try:
        ctx = client_context(pki.client_settings())
        with httpx.Client(base_url=srv.admin_url, verify=ctx) as admin:
            assert admin.post("/admin/models", json=models.stable.request()).status_code == 200
            assert admin.post("/admin/models",
                              json=models.canary.request("canary")).status_code == 200
        r = httpx.post(f"{srv.url}/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW),
                       headers={"x-medpipe-slot": "canary"})
        assert r.status_code == 200 and r.headers["x-medpipe-slot"] == "stable"
    finally:
        srv.join()
