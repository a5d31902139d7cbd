"""A local stack that says the truth: taken ports refused by name, crash loops shown."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from medpipe.workers.devhealth import child_health
from medpipe.workers.devserver import free_port
from tests.workers.test_cli import _free_gateway_base, medpipe


def _config(tmp_path: Path, port: int, codec_port: int) -> dict[str, str]:
    config = tmp_path / "medpipe.yaml"
    config.write_text(yaml.safe_dump({"temporal_address": f"127.0.0.1:{port}",
                                      "ui_url": f"http://127.0.0.1:{port + 1000}",
                                      "codec_port": codec_port,
                                      "gateway_base_port": _free_gateway_base()}))
    return {"MEDPIPE_HOME": str(tmp_path / "home"), "MEDPIPE_CONFIG": str(config)}


@pytest.fixture
def held_port() -> Iterator[tuple[socket.socket, int]]:
    """A port another "stack" listens on (this test process: its owner is known)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s, int(s.getsockname()[1])
    s.close()


def test_dev_up_refuses_a_taken_port_naming_it_and_its_owner(
        tmp_path: Path, held_port: tuple[socket.socket, int]) -> None:
    _, port = held_port
    env = _config(tmp_path, free_port(), codec_port=port)
    up = medpipe("dev", "up", env=env)
    assert up.returncode == 1, up.stdout + up.stderr
    message = " ".join(up.stderr.split())
    assert f"127.0.0.1:{port} (codec server) is held by pid {os.getpid()}" in message
    assert "Traceback" not in up.stderr and "local stack up" not in up.stdout
    assert not (tmp_path / "home" / "stack.json").exists()  # nothing was started


def test_child_health_from_recorded_exits() -> None:
    now = time.time()
    me = {"pid": os.getpid(), "exits": []}
    assert child_health(me, now) == "running"
    assert child_health({**me, "exits": [now - 10]}, now) == "restarted"
    assert child_health({**me, "exits": [now - 20, now - 5]}, now) == "crash-looping"
    assert child_health({**me, "exits": [now - 4000, now - 3000]}, now) == "running"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert child_health({"pid": dead.pid, "exits": [now - 1]}, now) == "dead"


@pytest.mark.timeout(300)
def test_dev_status_shows_a_crash_looping_child(tmp_path: Path,
                                                held_port: tuple[socket.socket, int]) -> None:
    """The supervisor run directly (as if another stack took the codec port after `up`
    checked): the codec server exits at once, again and again; status says so."""
    _, port = held_port
    env = _config(tmp_path, free_port(), codec_port=port)
    (tmp_path / "home").mkdir()
    log = open(tmp_path / "supervisor.log", "wb")
    supervisor = subprocess.Popen([sys.executable, "-m", "medpipe", "dev", "supervise"],
                                  env={**os.environ, **env}, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        status = medpipe("dev", "status", env=env)
        while "crash-looping" not in status.stdout:
            assert supervisor.poll() is None and time.monotonic() < deadline, status.stdout
            time.sleep(1)
            status = medpipe("dev", "status", env=env)
        assert status.returncode == 1
        row = next(line for line in status.stdout.splitlines() if "codec-server" in line)
        assert "crash-looping" in row
        assert "codec-server (crash-looping" in " ".join(status.stderr.split())
        assert "temporal" in status.stdout and "running" in status.stdout
    finally:
        down = medpipe("dev", "down", env=env)
        if supervisor.poll() is None:
            supervisor.terminate()
            supervisor.wait(timeout=30)
        log.close()
    assert down.returncode == 0, down.stdout + down.stderr
