"""The pieces of a fanned-out pseudonymize run that are not activities.

A shard must write exactly the bytes the one-activity run writes for its
chunks. So it reads the dataset the way that run does (``dataset_batches``:
the same chunking, and the same column types, since it starts at the top of
the file), scrubs with the dataset-wide identifier index of the learn pass
(``index_to_bytes`` / ``index_from_bytes``), and looks tokens up in the vault
as the learn pass left it (``FrozenVault``: it can never mint one, so two
shards can never give one patient two tokens). Its output is an Arrow IPC
stream of its pseudonymized chunks (``ipc_bytes`` / ``ipc_batches``); the
merge feeds them, in order, to the one writer both paths share.
"""

from __future__ import annotations

import io
import json
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from medpipe.activities.chunkio import ChunkReader
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.deid.keytable import DigestTable
from medpipe.activities.pseudonymize import streams
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tabular import string_columns
from medpipe.activities.pseudonymize.tokens import Vault
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.fanout import FieldCount, ShardCounts
from medpipe.contracts.pseudonymize import Action, Policy

INDEX_FORMAT = "medpipe-key-index/2"
_INDEX_MAGIC = b"MPKI2"


def dataset_batches(chunks: Iterable[bytes], fmt: str, policy: Policy, source: str,
                    chunk_rows: int, select: streams.Select | None = None,
                    learned: Callable[[int, pa.RecordBatch], None] | None = None
                    ) -> Iterator[pa.RecordBatch]:
    """The dataset's chunks exactly as the one-activity run cuts them (with ``select``:
    of the columns it picks, ``streams.csv_batches``).

    ``learned`` is given each batch the one-activity run's learn pass indexes
    (``Pseudonymizer.learn``: CSV blocks gathered to ``chunk_rows`` rows, Parquet's
    chunks themselves), numbered, before it is cut into chunks.
    """
    if fmt == "csv":
        return streams.sized_batches(_tapped(streams.csv_batches(
            chunks, source, string_columns(policy), chunk_rows, select), learned), chunk_rows)
    if fmt == "parquet":
        return _tapped(streams.parquet_stream_batches(chunks, source, chunk_rows, select),
                       learned)
    raise InvalidInput(f"{source}: a {fmt} dataset does not fan out (CSV and Parquet do)")


def _tapped(batches: Iterable[pa.RecordBatch],
            learned: Callable[[int, pa.RecordBatch], None] | None) -> Iterator[pa.RecordBatch]:
    for k, batch in enumerate(batches):
        if learned is not None:
            learned(k, batch)
        yield batch


