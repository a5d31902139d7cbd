"""What every single-process bench of the scrubber shares: options, deadlines, signals.

``bench/deid.py``, ``bench/deid_speed.py`` and ``bench/deid_rules.py`` start no
process; each trial runs under a deadline (``deadline``: SIGALRM raises
``TrialTimeout`` in the trial) and SIGTERM/SIGINT end the bench cleanly
(``stop_on_signals``: ``SystemExit``, so ``finally`` blocks and temporary
directories are cleaned up).
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TrialTimeout(Exception):
    """A trial ran past its deadline."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ``TrialTimeout`` in the block after ``seconds`` (SIGALRM)."""
    def fire(*_: Any) -> None:
        raise TrialTimeout(f"trial exceeded {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def stop_on_signals() -> None:
    """SIGTERM and SIGINT end the bench with ``SystemExit`` (cleanups run)."""
    def stop(signum: int, _: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def parser(trial_seconds: float) -> argparse.ArgumentParser:
    """An argument parser with the options every such bench takes (``--seed``,
    ``--trial-seconds``: the deadline of one trial)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trial-seconds", type=float, default=trial_seconds)
    return ap
