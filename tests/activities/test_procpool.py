"""How the data stages' pools cut a batch into chunks (``procpool.even_slices``), and how a
worker starts their fork server ahead of its first stage (``procpool.start_fork_server``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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


_EARLY = textwrap.dedent("""
    import sys, time
    from multiprocessing import forkserver
    from concurrent.futures import ProcessPoolExecutor
    from medpipe.activities.procpool import PRELOAD, pool_context, start_fork_server
    start_fork_server()
    server = forkserver._forkserver
    pid = server._forkserver_pid
    assert pid is not None, "no fork server started"
    assert server._preload_modules == PRELOAD, server._preload_modules
    with ProcessPoolExecutor(2, mp_context=pool_context()) as pool:
        assert sorted(pool.map(abs, [-1, -2])) == [1, 2]
    assert server._forkserver_pid == pid, "the pool started another fork server"
    print("ok")
""")


def test_a_fork_server_started_early_serves_the_first_pool() -> None:
    """A worker starts its fork server (with the stages' preloads) before any stage: the
    first pool is served by that one server, not by one started in the stage."""
    out = subprocess.run([sys.executable, "-c", _EARLY], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
