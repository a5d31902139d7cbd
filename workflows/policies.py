"""Per-stage needs and Temporal timeouts, in one place.

Retries: every activity runs with ``maximum_attempts=1`` and the workflow
retries or fails over itself (``workflows.stage_runner``). Temporal cannot
retry an activity on another task queue, and a server-side retry after a
heartbeat timeout would wait on the dead worker's queue for a whole
schedule-to-start timeout before we could move it; owning the loop keeps
every attempt visible in history and failover as fast as detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy

from medpipe.contracts.placement import DataClass
from medpipe.contracts.release import PlacementTimeouts, Stage
from medpipe.workflows.placement import StageSpec

#: One attempt per scheduled activity; the stage runner decides what comes next.
SINGLE_ATTEMPT = RetryPolicy(maximum_attempts=1)

#: Ingest and pseudonymize handle identifiable data; validation compares against
#: (digests of) identifiers, so it stays home too; evaluation sees only
#: pseudonymized rows (and may leave the home jurisdiction if the residency
#: policy allows it); signing sees only the model.
STAGE_SPECS: dict[Stage, StageSpec] = {
    Stage.INGEST: StageSpec(stage=Stage.INGEST, data_class=DataClass.IDENTIFIABLE),
    Stage.PSEUDONYMIZE: StageSpec(stage=Stage.PSEUDONYMIZE,
                                  data_class=DataClass.IDENTIFIABLE),
    Stage.VALIDATE: StageSpec(stage=Stage.VALIDATE, data_class=DataClass.IDENTIFIABLE),
    Stage.EVALUATE: StageSpec(stage=Stage.EVALUATE, data_class=DataClass.PSEUDONYMIZED,
                              wants_gpu=True),
    Stage.SIGN: StageSpec(stage=Stage.SIGN, data_class=DataClass.NONE),
}


@dataclass(frozen=True)
class ActivityTimeouts:
    """The three timeouts every placed activity is scheduled with."""

    schedule_to_start: timedelta
    heartbeat: timedelta
    start_to_close: timedelta


def activity_timeouts(t: PlacementTimeouts) -> ActivityTimeouts:
    """Temporal timeouts for ``workflow.execute_activity`` from a timeouts contract."""
    return ActivityTimeouts(
        schedule_to_start=timedelta(seconds=t.schedule_to_start_s),
        heartbeat=timedelta(seconds=t.heartbeat_s),
        start_to_close=timedelta(seconds=t.start_to_close_s))
