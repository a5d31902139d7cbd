"""Helpers for canary tests: a fleet with real gateways, handles, waiting for a state."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from medpipe.contracts.canary import CanaryPlan, CanaryState, CanaryStatus, canary_id
from medpipe.contracts.names import QueryName
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import ReleaseRequest, ReleaseStatus
from tests.gateways import GatewayPKI, GatewayProcess
from tests.support import make_fleet, make_request, running_workers, start, wait_until

#: The first release of a model: an initial deployment (no canary steps to speak of).
FIRST = CanaryPlan(steps=(50, 100), bake_s=1.0, min_requests=0, guard_s=0)
#: A plan's shift judgement out of the way, for tests of other things (promotion, pause,
#: rollback by hand, error rate, latency) whose canary scores exactly like the stable model
#: (``model_v2``, ``tests.canary_models``). The two slots still score different requests, so
#: their histograms differ by sampling alone: beyond the analysis' allowance in about 0.15 %
#: of looks at 80-120 predictions (PSI 0.907 > 0.25 + 0.597 on 53 vs 70 turned CI red), and a
#: test looks many times. No samples reach PSI 100 (disjoint ones of sizes n and m give about
#: ln(2n) + ln(2m)). Shift tests keep the default limit and a shifted model of their own.
UNJUDGED_SHIFT = {"max_psi": 100.0}


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
            st = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
        except Exception:  # not started yet
            return False
        seen.append(st)
        return st.state is state

    await wait_until(reached, timeout=timeout)
    return seen[-1]


@dataclass
class BakingCanary:
    """A second version's canary, baking its first step, with the workers running."""

    fleet: Fleet
    stable: ReleaseRequest
    candidate: ReleaseRequest
    parent: WorkflowHandle[Any, ReleaseStatus]
    handle: WorkflowHandle[Any, CanaryStatus]


@contextlib.asynccontextmanager
async def baking_canary(client: Client, tmp_path: Path, sample: dict[str, Path],
                        gateway_pki: GatewayPKI, gws: list[GatewayProcess],
                        plan: CanaryPlan) -> AsyncIterator[BakingCanary]:
    """Release the sample model to ``gws``, then start its v2 as a canary with ``plan``
    and return once the first step bakes; the workers run until the block ends."""
    fleet = fleet_with(tmp_path, gws)
    v1 = make_request(fleet, sample, canary=FIRST)
    v2 = make_request(fleet, sample, canary=plan, model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        parent = await start(client, v2)
        handle = canary_handle(client, v2)
        await wait_for_state(handle, CanaryState.BAKING)
        yield BakingCanary(fleet, v1, v2, parent, handle)
