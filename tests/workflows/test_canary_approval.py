"""Signed approvals gate the canary (issue 15 item 1), on a real Temporal server, real
workers and two real gateways: the canary holds at the rule's weight, visibly
(``MedpipeState=awaiting-approval``), until two distinct approvers other than the
releaser signed; every refusal is answered with who/which role/why; a rollback is
never blocked (signed by a responder, or unsigned and flagged for review)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)

from medpipe.activities.keys import open_provider
from medpipe.activities.signing.deploy_evidence import verify_approvals
from medpipe.activities.signing.evidence import verify_evidence, write_evidence
from medpipe.activities.signing.ledger import open_ledger
from medpipe.contracts.approval import ApprovalAction, ApprovalProgress, Role
from medpipe.contracts.canary import CanaryPlan, CanaryState, CanaryStatus
from medpipe.contracts.errors import MedpipeError
from medpipe.contracts.names import QueryName, SearchAttr, UpdateName
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import ReleaseRequest, ReleaseState, ReleaseStatus
from medpipe.workers.devserver import TemporalDevServer
from tests.canary import (
    FIRST,
    UNJUDGED_SHIFT,
    canary_handle,
    fleet_with,
    release,
    wait_for_state,
)
from tests.canary_models import failing_model
from tests.gateways import GatewayPKI, GatewayProcess, feature_rows, traffic
from tests.history import history_events
from tests.people import Someone, make_team, rule_for, signed_roster
from tests.support import make_request, running_workers, start
from tests.workers.test_cli_canary import config_file, medpipe

pytestmark = pytest.mark.asyncio
#: A test that waits longer than this for a result is failed, not left hanging.
DEADLINE = 90.0
#: Bakes quickly, holds at 10 % for two approvals, no guard period.
PLAN = CanaryPlan(steps=(10, 100), bake_s=1.0, min_requests=0, guard_s=0)


@dataclass
class WaitingCanary:
    """A v2 canary holding at 10 % for approvals, with the workers running."""

    fleet: Fleet
    stable: ReleaseRequest
    candidate: ReleaseRequest
    parent: WorkflowHandle[Any, ReleaseStatus]
    handle: WorkflowHandle[Any, CanaryStatus]
    team: dict[str, Someone]
    model_sha256: str


@contextlib.asynccontextmanager
async def waiting_canary(client: Client, tmp_path: Path, sample: dict[str, Path],
                         gateway_pki: GatewayPKI, gws: list[GatewayProcess],
                         ) -> AsyncIterator[WaitingCanary]:
    """v1 released without a gate; v2 released by ``pytest`` under a rule (two approvers,
    hold at 10 %), returned once its canary awaits approval."""
    team = make_team(tmp_path / "people", "admin", "pytest", "bob", "carol", "dave", "erin",
                     "frank")
    roster = signed_roster(tmp_path / "roster.yaml", team["admin"], [
        team["pytest"].person(Role.RELEASER, Role.APPROVER),
        team["bob"].person(Role.APPROVER), team["carol"].person(Role.APPROVER),
        team["erin"].person(Role.RESPONDER), team["frank"].person(Role.APPROVER)])
    plain = fleet_with(tmp_path, gws)
    gated = plain.model_copy(update={"approval": rule_for(
        roster, team["admin"], required=2, at_weight=10, revoked=(team["frank"].fingerprint,))})
    v1 = make_request(plain, sample, canary=FIRST)
    v2 = make_request(gated, sample, canary=PLAN, model_uri=sample["model_v2"].as_uri(),
                      thresholds={"max_auroc_drop": 0.5})
    async with running_workers(client, gated, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        parent = await start(client, v2)
        handle = canary_handle(client, v2)
        status = await wait_for_state(handle, CanaryState.AWAITING_APPROVAL, timeout=DEADLINE)
        yield WaitingCanary(gated, v1, v2, parent, handle, team, status.model_sha256)


async def _approve(c: WaitingCanary, who: str, **kw: Any) -> ApprovalProgress:
    statement = c.team[who].statement(release=kw.get("release", c.candidate.release_id),
                                      model=kw.get("model", c.model_sha256),
                                      action=kw.get("action", ApprovalAction.PROMOTE))
    return await c.handle.execute_update(UpdateName.APPROVE, statement,
                                         result_type=ApprovalProgress)


async def _refused(c: WaitingCanary, who: str, **kw: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _approve(c, who, **kw)
    cause = refused.value.cause
    return str(getattr(cause, "message", cause))


async def _update_failures(handle: WorkflowHandle[Any, Any]) -> int:
    return sum(1 for e in await history_events(handle)
               if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
               and e.workflow_execution_update_completed_event_attributes.outcome
               .HasField("failure"))


async def test_two_approvers_other_than_the_releaser_promote_and_every_refusal_is_named(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    async with waiting_canary(client, tmp_path, sample, gateway_pki, gws) as c:
        assert all(g.gateway.weight == 10 for g in gws)  # held at the rule's weight
        described = await c.handle.describe()
        assert described.typed_search_attributes.get(SearchAttr.STATE) == "awaiting-approval"
        other = "0" * 64
        refusals = {
            "pytest": await _refused(c, "pytest"),  # the releaser
            "dave": await _refused(c, "dave"),  # not on the roster
            "erin": await _refused(c, "erin"),  # a responder, not an approver
            "frank": await _refused(c, "frank"),  # revoked
            "bob-other-model": await _refused(c, "bob", model=other),
            "bob-other-release": await _refused(c, "bob", release="release-risk-other"),
        }
        assert "pytest released this model: four eyes needs another approver" \
            in refusals["pytest"]
        assert "signed by a key that is not on the roster" in refusals["dave"]
        assert "erin lacks the role approver needed to promote (has responder)" \
            in refusals["erin"]
        assert "revoked" in refusals["frank"]
        assert "bob approved another release or model" in refusals["bob-other-model"]
        assert "bob approved another release or model" in refusals["bob-other-release"]
        progress = await _approve(c, "bob")
        assert progress.approvers == ("bob",) and not progress.approved
        assert "bob already approved" in await _refused(c, "bob")
        with pytest.raises(WorkflowUpdateFailedError) as promote:  # on-call cannot skip it
            await c.handle.execute_update(UpdateName.PROMOTE, "oncall", result_type=CanaryStatus)
        assert "needs signed approvals first" in str(promote.value.cause)
        status = await c.handle.query(QueryName.STATUS, result_type=CanaryStatus)
        assert status.state is CanaryState.AWAITING_APPROVAL and status.weight == 10
        assert status.approval is not None and len(status.approval.refusals) == 7
        assert all(g.gateway.weight == 10 for g in gws)  # nothing promoted on one approval
        # from the command line: dave (not on the roster) is refused with the reason, exit 1
        config = config_file(tmp_path, c.fleet)
        dave = c.team["dave"]
        code, out, err = await medpipe(
            temporal_server, config, "approve", c.candidate.release_id, "--by", "dave",
            "--reason", "looks fine", "--key-uri", dave.key_uri, "--key-id", dave.key_id)
        assert code == 1 and "signed by a key that is not on the roster" in err, (out, err)
        assert "Traceback" not in err
        # on-call reads where the gate stands
        code, out, err = await medpipe(temporal_server, config, "canary",
                                       c.candidate.release_id)
        assert code == 0, err
        assert "awaiting-approval" in out and "approvals: 1 of 2 (bob), holding at 10 %" in out
        assert "approval refused: statement 1: pytest released this model" in out
        # carol approves from the command line: signed with her key, submitted, counted
        carol = c.team["carol"]
        code, out, err = await medpipe(
            temporal_server, config, "approve",
            c.candidate.release_id.removeprefix("release-"), "--by", "carol", "--reason",
            "AUROC and calibration reviewed", "--key-uri", carol.key_uri, "--key-id",
            carol.key_id)
        assert code == 0, err
        assert "2 of 2 approvals (bob, carol); approved" in out
        result = await asyncio.wait_for(c.parent.result(), DEADLINE)
        assert result.state is ReleaseState.SUCCEEDED
        assert result.canary is not None and result.canary.state is CanaryState.PROMOTED
        assert result.canary.approval is not None
        assert result.canary.approval.approvers == ("bob", "carol")
        assert len(result.canary.approval.statements) == 2
        for g in gws:
            assert g.gateway.stable.version == c.candidate.version
        # every refused statement is in history (the promote above was turned away by the
        # validator before it reached history, as Temporal does with validator rejections)
        assert await _update_failures(c.handle) == 8
        ledger = open_ledger(c.fleet.ledger_uri, c.fleet.ledger_checkpoint_uri)
        (deployed,) = [e for e in ledger.entries(c.candidate.release_id)
                       if e.kind == "deployed"]
        assert deployed.payload["approvers"] == ["bob", "carol"]
        # each gateway reported its runtime SBOM; the deploy activity stored it once
        assert {s.gateway for s in result.canary.gateway_sboms} == {g.target.name for g in gws}
        assert all(s.uri for s in result.canary.gateway_sboms)
    _evidence_carries_the_approvals(c, tmp_path, {s.sha256 for s in result.canary.gateway_sboms})


def _evidence_carries_the_approvals(c: WaitingCanary, tmp_path: Path, gw_sboms: set[str]) -> None:
    """approvals.json holds both statements, sboms/ the gateways' SBOMs; a changed statement
    or SBOM is refused by name."""
    pub = open_provider(c.fleet.keys.key_uri).public_key_pem(c.fleet.keys.signing_key_id)
    ledger = open_ledger(c.fleet.ledger_uri, c.fleet.ledger_checkpoint_uri)
    pack = tmp_path / "pack"
    write_evidence(ledger, c.candidate.release_id, pack, [pub])
    summary = verify_evidence(pack, [pub])
    assert summary["approvals"] == [["bob", "carol"]]
    (tmp_path / "signing.pub.pem").write_bytes(pub)
    cli = subprocess.run([sys.executable, "-m", "medpipe", "verify", "--evidence", str(pack),
                          "--trusted-key", str(tmp_path / "signing.pub.pem")],
                         capture_output=True, text=True, timeout=120)
    print(cli.stdout)
    assert cli.returncode == 0 and "approvals" in cli.stdout, cli.stdout + cli.stderr
    for digest in gw_sboms:
        name = f"sboms/{digest}.cdx.json"
        assert hashlib.sha256((pack / name).read_bytes()).hexdigest() == digest
        copy = tmp_path / "sbom-tamper"
        shutil.copytree(pack, copy)
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 1
        (copy / name).write_bytes(bytes(data))
        _reindex(copy, name)
        with pytest.raises(MedpipeError, match=f"evidence file {name}"):
            verify_evidence(copy, [pub])
        shutil.rmtree(copy)
    doc = json.loads((pack / "approvals.json").read_text())
    assert [s["by"] for s in doc["approvals"][0]["statements"]] == ["bob", "carol"]
    assert "approval_statements" not in (pack / "canary.json").read_text()
    # carol's statement swapped for one of hers about another model, index fixed too
    other = c.team["carol"].statement(release=c.candidate.release_id, model="1" * 64)
    doc["approvals"][0]["statements"][1]["bundle"] = other.bundle
    (pack / "approvals.json").write_text(json.dumps(doc, sort_keys=True, indent=2) + "\n")
    _reindex(pack, "approvals.json")
    with pytest.raises(MedpipeError, match="evidence file approvals.json"):
        verify_evidence(pack, [pub])
    # and the check of the statements themselves (were the ledger's copy forged)
    with pytest.raises(MedpipeError, match="approves promote of .* not this release"):
        verify_approvals(doc)


async def test_a_forged_roster_counts_nobody_and_an_unsigned_rollback_is_flagged(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    async with waiting_canary(client, tmp_path, sample, gateway_pki, gws) as c:
        roster = Path(c.fleet.approval.roster_path)  # type: ignore[union-attr]
        roster.write_text(roster.read_text().replace("- releaser", "- approver"))
        why = await _refused(c, "bob")
        assert "the roster does not verify" in why and "changed after it was signed" in why
        code, out, err = await medpipe(
            temporal_server, config_file(tmp_path, c.fleet), "rollback",
            c.candidate.release_id, "--reason", "sepsis alerts doubled", "--incident",
            "INC-9", "--by", "oncall")
        assert code == 0, err  # never blocked, though unsigned
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(c.parent.result(), DEADLINE)
        status = await asyncio.wait_for(c.handle.result(), DEADLINE)
        assert status.state is CanaryState.ROLLED_BACK
        assert status.rollback_review == "unsigned: needs review"
        for g in gws:
            assert g.gateway.weight == 0 and g.gateway.stable.version == c.stable.version
        ledger = open_ledger(c.fleet.ledger_uri, c.fleet.ledger_checkpoint_uri)
        (rolled,) = [e for e in ledger.entries(c.candidate.release_id)
                     if e.kind == "rolled-back"]
        assert rolled.payload["rollback_review"] == "unsigned: needs review"
        assert rolled.payload["approvers"] == []
        assert _pack_summary(c, tmp_path)["rollbacks"] == ["unsigned: needs review"]


async def test_a_responders_signed_rollback_is_verified_and_recorded(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    async with waiting_canary(client, tmp_path, sample, gateway_pki, gws) as c:
        erin = c.team["erin"]
        code, out, err = await medpipe(
            temporal_server, config_file(tmp_path, c.fleet), "rollback",
            c.candidate.release_id, "--reason", "pager", "--by", "erin", "--key-uri",
            erin.key_uri, "--key-id", erin.key_id)
        assert code == 0 and "rolled back" in out, (out, err)
        status = await asyncio.wait_for(c.handle.result(), DEADLINE)
        assert status.rollback is not None and status.rollback.statement is not None
        signed = status.rollback.statement
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(c.parent.result(), DEADLINE)
    assert status.state is CanaryState.ROLLED_BACK
    assert status.rollback_review == "signed by erin (responder)"
    assert _pack_summary(c, tmp_path)["rollbacks"] == ["signed by erin (responder)"]
    doc = json.loads((tmp_path / "pack" / "approvals.json").read_text())
    assert doc["rollbacks"][0]["signed"] and doc["rollbacks"][0]["statement"] == signed.bundle


def _reindex(pack: Path, name: str) -> None:
    """The attacker also rewrites evidence.json's digest of the changed file."""
    index = json.loads((pack / "evidence.json").read_text())
    index["files"][name] = hashlib.sha256((pack / name).read_bytes()).hexdigest()
    (pack / "evidence.json").write_text(json.dumps(index))


