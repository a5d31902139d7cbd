"""``medpipe offboard``: data returned decrypted, then destroyed, with a signed certificate.

Real envelope encryption (local keyring), real local buckets, the real
ledger; the command is run as the CLI runs it (click, the deployment config).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from medpipe.activities.keys import shared_provider
from medpipe.activities.pseudonymize.activity import SealedVaultStore
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.signing.evidence import verify_evidence, write_evidence
from medpipe.activities.signing.ledger import open_ledger
from medpipe.activities.storage.base import open_store
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.errors import IntegrityError
from medpipe.contracts.placement import Fleet
from medpipe.workers.cli_offboard import offboard_command
from medpipe.workers.config import StackConfig
from tests.support import make_fleet

SECRET = b"patient_id,age\nP-0001,91\n" * 100


def seed(fleet: Fleet) -> dict[str, ArtifactRef]:
    """Two models' releases: a sealed dataset and a clear report each, plus the vault."""
    provider = shared_provider(fleet.keys.key_uri)
    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri, provider,
                         fleet.keys.signing_key_id)
    refs = {}
    for model, profile in (("risk", 0), ("risk-v2", 2)):
        rid = f"release-{model}-1"
        ledger.append("release-started", rid, {"model": model, "version": "1"}, f"{rid}/start")
        store = open_store(fleet.profiles[profile].store_uri)
        refs[model] = store_sealed(store, f"releases/{rid}/ingest/data.csv", [SECRET],
                                   name="dataset", release_id=rid, keys=fleet.keys)
        store.put(f"releases/{rid}/reports/validation.json", [b'{"rows": 100}'])
    SealedVaultStore(open_store(fleet.vault_uri), fleet.keys).save(b'{"tokens": {}}')
    return refs


def run(cfg: StackConfig, *args: str) -> tuple[int, str]:
    """Exit code and stdout (the certificate) when it succeeded, else everything printed."""
    r = CliRunner().invoke(offboard_command, list(args), obj=cfg)
    return r.exit_code, r.stdout if r.exit_code == 0 else r.output


def pub(fleet: Fleet) -> bytes:
    return shared_provider(fleet.keys.key_uri).public_key_pem(fleet.keys.signing_key_id)


def test_model_offboarding_returns_destroys_and_certifies(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    refs = seed(fleet)
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    target = tmp_path / "returned"

    code, out = run(cfg, "--model", "risk", "--to", str(target), "--by", "admin-a")
    assert code == 2 and "--confirm" in out and not target.exists()

    code, out = run(cfg, "--model", "risk", "--to", str(target), "--confirm", "--by", "admin-a")
    assert code == 0, out
    cert = json.loads(out)
    assert cert["authority"].startswith("unsigned --confirm (no roster configured)")
    returned = target / "aws-us-east-1" / "releases/release-risk-1/ingest/data.csv"
    assert returned.read_bytes() == SECRET  # data return: decrypted
    manifest = json.loads((target / "manifest.json").read_bytes())
    assert manifest["files"]["aws-us-east-1/releases/release-risk-1/ingest/data.csv"][
        "sha256"] == hashlib.sha256(SECRET).hexdigest()
    assert cert["objects"] == {"exported": 2, "deleted": 2, "bytes_exported": len(SECRET) + 13}
    assert cert["releases"] == ["release-risk-1"] and cert["confirmed_by"] == "admin-a"
    assert cert["keys_destroyed"] == []  # the data key also wraps risk-v2 and the vault
    assert list(cert["keys_kept"]) and "outside this offboarding" in next(
        iter(cert["keys_kept"].values()))
    assert cert["manifest_sha256"] == hashlib.sha256(
        (target / "manifest.json").read_bytes()).hexdigest()
    assert SECRET.decode()[:20] not in json.dumps(cert)
    # destroyed: gone from storage; the other model untouched and still readable
    store = open_store(fleet.profiles[0].store_uri)
    assert not list(store.list("releases/release-risk-1/"))
    assert b"".join(open_plain(refs["risk-v2"])) == SECRET
    # certified: a signed ledger entry, the chain verifies, a copy beside the data
    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri)
    [entry] = [e for e in ledger.entries() if e.kind == "offboarded"]
    assert entry.payload["manifest_sha256"] == cert["manifest_sha256"]
    assert ledger.verify([pub(fleet)]).entries == 3
    assert json.loads((target / "certificate-of-destruction.json").read_text())[
        "ledger"]["seq"] == entry.seq
    # the release's evidence now carries the certificate (its artifacts are gone)
    pack = tmp_path / "pack"
    write_evidence(ledger, "release-risk-1", pack, [pub(fleet)])
    summary = verify_evidence(pack, [pub(fleet)])
    assert summary["offboarded"][0]["seq"] == entry.seq
    doc = json.loads((pack / "offboarding.json").read_text())
    doc["certificates"][0]["keys_destroyed"] = ["pretend"]
    (pack / "offboarding.json").write_text(json.dumps(doc))
    index = json.loads((pack / "evidence.json").read_text())
    index["files"]["offboarding.json"] = hashlib.sha256(
        (pack / "offboarding.json").read_bytes()).hexdigest()
    (pack / "evidence.json").write_text(json.dumps(index))
    with pytest.raises(IntegrityError, match="offboarding.json"):
        verify_evidence(pack, [pub(fleet)])


def test_failed_export_deletes_nothing(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    refs = seed(fleet)
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    target = tmp_path / "returned"
    target.mkdir()
    (target / "aws-us-east-1").write_text("in the way")  # the export cannot write there
    code, out = run(cfg, "--model", "risk", "--to", target.as_uri(), "--confirm", "--by", "a")
    assert code != 0 and "nothing was deleted" in out and "Traceback" not in out
    assert b"".join(open_plain(refs["risk"])) == SECRET
    assert not [e for e in open_ledger(fleet.ledger_uri).entries() if e.kind == "offboarded"]


def test_unknown_model_and_both_scopes_are_refused(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    seed(fleet)
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    code, out = run(cfg, "--model", "ris", "--to", str(tmp_path / "t"), "--confirm", "--by", "a")
    assert code == 1 and "no release of model 'ris'" in out  # refused: nothing to offboard
    code, out = run(cfg, "--model", "risk", "--tenant", "acme", "--to", str(tmp_path / "t"),
                    "--confirm", "--by", "a")
    assert code == 2 and "one --model or one --tenant" in out  # usage


def test_tenant_offboarding_shreds_the_data_key(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    refs = seed(fleet)
    cfg = StackConfig(fleet=fleet, home=str(tmp_path))
    code, out = run(cfg, "--tenant", "acme-health", "--to", str(tmp_path / "returned"),
                    "--confirm", "--by", "admin-b")
    assert code == 0, out
    cert = json.loads(out)
    assert cert["scope"] == {"tenant": "acme-health"}
    assert cert["keys_destroyed"] == [fleet.keys.data_key_id] and cert["keys_kept"] == {}
    assert cert["objects"]["deleted"] == 5  # 2 datasets, 2 reports, the vault
    [vault] = (tmp_path / "returned" / "vault").rglob("*.sealed")
    assert vault.read_bytes() == b'{"tokens": {}}'  # returned decrypted
    with pytest.raises(Exception, match="destroyed|not found|does not exist"):
        b"".join(open_plain(refs["risk"]))
    assert open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri).verify(
        [pub(fleet)]).entries == 3
