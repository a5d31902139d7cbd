"""A circuit breaker in front of the stable model: closed → open → half-open → closed.

Closed, every request goes to the stable model and its outcome lands in a sliding
window; once the window holds enough failures (a count *and* a ratio, so one bad
request among few neither opens it nor is drowned by many good ones) it opens.
Open, requests go to the fallback without touching the failing model, for
``open_s``; after that it is half-open and lets one request at a time probe the
stable model: ``probes`` successes in a row close it, a failure opens it again.
Recovery therefore needs no operator.

The breaker is pure bookkeeping over an injected monotonic clock (tests drive
it without sleeping) and runs on the event-loop thread only, so it has no locks.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from medpipe.contracts.deploy import BreakerSettings, BreakerState


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
        self._events: deque[tuple[float, bool]] = deque()  # (when, failed) in the window
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
        now = self._clock()
        self._events.append((now, failed))
        self._failures += failed
        self._expire(now)
        total = len(self._events)
        if failed and self._failures >= self.settings.min_failures \
                and self._failures / total >= self.settings.failure_ratio:
            self._open()

    def reset(self) -> None:
        """Closed with an empty window (a new stable model is in place)."""
        if self._state is BreakerState.CLOSED:
            self._events.clear()
            self._failures = 0
        else:
            self._enter(BreakerState.CLOSED)

    def configure(self, settings: BreakerSettings) -> None:
        """Apply new settings (the state and window are kept)."""
        self.settings = settings

    def _expire(self, now: float) -> None:
        horizon = now - self.settings.window_s
        events = self._events
        while events and events[0][0] < horizon:
            self._failures -= events.popleft()[1]

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._enter(BreakerState.OPEN)

    def _enter(self, state: BreakerState) -> None:
        self._state = state
        self._probing = False
        self._probe_successes = 0
        self._events.clear()
        self._failures = 0
        self.transitions[state] += 1
