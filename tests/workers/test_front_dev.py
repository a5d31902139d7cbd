"""``medpipe dev up`` runs the front: supervised (restarted after a crash), its ports
checked, listed by ``dev status``, stopped by ``dev down``; ``front status`` reads it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import yaml

from medpipe.workers.devhealth import pid_alive
from medpipe.workers.devserver import free_port
from tests.workers.test_cli import _free_gateway_base, medpipe

pytestmark = pytest.mark.slow


def _front_pid(home: Path) -> int:
    return int(json.loads((home / "stack.json").read_text())["children"]["front"]["pid"])


def _wait(url: str, status: int, timeout: float = 60.0, **kw: object) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(url, timeout=2, **kw)  # type: ignore[arg-type]
            if r.status_code == status:
                return r
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered {status}"
        time.sleep(0.2)


@pytest.mark.timeout(300)
def test_dev_up_supervises_the_front(tmp_path: Path) -> None:
    port, base = free_port(), _free_gateway_base()
    config = tmp_path / "medpipe.yaml"
    config.write_text(yaml.safe_dump({"temporal_address": f"127.0.0.1:{port}",
                                      "ui_url": f"http://127.0.0.1:{port + 1000}",
                                      "codec_port": free_port(), "gateway_base_port": base}))
    home = tmp_path / "home"
    env = {"MEDPIPE_HOME": str(home), "MEDPIPE_CONFIG": str(config)}
    try:
        up = medpipe("dev", "up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"Front for clinical callers: http://127.0.0.1:{base}" in up.stdout
        status = medpipe("dev", "status", env=env)
        assert any(line.split("│")[1].strip() == "front" and "running" in line
                   for line in status.stdout.splitlines() if "│" in line), status.stdout
        front = f"http://127.0.0.1:{base}"
        _wait(front + "/front/health", 200)
        refused = httpx.post(front + "/v2/models/risk-model/infer", json={}, timeout=5)
        assert refused.status_code == 400 and "Medpipe-Jurisdiction" in refused.text
        _wait(f"http://127.0.0.1:{base + 100}/metrics", 200)
        shown = medpipe("front", "status", "--output", "json", env=env)
        assert shown.returncode == 0, shown.stderr
        rows = json.loads(shown.stdout)
        assert {(r["backend"], r["server"]) for r in rows} >= {
            ("jur_US", "gw-aws-us-east-1"), ("jur_EU_DE", "gw-gcp-europe-west3")}
        assert ("jur_US", "gw-gcp-europe-west3") not in {(r["backend"], r["server"])
                                                         for r in rows}
        # a crash of the front: the supervisor starts it again
        first = _front_pid(home)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while _front_pid(home) == first or not pid_alive(_front_pid(home)):
            assert time.monotonic() < deadline, "the front was not restarted"
            time.sleep(0.3)
        _wait(front + "/front/health", 200)
        last = _front_pid(home)
    finally:
        down = medpipe("dev", "down", env=env)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not pid_alive(last)
    with pytest.raises(httpx.TransportError):
        httpx.get(front + "/front/health", timeout=2)
