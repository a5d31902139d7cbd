"""A worker gives a data stage's memory back when the stage ends (issue 17).

A worker runs its stages in threads of an activity executor; Arrow's pool
(mimalloc by default) and glibc's per-thread arenas kept what a stage freed, so
each stage of a release started from the previous one's peak (a 400k-row
pseudonymize left its worker at 642 MiB of RSS, 294 once given back). A worker
now switches Arrow to jemalloc purging at once (``return_freed_memory``, in
``run_worker`` and every pool child) and trims glibc's arenas after each chunk
and each stage (``release_freed``, in ``holding_a_core``).

Measured here in a fresh process set up as a worker is: the RSS a pseudonymize
stage (run through the worker's stage wrapper, in an executor thread) leaves
behind, over a cohort generated streaming of N and 4N rows, every row a new
patient; the growth per row must stay within the budget. What a run keeps (its
index and vault, ~200 bytes a patient: ``test_bounded_memory``) is dropped with
the stage here, so what remains is what the allocators kept. Measured: the old
worker kept 27.7 MiB after 25k rows and 62.4 MiB after 100k (484 bytes a row); now
14.9 and -0.6 (the second stage gives back some of the first's).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

#: RSS bytes a finished stage may leave behind per row of its dataset.
BUDGET_PER_ROW = 250

_SCRIPT = textwrap.dedent("""
    import json, sys, concurrent.futures
    from medpipe.activities.memory import return_freed_memory
    return_freed_memory()  # as run_worker does before any stage
    from medpipe.activities.cores import CoreBudget
    from medpipe.activities.pseudonymize.run import Pseudonymizer
    from medpipe.activities.pseudonymize.tokens import Vault
    from medpipe.activities.stage_cores import holding_a_core
    from tests.activities.pseudonymize.test_bounded_memory import POLICY, cohort_csv

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

    def stage(rows):
        run = Pseudonymizer(POLICY, Vault.in_memory(), source="gen", chunk_rows=8_192)
        run.learn(cohort_csv(rows), "csv")
        return sum(len(out) for out in run.stream(cohort_csv(rows), "csv"))

    run_stage = holding_a_core("medpipe.test.stage", stage, CoreBudget(1))
    with concurrent.futures.ThreadPoolExecutor(4) as executor:  # a worker's activity threads
        executor.submit(run_stage, 2_000).result()  # first-use imports
        out = {}
        for rows in map(int, sys.argv[1:]):
            before = rss()
            executor.submit(run_stage, rows).result()
            out[rows] = rss() - before
    print(json.dumps(out))
""")


def test_a_finished_stage_leaves_little_memory_behind(tmp_path: Path) -> None:
    small, large = 25_000, 100_000
    script = tmp_path / "stage.py"
    script.write_text(_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script), str(small), str(large)], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    left = {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    per_row = (left[large] - left[small]) / (large - small)
    assert per_row < BUDGET_PER_ROW, (
        f"a finished stage left {left[small] / 2**20:.1f} MiB of RSS after {small:,} rows, "
        f"{left[large] / 2**20:.1f} MiB after {large:,}: {per_row:,.0f} bytes a row")
