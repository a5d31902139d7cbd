"""Record batches handed between a pool's parent and its children in anonymous memory files.

Why: a chunk pickled into a process pool's pipe is copied by pickle, written through the
pipe 64 KiB at a time by the pool's feeder thread, read back into one ``bytes`` object and
unpickled, then the same again for the child's output. For the scrub pass's pieces (65k
rows of the bench table, 23 MB) a round trip cost 59-78 ms of the parent's CPU. Written
once as an Arrow IPC stream into a memory file it costs 16 ms, and the reader maps the file
and reads its columns without a copy.

Patient data stays in memory: ``memfd_create`` makes a file with no name in any
filesystem, whose pages are RAM like the processes' own, freed when its last descriptor and
mapping go, also when every process holding them is killed. Nothing is left on disk or in
``/dev/shm`` by a SIGKILLed worker (a named scratch file would outlive it).

The parent owns every file (``BatchFile``): it creates it, keeps its descriptor open until
the task that uses it has returned, then closes it. A child opens the parent's descriptor by
its path in ``/proc`` (``/proc/<pid>/fd/<n>``: a pool's children descend from the process
that started the pool and run as its user), to read a chunk or to write its output into a
file the parent created empty. Each file starts with a random tag its handle carries, so a
descriptor number that was closed and reused for another file (a task left behind by a
cancelled run) is refused rather than read.

Where the files cannot be used (no ``memfd_create`` or no ``/proc``: not Linux), a
``BatchFile`` holds a compact copy of its batch and its handle carries that copy, pickled
into the pipe as before (``available``); callers are the same either way.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

#: Bytes of the random tag at the start of each file.
TAG_BYTES = 16


@cache
def available() -> bool:
    """Whether batches go through memory files here (else they are pickled)."""
    return hasattr(os, "memfd_create") and os.path.isdir(f"/proc/{os.getpid()}/fd")


class StaleBatchFile(RuntimeError):
    """A handle whose file is gone or is another one now (its task outlived its run)."""


@dataclass(frozen=True)
class Handle:
    """What a child needs to reach a ``BatchFile``: the owner's process and descriptor and
    the file's tag, or (no memory files here) the batch itself."""

    pid: int
    fd: int
    tag: bytes
    inline: pa.RecordBatch | None = None

    def path(self) -> str:
        return f"/proc/{self.pid}/fd/{self.fd}"


class BatchFile:
    """One record batch's memory file, owned by the process that created it.

    ``BatchFile.of(batch)`` holds a batch for a child to read (``read_batch``);
    ``BatchFile()`` is an empty file a child writes its output into (``write_batch``),
    read here afterwards (``read``). ``close`` when the task has returned (the batches
    read from it stay valid: they keep their mapping).
    """

    def __init__(self) -> None:
        self._inline: pa.RecordBatch | None = None
        self._fd = -1
        self.tag = secrets.token_bytes(TAG_BYTES)
        if available():
            self._fd = os.memfd_create("medpipe-batch", os.MFD_CLOEXEC)

    @classmethod
    def of(cls, batch: pa.RecordBatch) -> BatchFile:
        """A file holding ``batch`` (only its rows: a slice's parent buffers stay out)."""
        out = cls()
        if out._fd < 0:
            out._inline = pa.concat_batches([batch])  # compact: a pickled slice would not be
        else:
            _write(f"/proc/self/fd/{out._fd}", out.tag, batch)
        return out

    @property
    def handle(self) -> Handle:
        return Handle(os.getpid(), self._fd, self.tag, self._inline)

    def read(self, reply: pa.RecordBatch | None = None) -> pa.RecordBatch:
        """The batch in this file, mapped (no copy); ``reply``: what ``write_batch``
        returned in the child, the batch itself where there are no memory files."""
        if reply is not None:
            return reply
        if self._inline is not None:
            return self._inline
        if self._fd < 0:
            raise StaleBatchFile("this batch file was closed")
        return _read(f"/proc/self/fd/{self._fd}", self.tag)

    def close(self) -> None:
        """Give the file up (idempotent); its memory goes with the last mapping."""
        self._inline = None
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> BatchFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_batch(handle: Handle) -> pa.RecordBatch:
    """The batch of a parent's ``BatchFile`` (in a child), mapped without a copy."""
    if handle.inline is not None:
        return handle.inline
    return _read(handle.path(), handle.tag)


def write_batch(handle: Handle, batch: pa.RecordBatch) -> pa.RecordBatch | None:
    """Write ``batch`` into a parent's empty ``BatchFile`` (in a child): what to return to
    the parent for its ``BatchFile.read`` (None, or the batch where there are no memory
    files)."""
    if handle.fd < 0:
        return pa.concat_batches([batch])
    _write(handle.path(), handle.tag, batch)
    return None


def _write(path: str, tag: bytes, batch: pa.RecordBatch) -> None:
    with pa.OSFile(path, "wb") as sink:
        sink.write(tag)
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)


def _read(path: str, tag: bytes) -> pa.RecordBatch:
    try:
        source = pa.memory_map(path)
    except OSError as e:
        raise StaleBatchFile(f"batch file {path} cannot be opened: {e.strerror or e}") from e
    with source:
        if source.size() < TAG_BYTES or source.read(TAG_BYTES) != tag:
            raise StaleBatchFile(f"batch file {path} is not the one this task was given")
        return pa.ipc.open_stream(source).read_next_batch()


__all__ = ["BatchFile", "Handle", "StaleBatchFile", "available", "read_batch", "write_batch"]
