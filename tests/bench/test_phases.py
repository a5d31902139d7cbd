"""bench/_phases: a phase is charged only in the thread it counts."""

from __future__ import annotations

import threading
import time

from bench._phases import OTHER, Phases


def _slow(n: int):
    for i in range(n):
        time.sleep(0.01)
        yield i


def test_phase_in_the_counted_thread_is_charged() -> None:
    phases = Phases()
    assert list(phases.each("produce", _slow(3))) == [0, 1, 2]
    phases.stop()
    assert phases.seconds["produce"] >= 0.02


def test_iterator_pulled_by_another_thread_is_not_charged_nor_breaks_the_stack() -> None:
    phases = Phases()
    got: list[int] = []
    with phases.phase("parse"):
        # like Arrow's reader thread pulling the decrypting stream the parse waits for
        puller = threading.Thread(target=lambda: got.extend(phases.each("decrypt", _slow(3))))
        puller.start()
        puller.join()
    phases.stop()
    assert got == [0, 1, 2]
    assert "decrypt" not in phases.seconds
    assert phases.seconds["parse"] >= 0.02  # the wait stays with the phase that waited
    assert phases.seconds[OTHER] < phases.seconds["parse"]
