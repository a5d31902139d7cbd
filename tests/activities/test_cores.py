"""The core budget: concurrent data stages, and worker processes of one machine, share cores."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medpipe.activities import cores
from medpipe.activities.cores import (
    ENV,
    SLOTS_ENV,
    SLOTS_PER_CORE,
    CoreBudget,
    default_activity_slots,
    default_cores,
)

#: Another worker process of the machine: it announces itself, takes (or waits for) cores,
#: says so, and holds them until told to stop (a line on stdin) or killed.
_OTHER_PROCESS = """
import sys
from pathlib import Path
from medpipe.activities.cores import CoreBudget
b = CoreBudget({cores}, Path({root!r}))
print("waiting", flush=True)
with b.{how}:
    print("got", flush=True)
    sys.stdin.readline()
"""


@contextlib.contextmanager
def other_process(root: Path, cores: int, how: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``_OTHER_PROCESS`` on the lock files under ``root``, ``how`` being ``take()``,
    ``hold()``, …; killed on the way out. Read its lines with ``said``; ``release`` it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS.format(cores=cores, root=str(root), how=how)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def said(proc: subprocess.Popen[str]) -> str:
    """The next line ``proc`` printed."""
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def release(proc: subprocess.Popen[str]) -> None:
    """Let ``proc`` leave its ``with`` block (free what it holds)."""
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()


def test_stages_of_one_worker_share_its_cores() -> None:
    budget = CoreBudget(2)
    with budget.take() as first:
        assert first == 2 and budget.in_use == 2
        with budget.take() as second:
            assert second == 1  # runs in its own thread, no child processes
        assert budget.in_use == 2
    assert budget.in_use == 0
    with budget.take(1) as one, budget.take() as rest:
        assert (one, rest) == (1, 1) and budget.in_use == 2


def test_workers_of_one_machine_share_the_lock_files(tmp_path: Path) -> None:
    a, b = CoreBudget(3, tmp_path / "cores"), CoreBudget(3, tmp_path / "cores")
    with a.take(2) as got_a:
        with b.take() as got_b:
            assert (got_a, got_b) == (2, 1)
    with b.take() as got_b:
        assert got_b == 3
    a.close()
    b.close()


def test_a_killed_worker_leaves_no_core_taken(tmp_path: Path) -> None:
    with other_process(tmp_path, 2, "take()") as holder:
        assert said(holder) == "waiting" and said(holder) == "got"
        budget = CoreBudget(2, tmp_path)
        with budget.take() as got:
            assert got == 1
        holder.kill()
        holder.wait()
        with budget.take() as got:
            assert got == 2
        budget.close()


def test_the_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "3")
    assert default_cores() == 3
    monkeypatch.setenv(ENV, "0")
    with pytest.raises(ValueError, match=ENV):
        default_cores()
    monkeypatch.delenv(ENV)
    assert default_cores() >= 1


def test_activity_slots_come_from_the_cores_or_the_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SLOTS_ENV, raising=False)
    assert default_activity_slots(2) == 2 * SLOTS_PER_CORE
    assert default_activity_slots(1) == SLOTS_PER_CORE
    monkeypatch.setenv(ENV, "3")
    assert default_activity_slots() == 3 * SLOTS_PER_CORE
    monkeypatch.setenv(SLOTS_ENV, "5")
    assert default_activity_slots(2) == 5
    monkeypatch.setenv(SLOTS_ENV, "many")
    with pytest.raises(ValueError, match=SLOTS_ENV):
        default_activity_slots(2)


def test_a_held_core_counts_in_take_and_stays_held() -> None:
    budget = CoreBudget(3)
    with budget.hold():
        assert budget.in_use == 1
        with budget.take() as got:
            assert got == 3 and budget.in_use == 3
        assert budget.in_use == 1
        with budget.take(1) as got:  # the held core is enough
            assert got == 1 and budget.in_use == 1
        with budget.hold():  # nested: the outer core serves
            assert budget.in_use == 1
        assert budget.in_use == 1
    assert budget.in_use == 0


def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _holder(budget: CoreBudget, log: list[str], name: str, started: threading.Event,
            go: threading.Event) -> threading.Thread:
    def run() -> None:
        started.set()
        with budget.hold():
            log.append(f"{name} in")
            go.wait(10)
            log.append(f"{name} out")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_stages_wait_for_a_core_first_come_first_served() -> None:
    budget = CoreBudget(1)
    log: list[str] = []
    go = {n: threading.Event() for n in "abc"}
    threads = []
    for i, n in enumerate("abc"):  # a holds the core; b, then c, wait (in that order)
        started = threading.Event()
        threads.append(_holder(budget, log, n, started, go[n]))
        started.wait(5)
        _until(lambda i=i: log == ["a in"] and budget.waiting == i)  # type: ignore[misc]
    assert log == ["a in"] and budget.in_use == 1
    go["c"].set()  # c may go as soon as it has the core: it still waits behind b
    go["a"].set()
    go["b"].set()
    for t in threads:
        t.join(10)
    assert log == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert budget.in_use == 0


def test_a_waiting_stage_ticks_and_may_give_up() -> None:
    budget = CoreBudget(1)
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            raise RuntimeError("cancelled")

    errors: list[BaseException] = []

    def wait() -> None:  # another thread's stage (a thread's own hold nests)
        try:
            with budget.hold(tick, tick_s=0.05):
                errors.append(AssertionError("got a core that was held"))
        except RuntimeError as e:
            errors.append(e)

    with budget.hold():
        thread = threading.Thread(target=wait)
        thread.start()
        thread.join(10)
    assert [str(e) for e in errors] == ["cancelled"]
    assert ticks == 3 and budget.in_use == 0
    with budget.hold():  # nothing was left queued or held
        assert budget.in_use == 1


def test_a_stage_waits_for_a_core_another_worker_process_holds(tmp_path: Path) -> None:
    with other_process(tmp_path, 1, "take()") as holder:
        assert said(holder) == "waiting" and said(holder) == "got"
        budget = CoreBudget(1, tmp_path)
        got = threading.Event()

        def wait() -> None:
            with budget.hold():
                got.set()

        thread = threading.Thread(target=wait)
        thread.start()
        assert not got.wait(0.5)  # the other process has the machine's only core
        release(holder)
        assert got.wait(10)
        thread.join(10)
        budget.close()


def test_a_core_another_process_frees_wakes_the_waiting_stage(tmp_path: Path) -> None:
    """The waiter looks at the lock files only once a minute here: the other process's
    release must wake it (its wake-up FIFO), not its next look."""
    with other_process(tmp_path, 1, "take()") as holder:
        assert said(holder) == "waiting" and said(holder) == "got"
        budget = CoreBudget(1, tmp_path)
        got = threading.Event()

        def wait() -> None:
            with budget.hold(poll_s=60.0):
                got.set()

        thread = threading.Thread(target=wait)
        thread.start()
        try:
            _until(lambda: budget.waiting == 1)
            assert not got.wait(0.3)
            release(holder)
            assert got.wait(10)
            thread.join(10)
        finally:
            budget.close()
        assert len(list(tmp_path.glob("wake-*.fifo"))) == 1  # the holder's, while it lives


def test_a_waiting_stage_looks_at_the_cores_when_woken_not_every_few_ms(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nine stages of a burst wait at once: the first of a process sleeps until a core is
    freed (or ``poll_s`` for one the kernel frees) instead of polling the lock files."""
    budget = CoreBudget(1, tmp_path)
    looks = 0
    drain = budget._drain_wakes

    def counted() -> None:
        nonlocal looks
        looks += 1
        drain()

    monkeypatch.setattr(budget, "_drain_wakes", counted)
    got = threading.Event()

    def wait() -> None:
        with budget.hold(poll_s=0.25):
            got.set()

    try:
        with budget.hold():
            thread = threading.Thread(target=wait)
            thread.start()
            _until(lambda: budget.waiting == 1)
            time.sleep(1.0)
            assert not got.is_set() and looks <= 1.0 / 0.25 + 2  # not 100 (a 10 ms poll)
        assert got.wait(10)  # this process's release woke it
        thread.join(10)
    finally:
        budget.close()
    assert not list(tmp_path.glob("wake-*.fifo"))  # closed: its FIFO is gone


