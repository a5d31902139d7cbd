"""What the data stages' process pools share: the start method, the in-flight bound, the
child's watch on its parent, the scratch files children map instead of a pickled copy,
and how a batch is cut into chunks for the children.

Pools of chunks (pseudonymize's scrub pass, validate's residual check,
evaluate's inference) all follow one pattern: ``forkserver`` children (a Temporal
worker runs threads, so never ``fork`` it), at most ``IN_FLIGHT_PER_PROCESS``
chunks per child in flight, results merged in input order, and children that
end when their parent dies. Record batches (the scrub pass's pieces and outputs, the
residual check's chunks) travel in anonymous memory files the children map
(``activities.memfile``), not pickled through the pool's pipes.
"""

from __future__ import annotations

import itertools
import mmap
import multiprocessing
import multiprocessing.connection
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from medpipe.activities.memory import return_freed_memory

if TYPE_CHECKING:
    import pyarrow as pa

#: Chunks in flight per child process (one being processed, one queued).
IN_FLIGHT_PER_PROCESS = 2

#: Modules the fork server imports once, so each child starts with them loaded. Not only
#: the pools' own modules: ``pandas`` because pyarrow imports it the first time a child
#: builds an Arrow array or scalar from Python objects (``pa.array``, ``pc.fill_null(x,
#: False)``: every pool's first task), ~0.25 s of each child of every pool otherwise; the
#: evaluate pool's module for onnxruntime, which a child imported while unpickling its
#: initializer, with the parent blocked on the pipe meanwhile (~65 ms a child, one after
#: the other: the "other" of evaluate in ``bench/stagecost.py``).
PRELOAD = ["pandas", "medpipe.activities.pseudonymize.parallel",
           "medpipe.activities.pseudonymize.learnpool", "medpipe.activities.residual_pool",
           "medpipe.activities.evaluate_pool"]


def watch_parent() -> None:
    """End this child when the process that started it dies (a SIGKILLed worker must not
    leave pool processes behind, blocked forever on their task queue)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="medpipe-parent-watch", daemon=True).start()


def start_child() -> None:
    """What every pool child's initializer does first: end with its parent
    (``watch_parent``) and give freed memory back as it goes
    (``activities.memory.return_freed_memory``)."""
    watch_parent()
    return_freed_memory()


@contextmanager
def scratch_file(parts: Iterable[bytes], prefix: str, name: str) -> Iterator[str]:
    """``parts`` written to file ``name`` of a fresh scratch directory (``prefix``...);
    its path. The directory goes when the block ends, also when it fails or is
    cancelled."""
    scratch = tempfile.mkdtemp(prefix=prefix)
    try:
        path = os.path.join(scratch, name)
        with open(path, "wb") as f:
            for part in parts:
                f.write(part)
        yield path
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def map_readonly(path: str) -> memoryview:
    """The file mapped read-only (page cache pages, shared by every process that maps
    it); empty when the file is (``mmap`` refuses a zero-length file)."""
    with open(path, "rb") as f:
        if not os.fstat(f.fileno()).st_size:
            return memoryview(b"")
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))


def pool_context() -> multiprocessing.context.BaseContext:
    """``forkserver``, with ``PRELOAD`` when this is the first pool of the process."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_fork_server() -> None:
    """Start this process's fork server now, in the background: it imports ``PRELOAD``
    (the de-identification stack: ~0.8 s of a core on an idle machine, 1.4 s under load,
    measured by ``bench/stagecost.py``) before it serves its first pool, which would
    otherwise be a worker's first data stage, waiting for it. Returns at once; a pool
    started meanwhile waits for the same server."""
    pool_context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def even_slices(batch: pa.RecordBatch, rows: int, processes: int) -> list[pa.RecordBatch]:
    """``batch`` in zero-copy slices of at most ``rows`` rows and of equal size (within a
    row): one slice when it fits, else a multiple of ``processes`` slices.

    Equal slices, a multiple of the children, so that the children finish a batch
    together: cut at ``rows`` instead, 100,000 rows in chunks of 65,536 keep one child
    busy for twice as long as the other, with a core idle meanwhile.
    """
    n = batch.num_rows
    count = -(-n // max(1, rows))
    if count > 1:
        count = -(-count // processes) * processes
    count = max(1, min(count, n))
    bounds = [n * i // count for i in range(count + 1)]
    return [batch.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
