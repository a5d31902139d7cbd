"""How many cores a data stage may use now: one budget per worker process.

A worker takes many activities at once (generous slots, so placement's
schedule-to-start timeout never mistakes a busy worker for a dead one), and
each data stage may spread its chunks over child processes. Without a shared
budget, N concurrent releases would start N pools of ``os.cpu_count()``
processes each and thrash. ``CoreBudget`` hands cores out: a stage asks for
what it could use, gets what is free (at least one: its own thread always
runs), and gives them back when it ends. The first stage of a burst gets
every core; the next ones run sequentially until cores free up, so the
machine stays busy and is not oversubscribed by child processes. Worker
processes of one machine share the budget through lock files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

#: Environment variable overriding the cores a worker's data stages use in total.
ENV = "MEDPIPE_DATA_PROCESSES"


def default_cores() -> int:
    """``$MEDPIPE_DATA_PROCESSES`` when set (>= 1), else the cores this process may run on.

    Raises:
        ValueError: the variable is set but not a positive integer.
    """
    raw = os.environ.get(ENV, "").strip()
    if raw:
        n = int(raw) if raw.isdigit() else 0
        if n < 1:
            raise ValueError(f"{ENV}={raw!r}: expected a positive integer (1 = no child "
                             "processes)")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class CoreBudget:
    """Cores shared by the concurrent data stages of one worker, or of every worker
    process of a machine.

    Each core is a slot. With ``lock_dir``, a slot is also an exclusive ``flock`` on
    ``lock_dir/core-<i>.lock``, so the worker processes of one machine (the local
    stack runs one per profile) share one budget; the kernel drops a dead
    process's locks, so a killed worker never leaks cores.

    Args:
        total: slots (cores) the data stages use at most (1: always sequential).
        lock_dir: directory of the machine-wide slot locks (None: this process only).
    """

    def __init__(self, total: int, lock_dir: Path | None = None) -> None:
        self.total = max(1, total)
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._files: dict[int, int] = {}
        if lock_dir is not None:
            lock_dir.mkdir(parents=True, exist_ok=True)
            self._files = {i: os.open(lock_dir / f"core-{i}.lock", os.O_RDWR | os.O_CREAT,
                                      0o600) for i in range(self.total)}

    @property
    def in_use(self) -> int:
        """Slots this process holds now."""
        return len(self._held)

    def _try(self, i: int) -> bool:
        if i in self._held:
            return False
        fd = self._files.get(i)
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
        self._held.add(i)
        return True

    def _release(self, slots: list[int]) -> None:
        with self._lock:
            for i in slots:
                fd = self._files.get(i)
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                self._held.discard(i)

    @contextlib.contextmanager
    def take(self, want: int | None = None) -> Iterator[int]:
        """Cores for one stage: the free slots up to ``want``, returned on exit.

        Yields the number of processes to use: at least 1 (its own thread always
        runs, without a slot when none is free): 1 means no child processes.
        """
        want = self.total if want is None else max(1, want)
        with self._lock:
            slots: list[int] = []
            for i in range(self.total):
                if len(slots) == want:
                    break
                if self._try(i):
                    slots.append(i)
        try:
            yield max(1, len(slots))
        finally:
            self._release(slots)

    def close(self) -> None:
        """Close the slot files (releasing their locks)."""
        for fd in self._files.values():
            os.close(fd)
        self._files = {}
