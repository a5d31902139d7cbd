"""Key shredding and offboarding on a fleet with a signed roster: two distinct administrators'
signed statements for *this* key or model, nothing less (issue 15 item 1).

Real keys (each person's own local keyring), real envelope encryption, real
buckets and ledger; the commands run as the CLI runs them (click, the
deployment configuration).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from medpipe.activities.keys import shared_provider
from medpipe.activities.signing.ledger import open_ledger
from medpipe.contracts.approval import ApprovalAction, Role, action_subject
from medpipe.contracts.placement import Fleet
from medpipe.workers.cli_keys import keys
from medpipe.workers.cli_offboard import offboard_command
from medpipe.workers.config import StackConfig
from tests.people import Someone, make_team, rule_for, signed_roster
from tests.support import make_fleet
from tests.workers.test_offboard import seed


def _fleet(tmp_path: Path) -> tuple[Fleet, dict[str, Someone]]:
    team = make_team(tmp_path / "people", "root", "ann", "ben", "sam")
    roster = signed_roster(tmp_path / "roster.yaml", team["root"], [
        team["ann"].person(Role.ADMINISTRATOR), team["ben"].person(Role.ADMINISTRATOR),
        team["sam"].person(Role.DATA_STEWARD)])
    fleet = make_fleet(tmp_path).model_copy(update={"approval": rule_for(roster, team["root"])})
    return fleet, team


def _statement(tmp_path: Path, who: Someone, action: ApprovalAction, target: str) -> str:
    name, digest = action_subject(action, target)
    path = tmp_path / f"{who.name}-{action.value}-{digest[:8]}.json"
    path.write_text(who.statement(action, release=name, model=digest).bundle)
    return str(path)


def _cli(cfg: StackConfig, *args: str) -> tuple[int, str]:
    command = {"offboard": offboard_command, "keys": keys}[args[0]]
    r = CliRunner().invoke(command, list(args[1:]), obj=cfg)
    return r.exit_code, r.output


def test_offboarding_needs_two_administrators_signatures(tmp_path: Path) -> None:
    fleet, team = _fleet(tmp_path)
    seed(fleet)
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    target = tmp_path / "returned"
    base = ["offboard", "--model", "risk", "--to", str(target)]
    ann = _statement(tmp_path, team["ann"], ApprovalAction.OFFBOARD, "model=risk")
    ben = _statement(tmp_path, team["ben"], ApprovalAction.OFFBOARD, "model=risk")
    sam = _statement(tmp_path, team["sam"], ApprovalAction.OFFBOARD, "model=risk")
    ben_other = _statement(tmp_path, team["ben"], ApprovalAction.OFFBOARD, "model=risk-v2")
    code, out = _cli(cfg, *base, "--confirm", "--by", "ann")
    assert code == 2 and "--confirm is not enough" in out
    for approvals, why in (([ann], "1 valid (ann)"), ([ann, ann], "1 valid (ann)"),
                           ([ann, sam], "sam lacks the role administrator"),
                           ([ann, ben_other], "ben approved another release or model")):
        code, out = _cli(cfg, *base, *(x for a in approvals for x in ("--approval", a)))
        assert code == 1 and "offboard of model=risk needs 2 distinct administrator(s)" in out
        assert why in out, out
        assert not target.exists()  # nothing exported, deleted or shredded
    code, out = _cli(cfg, *base, "--approval", ann, "--approval", ben)
    assert code == 0, out
    cert = json.loads(out)
    assert cert["confirmed_by"] == "ann, ben" and cert["authority"].startswith("signed")
    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri)
    [entry] = [e for e in ledger.entries() if e.kind == "offboarded"]
    assert entry.payload["confirmed_by"] == "ann, ben"


def test_key_shredding_needs_two_administrators_signatures(tmp_path: Path) -> None:
    fleet, team = _fleet(tmp_path)
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    uri = fleet.keys.key_uri
    provider = shared_provider(uri)
    provider.create_key("old-kek")
    data_key, wrapped = provider.new_data_key("old-kek", {"object": "o"})
    base = ["keys", "shred", "old-kek", "--key-uri", uri, "--yes", "--ledger", fleet.ledger_uri,
            "--signing-key", fleet.keys.signing_key_id]
    ann = _statement(tmp_path, team["ann"], ApprovalAction.SHRED_KEY, "old-kek")
    ben = _statement(tmp_path, team["ben"], ApprovalAction.SHRED_KEY, "old-kek")
    ben_data = _statement(tmp_path, team["ben"], ApprovalAction.SHRED_KEY,
                          fleet.keys.data_key_id)
    code, out = _cli(cfg, *base)
    assert code == 1 and "needs 2 distinct administrator(s): 0 valid" in out
    code, out = _cli(cfg, *base, "--approval", ann, "--approval", ben_data)
    assert code == 1 and "ben approved another release or model" in out
    assert provider.unwrap(wrapped, {"object": "o"}) == data_key  # refused: nothing destroyed
    code, out = _cli(cfg, *base, "--approval", ann, "--approval", ben)
    assert code == 0 and "unrecoverable" in out, out
    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri)
    [entry] = [e for e in ledger.entries() if e.kind == "key-shredded"]
    assert entry.payload["authorised_by"] == ["ann", "ben"]
    assert entry.payload["authorisation"] == "signed"
