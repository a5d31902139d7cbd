"""A model exported with skl2onnx's defaults goes to a real gateway and answers OIP requests.

The release's canary child deploys it (first release: initial deployment) on
a real gateway; an OIP v2 request with the model's own input name gets the
outputs back, and the gateway's prediction distribution (what the canary
analysis compares) holds the probability of the positive class, not the label
skl2onnx puts first. Per-task canary analysis (multiclass, regression) is not
covered here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from medpipe.contracts.canary import CanaryPlan, CanaryState
from medpipe.contracts.deploy import Slot
from medpipe.contracts.evaluate import EvaluationSpec
from medpipe.contracts.release import ReleaseState
from tests import byom
from tests.gateways import GatewayPKI, GatewayProcess, gateways
from tests.support import make_fleet, make_request, running_workers, start

pytestmark = pytest.mark.asyncio


@pytest.fixture()
def pki(tmp_path: Path) -> GatewayPKI:
    return GatewayPKI.create(tmp_path / "pki")


@pytest.fixture()
def gws(pki: GatewayPKI, tmp_path: Path) -> Iterator[list[GatewayProcess]]:
    with gateways(["gw-aws"], "tumour", pki, tmp_path / "gw") as procs:
        yield procs


@pytest.mark.parametrize("zipmap", [False, True])
async def test_skl2onnx_model_is_deployed_and_answers_oip(
        client: Client, tmp_path: Path, pki: GatewayPKI, gws: list[GatewayProcess],
        zipmap: bool) -> None:
    table, data, policy = byom.cohort(tmp_path)
    model = byom.save(byom.skl_logistic(table, zipmap=zipmap), tmp_path / "m.onnx")
    fleet = make_fleet(tmp_path).model_copy(update={"gateways": tuple(g.target for g in gws)})
    request = make_request(fleet, {"model": model, "dataset": data}, model="tumour",
                           label_column="diagnosis", policy_uri=policy.as_uri(),
                           evaluation=EvaluationSpec(features=tuple(byom.LABS),
                                                     positive_class="malignant"),
                           prefer_gpu=False, canary=CanaryPlan(steps=(100,), bake_s=1.0,
                                                               min_requests=0, guard_s=0))
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=pki.client):
        status = await (await start(client, request)).result()
    assert status.state is ReleaseState.SUCCEEDED, status.error
    assert status.canary is not None and status.canary.state is CanaryState.PROMOTED
    assert gws[0].gateway.stable.version == request.version
    body = {"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32",
                        "data": [1.0, 0.5, -0.2, 0.3]}]}
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{gws[0].target.public_url}/v2/models/tumour/infer", json=body)
    assert r.status_code == 200, r.text
    names = [o["name"] for o in r.json()["outputs"]]
    assert names[0] == ("output_label" if zipmap else "label")  # the label comes first
    # the prediction distribution (canary analysis) reads the probabilities, not the label
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    probs = session.run(None, {"X": np.array([body["inputs"][0]["data"]], np.float32)})[1]
    p_malignant = probs[0]["malignant"] if zipmap else probs[0][1]
    stable = gws[0].gateway.stats[Slot.STABLE]
    assert stable.prediction_sum == pytest.approx(float(p_malignant), abs=1e-5)
    assert 0.0 < stable.prediction_sum < 1.0
