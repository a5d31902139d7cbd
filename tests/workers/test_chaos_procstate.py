"""``procstate``: a process counts as stopped only once every one of its threads is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from medpipe.workers.chaos import procstate

_THREADS = ("import threading, time\n"
            "for _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True)"
            ".start()\n"
            "print('ready', flush=True); time.sleep(60)\n")


def test_stopped_only_after_sigstop_and_running_again_after_sigcont() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _THREADS], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert len(procstate._thread_states(proc.pid)) == 4  # main + 3
        assert not procstate.is_stopped(proc.pid)
        assert not procstate.wait_stopped(proc.pid, timeout=0.2)
        os.kill(proc.pid, signal.SIGSTOP)
        assert procstate.wait_stopped(proc.pid)
        assert all(s in "Tt" for s in procstate._thread_states(proc.pid))
        os.kill(proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while procstate.is_stopped(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not procstate.is_stopped(proc.pid), "still stopped 5 s after SIGCONT"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def test_a_process_that_is_gone_is_not_stopped() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not procstate.is_stopped(proc.pid)
    assert procstate._thread_states(proc.pid) == []
