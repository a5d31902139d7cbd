"""A circuit breaker in front of the stable model: closed → open → half-open → closed.

Closed, every request goes to the stable model and its outcome lands in a sliding
window; once the window holds enough failures (a count *and* a ratio, so one bad
request among few neither opens it nor is drowned by many good ones) it opens.
Open, requests go to the fallback without touching the failing model, for
``open_s``; after that it is half-open and lets one request at a time probe the
stable model: ``probes`` successes in a row close it, a failure opens it again.
Recovery therefore needs no operator.

The window is ``WINDOW_BUCKETS`` buckets of counts (constant memory and about a
microsecond per request at any rate). The breaker is pure bookkeeping over an
injected monotonic clock (tests drive it without sleeping) and runs on the
event-loop thread only, so it has no locks.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from medpipe.contracts.deploy import BreakerSettings, BreakerState

#: The failure window is this many buckets of ``window_s / WINDOW_BUCKETS`` seconds.
WINDOW_BUCKETS = 10


class CircuitBreaker:
    """The state machine; ``allow()`` before the stable model runs, ``record()`` after."""

    def __init__(self, settings: BreakerSettings | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Args:
        settings: thresholds and durations (defaults: ``BreakerSettings()``).
        clock: monotonic seconds (injected by tests).
        """
        self.settings = settings or BreakerSettings()
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._buckets: deque[list[int]] = deque()  # [bucket number, requests, failures]
        self._requests = 0
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._probe_started = 0.0
        self._probe_successes = 0
        #: transitions so far, by state entered (exported as a counter)
        self.transitions: dict[BreakerState, int] = {s: 0 for s in BreakerState}

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose time is up reads half-open)."""
        if self._state is BreakerState.OPEN \
                and self._clock() - self._opened_at >= self.settings.open_s:
            self._enter(BreakerState.HALF_OPEN)
        return self._state

    def allow(self) -> bool:
        """Should this request go to the stable model?

        Closed: yes. Open: no. Half-open: yes for one probe at a time (the caller
        must then ``record`` its outcome, or ``record(None)`` if it was never judged).
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        now = self._clock()
        if self._probing and now - self._probe_started < self.settings.open_s:
            return False  # one probe at a time (a probe never reported expires)
        self._probing, self._probe_started = True, now
        return True

    def record(self, failed: bool | None) -> None:
        """The outcome of a request ``allow()`` let through.

        Args:
            failed: ``True`` for a model failure or a missed deadline, ``False`` for
                an answer, ``None`` for a request that never judged the model (a
                malformed input): it only frees the probe.
        """
        if self._state is BreakerState.HALF_OPEN:
            self._probing = False
            if failed is None:
                return
            if failed:
                self._open()
                return
            self._probe_successes += 1
            if self._probe_successes >= self.settings.probes:
                self._enter(BreakerState.CLOSED)
            return
        if self._state is BreakerState.OPEN or failed is None:
            return  # an answer that was already in flight when it opened
        number = int(self._clock() * WINDOW_BUCKETS / self.settings.window_s)
        buckets = self._buckets
        if not buckets or buckets[-1][0] != number:
            buckets.append([number, 0, 0])
            while buckets[0][0] <= number - WINDOW_BUCKETS:  # older than the window
                _, requests, failures = buckets.popleft()
                self._requests -= requests
                self._failures -= failures
        current = buckets[-1]
        current[1] += 1
        current[2] += failed
        self._requests += 1
        self._failures += failed
        if failed and self._failures >= self.settings.min_failures \
                and self._failures / self._requests >= self.settings.failure_ratio:
            self._open()

    def reset(self) -> None:
        """Closed with an empty window (a new stable model is in place)."""
        if self._state is BreakerState.CLOSED:
            self._forget()
        else:
            self._enter(BreakerState.CLOSED)

    def configure(self, settings: BreakerSettings) -> None:
        """Apply new settings (the state is kept, the window starts again)."""
        self.settings = settings
        self._forget()

    def _forget(self) -> None:
        self._buckets.clear()
        self._requests = self._failures = 0

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._enter(BreakerState.OPEN)

    def _enter(self, state: BreakerState) -> None:
        self._state = state
        self._probing = False
        self._probe_successes = 0
        self._forget()
        self.transitions[state] += 1
