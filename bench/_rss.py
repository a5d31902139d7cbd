"""Peak resident memory (``VmHWM``) of worker processes and of the processes they start.

A worker's data stages run chunks in child processes (a forkserver and its pool),
which live in the worker's process group and end with each stage: a sampler
thread reads ``/proc`` every ``interval`` seconds and keeps, per worker, the
worker's own high-water mark and the highest of its children.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path


def status_kib(pid: int, name: str) -> int:
    """Field ``name`` (``VmHWM``, ``VmRSS``...) of ``/proc/PID/status`` in KiB (0 when the
    process has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def vm_hwm_kib(pid: int) -> int:
    """``VmHWM`` (peak resident memory) of ``pid`` in KiB (0 when it has gone)."""
    return status_kib(pid, "VmHWM")


#: Fields of ``/proc/PID/stat`` after the command name: parent pid, process group, start time
#: (field 0 is the state).
PARENT, GROUP, STARTED = 1, 2, 19


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (None when it has gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def cpu_seconds(fields: list[str]) -> float:
    """User + system CPU seconds in a process's ``stat_fields`` (its own, not its children's)."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_where(field: int, value: int) -> list[int]:
    """Processes whose ``/proc/PID/stat`` field ``field`` (``PARENT``, ``GROUP``) is ``value``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(entry)
        if fields is not None and len(fields) > field and fields[field] == str(value):
            pids.append(int(entry))
    return pids


def descendants(root: int) -> dict[int, str]:
    """Every process below ``root`` now: pid -> start time (so a reused pid is not taken
    for it later)."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(entry)) is not None:
            parents[int(entry)] = (int(fields[PARENT]), fields[STARTED])
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def still_running(pid: int, started: str) -> bool:
    """Whether process ``pid`` started at ``started`` still runs (a zombie has ended)."""
    fields = stat_fields(pid)
    return fields is not None and fields[STARTED] == started and fields[0] != "Z"


def group_pids(pgid: int) -> list[int]:
    """Processes whose process group is ``pgid``."""
    return pids_where(GROUP, pgid)


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes of group ``pgid``, with their
    waited-for children's (a stage's finished pool counts in its parent's)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        except (OSError, ValueError):
            continue
    return total / tick


@dataclass
class PeakRss:
    """Samples the worker process groups ``pgids`` until ``stop``."""

    pgids: list[int]
    interval: float = 0.5
    main_kib: dict[int, int] = field(default_factory=dict)
    child_kib: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        """Read every process of every group once."""
        for pgid in self.pgids:
            for pid in group_pids(pgid):
                kib = vm_hwm_kib(pid)
                table = self.main_kib if pid == pgid else self.child_kib
                table[pgid] = max(table.get(pgid, 0), kib)

    def __enter__(self) -> PeakRss:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        self.sample()
        self._thread = threading.Thread(target=loop, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
