"""Choose a release's home among its compliant workers from their load (in the workflow).

Concurrent releases used to all start on the first compliant queue, so one
worker process ran every release while the other compliant workers sat idle.
Before ingest, the release runs one short local activity (``PLACEMENT_PROBE``:
which compliant queues a worker polls, how many other releases of the fleet
run and on which cloud, and how many started before it but are not placed yet)
and picks its home with the pure rule ``workflows.placement.spread``: a burst
of releases started in one second splits evenly, whatever visibility showed
each of them (it lags behind the starts). The probe's answer is a marker in history, so a
replay makes the same choice; releases started before this code replay
without it (``SPREAD_PATCH``). If the probe fails (visibility down, no
permission), the release keeps fleet order: load unknown is not a reason to
stop, and failover is unchanged either way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from medpipe.contracts.names import ActivityName
from medpipe.contracts.placement import Candidate
from medpipe.contracts.release import ReleaseRequest, Stage
from medpipe.contracts.spread import ProbeLoadInput, ProbeLoadResult
from medpipe.contracts.summary import Summary
from medpipe.workflows.placement import candidates, spread
from medpipe.workflows.policies import STAGE_SPECS

#: ``workflow.patched`` id: releases started before load-aware homes replay without it.
SPREAD_PATCH = "release-home-by-load"

#: The probe is a few RPCs to the Temporal frontend, run on the event loop of a worker
#: whose threads may be busy with data stages; slower than this, go without it.
PROBE_TIMEOUT = timedelta(seconds=15)
PROBE_RETRY = RetryPolicy(maximum_attempts=2, initial_interval=timedelta(milliseconds=200))


async def probe_candidates(request: ReleaseRequest, cands: list[Candidate], summary: str, *,
                           started_at: datetime | None = None,
                           liveness_only: bool = False) -> ProbeLoadResult:
    """The placement probe over ``cands`` (a local activity of the control worker; its
    answer is recorded in history, so a replay decides alike).

    Raises:
        ActivityError: the probe failed (the caller goes on without it).
    """
    probe: ProbeLoadResult = await workflow.execute_local_activity(
        ActivityName.PLACEMENT_PROBE,
        ProbeLoadInput(queues=tuple(c.queue for c in cands),
                       clouds=tuple(c.profile.cloud.value for c in cands),
                       control_queue=request.fleet.control_queue, started_at=started_at,
                       liveness_only=liveness_only),
        result_type=ProbeLoadResult, start_to_close_timeout=PROBE_TIMEOUT,
        retry_policy=PROBE_RETRY, summary=Summary(summary))
    return probe


async def home_rotation(request: ReleaseRequest) -> tuple[int, str]:
    """How far to rotate ingest's candidates so the release lands on its home, and why.

    Returns:
        (rotation, note): 0 and "" when there is nothing to choose (one candidate),
        the history predates this code, or no other release runs.
    """
    cands = candidates(STAGE_SPECS[Stage.INGEST], request.fleet, request.residency)
    if len(cands) < 2 or not workflow.patched(SPREAD_PATCH):
        return 0, ""
    try:
        probe = await probe_candidates(request, cands, "placement: load of compliant workers",
                                       started_at=workflow.info().workflow_start_time)
    except ActivityError:
        workflow.logger.warning("placement probe failed: fleet order for this release")
        return 0, "placement: load unknown (probe failed), fleet order"
    return spread(cands, probe)
