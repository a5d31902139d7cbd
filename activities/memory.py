"""Give freed memory back to the system: a worker's RSS follows its chunks, not its past.

A data stage allocates a few chunks' worth of memory at a time, but two allocators
keep what it freed: Arrow's default pool (mimalloc here) keeps freed pages in
the heap of the thread that allocated them (Arrow's reader threads included),
where ``release_unused`` from another thread does not reach; and glibc's
``malloc`` keeps freed blocks in one arena per activity thread. Measured on a
400k-row pseudonymize run (2 processes): the parent's RSS ended at 642 MiB, of
which 161 MiB came back only at ``release_unused`` and 136 MiB at ``malloc_trim``;
every later stage of the worker started from there.

``return_freed_memory`` (once per process: the worker, and each pool child)
switches Arrow to its jemalloc pool with purging at once (``decay_ms 0``), which
returns pages whatever thread freed them; ``release_freed`` (after each chunk
and at the end of each stage) hands glibc's free blocks back with
``malloc_trim``. Neither changes a byte of any output.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

import pyarrow as pa

log = logging.getLogger("medpipe.memory")


@cache
def _jemalloc_with_decay_0() -> None:
    """Switch this process's Arrow pool to jemalloc purging at once (first call only)."""
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
        pa.set_memory_pool(pool)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        log.info("pyarrow without jemalloc: Arrow's %s pool keeps freed pages",
                 pa.default_memory_pool().backend_name)


@cache
def _libc() -> ctypes.CDLL | None:
    """glibc, when this process runs on it (``malloc_trim`` is glibc's)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - a lookup: musl has no malloc_trim
    except (OSError, AttributeError):
        return None
    return libc


def return_freed_memory() -> str:
    """Make this process's Arrow pool purge freed pages at once (jemalloc, decay 0).

    Call before the process's data work starts; later calls do nothing. Returns the
    pool's backend (``mimalloc`` etc. when this pyarrow has no jemalloc: then
    ``release_freed`` still trims what it can).
    """
    _jemalloc_with_decay_0()
    return pa.default_memory_pool().backend_name


def release_freed() -> None:
    """Hand the pages freed so far back to the system (Arrow's pool, then glibc's arenas)."""
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


__all__ = ["release_freed", "return_freed_memory"]
