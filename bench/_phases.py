"""Exclusive wall time per phase of one thread's run, from wrapped functions and iterators.

A stage is a chain of generators (read → decrypt → parse → process → write →
encrypt → store) pulled by its last link, so timing each call from start to
end would count the same second in every link. ``Phases`` keeps a stack of the
labels entered instead: each second goes to the label on top, so a parse that
pulls decrypted bytes is charged its parsing only, and the phases add up to
the wall time of the run (``other``: time no wrapped code was running).

Used by ``bench/stagecost.py``; wrappers are installed on module attributes
for the duration of a ``with Phases.patched(...)`` block and removed after.
On a shared machine the thread's CPU clock (``time.thread_time``) says what
each phase costs whatever the other processes do to the wall clock.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

OTHER = "other"


class Phases:
    """Exclusive seconds per label for the calling thread's nested phases."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        """Args:
        clock: what a second is: wall (``time.perf_counter``, the default) or the
            calling thread's CPU (``time.thread_time``).
        """
        self.seconds: Counter[str] = Counter()
        self._owner = threading.get_ident()
        self._stack: list[str] = []
        self._clock = clock
        self._t = clock()
        self._stopped = False

    def reset(self) -> None:
        """Forget what was counted and count the calling thread from now (the stack must
        be empty)."""
        self._owner = threading.get_ident()
        self.seconds.clear()
        self._t = self._clock()
        self._stopped = False

    def stop(self) -> None:
        """End the count: time after it is no phase's."""
        self._switch()
        self._stopped = True

    def _switch(self) -> None:
        now = self._clock()
        if not self._stopped:
            self.seconds[self._stack[-1] if self._stack else OTHER] += now - self._t
        self._t = now

    @contextlib.contextmanager
    def phase(self, label: str) -> Iterator[None]:
        """Charge the block's own time (not its wrapped callees') to ``label``.

        Only in the thread counted: a wrapped iterator another thread pulls (Arrow's
        reader thread pulls the decrypting stream) would otherwise push onto this
        thread's stack and, with ``time.thread_time``, subtract one thread's CPU clock
        from another's (one evaluate run read "read + decrypt 6.169 s" of a thread that
        spent 0.128 s in all). That thread's time is not the counted thread's; the
        counted thread's wait for it stays with the phase it waits in.
        """
        if threading.get_ident() != self._owner:
            yield
            return
        self._switch()
        self._stack.append(label)
        try:
            yield
        finally:
            self._switch()
            self._stack.pop()

    def call(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn``, its time charged to ``label``."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self.phase(label):
                return fn(*args, **kwargs)

        return run

    def each(self, label: str, items: Iterable[Any]) -> Iterator[Any]:
        """``items``, the time spent producing each one charged to ``label``."""
        it = iter(items)
        while True:
            with self.phase(label):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item

    def iterating(self, label: str, fn: Callable[..., Iterable[Any]]) -> Callable[..., Any]:
        """``fn`` returning an iterable: the call and every item charged to ``label``."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with self.phase(label):
                items = fn(*args, **kwargs)
            return self.each(label, items)

        return run

    @contextlib.contextmanager
    def patched(self, *targets: tuple[object, str, str, str]) -> Iterator[Phases]:
        """Wrap ``getattr(owner, name)`` as ``kind`` (``call`` or ``iter``) under ``label``
        for each ``(owner, name, kind, label)``, restored when the block ends."""
        saved = []
        try:
            for owner, name, kind, label in targets:
                fn = getattr(owner, name)
                saved.append((owner, name, fn))
                wrap = self.call(label, fn) if kind == "call" else self.iterating(label, fn)
                setattr(owner, name, wrap)
            yield self
        finally:
            for owner, name, fn in reversed(saved):
                setattr(owner, name, fn)

    @contextlib.contextmanager
    def full_collections(self, label: str = "gc: full collections (gen 2)") -> Iterator[None]:
        """Charge the garbage collector's full collections that run in the calling thread
        to ``label`` while the block lasts (a full collection walks every object the
        process keeps: great-expectations' import alone leaves ~400k)."""
        owner = threading.get_ident()
        inside = False

        def hook(phase: str, info: dict[str, int]) -> None:
            nonlocal inside
            if info.get("generation") != 2 or threading.get_ident() != owner:
                return
            if phase == "start" and not inside:
                self._switch()
                self._stack.append(label)
                inside = True
            elif phase == "stop" and inside:
                self._switch()
                self._stack.pop()
                inside = False

        gc.callbacks.append(hook)
        try:
            yield
        finally:
            gc.callbacks.remove(hook)

    def report(self, total: float) -> str:
        """The phases, largest first, with their share of ``total`` seconds."""
        self.stop()
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        return "\n".join(f"    {label:44s} {s:7.3f} s  {s / total:6.1%}" for label, s in rows
                         if s >= 0.0005)
