"""De-identification speed, before and after the column-wise engine, in one run, on one core.

On the labelled corpus of ``bench/deid.py`` (``bench._deid_corpus``) prints:

* the scrubber over a column of notes: the previous engine
  (``bench._deid_reference``: one RE2 replace per pattern, then a Python
  lookup per note) and the current one, rows/s, with a check that both
  outputs are identical;
* the whole pseudonymize run with notes (first pass, policy, scrubber,
  Parquet out) with each engine: rows/s (issue 12 goal >= 50,000; issue 17
  goal >= 100,000), on that corpus and on ``bench/pseudonymize.py``'s
  longitudinal table (20 rows per patient, shorter notes);
* the validate stage over the pseudonymized output with the identifier
  digests (great-expectations and the residual check), with each residual
  scan: rows/s, and the residual scan alone.

Trials alternate between engines and the best of ``--trials`` is kept (the
machine is shared). Every trial has a deadline; the bench starts no process
and ends by itself (SIGTERM/SIGINT stop it cleanly). Usage:
``.venv/bin/python bench/deid_speed.py [--rows 200000] [--trials 3]``
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bench import _deid_reference as reference  # noqa: E402
from bench._deid_corpus import make_identities, make_note  # noqa: E402
from bench._trials import deadline, parser, stop_on_signals  # noqa: E402
from bench.deid import pseudonymize, table  # noqa: E402
from bench.pseudonymize import generate, run_once  # noqa: E402
from medpipe.activities import residual_pool, residual_scan, validate  # noqa: E402
from medpipe.activities.deid.index import KeyIndex  # noqa: E402
from medpipe.activities.pseudonymize import scrub, tabular  # noqa: E402
from medpipe.activities.residual import DigestSet  # noqa: E402
from medpipe.contracts.pseudonymize import Placeholder  # noqa: E402

ENGINES = {"before": (reference.scrub_column, reference.scan_batch),
           "after": (scrub.scrub_column, residual_scan.scan_batch)}
IDENTIFIERS = (("name", Placeholder.NAME), ("ssn", Placeholder.SSN),
               ("phone", Placeholder.PHONE), ("email", Placeholder.EMAIL),
               ("street", Placeholder.ADDRESS), ("city", Placeholder.ADDRESS))


@contextmanager
def engine(name: str) -> Iterator[None]:
    """Run the pipeline with one engine's scrubber and residual scan."""
    scrub_column, scan_batch = ENGINES[name]
    saved = tabular.scrub_column, residual_pool.scan_batch  # one process: the pool's own scan
    tabular.scrub_column, residual_pool.scan_batch = scrub_column, scan_batch  # type: ignore[assignment]
    try:
        yield
    finally:
        tabular.scrub_column, residual_pool.scan_batch = saved


def best(trials: int, seconds: float, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best CPU time (this process) of each run over ``trials`` alternating trials."""
    out = dict.fromkeys(runs, float("inf"))
    for _ in range(trials):
        for name, run in runs.items():
            with deadline(seconds), engine(name):
                t0 = time.process_time()
                run()
                out[name] = min(out[name], time.process_time() - t0)
    return out


def line(what: str, rows: int, times: dict[str, float], goal: str = "") -> None:
    b, a = times["before"], times["after"]
    print(f"{what:<34} before {rows / b:>9,.0f} rows/s   after {rows / a:>9,.0f} rows/s   "
          f"x{b / a:4.1f}{goal}")


def main() -> None:
    ap = parser(trial_seconds=600.0)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--trials", type=int, default=3)
    args = ap.parse_args()
    stop_on_signals()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    rng = random.Random(args.seed)
    people = make_identities(max(100, min(args.rows, 20_000) // 8), args.seed)
    # every row its own note (a repeated text is looked at once: copies would measure that)
    big = table([make_note(rng, people, "tuned" if i % 2 else "held-out", i)
                 for i in range(args.rows)])
    base = big.slice(0, min(args.rows, 20_000))
    print(f"corpus: {args.rows:,} rows with notes ({len(people):,} identities, mean note "
          f"{sum(map(len, base.column('notes').to_pylist())) / len(base):.0f} chars), one core, "
          f"best of {args.trials} (CPU seconds of this process)")

    index = KeyIndex(b"k" * 32)
    for col, kind in IDENTIFIERS:
        index.add_all(big.column(col).to_pylist(), kind)
    notes = big.column("notes").combine_chunks()
    outs: dict[str, pa.Array] = {}

    def scrub_with(name: str) -> Callable[[], object]:
        def run() -> None:
            outs[name] = ENGINES[name][0](notes, index, Counter())  # type: ignore[operator]
        return run

    times = best(args.trials, args.trial_seconds, {n: scrub_with(n) for n in ENGINES})
    assert outs["before"].equals(outs["after"]), "the two scrubbers differ"
    line("scrub a column of notes", len(notes), times, "  (outputs identical)")

    with tempfile.TemporaryDirectory() as d:
        out_path = Path(d) / "speed.out.parquet"

        def pseudo() -> None:
            pseudonymize(big, Path(d) / "speed.parquet")

        times = best(args.trials, args.trial_seconds, {n: pseudo for n in ENGINES})
        line("pseudonymize with notes", args.rows, times, "  (goal >= 50,000; 100,000)")

        longitudinal = Path(d) / "longitudinal.parquet"
        generate(longitudinal, args.rows, max(1, args.rows // 20))

        def pseudo_longitudinal() -> None:
            run_once(longitudinal, Path(d) / "longitudinal.out.parquet", True)

        times = best(args.trials, args.trial_seconds, {n: pseudo_longitudinal for n in ENGINES})
        line("same, bench/pseudonymize.py table", args.rows, times)

        digests = DigestSet.from_index(b"k" * 32, index)
        validate.SuiteRunner(spec=validate.infer_suite(pq.read_schema(out_path)),
                             text_columns=[])  # import great-expectations outside the timing
        batches = list(pq.ParquetFile(out_path).iter_batches(validate.CHUNK_ROWS))

        def scan_with(name: str) -> Callable[[], object]:
            def run() -> None:
                tally = residual_scan.ResidualTally()
                for b in batches:
                    ENGINES[name][1](b, digests, tally)  # type: ignore[operator]
            return run

        times = best(args.trials, args.trial_seconds, {n: scan_with(n) for n in ENGINES})
        line("residual check (patterns, values)", args.rows, times)

        def validate_all() -> None:
            validate.validate_batches(iter(batches), None, digests)

        times = best(args.trials, args.trial_seconds, {n: validate_all for n in ENGINES})
        line("validate (GX + residual check)", args.rows, times)


if __name__ == "__main__":
    main()
