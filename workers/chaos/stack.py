"""Control of the local stack's processes for a chaos exercise, through the supervisor's record.

Every target is a child the dev supervisor recorded in ``stack.json`` (name,
pid, command line). Before a signal is sent the pid is checked to still run
that very command line, so a recycled pid or a process of someone else's is
never touched; processes are never looked up by name.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from medpipe.contracts.errors import InvalidInput
from medpipe.workers.chaos import procstate
from medpipe.workers.dev import read_state, supervisor_alive
from medpipe.workers.devhealth import pid_alive


class StackControl:
    """The children of the dev stack under ``home``, by the names the supervisor gave them."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def _state(self) -> dict:
        state = read_state(self.home)
        if not state or not supervisor_alive(state):
            raise InvalidInput(f"no local stack runs under {self.home} (chaos exercises need "
                               "`medpipe dev up` on a non-production fleet)")
        return state

    def names(self) -> list[str]:
        """Names of the recorded children."""
        return list(self._state()["children"])

    def pid(self, name: str) -> int:
        """The live, verified pid of child ``name``.

        Raises:
            InvalidInput: no such child, or it does not run (now) what was recorded.
        """
        children = self._state()["children"]
        if name not in children:
            raise InvalidInput(f"the local stack has no process {name!r} "
                               f"(it has: {', '.join(children)})")
        child = children[name]
        pid = int(child.get("pid") or 0)
        if not pid_alive(pid) or not _runs(_cmdline(pid), child["cmd"]):
            raise InvalidInput(f"{name} (pid {pid}) is not running its recorded command now")
        return pid

    def send(self, name: str, sig: signal.Signals) -> int:
        """Send ``sig`` to child ``name``'s process group (its own session); its pid.

        ``SIGSTOP`` returns once the process has stopped (``procstate``), so a fault
        timed from here starts when the target really stops answering.
        """
        pid = self.pid(name)
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return pid
        if sig == signal.SIGSTOP and not procstate.wait_stopped(pid):
            raise InvalidInput(f"{name} (pid {pid}) did not stop within 5 s of SIGSTOP")
        return pid

    def wait_replaced(self, name: str, old_pid: int, timeout: float) -> int:
        """Wait until the supervisor runs ``name`` again under a new pid; that pid.

        Raises:
            TimeoutError: not restarted within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = self.pid(name)
                if pid != old_pid:
                    return pid
            except InvalidInput:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{name} was not restarted by the supervisor within {timeout:.0f}s")


def _runs(live: list[str], recorded: list[str]) -> bool:
    """Whether a live command line is the recorded one (a script started through its
    shebang shows its interpreter first: ``python3 /…/moto_server -H …``)."""
    return bool(recorded) and (live == recorded or (
        len(live) == len(recorded) + 1 and live[1:] == recorded))


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
