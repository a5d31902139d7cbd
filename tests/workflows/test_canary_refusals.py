"""What a responder may do to a canary in each state (``workflows.canary_controls``).

The Update validators raise these reasons; end-to-end tests on real gateways
(``test_canary_controls``, ``test_canary_approval``) show them reach the caller.
"""

from __future__ import annotations

import pytest

from medpipe.contracts.approval import ApprovalRule, SignedStatement
from medpipe.contracts.canary import CanaryState
from medpipe.workflows import canary_controls as controls
from medpipe.workflows.approval_gate import ApprovalGate

BUNDLE = SignedStatement(bundle='{"dsseEnvelope": {}}')


def _gate(required: int | None) -> ApprovalGate:
    rule = None if required is None else ApprovalRule(
        roster_path="/nonexistent/roster.yaml", admin_keys=("k",), required=required,
        at_weight=10)
    return ApprovalGate(rule, "rel-1", "0" * 64, "releaser")


def test_rollback_needs_a_reason_and_a_canary_that_has_not_failed() -> None:
    assert controls.refuse_rollback("  ", CanaryState.BAKING) == "a rollback needs a reason"
    assert "nothing left" in str(controls.refuse_rollback("bad AUC", CanaryState.FAILED))
    assert controls.refuse_rollback("bad AUC", CanaryState.PROMOTED) is None


@pytest.mark.parametrize("state", [CanaryState.LOADING, CanaryState.BAKING])
def test_pause_only_while_loading_or_baking(state: CanaryState) -> None:
    assert controls.refuse_pause(state) is None
    assert controls.refuse_pause(CanaryState.PROMOTED) == "cannot pause a canary that is promoted"


def test_resume_only_a_paused_canary() -> None:
    assert controls.refuse_resume(True) is None
    assert controls.refuse_resume(False) == "the canary is not paused"


def test_promotion_waits_for_approvals_and_a_live_rollout() -> None:
    assert controls.refuse_promotion(_gate(None), False, CanaryState.BAKING) is None
    assert "approvals first" in str(controls.refuse_promotion(_gate(2), False,
                                                               CanaryState.BAKING))
    assert controls.refuse_promotion(_gate(2), True, CanaryState.ROLLING_BACK) \
        == "cannot promote a canary that is rolling-back"


def test_approval_needs_a_rule_a_pending_gate_a_live_canary_and_json() -> None:
    assert "needs no approval" in str(controls.refuse_approval(BUNDLE, _gate(None), False,
                                                                CanaryState.BAKING))
    assert controls.refuse_approval(BUNDLE, _gate(1), False, CanaryState.BAKING) is None
    assert controls.refuse_approval(BUNDLE, _gate(1), True, CanaryState.BAKING) \
        == "cannot approve a canary that is baking"
    assert "not a signed statement" in str(controls.refuse_approval(
        SignedStatement(bundle="not json"), _gate(1), False, CanaryState.AWAITING_APPROVAL))


def test_check_raises_the_reason_as_the_validator_error() -> None:
    controls.check(None)
    with pytest.raises(ValueError, match="the canary is not paused"):
        controls.check(controls.refuse_resume(False))
