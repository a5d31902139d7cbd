"""How many cores a data stage may use now: one budget per worker process.

A worker takes many activities at once (generous slots, so placement's
schedule-to-start timeout never mistakes a busy worker for a dead one), and
each data stage may spread its chunks over child processes. Without a shared
budget, N concurrent releases would start N pools of ``os.cpu_count()``
processes each and thrash. ``CoreBudget`` hands cores out: a stage asks for
what it could use, gets what is free (at least one: its own thread always
runs), and gives them back when it ends. The first stage of a burst gets
every core; the next ones run sequentially until cores free up, so the
machine stays busy and never oversubscribed by this worker.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

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
    """Cores shared by one worker's concurrent data stages.

    Args:
        total: cores the worker's data stages use at most (1: always sequential).
    """

    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self._used = 0
        self._lock = threading.Lock()

    @property
    def in_use(self) -> int:
        """Cores handed out now."""
        return self._used

    @contextlib.contextmanager
    def take(self, want: int | None = None) -> Iterator[int]:
        """Cores for one stage: ``min(want, free)``, at least 1, returned on exit.

        A grant of 1 means: run in this thread, no child processes.
        """
        want = self.total if want is None else max(1, want)
        with self._lock:
            granted = max(1, min(want, self.total - self._used))
            self._used += granted
        try:
            yield granted
        finally:
            with self._lock:
                self._used -= granted
