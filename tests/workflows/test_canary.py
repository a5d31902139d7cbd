"""Canary deployment on real gateways: promote, automatic rollback, rollback by a person."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import onnx
import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError

from medpipe.contracts.canary import (
    CanaryPlan,
    CanaryRollbackResult,
    CanaryState,
    CanaryStatus,
    RollbackRequest,
    Verdict,
)
from medpipe.contracts.names import QueryName, UpdateName
from medpipe.contracts.release import ReleaseState, Stage
from medpipe.workers.sample import FEATURES, build_model
from tests.canary import (
    UNJUDGED_SHIFT,
    baking_canary,
    canary_handle,
    fleet_with,
    release,
    wait_for_state,
)
from tests.gateways import GatewayPKI, GatewayProcess, feature_rows, traffic
from tests.history import event_types, history_events, timers
from tests.support import make_request, running_workers, start, wait_until

#: Seconds a step of a test may take before it fails as hung (not a speed assertion).
DEADLINE = 90.0

pytestmark = pytest.mark.asyncio
#: 1 s bakes; a step extends (its window counting on) until both slots of every gateway
#: returned ``min_shift_samples`` predictions, however slowly a loaded host serves them.
FAST = CanaryPlan(steps=(50, 100), bake_s=1.0, min_requests=5, max_extensions=20, guard_s=0)


def inverted_model(tmp_path: Path) -> Path:
    path = tmp_path / "inverted.onnx"
    onnx.save(build_model(np.full(5, 50.0), np.full(5, 10.0), -np.ones(5), 0.0, FEATURES),
              path)
    return path


async def test_first_release_is_an_initial_deployment_then_a_canary_promotes(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    fleet = fleet_with(tmp_path, gws)
    rows = feature_rows(sample["dataset"])
    v1 = make_request(fleet, sample, canary=FAST)
    v2 = make_request(fleet, sample, canary=FAST.model_copy(update=UNJUDGED_SHIFT),
                      model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        first = await release(client, v1)
        assert first.canary.initial_deploy and first.canary.state is CanaryState.PROMOTED
        assert all(g.gateway.stable.version == v1.version for g in gws)
        async with traffic([g.target.public_url for g in gws], "risk", rows) as sent:
            second = await release(client, v2)
    assert second.state is ReleaseState.SUCCEEDED
    assert second.canary.state is CanaryState.PROMOTED and not second.canary.initial_deploy
    weights = [a.weight for a in second.canary.analyses if a.verdict is Verdict.CONTINUE]
    assert weights == [50, 100]
    assert all(f.canary_requests >= 5 for a in second.canary.analyses for f in a.figures)
    for g in gws:
        assert g.gateway.stable.version == v2.version
        assert g.gateway.previous.version == v1.version
    deploy = next(s for s in second.stages if s.stage is Stage.DEPLOY)
    assert "promoted on 2 gateway(s)" in deploy.detail
    assert sent["ok"] > 0 and sent["failed"] == 0


async def shifted_canary(client: Client, tmp_path: Path, sample: dict[str, Path],
                         gateway_pki: GatewayPKI, gws: list[GatewayProcess],
                         plan: CanaryPlan, rate: float) -> CanaryStatus:
    """Release v1, then the inverted model as a canary under ``rate`` requests/s per
    gateway; check it was rolled back everywhere and return its final status."""
    fleet = fleet_with(tmp_path, gws)
    rows = feature_rows(sample["dataset"])
    v1 = make_request(fleet, sample, canary=plan)
    bad = make_request(fleet, sample, canary=plan, model_uri=inverted_model(tmp_path).as_uri(),
                       thresholds={"max_auroc_drop": 1.0})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        async with traffic([g.target.public_url for g in gws], "risk", rows, rate=rate):
            with pytest.raises(WorkflowFailureError) as info:
                # a canary that paused would wait for a person: fail instead of hanging
                await asyncio.wait_for(release(client, bad), timeout=180)
        status = await canary_handle(client, bad).result()
    assert "RolledBack" in repr(info.value.cause) or "rolled-back" in str(info.value.cause)
    assert status.state is CanaryState.ROLLED_BACK
    assert status.rollback_cause and "PSI" in status.rollback_cause
    assert status.analyses[-1].verdict is Verdict.ROLLBACK
    for g in gws:
        assert g.gateway.stable.version == v1.version
        assert g.gateway.canary is None and g.gateway.weight == 0
    return status


async def test_a_model_that_shifts_predictions_is_rolled_back_automatically(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    status = await shifted_canary(client, tmp_path, sample, gateway_pki, canary_gateways,
                                  FAST, rate=80.0)
    assert all(a.verdict is Verdict.EXTEND for a in status.analyses[:-1])


async def test_a_trickle_of_traffic_extends_the_bake_until_the_shift_is_judged(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    """About 4 predictions per slot per 1 s bake (what a loaded host served): more than
    ``min_requests`` within two bakes, far too few to see a shift. The step must bake on,
    its window counting, until the shift is judged — not pass and promote the model."""
    status = await shifted_canary(client, tmp_path, sample, gateway_pki, canary_gateways,
                                  FAST, rate=8.0)
    extended = status.analyses[:-1]
    assert extended and all(a.verdict is Verdict.EXTEND and a.weight == 50 for a in extended)
    assert any("prediction shift not judged" in r for a in extended for r in a.reasons)
    for gw in ("gw-aws", "gw-azure"):  # one window, growing with every extension
        seen = [f.canary_requests + f.stable_requests for a in status.analyses
                for f in a.figures if f.gateway == gw]
        assert seen == sorted(seen) and seen[-1] > seen[0], seen


async def test_rollback_update_interrupts_a_bake_and_returns_after_weight_zero(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    slow = CanaryPlan(steps=(10, 100), bake_s=300, min_requests=0, guard_s=0)
    async with baking_canary(client, tmp_path, sample, gateway_pki, gws, slow) as canary:
        handle = canary.handle
        assert all(g.gateway.weight == 10 for g in gws)
        with pytest.raises(WorkflowUpdateFailedError):  # validated: a reason is required
            await handle.execute_update(UpdateName.ROLLBACK, {"reason": " ", "incident": "INC-1"},
                                        result_type=CanaryRollbackResult)
        result = await asyncio.wait_for(handle.execute_update(
            UpdateName.ROLLBACK, RollbackRequest(reason="sepsis alerts spiking", incident="INC-123",
                                        requested_by="oncall"),
            result_type=CanaryRollbackResult), DEADLINE)
        assert result.state is CanaryState.ROLLED_BACK
        assert result.canary_weights == {"gw-aws": 0, "gw-azure": 0}
        # confirmed before returning: the gateways already serve 0 % canary
        assert all(g.gateway.weight == 0 and g.gateway.canary is None for g in gws)
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(canary.parent.result(), DEADLINE)
        # the canary's result while its worker still runs: it ends after it has signalled
        # the parent, so the parent's end does not mean the canary has ended too
        status = await asyncio.wait_for(handle.result(), DEADLINE)
    assert status.rollback.incident == "INC-123" and "oncall" in status.rollback_cause
    # it interrupted the bake: the 300 s timer was cancelled, never fired, and the update
    # completed once the rollback's gateway calls had returned
    events = await history_events(handle)
    assert (300.0, "canceled") in timers(events)
    assert not [t for t in timers(events) if t[1] == "fired"]
    kinds = event_types(events)
    between = kinds[kinds.index("WORKFLOW_EXECUTION_UPDATE_ACCEPTED"):
                    kinds.index("WORKFLOW_EXECUTION_UPDATE_COMPLETED")]
    calls = [k for k in between if k in ("MARKER_RECORDED", "ACTIVITY_TASK_COMPLETED")]
    assert len(calls) >= len(gws)  # one rollback call per gateway, before the update returned


async def test_rollback_after_promotion_restores_the_previous_stable(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    fleet = fleet_with(tmp_path, gws)
    rows = feature_rows(sample["dataset"])
    v1 = make_request(fleet, sample, canary=FAST)
    guarded = FAST.model_copy(update={"guard_s": 120.0, **UNJUDGED_SHIFT})
    v2 = make_request(fleet, sample, canary=guarded, model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        async with traffic([g.target.public_url for g in gws], "risk", rows):
            status = await release(client, v2)
        assert status.canary.state is CanaryState.PROMOTED
        assert all(g.gateway.stable.version == v2.version for g in gws)
        result = await canary_handle(client, v2).execute_update(
            UpdateName.ROLLBACK, RollbackRequest(reason="late finding", incident="INC-9"),
            result_type=CanaryRollbackResult)
    assert result.state is CanaryState.ROLLED_BACK and result.restored_previous
    assert all(g.gateway.stable.version == v1.version for g in gws)


async def test_pause_holds_the_step_and_resume_continues(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    fleet = fleet_with(tmp_path, gws)
    rows = feature_rows(sample["dataset"])
    v1 = make_request(fleet, sample, canary=FAST)
    plan = CanaryPlan(steps=(20, 100), bake_s=2.0, min_requests=3, max_extensions=20,
                      guard_s=0, **UNJUDGED_SHIFT)
    v2 = make_request(fleet, sample, canary=plan, model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        async with traffic([g.target.public_url for g in gws], "risk", rows):
            parent = await start(client, v2)
            handle = canary_handle(client, v2)

            await wait_for_state(handle, CanaryState.BAKING)
            paused = await handle.execute_update(UpdateName.PAUSE, "oncall",
                                                 result_type=CanaryStatus)
            assert paused.pause_reason == "paused by oncall"
            await asyncio.sleep(3.0)  # longer than the bake: nothing may advance
            st = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
            assert st.state is CanaryState.PAUSED and st.weight == 20
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update(UpdateName.PAUSE, "again", result_type=CanaryStatus)
            await handle.execute_update(UpdateName.RESUME, "oncall", result_type=CanaryStatus)
            status = await parent.result()
    assert status.canary.state is CanaryState.PROMOTED


async def test_a_gateway_down_mid_canary_is_reported_and_retried(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    plan = CanaryPlan(steps=(10, 100), bake_s=1.5, min_requests=0, guard_s=0)
    async with baking_canary(client, tmp_path, sample, gateway_pki, gws, plan) as canary:
        handle = canary.handle
        gws[1].stop()  # the azure gateway dies mid-bake

        async def reported() -> bool:
            st = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
            return any(p.gateway == "gw-azure" and p.attempts >= 2 for p in st.problems)

        await wait_until(reported, timeout=30)
        st = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
        assert st.state is not CanaryState.PROMOTED  # never promoted without every gateway
        gws[1].start()  # it comes back empty (a fresh process): the canary reconciles it
        status = await asyncio.wait_for(canary.parent.result(), timeout=90)
    assert status.canary.state is CanaryState.PROMOTED
    assert any(n.startswith("gw-azure: re-applied stable") for n in status.canary.reconciled)
    assert gws[1].gateway.stable.version == canary.candidate.version
