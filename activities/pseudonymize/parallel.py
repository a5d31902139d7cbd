"""The scrub pass of a tabular run on every core: chunks in a process pool, output in order.

Free-text scrubbing is pure Python per text, so threads would share one core
(the GIL); the chunks go to worker *processes* instead. What must stay
single-threaded stays in the parent, so a parallel run writes exactly the
bytes a sequential run writes:

* **Tokens** are assigned in the parent, in row order, by the run's own
  tokenizers (the vault mints random tokens and remembers them; ``hmac``
  tokens need the key). Each chunk travels with the tokens of its distinct
  identifier values and the date-shift offsets of its patients
  (``Premapped``), so the children hold neither the vault, its secret nor
  the HMAC key, and two chunks can never mint two tokens for one patient.
* **The identifier index** (the learn pass, over the whole dataset: keyed
  digests, ``deid.keytable``) is written once to a scratch file that every
  child maps read-only (``shared_index``), so N children hold one copy, not N;
  a child does not add to it. The file is removed when the pool ends.
* **Each batch is cut into one piece per process** (``procpool.even_slices``),
  so a dataset of one chunk (100k rows) keeps every core busy too, and the
  pieces' outputs are joined again: the parent writes the batches a
  sequential run writes (a Parquet row group per batch). The last batch's last
  piece is scrubbed by the parent itself while the children scrub the rest
  (``_last_batch``): it would only wait, and it is warm.
* **Pieces travel in memory files** (``activities.memfile``): each piece is written
  once as an Arrow IPC stream into an anonymous memory file the child maps, and
  the child writes its output into another the parent maps (``_Exchange``), instead
  of pickles through the pool's pipes (on the bench table, 2 x 23 MB a piece: the
  pickles cost ~1.1 CPU-s of the parent's threads and ~0.5 of its main thread per
  524k rows).
* **Results** come back in input order, at most ``IN_FLIGHT_PER_PROCESS``
  batches in flight (bounded memory), and the parent writes them and merges
  each piece's counts into the run's report in that order.

The children run ``TabularJob.process`` — the sequential code — on each
chunk, so both paths share one implementation of the policy.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.memfile import BatchFile, Handle, read_batch, write_batch
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
from medpipe.activities.pseudonymize.shards import index_from_bytes, index_parts
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tabular import TabularJob, _as_text
from medpipe.activities.pseudonymize.tokens import Tokenizer
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import Action, Placeholder, Policy, TokenMode

#: Rows of free text from which a dataset of one chunk is scrubbed on the pool too: its
#: start (children, their index, ~0.2 s of a core each) costs less than half the scrub
#: (~40 µs a note). Below it, and for data without text (microseconds a row, vectorised),
#: one chunk stays in the caller's thread.
POOL_MIN_TEXT_ROWS = 16_384


class Premapped(Tokenizer):
    """A chunk's tokens and date-shift offsets, assigned beforehand by the parent's tokenizer.

    Args:
        mode: the token mode it stands for.
        tokens: token of each distinct identifier value of the chunk.
        offsets: date-shift offset (days) of each patient token of the chunk.
    """

    def __init__(self, mode: TokenMode, tokens: dict[str, str],
                 offsets: dict[str, int]) -> None:
        self.mode = mode
        self._tokens = tokens
        self._offsets = offsets

    def tokens(self, values: Sequence[str]) -> list[str]:
        return [self._tokens[v] for v in values]

    def offset_days(self, tokens: Sequence[str], max_days: int) -> np.ndarray:
        return np.array([self._offsets[t] for t in tokens], dtype=np.int64)


@dataclass
class ChunkCounts:
    """What one chunk adds to the run's report (no values except the deferred
    identifiers, which stay in this machine's processes; patients as keyed digests)."""

    records: int = 0
    counts: list[tuple[str, Action, int, int]] = field(default_factory=list)
    placeholders: Counter[str] = field(default_factory=Counter)
    patients: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    pending: dict[Placeholder, set[str]] = field(default_factory=dict)

    def merge_into(self, state: RunState) -> None:
        """Add these counts to the parent's state (called in chunk order)."""
        for name, action, values, changed in self.counts:
            state.count(name, action, values, changed)
        state.placeholders.update(self.placeholders)
        state.patients.add_digests(self.patients)
        state.records += self.records
        for kind, found in self.pending.items():
            state.pending.setdefault(kind, set()).update(found)


