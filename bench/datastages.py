"""Data stages on one core vs two: rows/s and peak RSS of pseudonymize, validate, evaluate.

Generates the longitudinal table of ``bench/pseudonymize.py`` (identifiers,
dates, ZIPs, ~200-character notes with embedded identifiers) and runs each
stage's own code path in a child process pinned to 1 or 2 cores, each trial
with a deadline:

* pseudonymize (with notes): learn pass + scrub pass, ``processes`` = cores
  (1: sequential, no pool; 2: the scrub pass on a process pool), in the activity's chunks;
* validate: great-expectations suite + residual-identifier check (patterns,
  names, and the original identifiers' digests the pseudonymize trial handed
  over) of the pseudonymized output, ``processes`` = cores (2: the residual
  check on a process pool, great-expectations in the parent);
* evaluate: a LightGBM model (``bench/evaluate.py``) two ways on 2 cores:
  onnxruntime's intra-op threads = cores in one process, and a process pool
  over held-out chunks with one thread per child (``activities.evaluate_pool``).

The table is generated a row group at a time (streaming), so its size does
not bound the memory of the bench.

A trial whose stage runs a process pool (2 cores) starts the pool's fork server before
its clock, as a worker does when it starts (``workers/worker.py``: the fork server
imports the de-identification stack once, ~1 s of a core, and every data stage of the
worker's life forks its pool from it): a data stage never pays that import in a
worker. The fork server's start is printed beside the trial (seconds, CPU seconds), and
its CPU before the clock is not the stage's.

Peak RSS is the largest VmHWM of the trial's process and of every process it
started (pool children included), sampled while it runs.

Goals (issue 17): >= 100k rows/s on one core, x1.8 on two. This machine is
shared by several engineers' test runs: two-core ratios printed here are
depressed by their load and are a lower bound (the kernel shares CPU per
session, ``sched_autogroup``: a trial's pool gets its session's share, however
many processes it has). The bench therefore also prints the CPU seconds of each
trial's process tree and the speed-up they imply on an idle 2-core machine.

Usage: ``.venv/bin/python bench/datastages.py [--rows N] [--deadline S]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _procs  # noqa: E402
import evaluate as eval_bench  # noqa: E402
import pseudonymize as pseudo_bench  # noqa: E402
from _lightmain import light_main  # noqa: E402
from _rss import cpu_seconds, descendants, stat_fields  # noqa: E402

from medpipe.contracts.fanout import DEFAULT_CHUNK_ROWS  # noqa: E402

GOAL_ONE_CORE = 100_000
GOAL_SCALING = 1.8
#: Rows per chunk of the pseudonymize trial: the activity's (``contracts.fanout``), so the
#: trial pays the per-chunk costs a release pays (each chunk's scrub compiles its patterns:
#: ~45 ms; this bench used 65,536 until stop 42, twice the calls a release makes).
CHUNK_ROWS = DEFAULT_CHUNK_ROWS
DIGEST_KEY = b"bench-digest-key" * 2


def _pin(cores: int) -> None:
    import pyarrow as pa

    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cores]))
    pa.set_cpu_count(cores)
    pa.set_io_thread_count(cores)


def _tree_cpu() -> float:
    """CPU seconds (user + system) of this process and every process below it now."""
    return sum(cpu_seconds(fields) for pid in (os.getpid(), *descendants(os.getpid()))
               if (fields := stat_fields(pid)) is not None)


def _start_clock() -> tuple[dict[str, float], float]:
    """What the timed part starts from: the CPU seconds of this process's tree and of this
    process (what came before is not the stage's), and the wall clock."""
    return ({"cpu_before": _tree_cpu(), "cpu_main_before": time.process_time()},
            time.perf_counter())


def _stop_clock(before: dict[str, float], t0: float) -> dict[str, float]:
    """The timed part's seconds, with what it started from and this process's CPU seconds
    at its end (the process's exit, freeing its memory, is not the stage's)."""
    return {"seconds": time.perf_counter() - t0, "cpu_main_after": time.process_time(),
            **before}


def start_fork_server() -> dict[str, float]:
    """Start the pools' fork server and wait until it serves (a pool of one child runs a
    no-op), as a worker does when it starts: its seconds and CPU seconds."""
    from concurrent.futures import ProcessPoolExecutor

    from medpipe.activities.procpool import pool_context
    from medpipe.activities.procpool import start_fork_server as start

    cpu0, t0 = _tree_cpu(), time.perf_counter()
    start()
    with ProcessPoolExecutor(max_workers=1, mp_context=pool_context()) as pool:
        pool.submit(abs, 0).result()
    return {"fork_server_s": time.perf_counter() - t0, "fork_server_cpu": _tree_cpu() - cpu0}


def child_pseudonymize(src: str, dst: str, cores: int) -> dict[str, float]:
    import pyarrow.parquet as pq

    from medpipe.activities.pseudonymize import Vault
    from medpipe.activities.pseudonymize.run import Pseudonymizer

    run = Pseudonymizer(pseudo_bench.policy(True), Vault.in_memory(), source="bench",
                        processes=cores, chunk_rows=CHUNK_ROWS, digest_key=DIGEST_KEY)
    before, t0 = _start_clock()
    ids = [n for n, r in run.policy.fields.items() if r.is_identifier or r.action == "drop"]
    run.learn_batches(pq.ParquetFile(src).iter_batches(CHUNK_ROWS, columns=ids))
    with open(dst, "wb") as f:
        for chunk in run.tabular_batches(pq.ParquetFile(src).iter_batches(CHUNK_ROWS),
                                         "parquet"):
            f.write(chunk)
    fig = {"rows": run.state.records, **_stop_clock(before, t0)}
    # for validate: the digests of the identifiers this run replaced (as the activity hands
    # them over), so the residual check looks original values up as in a release
    Path(dst + ".digests").write_bytes(run.identifier_digests(DIGEST_KEY).to_bytes())
    return fig


def child_validate(src: str, cores: int) -> dict[str, float]:
    import great_expectations  # noqa: F401  (import time is not validation time)
    import pyarrow.parquet as pq

    from medpipe.activities.residual import DigestSet
    from medpipe.activities.validate import CHUNK_ROWS as VALIDATE_ROWS
    from medpipe.activities.validate import validate_batches

    digests = DigestSet.from_bytes(DIGEST_KEY, Path(src + ".digests").read_bytes())
    before, t0 = _start_clock()
    report = validate_batches(pq.ParquetFile(src).iter_batches(VALIDATE_ROWS), None, digests,
                              processes=cores)
    return {"rows": report.rows, **_stop_clock(before, t0),
            "failed": len(report.failures)}


def child_evaluate(model: str, data: str, cores: int, mode: str) -> dict[str, float]:
    """``threads``: one process, onnxruntime intra-op threads = cores; ``pool``: ``cores``
    child processes with one thread each (``activities.evaluate_pool``)."""
    from medpipe.activities.evaluate import CPU, load_model, score_dataset
    from medpipe.contracts.evaluate import EvaluationSpec

    spec = EvaluationSpec(features=tuple(eval_bench.LABS))
    loaded = load_model(Path(model).read_bytes(), [CPU], "model", spec,
                        threads=cores if mode == "threads" else 1)
    before, t0 = _start_clock()
    with open(data, "rb") as f:
        [run] = score_dataset([loaded], iter(lambda: f.read(1 << 20), b""), "parquet",
                              "label", spec, processes=cores if mode == "pool" else 1)
    m = run.metrics()
    return {"rows": m.rows, **_stop_clock(before, t0),
            "auroc": m.auroc or 0.0}


def child(argv: list[str]) -> None:
    from medpipe.workers.scratch import install

    install()  # the pool's temporary files go in the trial's directory (workers.scratch)
    stage, cores, *rest = argv
    _pin(int(cores))
    pooled = int(cores) > 1 and (stage != "evaluate" or rest[2] == "pool")
    server = start_fork_server() if pooled else {}
    if stage == "pseudonymize":
        fig = child_pseudonymize(rest[0], rest[1], int(cores))
    elif stage == "validate":
        fig = child_validate(rest[0], int(cores))
    else:
        fig = child_evaluate(rest[0], rest[1], int(cores), rest[2])
    print(json.dumps({**fig, **server}), flush=True)


def _tree_sample(root: int, stop: threading.Event, peak: dict[int, int],
                 cpu: dict[int, float]) -> None:
    """Sample VmHWM (KiB) and CPU seconds of ``root`` and its descendants until ``stop``."""
    while not stop.wait(0.2):
        parents: dict[int, int] = {}
        stats: dict[int, list[str]] = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                parents[int(d)], stats[int(d)] = int(fields[1]), fields
        tree = {root}
        grew = True
        while grew:
            new = {p for p, pp in parents.items() if pp in tree and p not in tree}
            tree |= new
            grew = bool(new)
        for pid in tree & stats.keys():
            cpu[pid] = cpu_seconds(stats[pid])
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[pid] = max(peak.get(pid, 0), int(line.split()[1]))
            except OSError:
                continue


def trial(args: list[str], deadline: float, what: str) -> dict[str, float] | None:
    """One trial in its own process group; None (printed) when it failed or ran late."""
    proc = _procs.spawn([sys.executable, __file__, "--child", *args],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop, peak, cpu = threading.Event(), {}, {}  # type: ignore[var-annotated]
    sampler = threading.Thread(target=_tree_sample, args=(proc.pid, stop, peak, cpu),
                               daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        _procs.kill(proc)
        print(f"  {what}: TIMED OUT (no result within {deadline:.0f} s)", flush=True)
        return None
    finally:
        stop.set()
        sampler.join()
    if proc.returncode != 0:
        print(f"  {what}: FAILED {err.decode()[-400:]}", flush=True)
        return None
    fig: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    fig["peak_mib"] = max(peak.values(), default=0) / 1024
    fig["peak_total_mib"] = sum(peak.values()) / 1024
    # CPU seconds of the timed part (imports and the fork server's start before it, and the
    # process's exit after it, excluded): the trial's process as it reported them, and with
    # the processes it started (sampled every 0.2 s: a lower bound)
    fig["cpu_main"] = fig["cpu_main_after"] - fig["cpu_main_before"]
    others = sum(c for pid, c in cpu.items() if pid != proc.pid)
    fig["cpu_total"] = fig["cpu_main"] + others - (fig["cpu_before"] - fig["cpu_main_before"])
    return fig


def show(stage: str, figs: dict[int, dict[str, float] | None], note: str = "",
         threaded: bool = False) -> None:
    """Print a stage's figures; ``threaded``: its 2-core run's work is threads of one
    process (not a serial parent plus a pool), so the idle estimate halves its CPU time."""
    rates = {c: f["rows"] / f["seconds"] for c, f in figs.items() if f}
    for c, f in figs.items():
        if f:
            print(f"  {stage:13s} {c} core{'s' if c > 1 else ' '}: {rates[c]:>9,.0f} rows/s "
                  f"({f['rows']:,.0f} rows in {f['seconds']:.1f} s, {f['cpu_total']:.1f} CPU s); "
                  "peak RSS "
                  f"{f['peak_mib']:.0f} MiB per process, {f['peak_total_mib']:.0f} MiB summed",
                  flush=True)
            if "fork_server_s" in f:
                print(f"  {stage:13s} {c} cores: the pool's fork server, started before the "
                      f"clock as a worker starts it: {f['fork_server_s']:.1f} s, "
                      f"{f['fork_server_cpu']:.1f} CPU s", flush=True)
    if 1 in rates:
        one = figs[1]
        assert one
        per_cpu = one["rows"] / max(one["cpu_total"], 1e-9)
        print(f"  {stage:13s} one core vs goal {GOAL_ONE_CORE:,}: x{rates[1] / GOAL_ONE_CORE:.2f}"
              f" wall; {per_cpu:,.0f} rows per CPU second -> x{per_cpu / GOAL_ONE_CORE:.2f} "
              "on an idle core", flush=True)
    if 1 in rates and 2 in rates:
        print(f"  {stage:13s} 2 cores / 1 core: x{rates[2] / rates[1]:.2f} wall (goal "
              f"x{GOAL_SCALING}; shared machine: a lower bound){note}", flush=True)
        one, two = figs[1], figs[2]
        assert one and two
        # what an idle 2-core machine would give: the work (CPU s) of the 1-core run over the
        # longer of the parent's serial part and half the 2-process run's total work
        serial = 0.0 if threaded else two["cpu_main"]
        bound = one["cpu_total"] / max(serial, two["cpu_total"] / 2, 1e-9)
        print(f"  {stage:13s} CPU s: 1 core {one['cpu_total']:.1f}; 2 cores {two['cpu_total']:.1f}"
              f" (parent {two['cpu_main']:.1f}) -> x{bound:.2f} on an idle 2-core machine "
              "(estimate from CPU time)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--deadline", type=float, default=600.0, help="seconds per trial")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        # the stage's pool children must not re-run this script as their __main__ (a
        # worker's main is the ``medpipe`` console script): that would bill its imports
        with light_main():
            child(args.child)
        return
    _procs.install()  # every trial's process group is stopped on SIGTERM/SIGINT and at exit
    cores = len(os.sched_getaffinity(0))
    print(f"data stages, {args.rows:,} rows, {cores} cores visible (load average "
          f"{os.getloadavg()[0]:.1f}: other processes share them); pseudonymize in chunks of "
          f"{CHUNK_ROWS:,} rows (the activity's)", flush=True)
    with tempfile.TemporaryDirectory(prefix="medpipe-bench-datastages-") as tmp:
        root = Path(tmp)
        src, out = root / "cohort.parquet", root / "pseudonymized.parquet"
        pseudo_bench.generate(src, args.rows, args.patients)
        counts = [1, 2] if cores >= 2 else [1]
        figs = {c: trial(["pseudonymize", str(c), str(src), str(out)], args.deadline,
                         f"pseudonymize {c} cores") for c in counts}
        show("pseudonymize", figs, " (notes scrubbed on a process pool; tokens, dates and "
             "writing stay in the parent)")
        if out.exists():
            show("validate", {c: trial(["validate", str(c), str(out)], args.deadline,
                                       f"validate {c} cores") for c in counts},
                 " (great-expectations in the parent, the residual check on a process pool)")
        model = eval_bench.models(root)["lightgbm"]
        data = root / "eval.parquet"
        eval_bench.generate(data, args.rows)
        threads = {c: trial(["evaluate", str(c), str(model), str(data), "threads"],
                            args.deadline, f"evaluate {c} cores (threads)") for c in counts}
        show("evaluate", threads, " (onnxruntime intra-op threads = cores)", threaded=True)
        if 2 in counts:
            pooled = {1: threads[1], 2: trial(["evaluate", "2", str(model), str(data), "pool"],
                                              args.deadline, "evaluate 2 processes (pool)")}
            show("evaluate-pool", pooled, " (2 processes x 1 onnxruntime thread over "
                 "held-out chunks)")
            one, pool = threads[1], pooled[2]
            if one and pool:
                print(f"  evaluate      the pool's AUROC equals one thread's: "
                      f"{one['auroc'] == pool['auroc']}", flush=True)
    # a trial killed at its deadline left its directory behind; its owner is gone now
    from medpipe.workers.scratch import sweep

    sweep(Path(tempfile.gettempdir()))

if __name__ == "__main__":
    main()
