"""Stream wrappers: heartbeat with progress, and bandwidth limiting.

Long activities heartbeat so that a dead worker is noticed within the
heartbeat timeout (and the step moves elsewhere); the heartbeat detail says
how far it got, which the UI shows as pending-activity progress.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from temporalio import activity

F = TypeVar("F", bound=Callable[..., Any])


def heartbeat(detail: str) -> None:
    """Heartbeat if running inside an activity (no-op elsewhere, e.g. the CLI)."""
    if activity.in_activity():
        activity.heartbeat(detail)


def heartbeating(chunks: Iterable[bytes], label: str) -> Iterator[bytes]:
    """Yield ``chunks`` unchanged, heartbeating the bytes done so far."""
    done = 0
    heartbeat(f"{label}: starting")
    for chunk in chunks:
        done += len(chunk)
        yield chunk
        heartbeat(f"{label}: {done} bytes")


def throttled(chunks: Iterable[bytes], bytes_per_s: float | None) -> Iterator[bytes]:
    """Yield ``chunks`` no faster than ``bytes_per_s`` (None: unthrottled).

    Large chunks are split so that pacing (and heartbeats downstream) stay smooth.
    """
    if not bytes_per_s:
        yield from chunks
        return
    piece = max(1024, int(bytes_per_s / 10))
    start = time.monotonic()
    sent = 0
    for chunk in chunks:
        view = memoryview(chunk)
        for off in range(0, len(view), piece):
            part = view[off:off + piece]
            sent += len(part)
            ahead = sent / bytes_per_s - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
            yield bytes(part)


@contextlib.contextmanager
def kept_alive(label: str) -> Iterator[None]:
    """Heartbeat from a helper thread while the block runs.

    A storage or key-service call that blocks (a provider that stopped
    answering mid-request) produces no chunks, hence no heartbeats: without
    this the workflow would take a live worker for a dead one, while the
    call's own timeout is what should end it — as ``ProviderUnavailable`` /
    ``InputUnavailable``, which moves the step to another cloud. A worker
    that really dies takes this thread with it, so its death is still seen.
    """
    if not activity.in_activity():
        yield
        return
    timeout = activity.info().heartbeat_timeout
    interval = max(0.2, min(5.0, timeout.total_seconds() / 3)) if timeout else 5.0
    stop = threading.Event()
    context = contextvars.copy_context()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                context.run(activity.heartbeat, f"{label}: working")
            except RuntimeError:  # the activity has completed meanwhile
                return

    thread = threading.Thread(target=beat, name=f"heartbeat-{label}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1.0)


def keeps_alive(label: str) -> Callable[[F], F]:
    """Decorator form of ``kept_alive`` for a whole activity."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with kept_alive(label):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
