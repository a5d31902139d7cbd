"""What a release's deploy entries add to its evidence: approvals, rollbacks, gateway SBOMs.

``approvals.json``: who approved the promotion, who asked for a rollback.

Recomputed from the release's signed ledger entries (``deployed`` /
``rolled-back``), where the release workflow recorded the verified
approval statements with each approver's roster key, the verdict (who
counted, how many were required) and how a rollback was authorised
(``signed by NAME (responder)`` or ``unsigned: needs review``). The
verifier rebuilds the file from the ledger excerpt (so it cannot be
edited alone) and checks every statement again: its DSSE signature under
the recorded key, and that it approves *this* release and model, by the
person it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from medpipe.activities.signing.dsse import TrustedKeys, open_statement
from medpipe.contracts.approval import APPROVAL_PREDICATE_TYPE, Approval, ApprovalAction
from medpipe.contracts.errors import IntegrityError

#: Ledger payload keys kept out of canary.json (their home is approvals.json).
STATEMENT_KEYS = ("approval_statements", "rollback_statement")
_KINDS = ("deployed", "rolled-back")


def approvals_record(release_id: str,
                     entries: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The release's approvals and rollback authorisations (None: nothing recorded)."""
    approvals: list[dict[str, Any]] = []
    rollbacks: list[dict[str, Any]] = []
    for e in entries:
        p = e["payload"]
        if e["release_id"] != release_id or e["kind"] not in _KINDS:
            continue
        if "approvers" in p:
            approvals.append({"seq": e["seq"], "kind": e["kind"],
                              "model_sha256": p.get("model_sha256"),
                              "required": p.get("approvals_required"),
                              "approvers": p["approvers"],
                              "statements": p.get("approval_statements", [])})
        if "rollback_review" in p:
            rollbacks.append({"seq": e["seq"], "requested_by": p.get("requested_by"),
                              "incident": p.get("incident"), "review": p["rollback_review"],
                              "signed": "rollback_statement" in p,
                              "statement": p.get("rollback_statement")})
    if not approvals and not rollbacks:
        return None
    return {"release_id": release_id, "approvals": approvals, "rollbacks": rollbacks}


def verify_approvals(record: Mapping[str, Any]) -> int:
    """Check every promotion statement in ``record``; returns how many verified.

    Raises:
        IntegrityError: a statement does not verify under its recorded key, or approves
            another action, release or model, or is by someone else than recorded.
    """
    release_id = record["release_id"]
    checked = 0
    for group in record["approvals"]:
        if len(group["statements"]) != len(group["approvers"]):
            raise IntegrityError(f"ledger entry {group['seq']} counts "
                                 f"{len(group['approvers'])} approver(s) but records "
                                 f"{len(group['statements'])} statement(s)")
        for s in group["statements"]:
            statement, _ = open_statement(
                str(s["bundle"]).encode(), TrustedKeys([str(s["public_key"]).encode()]),
                f"approval statement by {s['by']}", APPROVAL_PREDICATE_TYPE)
            approval = Approval.model_validate(statement["predicate"])
            subject = json.dumps(statement.get("subject"))
            if approval.by != s["by"] or approval.action is not ApprovalAction.PROMOTE \
                    or approval.release_id != release_id \
                    or approval.model_sha256 != group["model_sha256"] \
                    or approval.model_sha256 not in subject:
                raise IntegrityError(f"the approval statement recorded for {s['by']} approves "
                                     f"{approval.action.value} of {approval.release_id} by "
                                     f"{approval.by}, not this release's promotion")
            checked += 1
        if group["kind"] == "deployed" and len(group["approvers"]) < (group["required"] or 0):
            raise IntegrityError(f"the release was promoted with {len(group['approvers'])} of "
                                 f"{group['required']} required approvals")
    return checked


def gateway_sboms(release_id: str, entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The gateway runtime SBOMs (sha256, uri) the release's deploy entries name, once each.

    Only stored ones (with a URI): a gateway whose SBOM could not be stored is still
    named in canary.json, without a document to check.
    """
    seen: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["release_id"] != release_id or e["kind"] not in _KINDS:
            continue
        for s in e["payload"].get("gateway_sboms", []):
            if s.get("uri") and s.get("sha256") not in seen:
                seen[str(s["sha256"])] = {"sha256": s["sha256"], "uri": s["uri"]}
    return list(seen.values())
