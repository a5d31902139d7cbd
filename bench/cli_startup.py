"""CLI start-up: the CPU seconds (user + system) one ``medpipe`` call costs before it does anything.

Run: ``./run bench cli_startup [--trials 5] [--deadline 60]``. Runs each
command line below as ``python -m medpipe …`` in a child process per trial
(each killed past its deadline) and prints the median CPU of the child (from
``getrusage(RUSAGE_CHILDREN)``, so a busy machine changes the wall time more
than this figure). ``--help`` imports no command; the others import only
their own command's module (``workers/cli_lazy.py``). The running child is
stopped on SIGTERM/SIGINT (``_procs.stop_own_children``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _procs  # noqa: E402


def commands(home: Path) -> list[tuple[str, list[str]]]:
    """(label, arguments) of the calls measured: help, and cheap commands of each kind."""
    (home / "ledger").mkdir(parents=True, exist_ok=True)
    return [
        ("--help", ["--help"]),
        ("--version", ["--version"]),
        ("front --help", ["front", "--help"]),
        ("ledger show (empty local ledger)", ["ledger", "show", "--store",
                                              (home / "ledger").as_uri(), "--output", "json"]),
        ("status (Temporal unreachable, exit 3)", ["--address", "127.0.0.1:1", "status",
                                                   "release-x-1"]),
    ]


def cpu_of(args: list[str], env: dict[str, str], deadline: float) -> float | None:
    """CPU seconds of one ``python -m medpipe ARGS`` (None: it overran ``deadline``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:  # killed past the deadline; on SIGTERM/SIGINT ``_procs`` stops it
        subprocess.run([sys.executable, "-m", "medpipe", *args], env=env, timeout=deadline,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(trials: int, deadline: float) -> None:
    with tempfile.TemporaryDirectory(prefix="medpipe-cli-bench-") as tmp:
        home = Path(tmp)
        env = {**os.environ, "MEDPIPE_HOME": str(home / "home"), "COLUMNS": "80"}
        print(f"medpipe CLI start-up: median CPU (user+sys) of {trials} runs, "
              f"{deadline:.0f} s deadline per run", flush=True)
        for label, args in commands(home):
            runs = [cpu_of(args, env, deadline) for _ in range(trials)]
            done = [r for r in runs if r is not None]
            late = len(runs) - len(done)
            figure = f"{statistics.median(done):.2f} s" if done else "-"
            print(f"  {label:40} {figure}" + (f" ({late} TIMED OUT)" if late else ""),
                  flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--deadline", type=float, default=60.0, help="seconds per run")
    args = ap.parse_args()
    _procs.install()
    main(args.trials, args.deadline)
