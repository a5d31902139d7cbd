"""A pool's tasks, at most ``limit`` in flight, their results taken in submission order.

Every data stage's pool (pseudonymize's learn and scrub passes, validate's residual
check, evaluate's inference) feeds its children a stream of chunks and merges what
comes back in input order, so that its output, counts and reports are a sequential
run's; and it bounds what is in flight, since a chunk waiting for a child holds its
rows in the parent and a result not yet taken holds its output. ``PoolWindow`` is that
loop, written once:

* ``submit`` queues a task, then takes the oldest results while ``limit`` tasks are in
  flight (waiting for them): the caller merges each as it comes, in order, and the
  window never holds more than ``limit`` tasks.
* A *group* (``submit_group``) is tasks taken together, one slot of the window: the
  scrub pass cuts each batch into a piece per child and writes the batch whole again.
* The first failure in submission order is the one raised (where a sequential run
  would have stopped), with the child's own exception type; the tasks behind it are
  cancelled, so that a refused chunk does not leave the children working on the rest.

The window does not own the pool: each stage starts its own (initializer, shared
files) and shuts it down, cancelling what is left, when the stage ends or fails.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PoolWindow(Generic[T]):
    """Tasks of ``pool``, at most ``limit`` (tasks or groups) in flight, taken in order.

    Args:
        pool: the executor the tasks run on (a process pool).
        limit: tasks (or groups) in flight at the most; at least 1.
    """

    def __init__(self, pool: Executor, limit: int) -> None:
        self.limit = max(1, limit)
        self._pool = pool
        self._pending: deque[list[Future[T]]] = deque()

    def __len__(self) -> int:
        """Tasks (or groups) in flight."""
        return len(self._pending)

    def submit(self, fn: Callable[..., T], *args: Any) -> list[T]:
        """Queue ``fn(*args)``; the results now due (the oldest, while the window is
        full), in submission order."""
        return [r for group in self.submit_group(fn, [args]) for r in group]

    def submit_group(self, fn: Callable[..., T], calls: Iterable[Sequence[Any]]) -> list[list[T]]:
        """Queue ``fn(*args)`` for each ``args`` of ``calls``, as one slot of the window;
        the groups now due (each its results in order), in submission order."""
        self._pending.append([self._pool.submit(fn, *args) for args in calls])
        return [self._take() for _ in range(len(self._pending) - self.limit + 1)]

    def drain(self) -> Iterator[T]:
        """The results of every task still in flight, in submission order, each as it
        comes."""
        for group in self.drain_groups():
            yield from group

    def drain_groups(self) -> Iterator[list[T]]:
        """``drain``, a group at a time."""
        while self._pending:
            yield self._take()

    def cancel(self) -> None:
        """Cancel every task not yet started (those running finish, unread)."""
        while self._pending:
            for fut in self._pending.popleft():
                fut.cancel()

    def _take(self) -> list[T]:
        """The oldest group's results (waiting for them); on its first failure, the
        rest cancelled and the failure raised."""
        group = self._pending.popleft()
        try:
            return [fut.result() for fut in group]
        except BaseException:
            for fut in group:
                fut.cancel()
            self.cancel()
            raise


def ordered_map(
    pool: Executor, fn: Callable[..., T], calls: Iterable[Sequence[Any]], limit: int
) -> Iterator[T]:
    """``fn(*args)`` for each ``args`` of ``calls`` on ``pool``, at most ``limit`` in
    flight: the results in order, each as it comes (``calls`` is read as the window
    frees, so a generator of chunks is never read far ahead). Tasks left when the
    iteration stops early are cancelled."""
    window: PoolWindow[T] = PoolWindow(pool, limit)
    try:
        for args in calls:
            yield from window.submit(fn, *args)
        yield from window.drain()
    finally:
        window.cancel()


__all__ = ["PoolWindow", "ordered_map"]
