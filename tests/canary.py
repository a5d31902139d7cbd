"""Helpers for canary tests: a fleet with real gateways, handles, waiting for a state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from medpipe.contracts.canary import CanaryState, CanaryStatus, canary_id
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import ReleaseRequest
from tests.gateways import GatewayProcess
from tests.support import make_fleet, start, wait_until


def fleet_with(tmp_path: Path, gws: list[GatewayProcess]) -> Fleet:
    """The test fleet, deploying to ``gws``."""
    return make_fleet(tmp_path).model_copy(update={"gateways": tuple(g.target for g in gws)})


async def release(client: Client, request: ReleaseRequest) -> Any:
    """Start a release and wait for its result."""
    return await (await start(client, request)).result()


def canary_handle(client: Client, request: ReleaseRequest) -> WorkflowHandle[Any, CanaryStatus]:
    """The release's CanaryWorkflow."""
    return client.get_workflow_handle(canary_id(request.release_id), result_type=CanaryStatus)


async def wait_for_state(handle: WorkflowHandle[Any, CanaryStatus], state: CanaryState,
                         timeout: float = 60) -> CanaryStatus:
    """Poll the ``status`` query until the canary is in ``state``; returns that status."""
    seen: list[CanaryStatus] = []

    async def reached() -> bool:
        try:
            st = await handle.query("status", result_type=CanaryStatus)
        except Exception:  # not started yet
            return False
        seen.append(st)
        return st.state is state

    await wait_until(reached, timeout=timeout)
    return seen[-1]
