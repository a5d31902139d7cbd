"""Arrow's CSV reader with the column types of a large first block and the CPU of small blocks.

Arrow's streaming CSV reader infers the types of the columns it is not told from its
first block alone, and every later block must fit them. The stages read with large
blocks (pseudonymize 8 MiB, validate 16, evaluate 4) so that a kept column whose first
float or text comes after a few thousand rows is still read; but Arrow parses a large
block with more CPU per byte than a small one (its working set leaves the core's cache).

``CsvBlocks`` reads the first block exactly as a reader of ``first_block`` bytes would:
Arrow cuts a block after its last line break (``newlines_in_values`` is off), so the
first block's rows are those up to the last line break within the first ``first_block``
bytes. Those rows are parsed alone (their own reader: the same types, inferred from the
same rows), and the rest of the file, after the same header, in blocks of
``PARSE_BLOCK`` with every column's type pinned to what the first block inferred: the
same schema, rows and values as one reader of ``first_block`` blocks, and the same
refusal of a later value that does not fit its column's type.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

from medpipe.activities.chunkio import ChunkReader, head_bytes

#: Bytes Arrow parses at a time after the first block.
PARSE_BLOCK = 1 << 20


def open_csv_stream(raw: ChunkReader, block: int, column_types: dict[str, pa.DataType],
                    include_columns: Sequence[str] = (), *,
                    strings_can_be_null: bool = False) -> pacsv.CSVStreamingReader:
    """Arrow's streaming CSV reader over ``raw`` in blocks of ``block`` bytes (the stages'
    one way to open a CSV: a 1 MiB buffer over the chunks, the given types and columns)."""
    return pacsv.open_csv(io.BufferedReader(raw, 1 << 20),
                          read_options=pacsv.ReadOptions(block_size=block),
                          convert_options=pacsv.ConvertOptions(
                              column_types=column_types,
                              strings_can_be_null=strings_can_be_null,
                              include_columns=list(include_columns)))


def _line_end(data: bytes, end: int) -> int:
    """The offset after the last line break (``\\n`` or ``\\r``) in ``data[:end]`` (0: none),
    where Arrow's reader cuts a block of ``end`` bytes."""
    return max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end)) + 1


def _header_end(data: bytes) -> int:
    """The offset after the header line (0: no line break, or one inside quotes)."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    if not ends or data.count(b'"', 0, min(ends)) % 2:
        return 0
    return min(ends) + 1


class CsvBlocks:
    """The schema and record batches of a CSV read from byte chunks (``schema``, iterate).

    Args:
        chunks: the CSV's bytes (UTF-8, a header row).
        first_block: bytes of the block whose rows set the inferred column types.
        column_types: columns read with a given type (the others are inferred).
        strings_can_be_null, include_columns: as ``pyarrow.csv.ConvertOptions``.

    Raises:
        pa.ArrowInvalid: as ``pyarrow.csv.open_csv`` (empty file, malformed first block).
    """

    def __init__(self, chunks: Iterable[bytes], first_block: int, *,
                 column_types: dict[str, pa.DataType] | None = None,
                 strings_can_be_null: bool = False,
                 include_columns: Sequence[str] = ()) -> None:
        self._nulls = strings_can_be_null
        self._include = list(include_columns)
        first, it = head_bytes(chunks, first_block)
        cut = _line_end(first, first_block) if len(first) > first_block else 0
        header = _header_end(first) if cut else 0
        if not header:
            cut = 0
        self._rest: Iterator[bytes | memoryview] | None = None
        if cut <= header:  # one block in all, or no row after the header in it: one reader
            source = itertools.chain([first], it)
            self._first = self._open(ChunkReader(source), first_block, column_types)
            return
        whole = memoryview(first)  # slices, not copies
        self._first = self._open(ChunkReader([whole[:cut]]), first_block, column_types)
        self._rest = itertools.chain([whole[:header], whole[cut:]], it)

    def _open(self, raw: ChunkReader, block: int,
              column_types: dict[str, pa.DataType] | None) -> pacsv.CSVStreamingReader:
        return open_csv_stream(raw, block, column_types or {}, self._include,
                               strings_can_be_null=self._nulls)

    @property
    def schema(self) -> pa.Schema:
        """The columns and types (the first block's)."""
        return self._first.schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        yield from self._first
        if self._rest is None:
            return
        rest, self._rest = self._rest, None
        pinned = {f.name: f.type for f in self.schema}
        yield from self._open(ChunkReader(rest), PARSE_BLOCK, pinned)
