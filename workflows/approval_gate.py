"""The canary's approval gate: signed approvals before traffic goes above a weight.

Four eyes before a model takes clinical traffic: with an ``ApprovalRule``
the canary holds at ``rule.at_weight`` until ``rule.required`` distinct
people with the approver role (never the releaser) signed a ``promote``
statement for this release and model. Each statement arrives through the
``approve`` Update and is verified one at a time by the ``approvals.check``
local activity (signatures are checked in an activity, never in workflow
code); a refused one fails the Update with the reason (who, which role,
why), which the approver reads at once and history keeps. Counting distinct
names here, one statement at a time, keeps concurrent approvals race-free.

A rollback is never blocked by this gate: it runs first; a responder's
signed rollback statement is verified afterwards and the result recorded
(``rollback_review``), and a rollback without one is flagged
``unsigned: needs review``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from medpipe.contracts.approval import (
    ApprovalAction,
    ApprovalProgress,
    ApprovalRule,
    ApprovalVerdict,
    CheckApprovalsInput,
    SignedStatement,
)
from medpipe.contracts.canary import (
    CanaryStatus,
    GatewayCallResult,
    GatewaySbom,
    GatewayTarget,
)
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.names import ActivityName
from medpipe.contracts.summary import Summary

#: Reading a roster and checking a signature takes milliseconds; a few tries, then refuse.
CHECK_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))
UNSIGNED = "unsigned: needs review"


class ApprovalGate:
    """Distinct verified approvers of one canary (state lives in the workflow)."""

    def __init__(self, rule: ApprovalRule | None, release_id: str, model_sha256: str,
                 releaser: str | None) -> None:
        self.rule = rule
        self._release_id = release_id
        self._model_sha256 = model_sha256
        self._releaser = releaser
        self._approvers: list[str] = []
        self._statements: list[SignedStatement] = []
        self._keys: list[str] = []
        self._refusals: list[str] = []
        self._submitted = 0

    @property
    def pending(self) -> bool:
        """Whether the canary must still wait for approvals."""
        return self.rule is not None and len(self._approvers) < self.rule.required

    def holds_before(self, weight: int) -> bool:
        """Whether stepping to ``weight`` must wait for approvals first."""
        return self.rule is not None and self.pending and weight > self.rule.at_weight

    def progress(self) -> ApprovalProgress | None:
        """What the status query and the evidence show (None: no gate)."""
        if self.rule is None:
            return None
        return ApprovalProgress(required=self.rule.required, at_weight=self.rule.at_weight,
                                approvers=tuple(self._approvers),
                                refusals=tuple(self._refusals[-20:]),
                                statements=tuple(self._statements),
                                signer_keys=tuple(self._keys))

    async def _verify(self, action: ApprovalAction, statement: SignedStatement) -> ApprovalVerdict:
        assert self.rule is not None
        result: ApprovalVerdict = await workflow.execute_local_activity(
            ActivityName.APPROVALS_CHECK,
            CheckApprovalsInput(rule=self.rule, action=action, release_id=self._release_id,
                                model_sha256=self._model_sha256, releaser=self._releaser,
                                statements=(statement,)),
            result_type=ApprovalVerdict, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=CHECK_RETRY, summary=Summary(f"check {action.value} statement"))
        return result

    async def submit(self, statement: SignedStatement) -> ApprovalProgress:
        """Verify one promote statement; count its signer or raise the refusal.

        Raises:
            ApplicationError: (``ApprovalRefused``) naming who, which role and why.
        """
        self._submitted += 1
        labelled = statement.model_copy(update={"label": f"statement {self._submitted}"})
        verdict = await self._verify(ApprovalAction.PROMOTE, labelled)
        refusal = verdict.refusals[0] if verdict.refusals else None
        if refusal is None and not verdict.approvers:
            refusal = f"{labelled.label}: not counted"
        if refusal is None and verdict.approvers[0] in self._approvers:
            refusal = f"{labelled.label}: {verdict.approvers[0]} already approved"
        if refusal is not None:
            self._refusals.append(refusal)
            workflow.logger.warning("approval refused: %s", refusal)
            raise ApplicationError(f"approval refused: {refusal}",
                                   type=ErrorType.APPROVAL_REFUSED, non_retryable=True)
        if self.pending:
            self._approvers.append(verdict.approvers[0])
            self._statements.append(labelled)
            self._keys.append(verdict.signer_keys[0] if verdict.signer_keys else "")
        progress = self.progress()
        assert progress is not None
        return progress

    async def review_rollback(self, statement: SignedStatement | None) -> str:
        """How a requested rollback was authorised (it already happened either way)."""
        if statement is None:
            return UNSIGNED
        if self.rule is None:
            return "signed, not verified (no roster configured): needs review"
        verdict = await self._verify(ApprovalAction.ROLLBACK,
                                     statement.model_copy(update={"label": "rollback"}))
        if verdict.approvers:
            return f"signed by {verdict.approvers[0]} (responder)"
        why = verdict.refusals[0] if verdict.refusals else "not verified"
        return f"signature refused ({why}): needs review"[:500]


def sboms_of(targets: Sequence[GatewayTarget],
             results: Sequence[GatewayCallResult]) -> tuple[GatewaySbom, ...]:
    """The runtime SBOM each gateway reported in its status (those that report one)."""
    return tuple(GatewaySbom(gateway=t.name, sha256=r.status.sbom_sha256,
                             uri=r.status.sbom_uri)
                 for t, r in zip(targets, results, strict=True)
                 if r.status is not None and r.status.sbom_sha256)


def approval_record(status: CanaryStatus) -> dict[str, object]:
    """What the ledger's deploy entry says about approvals, rollback review and gateway
    SBOMs (only the keys that apply, so entries of older canaries read as before)."""
    record: dict[str, object] = {}
    if status.gateway_sboms:
        record["gateway_sboms"] = [s.model_dump(mode="json") for s in status.gateway_sboms]
    if status.approval is not None:
        record["approvers"] = list(status.approval.approvers)
        record["approvals_required"] = status.approval.required
        record["approval_statements"] = [
            {"by": name, "public_key": key, "bundle": s.bundle}
            for name, key, s in zip(status.approval.approvers, status.approval.signer_keys,
                                    status.approval.statements, strict=False)]
    if status.rollback_review:
        record["rollback_review"] = status.rollback_review
    if status.rollback is not None and status.rollback.statement is not None:
        record["rollback_statement"] = status.rollback.statement.bundle
    return record
