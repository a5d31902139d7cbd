"""How long a freed core stays idle before another worker process's stage runs on it.

Two cases, each ``--trials`` times, with real processes sharing one core budget
(``activities.cores``, lock files in a temporary directory):

* ``hungry``: this process holds the only core; another process's stage waits for
  it holding none. This process frees it: time until the other process has it.
* ``both-wait``: three cores. This process holds two and has a stage waiting;
  the other process holds the third and has a stage waiting too. This process
  frees one core: time until either process's waiting stage has it (before
  burst fairness knew "hungry", both left it to the other for the fair grace).

Times are ``CLOCK_MONOTONIC`` (one clock for every process of the machine); a
random pause before each release keeps the helper's polls out of phase.
Prints the median and the 90th percentile in ms. Every trial has a deadline;
the helper process is stopped at exit and on SIGTERM/SIGINT (``_procs``).
Run: ``./run bench core_handover``.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's medpipe, not an installed one)
import _procs

from medpipe.activities.cores import CoreBudget

#: The other worker process: waits for a core when told, prints when it has one.
HELPER = """
import sys, threading, time
from pathlib import Path
from medpipe.activities.cores import CoreBudget
total, case = int(sys.argv[2]), sys.argv[3]
b = CoreBudget(total, Path(sys.argv[1]))
def tick():
    print('waiting', flush=True)
def stage():
    told = []
    def once():
        if not told:
            told.append(tick())
    with b.hold(once, tick_s=0.02):
        print(f'got {time.monotonic()}', flush=True)
for line in sys.stdin:
    if case == 'both-wait':
        with b.take(1):  # holds a core while its next stage waits
            t = threading.Thread(target=stage)
            t.start()
            t.join()
    else:
        stage()
    print('done', flush=True)
"""


class Lines:
    """The helper's output lines, read by a thread (so every wait has a deadline)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._q: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._q.put(line.strip())
        self._q.put("")

    def next(self, deadline: float) -> str:
        """The next line; TimeoutError after ``deadline`` seconds or at end of output."""
        try:
            line = self._q.get(timeout=deadline)
        except queue.Empty:
            line = ""
        if not line:
            raise TimeoutError("the helper process did not answer in time")
        return line


def trial(case: str, budget: CoreBudget, helper: subprocess.Popen[str], lines: Lines,
          deadline: float) -> float:
    """Seconds between freeing a core and a waiting stage having it (one trial)."""
    assert helper.stdin is not None
    got_at: list[float] = []
    mine: threading.Thread | None = None

    def my_stage() -> None:
        with budget.hold():
            got_at.append(time.monotonic())

    with contextlib.ExitStack() as outer:
        if case == "both-wait":
            outer.enter_context(budget.take(1))
        with budget.take(1):
            helper.stdin.write("go\n")
            helper.stdin.flush()
            if lines.next(deadline) != "waiting":
                raise RuntimeError("the helper's stage did not wait")
            if case == "both-wait":
                mine = threading.Thread(target=my_stage)
                mine.start()
            # not a measurement: this process's stage waits too, and the helper's
            # polls are out of phase with its "waiting" tick
            time.sleep(random.uniform(0.05, 0.15))
            freed = time.monotonic()
        if case == "both-wait":  # the first waiter served, before the other core frees
            end = time.monotonic() + deadline
            while not got_at and time.monotonic() < end:
                line = lines.next(deadline)
                if line.startswith("got"):
                    got_at.append(float(line.split()[1]))
            outer.close()
    while True:
        line = lines.next(deadline)
        if line.startswith("got"):
            got_at.append(float(line.split()[1]))
        elif line == "done":
            break
    if mine is not None:
        mine.join(deadline)
    return min(got_at) - freed


def run_case(case: str, trials: int, deadline: float) -> list[float]:
    """``trials`` handovers in ``case``, with a fresh helper process and lock directory."""
    lock_dir = Path(tempfile.mkdtemp(prefix="medpipe-handover-"))
    total = 1 if case == "hungry" else 3
    helper = _procs.spawn([sys.executable, "-c", HELPER, str(lock_dir), str(total), case],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    budget = CoreBudget(total, lock_dir)
    try:
        lines = Lines(helper)
        return [trial(case, budget, helper, lines, deadline) for _ in range(trials)]
    finally:
        budget.close()
        _procs.stop_group(helper.pid, grace=1)
        shutil.rmtree(lock_dir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--trial-deadline", type=float, default=10.0)
    args = ap.parse_args()
    _procs.install()
    for case in ("hungry", "both-wait"):
        try:
            ms = sorted(1000 * s for s in run_case(case, args.trials, args.trial_deadline))
        except TimeoutError as e:
            print(f"{case}: TIMED OUT ({e})")
            continue
        p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
        print(f"core handover, {case}: median {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms,"
              f" max {ms[-1]:.1f} ms ({len(ms)} trials)", flush=True)


if __name__ == "__main__":
    main()
