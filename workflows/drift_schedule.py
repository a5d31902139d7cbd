"""Create, replace or remove a model's drift schedule from the canary workflow.

Kept apart from ``workflows/canary.py`` so the canary only says *when*
(promotion, rollback of a promoted version); this module says *what*: the
``DriftMonitorInput`` every scheduled run gets, built from the canary's input,
and whether it applies at all.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from medpipe.contracts.canary import CanaryInput, CanaryState, canary_id
from medpipe.contracts.drift import DriftMonitorInput, DriftScheduleInput, DriftScheduleResult
from medpipe.contracts.names import ActivityName
from medpipe.contracts.summary import Summary

#: ``workflow.patched`` marker of the drift schedule calls (histories recorded before
#: drift monitoring replay without them).
DRIFT_PATCH = "drift-monitor-schedule"
#: A few attempts a second apart: the schedule call is quick and idempotent.
SCHEDULE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)


def monitor_input(inp: CanaryInput) -> DriftMonitorInput:
    """What each scheduled drift check of this release reads and does."""
    assert inp.profile is not None
    return DriftMonitorInput(
        model=inp.model, version=inp.version, release_id=inp.release_id,
        canary_workflow_id=canary_id(inp.release_id), targets=inp.targets,
        activity_queue=inp.activity_queue, profile=inp.profile, policy=inp.drift,
        ledger_uri=inp.ledger_uri, ledger_checkpoint_uri=inp.ledger_checkpoint_uri,
        keys=inp.keys, reference_auroc=inp.reference_auroc)


def profile_body(inp: CanaryInput) -> dict[str, object]:
    """The load request's ``profile`` (the gateways count live inputs over its bins)."""
    return {"profile": inp.profile.model_dump(mode="json")} if inp.profile else {}


async def drift_schedule(inp: CanaryInput, state: CanaryState, taken_back: bool) -> None:
    """Create/replace the model's drift schedule at promotion (``state`` promoted), or
    delete it when a promoted version was rolled back (``taken_back``: previous restored).

    Nothing without a profile, with drift disabled, or when replaying a history from
    before drift monitoring. A failure is logged, never a reason to fail the canary:
    the model serves either way.
    """
    promoted = state is CanaryState.PROMOTED
    if not (promoted or taken_back) or inp.profile is None or not inp.drift.enabled \
            or not workflow.patched(DRIFT_PATCH):
        return
    remove = not promoted
    schedule = DriftScheduleInput(model=inp.model, control_queue=workflow.info().task_queue,
                                  monitor=None if remove else monitor_input(inp))
    try:
        result: DriftScheduleResult = await workflow.execute_activity(
            ActivityName.DRIFT_SCHEDULE, schedule, task_queue=inp.activity_queue,
            result_type=DriftScheduleResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=SCHEDULE_RETRY,
            summary=Summary(("remove" if remove else "start") + f" drift monitor of "
                            f"{inp.model}"))
        workflow.logger.info("drift schedule %s %s", result.schedule_id, result.action)
    except ActivityError as e:
        workflow.logger.error("drift schedule of %s not %s: %s", inp.model,
                              "removed" if remove else "created", e.cause or e)
