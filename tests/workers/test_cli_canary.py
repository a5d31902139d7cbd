"""``medpipe promote`` and ``medpipe rollback --signal`` as on-call staff run them: real
processes against the session's Temporal server, a running canary on real gateways."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import yaml
from temporalio.client import Client, WorkflowFailureError

from medpipe.contracts.canary import CanaryPlan, CanaryState
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import ReleaseState
from medpipe.workers.devserver import TemporalDevServer
from tests.canary import baking_canary
from tests.gateways import GatewayPKI, GatewayProcess

pytestmark = pytest.mark.asyncio
#: A command or a result that takes longer than this fails the test instead of hanging it.
DEADLINE = 90.0


async def medpipe(server: TemporalDevServer, config: Path, *args: str) -> tuple[int, str, str]:
    """Run ``python -m medpipe ARGS`` without blocking the in-process workers' event loop."""
    env = {**os.environ, "MEDPIPE_CONFIG": str(config),
           "MEDPIPE_TEMPORAL_ADDRESS": server.address, "COLUMNS": "200"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "medpipe", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), DEADLINE)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def config_file(tmp_path: Path, fleet: Fleet) -> Path:
    path = tmp_path / "medpipe.yaml"
    path.write_text(yaml.safe_dump({"fleet": fleet.model_dump(mode="json"),
                                    "payload_codec": False, "home": str(tmp_path / "home")}))
    return path


async def test_cli_promote_and_its_refusal(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    plan = CanaryPlan(steps=(10, 50, 100), bake_s=300, min_requests=0, guard_s=120)
    async with baking_canary(client, tmp_path, sample, gateway_pki, gws, plan) as canary:
        config = config_file(tmp_path, canary.fleet)
        handle, v2 = canary.handle, canary.candidate
        name = v2.release_id.removeprefix("release-")  # as people type it
        code, out, err = await medpipe(temporal_server, config, "promote", name,
                                       "--by", "dr-oncall")
        assert code == 0, out + err
        assert f"{handle.id} promoting" in out
        status = await asyncio.wait_for(canary.parent.result(), DEADLINE)  # not the bake
        assert status.state is ReleaseState.SUCCEEDED
        assert status.canary.state is CanaryState.PROMOTED
        assert all(g.gateway.stable.version == v2.version for g in gws)
        code, out, err = await medpipe(temporal_server, config, "promote", name)
        assert code == 2 and "Traceback" not in err
        assert "promote refused: cannot promote a canary that is promoted" in " ".join(err.split())
        await handle.terminate("test over")


async def test_cli_rollback_signal_returns_at_once_and_the_canary_rolls_back(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    plan = CanaryPlan(steps=(10, 100), bake_s=300, min_requests=0, guard_s=0)
    async with baking_canary(client, tmp_path, sample, gateway_pki, gws, plan) as canary:
        config = config_file(tmp_path, canary.fleet)
        handle, v2 = canary.handle, canary.candidate
        code, out, err = await medpipe(
            temporal_server, config, "rollback", v2.release_id, "--reason",
            "alerts doubled", "--incident", "INC-55", "--by", "dr-oncall", "--signal")
        assert code == 0, out + err
        assert f"rollback signalled to {handle.id}" in out
        status = await asyncio.wait_for(handle.result(), DEADLINE)
        with pytest.raises(WorkflowFailureError):
            await canary.parent.result()
    assert status.state is CanaryState.ROLLED_BACK
    assert status.rollback_cause == "signalled by dr-oncall: alerts doubled"
    assert status.rollback is not None and status.rollback.incident == "INC-55"
    assert all(g.gateway.weight == 0 and g.gateway.canary is None for g in gws)
