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

A stage run by a worker first *holds* one core (``CoreBudget.hold``, waiting
for one while heartbeating): the data stages running at once on a machine are
then at most its cores, however many activity slots the workers have, and the
stage's own ``take`` counts the held core and adds the free ones. Activity
slots stay generous (``default_activity_slots``) so that a busy worker still
starts tasks promptly and placement never takes it for a dead one; a started
stage waits for its core, heartbeating, instead of thrashing the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

#: Environment variable overriding the cores a worker's data stages use in total.
ENV = "MEDPIPE_DATA_PROCESSES"

#: Environment variable overriding a worker's activity slots (per task queue).
SLOTS_ENV = "MEDPIPE_ACTIVITY_SLOTS"

#: Activity slots per core by default: data stages wait for a core in their slot, so
#: slots only bound how many tasks a worker has started; a few per core keep a busy
#: worker taking tasks within placement's schedule-to-start timeout.
SLOTS_PER_CORE = 8


def _positive(name: str, raw: str, hint: str) -> int:
    n = int(raw) if raw.isdigit() else 0
    if n < 1:
        raise ValueError(f"{name}={raw!r}: expected a positive integer ({hint})")
    return n


def default_cores() -> int:
    """``$MEDPIPE_DATA_PROCESSES`` when set (>= 1), else the cores this process may run on.

    Raises:
        ValueError: the variable is set but not a positive integer.
    """
    raw = os.environ.get(ENV, "").strip()
    if raw:
        return _positive(ENV, raw, "1 = no child processes")
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_activity_slots(cores: int | None = None) -> int:
    """``$MEDPIPE_ACTIVITY_SLOTS`` when set (>= 1), else ``SLOTS_PER_CORE`` x ``cores``
    (default: ``default_cores()``).

    Raises:
        ValueError: the variable is set but not a positive integer.
    """
    raw = os.environ.get(SLOTS_ENV, "").strip()
    if raw:
        return _positive(SLOTS_ENV, raw, "activities a worker runs at once per task queue")
    return SLOTS_PER_CORE * max(1, cores if cores is not None else default_cores())


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
        self._freed = threading.Condition(self._lock)
        self._waiting: list[object] = []  # threads waiting in ``hold``, first come first
        self._thread = threading.local()  # the core ``hold`` gave this thread's stage
        self._files: dict[int, int] = {}
        if lock_dir is not None:
            lock_dir.mkdir(parents=True, exist_ok=True)
            self._files = {i: os.open(lock_dir / f"core-{i}.lock", os.O_RDWR | os.O_CREAT,
                                      0o600) for i in range(self.total)}

    @property
    def in_use(self) -> int:
        """Slots this process holds now."""
        return len(self._held)

    @property
    def waiting(self) -> int:
        """Stages of this process waiting in ``hold`` for a core now."""
        return len(self._waiting)

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
            self._freed.notify_all()

    def _held_here(self) -> list[int]:
        return list(getattr(self._thread, "slots", ()))

    @contextlib.contextmanager
    def hold(self, tick: Callable[[], None] | None = None, *, tick_s: float = 1.0,
             poll_s: float = 0.05) -> Iterator[None]:
        """One core for the calling thread's stage for the block, waiting until one is free.

        Waiters of this process are served first come, first served; a core another
        process frees is seen within ``poll_s``. ``tick`` is called about every
        ``tick_s`` while waiting (a heartbeat; it may raise to give up). A ``take`` in
        this thread inside the block counts this core. Nested: the outer core serves.
        """
        if self._held_here():
            yield
            return
        me = object()
        with self._lock:
            self._waiting.append(me)
            try:
                last = time.monotonic()
                while True:
                    slot = None
                    if self._waiting[0] is me:
                        slot = next((i for i in range(self.total) if self._try(i)), None)
                    if slot is not None:
                        break
                    self._freed.wait(poll_s)
                    if tick is not None and time.monotonic() - last >= tick_s:
                        last = time.monotonic()
                        self._lock.release()  # a heartbeat may block on the SDK
                        try:
                            tick()
                        finally:
                            self._lock.acquire()
            finally:
                self._waiting.remove(me)
                self._freed.notify_all()  # the next waiter is at the head now
        self._thread.slots = [slot]
        try:
            yield
        finally:
            self._thread.slots = []
            self._release([slot])

    @contextlib.contextmanager
    def take(self, want: int | None = None) -> Iterator[int]:
        """Cores for one stage: the free slots up to ``want``, returned on exit.

        Yields the number of processes to use: at least 1 (its own thread always
        runs, without a slot when none is free): 1 means no child processes. The
        core this thread ``hold``s counts among them (and stays held on exit).
        """
        want = self.total if want is None else max(1, want)
        held = self._held_here()
        with self._lock:
            slots: list[int] = []
            for i in range(self.total):
                if len(held) + len(slots) >= want:
                    break
                if self._try(i):
                    slots.append(i)
        try:
            yield max(1, len(held) + len(slots))
        finally:
            self._release(slots)

    def close(self) -> None:
        """Close the slot files (releasing their locks)."""
        for fd in self._files.values():
            os.close(fd)
        self._files = {}