class _CountingState(RunState):
    """A chunk's RunState that also lists its per-column counts in order."""

    def __init__(self, fmt: str, index: KeyIndex) -> None:
        super().__init__(format=fmt, index=index)
        self.order: list[tuple[str, Action, int, int]] = []

    def count(self, name: str, action: Action, values: int, changed: int) -> None:
        super().count(name, action, values, changed)
        self.order.append((name, action, values, changed))


# -- the child side: one job per process, set up once by the pool's initializer ----------
_CHILD: dict[str, object] = {}


def _init_child(policy: Policy, index_file: str, key: bytes, fmt: str, source: str,
                offset: int = 0) -> None:
    start_child()
    index = index_from_bytes(map_readonly(index_file)[offset:], key)  # one shared copy
    _CHILD.update(policy=policy, index=index, fmt=fmt, source=source)


@contextmanager
def shared_index(index: KeyIndex) -> Iterator[str]:
    """The index (keyed digests only) in a scratch file the pool's children map
    read-only: one copy in the page cache instead of a pickled copy per child. The file
    goes when the pool does, also when the run fails or is cancelled."""
    with scratch_file(index_parts(index), "medpipe-index-", "index.bin") as path:
        yield path


#: A chunk's tokens and patient offsets, per token mode (``premap``).
Tokens = dict[TokenMode, tuple[dict[str, str], dict[str, int]]]
#: A chunk scrubbed: its output and what it adds to the report.
Scrubbed = tuple[pa.RecordBatch, ChunkCounts]


#: What a child returns for a piece: ``memfile.write_batch``'s reply (its output is in the
#: parent's memory file) and the piece's counts.
Returned = tuple[pa.RecordBatch | None, ChunkCounts]


def _process_chunk(inbox: Handle, outbox: Handle, row0: int, tokens: Tokens) -> Returned:
    policy = _CHILD["policy"]
    index = _CHILD["index"]
    assert isinstance(policy, Policy) and isinstance(index, KeyIndex)
    out, counts = scrub_piece(policy, index, str(_CHILD["fmt"]), str(_CHILD["source"]),
                              read_batch(inbox), row0, tokens)
    return write_batch(outbox, out), counts


def scrub_piece(policy: Policy, index: KeyIndex, fmt: str, source: str,
                batch: pa.RecordBatch, row0: int, tokens: Tokens) -> Scrubbed:
    """One piece scrubbed with its premapped tokens: what a child does with a task, and
    the parent with the last piece of the run (``_pooled``)."""
    state = _CountingState(fmt, index)
    toks: dict[TokenMode, Tokenizer] = {m: Premapped(m, t, o) for m, (t, o) in tokens.items()}
    out = TabularJob(policy, toks, state, source).process(batch, row0)
    del batch, toks
    release_freed()  # this chunk's working memory, before the next one comes
    return out, ChunkCounts(records=state.records, counts=state.order,
                            placeholders=state.placeholders, patients=state.patients.digests(),
                            pending=state.pending)


# -- the parent side -----------------------------------------------------------------------
def token_columns(policy: Policy) -> list[tuple[str, TokenMode, bool]]:
    """(column, token mode, whether its tokens key date shifts), in the order the
    sequential job asks for them."""
    cols: list[tuple[str, TokenMode, bool]] = []
    if policy.patient_id and any(r.action is Action.DATE_SHIFT for r in policy.fields.values()):
        rule = policy.fields[policy.patient_id]
        mode = (rule.mode or policy.token_mode) if rule.action is Action.TOKEN \
            else policy.token_mode
        cols.append((policy.patient_id, mode, True))
    for name, rule in policy.fields.items():
        if rule.action is Action.TOKEN:
            cols.append((name, rule.mode or policy.token_mode, False))
    return cols


