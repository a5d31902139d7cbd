"""Stream wrappers: heartbeat with progress, and bandwidth limiting.

Long activities heartbeat so that a dead worker is noticed within the
heartbeat timeout (and the step moves elsewhere); the heartbeat detail says
how far it got, which the UI shows as pending-activity progress.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from temporalio import activity


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
