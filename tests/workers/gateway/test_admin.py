"""Admin API over mTLS: who may call it, loading, weights, promote and rollback."""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from medpipe.activities.tls import client_context
from medpipe.contracts.deploy import GatewayStatus, RollbackResult
from medpipe.contracts.errors import AccessDenied, SignatureInvalid
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.verify import TrustSummary
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body

ROW = [[0.3, -0.2, 0.8, 0.1]]


def _version(public: httpx.Client) -> str:
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW))
    assert r.status_code == 200, r.text
    return str(r.json()["model_version"])


# -- who may call ------------------------------------------------------------------------
def _refused(server: GatewayServer, ctx: ssl.SSLContext) -> None:
    with httpx.Client(base_url=server.admin_url, verify=ctx, timeout=5) as c:
        with pytest.raises(httpx.TransportError):
            c.get("/admin/status")


def test_admin_refuses_client_without_certificate(server: GatewayServer, pki: TestPKI) -> None:
    _refused(server, client_context(pki.client_settings("none")))


def test_admin_refuses_certificate_from_another_ca(server: GatewayServer, pki: TestPKI) -> None:
    _refused(server, client_context(pki.client_settings("foreign")))


def test_admin_refuses_tls_1_2(server: GatewayServer, pki: TestPKI) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    _refused(server, ctx)


def test_admin_accepts_trusted_client_and_is_not_on_public_port(
        admin: httpx.Client, public: httpx.Client) -> None:
    status = GatewayStatus.model_validate(admin.get("/admin/status").json())
    assert status.model_name == MODEL_NAME and not status.ready
    assert status.providers[-1] == "CPUExecutionProvider"
    assert public.get("/admin/status").status_code == 404


# -- loading -----------------------------------------------------------------------------
def test_load_refuses_digest_mismatch(admin: httpx.Client, models: Models) -> None:
    r = admin.post("/admin/models", json=models.stable.request(sha256="0" * 64))
    assert r.status_code == 403 and "does not match" in r.json()["error"]
    assert admin.get("/admin/status").json()["stable"] is None


def test_failed_loads_leave_slots_untouched(public: httpx.Client, loaded: httpx.Client,
                                            models: Models, tmp_path: Path) -> None:
    r = loaded.post("/admin/models", json=models.garbage.request("stable"))
    assert r.status_code == 400 and "not a loadable ONNX model" in r.json()["error"]
    r = loaded.post("/admin/models", json=models.stable.request(
        "canary", model_uri=str(models.stable.path.parent / "missing.onnx")))
    assert r.status_code == 400 and "no file" in r.json()["error"]
    r = loaded.post("/admin/models", json=models.stable.request(name="other"))
    assert r.status_code == 400 and "serves model 'readmission'" in r.json()["error"]
    r = loaded.post("/admin/models", json=models.stable.request(slot="previous"))
    assert r.status_code == 422
    status = loaded.get("/admin/status").json()
    assert status["stable"]["version"] == "1" and status["canary"] is None
    assert _version(public) == "1"


def test_load_from_file_uri_and_idempotent_reload(loaded: httpx.Client, models: Models) -> None:
    body = models.canary.request("canary", model_uri=models.canary.path.as_uri())
    first = loaded.post("/admin/models", json=body).json()
    again = loaded.post("/admin/models", json=body).json()
    assert first["canary"]["version"] == "2"
    assert first["canary"]["loaded_at"] == again["canary"]["loaded_at"]


def test_weight_validation(loaded: httpx.Client, models: Models) -> None:
    r = loaded.put("/admin/weight", json={"weight": 10})
    assert r.status_code == 409 and "no canary" in r.json()["error"]
    loaded.post("/admin/models", json=models.canary.request("canary"))
    for bad in (101, -1, "lots"):
        r = loaded.put("/admin/weight", json={"weight": bad})
        assert r.status_code == 422 and "weight" in r.json()["error"]
    assert loaded.put("/admin/weight", content=b"{").status_code == 422
    assert loaded.get("/admin/status").json()["canary_weight"] == 0


