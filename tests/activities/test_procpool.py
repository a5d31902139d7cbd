"""How the data stages' pools cut a batch into chunks (``procpool.even_slices``)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from medpipe.activities.procpool import even_slices


def batch(rows: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"n": list(range(rows))})


@pytest.mark.parametrize(("rows", "limit", "processes", "sizes"), [
    (100_000, 65_536, 2, [50_000, 50_000]),  # not 65,536 + 34,464: one child idle half the time
    (250_000, 65_536, 2, [62_500] * 4),
    (100_000, 65_536, 3, [33_333, 33_333, 33_334]),
    (60_000, 65_536, 2, [60_000]),  # fits one chunk: one slice (no pool for it)
    (7, 3, 2, [1, 2, 2, 2]),
    (1, 1, 4, [1]),
    (0, 10, 2, [0]),
])
def test_equal_slices_a_multiple_of_the_processes(rows: int, limit: int, processes: int,
                                                  sizes: list[int]) -> None:
    b = batch(rows)
    got = even_slices(b, limit, processes)
    assert [s.num_rows for s in got] == sizes
    assert [v for s in got for v in s.column(0).to_pylist()] == list(range(rows))  # in order
