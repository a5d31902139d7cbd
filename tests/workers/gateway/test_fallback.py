"""The backup inference pathway over HTTP: a real gateway, a real ONNX model that starts
failing mid-traffic, a circuit breaker that opens and recovers by itself, revocation
while serving, a rule, and the serving state that brings the fallback back."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.contracts.deploy import BreakerState, FallbackSpec
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.state import ServingStateFile
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import FEATURES, MODEL_NAME, Models, infer_body, signed_copy
from tests.workers.gateway.test_signed_models import load, start

INFER = f"/v2/models/{MODEL_NAME}/infer"
GOOD = [[0.3, 0.1, -0.2, 0.9]]
#: the tripwire model cannot run a row whose first feature is over 100
BAD = [[250.0, 0.1, -0.2, 0.9]]
FAST_BREAKER = {"window_s": 60, "min_failures": 3, "failure_ratio": 0.5, "open_s": 0.3,
                "probes": 2}


def write_tripwire(path: Path) -> str:
    """A logistic regression whose run fails (a Reshape the runtime refuses) for any
    batch holding a row whose first feature exceeds 100: a real model failing at run
    time, as a broken export or a lost accelerator would."""
    w = numpy_helper.from_array(np.asarray([[1.0], [0.5], [-0.5], [2.0]], np.float32), "w")
    consts = [numpy_helper.from_array(np.asarray(v, dt), n) for n, v, dt in (
        ("b", [0.2], np.float32), ("col0", 0, np.int64), ("limit", 100.0, np.float32),
        ("width", [FEATURES], np.int64), ("any_rows", [-1], np.int64))]
    graph = helper.make_graph(
        [helper.make_node("Gather", ["features", "col0"], ["x0"], axis=1),
         helper.make_node("Greater", ["x0", "limit"], ["over"]),
         helper.make_node("Cast", ["over"], ["over_i"], to=TensorProto.INT64),
         helper.make_node("ReduceMax", ["over_i"], ["trip"], keepdims=1),
         helper.make_node("Add", ["width", "trip"], ["cols"]),
         helper.make_node("Concat", ["any_rows", "cols"], ["target"], axis=0),
         helper.make_node("Reshape", ["features", "target"], ["checked"]),
         helper.make_node("MatMul", ["checked", "w"], ["logit0"]),
         helper.make_node("Add", ["logit0", "b"], ["logit"]),
         helper.make_node("Sigmoid", ["logit"], ["probability"])],
        "tripwire",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", FEATURES])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])],
        initializer=[w, *consts])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected(model: Path, rows: list[list[float]]) -> float:
    """What onnxruntime itself answers for ``rows`` with ``model`` (first score)."""
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return float(session.run(None, {"features": np.asarray(rows, np.float32)})[0][0][0])


def infer(public: httpx.Client, rows: list[list[float]]) -> httpx.Response:
    return public.post(INFER, json=infer_body(rows))


def params(r: httpx.Response) -> dict[str, object]:
    assert r.status_code == 200, r.text
    return dict(r.json()["parameters"])


@pytest.fixture
def tripwire(models: Models) -> tuple[Path, str]:
    path = models.stable.path.parent / "tripwire.onnx"
    return path, write_tripwire(path)


def load_tripwire_over_v1(admin: httpx.Client, models: Models,
                          tripwire: tuple[Path, str]) -> None:
    """v1 stable, then the tripwire model as the new stable: v1 is kept warm as previous."""
    assert admin.post("/admin/models", json=models.stable.request()).status_code == 200
    r = admin.post("/admin/models", json=models.stable.request(
        version="4", model_uri=str(tripwire[0]), sha256=tripwire[1]))
    assert r.status_code == 200, r.text
    assert r.json()["previous"]["version"] == "1"


def test_a_model_failing_mid_traffic_opens_the_breaker_and_recovers(
        admin: httpx.Client, public: httpx.Client, models: Models,
        tripwire: tuple[Path, str]) -> None:
    load_tripwire_over_v1(admin, models, tripwire)
    r = admin.put("/admin/fallback", json={"kind": "previous", "breaker": FAST_BREAKER})
    assert r.status_code == 200, r.text
    assert r.json()["fallback"]["available"] and r.json()["fallback"]["breaker"] == "closed"

    ok = params(infer(public, GOOD))
    assert ok["slot"] == "stable" and "medpipe_fallback" not in ok

    # the model starts failing: no caller sees a 5xx, every answer says it is the fallback
    answers = [infer(public, BAD) for _ in range(8)]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    flags = [params(a) for a in answers]
    assert all(f["medpipe_fallback"] is True and f["slot"] == "fallback"
               and f["medpipe_fallback_kind"] == "previous" and f["model_version"] == "1"
               and f["medpipe_primary_version"] == "4" for f in flags)
    reasons = [f["medpipe_fallback_reason"] for f in flags]
    assert reasons[:3] == ["primary_error"] * 3  # tried, failed, answered by v1
    assert "breaker_open" in reasons[3:]  # then the failing model is no longer tried
    assert answers[0].headers["x-medpipe-slot"] == "fallback"
    assert answers[0].json()["outputs"][0]["data"][0] == pytest.approx(
        expected(models.stable.path, BAD), rel=1e-6)
    status = admin.get("/admin/status").json()
    assert status["fallback"]["breaker"] in ("open", "half_open")
    assert status["metrics"]["stable"]["server_errors"] >= 3  # still visible to analysis
    text = public.get("/metrics").text
    assert 'medpipe_gateway_circuit_breaker_transitions_total{state="open"} 1.0' in text
    assert 'medpipe_gateway_fallback_requests_total{kind="previous",reason="primary_error"} ' \
           '3.0' in text
    assert 'medpipe_gateway_path_requests_total{path="none"} 0.0' in text

    # recovery: good requests again; the breaker probes by itself and closes
    seen: Counter[str] = Counter()
    deadline = time.monotonic() + 30
    streak = 0
    while streak < 3:
        assert time.monotonic() < deadline, f"breaker never closed: {seen}"
        r = infer(public, GOOD)
        slot = str(params(r)["slot"])
        seen[slot] += 1
        streak = streak + 1 if slot == "stable" else 0
    assert admin.get("/admin/status").json()["fallback"]["breaker"] == "closed"
    text = public.get("/metrics").text
    assert 'medpipe_gateway_circuit_breaker_state{state="closed"} 1.0' in text
    assert 'medpipe_gateway_circuit_breaker_transitions_total{state="half_open"}' in text
    assert params(infer(public, GOOD))["model_version"] == "4"


async def test_concurrent_callers_see_no_5xx_while_the_model_fails(
        server: GatewayServer, admin: httpx.Client, models: Models,
        tripwire: tuple[Path, str]) -> None:
    load_tripwire_over_v1(admin, models, tripwire)
    assert admin.put("/admin/fallback", json={"breaker": FAST_BREAKER}).status_code == 200
    seen: Counter[tuple[int, str]] = Counter()

    async def caller(http: httpx.AsyncClient, rows: list[list[float]], n: int) -> None:
        for _ in range(n):
            r = await http.post(INFER, json=infer_body(rows))
            seen[(r.status_code, r.headers.get("x-medpipe-slot", ""))] += 1

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for rows in (GOOD, BAD, GOOD):  # healthy, failing mid-traffic, healthy again
            await asyncio.gather(*(caller(http, rows, 15) for _ in range(8)))
    assert {status for status, _ in seen} == {200}, seen
    assert seen[(200, "fallback")] >= 8 * 15  # every failing request, and a few probes
    assert server.gateway.fallback.breaker.transitions[BreakerState.OPEN] >= 1


def test_a_missed_deadline_counts_as_a_failure(admin: httpx.Client, public: httpx.Client,
                                               models: Models,
                                               tripwire: tuple[Path, str]) -> None:
    load_tripwire_over_v1(admin, models, tripwire)
    slow = FAST_BREAKER | {"primary_timeout_s": 1e-9, "open_s": 3600}
    assert admin.put("/admin/fallback", json={"breaker": slow}).status_code == 200
    answers = [params(infer(public, GOOD)) for _ in range(5)]
    # late answers are still answers; three of them open the breaker
    assert [a["slot"] for a in answers[:3]] == ["stable"] * 3
    assert answers[3]["medpipe_fallback_reason"] == "breaker_open"
    assert admin.get("/admin/status").json()["fallback"]["breaker"] == "open"


def test_a_rule_answers_a_safe_default_flagged(admin: httpx.Client, public: httpx.Client,
                                               models: Models,
                                               tripwire: tuple[Path, str]) -> None:
    load_tripwire_over_v1(admin, models, tripwire)
    rule = {"name": "refer-to-clinician",
            "outputs": [{"name": "probability", "datatype": "FP32", "value": [1.0]}]}
    r = admin.put("/admin/fallback", json={"kind": "rule", "rule": rule})
    assert r.status_code == 200, r.text
    r = infer(public, BAD + BAD)
    p = params(r)
    assert p["medpipe_fallback"] is True and p["medpipe_fallback_kind"] == "rule"
    assert r.json()["model_version"] == "rule:refer-to-clinician"
    out = r.json()["outputs"][0]
    assert out["shape"] == [2, 1] and out["data"] == [1.0, 1.0]
    assert out["datatype"] == "FP32"


def test_without_a_fallback_a_failure_stays_a_clear_error(
        admin: httpx.Client, public: httpx.Client, models: Models,
        tripwire: tuple[Path, str]) -> None:
    load_tripwire_over_v1(admin, models, tripwire)
    assert admin.put("/admin/fallback", json={"kind": "none"}).status_code == 200
    r = infer(public, BAD)
    assert r.status_code == 500 and "failed to run the request" in r.json()["error"]
    assert "Traceback" not in r.text
    assert 'medpipe_gateway_fallback_available{kind="none"} 0.0' in public.get("/metrics").text


def test_a_declared_fallback_must_read_the_same_inputs(
        admin: httpx.Client, models: Models, tripwire: tuple[Path, str]) -> None:
    assert admin.post("/admin/models", json=models.stable.request()).status_code == 200
    r = admin.put("/admin/fallback", json={"kind": "model", "model": models.stable.request(
        slot="fallback", version="9", model_uri=str(models.garbage.path),
        sha256=models.garbage.sha256)})
    assert r.status_code == 400 and "not a loadable ONNX model" in r.json()["error"]
    r = admin.put("/admin/fallback", json={"kind": "model"})
    assert r.status_code == 422 and "needs a model" in r.json()["error"]
    assert admin.get("/admin/status").json()["fallback"]["kind"] == "previous"


def test_a_revoked_model_s_traffic_goes_to_a_trusted_fallback(
        tmp_path: Path, pki: TestPKI, models: Models, keys: dict[str, Path]) -> None:
    rig = start(tmp_path, pki, [keys["ours"], keys["stranger"]])
    try:
        v2, b2 = signed_copy(models.canary.path, rig.root / "v2", keys, "stranger",
                             {"model": MODEL_NAME, "version": "2", "release_id": "rel-2"})
        assert load(rig, v2, b2, version="2", release_id="rel-2").status_code == 200
        lite, lite_bundle = signed_copy(models.stable.path, rig.root / "lite", keys, "ours",
                                        {"model": "readmission-lite", "version": "1",
                                         "release_id": "rel-lite"})
        body = {"slot": "fallback", "name": "readmission-lite", "version": "1",
                "model_uri": str(lite), "bundle_uri": str(lite_bundle),
                "sha256": hashlib.sha256(lite.read_bytes()).hexdigest(),
                "release_id": "rel-lite"}
        r = rig.admin.put("/admin/fallback", json={"kind": "model", "model": body})
        assert r.status_code == 200, r.text
        fb = r.json()["fallback"]
        assert fb["model"]["signature_verified"] and fb["model"]["version"] == "1"
        assert params(rig.public.post(INFER, json=infer_body(GOOD)))["slot"] == "stable"
        assert 'medpipe_gateway_fallback_model_info{kind="model",name="readmission-lite",' \
               'provider="CPUExecutionProvider",version="1"} 1.0' in rig.public.get("/metrics").text

        # the stable model's signer is revoked while it serves: its traffic moves at once
        rig.revocations.write_text(f"{key_fingerprint(keys['stranger'].read_bytes())}\n")
        assert set(rig.admin.post("/admin/trust/reload").json()["taken_out"]) == {"stable"}
        r = rig.public.post(INFER, json=infer_body(GOOD))
        p = params(r)
        assert p["medpipe_fallback"] is True and p["medpipe_fallback_reason"] == "out_of_service"
        assert p["medpipe_fallback_source"] == "model:readmission-lite/1"
        assert r.json()["outputs"][0]["data"][0] == pytest.approx(
            expected(models.stable.path, GOOD), rel=1e-6)
        # still ready (the front keeps sending its callers here), answers flagged
        assert rig.public.get("/v2/health/ready").status_code == 200

        # the fallback's own signer revoked too: a clear 503 naming both
        rig.revocations.write_text(f"{key_fingerprint(keys['stranger'].read_bytes())}\n"
                                   f"{key_fingerprint(keys['ours'].read_bytes())}\n")
        assert "fallback" in rig.admin.post("/admin/trust/reload").json()["taken_out"]
        r = rig.public.post(INFER, json=infer_body(GOOD))
        assert r.status_code == 503
        message = r.json()["error"]
        assert "taken out of service" in message and "fallback model is unavailable" in message
        text = rig.public.get("/metrics").text
        assert 'medpipe_gateway_path_requests_total{path="none"} 1.0' in text
        assert 'medpipe_gateway_fallback_available{kind="model"} 0.0' in text
        assert rig.public.get("/v2/health/ready").status_code == 400
    finally:
        rig.admin.close()
        rig.public.close()
        rig.server.join()


def test_a_revoked_model_without_fallback_answers_a_clear_503(
        tmp_path: Path, pki: TestPKI, models: Models, keys: dict[str, Path]) -> None:
    rig = start(tmp_path, pki, [keys["ours"]])
    try:
        model, bundle = signed_copy(models.stable.path, rig.root / "v1", keys, "ours")
        assert load(rig, model, bundle).status_code == 200
        rig.revocations.write_text(f"{key_fingerprint(keys['ours'].read_bytes())}\n")
        assert rig.admin.post("/admin/trust/reload").status_code == 200
        r = rig.public.post(INFER, json=infer_body(GOOD))
        assert r.status_code == 503
        assert "taken out of service" in r.json()["error"]
        assert "no fallback is configured" in r.json()["error"]
    finally:
        rig.admin.close()
        rig.public.close()
        rig.server.join()


async def test_the_serving_state_restores_the_fallback_verified_again(
        tmp_path: Path, models: Models, keys: dict[str, Path]) -> None:
    from medpipe.workers.gateway.verify import OMSVerifier

    root = tmp_path / "models"
    lite, bundle = signed_copy(models.stable.path, root / "lite", keys, "ours",
                               {"model": "readmission-lite", "version": "1",
                                "release_id": "rel-lite"})
    state = ServingStateFile(tmp_path / "state.json")

    def gateway() -> Gateway:
        # the first provider stands for an accelerator (the only other one in this build)
        loader = ModelLoader(tmp_path / "cache", verifier=OMSVerifier([keys["ours"]]),
                             model_roots=(root,),
                             providers=["AzureExecutionProvider", "CPUExecutionProvider"])
        return Gateway(MODEL_NAME, loader, state)

    spec = FallbackSpec.model_validate({
        "kind": "model", "breaker": {"open_s": 7},
        "model": {"slot": "fallback", "name": "readmission-lite", "version": "1",
                  "model_uri": str(lite), "bundle_uri": str(bundle), "release_id": "rel-lite",
                  "sha256": hashlib.sha256(lite.read_bytes()).hexdigest()}})
    await gateway().set_fallback(spec)
    recorded = state.read()
    assert recorded is not None and recorded.fallback == spec

    restarted = gateway()
    assert await restarted.restore() == {}
    status = restarted.status().fallback
    assert status is not None and status.kind == "model" and status.available
    assert status.model is not None and status.model.signature_verified
    # a fallback never runs on the accelerator whose loss it covers
    assert status.model.provider == "CPUExecutionProvider"
    assert status.settings.open_s == 7

    lite.write_bytes(lite.read_bytes() + b"\0")  # tampered while the gateway was down
    again = gateway()
    problems = await again.restore()
    assert "fallback" in problems and "does not match" in problems["fallback"]
    status = again.status().fallback
    assert status is not None and not status.available
    assert "could not be restored" in (status.unavailable_reason or "")



def test_a_previous_version_reading_other_inputs_cannot_stand_in(
        admin: httpx.Client, public: httpx.Client, models: Models) -> None:
    renamed = onnx.load(models.stable.path)
    renamed.graph.input[0].name = "vitals"
    for node in renamed.graph.node:
        node.input[:] = ["vitals" if i == "features" else i for i in node.input]
    path = models.stable.path.parent / "vitals.onnx"
    onnx.save(renamed, path)
    assert admin.post("/admin/models", json=models.stable.request()).status_code == 200
    r = admin.post("/admin/models", json=models.stable.request(
        version="5", model_uri=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    assert r.status_code == 200, r.text
    fb = r.json()["fallback"]
    assert not fb["available"]
    assert "previous version 1, reads other inputs" in fb["unavailable_reason"]
    assert params(public.post(INFER, json=infer_body(GOOD, name="vitals")))["slot"] == "stable"


def test_tritonclient_with_its_defaults_reads_a_fallback_answer(
        server: GatewayServer, admin: httpx.Client, models: Models,
        tripwire: tuple[Path, str]) -> None:
    import tritonclient.http as triton

    load_tripwire_over_v1(admin, models, tripwire)
    client = triton.InferenceServerClient(server.url.removeprefix("http://"))
    try:
        tensor = triton.InferInput("features", [1, FEATURES], "FP32")
        tensor.set_data_from_numpy(np.asarray(BAD, np.float32))  # binary, its default
        result = client.infer(MODEL_NAME, [tensor])
    finally:
        client.close()
    response = result.get_response()
    assert response["parameters"]["medpipe_fallback"] is True
    assert response["parameters"]["medpipe_fallback_reason"] == "primary_error"
    assert response["model_version"] == "1"
    assert result.as_numpy("probability")[0][0] == pytest.approx(
        expected(models.stable.path, BAD), rel=1e-6)
