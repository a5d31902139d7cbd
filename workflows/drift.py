"""DriftMonitorWorkflow: one check of a model in service against its reference profile.

Started by the model's Temporal Schedule (created at promotion, see
``activities.drift.schedule_monitor``) every ``policy.interval_s``. Each run
reads and resets the sketch window of every gateway serving the version,
judges it (``workflows.drift_stats``: PSI and chi-square per feature and for
the predictions, no verdict on thin traffic), shows the verdict as the
``MedpipeDrift`` search attribute, and acts by policy: record (history only),
alert (ledger + webhook), rollback (ledger + the canary's rollback Update with
``requested_by="drift-monitor"``, then the webhook if one is set, then the
schedule is removed: the version it watched is no longer in service).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from medpipe.contracts.canary import GatewayCallInput, GatewayCallResult
from medpipe.contracts.drift import (
    DriftAction,
    DriftAlertInput,
    DriftAlertResult,
    DriftMonitorInput,
    DriftMonitorResult,
    DriftRollbackInput,
    DriftRollbackResult,
    DriftScheduleInput,
    DriftScheduleResult,
    DriftVerdict,
    DriftVerdictKind,
    SlotSketch,
)
from medpipe.contracts.ledger import LedgerAppendInput, LedgerAppendResult
from medpipe.contracts.names import ActivityName, QueryName, SearchAttr, WorkflowName
from medpipe.contracts.placement import GatewayTarget
from medpipe.contracts.summary import Summary
from medpipe.workflows.drift_stats import judge, merge

#: Webhook delivery: retried for about ten minutes, then the run fails visibly.
ALERT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                          maximum_interval=timedelta(seconds=60), maximum_attempts=15,
                          non_retryable_error_types=["InvalidInput"])
SHORT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
REQUESTED_BY = "drift-monitor"


@workflow.defn(name=WorkflowName.DRIFT)
class DriftMonitorWorkflow:
    """One drift check of one model version (a Schedule starts one per interval)."""

    def __init__(self) -> None:
        self._verdict: DriftVerdict | None = None
        self._actions: list[str] = []

    @workflow.run
    async def run(self, inp: DriftMonitorInput) -> DriftMonitorResult:
        """Read the windows, judge them, act by policy."""
        workflow.upsert_search_attributes([SearchAttr.MODEL.value_set(inp.model),
                                           SearchAttr.VERSION.value_set(inp.version)])
        windows = await asyncio.gather(*(self._read(inp, t) for t in inp.targets))
        window = merge([w for w in windows if w is not None])
        verdict = judge(inp.profile, window, inp.policy, at=workflow.now(),
                        reference_auroc=inp.reference_auroc)
        self._verdict = verdict
        workflow.upsert_search_attributes([SearchAttr.DRIFT.value_set(verdict.verdict.value)])
        workflow.logger.info("drift verdict %s over %d rows: %s", verdict.verdict.value,
                             verdict.rows, "; ".join(verdict.reasons) or "no drift")
        if verdict.verdict is DriftVerdictKind.DRIFT and inp.policy.action is not \
                DriftAction.RECORD:
            await self._act(inp, verdict)
        return DriftMonitorResult(verdict=verdict, actions=tuple(self._actions))

    async def _read(self, inp: DriftMonitorInput, target: GatewayTarget) -> SlotSketch | None:
        """The window of the slot serving ``inp.version`` on one gateway (then reset).

        A gateway that does not answer is left out of this window (named in the log);
        the next run reads it again.
        """
        try:
            result: GatewayCallResult = await workflow.execute_activity(
                ActivityName.GATEWAY_CALL,
                GatewayCallInput(target=target, operation="sketches-reset"),
                task_queue=inp.activity_queue, result_type=GatewayCallResult,
                start_to_close_timeout=timedelta(seconds=20), retry_policy=SHORT_RETRY,
                summary=Summary(f"sketches of {target.name}"))
        except ActivityError as e:
            workflow.logger.warning("gateway %s: sketches not read: %s", target.name,
                                    e.cause or e)
            return None
        sk = result.sketches
        for slot in (sk.stable, sk.canary) if sk else ():
            if slot is not None and slot.version == inp.version:
                return slot
        return None

    async def _act(self, inp: DriftMonitorInput, verdict: DriftVerdict) -> None:
        policy = inp.policy
        await self._ledger(inp, verdict)
        if policy.action is DriftAction.ROLLBACK:
            result: DriftRollbackResult = await workflow.execute_activity(
                ActivityName.DRIFT_ROLLBACK,
                DriftRollbackInput(canary_workflow_id=inp.canary_workflow_id,
                                   version=inp.version, targets=inp.targets,
                                   reason=("drift: " + "; ".join(verdict.reasons))[:500],
                                   requested_by=REQUESTED_BY),
                task_queue=inp.activity_queue, result_type=DriftRollbackResult,
                start_to_close_timeout=timedelta(seconds=120), retry_policy=SHORT_RETRY,
                summary=Summary(f"rollback {inp.model} {inp.version}: drift"))
            self._actions.append(f"rolled back via {result.via} ({result.state})")
            await self._ledger(inp, verdict, kind="drift-rollback", extra={
                "via": result.via, "state": result.state,
                "restored_previous": result.restored_previous})
        if policy.webhook_url:
            alert: DriftAlertResult = await workflow.execute_activity(
                ActivityName.DRIFT_ALERT,
                DriftAlertInput(url=policy.webhook_url,
                                idempotency_key=f"{workflow.info().workflow_id}/"
                                                f"{workflow.info().run_id}",
                                model=inp.model, version=inp.version,
                                release_id=inp.release_id, action=policy.action,
                                verdict=verdict),
                task_queue=inp.activity_queue, result_type=DriftAlertResult,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=ALERT_RETRY,
                summary=Summary("drift alert webhook"))
            self._actions.append(f"alerted (HTTP {alert.status})")
        if policy.action is DriftAction.ROLLBACK:
            done: DriftScheduleResult = await workflow.execute_activity(
                ActivityName.DRIFT_SCHEDULE,
                DriftScheduleInput(model=inp.model, control_queue=workflow.info().task_queue),
                task_queue=inp.activity_queue, result_type=DriftScheduleResult,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=SHORT_RETRY,
                summary=Summary(f"remove drift schedule of {inp.model}"))
            self._actions.append(f"schedule {done.schedule_id} {done.action}")

    async def _ledger(self, inp: DriftMonitorInput, verdict: DriftVerdict,
                      kind: str = "drift-alert", extra: dict[str, Any] | None = None) -> None:
        """Record the alert (or the rollback it caused) in the ledger, when there is one."""
        if not inp.ledger_uri or not inp.keys.enabled:
            return
        await workflow.execute_local_activity(
            ActivityName.LEDGER_APPEND,
            LedgerAppendInput(
                ledger_uri=inp.ledger_uri, keys=inp.keys, kind=kind,
                release_id=inp.release_id, checkpoint_uri=inp.ledger_checkpoint_uri,
                idempotency_key=f"{inp.release_id}/{kind}/{workflow.info().workflow_id}/"
                                f"{workflow.info().run_id}",
                payload={"version": inp.version, "verdict": verdict.verdict.value,
                         "rows": verdict.rows, "action": inp.policy.action.value,
                         "requested_by": REQUESTED_BY,
                         "reasons": [r[:200] for r in verdict.reasons],
                         "figures": [f.model_dump(mode="json") for f in verdict.figures
                                     if f.drifted], **(extra or {})}),
            result_type=LedgerAppendResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=SHORT_RETRY, summary=Summary(f"ledger: {kind}"))
        self._actions.append(f"ledger: {kind}")

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> DriftVerdict | None:
        """The verdict of this run (None until judged)."""
        return self._verdict
