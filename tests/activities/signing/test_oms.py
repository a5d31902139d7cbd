"""OMS model signatures: our signer, the upstream verifier, and every refusal."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from medpipe.activities.signing.dsse import SignatureRefused, key_fingerprint
from medpipe.activities.signing.oms import sign_model, verify_model
from medpipe.contracts.errors import SignatureInvalid
from medpipe.contracts.provenance import SignatureRefusal
from tests.activities.signing.conftest import SigningKey


def make_model(root: Path, name: str = "sepsis-model") -> Path:
    model = root / name
    (model / "weights").mkdir(parents=True)
    (model / "model.onnx").write_bytes(b"\x08\x07" + bytes(range(256)) * 400)
    (model / "weights" / "w0.bin").write_bytes(b"\x01" * 300_000)
    (model / "config.json").write_text('{"threshold": 0.42}')
    return model


def upstream_verify(model: Path, bundle: Path, public_pem: bytes, tmp: Path) -> None:
    """The upstream model_signing Python API (raises ValueError on refusal)."""
    from model_signing import verifying

    pub = tmp / "upstream.pub"
    pub.write_bytes(public_pem)
    verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, bundle)


def refused(reason: SignatureRefusal, *args: object, **kwargs: object) -> str:
    with pytest.raises(SignatureRefused) as info:
        verify_model(*args, **kwargs)  # type: ignore[arg-type]
    assert info.value.reason is reason, info.value.message
    assert isinstance(info.value, SignatureInvalid)
    assert info.value.message.startswith(reason.value)
    return info.value.message


def test_round_trip_with_each_provider(provider_key: SigningKey, tmp_path: Path) -> None:
    model = make_model(tmp_path)
    bundle = tmp_path / "model.sig"
    signed = sign_model(model, bundle, provider_key.provider, provider_key.key_id,
                        identity={"release_id": "release-sepsis-3"})
    assert {r.name for r in signed.resources} == {"model.onnx", "weights/w0.bin", "config.json"}
    assert signed.key_fingerprint == key_fingerprint(provider_key.public_pem)

    ok = verify_model(model, bundle, [provider_key.public_pem],
                      expected={"release_id": "release-sepsis-3"})
    assert ok.root_digest == signed.root_digest
    assert ok.key_fingerprint == signed.key_fingerprint
    upstream_verify(model, bundle, provider_key.public_pem, tmp_path)

    (model / "weights" / "w0.bin").write_bytes(b"\x01" * 299_999 + b"\x02")
    with pytest.raises(ValueError, match="w0.bin"):
        upstream_verify(model, bundle, provider_key.public_pem, tmp_path)
    message = refused(SignatureRefusal.TAMPERED_MODEL, model, bundle, [provider_key.public_pem])
    assert "weights/w0.bin" in message and "config.json" not in message


def test_upstream_cli_accepts_bundle_and_rejects_tampered_model(
        signing_key: SigningKey, tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx-bytes" * 5000)
    bundle = tmp_path / "model.onnx.sig"
    sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    pub = tmp_path / "key.pub"
    pub.write_bytes(signing_key.public_pem)
    cmd = [sys.executable, "-m", "model_signing", "verify", "key", "--signature", str(bundle),
           "--public_key", str(pub), str(model)]
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Verification succeeded" in ok.stdout + ok.stderr
    model.write_bytes(b"onnx-bytes" * 4999 + b"onnx-bytez")
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0
    assert "Verification failed" in bad.stdout + bad.stderr


def test_bundle_inside_model_directory_is_not_hashed(signing_key: SigningKey,
                                                     tmp_path: Path) -> None:
    model = make_model(tmp_path)
    bundle = model / "model.sig"
    signed = sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    assert "model.sig" not in {r.name for r in signed.resources}
    verify_model(model, bundle, [signing_key.public_pem])


def test_unsigned(signing_key: SigningKey, tmp_path: Path) -> None:
    model = make_model(tmp_path)
    message = refused(SignatureRefusal.UNSIGNED, model, tmp_path / "absent.sig",
                      [signing_key.public_pem])
    assert "absent.sig" in message


def test_tampered_added_and_removed_files(signing_key: SigningKey, tmp_path: Path) -> None:
    model = make_model(tmp_path)
    bundle = tmp_path / "m.sig"
    sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    (model / "config.json").unlink()
    (model / "backdoor.py").write_text("import os")
    message = refused(SignatureRefusal.TAMPERED_MODEL, model, bundle, [signing_key.public_pem])
    assert "missing config.json" in message and "unsigned extra backdoor.py" in message


def test_untrusted_and_revoked_keys(signing_key: SigningKey, other_key: SigningKey,
                                    tmp_path: Path) -> None:
    model = make_model(tmp_path)
    bundle = tmp_path / "m.sig"
    sign_model(model, bundle, other_key.provider, other_key.key_id)
    message = refused(SignatureRefusal.UNTRUSTED_KEY, model, bundle, [signing_key.public_pem])
    assert key_fingerprint(other_key.public_pem)[:16] in message

    sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    fp = key_fingerprint(signing_key.public_pem)
    message = refused(SignatureRefusal.REVOKED_KEY, model, bundle,
                      [signing_key.public_pem, other_key.public_pem], {fp})
    assert fp[:16] in message
    verify_model(model, bundle, [signing_key.public_pem], {key_fingerprint(other_key.public_pem)})


def test_bundle_for_another_model(signing_key: SigningKey, tmp_path: Path) -> None:
    first = tmp_path / "a" / "triage.onnx"
    second = tmp_path / "b" / "sepsis.onnx"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(b"triage" * 1000)
    second.write_bytes(b"sepsis" * 1000)
    bundle = tmp_path / "triage.sig"
    sign_model(first, bundle, signing_key.provider, signing_key.key_id,
               identity={"model": "triage", "release_id": "release-triage-1"})
    message = refused(SignatureRefusal.OTHER_MODEL, second, bundle, [signing_key.public_pem])
    assert "triage.onnx" in message and "sepsis.onnx" in message
    # Same bytes, wrong release: the identity in the predicate tells them apart.
    message = refused(SignatureRefusal.OTHER_MODEL, first, bundle, [signing_key.public_pem],
                      expected={"release_id": "release-triage-2"})
    assert "release-triage-1" in message


def _edit_bundle(bundle: Path, edit: object) -> None:
    doc = json.loads(bundle.read_text())
    edit(doc)  # type: ignore[operator]
    bundle.write_text(json.dumps(doc))


def test_malformed_bundles(signing_key: SigningKey, tmp_path: Path) -> None:
    model = make_model(tmp_path)
    bundle = tmp_path / "m.sig"
    keys = [signing_key.public_pem]
    bundle.write_text("{not json")
    assert "not JSON" in refused(SignatureRefusal.MALFORMED, model, bundle, keys)
    sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    _edit_bundle(bundle, lambda d: d.update(mediaType="application/x-other"))
    assert "media type" in refused(SignatureRefusal.MALFORMED, model, bundle, keys)
    sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    _edit_bundle(bundle, lambda d: d.pop("dsseEnvelope"))
    assert "no DSSE envelope" in refused(SignatureRefusal.MALFORMED, model, bundle, keys)


def test_statement_of_another_type_is_malformed(signing_key: SigningKey, tmp_path: Path) -> None:
    from medpipe.activities.signing.dsse import ProviderKey, sign_statement

    model = make_model(tmp_path)
    bundle = tmp_path / "m.sig"
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": [],
                 "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}
    bundle.write_bytes(sign_statement(ProviderKey.open(signing_key.provider, signing_key.key_id),
                                      statement))
    message = refused(SignatureRefusal.MALFORMED, model, bundle, [signing_key.public_pem])
    assert "not a model signature" in message


def test_edited_payload_is_a_bad_signature(signing_key: SigningKey, tmp_path: Path) -> None:
    model = make_model(tmp_path)
    bundle = tmp_path / "m.sig"
    sign_model(model, bundle, signing_key.provider, signing_key.key_id)
    (model / "config.json").write_text('{"threshold": 0.01}')
    # The attacker rewrites a digest in the signed statement (cannot re-sign it).
    def forge(doc: dict) -> None:
        env = doc["dsseEnvelope"]
        statement = json.loads(base64.b64decode(env["payload"]))
        statement["predicate"]["resources"][0]["digest"] = "00" * 32
        env["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()

    _edit_bundle(bundle, forge)
    message = refused(SignatureRefusal.BAD_SIGNATURE, model, bundle, [signing_key.public_pem])
    assert "altered after signing" in message
