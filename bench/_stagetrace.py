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
#: When set (a directory), a traced worker also measures every activity as a whole
#: (records named ``activity:<name>``: a data stage's wait for a core and its
#: ``release_freed`` included) and keeps ``threads-<pid>.json`` there up to date: its
#: threads' native ids -> Python names (``/proc`` only shows the process's name for
#: Python threads). ``bench/workercpu.py`` reads both.
ACCOUNT_ENV = "MEDPIPE_BENCH_ACCOUNT_DIR"
#: Seconds between two writes of a traced worker's thread names.
THREAD_NAMES_S = 0.5
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
                    "pid": os.getpid(),
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


def thread_names_path(directory: Path, pid: int) -> Path:
    """Where a traced worker of ``pid`` keeps its thread names (``ACCOUNT_ENV``)."""
    return directory / f"threads-{pid}.json"


def _keep_thread_names(directory: Path) -> None:
    """Write this process's ``{native id: Python thread name}`` every ``THREAD_NAMES_S``
    (renamed into place, so a reader never sees half a file)."""
    path = thread_names_path(directory, os.getpid())

    def loop() -> None:
        while True:
            names = {str(t.native_id): t.name for t in threading.enumerate()}
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(names))
            os.replace(tmp, path)
            time.sleep(THREAD_NAMES_S)

    threading.Thread(target=loop, name="bench-thread-names", daemon=True).start()


def _record_ended_threads(sink: Callable[[dict[str, Any]], None]) -> None:
    """Every Python thread of this process, as it ends, records its name and CPU-s
    (``thread-ended``): ``/proc`` forgets an ended thread, and pools' helper threads
    (pickling chunks to children, unpickling results) and heartbeat threads end with
    their stage."""
    bootstrap = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def recorded(self: threading.Thread) -> None:
        try:
            bootstrap(self)
        finally:
            sink({"name": "thread-ended", "thread_name": self.name,
                  "cpu": time.thread_time(), "thread": threading.get_native_id(),
                  "pid": os.getpid()})

    threading.Thread._bootstrap_inner = recorded  # type: ignore[attr-defined]


def _measured_whole(sink: Callable[[dict[str, Any]], None]
                    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wraps a sync activity so that each call is measured as a whole (``activity:<name>``);
    async ones (none run a stage) are left as they are."""
    import inspect

    from temporalio import activity

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):
            return fn
        name = activity._Definition.must_from_callable(fn).name
        return activity.defn(name=name)(measured(f"activity:{name}", fn, sink))

    return wrap


def traced_worker() -> None:
    """``medpipe worker ...`` (``sys.argv[1:]``) with its data stages measured (and, with
    ``ACCOUNT_ENV``, every activity as a whole and its threads' names)."""
    from medpipe.activities import stage_cores
    from medpipe.workers import cli, worker

    sink = append_to(os.environ[TRACE_ENV])
    account = os.environ.get(ACCOUNT_ENV)
    if account:
        _keep_thread_names(Path(account))
        _record_ended_threads(sink)
        whole = _measured_whole(sink)
        for build in ("activities_for", "control_activities"):
            def measured_all(ctx: Any, _build: Any = getattr(worker, build)) -> Any:
                return [whole(fn) for fn in _build(ctx)]

            setattr(worker, build, measured_all)
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