def premap(policy: Policy, tokenizers: dict[TokenMode, Tokenizer], batch: pa.RecordBatch,
           source: str) -> dict[TokenMode, tuple[dict[str, str], dict[str, int]]]:
    """Tokens (and patient offsets) of a chunk's distinct identifiers, from the run's
    tokenizers, in the sequential job's order (the vault mints here, in the parent).

    A column that cannot be read as identifiers is skipped: the child then refuses
    it with the sequential job's message, at the same point. A column listed twice (the
    patient id keys the date shifts and is a token column too) is looked up once: the
    second lookup would find the tokens the first one minted, and mint nothing.
    """
    out: dict[TokenMode, tuple[dict[str, str], dict[str, int]]] = {
        m: ({}, {}) for m in tokenizers}
    done: dict[tuple[str, TokenMode], list[str]] = {}  # (column, mode) -> its tokens
    for name, mode, shifts in token_columns(policy):
        if name not in batch.schema.names:
            continue
        tokenizer = tokenizers[mode]
        toks = done.get((name, mode))
        if toks is None:
            try:
                col = _as_text(batch.column(name), f"{source}, column {name!r}")
            except InvalidInput:
                continue
            values = pc.dictionary_encode(col).dictionary.to_pylist()
            toks = done[(name, mode)] = tokenizer.tokens(values)
            out[mode][0].update(zip(values, toks, strict=True))
        if shifts:
            days = tokenizer.offset_days(toks, policy.date_shift_days)
            out[mode][1].update(zip(toks, days.tolist(), strict=True))
    return out


def process_batches(batches: Iterable[pa.RecordBatch], *, policy: Policy,
                    tokenizers: dict[TokenMode, Tokenizer], state: RunState, source: str,
                    processes: int, first_row: int = 0,
                    index_file: tuple[str, int] | None = None) -> Iterator[pa.RecordBatch]:
    """Pseudonymized batches, in input order, computed by ``processes`` child processes.

    ``first_row``: the data row the first batch starts at (a shard's, for messages).
    ``index_file``: (path, offset) of ``state.index`` serialized (``index_parts``) in a
    file already (a shard's, mapped by the caller too); default: written to a scratch file.

    Each chunk's counts are merged into ``state`` as its output is yielded.

    Raises:
        InvalidInput: the first chunk (in input order) the policy refuses.
    """
    if index_file is not None:
        yield from _pooled(batches, policy=policy, tokenizers=tokenizers, state=state,
                           source=source, processes=processes, first_row=first_row,
                           index_file=index_file)
        return
    with shared_index(state.index) as path:
        yield from _pooled(batches, policy=policy, tokenizers=tokenizers, state=state,
                           source=source, processes=processes, first_row=first_row,
                           index_file=(path, 0))


def _pooled(batches: Iterable[pa.RecordBatch], *, policy: Policy,
            tokenizers: dict[TokenMode, Tokenizer], state: RunState, source: str,
            processes: int, first_row: int,
            index_file: tuple[str, int]) -> Iterator[pa.RecordBatch]:
    path, offset = index_file
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=pool_context(),
                               initializer=_init_child,
                               initargs=(policy, path, state.index.key, state.format,
                                         source, offset))
    # batches in flight, a piece per process each
    window: PoolWindow[Returned] = PoolWindow(pool, IN_FLIGHT_PER_PROCESS)
    exchange = _Exchange()
    try:
        row0 = first_row
        held: list[tuple[pa.RecordBatch, int, Tokens]] = []  # the last batch read so far
        for batch in batches:
            tokens = premap(policy, tokenizers, batch, source)  # in row order, as before
            if held:  # not the last batch after all: every piece to the children
                b, r, t = held.pop()
                due = window.submit_group(_process_chunk,
                                          exchange.send(_pieces(b, r, t, processes)))
                del b
                while due:  # popped, not looped over: pieces go before the joined batch is written
                    yield _joined(state, exchange.received(due.pop(0)))
            held.append((batch, row0, tokens))
            row0 += batch.num_rows
            del batch
        if held:  # the last batch, then every batch still in flight, in order
            yield from _last_batch(window, exchange, state, *held.pop(), processes=processes,
                                   scrub=partial(scrub_piece, policy, state.index,
                                                 state.format, source))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        exchange.close()


