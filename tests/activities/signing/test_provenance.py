"""SLSA provenance: content, redaction, signature round trip and refusals."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medpipe.activities.signing.dsse import SignatureRefused, key_fingerprint
from medpipe.activities.signing.oms import sign_model
from medpipe.activities.signing.provenance import (
    SLSA_PREDICATE_TYPE,
    build_statement,
    sign_provenance,
    verify_provenance,
)
from medpipe.contracts.placement import RanOn
from medpipe.contracts.provenance import (
    ArtifactDigest,
    ProvenanceInput,
    SignatureRefusal,
    StagePlacement,
)
from medpipe.contracts.release import Stage, StageOutcome, StageResult
from tests.activities.signing.conftest import SigningKey

MODEL_SHA = "a1" * 32


def provenance_input(**over: object) -> ProvenanceInput:
    ran = RanOn(cloud="aws", region="eu-central-1", jurisdiction="EU-DE", host="w-17",
                worker_id="aws-eu-1", accelerator="cuda:H100")
    evaluate = StageResult(stage=Stage.EVALUATE, outcome=StageOutcome.SUCCEEDED, ran_on=ran,
                           started_at=datetime(2026, 1, 5, tzinfo=UTC), seconds=12.5)
    fields: dict[str, object] = dict(
        release_id="release-sepsis-3",
        request={"model": "sepsis", "version": "3",
                 "data_uri": "s3://user:hunter2@bucket/cohort.parquet?X-Amz-Signature=abc",
                 "model_uri": "file:///srv/models/sepsis.onnx",
                 "api_token": "tok-123", "fleet": {"workers": [{"password": "p"}]}},
        model=ArtifactDigest(name="sepsis.onnx", sha256=MODEL_SHA, size=1234),
        datasets=(ArtifactDigest(name="cohort", sha256="b2" * 32, uri="s3://bucket/c?sig=x"),),
        pseudonymization_policy=ArtifactDigest(name="policy", sha256="c3" * 32),
        reports=(ArtifactDigest(name="validation-report", sha256="d4" * 32),),
        metrics={"auroc": 0.91, "accuracy": 0.88},
        builder_id="medpipe-worker://aws/eu-central-1/w-17",
        stages=(StagePlacement.from_stage_result(evaluate),),
        code_revision="0123456789abcdef0123456789abcdef01234567",
    )
    fields.update(over)
    return ProvenanceInput.model_validate(fields)


def test_statement_records_inputs_placement_and_no_secrets() -> None:
    statement = build_statement(provenance_input())
    assert statement["predicateType"] == SLSA_PREDICATE_TYPE
    assert statement["subject"] == [{"name": "sepsis.onnx", "digest": {"sha256": MODEL_SHA}}]
    build = statement["predicate"]["buildDefinition"]
    run = statement["predicate"]["runDetails"]
    text = json.dumps(statement)
    for secret in ("hunter2", "tok-123", "X-Amz-Signature", "sig=x", '"p"'):
        assert secret not in text
    assert build["externalParameters"]["model"] == "sepsis"
    assert build["externalParameters"]["data_uri"].startswith("s3://[redacted]@bucket/")
    roles = {d["name"]: d["annotations"]["role"] for d in build["resolvedDependencies"]}
    assert roles == {"sepsis.onnx": "model", "cohort": "dataset",
                     "policy": "pseudonymization-policy"}
    assert run["builder"]["id"] == "medpipe-worker://aws/eu-central-1/w-17"
    assert run["builder"]["builderDependencies"][0]["digest"]["gitCommit"].startswith("0123")
    stage = run["medpipe_stages"][0]
    assert (stage["stage"], stage["jurisdiction"], stage["accelerator"]) == \
        ("evaluate", "EU-DE", "cuda:H100")
    metrics = next(b for b in run["byproducts"] if b["name"] == "evaluation-metrics")
    assert metrics["annotations"] == {"accuracy": 0.88, "auroc": 0.91}


def test_code_revision_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDPIPE_CODE_REVISION", "feedface" * 5)
    statement = build_statement(provenance_input(code_revision=None))
    dep = statement["predicate"]["runDetails"]["builder"]["builderDependencies"][0]
    assert dep["digest"]["gitCommit"] == "feedface" * 5


def test_round_trip_with_each_provider(provider_key: SigningKey) -> None:
    bundle = sign_provenance(provenance_input(), provider_key.provider, provider_key.key_id)
    got = verify_provenance(bundle, [provider_key.public_pem], model_sha256=MODEL_SHA,
                            release_id="release-sepsis-3")
    assert got.key_fingerprint == key_fingerprint(provider_key.public_pem)
    assert got.subject[0].sha256 == MODEL_SHA


def test_refusals(signing_key: SigningKey, other_key: SigningKey, tmp_path: Path) -> None:
    keys = [signing_key.public_pem]
    bundle = sign_provenance(provenance_input(), signing_key.provider, signing_key.key_id)

    def reason(raw: bytes | Path, **kw: object) -> SignatureRefusal:
        with pytest.raises(SignatureRefused) as info:
            verify_provenance(raw, kw.pop("keys", keys), **kw)  # type: ignore[arg-type]
        return info.value.reason

    assert reason(tmp_path / "none.json") is SignatureRefusal.UNSIGNED
    assert reason(bundle, model_sha256="ee" * 32) is SignatureRefusal.OTHER_MODEL
    assert reason(bundle, release_id="release-other-1") is SignatureRefusal.OTHER_MODEL
    assert reason(bundle, keys=[other_key.public_pem]) is SignatureRefusal.UNTRUSTED_KEY
    assert reason(bundle, revoked={key_fingerprint(signing_key.public_pem)}) is \
        SignatureRefusal.REVOKED_KEY
    doc = json.loads(bundle)
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    statement["predicate"]["runDetails"]["builder"]["id"] = "someone-else"
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    assert reason(json.dumps(doc).encode()) is SignatureRefusal.BAD_SIGNATURE
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x" * 100)
    sign_model(model, tmp_path / "m.sig", signing_key.provider, signing_key.key_id)
    assert reason(tmp_path / "m.sig") is SignatureRefusal.MALFORMED
