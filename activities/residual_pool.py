"""The residual-identifier check of validate on every core: chunks in a process pool.

The check (``activities.residual_scan.scan_batch``) is pure Python and regex
work per text cell, so threads would share one core (the GIL); chunks go to
child *processes* instead, following ``activities.pseudonymize.parallel`` (``activities.procpool``):

* The identifier digests (``DigestSet``: keyed digests, never an identifier)
  are written once to a scratch file that every child maps read-only
  (``shared_digests``), so N children hold one copy in the page cache, not a
  pickled copy each; the digest key is sent to each child when the pool starts.
  The file goes with the pool.
* Only a chunk's text columns travel (the check reads nothing else), written once
  into an anonymous memory file the child maps (``activities.memfile``), not pickled
  through the pool's pipe.
* A batch is cut into equal chunks, as many as the children or a multiple
  (``procpool.even_slices``), so that they finish together.
* At most ``processes * IN_FLIGHT_PER_PROCESS`` chunks are in flight (bounded
  memory); each chunk's counts come back as a ``ResidualTally`` and are merged
  in input order, so the report (locations in first-seen order, counts,
  verdicts) is the one a sequential run writes.
* ``processes == 1``, or a dataset of one chunk, runs the check in the caller's
  thread, without a pool (its start costs more than it gives).
* The last chunk is checked in the caller's thread too, while the children finish
  theirs: that thread would only wait for them, and it is warm (its imports, caches
  and pages are there), while a child's first chunk costs more than the next ones
  (0.04-0.06 CPU-s more on the reference notes: first touches of its heap and the mapped
  digests, lazily built patterns, its own digest cache). Children start as chunks
  arrive (forkserver pools spawn on demand), so the reference release's 100k rows
  (two chunks) start one child instead of two.

The counts are independent of how rows are cut into chunks (each cell is
checked on its own), which is what lets a parallel run use smaller chunks than
the reader's.
"""

from __future__ import annotations

import contextlib
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType

import pyarrow as pa

from medpipe.activities.memfile import BatchFile, Handle, read_batch
from medpipe.activities.memory import release_freed
from medpipe.activities.poolwindow import PoolWindow
from medpipe.activities.procpool import (
    IN_FLIGHT_PER_PROCESS,
    even_slices,
    map_readonly,
    pool_context,
    scratch_file,
    start_child,
)
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_scan import ResidualTally, scan_batch

#: Rows per chunk sent to a child (small enough to keep both cores busy to the end).
POOL_CHUNK_ROWS = 65_536

_CHILD: dict[str, DigestSet | None] = {}


def _init_child(key: bytes | None, path: str | None,
                shape: tuple[int, int, int, tuple[str, ...]] | None) -> None:
    start_child()
    digests = None
    if key is not None and path is not None and shape is not None:  # one shared copy
        digests = DigestSet.from_shared(key, map_readonly(path), *shape)
    _CHILD["digests"] = digests


def _scan_chunk(chunk: Handle) -> ResidualTally:
    tally = ResidualTally()
    batch = read_batch(chunk)
    scan_batch(batch, _CHILD["digests"], tally)
    del batch
    release_freed()  # this chunk's working memory, before the next one comes
    return tally


def merge(into: ResidualTally, part: ResidualTally) -> None:
    """Add one chunk's counts to the run's (locations keep their first-seen order)."""
    into.values.update(part.values)
    into.hits.update(part.hits)
    for where, kinds in part.kinds.items():
        into.kinds.setdefault(where, Counter()).update(kinds)


def text_columns(batch: pa.RecordBatch) -> BatchFile:
    """The columns ``scan_batch`` reads (strings), in a memory file for a child (a copy of
    their rows only: the batch they come from can go)."""
    keep = [i for i, f in enumerate(batch.schema)
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return BatchFile.of(batch.select(keep))


class ResidualPool:
    """Checks record batches for residual identifiers, on ``processes`` processes.

    Use as a context manager: ``add`` each batch in order, then ``result``.

    Args:
        digests: keyed digests of the original identifiers (None: patterns and names only).
        processes: child processes (1: the check runs in the caller's thread).
        chunk_rows: rows per chunk sent to a child.
    """

    def __init__(self, digests: DigestSet | None, processes: int,
                 chunk_rows: int = POOL_CHUNK_ROWS) -> None:
        self.digests = digests
        self.processes = max(1, processes)
        self.chunk_rows = max(1, chunk_rows)
        self.tally = ResidualTally()
        self._pool: ProcessPoolExecutor | None = None
        self._window: PoolWindow[ResidualTally] | None = None
        self._held: BatchFile | None = None
        self._sent: deque[BatchFile] = deque()  # the chunks in flight, oldest first
        self._files = contextlib.ExitStack()  # the children's shared digests, while the pool runs
        self.pooled = 0  # chunks checked in child processes (all but the last)

    def add(self, batch: pa.RecordBatch) -> None:
        """Check one batch (or queue its chunks); blocks while the window is full."""
        chunks = even_slices(batch, self.chunk_rows, self.processes)
        if self.processes == 1:  # in chunks here too: the check's arrays are O(chunk)
            for chunk in chunks:
                scan_batch(chunk, self.digests, self.tally)
            return
        for chunk in chunks:
            if self._held is not None:  # not the last chunk after all: to a child
                if self._pool is None:
                    self._pool = self._start_pool()
                    self._window = PoolWindow(self._pool,
                                              self.processes * IN_FLIGHT_PER_PROCESS)
                self._submit(self._held)
            # the last one so far, checked by ``result`` in this thread; copied, so that
            # it does not keep its whole batch alive while the next one is read
            self._held = text_columns(chunk)

    def _start_pool(self) -> ProcessPoolExecutor:
        key, path, shape = None, None, None
        if self.digests is not None:
            path = self._files.enter_context(
                scratch_file(self.digests.shared_parts(), "medpipe-digests-",
                             "digests.bin"))
            key, shape = self.digests.key, self.digests.shared_shape()
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=pool_context(),
                                   initializer=_init_child, initargs=(key, path, shape))

    def _submit(self, chunk: BatchFile) -> None:
        """Send one chunk (its ``text_columns`` already) to a child; merge what is due."""
        assert self._window is not None
        self._sent.append(chunk)
        due = self._window.submit(_scan_chunk, chunk.handle)
        self.pooled += 1
        for part in due:
            self._merge(part)

    def _merge(self, part: ResidualTally) -> None:
        """Merge the oldest chunk's counts; its file is no longer needed."""
        self._sent.popleft().close()
        merge(self.tally, part)
        release_freed()

    def result(self) -> ResidualTally:
        """Every batch's counts, merged in input order: the last chunk is checked here,
        while the children finish the chunks before it, and merged after theirs."""
        last = self.tally if self._window is None else ResidualTally()
        if self._held is not None:
            with self._held:
                scan_batch(self._held.read(), self.digests, last)
            self._held = None
        if self._window is not None:
            for part in self._window.drain():
                self._merge(part)
            merge(self.tally, last)
        return self.tally

    def close(self) -> None:
        """Stop the pool (pending chunks cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._files.close()
        self._window = None
        while self._sent:
            self._sent.popleft().close()
        if self._held is not None:
            self._held.close()
            self._held = None

    def __enter__(self) -> ResidualPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
