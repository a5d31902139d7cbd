"""The gateway's deployment gate with real OpenSSF model-signing bundles."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medpipe.activities.keys import open_provider
from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.activities.signing.oms import sign_model
from medpipe.activities.tls import client_context
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.verify import OMSVerifier
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import MODEL_NAME, Models


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """Two signing keys: the one the gateway trusts and a stranger's."""
    provider = open_provider(f"local://{tmp_path / 'keys' / 'keyring.json'}")
    out = {}
    for name in ("ours", "stranger"):
        provider.create_signing_key(name)
        out[name] = tmp_path / f"{name}.pub.pem"
        out[name].write_bytes(provider.public_key_pem(name))
    out["keyring"] = tmp_path / "keys" / "keyring.json"
    return out


def signed_copy(models: Models, tmp_path: Path, keys: dict[str, Path], key: str,
                name: str) -> tuple[Path, Path]:
    folder = tmp_path / name
    folder.mkdir()
    model = folder / "model.onnx"
    shutil.copy(models.stable.path, model)
    bundle = folder / "model.onnx.sig"
    sign_model(model, bundle, open_provider(f"local://{keys['keyring']}"), key)
    return model, bundle


def gateway(tmp_path: Path, pki: TestPKI, trusted: list[Path],
            revoked: tuple[str, ...] = ()) -> GatewayServer:
    loader = ModelLoader(tmp_path / "cache", verifier=OMSVerifier(trusted, revoked),
                         require_signature=True)
    srv = GatewayServer(Gateway(MODEL_NAME, loader), "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    return srv


@pytest.fixture
def admin(tmp_path: Path, pki: TestPKI, keys: dict[str, Path]) -> Iterator[httpx.Client]:
    srv = gateway(tmp_path, pki, [keys["ours"]])
    ctx = client_context(pki.client_settings())
    with httpx.Client(base_url=srv.admin_url, verify=ctx, timeout=30) as c:
        yield c
    srv.join()


def load(admin: httpx.Client, models: Models, model: Path, bundle: Path | None) -> httpx.Response:
    body = models.stable.request(model_uri=str(model),
                                 sha256=hashlib.sha256(model.read_bytes()).hexdigest())
    if bundle is not None:
        body["bundle_uri"] = str(bundle)
    return admin.post("/admin/models", json=body)


def test_a_model_signed_by_a_trusted_key_loads(admin: httpx.Client, models: Models,
                                               tmp_path: Path, keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models, tmp_path, keys, "ours", "good")
    r = load(admin, models, model, bundle)
    assert r.status_code == 200, r.text
    assert r.json()["stable"]["signature_verified"] is True


def test_each_refusal_says_which_case_it_is(admin: httpx.Client, models: Models,
                                            tmp_path: Path, keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models, tmp_path, keys, "ours", "tampered")
    data = bytearray(model.read_bytes())
    data[-5] ^= 0x01
    model.write_bytes(bytes(data))
    r = load(admin, models, model, bundle)
    assert r.status_code == 403 and "tamper" in r.json()["error"].lower(), r.text

    unsigned = tmp_path / "unsigned.onnx"
    shutil.copy(models.stable.path, unsigned)
    r = load(admin, models, unsigned, None)
    assert r.status_code == 403 and "requires signed" in r.json()["error"], r.text

    model, bundle = signed_copy(models, tmp_path, keys, "stranger", "stranger")
    r = load(admin, models, model, bundle)
    assert r.status_code == 403 and "untrusted" in r.json()["error"].lower(), r.text
    assert admin.get("/admin/status").json()["stable"] is None  # nothing was loaded


def test_a_revoked_key_is_refused(tmp_path: Path, pki: TestPKI, models: Models,
                                  keys: dict[str, Path]) -> None:
    srv = gateway(tmp_path, pki, [keys["ours"]], (key_fingerprint(keys["ours"].read_bytes()),))
    ctx = client_context(pki.client_settings())
    try:
        with httpx.Client(base_url=srv.admin_url, verify=ctx, timeout=30) as c:
            model, bundle = signed_copy(models, tmp_path, keys, "ours", "revoked")
            r = load(c, models, model, bundle)
            assert r.status_code == 403 and "revoked" in r.json()["error"].lower(), r.text
    finally:
        srv.join()
