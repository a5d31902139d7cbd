"""Automatic rollback end to end, one cause each: errors and p99 latency (prediction shift
is in test_canary.py). Real gateways serve real ONNX models under OIP traffic; the bad
canaries keep the stable model's predictions so only the intended figure moves."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError

from medpipe.contracts.canary import CanaryPlan, CanaryState, CanaryStatus, Verdict
from tests.canary import UNJUDGED_SHIFT, canary_handle, fleet_with, release
from tests.canary_models import failing_model, slow_model
from tests.gateways import GatewayPKI, GatewayProcess, feature_rows, traffic
from tests.support import make_request, running_workers

pytestmark = pytest.mark.asyncio
#: Small samples are enough here: the bad canaries are far outside every limit. Several
#: steps below 100 % (where stable still serves, so latency can be compared): a step that
#: happened to look fine is followed by others; a healthy run stops at the first.
PLAN = CanaryPlan(steps=(50, 60, 70, 100), bake_s=2.0, min_requests=10, max_extensions=3,
                  min_latency_samples=10, guard_s=0, **UNJUDGED_SHIFT)


async def rolled_back(client: Client, tmp_path: Path, sample: dict[str, Path],
                      gateway_pki: GatewayPKI, gws: list[GatewayProcess],
                      model: Path) -> CanaryStatus:
    """Release v1, then ``model`` as a canary under traffic; the canary's final status."""
    fleet = fleet_with(tmp_path, gws)
    v1 = make_request(fleet, sample, canary=PLAN)
    bad = make_request(fleet, sample, canary=PLAN, model_uri=model.as_uri())
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        async with traffic([g.target.public_url for g in gws], "risk",
                           feature_rows(sample["dataset"])):
            with pytest.raises(WorkflowFailureError) as info:
                await release(client, bad)
        status: CanaryStatus = await canary_handle(client, bad).result()
    assert "rolled back" in str(info.value.cause).lower() or \
        "RolledBack" in repr(info.value.cause)
    assert status.state is CanaryState.ROLLED_BACK
    assert status.analyses[-1].verdict is Verdict.ROLLBACK
    assert status.rollback is not None and status.rollback.requested_by == "canary-analysis"
    for g in gws:
        assert g.gateway.stable.version == v1.version
        assert g.gateway.canary is None and g.gateway.weight == 0
    return status


async def test_a_canary_that_fails_requests_is_rolled_back_for_its_error_rate(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    model = failing_model(sample["model"], tmp_path / "failing.onnx")
    status = await rolled_back(client, tmp_path, sample, gateway_pki, canary_gateways, model)
    assert status.rollback_cause and "canary error rate" in status.rollback_cause
    last = status.analyses[-1]
    assert any(f.canary_error_rate > PLAN.max_error_rate and f.stable_error_rate == 0
               for f in last.figures), last.figures


async def test_a_slow_canary_is_rolled_back_for_its_p99_latency(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    model = slow_model(sample["model"], tmp_path / "slow.onnx")
    status = await rolled_back(client, tmp_path, sample, gateway_pki, canary_gateways, model)
    assert status.rollback_cause and "canary p99" in status.rollback_cause
    last = status.analyses[-1]
    assert any(f.canary_p99_ms is not None and f.stable_p99_ms is not None
               and f.canary_p99_ms > f.stable_p99_ms * PLAN.max_latency_ratio
               for f in last.figures), last.figures
    assert all(f.canary_error_rate == 0 for f in last.figures)  # slow, not failing
