"""On-call controls of a running canary on real gateways: the ``promote`` Update and the
fire-and-forget ``rollback-signal`` Signal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError

from medpipe.contracts.canary import CanaryPlan, CanaryState, CanaryStatus, RollbackRequest
from medpipe.contracts.names import SignalName, UpdateName
from medpipe.contracts.release import ReleaseState
from tests.canary import baking_canary
from tests.gateways import GatewayPKI, GatewayProcess
from tests.history import history_events, timers

pytestmark = pytest.mark.asyncio
#: A test that waits longer than this for the result is failed, not left hanging.
DEADLINE = 90.0


async def test_promote_skips_the_remaining_steps(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    slow = CanaryPlan(steps=(10, 50, 100), bake_s=300, min_requests=0, guard_s=120)
    async with baking_canary(client, tmp_path, sample, gateway_pki, gws, slow) as canary:
        handle, v1, v2 = canary.handle, canary.stable, canary.candidate
        assert all(g.gateway.weight == 10 for g in gws)
        await handle.execute_update(UpdateName.PROMOTE, "oncall", result_type=CanaryStatus)
        status = await asyncio.wait_for(canary.parent.result(), DEADLINE)  # not the bake
        assert status.state is ReleaseState.SUCCEEDED
        assert status.canary.state is CanaryState.PROMOTED
        assert status.canary.analyses == ()  # no step was baked out, none was judged
        for g in gws:
            assert g.gateway.stable.version == v2.version and g.gateway.canary is None
            assert g.gateway.previous.version == v1.version
        # promoted and in its guard period: promoting again is refused by the validator
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(UpdateName.PROMOTE, "again", result_type=CanaryStatus)
        assert "cannot promote a canary that is promoted" in str(refused.value.cause)
        await handle.terminate("test over")
    assert (300.0, "canceled") in timers(await history_events(handle))  # bake cut short


async def test_rollback_signal_interrupts_a_bake(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    slow = CanaryPlan(steps=(10, 100), bake_s=300, min_requests=0, guard_s=0)
    async with baking_canary(client, tmp_path, sample, gateway_pki, gws, slow) as canary:
        handle, v1 = canary.handle, canary.stable
        assert all(g.gateway.weight == 10 and g.gateway.canary is not None for g in gws)
        await handle.signal(SignalName.ROLLBACK, RollbackRequest(
            reason="pager: sepsis alerts", incident="INC-7", requested_by="oncall"))
        await handle.signal(SignalName.ROLLBACK, RollbackRequest(  # the first one wins
            reason="second opinion", requested_by="someone-else"))
        status = await asyncio.wait_for(handle.result(), DEADLINE)  # not the 300 s bake
        with pytest.raises(WorkflowFailureError):
            await canary.parent.result()
    assert status.state is CanaryState.ROLLED_BACK
    assert status.rollback_cause == "signalled by oncall: pager: sepsis alerts"
    assert status.rollback is not None and status.rollback.incident == "INC-7"
    for g in gws:
        assert g.gateway.weight == 0 and g.gateway.canary is None
        assert g.gateway.stable.version == v1.version
    events = await history_events(handle)
    assert (300.0, "canceled") in timers(events)
    assert not [t for t in timers(events) if t[1] == "fired"]
