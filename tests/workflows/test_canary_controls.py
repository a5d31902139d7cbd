"""On-call controls of a running canary on real gateways: the ``promote`` Update and the
fire-and-forget ``rollback-signal`` Signal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError

from medpipe.contracts.canary import CanaryPlan, CanaryState, CanaryStatus, RollbackRequest
from medpipe.contracts.release import ReleaseState
from tests.canary import canary_handle, fleet_with, release, wait_for_state
from tests.gateways import GatewayPKI, GatewayProcess
from tests.history import history_events, timers
from tests.support import make_request, running_workers, start

pytestmark = pytest.mark.asyncio
#: A test that waits longer than this for the result is failed, not left hanging.
DEADLINE = 90.0
FIRST = CanaryPlan(steps=(50, 100), bake_s=1.0, min_requests=0, guard_s=0)


async def test_promote_skips_the_remaining_steps(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    fleet = fleet_with(tmp_path, gws)
    v1 = make_request(fleet, sample, canary=FIRST)
    slow = CanaryPlan(steps=(10, 50, 100), bake_s=300, min_requests=0, guard_s=120)
    v2 = make_request(fleet, sample, canary=slow, model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        parent = await start(client, v2)
        handle = canary_handle(client, v2)
        baking = await wait_for_state(handle, CanaryState.BAKING)
        assert baking.weight == 10 and all(g.gateway.weight == 10 for g in gws)
        await handle.execute_update("promote", "oncall", result_type=CanaryStatus)
        status = await asyncio.wait_for(parent.result(), DEADLINE)  # not the 300 s bake
        assert status.state is ReleaseState.SUCCEEDED
        assert status.canary.state is CanaryState.PROMOTED
        assert status.canary.analyses == ()  # no step was baked out, none was judged
        for g in gws:
            assert g.gateway.stable.version == v2.version and g.gateway.canary is None
            assert g.gateway.previous.version == v1.version
        # promoted and in its guard period: promoting again is refused by the validator
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update("promote", "again", result_type=CanaryStatus)
        assert "cannot promote a canary that is promoted" in str(refused.value.cause)
        await handle.terminate("test over")
    assert (300.0, "canceled") in timers(await history_events(handle))  # bake cut short


async def test_rollback_signal_interrupts_a_bake(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    fleet = fleet_with(tmp_path, gws)
    v1 = make_request(fleet, sample, canary=FIRST)
    slow = CanaryPlan(steps=(10, 100), bake_s=300, min_requests=0, guard_s=0)
    v2 = make_request(fleet, sample, canary=slow, model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        parent = await start(client, v2)
        handle = canary_handle(client, v2)
        await wait_for_state(handle, CanaryState.BAKING)
        assert all(g.gateway.weight == 10 and g.gateway.canary is not None for g in gws)
        await handle.signal("rollback-signal", RollbackRequest(
            reason="pager: sepsis alerts", incident="INC-7", requested_by="oncall"))
        await handle.signal("rollback-signal", RollbackRequest(  # the first one wins
            reason="second opinion", requested_by="someone-else"))
        status = await asyncio.wait_for(handle.result(), DEADLINE)  # not the 300 s bake
        with pytest.raises(WorkflowFailureError):
            await parent.result()
    assert status.state is CanaryState.ROLLED_BACK
    assert status.rollback_cause == "signalled by oncall: pager: sepsis alerts"
    assert status.rollback is not None and status.rollback.incident == "INC-7"
    for g in gws:
        assert g.gateway.weight == 0 and g.gateway.canary is None
        assert g.gateway.stable.version == v1.version
    events = await history_events(handle)
    assert (300.0, "canceled") in timers(events)
    assert not [t for t in timers(events) if t[1] == "fired"]
