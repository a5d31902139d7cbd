"""Health of the local stack's children, from what the supervisor recorded.

A child that exits is restarted with backoff; ``dev up`` and ``dev status``
must still tell a crash loop from a running process, so the supervisor
records each exit time and ``child_health`` classifies.
"""

from __future__ import annotations

import time
from pathlib import Path

#: Exits within this window that make a child "crash-looping" (with ``CRASH_LOOP_EXITS``).
CRASH_WINDOW_S = 300.0
CRASH_LOOP_EXITS = 2


def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (zombies count as dead)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def child_health(child: dict, now: float | None = None) -> str:
    """``running``, ``restarted``, ``dead`` or ``crash-looping`` for a recorded child."""
    now = time.time() if now is None else now
    recent = [t for t in child.get("exits") or [] if now - t < CRASH_WINDOW_S]
    if len(recent) >= CRASH_LOOP_EXITS:
        return "crash-looping"
    if not pid_alive(child.get("pid")):
        return "dead"
    return "restarted" if recent else "running"


def log_tail(path: str, lines: int = 5) -> str:
    try:
        return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"
