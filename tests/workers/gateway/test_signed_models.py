"""The gateway's deployment gate with real OpenSSF model-signing bundles: signatures
required, bound to what is loaded, and trust that can be withdrawn while serving."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.activities.tls import client_context
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.verify import OMSVerifier
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body, signed_copy


@dataclass
class Rig:
    server: GatewayServer
    admin: httpx.Client
    public: httpx.Client
    root: Path
    revocations: Path


def start(tmp_path: Path, pki: TestPKI, trusted: list[Path], revoked: tuple[str, ...] = ()
          ) -> Rig:
    root = tmp_path / "models"
    root.mkdir(exist_ok=True)
    revocations = tmp_path / "revoked.txt"
    revocations.write_text("# revoked signing keys\n")
    verifier = OMSVerifier(trusted, revoked, revocation_list=revocations)
    loader = ModelLoader(tmp_path / "cache", verifier=verifier, model_roots=(root,))
    srv = GatewayServer(Gateway(MODEL_NAME, loader), "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    ctx = client_context(pki.client_settings())
    return Rig(srv, httpx.Client(base_url=srv.admin_url, verify=ctx, timeout=30),
               httpx.Client(base_url=srv.url, timeout=10), root, revocations)


@pytest.fixture
def rig(tmp_path: Path, pki: TestPKI, keys: dict[str, Path]) -> Iterator[Rig]:
    r = start(tmp_path, pki, [keys["ours"]])
    yield r
    r.admin.close()
    r.public.close()
    r.server.join()


def load(rig: Rig, model: Path, bundle: Path | None, slot: str = "stable",
         version: str = "1", release_id: str | None = "rel-1") -> httpx.Response:
    body: dict[str, object] = {
        "slot": slot, "name": MODEL_NAME, "version": version, "model_uri": str(model),
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(), "release_id": release_id}
    if bundle is not None:
        body["bundle_uri"] = str(bundle)
    return rig.admin.post("/admin/models", json=body)


def test_a_model_signed_by_a_trusted_key_loads(rig: Rig, models: Models,
                                               keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models.stable.path, rig.root / "good", keys, "ours")
    r = load(rig, model, bundle)
    assert r.status_code == 200, r.text
    assert r.json()["stable"]["signature_verified"] is True
    meta = rig.public.get("/v2").json()
    assert meta["medpipe"]["signatures"] == "required"
    assert 'medpipe_gateway_unsigned_models_allowed 0.0' in rig.public.get("/metrics").text


def test_each_refusal_says_which_case_it_is(rig: Rig, models: Models,
                                            keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models.stable.path, rig.root / "tampered", keys, "ours")
    data = bytearray(model.read_bytes())
    data[-5] ^= 0x01
    model.write_bytes(bytes(data))
    r = load(rig, model, bundle)
    assert r.status_code == 403 and "tamper" in r.json()["error"].lower(), r.text

    unsigned = rig.root / "unsigned.onnx"
    shutil.copy(models.stable.path, unsigned)
    r = load(rig, unsigned, None)
    assert r.status_code == 403 and "requires signed" in r.json()["error"], r.text

    model, bundle = signed_copy(models.stable.path, rig.root / "stranger", keys, "stranger")
    r = load(rig, model, bundle)
    assert r.status_code == 403 and "untrusted" in r.json()["error"].lower(), r.text
    assert rig.admin.get("/admin/status").json()["stable"] is None  # nothing was loaded


@pytest.mark.parametrize(("version", "release_id", "named"), [
    ("99", "rel-1", "version='99'"),
    ("1", "rel-2", "release_id='rel-2'"),
])
def test_a_bundle_is_bound_to_model_version_and_release(
        rig: Rig, models: Models, keys: dict[str, Path], version: str, release_id: str,
        named: str) -> None:
    """A model signed as version 1 of release rel-1 loads as nothing else (403 naming both)."""
    model, bundle = signed_copy(models.stable.path, rig.root / "v1", keys, "ours")
    r = load(rig, model, bundle, version=version, release_id=release_id)
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert "version='1'" in error and "release_id='rel-1'" in error and named in error, error
    assert rig.admin.get("/admin/status").json()["stable"] is None


def test_a_bundle_for_another_model_name_is_refused(rig: Rig, models: Models,
                                                    keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models.stable.path, rig.root / "other", keys, "ours",
                                {"model": "sepsis", "version": "1", "release_id": "rel-1"})
    r = load(rig, model, bundle)
    assert r.status_code == 403 and "model='sepsis'" in r.json()["error"], r.text
    assert f"model='{MODEL_NAME}'" in r.json()["error"]


def test_a_revoked_key_is_refused(tmp_path: Path, pki: TestPKI, models: Models,
                                  keys: dict[str, Path]) -> None:
    rig = start(tmp_path, pki, [keys["ours"]], (key_fingerprint(keys["ours"].read_bytes()),))
    try:
        model, bundle = signed_copy(models.stable.path, rig.root / "revoked", keys, "ours")
        r = load(rig, model, bundle)
        assert r.status_code == 403 and "revoked" in r.json()["error"].lower(), r.text
    finally:
        rig.server.join()


def test_revocation_takes_a_serving_model_out_at_once(rig: Rig, models: Models,
                                                      keys: dict[str, Path]) -> None:
    """Revoking the key behind stable and canary unloads both on the live reload."""
    model, bundle = signed_copy(models.stable.path, rig.root / "v1", keys, "ours")
    assert load(rig, model, bundle).status_code == 200
    v2, b2 = signed_copy(models.canary.path, rig.root / "v2", keys, "ours",
                         {"model": MODEL_NAME, "version": "2", "release_id": "rel-2"})
    assert load(rig, v2, b2, "canary", "2", "rel-2").status_code == 200
    assert rig.admin.put("/admin/weight", json={"weight": 50}).status_code == 200
    assert rig.public.post(f"/v2/models/{MODEL_NAME}/infer",
                           json=infer_body([[1, 2, 3, 4]])).status_code == 200

    fingerprint = key_fingerprint(keys["ours"].read_bytes())
    rig.revocations.write_text(f"{fingerprint}  # key leaked\n")
    r = rig.admin.post("/admin/trust/reload")
    assert r.status_code == 200, r.text
    assert r.json()["revoked"] == [fingerprint]
    assert set(r.json()["taken_out"]) == {"stable", "canary"}

    status = rig.admin.get("/admin/status").json()
    assert status["stable"] is None and status["canary"] is None
    assert status["canary_weight"] == 0 and not status["ready"]
    r = rig.public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body([[1, 2, 3, 4]]))
    assert r.status_code == 503, r.text
    assert "taken out of service" in r.json()["error"] and "revoked" in r.json()["error"]
    assert rig.public.get("/v2/health/ready").status_code == 400
    assert 'medpipe_gateway_slot_out_of_service{slot="stable"} 1.0' in \
        rig.public.get("/metrics").text
    # the same signed model cannot come back while its key is revoked
    assert load(rig, model, bundle).status_code == 403


def test_trust_reload_adds_keys_and_keeps_old_trust_on_error(
        rig: Rig, models: Models, keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models.stable.path, rig.root / "s", keys, "stranger")
    assert load(rig, model, bundle).status_code == 403
    keys["ours"].write_bytes(keys["stranger"].read_bytes())  # the trusted file now holds it
    r = rig.admin.post("/admin/trust/reload")
    assert r.status_code == 200 and r.json()["taken_out"] == {}
    assert load(rig, model, bundle).status_code == 200
    keys["ours"].write_text("not a key")
    r = rig.admin.post("/admin/trust/reload")
    assert r.status_code == 400 and "trust not reloaded" in r.json()["error"], r.text
    assert rig.admin.get("/admin/status").json()["stable"]["version"] == "1"


def test_a_bundle_without_identity_cannot_vouch_for_a_release(
        rig: Rig, models: Models, keys: dict[str, Path]) -> None:
    """A plain OMS bundle (``model_signing`` without medpipe's identity) is refused."""
    model, bundle = signed_copy(models.stable.path, rig.root / "plain", keys, "ours", {})
    r = load(rig, model, bundle)
    assert r.status_code == 403 and "carries no model/version/release identity" in \
        r.json()["error"], r.text