def test_a_dead_process_s_wake_up_fifo_is_forgotten(tmp_path: Path) -> None:
    """A killed worker's FIFO (nobody reads it) is removed by the next release."""
    with other_process(tmp_path, 1, "take()") as holder:
        assert said(holder) == "waiting" and said(holder) == "got"
        assert len(list(tmp_path.glob("wake-*.fifo"))) == 1
        holder.kill()
        holder.wait()
    budget = CoreBudget(1, tmp_path)
    try:
        with budget.hold():
            pass  # its release wakes every FIFO: the dead one's is found unread
        assert [p.name for p in tmp_path.glob("wake-*.fifo")] == [budget._wake.name]  # type: ignore[union-attr]
    finally:
        budget.close()


def test_a_freed_core_goes_to_the_process_whose_stages_wait_with_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fair share: this process holds both cores and frees one while its own next stage
    and another process's stage both wait: the other process (which holds none) gets it,
    so two stages do not end up sharing this process's GIL while the other one idles.

    The grace a freed core waits for the hungry process is long here: what is tested is
    who gets the core, not how fast a loaded CI machine schedules the other process (a
    CI run once gave it more than the 0.1 s default, and this process's waiter took the
    core first, as the safety net says it must)."""
    monkeypatch.setattr(cores, "FAIR_GRACE_S", 10.0)
    with other_process(tmp_path, 2, "hold()") as other:
        budget = CoreBudget(2, tmp_path)
        try:
            with contextlib.ExitStack() as first:
                first.enter_context(budget.take(1))
                with budget.take(1) as second:
                    assert second == 1 and budget.in_use == 2
                    assert said(other) == "waiting"
                    assert _wait(lambda: budget.others_waiting())  # the other one announced it
                    mine = threading.Event()

                    def wait() -> None:
                        with budget.hold():
                            mine.set()

                    thread = threading.Thread(target=wait)
                    thread.start()
                    time.sleep(0.2)  # this process's stage is queued too
                # one core freed: this process still holds one, the other process none
                assert said(other) == "got"
                assert not mine.is_set() and budget.in_use == 1
            # the second core freed: now this process's stage gets it
            thread.join(10)
            assert mine.is_set()
        finally:
            budget.close()


def test_a_process_that_holds_a_core_is_not_left_cores_it_would_leave_back(
        tmp_path: Path) -> None:
    """Only a hungry process (stages waiting, no core held) is left free cores: another
    process that waits while it holds one would defer too, and the core would idle."""
    other = subprocess.Popen(
        [sys.executable, "-c",
         "import threading\nfrom pathlib import Path\n"
         "from medpipe.activities.cores import CoreBudget\n"
         f"b = CoreBudget(3, Path({str(tmp_path)!r}))\n"
         "told = []\n"
         "def tick():\n    if not told:\n        told.append(print('waiting', flush=True))\n"
         "def second():\n    with b.hold(tick, tick_s=0.05):\n        print('got', flush=True)\n"
         "with b.take(2):\n"
         "    print('holding', flush=True)\n"
         "    input()\n"
         "    threading.Thread(target=second).start()\n"
         "    input()\n"
         "print('released', flush=True)\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    budget = CoreBudget(3, tmp_path)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "holding"
        assert other.stdin is not None
        with budget.hold():  # the third core
            assert budget.in_use == 1
            other.stdin.write("\n")  # now its second stage asks for a core
            other.stdin.flush()
            # the other process's second stage is waiting (it ticked) while it holds two
            assert other.stdout.readline().strip() == "waiting"
            assert not budget.others_waiting()
        assert other.stdout.readline().strip() == "got"  # the freed core went to it
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.stdout.readline().strip() == "released"
    finally:
        other.kill()
        other.wait()
        budget.close()


def test_take_leaves_free_cores_to_another_process_that_waits(tmp_path: Path) -> None:
    """A stage's pool does not grab the core another process's stage is waiting for: this
    process frees a core and, before the other process polls again, asks for more."""
    with other_process(tmp_path, 2, "hold(poll_s=0.5)") as other:
        budget = CoreBudget(2, tmp_path)
        try:
            taken, done = threading.Event(), threading.Event()

            def another_stage() -> None:
                with budget.take(1):
                    taken.set()
                    done.wait(10)

            with budget.hold():
                stage = threading.Thread(target=another_stage)
                stage.start()
                assert taken.wait(10) and budget.in_use == 2
                assert said(other) == "waiting"
                assert _wait(lambda: budget.others_waiting())
                done.set()  # its core is freed; the other process polls every 0.5 s
                stage.join(10)
                with budget.take() as got:
                    assert got == 1  # only the held core: the free one is left to them
                    assert said(other) == "got"
        finally:
            budget.close()


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
