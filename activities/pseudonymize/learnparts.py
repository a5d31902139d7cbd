"""The learn pass cut in parts: what one learn shard finds, and how the parts merge.

The one learn activity (``fanout.FanoutPseudonymizeActivities.learn``) reads
the whole dataset on one worker: at 10M rows that was the release's critical
path. A **learn shard** reads the dataset too, but converts only the columns
the learn reads (identifiers, vault-token and patient columns: never a note
or a measurement) and works on every ``shards``-th chunk only, and keeps
what the merge needs to give exactly the one activity's result:

* **the partial index** as sorted digest tables (``deid.keytable``) under the
  release's one digest key, each entry with the *rank* (learn batch) where it
  was first seen. A key indexed under several placeholders keeps the first
  one unless one of them is ``NAME`` (``KeyIndex``); with the rank, the merge
  decides "first" across shards as the one pass does (``merge_ranked``: one
  numpy sort of the parts' digests, no Python per key; range by range of the
  digests, ``merge_in_ranges``, so its temporaries stay small).
* **the patients** as keyed digests (``state.Patients``).
* **the vault keys** of its chunks, first-seen order, each with its chunk
  number. The one pass mints a vault token the first time a value is met, in
  row order; the merge walks the parts' keys ordered by chunk (a stable sort)
  and asks the vault for them in that order, so every token is minted in
  the same order (``Merged.vault_batches``).

The merge (``merge_parts``) holds the parts only while it merges them: the
vault's tokens are then minted with the index, the patients and the vault
keys in memory, not the parts.

Chunks are counted two ways, as the one pass counts them: *learn batches*
(the CSV reader's batches, which ``Pseudonymizer.learn`` indexes) and
*chunks* of exactly ``chunk_rows`` rows (which the token pass walks and the
shards cut). A shard takes every ``shards``-th of each.

A part is stored sealed (it holds identifiers: the vault keys); the index
arrays are keyed digests only.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.deid.keytable import DigestTable, settle
from medpipe.activities.pseudonymize.parallel import token_columns
from medpipe.activities.pseudonymize.policy import check_columns
from medpipe.activities.pseudonymize.shards import dataset_batches
from medpipe.activities.pseudonymize.state import Patients
from medpipe.activities.pseudonymize.tabular import (
    _as_text,
    identifying,
    lookup_kind,
)
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.pseudonymize import Placeholder, Policy, TokenMode

PART_FORMAT = "medpipe-learn-part/1"
_MAGIC = b"MPLP1"
_NAME = tuple(Placeholder).index(Placeholder.NAME)  # KeyIndex's code of NAME
#: Ranges of ``hi`` the learn merge merges the parts' tables in (``merge_in_ranges``).
MERGE_RANGES = 64


@dataclass
class Ranked:
    """Distinct digests ``(hi, lo)`` sorted, each with a code and the rank (learn batch)
    where it was first seen."""

    hi: np.ndarray
    lo: np.ndarray
    code: np.ndarray
    rank: np.ndarray

    @classmethod
    def of(cls, table: DigestTable, rank: int) -> Ranked:
        hi, lo, code = table.arrays()
        return cls(hi, lo, code, np.full(len(hi), rank, dtype=np.uint32))

    @classmethod
    def empty(cls, size: int = 0) -> Ranked:
        return cls(*(np.zeros(size, t) for t in (np.uint64, np.uint64, np.uint8, np.uint32)))

    def __len__(self) -> int:
        return len(self.hi)

    def slice(self, start: int, stop: int) -> Ranked:
        """Entries ``start`` .. ``stop - 1`` (views, no copy)."""
        return Ranked(self.hi[start:stop], self.lo[start:stop], self.code[start:stop],
                      self.rank[start:stop])

    def table(self) -> DigestTable:
        return DigestTable.from_arrays(self.hi, self.lo, self.code)


def merge_ranked(parts: Sequence[Ranked], upgrade: int | None = None) -> Ranked:
    """The union of ``parts``: each digest once, with the code of its lowest rank, or
    ``upgrade`` when any part has it under ``upgrade`` (``KeyIndex``'s NAME rule).

    Each part is sorted already: a stable sort of their concatenation by ``hi`` merges
    sorted runs (timsort, O(n log parts)); only the entries whose ``hi`` repeats (the
    same key in several parts, or two keys sharing 64 bits) are then ordered by
    ``(hi, lo, rank)`` among themselves.
    """
    parts = [p for p in parts if len(p.hi)]
    if len(parts) <= 1:
        return parts[0] if parts else Ranked.empty()
    hi, lo, code, rank = (np.concatenate([getattr(p, a) for p in parts])
                          for a in ("hi", "lo", "code", "rank"))
    order = np.argsort(hi, kind="stable")
    shared = np.zeros(len(hi), dtype=bool)
    same = hi[order[1:]] == hi[order[:-1]]
    shared[1:] |= same
    shared[:-1] |= same
    at = np.flatnonzero(shared)  # slots of the repeated hi's, contiguous per hi
    if len(at):
        sub = order[at]
        order[at] = sub[np.lexsort((rank[sub], lo[sub], hi[sub]))]
    hi, lo, code, rank = hi[order], lo[order], code[order], rank[order]
    first = np.ones(len(hi), dtype=bool)
    first[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    starts = np.flatnonzero(first)
    out = code[starts]
    if upgrade is not None:
        out[np.logical_or.reduceat(code == upgrade, starts)] = upgrade
    return Ranked(hi[starts], lo[starts], out, rank[starts])


def merge_in_ranges(parts: Sequence[Ranked], upgrade: int | None = None,
                    ranges: int = MERGE_RANGES) -> Ranked:
    """``merge_ranked``, one range of ``hi`` at a time, written into one output.

    Its temporaries (the concatenation, the order, the sorted copies: ~50 bytes an
    entry, ~1 GB at 10M rows) are then one range's, not the whole union's. The entries
    of one key share its ``hi``, so they meet in one range: the result is
    ``merge_ranked``'s. Digests are uniform, so ranges of equal width hold about equal
    shares.
    """
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1 or ranges <= 1:
        return merge_ranked(parts, upgrade)
    edges = np.arange(1, ranges, dtype=np.uint64) * np.uint64((1 << 64) // ranges)
    cuts = [[0, *np.searchsorted(p.hi, edges).tolist(), len(p)] for p in parts]
    out = Ranked.empty(sum(len(p) for p in parts))
    n = 0
    for r in range(ranges):
        piece = merge_ranked([p.slice(c[r], c[r + 1]) for p, c in zip(parts, cuts,
                                                                        strict=True)], upgrade)
        m = len(piece)
        out.hi[n:n + m], out.lo[n:n + m] = piece.hi, piece.lo
        out.code[n:n + m], out.rank[n:n + m] = piece.code, piece.rank
        n += m
    # the entries several parts held once each: a few % of the output, not worth a copy
    return out.slice(0, n)


class RankedTables:
    """Indexed pieces' digest tables as they come, each ranked by its place in the one
    pass's order, merged as they grow (``keytable.settle``, as a ``DigestTable``'s runs):
    a learn shard's batches, the learn pool's pieces.

    Why as they grow: merging every few tables into all held so far merged the whole,
    growing table again each time (at 10M rows ~10 s of a learn shard's thread).
    ``merge_ranked`` keeps the lowest rank's code (``NAME`` winning) whatever the
    grouping, so the result is the same."""

    def __init__(self) -> None:
        self.keys: list[Ranked] = []
        self.prefixes: list[Ranked] = []
        self.width = 1

    def add_ranked(self, keys: Ranked, prefixes: Ranked, width: int) -> None:
        """Tables ranked already (a child process's, sent back)."""
        if len(keys):
            self.keys.append(keys)
            settle(self.keys, lambda older, newer: merge_ranked([older, newer], _NAME))
        if len(prefixes):
            self.prefixes.append(prefixes)
            settle(self.prefixes, lambda older, newer: merge_ranked([older, newer]))
        self.width = max(self.width, width)

    def merged(self) -> tuple[Ranked, Ranked]:
        """(keys, prefixes), each merged into one table."""
        return merge_ranked(self.keys, _NAME), merge_ranked(self.prefixes)

    def index(self, key: bytes) -> KeyIndex:
        """The index these tables make (``merge_in_ranges``, as the learn merge)."""
        return _index_of(key, self.width, merge_in_ranges(self.keys, _NAME),
                         merge_in_ranges(self.prefixes))


Columns = Sequence[tuple[pa.Array, Placeholder]]  # a learn batch's identifier values
Indexed = tuple[Ranked, Ranked, int]  # keys, prefixes, width


def index_columns(key: bytes, columns: Columns, rank: int) -> Indexed:
    """One learn batch's identifier columns (distinct values, in the policy's order)
    indexed as ``tabular.learn`` indexes a batch: one ``KeyIndex``, its tables ranked
    ``rank``, and its width."""
    index = KeyIndex(key)
    for values, kind in columns:
        index.add_all(values, kind)
    keys, prefixes = index.tables()
    return Ranked.of(keys, rank), Ranked.of(prefixes, rank), index.width


class BatchIndex:
    """Where a learn shard indexes its learn batches: here, one at a time, as they come.

    ``learnpool.PooledBatchIndex`` indexes them on child processes instead; either
    way the tables come out ranked by learn batch, so the part is the same.
    """

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.tables = RankedTables()

    def add(self, columns: Columns, rank: int) -> None:
        """Index learn batch ``rank``'s identifier columns."""
        self.tables.add_ranked(*index_columns(self.key, columns, rank))

    def finish(self) -> RankedTables:
        """Every batch added so far, indexed."""
        return self.tables


@dataclass
class LearnPart:
    """What one learn shard found (or, read back, what the merge gets from it)."""

    shard: int
    shards: int
    keys: Ranked
    prefixes: Ranked
    width: int = 1
    rows: int = 0
    chunks: int = 0
    batches: int = 0
    patients: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    vault_keys: pa.Table = field(default_factory=lambda: _keys_table([], []))


def _keys_table(chunks: list[int], ids: list[str]) -> pa.Table:
    return pa.table({"chunk": pa.array(chunks, pa.int32()), "id": pa.array(ids, pa.string())})


class _Builder:
    """A learn shard at work: indexes its learn batches, lists its chunks' vault keys."""

    def __init__(self, policy: Policy, key: bytes, shard: int, shards: int,
                 source: str, index: BatchIndex) -> None:
        self.policy, self.key, self.source, self.index = policy, key, source, index
        self.shard, self.shards = shard, shards
        self.idcols = [(n, r) for n, r in policy.fields.items() if identifying(r)]
        self.vault_cols = list(dict.fromkeys(
            n for n, mode, _ in token_columns(policy) if mode is TokenMode.VAULT))
        #: the columns this learn reads (a note or a measurement is never converted)
        self.columns = {n for n, _ in self.idcols} | set(self.vault_cols) | \
            ({policy.patient_id} if policy.patient_id else set())
        self.patients = Patients(key)
        self.seen: set[str] = set()
        self.key_chunks: list[int] = []
        self.key_ids: list[str] = []
        self.rows = self.chunks = self.batches = 0

    def select(self, names: list[str]) -> list[str]:
        """The dataset's columns this learn reads, once they are shown to be the policy's
        (before any row is converted)."""
        check_columns(self.policy, names, self.source)
        return [n for n in names if n in self.columns]

    def learn_batch(self, k: int, batch: pa.RecordBatch) -> None:
        """Index learn batch ``k`` (every identifier column), as ``tabular.learn`` does."""
        if k % self.shards != self.shard:
            return
        self.batches += 1
        self.index.add([(pc.unique(batch.column(n)), lookup_kind(r))
                        for n, r in self.idcols if n in batch.schema.names], k)

    def chunk(self, c: int, batch: pa.RecordBatch) -> None:
        """Patients and first-seen vault keys of chunk ``c``, in the order the token pass
        (``parallel.premap``) asks the vault for them."""
        if c % self.shards != self.shard:
            return
        self.chunks += 1
        self.rows += batch.num_rows
        pid = self.policy.patient_id
        if pid and pid in batch.schema.names:
            self.patients.update_column(batch.column(pid))
        for name in self.vault_cols:
            if name not in batch.schema.names:
                continue
            try:
                col = _as_text(batch.column(name), name)
            except InvalidInput:
                continue  # the shard refuses it, as the one pass does
            for v in pc.dictionary_encode(col).dictionary.to_pylist():
                if v not in self.seen:
                    self.seen.add(v)
                    self.key_chunks.append(c)
                    self.key_ids.append(v)

    def part(self) -> LearnPart:
        tables = self.index.finish()
        keys, prefixes = tables.merged()
        return LearnPart(shard=self.shard, shards=self.shards, keys=keys,
                         prefixes=prefixes, width=tables.width,
                         rows=self.rows, chunks=self.chunks, batches=self.batches,
                         patients=self.patients.digests(),
                         vault_keys=_keys_table(self.key_chunks, self.key_ids))


def learn_part(chunks: Iterable[bytes], fmt: str, policy: Policy, source: str,
               chunk_rows: int, key: bytes, shard: int, shards: int,
               index: BatchIndex | None = None) -> LearnPart:
    """Learn shard ``shard`` of ``shards`` over the dataset's bytes: one reading, cut
    into learn batches and chunks exactly as the one learn pass cuts them, converting
    only the columns the learn reads (``_Builder.columns``). ``index`` indexes the
    learn batches (default: in this thread; ``learnpool.batch_index``: on the shard's
    cores).

    Raises:
        InvalidInput: the dataset's columns are not the policy's, or not CSV or Parquet.
    """
    builder = _Builder(policy, key, shard, shards, source, index or BatchIndex(key))
    for c, batch in enumerate(dataset_batches(chunks, fmt, policy, source, chunk_rows,
                                              builder.select, builder.learn_batch)):
        builder.chunk(c, batch)
    return builder.part()


# -- stored form ------------------------------------------------------------------------
def part_bytes(part: LearnPart) -> Iterator[bytes]:
    """A part, serialized: a JSON head (counts), the digest arrays, an Arrow IPC stream
    of the vault keys."""
    k, p = part.keys, part.prefixes
    head = json.dumps({"format": PART_FORMAT, "shard": part.shard, "shards": part.shards,
                       "width": part.width, "rows": part.rows, "chunks": part.chunks,
                       "batches": part.batches, "keys": len(k.hi), "prefixes": len(p.hi),
                       "patients": len(part.patients)}).encode()
    yield _MAGIC + struct.pack(">I", len(head)) + head
    for arr, dtype in ((k.hi, "<u8"), (k.lo, "<u8"), (k.code, "u1"), (k.rank, "<u4"),
                       (p.hi, "<u8"), (p.lo, "<u8"), (part.patients, "<u8")):
        yield np.ascontiguousarray(arr, dtype=dtype).tobytes()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, part.vault_keys.schema) as w:
        w.write_table(part.vault_keys)
    yield sink.getvalue().to_pybytes()


def part_from_bytes(blob: bytes) -> LearnPart:
    """A part ``part_bytes`` wrote.

    Raises:
        IntegrityError: not a learn part (the sealed object's tag verified, so this is
            a version mismatch, not tampering).
    """
    try:
        if blob[:len(_MAGIC)] != _MAGIC:
            raise ValueError("unknown format")
        (size,) = struct.unpack(">I", blob[5:9])
        doc = json.loads(blob[9:9 + size])
        if doc.get("format") != PART_FORMAT:
            raise ValueError("unknown format")
        at = 9 + size
        n, m, pts = int(doc["keys"]), int(doc["prefixes"]), int(doc["patients"])

        def arr(count: int, dtype: str, out: type) -> np.ndarray:
            nonlocal at
            a: np.ndarray = np.frombuffer(blob, dtype=dtype, count=count, offset=at)
            at += a.nbytes
            return a.astype(out, copy=False)

        keys = Ranked(arr(n, "<u8", np.uint64), arr(n, "<u8", np.uint64),
                      arr(n, "u1", np.uint8), arr(n, "<u4", np.uint32))
        phi, plo = arr(m, "<u8", np.uint64), arr(m, "<u8", np.uint64)
        patients = arr(pts, "<u8", np.uint64)
        table = pa.ipc.open_stream(io.BytesIO(blob[at:])).read_all()
        if table.schema.names != ["chunk", "id"]:
            raise ValueError("bad columns")
    except (ValueError, KeyError, TypeError, struct.error, pa.ArrowInvalid) as e:
        raise IntegrityError(f"a learn part is not a {PART_FORMAT} document "
                             f"({type(e).__name__})") from None
    zeros = np.zeros(m, dtype=np.uint8)
    return LearnPart(shard=int(doc["shard"]), shards=int(doc["shards"]), keys=keys,
                     prefixes=Ranked(phi, plo, zeros, zeros.astype(np.uint32)),
                     width=int(doc["width"]), rows=int(doc["rows"]),
                     chunks=int(doc["chunks"]), batches=int(doc["batches"]),
                     patients=patients, vault_keys=table)


# -- the merge -----------------------------------------------------------------------------
def check_cover(parts: Sequence[LearnPart]) -> tuple[int, int]:
    """(rows, chunks) of the dataset, once every part is shown to hold its share.

    Raises:
        InvalidInput: parts missing, repeated, out of order, or cut for another count.
        IntegrityError: a part's chunks are not its share of the dataset's.
    """
    order = [(p.shard, p.shards) for p in parts]
    if order != [(i, len(parts)) for i in range(len(parts))]:
        raise InvalidInput(f"the learn merge needs every learn shard once, in order "
                           f"(got {[s for s, _ in order]} of {len(parts)})")
    n = len(parts)
    chunks, batches = sum(p.chunks for p in parts), sum(p.batches for p in parts)
    for p in parts:
        if p.chunks != len(range(p.shard, chunks, n)) or \
                p.batches != len(range(p.shard, batches, n)):
            raise IntegrityError(f"learn shard {p.shard} holds {p.chunks} chunks of "
                                 f"{chunks} (the dataset changed between shards?)")
    return sum(p.rows for p in parts), chunks


def merged_index(key: bytes, parts: Sequence[LearnPart]) -> KeyIndex:
    """The dataset-wide index: the parts' tables merged (``merge_in_ranges``)."""
    return _index_of(key, max((p.width for p in parts), default=1),
                     merge_in_ranges([p.keys for p in parts], _NAME),
                     merge_in_ranges([p.prefixes for p in parts]))


def _index_of(key: bytes, width: int, keys: Ranked, prefixes: Ranked) -> KeyIndex:
    """A frozen index of merged digest tables."""
    return KeyIndex.from_tables(key, width, keys.table(), prefixes.table())


@dataclass
class Merged:
    """What the learn merge keeps of the parts: the index, the patients, the vault keys
    in row order, and the dataset's counts (the parts themselves are let go)."""

    index: KeyIndex
    patients: np.ndarray
    vault_ids: pa.ChunkedArray
    rows: int
    chunks: int

    def vault_batches(self, batch: int = 1 << 18) -> Iterator[list[str]]:
        """The vault keys in row order (by chunk; a part's own order within one), in lists
        of at most ``batch``: a vault asked for them in this order mints each new one when
        the one pass would."""
        for at in range(0, len(self.vault_ids), batch):
            yield self.vault_ids.slice(at, batch).to_pylist()


def merge_parts(key: bytes, parts: Iterable[LearnPart]) -> Merged:
    """The parts (every learn shard's, in order) merged; they are held only while this
    runs, so the vault's tokens are minted without them in memory.

    Raises:
        InvalidInput, IntegrityError: as ``check_cover``.
    """
    held = list(parts)
    rows, chunks = check_cover(held)
    table = pa.concat_tables([p.vault_keys for p in held])
    order = pc.sort_indices(table.column("chunk"))  # stable: a part's order kept
    patients = np.concatenate([p.patients for p in held])
    return Merged(index=merged_index(key, held), patients=patients,
                  vault_ids=table.column("id").take(order), rows=rows, chunks=chunks)


__all__ = ["MERGE_RANGES", "PART_FORMAT", "BatchIndex", "Columns", "Indexed", "LearnPart",
           "Merged",
           "Ranked", "check_cover", "index_columns",
           "learn_part", "merge_in_ranges", "merge_parts", "merge_ranked", "merged_index",
           "part_bytes", "part_from_bytes"]
