"""Batches between a pool's parent and its children in anonymous memory files
(``activities.memfile``): what goes in comes out, through a real forkserver child; a stale
handle is refused, never read; the files live in no filesystem and close with their owner."""

from __future__ import annotations

import fcntl
import os
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from medpipe.activities import memfile
from medpipe.activities.memfile import BatchFile, StaleBatchFile, read_batch, write_batch
from medpipe.activities.procpool import pool_context
from tests.memfiles import batch_files

pytestmark = pytest.mark.skipif(not memfile.available(), reason="no memfd or /proc here")


def notes(n: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "row": pa.array(range(n), pa.int64()),
        "note": pa.array([None if i % 7 == 0 else f"seen by Dr. Ruiz on visit {i}"
                          for i in range(n)], pa.string()),
    })


def child_doubles_rows(inbox: memfile.Handle, outbox: memfile.Handle) -> object:
    """What a pool child does: read the parent's batch, write its output back."""
    batch = read_batch(inbox)
    out = pa.RecordBatch.from_arrays(
        [pc.multiply(batch.column("row"), 2), pc.utf8_upper(batch.column("note"))],
        names=["row", "note"])
    return write_batch(outbox, out)


def test_a_slice_goes_to_a_child_and_its_output_comes_back() -> None:
    whole = notes(5000)
    piece = whole.slice(1234, 2000)  # a slice: only its rows travel, offsets rebased
    before = len(batch_files())
    with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
        inbox, outbox = BatchFile.of(piece), BatchFile()
        reply = pool.submit(child_doubles_rows, inbox.handle, outbox.handle).result()
        got = outbox.read(reply)
        inbox.close()
        outbox.close()
    assert reply is None  # the output came through the file, not the pipe
    assert got.num_rows == 2000
    assert got.column("row").to_pylist() == [2 * i for i in range(1234, 3234)]
    assert got.column("note").to_pylist() == [
        None if i % 7 == 0 else f"SEEN BY DR. RUIZ ON VISIT {i}" for i in range(1234, 3234)]
    assert len(batch_files()) == before  # both closed; the batch read keeps its mapping


def test_the_files_are_in_memory_only_and_close_once() -> None:
    f = BatchFile.of(notes(10))
    [link] = [os.readlink(f"/proc/self/fd/{f.handle.fd}")]
    assert link.startswith("/memfd:medpipe-batch")  # no path in any filesystem
    # not inherited by the processes a worker starts (converters, servers)
    assert fcntl.fcntl(f.handle.fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    assert f.read().equals(notes(10))
    f.close()
    f.close()
    with pytest.raises(StaleBatchFile, match="closed"):
        f.read()


def test_a_handle_whose_descriptor_was_reused_is_refused() -> None:
    """A task that outlived its run (its file closed, the descriptor number given to
    another file) must not read the other file's rows."""
    first = BatchFile.of(notes(10))
    stale = first.handle
    first.close()
    other = BatchFile.of(notes(20))
    try:
        assert other.handle.fd == stale.fd  # the lowest free descriptor, reused
        with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
            with pytest.raises(StaleBatchFile, match="not the one this task was given"):
                pool.submit(read_batch, stale).result()
    finally:
        other.close()
    with pytest.raises(StaleBatchFile, match="cannot be opened"):
        read_batch(stale)  # closed and not reused: gone


def test_without_memory_files_the_batch_travels_in_the_handle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memfile, "available", lambda: False)
    piece = notes(100).slice(10, 50)
    inbox, outbox = BatchFile.of(piece), BatchFile()
    assert inbox.handle.fd < 0 and inbox.handle.inline is not None
    assert inbox.handle.inline.column(0).offset == 0  # compact: not its parent's buffers
    with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
        reply = pool.submit(child_doubles_rows, inbox.handle, outbox.handle).result()
    assert reply is not None
    assert outbox.read(reply).column("row").to_pylist() == [2 * i for i in range(10, 60)]
