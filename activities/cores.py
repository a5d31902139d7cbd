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
stage's own ``take`` counts the held core and adds the free ones.

Fair share between worker processes: a process that already holds a core
leaves a freed core (and ``take``'s extra cores) to another process whose
stages are waiting while it holds none (it is *hungry*). Two data stages in
one process share its GIL and run at about one core between them, so on a
machine running several worker processes (the local stack runs one per
profile) the cores go one per busy process first; a process alone on a
machine still gets them all. Only a hungry process raises its flag, so a
process never leaves a core to one that would leave it back: the hungry one
takes it as soon as it is freed, and ``FAIR_GRACE_S`` only bounds how long a
core waits for a hungry process that does not come (one whose waiting thread
is stuck in a heartbeat).

Waiting costs no CPU: a process that frees a core says so on every sharing
process's wake-up FIFO (``wake-<pid>-<n>.fifo``), and each process's first
waiter sleeps on its own FIFO until then. It used to poll the lock files every
10 ms instead: in a burst of ten releases, where nine stages wait at any time,
that was ~0.45 CPU-s a release taken from the running stages' GILs
(``bench/workercpu.py``). A core the kernel frees (its holder killed) is seen
by a look every ``UNANNOUNCED_POLL_S``. Activity
slots stay generous (``default_activity_slots``) so that a busy worker still
starts tasks promptly and placement never takes it for a dead one; a started
stage waits for its core, heartbeating, instead of thrashing the others.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import select
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

#: Seconds a process that holds a core leaves a free one to a hungry process (stages
#: waiting, no core held) before taking it anyway: a safety net only, since the hungry
#: process is woken when the core is freed and takes it first (none must stay idle).
FAIR_GRACE_S = 0.1

#: Seconds between a waiting stage's looks at the cores when nothing wakes it: a core
#: freed by a process is announced on the wake-up FIFOs (seen at once); only one the
#: kernel frees, its holder killed, waits for this look.
UNANNOUNCED_POLL_S = 0.25

#: Name prefix of the per-process "stages waiting, no core held" flag files in a
#: budget's ``lock_dir``.
WAIT_PREFIX = "wait-"

#: Name prefix of the wake-up FIFOs (one per budget of a process) in a ``lock_dir``.
WAKE_PREFIX = "wake-"

#: Budgets of this process so far: a FIFO name each (tests make several per process).
_budgets = itertools.count()


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


def _forget_if_dead(path: Path) -> None:
    """Remove the waiting flag or wake-up FIFO of a process that no longer exists (a
    killed worker's)."""
    pid = path.stem.removeprefix(WAIT_PREFIX).removeprefix(WAKE_PREFIX).partition("-")[0]
    if not pid.isdigit():
        return
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
    except PermissionError:  # pragma: no cover - alive, another user's
        pass


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
        self._dir = lock_dir
        self._wait_fd: int | None = None  # flocked while this process is hungry
        self._hungry = False
        self._wake: Path | None = None  # this budget's wake-up FIFO, read by ``_sleep``
        self._wake_fd: int | None = None
        if lock_dir is not None:
            lock_dir.mkdir(parents=True, exist_ok=True)
            self._files = {i: os.open(lock_dir / f"core-{i}.lock", os.O_RDWR | os.O_CREAT,
                                      0o600) for i in range(self.total)}
            self._wake = lock_dir / f"{WAKE_PREFIX}{os.getpid()}-{next(_budgets)}.fifo"
            self._wake.unlink(missing_ok=True)  # a dead process's, whose pid this one has
            os.mkfifo(self._wake, 0o600)
            # read and write: never at end of file while no other process has it open
            self._wake_fd = os.open(self._wake, os.O_RDWR | os.O_NONBLOCK)

    @property
    def in_use(self) -> int:
        """Slots this process holds now."""
        return len(self._held)

    @property
    def waiting(self) -> int:
        """Stages of this process waiting in ``hold`` for a core now."""
        return len(self._waiting)

    def _announce_hungry(self) -> None:
        """Say (to the other processes sharing ``lock_dir``) whether this process is
        hungry: stages of it wait for a core and it holds none. An exclusive ``flock``
        on ``wait-<pid>.lock`` while it is (the kernel drops it if this process dies).
        Called with ``_lock`` held whenever waiters or held cores change."""
        hungry = bool(self._waiting) and not self._held
        if self._dir is None or hungry == self._hungry:
            return
        if self._wait_fd is None:
            self._wait_fd = os.open(self._dir / f"{WAIT_PREFIX}{os.getpid()}.lock",
                                    os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._wait_fd, fcntl.LOCK_EX if hungry else fcntl.LOCK_UN)
        self._hungry = hungry

    def others_waiting(self) -> bool:
        """Whether another process sharing this budget is hungry now (stages of it wait
        for a core and it holds none)."""
        if self._dir is None:
            return False
        mine = f"{WAIT_PREFIX}{os.getpid()}.lock"
        for path in self._dir.glob(f"{WAIT_PREFIX}*.lock"):
            if path.name == mine:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue  # removed meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            else:
                _forget_if_dead(path)
            finally:
                os.close(fd)  # closing drops the probe's lock, if it got it
        return False

    def _defer(self) -> bool:
        """Whether this process should leave free cores to another process: it holds a
        core already and another process is hungry."""
        return bool(self._held) and self.others_waiting()

    def _any_free(self) -> bool:
        """Whether a slot is free now (taken and given back at once; lock held)."""
        for i in range(self.total):
            if self._try(i):
                self._untake(i)
                return True
        return False

    def _untake(self, i: int) -> None:
        fd = self._files.get(i)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._held.discard(i)

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
                self._untake(i)
            self._announce_hungry()
            self._freed.notify_all()
            if slots:
                self._wake_all()

    def _wake_all(self) -> None:
        """Wake the first waiter of every budget sharing ``lock_dir``, this one's included:
        a byte on each wake-up FIFO (one already pending is enough: a full FIFO is left
        as it is)."""
        if self._dir is None:
            return
        for path in self._dir.glob(f"{WAKE_PREFIX}*.fifo"):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == errno.ENXIO:  # nobody reads it: a closed or dead budget's
                    _forget_if_dead(path)
                continue
            try:
                os.write(fd, b"\0")
            except BlockingIOError:
                pass
            finally:
                os.close(fd)

    def _sleep(self, seconds: float) -> None:
        """The first waiter's sleep (``_lock`` held on entry and on return): until a core
        is freed in any process sharing ``lock_dir`` (its wake-up FIFO) or in this one
        (notified), at most ``seconds``."""
        if self._wake_fd is None:
            self._freed.wait(seconds)
            return
        self._lock.release()
        try:
            select.select([self._wake_fd], [], [], max(0.0, seconds))
        finally:
            self._lock.acquire()

    def _drain_wakes(self) -> None:
        """Forget the wake-ups so far (before looking at the cores: one freed after the
        look wakes the next ``_sleep``)."""
        if self._wake_fd is None:
            return
        try:
            while os.read(self._wake_fd, 4096):
                pass
        except BlockingIOError:
            pass

    def _held_here(self) -> list[int]:
        return list(getattr(self._thread, "slots", ()))

    @contextlib.contextmanager
    def hold(self, tick: Callable[[], None] | None = None, *, tick_s: float = 1.0,
             poll_s: float = UNANNOUNCED_POLL_S) -> Iterator[None]:
        """One core for the calling thread's stage for the block, waiting until one is free.

        Waiters of this process are served first come, first served; a core freed by
        this process or another one sharing ``lock_dir`` wakes the first at once, and
        one the kernel frees (its holder killed) is seen within ``poll_s``. ``tick`` is
        called about every ``tick_s`` while waiting (a heartbeat; it may raise to give
        up). A ``take`` in this thread inside the block counts this core. Nested: the
        outer core serves.
        """
        if self._held_here():
            yield
            return
        me = object()
        with self._lock:
            self._waiting.append(me)
            self._announce_hungry()
            try:
                last = time.monotonic()
                deferred_at: float | None = None  # since when a free core is left to others
                while True:
                    slot = None
                    if self._waiting[0] is me:
                        self._drain_wakes()
                        if self._defer() and self._any_free():
                            deferred_at = deferred_at or time.monotonic()
                        else:
                            deferred_at = None
                        if deferred_at is None or time.monotonic() - deferred_at >= FAIR_GRACE_S:
                            slot = next((i for i in range(self.total) if self._try(i)), None)
                    if slot is not None:
                        break
                    if self._waiting[0] is me:  # woken by a freed core; the others are
                        # notified when it moves on
                        self._sleep(min(
                            poll_s if deferred_at is None else
                            FAIR_GRACE_S - (time.monotonic() - deferred_at),
                            tick_s - (time.monotonic() - last) if tick is not None else poll_s))
                    else:
                        self._freed.wait(min(tick_s, max(poll_s, 0.25)))
                    if tick is not None and time.monotonic() - last >= tick_s:
                        last = time.monotonic()
                        self._lock.release()  # a heartbeat may block on the SDK
                        try:
                            tick()
                        finally:
                            self._lock.acquire()
            finally:
                self._waiting.remove(me)
                self._announce_hungry()  # holding a core now, or given up
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
        core this thread ``hold``s counts among them (and stays held on exit). A
        thread that holds a core takes no extra one while another process's stages
        wait for one (fair share).
        """
        want = self.total if want is None else max(1, want)
        held = self._held_here()
        with self._lock:
            slots: list[int] = []
            if held and self.others_waiting():
                want = len(held)
            for i in range(self.total):
                if len(held) + len(slots) >= want:
                    break
                if self._try(i):
                    slots.append(i)
            self._announce_hungry()
        try:
            yield max(1, len(held) + len(slots))
        finally:
            self._release(slots)

    def close(self) -> None:
        """Close the slot files (releasing their locks) and remove this process's
        waiting flag."""
        for fd in self._files.values():
            os.close(fd)
        self._files = {}
        if self._wake_fd is not None and self._wake is not None:
            self._wake.unlink(missing_ok=True)
            os.close(self._wake_fd)
            self._wake_fd = None
        if self._wait_fd is not None and self._dir is not None:
            (self._dir / f"{WAIT_PREFIX}{os.getpid()}.lock").unlink(missing_ok=True)
            os.close(self._wait_fd)
            self._wait_fd = None
