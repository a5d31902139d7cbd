"""Admin calls from a workflow to inference gateways, retried visibly while one does not answer.

Why a module of its own: the canary's rollout logic and its gateway plumbing
change for different reasons. A call that fails for a transient reason is
retried here with backoff (never lost, never hidden): each open problem is
kept by (gateway, operation) and shown in the canary's status until the call
succeeds. A non-retryable refusal ends the canary at once.

Workflow code: deterministic (``workflow.sleep``, activities only).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from medpipe.contracts.canary import (
    GatewayCallInput,
    GatewayCallResult,
    GatewayProblem,
    GatewayTarget,
)
from medpipe.contracts.deploy import GatewayStatus
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.names import ActivityName
from medpipe.contracts.summary import Summary
from medpipe.workflows.policies import SINGLE_ATTEMPT

#: Error types a gateway call is retried on (a transient failure, or one without a type).
RETRYABLE = {ErrorType.TRANSIENT.value, None, ""}


class GatewayCalls:
    """Gateway admin calls on ``queue`` (a rollback as a local activity when asked)."""

    def __init__(self, queue: str, rollback_locally: bool) -> None:
        self.queue = queue
        self.rollback_locally = rollback_locally
        #: Open problems by (gateway, operation): shown in status until the call succeeds.
        self.problems: dict[tuple[str, str], GatewayProblem] = {}

    async def call(self, target: GatewayTarget, operation: str,
                   body: dict[str, object] | None = None) -> GatewayCallResult:
        """One admin call, retried visibly while the gateway does not answer.

        Raises:
            ApplicationError: the gateway refused the call for good (non-retryable).
        """
        attempts = 0
        since = workflow.now()
        while True:
            attempts += 1
            call = GatewayCallInput(target=target, operation=operation, body=body or {})
            result: GatewayCallResult
            try:
                if operation == "rollback" and self.rollback_locally:
                    # On the workflow's own worker a local activity answers within the same
                    # workflow task: a rollback confirms in ~40 ms instead of ~100 ms.
                    result = await workflow.execute_local_activity(
                        ActivityName.GATEWAY_CALL, call, result_type=GatewayCallResult,
                        start_to_close_timeout=timedelta(seconds=20),
                        retry_policy=SINGLE_ATTEMPT,
                        summary=Summary(f"{operation} on {target.name}"))
                else:
                    result = await workflow.execute_activity(
                        ActivityName.GATEWAY_CALL, call, task_queue=self.queue,
                        result_type=GatewayCallResult,
                        start_to_close_timeout=timedelta(seconds=20),
                        retry_policy=SINGLE_ATTEMPT,
                        summary=Summary(f"{operation} on {target.name}"))
                self.problems.pop((target.name, operation), None)
                return result
            except ActivityError as e:
                cause = e.cause
                etype = cause.type if isinstance(cause, ApplicationError) else None
                if isinstance(cause, ApplicationError) and cause.non_retryable \
                        and etype not in RETRYABLE:
                    raise ApplicationError(cause.message, type=etype,
                                           non_retryable=True) from None
                message = cause.message if isinstance(cause, ApplicationError) else str(cause)
                self.problems[(target.name, operation)] = GatewayProblem(
                    gateway=target.name, operation=operation, message=message[:300],
                    since=since, attempts=attempts)
                workflow.logger.warning("gateway %s: %s failed (attempt %d): %s",
                                        target.name, operation, attempts, message)
                await workflow.sleep(timedelta(seconds=min(0.5 * 2 ** (attempts - 1), 10.0)))

    async def all(self, targets: list[GatewayTarget], operation: str,
                  body: dict[str, object] | None = None) -> list[GatewayCallResult]:
        """The same call on every target at once; results in the targets' order."""
        return list(await asyncio.gather(*(self.call(t, operation, body) for t in targets)))


def served_weight(status: GatewayStatus | None, version: str) -> int:
    """Percent of traffic the gateway still sends to ``version`` (100 when it cannot say)."""
    if status is None:
        return 100
    if status.stable is not None and status.stable.version == version:
        return 100 - (status.canary_weight if status.canary else 0)
    if status.canary is not None and status.canary.version == version:
        return status.canary_weight
    return 0
