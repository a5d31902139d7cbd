"""When a responder may roll back, approve, pause, resume or promote a canary.

Why a module of its own: these rules are what on-call staff meet first (a
refused Update names the reason in the Web UI and the CLI), and they are
pure: the canary's state in, the refusal's reason out (``None``: allowed).
The workflow's Update validators raise ``ValueError`` with that reason, so a
refused request never reaches history.
"""

from __future__ import annotations

from medpipe.contracts.approval import SignedStatement
from medpipe.contracts.canary import CanaryState
from medpipe.workflows.approval_gate import ApprovalGate

#: States a canary can no longer be approved in.
_SETTLED = (CanaryState.ROLLING_BACK, CanaryState.ROLLED_BACK, CanaryState.FAILED,
            CanaryState.PROMOTED)


def refuse_rollback(reason: str, state: CanaryState) -> str | None:
    """Why a rollback request is refused, or None."""
    if not reason.strip():
        return "a rollback needs a reason"
    if state is CanaryState.FAILED:
        return "this canary failed; there is nothing left to roll back"
    return None


def refuse_approval(statement: SignedStatement, gate: ApprovalGate, aborting: bool,
                    state: CanaryState) -> str | None:
    """Why a signed approval is refused before it is verified, or None."""
    if gate.rule is None:
        return "this canary needs no approval (the fleet has no approval rule)"
    if not gate.pending:
        return "this canary is already approved"
    if aborting or state in _SETTLED:
        return f"cannot approve a canary that is {state.value}"
    if not statement.bundle.lstrip().startswith("{"):
        return "not a signed statement (a Sigstore bundle is JSON)"
    return None


def refuse_pause(state: CanaryState) -> str | None:
    """Why a pause is refused, or None."""
    if state not in (CanaryState.LOADING, CanaryState.BAKING):
        return f"cannot pause a canary that is {state.value}"
    return None


def refuse_resume(paused: bool) -> str | None:
    """Why a resume is refused, or None."""
    return None if paused else "the canary is not paused"


def refuse_promotion(gate: ApprovalGate, aborting: bool, state: CanaryState) -> str | None:
    """Why an on-call promotion is refused, or None."""
    if gate.pending and not aborting:
        return "promotion needs signed approvals first (medpipe approve)"
    if state not in (CanaryState.BAKING, CanaryState.PAUSED, CanaryState.LOADING):
        return f"cannot promote a canary that is {state.value}"
    return None


def check(refusal: str | None) -> None:
    """Raise the refusal as the ``ValueError`` an Update validator reports."""
    if refusal is not None:
        raise ValueError(refusal)