# -- promote / rollback ---------------------------------------------------------------------
def test_promote_then_rollback_restores_previous(public: httpx.Client, loaded: httpx.Client,
                                                 models: Models) -> None:
    loaded.post("/admin/models", json=models.canary.request("canary"))
    loaded.put("/admin/weight", json={"weight": 50})
    r = loaded.post("/admin/promote", json={"version": "2"})
    assert r.status_code == 200, r.text
    status = GatewayStatus.model_validate(r.json())
    assert status.stable and status.stable.version == "2"
    assert status.previous and status.previous.version == "1"
    assert status.canary is None and status.canary_weight == 0
    assert {_version(public) for _ in range(20)} == {"2"}
    assert loaded.post("/admin/promote", json={"version": "2"}).status_code == 200  # retry
    result = RollbackResult.model_validate(
        loaded.post("/admin/rollback", json={"version": "2", "reason": "INC-1"}).json())
    assert result.action == "restored_previous"
    assert result.status.stable and result.status.stable.version == "1"
    assert {_version(public) for _ in range(20)} == {"1"}
    again = loaded.post("/admin/rollback", json={"version": "2"}).json()
    assert again["action"] == "none" and again["status"]["stable"]["version"] == "1"


def test_rollback_of_canary_sets_weight_zero_and_unloads(public: httpx.Client,
                                                         loaded: httpx.Client,
                                                         models: Models) -> None:
    loaded.post("/admin/models", json=models.canary.request("canary"))
    loaded.put("/admin/weight", json={"weight": 100})
    assert _version(public) == "2"
    result = loaded.post("/admin/rollback", json={"reason": "p99 regression"}).json()
    assert result["action"] == "unloaded_canary"
    assert result["status"]["canary_weight"] == 0 and result["status"]["canary"] is None
    assert {_version(public) for _ in range(20)} == {"1"}
    assert loaded.post("/admin/rollback").json()["action"] == "none"


def test_promote_without_canary_and_unload(public: httpx.Client, loaded: httpx.Client,
                                           models: Models) -> None:
    r = loaded.post("/admin/promote")
    assert r.status_code == 409 and "nothing to promote" in r.json()["error"]
    loaded.post("/admin/models", json=models.canary.request("canary"))
    r = loaded.post("/admin/promote", json={"version": "7"})
    assert r.status_code == 409 and "not 7" in r.json()["error"]
    loaded.put("/admin/weight", json={"weight": 30})
    status = loaded.delete("/admin/models/canary").json()
    assert status["canary"] is None and status["canary_weight"] == 0
    assert loaded.delete("/admin/models/blue").status_code == 400
    assert loaded.delete("/admin/models/stable").json()["ready"] is False
    assert public.get("/v2/health/ready").status_code == 400


