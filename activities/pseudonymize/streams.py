"""Byte streams in and out: chunked readers for CSV, Parquet, NDJSON and Bundles.

Input arrives as an iterator of byte chunks (decrypted on the fly by the
caller) and output leaves the same way, so no plaintext touches the disk.
CSV and NDJSON stream in constant memory; Parquet needs its footer, so a
Parquet *stream* is buffered in memory (a Parquet *file* is read by row
groups); a Bundle is one JSON document and is read whole.

Errors name the source, the line or row, and the column; never a value.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from medpipe.activities.chunkio import head_bytes
from medpipe.activities.csvblocks import CsvBlocks
from medpipe.contracts.errors import InvalidInput

CHUNK_ROWS = 131_072
#: Bytes of the CSV's first block, whose rows set the types of the columns not read as
#: text (``csvblocks``: the rest is parsed in smaller blocks, with those types).
CSV_BLOCK = 8 << 20

#: Called with a table's column names before any row is converted; returns the columns
#: to convert (all of them if none), or raises (a table the caller refuses).
Select = Callable[[list[str]], list[str]]


class Utf8Checked:
    """Passes byte chunks through, refusing invalid UTF-8 with its line number."""

    def __init__(self, chunks: Iterable[bytes], source: str) -> None:
        self._chunks = iter(chunks)
        self._source = source
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.lines = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if not chunk:
                continue
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError as e:
                line = self.lines + chunk[:e.start].count(b"\n") + 1
                raise InvalidInput(f"{self._source}, line {line}: not UTF-8 text "
                                   "(re-encode the file as UTF-8)") from None
            self.lines += chunk.count(b"\n")
            yield chunk
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(f"{self._source}, line {self.lines + 1}: not UTF-8 text "
                               "(truncated character at the end)") from None


class Drain:
    """A write-only sink whose bytes are taken out as they come (streamed output)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        b = bytes(data)
        self._parts.append(b)
        return len(b)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts = []
        return out


_CSV_COLUMN = re.compile(r"In CSV column #(\d+)")
_CSV_COUNTS = re.compile(r"Expected (\d+) columns, got (\d+)")


def _csv_error(e: pa.ArrowInvalid, source: str, names: list[str], rows_done: int) -> InvalidInput:
    """A CSV error without the offending value (Arrow quotes it)."""
    msg = str(e)
    where = f"{source}, after data row {rows_done}"
    m = _CSV_COLUMN.search(msg)
    if m:
        i = int(m.group(1))
        col = names[i] if i < len(names) else f"#{i}"
        kind = "invalid UTF-8" if "UTF8" in msg else "a value of another type than the " \
            "rows before"
        return InvalidInput(f"{where}, column {col!r}: {kind}")
    m = _CSV_COUNTS.search(msg)
    if m:
        return InvalidInput(f"{where}: malformed CSV row ({m.group(2)} fields where the header "
                            f"has {m.group(1)})")
    return InvalidInput(f"{where}: malformed CSV ({msg.split(':')[0][:80]})")


def csv_batches(chunks: Iterable[bytes], source: str, text_columns: list[str],
                rows: int = CHUNK_ROWS, select: Select | None = None
                ) -> Iterator[pa.RecordBatch]:
    """Record batches of about ``rows`` rows from CSV bytes (UTF-8, header row).

    With ``select``, only the columns it picks are converted: every byte is still
    checked as UTF-8 and parsed (so the batches hold the same rows, and a malformed
    row is refused), but a column nobody reads costs no conversion; a value of an
    unread column that does not match the column's type is then not seen here.
    """
    checked = iter(Utf8Checked(chunks, source))
    names: list[str] = []
    done = 0
    try:
        include: list[str] = []
        if select is not None:
            names, checked = _csv_names(checked)
            include = select(names)
        reader = CsvBlocks(checked, CSV_BLOCK,
                           column_types=dict.fromkeys(text_columns, pa.string()),
                           strings_can_be_null=True, include_columns=include)
        names = names or reader.schema.names
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            if count >= rows:
                yield from _merged(pending)
                done += count
                pending, count = [], 0
        if pending:
            yield from _merged(pending)
    except pa.ArrowInvalid as e:
        if str(e).startswith("Empty CSV file"):
            raise InvalidInput(f"{source}: empty CSV file (no header row)") from None
        raise _csv_error(e, source, names, done) from None


