"""Signed roster and signed approvals: every refusal of issue 15 item 1, and the happy path.

Each person has their own local keyring (a real ECDSA key through the
KeyProvider); the CLI flow runs as ``python -m medpipe``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medpipe.activities.governance import (
    check_approvals,
    load_roster,
    sign_roster,
)
from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.contracts.approval import ApprovalAction, Role, Roster
from medpipe.contracts.errors import InvalidInput, SignatureInvalid
from tests.people import MODEL, RELEASE, Someone


@pytest.fixture
def team(tmp_path: Path) -> dict[str, Someone]:
    return {n: Someone(tmp_path, n) for n in ("admin", "alice", "bob", "carol", "dave", "erin")}


@pytest.fixture
def roster(tmp_path: Path, team: dict[str, Someone]) -> tuple[Path, Roster]:
    r = Roster(people=(team["admin"].person(Role.ADMINISTRATOR),
                       team["alice"].person(Role.RELEASER, Role.APPROVER),
                       team["bob"].person(Role.APPROVER),
                       team["carol"].person(Role.APPROVER),
                       team["erin"].person(Role.RESPONDER)))
    path = tmp_path / "roster.yaml"
    sign_roster(r, path, team["admin"].provider, team["admin"].key_id)
    return path, load_roster(path, [team["admin"].pem])


def check(roster: Roster, *bundles: tuple[str, bytes], revoked: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return check_approvals(list(bundles), roster, action=ApprovalAction.PROMOTE,
                           release_id=RELEASE, model_sha256=MODEL, releaser="alice",
                           required=2, revoked=revoked)


def test_two_distinct_approvers_approve(team: dict[str, Someone],
                                        roster: tuple[Path, Roster]) -> None:
    v = check(roster[1], team["bob"].approve(), team["carol"].approve(), team["bob"].approve())
    assert v.approved and v.approvers == ("bob", "carol") and not v.refusals


def test_the_releaser_cannot_approve(team: dict[str, Someone],
                                     roster: tuple[Path, Roster]) -> None:
    v = check(roster[1], team["alice"].approve(), team["bob"].approve())
    assert not v.approved and v.approvers == ("bob",)
    assert "alice released this model: four eyes" in v.refusals[0]


def test_unknown_key_is_refused(team: dict[str, Someone], roster: tuple[Path, Roster]) -> None:
    v = check(roster[1], team["dave"].approve(), team["bob"].approve())
    assert not v.approved
    assert v.refusals[0].startswith("dave: signed by a key that is not on the roster")


def test_revoked_key_is_refused(team: dict[str, Someone], roster: tuple[Path, Roster]) -> None:
    fp = key_fingerprint(team["carol"].pem)
    v = check(roster[1], team["bob"].approve(), team["carol"].approve(), revoked=(fp,))
    assert not v.approved and "revoked" in v.refusals[0]


def test_wrong_role_impersonation_and_other_release(team: dict[str, Someone],
                                                    roster: tuple[Path, Roster]) -> None:
    v = check(roster[1], team["erin"].approve(), team["bob"].approve(by="carol"),
              team["carol"].approve(release="release-risk-8"))
    assert not v.approved and v.approvers == ()
    assert "erin lacks the role approver" in v.refusals[0]
    assert "signed with bob's key but claims to be by carol" in v.refusals[1]
    assert "carol approved another release" in v.refusals[2]


def test_forged_rosters_are_refused(tmp_path: Path, team: dict[str, Someone],
                                    roster: tuple[Path, Roster]) -> None:
    path, _ = roster
    with pytest.raises(SignatureInvalid, match="untrusted key"):
        load_roster(path, [team["bob"].pem])  # pinned key is not the signer's
    text = path.read_text().replace("- approver\n  - releaser", "- releaser")
    edited = tmp_path / "edited.yaml"
    edited.write_text(path.read_text() + "# harmless?\n")
    Path(f"{edited}.sig").write_bytes(Path(f"{path}.sig").read_bytes())
    with pytest.raises(SignatureInvalid, match="changed after it was signed"):
        load_roster(edited, [team["admin"].pem])
    assert text  # (a role edit is the same case: any byte)
    with pytest.raises(InvalidInput, match="signed by an administrator it lists"):
        sign_roster(roster[1], tmp_path / "r2.yaml", team["bob"].provider, team["bob"].key_id)
    (tmp_path / "unsigned.yaml").write_text(path.read_text())
    with pytest.raises(SignatureInvalid, match="unsigned roster"):
        load_roster(tmp_path / "unsigned.yaml", [team["admin"].pem])


def medpipe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medpipe", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_cli_flow(tmp_path: Path, team: dict[str, Someone]) -> None:
    admin, alice, bob = team["admin"], team["alice"], team["bob"]
    path = tmp_path / "team.yaml"
    r = medpipe("roster", "init", str(path), "--admin", "admin", "--key-uri", admin.key_uri,
                "--key-id", admin.key_id)
    assert r.returncode == 0, r.stderr
    for who, roles in ((alice, ("releaser",)), (bob, ("approver",))):
        r = medpipe("roster", "add", str(path), "--name", who.name, "--public-key",
                    str(who.pem_path), *(x for role in roles for x in ("--role", role)),
                    "--key-uri", admin.key_uri, "--key-id", admin.key_id)
        assert r.returncode == 0, r.stderr
    r = medpipe("roster", "verify", str(path), "--admin-key", str(admin.pem_path))
    assert r.returncode == 0 and "bob: approver" in r.stdout and "OK: 3 people" in r.stdout
    statements = []
    for who in (alice, bob):
        out = tmp_path / f"{who.name}.approval.json"
        r = medpipe("approve", RELEASE, "--model-sha256", MODEL, "--by", who.name, "--reason",
                    "ok", "--key-uri", who.key_uri, "--key-id", who.key_id, "-o", str(out),
                    "--no-submit")
        assert r.returncode == 0, r.stderr
        statements.append(str(out))
    r = medpipe("approvals", "check", RELEASE, *statements, "--roster", str(path),
                "--admin-key", str(admin.pem_path), "--model-sha256", MODEL, "--releaser",
                "alice", "--required", "2")
    assert r.returncode == 1 and r.stderr.startswith("REFUSED: 1 of 2 approvals")
    assert "alice lacks the role approver" in r.stderr and "Traceback" not in r.stderr
    r = medpipe("approvals", "check", RELEASE, statements[1], "--roster", str(path),
                "--admin-key", str(admin.pem_path), "--model-sha256", MODEL, "--required", "1",
                "--output", "json")
    assert r.returncode == 0 and '"approvers": [\n    "bob"' in r.stdout
    path.write_text(path.read_text().replace("approver", "administrator"))  # forged roster
    r = medpipe("roster", "verify", str(path), "--admin-key", str(admin.pem_path))
    assert r.returncode == 1 and "changed after it was signed" in r.stderr
