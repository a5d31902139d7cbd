"""The circuit breaker as a state machine, driven by an injected clock (no sleeping)."""

from __future__ import annotations

import pytest

from medpipe.contracts.deploy import BreakerSettings, BreakerState
from medpipe.workers.gateway.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


SETTINGS = BreakerSettings(window_s=10, min_failures=3, failure_ratio=0.5, open_s=5, probes=2)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(SETTINGS, clock=clock)


def fail(b: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        assert b.allow()
        b.record(True)


def succeed(b: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        assert b.allow()
        b.record(False)


def test_opens_after_enough_failures_making_enough_of_the_window(breaker: CircuitBreaker
                                                                 ) -> None:
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED  # 2 < min_failures
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.transitions[BreakerState.OPEN] == 1


def test_failures_drowned_by_successes_do_not_open(breaker: CircuitBreaker) -> None:
    succeed(breaker, 10)
    fail(breaker, 5)  # 5 of 15: under the ratio
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 5)  # 10 of 20: at the ratio
    assert breaker.state is BreakerState.OPEN


def test_failures_outside_the_window_are_forgotten(breaker: CircuitBreaker,
                                                   clock: Clock) -> None:
    fail(breaker, 2)
    clock.now += 11
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_half_open_after_open_s_lets_one_probe_at_a_time(breaker: CircuitBreaker,
                                                         clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 4.9
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now += 0.2
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # others go to the fallback meanwhile
    breaker.record(False)
    assert breaker.state is BreakerState.HALF_OPEN  # 1 of 2 probes
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.transitions == {BreakerState.OPEN: 1, BreakerState.HALF_OPEN: 1,
                                   BreakerState.CLOSED: 1}


def test_a_failed_probe_opens_again_for_a_full_period(breaker: CircuitBreaker,
                                                      clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()
    breaker.record(True)
    assert breaker.state is BreakerState.OPEN
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN


def test_an_unjudged_probe_frees_the_probe_without_a_verdict(breaker: CircuitBreaker,
                                                             clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()
    breaker.record(None)  # e.g. a malformed request: says nothing about the model
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_a_lost_probe_expires(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()  # never reported
    assert not breaker.allow()
    clock.now += 5
    assert breaker.allow()


def test_late_answers_while_open_change_nothing(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    breaker.record(False)  # in flight when it opened
    breaker.record(True)
    assert breaker.state is BreakerState.OPEN
    assert breaker.transitions[BreakerState.OPEN] == 1


def test_reset_closes_and_forgets(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.reset()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_the_window_holds_constant_memory_at_any_rate(breaker: CircuitBreaker,
                                                      clock: Clock) -> None:
    from medpipe.workers.gateway.breaker import WINDOW_BUCKETS

    for i in range(20_000):  # 20,000 requests over 100 s of clock
        clock.now += 0.005
        assert breaker.allow()
        breaker.record(i % 3 == 0 and i < 6)  # two early failures, long forgotten
    assert len(breaker._buckets) <= WINDOW_BUCKETS
    fail(breaker, 3)
    assert breaker.state is BreakerState.CLOSED  # 3 failures among ~2,000 in the window


def test_new_settings_start_a_new_window(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.configure(SETTINGS.model_copy(update={"min_failures": 2}))
    fail(breaker, 1)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