class _Exchange:
    """The memory files of the pieces in flight (``activities.memfile``), a group per
    batch, oldest first: the window hands groups back in the order they were sent.

    Each piece has two, both owned here: its rows, which the child maps, and an empty one
    the child writes its output into. Both are closed when the piece's output has been
    read (the output keeps its mapping until the batch is joined), or when the run ends.
    """

    def __init__(self) -> None:
        self._groups: deque[list[tuple[BatchFile, BatchFile]]] = deque()

    def send(self, pieces: Iterable[tuple[pa.RecordBatch, int, Tokens]]
             ) -> list[tuple[Handle, Handle, int, Tokens]]:
        """The children's calls for one batch's ``pieces``, each written to its file."""
        files: list[tuple[BatchFile, BatchFile]] = []
        self._groups.append(files)
        calls = []
        for piece, row0, tokens in pieces:
            inbox, outbox = BatchFile.of(piece), BatchFile()
            files.append((inbox, outbox))
            calls.append((inbox.handle, outbox.handle, row0, tokens))
        return calls

    def received(self, returned: list[Returned]) -> list[Scrubbed]:
        """The oldest group's pieces scrubbed, from what their children returned."""
        files = self._groups.popleft()
        try:
            return [(outbox.read(reply), counts)
                    for (_, outbox), (reply, counts) in zip(files, returned, strict=True)]
        finally:
            _close(files)

    def close(self) -> None:
        """Close the files of the groups still here (a run that failed or was cancelled)."""
        while self._groups:
            _close(self._groups.popleft())


def _close(files: list[tuple[BatchFile, BatchFile]]) -> None:
    for inbox, outbox in files:
        inbox.close()
        outbox.close()


def _last_batch(window: PoolWindow[Returned], exchange: _Exchange, state: RunState,
                batch: pa.RecordBatch, row0: int, tokens: Tokens, *, processes: int,
                scrub: Callable[[pa.RecordBatch, int, Tokens], Scrubbed]
                ) -> Iterator[pa.RecordBatch]:
    """The run's last batch: its pieces to the children but the last, which ``scrub``
    does in this thread meanwhile (it would only wait for them, and it is warm: a
    child's first piece costs more than its next ones), so the reference release's one
    batch starts one child instead of two (forkserver pools spawn on demand). Then every
    batch still in flight, in input order; a refusal of this thread's piece is raised
    after the earlier pieces' outputs and refusals, as a sequential run would."""
    *theirs, (piece, row0_mine, _) = _pieces(batch, row0, tokens, processes)
    mine = (pa.concat_batches([piece]), row0_mine, tokens)  # compact: the batch can go
    del batch, piece
    # this batch's group must stay in flight after submission (never handed back as due)
    assert window.limit > 1, "the last batch's pieces need a window of two groups or more"
    due = window.submit_group(_process_chunk, exchange.send(theirs))
    del theirs
    while due:
        yield _joined(state, exchange.received(due.pop(0)))
    try:
        here: Scrubbed | None = scrub(*mine)
        refused: InvalidInput | None = None
    except InvalidInput as e:
        here, refused = None, e
    del mine
    ahead, groups = len(window), window.drain_groups()  # this batch's group is the last
    for _ in range(ahead - 1):
        yield _joined(state, exchange.received(next(groups)))
    theirs_done = exchange.received(next(groups))  # raises an earlier piece's refusal first
    if refused is not None:
        raise refused
    assert here is not None
    yield _joined(state, [*theirs_done, here])


def _pieces(batch: pa.RecordBatch, row0: int, tokens: Tokens,
            processes: int) -> list[tuple[pa.RecordBatch, int, Tokens]]:
    """The tasks of one batch (starting at data row ``row0``): a piece per process (slices
    of ``batch``: ``_Exchange.send`` writes only their rows)."""
    out = []
    for piece in even_slices(batch, -(-batch.num_rows // processes), processes):
        out.append((piece, row0, tokens))
        row0 += piece.num_rows
    return out


def _joined(state: RunState, pieces: list[Scrubbed]) -> pa.RecordBatch:
    """One batch's output, its pieces joined again (the batches a sequential run writes:
    a Parquet row group per batch), their counts merged in order."""
    outs = []
    for out, counts in pieces:
        counts.merge_into(state)
        outs.append(out)
    joined = outs[0] if len(outs) == 1 else pa.concat_batches(outs)
    del outs
    release_freed()  # the chunks written so far
    return joined
