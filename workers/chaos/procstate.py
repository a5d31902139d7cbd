"""Whether a process has really stopped after ``SIGSTOP``.

Why: ``kill(pid, SIGSTOP)`` returns before the process stops. The kernel
wakes one thread to start the group stop; until that thread is scheduled,
the process's other threads keep running user code. On a loaded host a
server's request thread can answer one or two more requests after the
signal was sent (seen: a stopped GCS emulator answered a liveness probe,
then hung the request the probe had vouched for). A fault that is "the store
stops answering" starts when every thread is stopped, not when the signal
was sent.
"""

from __future__ import annotations

import time
from pathlib import Path

#: Thread states (``/proc/<pid>/task/<tid>/stat``, field 3) of a stopped thread.
_STOPPED = frozenset("Tt")


def _thread_states(pid: int) -> list[str]:
    """The state letter of each thread of ``pid`` (empty when it is gone)."""
    states = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the thread ended between the listing and the read
        states.append(text[text.rfind(")") + 2:][:1])
    return states


def is_stopped(pid: int) -> bool:
    """Whether every thread of ``pid`` is stopped (False when it runs or is gone)."""
    states = _thread_states(pid)
    return bool(states) and all(s in _STOPPED for s in states)


def wait_stopped(pid: int, timeout: float = 5.0) -> bool:
    """Wait until every thread of ``pid`` is stopped; whether it was within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not is_stopped(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True
