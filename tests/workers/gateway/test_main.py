"""``python -m workers.gateway`` runs as a process and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from medpipe.activities.tls import client_context
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_module_entry_point_serves_and_stops(pki: TestPKI, models: Models) -> None:
    port, admin_port = _free_port(), _free_port()
    cmd = [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(port),
           "--admin-port", str(admin_port), "--tls-cert", str(pki.server_cert),
           "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
           "--model-name", MODEL_NAME, "--model", str(models.stable.path),
           "--model-version", "1", "--model-sha256", models.stable.sha256]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gateway process never became ready"
            time.sleep(0.1)
        r = httpx.post(f"http://127.0.0.1:{port}/v2/models/{MODEL_NAME}/infer",
                       json=infer_body([[1, 2, 3, 4]]))
        assert r.status_code == 200 and r.json()["model_version"] == "1"
        ctx = client_context(pki.client_settings())
        status = httpx.get(f"https://127.0.0.1:{admin_port}/admin/status", verify=ctx).json()
        assert status["stable"]["sha256"] == models.stable.sha256
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