def select_chunks(batches: Iterable[pa.RecordBatch], first: int,
                  count: int) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(first data row, chunk) of chunks ``first`` .. ``first + count - 1``; stops reading
    after the last one.

    Raises:
        InvalidInput: the dataset has fewer chunks than the shard was given.
    """
    row0 = 0
    seen = 0
    for i, batch in enumerate(batches):
        if i >= first + count:
            return
        if i >= first:
            seen += 1
            yield row0, batch
        row0 += batch.num_rows
    if seen < count:
        raise InvalidInput(f"the dataset has fewer chunks than shard range {first}+{count} "
                           "(it changed since the learn pass?)")


class FrozenVault(Vault):
    """The vault as the learn pass left it: tokens are looked up, never minted.

    Every token of the dataset was assigned in the learn pass, in row order,
    and committed with a conditional write; a shard that met an identifier
    without one would mint a second token for it on another worker, so it
    fails instead.
    """

    def __init__(self, load: Callable[[], bytes | None]) -> None:
        super().__init__(load, self._refuse_save)

    def token(self, value: str) -> str:
        raise IntegrityError("an identifier of this shard has no token in the vault the "
                             "learn pass committed (the vault was changed or rolled back)")

    def tokens(self, values: Sequence[str]) -> list[str]:
        pos, _ = self._map.token_positions(values)
        if (pos < 0).any():
            self.token(values[int((pos < 0).argmax())])
        return self._map.tokens_at(pos)

    @staticmethod
    def _refuse_save(_data: bytes) -> None:
        raise IntegrityError("a shard never writes the vault")


def index_parts(index: KeyIndex) -> Iterator[bytes]:
    """The identifier index, serialized, piece by piece (one array at a time in memory):
    keyed digests and placeholder codes only (no identifier, no key: a shard gets the
    key from the wrapped header beside it, a pool child from its parent)."""
    keys, prefixes = index.tables()
    khi, klo, kcode = keys.arrays()
    phi, plo, _ = prefixes.arrays()
    head = json.dumps({"format": INDEX_FORMAT, "width": index.width, "keys": len(khi),
                       "prefixes": len(phi)}).encode()
    yield _INDEX_MAGIC + struct.pack(">I", len(head)) + head
    for arr, dtype in ((khi, "<u8"), (klo, "<u8"), (kcode, np.uint8), (phi, "<u8"),
                       (plo, "<u8")):
        yield arr.astype(dtype, copy=False).tobytes()


def index_to_bytes(index: KeyIndex) -> bytes:
    """``index_parts`` joined."""
    return b"".join(index_parts(index))


def index_from_bytes(blob: bytes | memoryview, key: bytes) -> KeyIndex:
    """The index a learn pass stored (digested under ``key``), without copying its arrays.

    Raises:
        IntegrityError: not a serialized index (the sealed object's tag verified,
            so this is a version mismatch, not tampering).
    """
    try:
        buf = memoryview(blob)
        if bytes(buf[:5]) != _INDEX_MAGIC:
            raise ValueError("unknown format")
        (size,) = struct.unpack(">I", buf[5:9])
        doc = json.loads(bytes(buf[9:9 + size]))
        if doc.get("format") != INDEX_FORMAT:
            raise ValueError("unknown format")
        n, m, width = int(doc["keys"]), int(doc["prefixes"]), int(doc["width"])
        at = 9 + size
        if len(buf) != at + 17 * n + 16 * m:
            raise ValueError("truncated")

        def u8(count: int) -> np.ndarray:
            nonlocal at
            out = np.frombuffer(buf[at:at + 8 * count], dtype="<u8").astype(np.uint64,
                                                                              copy=False)
            at += 8 * count
            return out

        khi, klo = u8(n), u8(n)
        kcode = np.frombuffer(buf[at:at + n], dtype=np.uint8)
        at += n
        phi, plo = u8(m), u8(m)
    except (ValueError, KeyError, TypeError, AttributeError, struct.error) as e:
        raise IntegrityError(f"the identifier index is not a {INDEX_FORMAT} document "
                             f"({type(e).__name__})") from None
    return KeyIndex.from_tables(key, width, DigestTable.from_arrays(khi, klo, kcode),
                                DigestTable.from_arrays(phi, plo, np.zeros(m, np.uint8)))


def ipc_bytes(batches: Iterable[pa.RecordBatch], source: str) -> Iterator[bytes]:
    """An Arrow IPC stream of ``batches`` (cast to the first one's schema), chunk by chunk.

    Raises:
        InvalidInput: column types changed between chunks (as the writer says it).
    """
    sink = streams.Drain()
    writer: pa.ipc.RecordBatchStreamWriter | None = None
    schema: pa.Schema | None = None
    for out in batches:
        if writer is None:
            schema = out.schema
            writer = pa.ipc.new_stream(sink, schema,
                                       options=pa.ipc.IpcWriteOptions(compression="lz4"))
        elif out.schema != schema:
            assert schema is not None
            try:
                out = out.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InvalidInput(f"{source}: column types changed between chunks") from None
        writer.write_batch(out)
        if data := sink.take():
            yield data
    if writer is not None:
        writer.close()
    if data := sink.take():
        yield data


def ipc_batches(chunks: Iterable[bytes], where: str) -> Iterator[pa.RecordBatch]:
    """The record batches of an Arrow IPC stream read from byte chunks.

    Raises:
        IntegrityError: ``where`` does not hold an Arrow stream (not a shard output).
    """
    try:
        reader = pa.ipc.open_stream(io.BufferedReader(ChunkReader(chunks), 1 << 20))
        yield from reader
    except pa.ArrowInvalid:
        raise IntegrityError(f"{where} is not a shard output (Arrow IPC stream)") from None


def shard_counts(state: RunState) -> ShardCounts:
    """What the merge adds to the report for one shard (counts only, first-seen order)."""
    return ShardCounts(
        records=state.records,
        fields=tuple(FieldCount(field=n, action=a, values=state.values[n],
                                changed=state.changed[n]) for n, a in state.actions.items()),
        placeholders=dict(state.placeholders))


def merge_counts(state: RunState, counts: Iterable[ShardCounts]) -> None:
    """Add each shard's counts to ``state``, in shard order (the report's column order
    is then the first chunk's, as in the one-activity run)."""
    for c in counts:
        for f in c.fields:
            state.count(f.field, Action(f.action), f.values, f.changed)
        state.placeholders.update(Counter(c.placeholders))
        state.records += c.records


__all__ = [
    "FrozenVault",
    "dataset_batches",
    "index_from_bytes",
    "index_parts",
    "index_to_bytes",
    "ipc_batches",
    "ipc_bytes",
    "merge_counts",
    "select_chunks",
    "shard_counts",
]
