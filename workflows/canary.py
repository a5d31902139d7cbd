"""CanaryWorkflow: step traffic to a new model, analyse each step, promote or roll back.

Runs as a child of ReleaseWorkflow, on every target gateway at once. Each
step sets the canary weight everywhere, resets the gateways' metric windows,
bakes (``workflow.wait_condition`` with a timeout, so a rollback, pause or
promote interrupts it at once), and analyses canary vs stable on the same
traffic (``workflows.analysis``). Any failed check rolls back everywhere; a
step too thin to judge bakes on, its window growing, then pauses.

Incident responders roll back with the ``rollback`` Update (validated; it
returns only when every gateway reports canary weight 0) or the
``rollback-signal`` Signal (fire and forget). After promotion the workflow
stays open for ``plan.guard_s``: a rollback then restores the previous
stable at once.

With an approval rule the rollout also holds at ``rule.at_weight`` until
enough signed approvals verify (``workflows.approval_gate``), analysing
traffic meanwhile so a bad canary still rolls back by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from medpipe.contracts.approval import ApprovalProgress, SignedStatement
from medpipe.contracts.canary import (
    CanaryInput,
    CanaryRollbackResult,
    CanaryState,
    CanaryStatus,
    GatewaySbom,
    GatewayTarget,
    RollbackRequest,
    StepAnalysis,
    Verdict,
)
from medpipe.contracts.deploy import FallbackSpec, LoadModelRequest
from medpipe.contracts.names import QueryName, SearchAttr, SignalName, UpdateName, WorkflowName
from medpipe.workflows import canary_controls as controls
from medpipe.workflows import reconcile
from medpipe.workflows.analysis import JUDGED_PATCH, analyse, figures
from medpipe.workflows.approval_gate import ApprovalGate, sboms_of
from medpipe.workflows.drift_schedule import drift_schedule, profile_body
from medpipe.workflows.gateway_calls import GatewayCalls, served_weight


class _Interrupted(Exception):
    """A rollback was requested while a step's gateway calls were in flight."""


