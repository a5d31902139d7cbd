"""What the data stages' process pools share: the start method, the in-flight bound and
the child's watch on its parent.

Pools of chunks (pseudonymize's scrub pass, validate's residual check,
evaluate's inference) all follow one pattern: ``forkserver`` children (a Temporal
worker runs threads, so never ``fork`` it), at most ``IN_FLIGHT_PER_PROCESS``
chunks per child in flight, results merged in input order, and children that
end when their parent dies.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading

from medpipe.activities.memory import return_freed_memory

#: Chunks in flight per child process (one being processed, one queued).
IN_FLIGHT_PER_PROCESS = 2

#: Modules the fork server imports once, so each child starts with them loaded.
PRELOAD = ["medpipe.activities.pseudonymize.parallel", "medpipe.activities.residual_pool"]


def watch_parent() -> None:
    """End this child when the process that started it dies (a SIGKILLed worker must not
    leave pool processes behind, blocked forever on their task queue)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="medpipe-parent-watch", daemon=True).start()


def start_child() -> None:
    """What every pool child's initializer does first: end with its parent
    (``watch_parent``) and give freed memory back as it goes
    (``activities.memory.return_freed_memory``)."""
    watch_parent()
    return_freed_memory()


def pool_context() -> multiprocessing.context.BaseContext:
    """``forkserver``, with ``PRELOAD`` when this is the first pool of the process."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx
