"""``TabularStream.batches(columns=...)``: the columns asked for, the values and types a
full read gives them, the whole schema from the first block."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities import datasets
from medpipe.activities.datasets import TabularStream


def _table(rows: int) -> pa.Table:
    return pa.table({"id": [f"{i:05d}" for i in range(rows)],
                     "note": [f"note {i}, ward {i % 7}" for i in range(rows)],
                     "x": [i * 0.25 for i in range(rows)],
                     "split": ["test" if i % 5 == 0 else "train" for i in range(rows)]})


def _bytes(table: pa.Table, fmt: str) -> bytes:
    sink = io.BytesIO()
    if fmt == "csv":
        pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, sink, row_group_size=5000)
    return sink.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_only_the_columns_asked_for(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "CSV_BLOCK", 64 << 10)  # several blocks
    data = _bytes(_table(20_000), fmt)
    chunks = [data[i:i + 10_000] for i in range(0, len(data), 10_000)]
    with TabularStream(iter(chunks), fmt, ["id"]) as full:
        everything = pa.Table.from_batches(list(full.batches()))
    with TabularStream(iter(chunks), fmt, ["id"]) as some:
        assert some.schema == everything.schema  # every column, typed as a full read
        batches = list(some.batches(columns=["x", "split", "absent"]))
    assert len(batches) > 1
    got = pa.Table.from_batches(batches)
    assert got.schema.names == ["x", "split"]
    assert got.equals(everything.select(["x", "split"]))
    assert [b.num_rows for b in batches] == [b.num_rows for b in everything.to_batches()]