@workflow.defn(name=WorkflowName.CANARY)
class CanaryWorkflow:
    """Canary rollout of one model version to every target gateway."""

    def __init__(self) -> None:
        self._inp: CanaryInput | None = None
        self._state = CanaryState.LOADING
        self._weight = 0
        self._step_index = -1
        self._analyses: list[StepAnalysis] = []
        self._rollback: RollbackRequest | None = None
        self._rollback_cause: str | None = None
        self._paused = False
        self._pause_reason: str | None = None
        self._promote_now = False
        self._gw = GatewayCalls("", False)
        self._initial = False
        self._canary_targets: list[GatewayTarget] = []
        self._confirmed: dict[str, int] = {}
        self._restored_previous = False
        self._stables: dict[str, LoadModelRequest] = {}
        self._fallbacks: dict[str, FallbackSpec] = {}
        self._reconciled: list[str] = []
        self._gate = ApprovalGate(None, "", "", None)
        self._auto_rollback = False
        self._rollback_review: str | None = None
        self._sboms: tuple[GatewaySbom, ...] = ()

    # -- helpers ---------------------------------------------------------------------
    @property
    def _abort(self) -> bool:
        return self._rollback is not None

    async def _interruptible(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` unless a rollback arrives first (then cancel it)."""
        task = asyncio.ensure_future(coro)
        await workflow.wait_condition(lambda: task.done() or self._abort)
        if task.done():
            return task.result()
        task.cancel()
        raise _Interrupted()

    # -- run -------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: CanaryInput) -> CanaryStatus:
        """Deploy, step, analyse; promote or roll back."""
        self._inp = inp
        self._gw = GatewayCalls(inp.activity_queue, inp.rollback_locally)
        self._gate = ApprovalGate(inp.approval, inp.release_id, inp.artifact.plain_sha256,
                                  inp.releaser)
        try:
            await self._interruptible(self._load(inp))
            if not self._canary_targets:
                self._state = CanaryState.PROMOTED
                self._show_state()
                await self._notify_parent()
                return self.status()
            outcome = await self._steps(inp)
            if outcome == "promote" and self._gate.pending:
                outcome = await self._await_approval(inp)
            if outcome in ("promote", "approved"):
                self._state = CanaryState.PROMOTING
                await self._interruptible(self._reconcile())
                await self._interruptible(self._gw.all(self._canary_targets, "promote",
                                                    {"version": inp.version}))
                self._weight = 100
                self._state = CanaryState.PROMOTED
                self._show_state()
                await self._notify_parent()
                await self._guard(inp)
                if not self._abort:
                    return self.status()
        except _Interrupted:
            pass
        await self._do_rollback(inp)
        if self._rollback is not None and not self._auto_rollback:
            self._rollback_review = await self._gate.review_rollback(self._rollback.statement)
        self._show_state()
        await self._notify_parent()
        return self.status()

    async def _load(self, inp: CanaryInput) -> None:
        statuses = await self._gw.all(list(inp.targets), "status")
        self._sboms = sboms_of(inp.targets, statuses)
        initial = [t for t, s in zip(inp.targets, statuses, strict=True)
                   if s.status is None or s.status.stable is None]
        self._canary_targets = [t for t in inp.targets if t not in initial]
        self._initial = bool(initial) and not self._canary_targets
        self._stables, self._fallbacks = reconcile.found_serving(
            inp, {t.name: s.status for t, s in zip(inp.targets, statuses, strict=True)})
        if initial and self._gate.pending and await self._await_approval(inp) != "approved":
            return  # a first deployment takes all traffic at once: approvals come first
        body: dict[str, object] = {**profile_body(inp),
            "name": inp.model, "version": inp.version, "model_uri": inp.artifact.uri,
            "sha256": inp.artifact.sha256, "bundle_uri": inp.bundle.uri if inp.bundle else None,
            "release_id": inp.release_id}
        if inp.prediction is not None:  # absent, the gateway records binary scores
            body["prediction"] = inp.prediction.model_dump(mode="json")
        await asyncio.gather(
            self._gw.all(initial, "load", {**body, "slot": "stable"}),
            self._gw.all(self._canary_targets, "load", {**body, "slot": "canary"}))
        if inp.fallback is not None:
            await self._gw.all(list(inp.targets), "fallback", inp.fallback.model_dump(mode="json"))

    async def _reconcile(self) -> None:
        """Re-apply stable, canary, weight and fallback where a gateway lost them (it
        came back without its serving state); each call is in history and listed in
        the status's ``reconciled``."""
        if not workflow.patched(reconcile.RECONCILE_PATCH):
            return
        assert self._inp is not None
        self._reconciled += await reconcile.reapply(
            self._gw, self._canary_targets, reconcile.canary_request(self._inp), self._weight,
            self._stables, self._fallbacks)

    async def _steps(self, inp: CanaryInput) -> str:
        for index, weight in enumerate(inp.plan.steps):
            if self._gate.holds_before(weight):
                held = await self._await_approval(inp)
                if held != "approved":
                    return held
            self._step_index = index
            await self._interruptible(self._reconcile())
            await self._interruptible(self._gw.all(self._canary_targets, "weight",
                                                {"weight": weight}))
            self._weight = weight
            extensions = 0
            rebake = keep_window = False
            while True:
                if rebake:  # a step baked again: check the gateways again first
                    await self._interruptible(self._reconcile())
                rebake = True
                if not keep_window:
                    await self._interruptible(self._gw.all(self._canary_targets, "metrics-reset"))
                self._state = CanaryState.BAKING
                baked = await self._bake(inp.plan.bake_s)
                if baked != "done":
                    return baked
                verdict = await self._judge(inp, weight, extensions, len(self._analyses))
                if verdict.verdict is Verdict.ROLLBACK:
                    return "abort"
                if verdict.verdict is Verdict.EXTEND:
                    extensions += 1
                    # the extension adds to the window, so a slow trickle still adds up
                    keep_window = workflow.patched(JUDGED_PATCH)
                    continue
                if verdict.verdict is Verdict.PAUSE:
                    self._paused, self._pause_reason = True, verdict.reasons[0]
                    extensions, keep_window = 0, False
                    continue  # _bake waits while paused
                break
        return "promote"

    async def _judge(self, inp: CanaryInput, weight: int, extensions: int,
                     slot: int) -> StepAnalysis:
        """Analyse the step's metrics into ``analyses[slot]``; a bad one starts a rollback."""
        results = await self._interruptible(self._gw.all(self._canary_targets, "metrics"))
        pairs = list(zip(self._canary_targets, results, strict=True))
        figs = [figures(t.name, r.metrics, inp.prediction) for t, r in pairs if r.metrics]
        verdict = analyse(inp.plan, weight, figs, extensions,
                          shift_required=workflow.patched(JUDGED_PATCH),
                          unanswered=tuple(t.name for t, r in pairs if not r.metrics)
                          ).model_copy(
            update={"at": workflow.now()})
        self._analyses[slot:] = [verdict]
        if verdict.verdict is Verdict.ROLLBACK:
            self._rollback = RollbackRequest(reason="automatic: " + "; ".join(
                verdict.reasons), requested_by="canary-analysis")
            self._rollback_cause = "analysis: " + "; ".join(verdict.reasons)
            self._auto_rollback = True
        return verdict

    def _show_state(self) -> None:
        """Mirror the state into ``MedpipeState`` (canaries with an approval gate only, so
        histories recorded before the gate replay unchanged)."""
        if self._inp is not None and self._inp.approval is not None:
            workflow.upsert_search_attributes([SearchAttr.STATE.value_set(self._state.value)])

    async def _await_approval(self, inp: CanaryInput) -> str:
        """Hold the current weight until approved; keep analysing each bake meanwhile."""
        self._state = CanaryState.AWAITING_APPROVAL
        self._show_state()
        judged = len(self._analyses)  # one analysis slot, overwritten while waiting
        while self._gate.pending and not self._abort:
            if self._weight == 0:  # no canary traffic to judge: just wait
                await workflow.wait_condition(lambda: self._abort or not self._gate.pending)
                continue
            await self._interruptible(self._gw.all(self._canary_targets, "metrics-reset"))
            try:
                await workflow.wait_condition(lambda: self._abort or not self._gate.pending,
                                              timeout=timedelta(seconds=inp.plan.bake_s))
                continue
            except TimeoutError:
                pass
            await self._judge(inp, self._weight, 0, judged)
        if self._abort:
            return "abort"
        self._state = CanaryState.BAKING
        self._show_state()
        return "approved"

    async def _bake(self, seconds: float) -> str:
        deadline = workflow.now() + timedelta(seconds=seconds)
        while True:
            if self._abort:
                return "abort"
            if self._promote_now:
                return "promote"
            if self._paused:
                self._state = CanaryState.PAUSED
                await workflow.wait_condition(
                    lambda: not self._paused or self._abort or self._promote_now)
                if self._abort or self._promote_now:
                    continue
                self._state = CanaryState.BAKING
                self._pause_reason = None
                await self._interruptible(self._gw.all(self._canary_targets, "metrics-reset"))
                deadline = workflow.now() + timedelta(seconds=seconds)
            remaining = (deadline - workflow.now()).total_seconds()
            if remaining <= 0:
                return "done"
            try:
                await workflow.wait_condition(
                    lambda: self._abort or self._promote_now or self._paused,
                    timeout=timedelta(seconds=remaining))
            except TimeoutError:
                return "done"

    async def _guard(self, inp: CanaryInput) -> None:
        if inp.plan.guard_s <= 0:
            return
        try:
            await workflow.wait_condition(lambda: self._abort,
                                          timeout=timedelta(seconds=inp.plan.guard_s))
        except TimeoutError:
            return

    async def _do_rollback(self, inp: CanaryInput) -> None:
        self._state = CanaryState.ROLLING_BACK
        reason = self._rollback.reason if self._rollback else "rollback"
        targets = self._canary_targets or list(inp.targets)
        results = await self._gw.all(targets, "rollback",
                                  {"version": inp.version, "reason": reason[:500]})
        self._restored_previous = any(r.action == "restored_previous" for r in results)
        confirmed = {t.name: served_weight(r.status, inp.version)
                     for t, r in zip(targets, results, strict=True)}
        if any(w != 0 for w in confirmed.values()):  # confirm from a fresh status read
            statuses = await self._gw.all(targets, "status")
            confirmed = {t.name: served_weight(r.status, inp.version)
                         for t, r in zip(targets, statuses, strict=True)}
        self._confirmed = confirmed
        self._weight = 0
        self._state = (CanaryState.ROLLED_BACK if all(w == 0 for w in confirmed.values())
                       else CanaryState.FAILED)

    async def _notify_parent(self) -> None:
        assert self._inp is not None
        await drift_schedule(self._inp, self._state, self._restored_previous)  # drift monitor
        if self._inp.parent_workflow_id:
            parent = workflow.get_external_workflow_handle(self._inp.parent_workflow_id)
            try:
                await parent.signal(SignalName.CANARY_SETTLED, self.status())
            except ApplicationError:  # the parent has ended: nothing to tell
                pass

    # -- handlers --------------------------------------------------------------------
    @workflow.update(name=UpdateName.ROLLBACK)
    async def rollback(self, request: RollbackRequest) -> CanaryRollbackResult:
        """Roll back now; return once every gateway confirms the canary serves 0 %."""
        if self._rollback is None:
            self._rollback = request
            self._rollback_cause = (f"requested by {request.requested_by}"
                                    + (f" ({request.incident})" if request.incident else "")
                                    + f": {request.reason}")
        await workflow.wait_condition(
            lambda: self._state in (CanaryState.ROLLED_BACK, CanaryState.FAILED))
        return CanaryRollbackResult(state=self._state, canary_weights=dict(self._confirmed),
                                    restored_previous=self._restored_previous)

    @rollback.validator
    def _validate_rollback(self, request: RollbackRequest) -> None:
        controls.check(controls.refuse_rollback(request.reason, self._state))

    @workflow.signal(name=SignalName.ROLLBACK)
    def rollback_signal(self, request: RollbackRequest) -> None:
        """Fire-and-forget rollback (same effect as the Update)."""
        if self._rollback is None:
            self._rollback = request
            self._rollback_cause = f"signalled by {request.requested_by}: {request.reason}"

    @workflow.update(name=UpdateName.APPROVE)
    async def approve(self, statement: SignedStatement) -> ApprovalProgress:
        """Count one signed promote approval, or fail with who/which role/why it was refused."""
        return await self._gate.submit(statement)

    @approve.validator
    def _validate_approve(self, statement: SignedStatement) -> None:
        controls.check(controls.refuse_approval(statement, self._gate, self._abort, self._state))

    @workflow.update(name=UpdateName.PAUSE)
    def pause(self, who: str) -> CanaryStatus:
        """Hold the current step (traffic stays where it is) until resumed."""
        self._paused = True
        self._pause_reason = f"paused by {who}"
        return self.status()

    @pause.validator
    def _validate_pause(self, who: str) -> None:
        controls.check(controls.refuse_pause(self._state))

    @workflow.update(name=UpdateName.RESUME)
    def resume(self, who: str) -> CanaryStatus:
        """Continue a paused canary (the step bakes again from the start)."""
        self._paused = False
        return self.status()

    @resume.validator
    def _validate_resume(self, who: str) -> None:
        controls.check(controls.refuse_resume(self._paused))

    @workflow.update(name=UpdateName.PROMOTE)
    def promote(self, who: str) -> CanaryStatus:
        """Skip the remaining steps and promote now (on-call decision)."""
        self._promote_now = True
        return self.status()

    @promote.validator
    def _validate_promote(self, who: str) -> None:
        controls.check(controls.refuse_promotion(self._gate, self._abort, self._state))

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> CanaryStatus:
        """State, weight, every analysis with its figures, problems, rollback cause."""
        return CanaryStatus(
            release_id=self._inp.release_id if self._inp else "", state=self._state,
            weight=self._weight, step_index=self._step_index, analyses=tuple(self._analyses),
            rollback=self._rollback, rollback_cause=self._rollback_cause,
            problems=tuple(self._gw.problems.values()), initial_deploy=self._initial,
            pause_reason=self._pause_reason if self._paused else None,
            reconciled=tuple(self._reconciled),
            model_sha256=self._inp.artifact.plain_sha256 if self._inp else "",
            approval=self._gate.progress(), rollback_review=self._rollback_review,
            gateway_sboms=self._sboms)
