"""The learn pass of a tabular run on every core: identifier values indexed in child processes.

The learn pass (``tabular.learn``) turns each identifier column's distinct
values into keyed digests (``deid.index.KeyIndex``): keys and prefixes in
Arrow for ASCII values other than names, a Python call per digest, ~0.6 s of
one core for the reference release's 100k rows (0.9-1.0 s before the Arrow
path), while the other cores wait for the scrub pass, which needs the
finished index. Here the
parent parses and takes each column's distinct values (Arrow), cuts them into
pieces, and child processes index the pieces; the parent merges their digest
tables. The result is the index the one pass builds, by construction:

* the one pass indexes batch by batch and, in a batch, column by column; a
  key indexed under several placeholders keeps the first one unless one of
  them is ``NAME``. Each piece here carries its *rank* (batch, column, piece,
  in that order), and the merge keeps the code of the lowest rank, ``NAME``
  winning (``learnparts.RankedTables``, as a learn shard merges). The pieces
  of one column hold one placeholder, so cutting a column changes nothing.
* the width (longest token run) is the pieces' largest.

Only digests come back from the children (never a value), as in the learn
shards of a fanned-out run (``activities.pseudonymize.learnparts``).

A learn shard of a fanned-out run indexes on its cores too
(``PooledBatchIndex``): one task per learn batch, whole, ranked by the batch as
the shard ranks it in its thread, so its part is the same bytes. Its thread
keeps the rest (reading, parsing, the patients and the vault keys): at 10M rows
on one worker the learn shard was the release's one stage on one core (~59 s
of ~334 s).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.poolwindow import ordered_map
from medpipe.activities.procpool import IN_FLIGHT_PER_PROCESS, pool_context, start_child
from medpipe.activities.pseudonymize.learnparts import (
    BatchIndex,
    Columns,
    Indexed,
    RankedTables,
    index_columns,
)
from medpipe.activities.pseudonymize.tabular import identifying, lookup_kind
from medpipe.contracts.pseudonymize import Placeholder, Policy

#: Distinct values of a column below which it is one piece (a task costs ~1 ms).
MIN_PIECE = 2_048

def pieces(values: pa.Array, processes: int) -> list[pa.Array]:
    """``values`` in ``processes`` equal pieces (one when it is small)."""
    n = len(values)
    count = max(1, min(processes, n // MIN_PIECE))
    bounds = [n * i // count for i in range(count + 1)]
    return [values.slice(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]


def learn_on_pool(policy: Policy, batches: Iterable[pa.RecordBatch], key: bytes,
                  processes: int) -> KeyIndex:
    """The learn pass over ``batches`` (``tabular.learn``'s), indexed on ``processes``
    child processes: the index ``tabular.learn`` builds (complete: frozen).

    The policy must scrub free text (else the one pass indexes nothing).
    """
    idcols = [(n, lookup_kind(r)) for n, r in policy.fields.items() if identifying(r)]
    tables = RankedTables()
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=pool_context(),
                               initializer=start_child)
    try:
        # a child's task: one piece of one column, indexed as a learn batch of that
        # column alone (``learnparts.index_columns``)
        calls = ((key, [(values, kind)], rank)
                 for values, kind, rank in _tasks(idcols, batches, processes))
        for indexed in ordered_map(pool, index_columns, calls,
                                   processes * IN_FLIGHT_PER_PROCESS):
            tables.add_ranked(*indexed)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return tables.index(key)


def _tasks(idcols: list[tuple[str, Placeholder]], batches: Iterable[pa.RecordBatch],
           processes: int) -> Iterator[tuple[pa.Array, Placeholder, int]]:
    """(values, placeholder, rank) of every piece, in the one pass's order."""
    rank = 0
    for batch in batches:
        for name, kind in idcols:
            if name not in batch.schema.names:
                continue
            uniques = pc.unique(batch.column(name))
            for piece in pieces(uniques, processes):
                # a compact copy: a pickled slice would carry the whole column's buffers
                yield pa.concat_arrays([piece]), kind, rank
                rank += 1


class PooledBatchIndex(BatchIndex):
    """A learn shard's batches indexed on ``processes`` child processes, a window of
    them in flight.

    When the window is full and its oldest batch is not indexed yet, the thread indexes
    the new batch itself instead of waiting: with one child on a 2-core worker, the child
    indexing was the learn shard's bound at 10M rows (the thread waited ~11 s of ~37 for
    it). Tables merge to the same result in any order or grouping (the lowest rank's
    code, ``learnparts.merge_ranked``), so the part is the same bytes whoever indexed
    which batch.

    The pool starts with the second batch: a shard of one learn batch (a small
    dataset, a test) indexes it here and starts no process.
    """

    def __init__(self, key: bytes, processes: int) -> None:
        super().__init__(key)
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None
        self.first: tuple[Columns, int] | None = None
        self.pending: deque[Future[Indexed]] = deque()
        #: Batches the thread indexed itself while the pool was behind.
        self.by_thread = 0

    def add(self, columns: Columns, rank: int) -> None:
        pool = self.pool
        if pool is None:
            if self.first is None:
                self.first = (columns, rank)
                return
            pool = self.pool = ProcessPoolExecutor(max_workers=self.processes,
                                                   mp_context=pool_context(),
                                                   initializer=start_child)
            first, self.first = self.first, None
            self.pending.append(pool.submit(index_columns, self.key, *first))
        while self.pending and self.pending[0].done():
            self.tables.add_ranked(*self.pending.popleft().result())
        if len(self.pending) >= self.processes * IN_FLIGHT_PER_PROCESS:
            super().add(columns, rank)  # the pool is behind: index this one here
            self.by_thread += 1
            return
        self.pending.append(pool.submit(index_columns, self.key, columns, rank))

    def finish(self) -> RankedTables:
        if self.first is not None:
            super().add(*self.first)
            self.first = None
        while self.pending:
            self.tables.add_ranked(*self.pending.popleft().result())
        return self.tables

    def close(self) -> None:
        """Stop the pool (its queued tasks cancelled: a shard that failed ends here)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


@contextlib.contextmanager
def batch_index(key: bytes, cores: int) -> Iterator[BatchIndex]:
    """Where a learn shard with ``cores`` cores indexes its batches: here with one, on a
    pool of ``cores - 1`` processes with more (stopped when the shard ends, also when it
    fails). The shard's thread keeps a core of its own: reading, parsing and listing
    patients and vault keys are about as much work as the indexing (3M rows: ~10.8
    CPU-s against ~11.1 on the pool), so a child per core would only take turns with
    it."""
    if cores <= 1:
        yield BatchIndex(key)
        return
    index = PooledBatchIndex(key, cores - 1)
    try:
        yield index
    finally:
        index.close()


__all__ = ["PooledBatchIndex", "batch_index", "learn_on_pool", "pieces"]
