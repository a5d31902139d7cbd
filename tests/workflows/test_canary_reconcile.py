"""The canary reconciles a gateway that comes back mid-canary without its serving state:
at each step it reads every gateway's status and re-applies stable, canary, weight and
fallback where they differ, each call in history."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from medpipe.activities.deploy import GatewayAdmin
from medpipe.contracts.canary import CanaryPlan, CanaryState, GatewayCallInput
from medpipe.contracts.deploy import FallbackKind, FallbackRule, FallbackSpec, RuleOutput
from tests.canary import baking_canary
from tests.gateways import GatewayPKI, gateways
from tests.history import history_events

pytestmark = pytest.mark.asyncio

RULE = FallbackSpec(kind=FallbackKind.RULE, rule=FallbackRule(
    name="refer", outputs=[RuleOutput(name="probability", datatype="FP32", value=[1.0])]))


async def test_a_gateway_back_without_its_state_file_is_reconciled_and_the_canary_completes(
        client: Client, tmp_path: Path, sample: dict[str, Path],
        gateway_pki: GatewayPKI) -> None:
    plan = CanaryPlan(steps=(10, 50, 100), bake_s=1.5, min_requests=0, guard_s=0)
    with gateways(["gw-aws", "gw-azure"], "risk", gateway_pki, tmp_path / "gw",
                  state=True) as gws:
        lost = gws[1]
        admin = GatewayAdmin(gateway_pki.client)
        admin.call(GatewayCallInput(target=lost.target, operation="fallback",
                                    body=RULE.model_dump(mode="json")))
        async with baking_canary(client, tmp_path, sample, gateway_pki, gws, plan) as canary:
            assert lost.state_file is not None and lost.state_file.exists()
            lost.stop()
            lost.state_file.unlink()  # the disk is lost with the process
            lost.start()
            assert lost.gateway.stable is None and lost.gateway.canary is None
            assert lost.gateway.fallback.spec is None
            status = await asyncio.wait_for(canary.parent.result(), timeout=120)
            events = await history_events(canary.handle)
        admin.close()
        serving = {g.name: (g.gateway.stable, g.gateway.previous) for g in gws}
        fallback = lost.gateway.fallback.spec
    assert status.canary.state is CanaryState.PROMOTED
    notes = [n for n in status.canary.reconciled if n.startswith("gw-azure: ")]
    assert notes, status.canary.reconciled
    assert f"stable {canary.stable.version}" in notes[0]
    assert f"canary {canary.candidate.version}" in notes[0]
    assert "fallback rule" in notes[0]
    assert not any(n.startswith("gw-aws: ") for n in status.canary.reconciled)
    for stable, previous in serving.values():  # the promoted version, and the lost
        assert stable is not None and previous is not None  # gateway its previous again
        assert (stable.version, previous.version) == (canary.candidate.version,
                                                      canary.stable.version)
    assert fallback == RULE
    # recorded in history: the patch marker, and the status is the workflow's result
    assert any(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events)
