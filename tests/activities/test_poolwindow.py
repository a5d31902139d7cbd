"""The data stages' ordered, bounded hand-off to a process pool (``poolwindow``), on a
real forkserver pool as the stages start theirs: results in submission order whatever
order the children finish in, no more than ``limit`` tasks (or groups) in flight, and
the first failure in submission order raised with its own type, the tasks behind it
cancelled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from medpipe.activities.poolwindow import PoolWindow, ordered_map
from medpipe.activities.procpool import pool_context


def _after(seconds: float, value: int) -> tuple[int, float]:
    """``value`` after ``seconds``, with when it finished (the monotonic clock is the
    machine's: comparable between processes)."""
    time.sleep(seconds)
    return value, time.monotonic()


def _fails(seconds: float, kind: str) -> tuple[int, float]:
    time.sleep(seconds)
    raise {"KeyError": KeyError, "ValueError": ValueError}[kind]("refused chunk")


def _marks(seconds: float, path: str) -> tuple[int, float]:
    """Leaves ``path`` behind: the task ran."""
    time.sleep(seconds)
    Path(path).touch()
    return 0, time.monotonic()


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=2, mp_context=pool_context()) as p:
        yield p


def test_results_come_in_submission_order_when_children_finish_out_of_order(
    pool: ProcessPoolExecutor,
) -> None:
    sleeps = [0.3, 0.0, 0.2, 0.0, 0.1, 0.0, 0.0, 0.15, 0.0, 0.0]
    got = list(ordered_map(pool, _after, [(s, i) for i, s in enumerate(sleeps)], limit=4))
    assert [v for v, _ in got] == list(range(len(sleeps)))
    finished = [t for _, t in got]
    assert finished != sorted(finished), "the children finished in order: nothing was proven"


def test_no_more_than_limit_tasks_are_in_flight(pool: ProcessPoolExecutor) -> None:
    """``calls`` is read only as the window frees: never more than ``limit`` read and not
    yet returned, and the window does fill (the pool is kept busy)."""
    limit, pulled, widest = 3, 0, 0

    def calls() -> Iterator[tuple[float, int]]:
        nonlocal pulled
        for i in range(12):
            pulled += 1
            yield 0.01, i

    for taken, (value, _) in enumerate(ordered_map(pool, _after, calls(), limit), start=1):
        assert value == taken - 1
        widest = max(widest, pulled - (taken - 1))
        assert pulled - (taken - 1) <= limit
    assert widest == limit
    assert pulled == 12


def test_a_group_is_one_slot_and_its_results_come_together(pool: ProcessPoolExecutor) -> None:
    window: PoolWindow[tuple[int, float]] = PoolWindow(pool, 2)
    assert window.submit_group(_after, [(0.2, 0), (0.0, 1)]) == []  # one group in flight
    due = window.submit_group(_after, [(0.0, 2), (0.1, 3)])  # two: the first is taken
    assert [[v for v, _ in group] for group in due] == [[0, 1]]
    rest = [[v for v, _ in group] for group in window.drain_groups()]
    assert rest == [[2, 3]]
    assert list(window.drain()) == []


def test_the_first_failure_in_submission_order_is_raised_with_its_type(
    pool: ProcessPoolExecutor,
) -> None:
    """The second task fails first in time; a sequential run would have stopped at the
    first: its error is the one raised."""
    window: PoolWindow[tuple[int, float]] = PoolWindow(pool, 8)
    window.submit(_fails, 0.4, "KeyError")
    window.submit(_fails, 0.0, "ValueError")
    window.submit(_after, 0.0, 2)
    with pytest.raises(KeyError, match="refused chunk"):
        list(window.drain())
    assert list(window.drain()) == []  # nothing left behind it


def test_a_failure_cancels_the_tasks_behind_it(tmp_path: Path) -> None:
    """One child: the failing task, then twenty that leave a mark. Those not yet handed
    to the child when the failure is read never run (the pool is shut down without
    cancelling, so only the window's cancelling keeps them from running)."""
    marks = [str(tmp_path / f"ran-{i}") for i in range(20)]
    p = ProcessPoolExecutor(max_workers=1, mp_context=pool_context())
    try:
        window: PoolWindow[tuple[int, float]] = PoolWindow(p, 32)
        window.submit(_fails, 0.3, "ValueError")
        for m in marks:
            window.submit(_marks, 0.1, m)
        with pytest.raises(ValueError, match="refused chunk"):
            list(window.drain())
    finally:
        p.shutdown(wait=True, cancel_futures=False)
    ran = [m for m in marks if Path(m).exists()]
    # the executor hands a child's queue one task ahead, and one more may go as the
    # failure comes back: at most those ran
    assert len(ran) <= 3, ran
    assert ran == marks[: len(ran)]


def test_the_window_counts_what_is_in_flight(pool: ProcessPoolExecutor) -> None:
    """``len`` is the groups (or tasks) submitted and not yet taken: what
    ``pseudonymize.parallel._last_batch`` reads to tell the last batch's group apart."""
    window: PoolWindow[tuple[int, float]] = PoolWindow(pool, 3)
    assert len(window) == 0
    window.submit_group(_after, [(0.0, 1), (0.0, 2)])
    window.submit(_after, 0.0, 3)
    assert len(window) == 2
    groups = window.drain_groups()
    assert [v for v, _ in next(groups)] == [1, 2] and len(window) == 1
    assert [v for v, _ in next(groups)] == [3] and len(window) == 0
