"""A real release's evidence pack: SBOMs, DPIA, ledger proof, model, and the upstream verifier.

One release on the real Temporal dev server with real workers; then the
pack is written and checked as an auditor would (``medpipe verify
--evidence``, ``model_signing verify key``), and one byte is changed in
each kind of file to see the refusal name that file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client

from medpipe.activities.keys import open_provider
from medpipe.activities.sbom import validate_sbom
from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.activities.signing.evidence import verify_evidence
from medpipe.activities.signing.ledger import open_ledger
from medpipe.activities.signing.provenance import verify_provenance
from medpipe.activities.storage.base import open_store
from medpipe.contracts.errors import MedpipeError
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import ReleaseState
from tests.support import make_fleet, make_request, running_workers, start

pytestmark = pytest.mark.asyncio
ROOT = Path(sys.executable).parents[2]


def medpipe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medpipe", *args], capture_output=True,
                          text=True, timeout=300)


def public_key(fleet: Fleet, tmp: Path) -> Path:
    pem = open_provider(fleet.keys.key_uri).public_key_pem(fleet.keys.signing_key_id)
    path = tmp / "signing.pub.pem"
    path.write_bytes(pem)
    return path


def flip(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if at is None else at
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def reindex(pack: Path, name: str) -> None:
    """The attacker also rewrites evidence.json's digest of the changed file."""
    index = json.loads((pack / "evidence.json").read_text())
    index["files"][name] = hashlib.sha256((pack / name).read_bytes()).hexdigest()
    (pack / "evidence.json").write_text(json.dumps(index))


def refusal(pack: Path, pub: Path) -> str:
    try:
        verify_evidence(pack, [pub.read_bytes()])
    except MedpipeError as e:
        return e.message
    raise AssertionError("the changed pack verified")


async def test_release_evidence_pack(client: Client, tmp_path: Path,
                                     sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["aws/us-east-1", "azure/eastus"]):
        status = await (await start(client, make_request(
            fleet, sample, purpose="sepsis risk triage in adult inpatients",
            retention="7 years after decommissioning"))).result()
    assert status.state is ReleaseState.SUCCEEDED
    pub = public_key(fleet, tmp_path)
    # the workflow anchored the ledger head in its history (the append activity's result)
    seq, _, head_hash = status.ledger_head.partition(":")
    assert seq.isdigit() and len(head_hash) == 64

    # every stage names the SBOM of the worker that ran it; the SBOM is stored and valid
    digests = {s.ran_on.sbom_sha256 for s in status.stages if s.ran_on is not None}
    assert digests and all(len(d) == 64 for d in digests)
    for s in status.stages:
        if s.ran_on is None:
            continue
        uri = s.ran_on.sbom_uri
        bucket, key = uri.rsplit("/sboms/", 1)
        doc = b"".join(open_store(bucket).get(f"sboms/{key}"))
        assert hashlib.sha256(doc).hexdigest() == s.ran_on.sbom_sha256
        validate_sbom(doc)
    # ... and the signed provenance lists them as resolved dependencies
    assert status.signature is not None
    prov_bucket, prov_key = status.signature.provenance_uri.split("/releases/", 1)
    prov = verify_provenance(b"".join(open_store(prov_bucket).get(f"releases/{prov_key}")),
                             [pub.read_bytes()])
    deps = prov.statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    named = {d["digest"]["sha256"] for d in deps
             if d.get("annotations", {}).get("role") == "runtime-sbom"}
    assert digests <= named

    # the ledger's checkpoints went to the separate store
    ledger = open_ledger(fleet.ledger_uri, fleet.ledger_checkpoint_uri)
    assert list(ledger.checkpoints.list("ledger-head/")) and not list(
        ledger.store.list("ledger-head/"))

    pack = tmp_path / "pack"
    rid = status.release_id
    ev = medpipe("evidence", rid, "-o", str(pack), "--store", fleet.ledger_uri,
                 "--checkpoint-store", fleet.ledger_checkpoint_uri, "--key", str(pub),
                 "--anchor", status.ledger_head)
    assert ev.returncode == 0, ev.stderr
    assert json.loads((pack / "evidence.json").read_text())["workflow_anchor"] == {
        "seq": int(seq), "entry_hash": head_hash}
    wrong = medpipe("evidence", rid, "-o", str(tmp_path / "wrong"), "--store", fleet.ledger_uri,
                    "--key", str(pub), "--anchor", f"{seq}:{'0' * 64}")
    assert wrong.returncode == 1 and "workflow's ledger anchor" in wrong.stderr
    checked = medpipe("verify", "--evidence", str(pack), "--trusted-key", str(pub),
                      "--output", "json")
    print(checked.stdout)
    assert checked.returncode == 0, checked.stderr
    summary = json.loads(checked.stdout)
    assert summary["verified"] and summary["model_verified"] == "model.onnx"
    assert summary["sboms"] == len(named)
    dpia = json.loads((pack / "dpia.json").read_text())
    assert dpia["residency"]["jurisdictions_used"] == ["US"]
    assert dpia["processing"]["purpose"] == "sepsis risk triage in adult inpatients"
    assert dpia["retention"] == "7 years after decommissioning"
    assert dpia["data"]["identifiers"] and dpia["data"]["records"] > 0
    assert not any(str(v) in (pack / "dpia.json").read_text()
                   for v in ("patient_id,", "1970-"))  # names and counts, no values

    # the upstream OpenSSF verifier accepts the pack as it is
    key_file = pack / "keys" / f"{key_fingerprint(pub.read_bytes())}.pem"
    upstream = subprocess.run(
        [str(Path(sys.executable).parent / "model_signing"), "verify", "key",
         str(pack / "model.onnx"), "--signature", str(pack / "model.sig"),
         "--public_key", str(key_file)], capture_output=True, text=True, timeout=300)
    assert upstream.returncode == 0, upstream.stdout + upstream.stderr

    # the ledger head is anchored in the pack: ledger verify --evidence uses it
    ok = medpipe("ledger", "verify", "--store", fleet.ledger_uri, "--checkpoint-store",
                 fleet.ledger_checkpoint_uri, "--key", str(pub), "--evidence", str(pack))
    assert ok.returncode == 0, ok.stderr

    # without the model: its URI and digest instead, still verifiable
    slim = tmp_path / "slim"
    assert medpipe("evidence", rid, "-o", str(slim), "--store", fleet.ledger_uri, "--key",
                   str(pub), "--no-model").returncode == 0
    assert not (slim / "model.onnx").exists()
    assert verify_evidence(slim, [pub.read_bytes()])["model_not_included"].endswith(
        "model.onnx")

    # one byte changed in each kind of file: refused, naming the file (index fixed or not)
    kinds = ["model.onnx", "model.sig", "provenance.json", "reports/pseudonymize-report",
             "reports/validation-report", "dpia.json", "canary.json", "ledger/entries.jsonl",
             "ledger/checkpoint.json", "ledger/proof.json", key_file.relative_to(pack).as_posix(),
             next(p.relative_to(pack).as_posix() for p in (pack / "sboms").iterdir())]
    for name in kinds:
        assert (pack / name).is_file(), name
        for fix_index in (False, True):
            copy = tmp_path / f"tamper-{fix_index}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(pack, copy)
            flip(copy / name)
            if fix_index:
                reindex(copy, name)
            message = refusal(copy, pub)
            assert name in message or (name == "model.onnx" and "tampered model" in message), \
                (name, fix_index, message)
    copy = tmp_path / "tamper-index"
    shutil.copytree(pack, copy)
    flip(copy / "evidence.json", at=40)
    assert "evidence" in refusal(copy, pub)
