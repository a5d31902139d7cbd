"""Every process a bench starts is stopped: at exit, on error, on SIGTERM and SIGINT.

Benches start servers in their own sessions (``start_new_session=True``) so that a
bench can SIGKILL a worker and everything it started at once; the price is that such
a process is not killed with its parent. This module keeps the process groups a bench
started, and stops them all from ``atexit``, from ``finally`` blocks, and from
SIGTERM/SIGINT handlers (which then end the bench with 128 + the signal number). On a
signal it also stops the bench's own children (``stop_own_children``: the process pools
a bench that runs stages in its own process starts, with their fork server and resource
tracker), so that none outlives the bench.

Per-trial deadlines live here too (``run_trial``): a trial that does not end in
time is reported as timed out, never waited for forever.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from _rss import PARENT, descendants, pids_where, still_running

T = TypeVar("T")

_GROUPS: dict[int, subprocess.Popen[Any] | None] = {}
_STOPPERS: list[Callable[[], None]] = []
_installed = False


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(pgid: int, grace: float = 3.0) -> None:
    """SIGTERM process group ``pgid``, SIGKILL it after ``grace`` seconds; forget it."""
    proc = _GROUPS.pop(pgid, None)
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is None:
            time.sleep(0.05)
            continue
        if not _alive(pgid):
            break
        time.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - uninterruptible sleep
            pass


def stop_all(grace: float = 3.0) -> None:
    """Stop every process group a bench started, then run the ``at_stop`` callbacks
    (idempotent)."""
    for pgid in list(_GROUPS):
        stop_group(pgid, grace)
    while _STOPPERS:
        stopper = _STOPPERS.pop()
        try:
            stopper()
        except Exception as e:  # noqa: BLE001 - keep stopping the others
            print(f"bench cleanup: {type(e).__name__}: {e}", file=sys.stderr)


def at_stop(stopper: Callable[[], None]) -> None:
    """Call ``stopper`` (idempotent, e.g. a server's ``stop``) when the bench stops.

    For processes started by code that owns its ``Popen`` (the Temporal dev server,
    the storage emulators): register before starting them, so that a signal arriving
    while they start still stops them.
    """
    install()
    _STOPPERS.append(stopper)


def _reap(pids: list[int], deadline: float) -> list[int]:
    """Wait (until ``deadline``) for the child processes ``pids`` to end; the ones still
    running."""
    left = list(pids)
    while left:
        for pid in list(left):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours to reap, or reaped already
                done = pid if not Path(f"/proc/{pid}").exists() else 0
            if done:
                left.remove(pid)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return left


def stop_own_children(grace: float = 3.0) -> None:
    """Stop the processes the bench itself started outside the groups it tracks, and reap them.

    A bench that runs stages in its own process (orchestration's direct path) starts the
    data stages' process pools here: pool workers (children of a ``forkserver``), the fork
    server and multiprocessing's resource tracker. They would end on their own once the
    bench is gone, but after it, so a killed bench would return with them still running.
    Pool workers first (they hold the fork server's and the tracker's pipes), then the
    other children; the tracker ignores SIGTERM and ends when the last of its pipes closes.
    """
    import multiprocessing
    from multiprocessing import resource_tracker

    deadline = time.monotonic() + grace
    pool_workers = multiprocessing.active_children()
    for child in pool_workers:
        child.terminate()
    for child in pool_workers:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join(1.0)
    tracker = resource_tracker._resource_tracker  # noqa: SLF001 - its pipe is our end
    fd = getattr(tracker, "_fd", None)
    if fd is not None:
        tracker._fd = None  # noqa: SLF001
        os.close(fd)  # its last writer gone: it cleans up and exits
    children = [pid for pid in pids_where(PARENT, os.getpid()) if pid not in _GROUPS]
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in _reap(children, time.monotonic() + grace):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _reap([pid], time.monotonic() + 5)


def _wait_gone(procs: dict[int, str], grace: float) -> None:
    """Wait until each of ``procs`` (pid -> start time) has ended, SIGKILL those still running
    after ``grace`` seconds. A process signalled with its group ends on its own time (a big
    one takes a moment to give its memory back), after the group leader was reaped."""
    deadline = time.monotonic() + grace
    left = dict(procs)
    while left:
        left = {pid: t for pid, t in left.items() if still_running(pid, t)}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _on_signal(signum: int, _frame: object) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the cleanup
    started = descendants(os.getpid())  # before stopping: orphans leave the tree
    stop_all()
    stop_own_children()
    _wait_gone(started, grace=5.0)
    print(f"bench stopped by {signal.Signals(signum).name}: every process it started is "
          "stopped", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


def install() -> None:
    """Stop every started process at exit and on SIGTERM/SIGINT (called on first use)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_signal)


def adopt(proc: subprocess.Popen[Any]) -> subprocess.Popen[Any]:
    """Track ``proc`` (started with ``start_new_session=True``) as a process group to stop."""
    install()
    _GROUPS[proc.pid] = proc
    return proc


def spawn(argv: Sequence[str], *, own_session: bool = True, **kwargs: Any
          ) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` in a new session, tracked so that it is stopped with the bench.

    ``own_session=False``: in a new process group of the bench's session instead (stopped
    the same way). The kernel shares the CPU between sessions (``sched_autogroup``), so a
    process of the bench's session is scheduled as the bench's own work is: what a bench
    that compares the two wants.
    """
    install()
    if own_session:
        kwargs["start_new_session"] = True
    else:
        kwargs["process_group"] = 0
    return adopt(subprocess.Popen(list(argv), **kwargs))


def finish(proc: subprocess.Popen[Any], seconds: float) -> tuple[Any, Any] | None:
    """``proc``'s (stdout, stderr) when it ends within ``seconds``; None, its group
    killed, when it does not (a trial's deadline)."""
    try:
        return proc.communicate(timeout=seconds)  # type: ignore[no-any-return]
    except subprocess.TimeoutExpired:
        kill(proc)
        return None


def json_trial(argv: Sequence[str], seconds: float, **kwargs: Any) -> dict[str, Any] | None:
    """Run a trial process that prints its figures as a JSON line last: those figures;
    None (said why) when it missed its deadline of ``seconds`` or failed."""
    proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    ended = finish(proc, seconds)
    if ended is None:
        print(f"  trial missed its {seconds:.0f} s deadline", flush=True)
        return None
    out, err = ended
    if proc.returncode != 0:
        print(f"  trial failed: {err.decode()[-600:]}", flush=True)
        return None
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def kill(proc: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to ``proc``'s process group now (a trial's deliberate kill); forget it."""
    _signal_group(proc.pid, sig)
    _GROUPS.pop(proc.pid, None)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


class TrialTimedOut(Exception):
    """A trial did not end within its deadline."""


async def run_trial(aw: Awaitable[T], deadline_s: float, what: str) -> T:
    """Await one trial, cancelling it after ``deadline_s`` seconds.

    Raises:
        TrialTimedOut: naming the trial and its deadline.
    """
    try:
        async with asyncio.timeout(deadline_s) as scope:
            return await aw
    except TimeoutError as e:
        if scope.expired():
            raise TrialTimedOut(f"{what}: no result within {deadline_s:.0f} s") from e
        raise RuntimeError(f"{what}: {e or 'timed out inside the trial'}") from e


async def trials(make: Any, n: int, deadline_s: float,
                 what: str) -> tuple[list[Any], int, int]:
    """Run ``n`` trials one after the other (``make()`` returns each trial's awaitable).

    Returns the values of the trials that ended, the number that timed out and the
    number that failed (each one printed as such, with its reason); the bench goes on.
    """
    values: list[Any] = []
    timed_out = failed = 0
    for i in range(n):
        try:
            values.append(await run_trial(make(), deadline_s, f"{what} trial {i + 1}"))
        except TrialTimedOut as e:
            timed_out += 1
            print(f"  TIMED OUT {e}", flush=True)
        except (RuntimeError, AssertionError) as e:
            failed += 1
            print(f"  FAILED {what} trial {i + 1}: {e}", flush=True)
    return values, timed_out, failed
