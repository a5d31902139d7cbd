"""A random-access spool for streamed plaintext, sealed under a key that lives only in memory.

Parquet keeps its footer at the end, so a Parquet *stream* cannot be read
batch by batch as it arrives. Rather than holding the whole file in memory
(memory growing with the dataset) or writing patient data to disk in clear,
the decrypted stream is spooled to an anonymous temporary file in 1 MiB
blocks, each AES-256-GCM-sealed under a fresh per-spool key and its block
index; reads decrypt only the blocks they touch. The file disappears when
closed, and without the key (never written anywhere) its content is noise.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOCK = 1 << 20
TAG = 16


class SealedSpool(io.RawIOBase):
    """A seekable, read-only file over ``chunks`` spooled sealed to a temporary file."""

    def __init__(self, chunks: Iterable[bytes], directory: str | None = None) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed in close()
        self._size = 0
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None
        pending = bytearray()
        index = 0
        for chunk in chunks:
            pending += chunk
            while len(pending) >= BLOCK:
                self._seal(index, bytes(pending[:BLOCK]))
                del pending[:BLOCK]
                index += 1
        if pending:
            self._seal(index, bytes(pending))

    def _seal(self, index: int, block: bytes) -> None:
        self._file.write(self._aead.encrypt(index.to_bytes(12, "big"), block, None))
        self._size += len(block)

    def _block(self, index: int) -> bytes:
        if self._cached and self._cached[0] == index:
            return self._cached[1]
        self._file.seek(index * (BLOCK + TAG))
        sealed = self._file.read(BLOCK + TAG)
        plain = self._aead.decrypt(index.to_bytes(12, "big"), sealed, None)
        self._cached = (index, plain)
        return plain

    @property
    def size(self) -> int:
        """Clear bytes spooled."""
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            index, offset = divmod(self._pos, BLOCK)
            block = self._block(index)
            n = min(len(view) - done, len(block) - offset)
            view[done:done + n] = block[offset:offset + n]
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._cached = None
        super().close()
