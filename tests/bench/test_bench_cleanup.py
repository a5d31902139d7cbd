"""A bench killed from outside leaves nothing running (issue 16), and no stack directory.

The benches start their servers and workers in new sessions, so these processes
are not in the bench's process group and are not killed with it. The test finds
them by scanning ``/proc`` for the bench's descendants while it runs (orphans are
re-parented once the bench is gone, so they must be collected before), then
signals the bench alone and checks each one is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench._rss import PARENT, descendants, stat_fields, still_running

ROOT = Path(__file__).resolve().parents[2]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _bench_forkserver(bench: int, seen: dict[int, str]) -> bool:
    """Whether the bench process itself runs a multiprocessing fork server (its direct path
    runs the data stages' process pools in the bench)."""
    return any((st := stat_fields(pid)) is not None and st[PARENT] == str(bench)
               and "forkserver" in _cmdline(pid) for pid in seen)


def _run_and_signal(argv: list[str], sig: int, ready: int, tmp_path: Path,
                    until: Callable[[int, dict[int, str]], bool] | None = None,
                    timeout: float = 120) -> None:
    """Run bench ``argv``; once it runs its dev server and ``ready`` workers (and ``until``
    holds, given its pid and the descendants seen), send ``sig`` to it alone and check that
    every descendant seen is gone."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEDPIPE_HOME": str(tmp_path / "home"),
           "TMPDIR": str(tmp_path)}
    log = open(tmp_path / "bench.log", "wb")
    bench = subprocess.Popen([sys.executable, *argv], cwd=ROOT / "bench", env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict[int, str] = {}
    try:
        deadline = time.monotonic() + timeout
        # Wait until it runs its dev server and `ready` workers (medpipe worker processes).
        while time.monotonic() < deadline and bench.poll() is None:
            seen.update(descendants(bench.pid))
            workers = [p for p in seen if " worker " in _cmdline(p)]
            if any("temporal" in _cmdline(p) for p in seen) and len(workers) >= ready \
                    and (until is None or until(bench.pid, seen)):
                break
            time.sleep(0.2)
        assert until is None or until(bench.pid, seen), (tmp_path / "bench.log").read_text()
        assert bench.poll() is None, (tmp_path / "bench.log").read_text()
        time.sleep(1.0)  # let whatever it was starting start, and collect it too
        seen.update(descendants(bench.pid))
        bench.send_signal(sig)  # the bench alone, not its group: as `kill PID` would
        bench.wait(timeout=60)
    finally:
        if bench.poll() is None:
            os.killpg(bench.pid, signal.SIGKILL)
            bench.wait()
        log.close()
    assert bench.returncode == 128 + sig, (tmp_path / "bench.log").read_text()
    left = {p: _cmdline(p) for p, started in seen.items() if still_running(p, started)}
    for pid in left:  # do not leak them into the machine either
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"processes left after {signal.Signals(sig).name}: {left}"
    assert "every process it started is stopped" in (tmp_path / "bench.log").read_text()
    stacks = sorted(p.name for p in tmp_path.glob("medpipe-bench-*"))  # TMPDIR is tmp_path
    assert not stacks, f"stack directories left after {signal.Signals(sig).name}: {stacks}"


@pytest.mark.slow
def test_failover_bench_sigterm_leaves_nothing(tmp_path: Path) -> None:
    _run_and_signal(["failover.py", "--trials", "1", "--trial-deadline", "60"],
                    signal.SIGTERM, ready=1, tmp_path=tmp_path)


@pytest.mark.slow
def test_orchestration_bench_sigint_leaves_nothing(tmp_path: Path) -> None:
    _run_and_signal(["orchestration.py", "--rows", "3000", "--trials", "1",
                     "--concurrent", "2", "--trial-deadline", "60"],
                    signal.SIGINT, ready=2, tmp_path=tmp_path)


@pytest.mark.slow
def test_orchestration_bench_sigterm_on_its_direct_path_leaves_nothing(tmp_path: Path) -> None:
    """Killed while it runs the stages' activities in its own process (the direct path, with
    the data stages' process pools: a fork server and its children), the bench stops those
    too."""
    _run_and_signal(["orchestration.py", "--rows", "30000", "--trials", "1", "--parts",
                     "reference", "--trial-deadline", "120"],
                    signal.SIGTERM, ready=2, tmp_path=tmp_path, until=_bench_forkserver,
                    timeout=300)


def test_descendants_and_still_running_follow_a_child_to_its_end() -> None:
    """The /proc readers the cleanup relies on: a child is found below us while it runs,
    and counts as ended once it is a zombie (killed, not yet reaped) and once reaped."""
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        found = descendants(os.getpid())
        assert child.pid in found, found
        assert still_running(child.pid, found[child.pid])
        assert not still_running(child.pid, "0")  # another process under a reused pid
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while still_running(child.pid, found[child.pid]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (stat_fields(child.pid) or ["gone"])[0] in ("Z", "gone")
        assert not still_running(child.pid, found[child.pid])
    finally:
        child.kill()
        child.wait()
    assert not still_running(child.pid, found[child.pid])
