"""End to end: sign, store, ledger, evidence, and the offline CLI checks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from medpipe.activities.signing.evidence import signed_entry_payload
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.signing.oms import sign_model
from medpipe.activities.signing.provenance import sign_provenance
from medpipe.activities.storage.base import open_store
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.provenance import ArtifactDigest, ProvenanceInput
from medpipe.workers.cli_sign import evidence_command, ledger_group, verify_command
from tests.activities.signing.conftest import SigningKey

RELEASE = "release-sepsis-3"


def put(store_uri: str, key: str, data: bytes) -> ArtifactRef:
    info = open_store(store_uri).put(key, [data])
    return ArtifactRef(name=key.rsplit("/", 1)[-1], bucket_uri=store_uri, key=key,
                       sha256=info.sha256, size=info.size)


def release_fixture(tmp_path: Path, key: SigningKey) -> tuple[Path, str, Path]:
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    store_uri = f"file://{bucket}"
    model = tmp_path / "sepsis.onnx"
    model.write_bytes(b"onnx" * 10_000)
    bundle = tmp_path / "sepsis.onnx.sig"
    sign_model(model, bundle, key.provider, key.key_id, identity={"release_id": RELEASE})
    bundle_ref = put(store_uri, f"releases/{RELEASE}/model.sig", bundle.read_bytes())
    report = put(store_uri, f"releases/{RELEASE}/validation-report.json",
                 b'{"rows": 1200, "residual_identifiers": 0}')
    model_ref = put(store_uri, f"releases/{RELEASE}/sepsis.onnx", model.read_bytes())
    model_digest = ArtifactDigest(name="sepsis.onnx", sha256=model_ref.sha256)
    report_digest = ArtifactDigest(name=report.name, sha256=report.sha256, uri=report.uri)
    prov = sign_provenance(ProvenanceInput(
        release_id=RELEASE, request={"model": "sepsis", "version": "3"}, model=model_digest,
        reports=(report_digest,), builder_id="worker-1", code_revision="ab" * 20,
        model_signature_sha256=bundle_ref.sha256), key.provider, key.key_id)
    prov_ref = put(store_uri, f"releases/{RELEASE}/provenance.json", prov)
    ledger = Ledger(open_store(store_uri), key.provider, key.key_id)
    ledger.append("release-started", RELEASE, {"model": "sepsis"}, f"{RELEASE}/start")
    ledger.append("release-started", "release-other-1", {}, "other/start")
    ledger.append("signed", RELEASE, signed_entry_payload(model_ref, bundle_ref, prov_ref,
                                                         [report]), f"{RELEASE}/signed")
    pub = tmp_path / "signer.pub"
    pub.write_bytes(key.public_pem)
    return model, store_uri, pub


def test_evidence_round_trip_and_refusals(signing_key: SigningKey, other_key: SigningKey,
                                          tmp_path: Path) -> None:
    model, store_uri, pub = release_fixture(tmp_path, signing_key)
    runner = CliRunner()
    out = tmp_path / "evidence"
    r = runner.invoke(evidence_command, [RELEASE, "-o", str(out), "--store", store_uri,
                                         "--key", str(pub)])
    assert r.exit_code == 0, r.output
    assert (out / "reports" / "validation-report.json").is_file()

    r = runner.invoke(verify_command, ["--evidence", str(out), "--key", str(pub), str(model),
                                       "--output", "json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["signed"] and summary["model_verified"] == "sepsis.onnx"
    assert summary["ledger_entries"] == 3

    r = runner.invoke(verify_command, [str(model), "--key", str(pub),
                                       "--expect", f"release_id={RELEASE}"])
    assert r.exit_code == 0 and r.output.startswith("OK: sepsis.onnx")

    intruder = tmp_path / "intruder.pub"
    intruder.write_bytes(other_key.public_pem)
    r = runner.invoke(verify_command, ["--evidence", str(out), "--key", str(intruder)])
    assert r.exit_code == 1 and "not trusted" in r.output

    model.write_bytes(b"onnx" * 9_999 + b"evil")
    r = runner.invoke(verify_command, [str(model), "--key", str(pub)])
    assert r.exit_code == 1
    assert "REFUSED: tampered model: model sepsis.onnx" in r.output

    lines = (out / "ledger" / "entries.jsonl").read_text().splitlines()
    doc = json.loads(lines[1])
    doc["payload"]["note"] = "edited"
    lines[1] = json.dumps(doc)
    (out / "ledger" / "entries.jsonl").write_text("\n".join(lines) + "\n")
    r = runner.invoke(verify_command, ["--evidence", str(out), "--key", str(pub)])
    assert r.exit_code == 1 and "ledger/entries.jsonl" in r.output
    index = json.loads((out / "evidence.json").read_text())  # attacker fixes the index too
    index["files"]["ledger/entries.jsonl"] = hashlib.sha256(
        (out / "ledger" / "entries.jsonl").read_bytes()).hexdigest()
    (out / "evidence.json").write_text(json.dumps(index))
    r = runner.invoke(verify_command, ["--evidence", str(out), "--key", str(pub)])
    assert r.exit_code == 1 and "entry 1 " in r.output and "edited" in r.output


def test_ledger_commands(signing_key: SigningKey, tmp_path: Path) -> None:
    _model, store_uri, pub = release_fixture(tmp_path, signing_key)
    runner = CliRunner()
    r = runner.invoke(ledger_group, ["verify", "--store", store_uri, "--key", str(pub)])
    assert r.exit_code == 0 and r.output.startswith("OK: 3 entries, head 2:")
    r = runner.invoke(ledger_group, ["show", "--store", store_uri, "--release", RELEASE])
    assert r.exit_code == 0
    assert [ln.split()[3] for ln in r.output.splitlines()] == ["release-started", "signed"]
    open_store(store_uri).delete("ledger/000000000001.json")
    r = runner.invoke(ledger_group, ["verify", "--store", store_uri, "--key", str(pub)])
    assert r.exit_code == 1 and "entry 1 missing (deleted)" in r.output
