"""A restart is not an outage: a gateway process killed under load comes back serving
what it served (stable, canary and weight), every model verified again, with no
admin call; what can no longer be verified stays out, saying why."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.activities.tls import client_context
from medpipe.workers.pki import TestPKI
from medpipe.workers.ports import free_port
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body, signed_copy
from tests.workers.gateway.test_main import ENV, ROOT

ROW = [[0.3, 0.1, -0.2, 0.9]]


class Proc:
    """One gateway process, restartable with the same command line."""

    def __init__(self, pki: TestPKI, tmp: Path, keys: dict[str, Path]) -> None:
        self.port, self.admin_port = free_port(), free_port()
        self.revoked = tmp / "revoked.txt"
        self.revoked.write_text("")
        self.state = tmp / "state" / "gw.json"
        self.cmd = [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(self.port),
                    "--admin-port", str(self.admin_port), "--tls-cert", str(pki.server_cert),
                    "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
                    "--model-name", MODEL_NAME, "--trusted-key", str(keys["ours"]),
                    "--revocation-list", str(self.revoked), "--model-root", str(tmp / "root"),
                    "--state-file", str(self.state), "--log-level", "warning"]
        self.ctx = client_context(pki.client_settings())
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start; seconds until the public port answers ready (or the process exits)."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=ENV,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = t0 + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                r = httpx.get(f"{self.url}/v2/health/ready", timeout=2)
                if r.status_code in (200, 400):
                    return time.monotonic() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(self.output())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=f"https://127.0.0.1:{self.admin_port}", verify=self.ctx,
                            timeout=30)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        if self.proc is None or self.proc.stdout is None:
            return ""
        if self.proc.poll() is None:
            self.stop()
        return self.proc.stdout.read().decode(errors="replace")


def _load(admin: httpx.Client, model: Path, bundle: Path, slot: str, version: str,
          release: str) -> None:
    r = admin.post("/admin/models", json={
        "slot": slot, "name": MODEL_NAME, "version": version, "model_uri": str(model),
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(), "bundle_uri": str(bundle),
        "release_id": release})
    assert r.status_code == 200, r.text


def _deploy(gw: Proc, tmp: Path, models: Models, keys: dict[str, Path]) -> None:
    v1, b1 = signed_copy(models.stable.path, tmp / "root" / "v1", keys, "ours")
    v2, b2 = signed_copy(models.canary.path, tmp / "root" / "v2", keys, "ours",
                         {"model": MODEL_NAME, "version": "2", "release_id": "rel-2"})
    with gw.admin() as admin:
        _load(admin, v1, b1, "stable", "1", "rel-1")
        _load(admin, v2, b2, "canary", "2", "rel-2")
        assert admin.put("/admin/weight", json={"weight": 30}).status_code == 200


def test_sigkill_under_load_comes_back_serving_the_same(tmp_path: Path, pki: TestPKI,
                                                        models: Models,
                                                        keys: dict[str, Path]) -> None:
    gw = Proc(pki, tmp_path, keys)
    try:
        gw.start()
        _deploy(gw, tmp_path, models, keys)
        stop = threading.Event()
        seen: Counter[str] = Counter()

        def traffic() -> None:
            with httpx.Client(timeout=2) as c:
                while not stop.is_set():
                    try:
                        r = c.post(f"{gw.url}/v2/models/{MODEL_NAME}/infer",
                                   json=infer_body(ROW))
                        seen[str(r.status_code)] += 1
                    except httpx.TransportError:
                        seen["unreachable"] += 1
                        time.sleep(0.01)

        sender = threading.Thread(target=traffic, daemon=True)
        sender.start()
        time.sleep(0.5)
        gw.kill()  # as a crash: no chance to write anything
        gw.start()
        time.sleep(0.5)
        stop.set()
        sender.join(10)
        with gw.admin() as admin:
            status = admin.get("/admin/status").json()
        assert status["stable"]["version"] == "1" and status["canary"]["version"] == "2"
        assert status["canary_weight"] == 30 and status["ready"] is True
        assert status["stable"]["signature_verified"] and status["canary"]["signature_verified"]
        assert seen["200"] > 0 and set(seen) <= {"200", "unreachable"}, seen
        # never a wrong answer while it was down: refused connections only, no 503
        r = httpx.post(f"{gw.url}/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW))
        assert r.status_code == 200
    finally:
        gw.stop()


def test_a_model_whose_key_was_revoked_meanwhile_is_not_restored(
        tmp_path: Path, pki: TestPKI, models: Models, keys: dict[str, Path]) -> None:
    gw = Proc(pki, tmp_path, keys)
    try:
        gw.start()
        _deploy(gw, tmp_path, models, keys)
        gw.stop()
        gw.revoked.write_text(key_fingerprint(keys["ours"].read_bytes()) + "\n")
        gw.start()
        r = httpx.post(f"{gw.url}/v2/models/{MODEL_NAME}/infer", json=infer_body(ROW))
        assert r.status_code == 503, r.text
        assert "could not be restored after a restart" in r.json()["error"]
        assert "revoked" in r.json()["error"]
        assert httpx.get(f"{gw.url}/v2/health/ready").status_code == 400
    finally:
        gw.stop()


def test_an_unreadable_state_stops_the_start_with_a_message(
        tmp_path: Path, pki: TestPKI, keys: dict[str, Path]) -> None:
    gw = Proc(pki, tmp_path, keys)
    gw.state.parent.mkdir(parents=True)
    gw.state.write_text('{"model_name": 7}')
    done = subprocess.run(gw.cmd, cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "is not valid" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
