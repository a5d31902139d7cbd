"""The ``approvals.check`` activity: signed statements verified against the fleet's roster.

Workflows never verify signatures themselves (no cryptography in a
workflow): the canary hands each submitted DSSE bundle to this short local
activity, which loads the roster (checking its administrator signature
against the pinned keys) and counts distinct entitled signers with
``governance.check_approvals``. A roster that does not verify refuses every
statement, with the reason, instead of failing the workflow: an approver
learns why at once and the canary keeps waiting (fail closed).
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.governance import check_approvals, load_roster
from medpipe.contracts.approval import ApprovalVerdict, CheckApprovalsInput
from medpipe.contracts.errors import MedpipeError
from medpipe.contracts.names import ActivityName


def check(inp: CheckApprovalsInput) -> ApprovalVerdict:
    """Verify ``inp.statements``; refusals name who, which role and why."""
    rule = inp.rule
    try:
        roster = load_roster(Path(rule.roster_path), [k.encode() for k in rule.admin_keys],
                             rule.revoked)
    except MedpipeError as e:
        return ApprovalVerdict(approved=False, required=inp.required, refusals=tuple(
            f"{s.label}: the roster does not verify, no approval can count ({e.message})"
            for s in inp.statements))
    return check_approvals([(s.label, s.bundle.encode()) for s in inp.statements], roster,
                           action=inp.action, release_id=inp.release_id,
                           model_sha256=inp.model_sha256, releaser=inp.releaser,
                           required=inp.required, revoked=rule.revoked)


class ApprovalActivities:
    """Signature checks for the control worker (names, keys, digests: no patient data)."""

    @activity.defn(name=ActivityName.APPROVALS_CHECK)
    @translate_errors
    def check(self, inp: CheckApprovalsInput) -> ApprovalVerdict:
        """Verify signed statements against the roster; never raises on a bad statement."""
        return check(inp)
