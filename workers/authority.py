"""Who may re-identify, shred a key or offboard: signed statements checked against the roster.

The command-line side of issue 15 item 1 for actions that do not run in a
workflow: ``medpipe reidentify`` needs one data steward's signed approval,
``medpipe keys shred`` and ``medpipe offboard`` two distinct administrators'.
Statements are made with ``medpipe approve TARGET --action ACTION`` (each
person with their own key) and passed as ``--approval FILE`` (repeatable);
they are verified exactly as the canary verifies promotions
(``activities.approvals.check``), against the fleet's signed roster.

Fail closed: a fleet with a roster (``fleet.approval``) accepts nothing but
enough valid statements; ``--confirm``/``--by`` is refused there. A fleet
without a roster (a development stack) still takes ``--confirm --by``, says
so loudly on stderr, and the ledger entry records the action as
``unsigned: needs review`` — refusing outright would leave such a fleet no
way to shred a key, and the ledger keeps the gap visible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import click

from medpipe.contracts.approval import (
    ApprovalAction,
    CheckApprovalsInput,
    SignedStatement,
    action_subject,
)
from medpipe.contracts.errors import ApprovalRefused, InvalidInput
from medpipe.contracts.placement import Fleet

#: Distinct signers each action needs.
REQUIRED = {ApprovalAction.REIDENTIFY: 1, ApprovalAction.SHRED_KEY: 2,
            ApprovalAction.OFFBOARD: 2}
UNSIGNED = "unsigned --confirm (no roster configured): needs review"


def approval_option(fn):  # type: ignore[no-untyped-def]
    """``--approval FILE`` (repeatable): signed statements authorising the action."""
    return click.option(
        "--approval", "approvals", multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A signed statement (medpipe approve TARGET --action ...); repeatable.")(fn)


def authorise(fleet: Fleet | None, action: ApprovalAction, target: str,
              approvals: Sequence[Path], *, confirm: bool = False,
              by: str | None = None) -> dict[str, object]:
    """Check that ``action`` on ``target`` is authorised; the record for the ledger.

    Raises:
        ApprovalRefused: too few valid statements (names who, which role, why).
        InvalidInput: ``--confirm`` where a roster is configured, or nothing given.
    """
    from medpipe.activities.approvals import check

    required = REQUIRED[action]
    rule = fleet.approval if fleet is not None else None
    if rule is None:
        if approvals:
            raise InvalidInput("signed approvals given, but this fleet has no roster "
                               "(fleet.approval) to verify them against")
        if not confirm or not (by or "").strip():
            raise InvalidInput(f"{action.value} needs {required} signed approval(s); this "
                               "fleet has no roster configured, so pass --confirm --by NAME "
                               "(recorded as unsigned, for review)")
        click.echo(click.style("WARNING: ", fg="red") + f"{action.value} authorised by "
                   f"--confirm only ({by}): no roster is configured (fleet.approval), so no "
                   "signature is checked; recorded as 'unsigned: needs review'", err=True)
        return {"authorised_by": [str(by).strip()], "authorisation": UNSIGNED}
    if confirm:
        raise InvalidInput(f"this fleet has a signed roster: {action.value} needs {required} "
                           f"signed approval(s) by {action.role.value}s (--approval FILE), "
                           "--confirm is not enough")
    name, digest = action_subject(action, target)
    verdict = check(CheckApprovalsInput(
        rule=rule, action=action, release_id=name, model_sha256=digest, required=required,
        statements=tuple(SignedStatement(bundle=p.read_text(), label=p.name)
                         for p in approvals)))
    if not verdict.approved:
        why = "; ".join(verdict.refusals) or "no statement given"
        what = "the token" if action is ApprovalAction.REIDENTIFY else target
        raise ApprovalRefused(
            f"{action.value} of {what} needs {required} distinct {action.role.value}(s): "
            f"{len(verdict.approvers)} valid ({', '.join(verdict.approvers) or 'none'}); {why}")
    return {"authorised_by": list(verdict.approvers), "authorisation": "signed",
            "statements_sha256": [hashlib.sha256(p.read_bytes()).hexdigest()
                                  for p in approvals]}