def _csv_names(chunks: Iterator[bytes]) -> tuple[list[str], Iterator[bytes]]:
    """The CSV's column names as ``csv_batches``' reader reads them (Arrow reads the
    header in the first block: only that block is held and parsed twice), and the same
    bytes, whole.

    Raises:
        pa.ArrowInvalid: as the reader would, on the first block.
    """
    first, rest = head_bytes(chunks, CSV_BLOCK)
    names = pacsv.open_csv(io.BytesIO(first),
                           read_options=pacsv.ReadOptions(block_size=CSV_BLOCK)).schema.names
    return names, itertools.chain([first], rest)


def sized_batches(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """The same rows in batches of exactly ``rows`` (the last one shorter).

    CSV blocks hold as many rows as fit in the read block; chunks of a fixed row
    count keep the unit of work (and of parallelism) the same whatever the row width.
    """
    carry: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        carry.append(batch)
        held += batch.num_rows
        if held < rows:
            continue
        merged = _merged(carry)
        table = pa.Table.from_batches(merged)
        done = 0
        while held - done >= rows:
            yield from table.slice(done, rows).combine_chunks().to_batches()
            done += rows
        carry = table.slice(done).combine_chunks().to_batches() if held > done else []
        held -= done
    if held:
        yield from _merged(carry)


def _merged(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    return pa.Table.from_batches(batches).combine_chunks().to_batches()


def parquet_batches(src: Any, source: str, rows: int = CHUNK_ROWS,
                    select: Select | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches from a Parquet file path/file object (with ``select``: of the
    columns it picks only, the others not even decoded)."""
    try:
        pf = pq.ParquetFile(src)
        columns = select(pf.schema_arrow.names) if select is not None else None
        yield from pf.iter_batches(batch_size=rows, columns=columns or None)
    except (pa.ArrowInvalid, OSError) as e:
        raise InvalidInput(f"{source}: not a readable Parquet file "
                           f"({type(e).__name__})") from None


def parquet_stream_batches(chunks: Iterable[bytes], source: str, rows: int = CHUNK_ROWS,
                           select: Select | None = None) -> Iterator[pa.RecordBatch]:
    """Parquet from byte chunks (buffered in memory: the footer comes last)."""
    data = b"".join(chunks)
    yield from parquet_batches(pa.BufferReader(data), source, rows, select)


def ndjson_lines(chunks: Iterable[bytes], source: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) for each non-blank line."""
    for line_no, _, doc in ndjson_records(chunks, source):
        yield line_no, doc


def ndjson_records(chunks: Iterable[bytes], source: str) -> Iterator[tuple[int, int, Any]]:
    """(line number, the line's size in bytes, parsed JSON) for each non-blank line."""
    tail = b""
    line_no = 0
    for chunk in chunks:
        data = tail + chunk
        lines = data.split(b"\n")
        tail = lines.pop()
        for raw in lines:
            line_no += 1
            if raw.strip():
                yield line_no, len(raw), _json_line(raw, source, line_no)
    if tail.strip():
        yield line_no + 1, len(tail), _json_line(tail, source, line_no + 1)


def _json_line(raw: bytes, source: str, line: int) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{source}, line {line}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{source}, line {line}: not JSON ({e.msg} at column "
                           f"{e.colno})") from None


def json_document(chunks: Iterable[bytes], source: str) -> Any:
    """One JSON document (a Bundle)."""
    raw = b"".join(chunks)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise InvalidInput(f"{source}, line {line}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{source}, line {e.lineno}: not JSON ({e.msg} at column "
                           f"{e.colno})") from None


def dump_json(doc: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
