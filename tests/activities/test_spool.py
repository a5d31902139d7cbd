"""The sealed spool: random access over streamed plaintext that never reaches the disk in clear."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.exceptions import InvalidTag

from medpipe.activities.spool import BLOCK, SealedSpool


def test_random_access_reads_match_and_disk_holds_no_plaintext(tmp_path: Path) -> None:
    data = os.urandom(10) + b"PATIENT-Ada-Okafor" * 200_000 + os.urandom(7)
    chunks = (data[i:i + 65_537] for i in range(0, len(data), 65_537))
    with SealedSpool(chunks, directory=str(tmp_path)) as s:
        assert s.size == len(data)
        for pos, n in [(0, 10), (BLOCK - 5, 20), (len(data) - 30, 100), (3 * BLOCK + 1, BLOCK)]:
            s.seek(pos)
            assert s.read(n) == data[pos:pos + n]
        s.seek(-4, io.SEEK_END)
        assert s.read() == data[-4:]
        raw = s._file
        raw.seek(0)
        assert b"Ada-Okafor" not in raw.read()


def test_a_tampered_block_fails_to_read(tmp_path: Path) -> None:
    with SealedSpool([b"x" * (BLOCK + 10)], directory=str(tmp_path)) as s:
        s._file.seek(5)
        s._file.write(b"\x00")
        s._cached = None
        with pytest.raises(InvalidTag):
            s.read(10)


def test_parquet_reads_through_the_spool(tmp_path: Path) -> None:
    table = pa.table({"a": list(range(200_000)), "b": [str(i) for i in range(200_000)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=50_000)
    data = sink.getvalue()
    with SealedSpool([data[i:i + 4096] for i in range(0, len(data), 4096)]) as s:
        assert pq.ParquetFile(s).read().equals(table)
