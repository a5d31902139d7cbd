"""A killed worker's temporary files go at the next start; a live process's never do."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.scratch import PREFIX, ROOT_ENV, start_time, sweep
from tests.support import make_fleet, wait_until, worker_process, write_fleet_file


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "60"])


def _scratch(root: Path, pid: int, started: str | None) -> Path:
    path = root / f"{PREFIX}{pid}-{started}-abc123"
    (path / "medpipe-index-x").mkdir(parents=True)
    (path / "medpipe-index-x" / "index.bin").write_bytes(b"\0" * 64)
    return path


def test_the_sweep_removes_dead_owners_directories_only(tmp_path: Path) -> None:
    live = _sleeper()
    dead = _sleeper()
    try:
        dead_started = start_time(dead.pid)
        dead.kill()
        dead.wait()
        mine = _scratch(tmp_path, os.getpid(), start_time(os.getpid()))
        theirs = _scratch(tmp_path, live.pid, start_time(live.pid))
        gone = _scratch(tmp_path, dead.pid, dead_started)
        # our pid, another start time: a process that ran under a pid now reused
        reused = _scratch(tmp_path, os.getpid(), "1")
        other = tmp_path / f"{PREFIX}not-a-pid"
        other.mkdir()
        assert sweep(tmp_path) == 2
        assert mine.exists() and theirs.exists() and other.exists()
        assert not gone.exists() and not reused.exists()
    finally:
        live.kill()
        live.wait()


def _own_dir(root: Path, pid: int) -> Path | None:
    return next(iter(root.glob(f"{PREFIX}{pid}-*")), None)


@pytest.mark.asyncio
async def test_a_killed_workers_leftovers_go_when_the_next_worker_starts(
        temporal_server: TemporalDevServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL leaves the worker's directory behind (with what its stages had open in it);
    the next worker removes it before it makes its own; SIGTERM removes the worker's own."""
    # a short root, as /tmp is: the fork server's socket fits below the scratch directory
    # (under pytest's deeper tmp_path multiprocessing keeps its own beside it)
    root = Path(tempfile.mkdtemp(dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.delenv(ROOT_ENV, raising=False)
    fleet_file = write_fleet_file(make_fleet(tmp_path), tmp_path / "fleet.yaml")

    async def started(proc: subprocess.Popen[bytes], log: Path) -> Path:
        async def polling() -> bool:
            return log.exists() and "polling" in log.read_text() \
                and _own_dir(root, proc.pid) is not None
        await wait_until(polling, timeout=60)
        own = _own_dir(root, proc.pid)
        assert own is not None
        return own

    killed = worker_process(temporal_server.address, fleet_file, "aws/us-east-1",
                            tmp_path / "killed.log", "--no-control")
    nxt: subprocess.Popen[bytes] | None = None
    try:
        left = await started(killed, tmp_path / "killed.log")
        (left / "medpipe-index-x").mkdir()  # what a pool stage had open when it died
        (left / "medpipe-index-x" / "index.bin").write_bytes(b"\0" * 64)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
        assert left.exists()  # nothing ran at the kill

        nxt = worker_process(temporal_server.address, fleet_file, "aws/us-east-1",
                             tmp_path / "next.log", "--no-control")
        own = await started(nxt, tmp_path / "next.log")
        assert not left.exists()
        assert own.exists()

        nxt.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while nxt.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert nxt.returncode is not None, "the worker did not stop on SIGTERM"
        assert not own.exists()
        assert not [p.name for p in root.iterdir() if p.is_dir()]
    finally:
        for proc in (killed, nxt):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)


_POOL_AFTER_INSTALL = """
import multiprocessing, sys
from medpipe.workers.scratch import install
own = install()
with multiprocessing.get_context("forkserver").Pool(1) as pool:
    assert pool.map(abs, [-3]) == [3]
print(own)
"""


@pytest.mark.parametrize("length", [20, 64])
def test_process_pools_start_under_a_deep_temporary_directory(length: int) -> None:
    """The fork server's socket lives below the scratch directory only where its path fits
    (Linux: 107 bytes); under a deeper ``TMPDIR`` (64 characters: the socket fits in it, not
    in a scratch directory below it) the pool still starts."""
    base = Path(tempfile.mkdtemp(dir="/tmp"))  # not pytest's tmp_path: its depth varies
    try:
        root = base / ("d" * (length - len(str(base)) - 1))
        root.mkdir()
        assert len(str(root)) == length
        env = {k: v for k, v in os.environ.items() if k != ROOT_ENV}
        env["TMPDIR"] = str(root)
        done = subprocess.run([sys.executable, "-c", _POOL_AFTER_INSTALL], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-800:]
        assert Path(done.stdout.strip()).parent == root
        assert not list(root.iterdir())  # its scratch directory and the pool's went at exit
    finally:
        shutil.rmtree(base, ignore_errors=True)