# -- signature hook ---------------------------------------------------------------------------
class BundleMustNameDigest:
    """Test verifier: the 'bundle' is a file holding the model's digest."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self.calls: list[dict[str, str]] = []

    def verify(self, model_path: Path, bundle_path: Path, expected: Mapping[str, str]) -> str:
        self.calls.append(dict(expected))
        if bundle_path.read_text().strip() != self.digest:
            raise SignatureInvalid("bundle does not cover this model")
        return "f" * 64

    def distrust(self, fingerprint: str) -> str | None:
        return None

    def reload(self) -> TrustSummary:
        return TrustSummary(trusted=("f" * 64,), revoked=())


@pytest.fixture
def signed_admin(tmp_path: Path, pki: TestPKI, models: Models
                 ) -> Iterator[tuple[httpx.Client, BundleMustNameDigest]]:
    verifier = BundleMustNameDigest(models.stable.sha256)
    loader = ModelLoader(tmp_path / "cache", verifier=verifier,
                         model_roots=(tmp_path, models.stable.path.parent))
    srv = GatewayServer(Gateway(MODEL_NAME, loader), "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    ctx = client_context(pki.client_settings())
    with httpx.Client(base_url=srv.admin_url, verify=ctx, timeout=30) as c:
        yield c, verifier
    srv.join()


def test_verifier_hook_refuses_unsigned_and_bad_bundles(
        signed_admin: tuple[httpx.Client, BundleMustNameDigest], models: Models,
        tmp_path: Path) -> None:
    admin, verifier = signed_admin
    r = admin.post("/admin/models", json=models.stable.request())
    assert r.status_code == 403 and "requires signed" in r.json()["error"]
    bad = tmp_path / "bad.sig"
    bad.write_text("f" * 64)
    r = admin.post("/admin/models", json=models.stable.request(bundle_uri=str(bad)))
    assert r.status_code == 403 and "does not cover" in r.json()["error"]
    good = tmp_path / "good.sig"
    good.write_text(models.stable.sha256)
    r = admin.post("/admin/models", json=models.stable.request(bundle_uri=str(good),
                                                               release_id="rel-7"))
    assert r.status_code == 200, r.text
    assert r.json()["stable"]["signature_verified"] is True
    # the verifier is told what the admin asked to load, to compare with the bundle
    assert verifier.calls == [{"model": MODEL_NAME, "version": "1"},
                              {"model": MODEL_NAME, "version": "1", "release_id": "rel-7"}]


def test_no_trusted_key_and_no_allow_unsigned_refuses_everything(tmp_path: Path,
                                                                 models: Models) -> None:
    from medpipe.contracts.deploy import LoadModelRequest

    loader = ModelLoader(tmp_path / "cache", model_roots=(models.stable.path.parent, tmp_path))
    bundle = tmp_path / "b.sig"
    bundle.write_text("x")
    req = LoadModelRequest.model_validate(models.stable.request(bundle_uri=str(bundle)))
    with pytest.raises(SignatureInvalid, match="no trusted key configured"):
        loader.load(req)
    assert list((tmp_path / "cache").iterdir()) == []  # verified copies are not left behind


def test_models_load_only_from_configured_roots(tmp_path: Path, models: Models) -> None:
    from medpipe.contracts.deploy import LoadModelRequest

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    inside = tmp_path / "root"
    inside.mkdir()
    (inside / "link.onnx").symlink_to(models.stable.path)  # a link out of the root
    loader = ModelLoader(tmp_path / "cache", model_roots=(inside, "s3://models/prod/"),
                         allow_unsigned=True)
    for uri in (str(models.stable.path), str(inside / "link.onnx"),
                str(inside / ".." / "elsewhere" / "x.onnx"), "s3://models/prod/../dev/m.onnx",
                "s3://models/production/m.onnx", "file:///etc/passwd"):
        req = LoadModelRequest.model_validate(models.stable.request(model_uri=uri))
        with pytest.raises(AccessDenied, match="outside the gateway's model roots"):
            loader.load(req)
    for uri in (str(inside / "m.onnx"), (inside / "sub" / "m.onnx").as_uri(),
                "s3://models/prod/r1/m.onnx", "s3://models/prod/m.onnx?endpoint=127.0.0.1"):
        loader.roots.check(uri, "model")  # inside: no refusal
    nowhere = ModelLoader(tmp_path / "cache2", allow_unsigned=True)
    with pytest.raises(AccessDenied, match="no model root configured"):
        nowhere.load(LoadModelRequest.model_validate(models.stable.request()))


def test_admin_load_outside_roots_is_403(loaded: httpx.Client, tmp_path: Path,
                                         models: Models) -> None:
    outside = tmp_path / "outside.onnx"
    outside.write_bytes(models.stable.path.read_bytes())
    r = loaded.post("/admin/models", json=models.stable.request(model_uri=str(outside),
                                                                version="5"))
    assert r.status_code == 403 and "outside the gateway's model roots" in r.json()["error"]
    assert loaded.get("/admin/status").json()["stable"]["version"] == "1"


def test_model_failure_is_500_and_counted_as_server_error(public: httpx.Client,
                                                          loaded: httpx.Client,
                                                          models: Models) -> None:
    assert loaded.post("/admin/models",
                       json=models.defective.request("canary")).status_code == 200
    body = {"inputs": [{"name": "features", "shape": [1, 3], "datatype": "FP32",
                        "data": [1.0, 2.0, 3.0]}]}
    r = public.post(f"/v2/models/{MODEL_NAME}/infer", json=body,
                    headers={"x-medpipe-slot": "canary"})
    assert r.status_code == 500 and "failed to run" in r.json()["error"]
    ok = public.post(f"/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW),
                     headers={"x-medpipe-slot": "canary"})
    assert ok.status_code == 200
    canary = loaded.get("/admin/metrics").json()["canary"]
    assert (canary["requests"], canary["errors"], canary["server_errors"]) == (2, 1, 1)
    assert 'medpipe_gateway_errors_total{kind="server",slot="canary"} 1.0' in \
        public.get("/metrics").text
