"""What a data stage costs where it runs: in a worker process, or called directly in a bench.

``bench/orchestration.py`` compares a release's wall time with the same activities
called in its own process. Wall time on a shared machine says as much about the
other sessions as about us (``sched_autogroup`` shares the CPU per session), so
``--trace`` measures both sides the same way, per activity call: its wall time,
the CPU seconds of the thread that ran it (user and system apart, with its minor
page faults: ``getrusage(RUSAGE_THREAD)``), of its whole process (the SDK's and
the event loop's threads included) and of its process group (the fork server and
the stage's pool children included), and the full garbage collections any thread
of the process ran meanwhile.

On the worker side, ``traced_worker`` is a ``medpipe worker`` whose data stages
(the activities ``workers.worker`` wraps with ``holding_a_core``) are measured so
and appended as JSON lines to ``$MEDPIPE_BENCH_STAGE_TRACE``. It is started with
``python -c`` (``WORKER_ARGV``) so that ``__main__`` is empty, as with ``python -m
medpipe``: a forkserver child imports its parent's ``__main__`` script first.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _rss import group_cpu_seconds

#: Where a traced worker appends its records (one JSON object a line).
TRACE_ENV = "MEDPIPE_BENCH_STAGE_TRACE"
BENCH = str(Path(__file__).resolve().parent)
#: The command line of a traced worker, before ``worker --profile ...``.
WORKER_ARGV = [
    sys.executable,
    "-c",
    f"import sys; sys.path.insert(0, {BENCH!r}); import _stagetrace; _stagetrace.traced_worker()",
]


class _FullCollections:
    """Full (generation 2) collections of any thread of this process while it counts."""

    def __init__(self) -> None:
        self.count, self.seconds, self._t = 0, 0.0, 0.0
        self._lock = threading.Lock()

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        with self._lock:
            if phase == "start":
                self._t = time.perf_counter()
            else:
                self.count += 1
                self.seconds += time.perf_counter() - self._t


#: Processes each ``CoreBudget.take`` of the calling thread gave (``count_processes``).
_taken = threading.local()


def count_processes() -> None:
    """From now on, record the processes each ``CoreBudget.take`` gives a stage (its pool's
    size): a stage that got fewer cores in a worker than in the direct run is slower for
    it."""
    from medpipe.activities.cores import CoreBudget

    take = CoreBudget.take
    if getattr(take, "counted", False):
        return

    @contextlib.contextmanager
    def counted(self: CoreBudget, want: int | None = None) -> Iterator[int]:
        with take(self, want) as n:
            _taken.__dict__.setdefault("n", []).append(n)
            yield n

    counted.counted = True  # type: ignore[attr-defined]
    CoreBudget.take = counted  # type: ignore[method-assign]


def measured(
    name: str, fn: Callable[..., Any], sink: Callable[[dict[str, Any]], None]
) -> Callable[..., Any]:
    """``fn``, each call's costs handed to ``sink`` as a record (``name``, ``wall``,
    ``thread_user``, ``thread_sys``, ``thread_minflt``, ``process_cpu``, ``group_cpu``,
    ``gc_full``, ``gc_full_s``, ``processes``: the pool's size, ``thread``: the native id
    of the thread that ran it)."""

    @functools.wraps(fn, updated=())  # not its __dict__: its activity definition
    def run(*args: Any, **kwargs: Any) -> Any:
        collections = _FullCollections()
        _taken.n = []
        gc.callbacks.append(collections)
        group = os.getpgid(0)
        r0 = resource.getrusage(resource.RUSAGE_THREAD)
        t0, p0, g0 = time.perf_counter(), time.process_time(), group_cpu_seconds(group)
        try:
            return fn(*args, **kwargs)
        finally:
            r1 = resource.getrusage(resource.RUSAGE_THREAD)
            wall, cpu = time.perf_counter() - t0, time.process_time() - p0
            gc.callbacks.remove(collections)
            sink(
                {
                    "name": name,
                    "wall": wall,
                    "thread_user": r1.ru_utime - r0.ru_utime,
                    "thread_sys": r1.ru_stime - r0.ru_stime,
                    "thread_minflt": r1.ru_minflt - r0.ru_minflt,
                    "process_cpu": cpu,
                    "group_cpu": group_cpu_seconds(group) - g0,
                    "gc_full": collections.count,
                    "gc_full_s": collections.seconds,
                    "processes": max(_taken.__dict__.get("n") or [0]),
                    "thread": threading.get_native_id(),
                }
            )

    return run


def append_to(path: str) -> Callable[[dict[str, Any]], None]:
    """A sink appending each record to ``path`` as one JSON line."""
    lock = threading.Lock()

    def sink(record: dict[str, Any]) -> None:
        with lock, open(path, "a") as f:
            f.write(json.dumps(record) + "\n")

    return sink


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The records a traced worker appended to ``path`` (none yet: empty)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def traced_worker() -> None:
    """``medpipe worker ...`` (``sys.argv[1:]``) with its data stages measured."""
    from medpipe.activities import stage_cores
    from medpipe.workers import cli, worker

    sink = append_to(os.environ[TRACE_ENV])
    count_processes()
    hold, release = worker.holding_a_core, stage_cores.release_freed

    def release_freed_measured() -> None:  # what a worker adds after each data stage
        t0, c0 = time.perf_counter(), time.thread_time()
        release()
        sink(
            {
                "name": "release_freed",
                "wall": time.perf_counter() - t0,
                "thread_cpu": time.thread_time() - c0,
            }
        )

    stage_cores.release_freed = release_freed_measured  # type: ignore[assignment]

    def holding_a_core_measured(name: str, fn: Any, budget: Any) -> Any:
        return hold(name, measured(name.rpartition(".")[2], fn, sink), budget)

    worker.holding_a_core = holding_a_core_measured  # type: ignore[assignment]
    cli.run()