def _pack_summary(c: WaitingCanary, tmp_path: Path) -> dict[str, Any]:
    pub = open_provider(c.fleet.keys.key_uri).public_key_pem(c.fleet.keys.signing_key_id)
    ledger = open_ledger(c.fleet.ledger_uri, c.fleet.ledger_checkpoint_uri)
    write_evidence(ledger, c.candidate.release_id, tmp_path / "pack", [pub])
    return verify_evidence(tmp_path / "pack", [pub])


async def test_a_first_deployment_waits_for_approvals_before_loading(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    team = make_team(tmp_path / "people", "admin", "bob", "carol")
    roster = signed_roster(tmp_path / "roster.yaml", team["admin"], [
        team["bob"].person(Role.APPROVER), team["carol"].person(Role.APPROVER)])
    fleet = fleet_with(tmp_path, gws).model_copy(update={"approval": rule_for(
        roster, team["admin"], required=2, at_weight=50)})
    v1 = make_request(fleet, sample, canary=FIRST)
    async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        parent = await start(client, v1)
        handle = canary_handle(client, v1)
        status = await wait_for_state(handle, CanaryState.AWAITING_APPROVAL, timeout=DEADLINE)
        assert status.weight == 0
        assert all(g.gateway.stable is None for g in gws)  # nothing loaded, nothing served
        for who in ("bob", "carol"):
            await handle.execute_update(
                UpdateName.APPROVE, team[who].statement(release=v1.release_id,
                                                        model=status.model_sha256),
                result_type=ApprovalProgress)
        result = await asyncio.wait_for(parent.result(), DEADLINE)
    assert result.canary is not None and result.canary.state is CanaryState.PROMOTED
    assert result.canary.initial_deploy
    for g in gws:
        assert g.gateway.stable is not None and g.gateway.stable.version == v1.version


async def test_a_bad_canary_rolls_back_by_itself_while_awaiting_approval(
        client: Client, tmp_path: Path, sample: dict[str, Path], gateway_pki: GatewayPKI,
        canary_gateways: list[GatewayProcess]) -> None:
    gws = canary_gateways
    team = make_team(tmp_path / "people", "admin", "bob")
    roster = signed_roster(tmp_path / "roster.yaml", team["admin"],
                           [team["bob"].person(Role.APPROVER)])
    plain = fleet_with(tmp_path, gws)
    gated = plain.model_copy(update={"approval": rule_for(roster, team["admin"], required=1,
                                                          at_weight=50)})
    plan = CanaryPlan(steps=(50, 100), bake_s=2.0, min_requests=0, guard_s=0,
                      **UNJUDGED_SHIFT)  # judged on its error rate
    v1 = make_request(plain, sample, canary=FIRST)
    bad = make_request(gated, sample, canary=plan, thresholds={"max_auroc_drop": 1.0},
                       model_uri=failing_model(sample["model"], tmp_path / "f.onnx").as_uri())
    async with running_workers(client, gated, ["aws/us-east-1"], gateway_tls=gateway_pki.client):
        await release(client, v1)
        parent = await start(client, bad)
        handle = canary_handle(client, bad)
        await wait_for_state(handle, CanaryState.AWAITING_APPROVAL, timeout=DEADLINE)
        # no traffic until now: the 50 % step passed; errors start while it waits
        async with traffic([g.target.public_url for g in gws], "risk",
                           feature_rows(sample["dataset"])):
            with pytest.raises(WorkflowFailureError):
                await asyncio.wait_for(parent.result(), DEADLINE)
        status = await asyncio.wait_for(handle.result(), DEADLINE)
    assert status.state is CanaryState.ROLLED_BACK
    assert status.rollback is not None and status.rollback.requested_by == "canary-analysis"
    assert status.rollback_cause and "canary error rate" in status.rollback_cause
    assert status.approval is not None and status.approval.approvers == ()
    assert status.rollback_review is None  # automatic: nobody to review
    for g in gws:
        assert g.gateway.stable.version == v1.version and g.gateway.canary is None
