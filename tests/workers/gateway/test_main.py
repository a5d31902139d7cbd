"""``python -m medpipe.workers.gateway`` as a process: signed start, SIGHUP trust reload,
``--allow-unsigned`` said loudly, refusals without a traceback, clean stop on SIGTERM,
its scratch directory gone after SIGTERM and, after a SIGKILL, at the next start."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.workers.pki import TestPKI
from medpipe.workers.ports import free_port
from medpipe.workers.scratch import PREFIX, ROOT_ENV
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body, signed_copy

ROOT = Path(__file__).resolve().parents[3]
ENV = os.environ | {"PYTHONPATH": str(ROOT)}


def _command(pki: TestPKI, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(port),
            "--admin-port", str(free_port()), "--tls-cert", str(pki.server_cert),
            "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
            "--model-name", MODEL_NAME, *extra]


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "gateway process never became ready"
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return proc.stdout.read().decode() if proc.stdout else ""


def test_signed_start_and_sighup_revocation(tmp_path: Path, pki: TestPKI, models: Models,
                                            keys: dict[str, Path]) -> None:
    model, bundle = signed_copy(models.stable.path, tmp_path / "root" / "v1", keys, "ours")
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("")
    port = free_port()
    cmd = _command(pki, port, "--trusted-key", str(keys["ours"]), "--revocation-list",
                   str(revoked), "--model-root", str(tmp_path / "root"), "--model", str(model),
                   "--model-sha256", hashlib.sha256(model.read_bytes()).hexdigest(),
                   "--model-bundle", str(bundle), "--release-id", "rel-1")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, port)
        url = f"http://127.0.0.1:{port}"
        r = httpx.post(f"{url}/v2/models/{MODEL_NAME}/infer", json=infer_body([[1, 2, 3, 4]]))
        assert r.status_code == 200 and r.json()["model_version"] == "1"
        assert httpx.get(f"{url}/v2").json()["medpipe"]["signatures"] == "required"
        revoked.write_text(key_fingerprint(keys["ours"].read_bytes()) + "\n")
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/v2/health/ready").status_code == 200:
            assert time.monotonic() < deadline, "SIGHUP did not take the revoked model out"
            time.sleep(0.05)
        r = httpx.post(f"{url}/v2/models/{MODEL_NAME}/infer", json=infer_body([[1, 2, 3, 4]]))
        assert r.status_code == 503 and "revoked" in r.json()["error"]
    finally:
        _stop(proc)


def test_allow_unsigned_is_loud(tmp_path: Path, pki: TestPKI, models: Models) -> None:
    port = free_port()
    cmd = _command(pki, port, "--allow-unsigned", "--log-level", "warning",
                   "--model-root", str(models.stable.path.parent),
                   "--model", str(models.stable.path), "--model-sha256", models.stable.sha256)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, port)
        meta = httpx.get(f"http://127.0.0.1:{port}/v2").json()
        assert meta["medpipe"]["signatures"].startswith("NOT REQUIRED")
        assert "medpipe_gateway_unsigned_models_allowed 1.0" in \
            httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        out = _stop(proc)
    assert "THIS GATEWAY LOADS UNSIGNED MODELS" in out
    assert "LOADING UNSIGNED MODEL readmission 1" in out


def test_a_killed_gateways_model_cache_goes_when_the_next_one_starts(
        tmp_path: Path, pki: TestPKI, models: Models) -> None:
    """SIGKILL leaves the gateway's scratch directory (its model cache directory) behind;
    the next gateway removes it as it starts, and its own goes at SIGTERM."""
    root = tmp_path / "tmp"
    root.mkdir()
    env = {k: v for k, v in ENV.items() if k != ROOT_ENV} | {"TMPDIR": str(root)}

    def start() -> tuple[subprocess.Popen[bytes], Path]:
        port = free_port()
        proc = subprocess.Popen(
            _command(pki, port, "--allow-unsigned", "--model-root",
                     str(models.stable.path.parent), "--model", str(models.stable.path),
                     "--model-sha256", models.stable.sha256),
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _wait_ready(proc, port)
        [own] = root.glob(f"{PREFIX}{proc.pid}-*")
        assert list(own.glob("medpipe-gateway-*")), "its model cache directory is not in it"
        return proc, own

    killed, left = start()
    killed.kill()
    killed.wait()
    assert left.exists()
    proc, own = start()
    try:
        assert not left.exists()
    finally:
        _stop(proc)
    assert not own.exists()


def test_bad_command_lines_are_refused_without_traceback(tmp_path: Path, pki: TestPKI,
                                                         models: Models) -> None:
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("garbage")
    cases = {
        "no --trusted-key": _command(pki, free_port()),
        "cannot be used": _command(pki, free_port(), "--trusted-key", str(not_a_key)),
        "--max-body-bytes must be positive": _command(pki, free_port(), "--allow-unsigned",
                                                      "--max-body-bytes", "0"),
        "outside the gateway's model roots": _command(
            pki, free_port(), "--allow-unsigned", "--model-root", str(tmp_path),
            "--model", str(models.stable.path), "--model-sha256", models.stable.sha256),
    }
    for expected, cmd in cases.items():
        done = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_medpipe_gateway_command_is_the_same_parser() -> None:
    """``medpipe gateway`` hands its arguments to this module's parser: one set of options."""
    done = subprocess.run([sys.executable, "-m", "medpipe", "gateway", "--help"], cwd=ROOT,
                          env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for option in ("--allow-unsigned", "--model-root", "--revocation-list", "--allow-pin",
                   "--max-body-bytes", "--request-timeout"):
        assert option in done.stdout, option
    assert done.stdout.startswith("Usage: medpipe gateway")
