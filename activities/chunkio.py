"""Chunked I/O: a read-only file object over byte chunks, and a file's streamed digest.

Readers that want a file (pyarrow's CSV/Parquet readers) consume streamed,
decrypted content through ``ChunkReader``, so no stage needs the plaintext on disk.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def head_bytes(chunks: Iterable[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first chunks of ``chunks`` joined, up to more than ``size`` bytes (or all of
    them), and the rest (a reader's first block, held once, then the stream as it comes)."""
    it = iter(chunks)
    head: list[bytes] = []
    held = 0
    for chunk in it:
        head.append(chunk)
        held += len(chunk)
        if held > size:
            break
    return b"".join(head), it


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a local file, read 1 MiB at a time (models can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ChunkReader(io.RawIOBase):
    """``readinto`` over ``chunks``, without copying a chunk more than once."""

    def __init__(self, chunks: Iterable[bytes | memoryview]) -> None:
        self._chunks = iter(chunks)
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not len(self._buf):
            try:
                self._buf = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
