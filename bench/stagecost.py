"""Where the reference release's pseudonymize and validate time goes, phase by phase.

Runs the two activities directly (no Temporal; as ``bench/orchestration.py``'s
direct run does) on the reference release's dataset (100k rows with notes),
each with its phases timed in the activity's thread (``bench/_phases``:
exclusive seconds, so the phases add up to the activity's wall time), first
on one core (everything in the activity's thread: the phases are the work)
and then on the cores the machine has (chunks on process pools: the phases
say what the activity's thread did and how long it waited for its pool).

Pseudonymize: read + decrypt (both passes), the learn pass, CSV parsing,
tokens (the vault, in the parent), the notes column's scrub (deid rules, one
block), the other columns, writing CSV, encrypting + storing, the vault,
the identifier digests; on a pool, the wait for its children (their start
included) and their chunks' hand-off.
Validate: the great-expectations import wait, its context and suite, its
runs (and the pandas conversion before them), the residual check (one block),
reading + decrypting, the ``unique`` hashes.
Evaluate: loading the model (ONNX parse + onnxruntime session), read +
decrypt, CSV parsing, the model's inputs (feeds), the held-out filter,
scoring (onnxruntime), the task's metrics, the reference profile builder,
storing the profile; on a pool, the hand-off and the wait for its children.

It also prints a pool's start-up (a forkserver pool of ``cores`` children
running their initializer), cold and warm.

``--clock cpu`` counts the activity thread's CPU seconds instead of wall
seconds: on a machine other processes load, what each phase costs. The garbage
collector's full collections in the activity's thread are a phase of their own
(they land in whichever phase allocates when the threshold is reached).

Usage: ``./run bench stagecost [--rows 100000] [--trials 3] [--cores 1,2] [--clock cpu]
[--stages pseudonymize,validate,evaluate]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
from _lightmain import light_main  # noqa: E402
from _phases import Phases  # noqa: E402
from _rss import group_cpu_seconds  # noqa: E402

from medpipe.activities import datasets, evaluate, profile, sealed, validate, validate_suite  # noqa: E402,E501
from medpipe.activities.context import WorkerContext  # noqa: E402
from medpipe.activities.cores import CoreBudget  # noqa: E402
from medpipe.activities.evaluate_pool import InferencePool  # noqa: E402
from medpipe.activities.ingest import IngestActivities  # noqa: E402
from medpipe.activities.poolwindow import PoolWindow  # noqa: E402
from medpipe.activities.pseudonymize import activity as pseudo_activity  # noqa: E402
from medpipe.activities.pseudonymize import parallel, run, streams, tabular  # noqa: E402
from medpipe.activities.pseudonymize import tokens as tokens_mod  # noqa: E402
from medpipe.activities.residual_pool import ResidualPool  # noqa: E402
from medpipe.activities.storage.local import LocalStore  # noqa: E402
from medpipe.contracts.evaluate import EvaluateInput  # noqa: E402
from medpipe.contracts.ingest import IngestInput, SourceSpec  # noqa: E402
from medpipe.contracts.placement import Cloud, WorkerProfile  # noqa: E402
from medpipe.contracts.pseudonymize import PseudonymizeInput  # noqa: E402
from medpipe.contracts.validate import ValidateInput  # noqa: E402
from medpipe.workers.keysetup import ensure_keys, local_keys  # noqa: E402

#: What each pseudonymize phase wraps: (owner, attribute, call|iter, label).
PSEUDONYMIZE = (
    (pseudo_activity, "open_run", "call", "open: policy, vault store, HMAC key"),
    (pseudo_activity, "seal_digest_key", "call", "open: digest key"),
    (pseudo_activity, "open_plain", "iter", "read + decrypt"),
    (run.Pseudonymizer, "learn", "call", "learn pass (index the identifiers)"),
    (streams, "csv_batches", "iter", "CSV parse"),
    (streams, "sized_batches", "iter", "CSV parse"),
    (parallel, "premap", "call", "tokens for the pool (vault, parent)"),
    (parallel, "process_batches", "iter", "pool: slice, copy, submit (parent)"),
    # the wait for a pool's results, in order (the learn pass's pool's too: the stages share
    # PoolWindow), and the scrub pass's join of each batch's pieces
    (PoolWindow, "_take", "call", "pool: wait for children (start incl.), join"),
    (parallel, "_joined", "call", "pool: wait for children (start incl.), join"),
    (tabular, "scrub_column", "call", "notes scrub (deid rules, one block)"),
    (tabular.TabularJob, "process", "call", "other columns (tokens, dates, ZIPs, counts)"),
    (run, "write_tabular", "iter", "write CSV"),
    (sealed, "encrypt_stream", "iter", "encrypt"),
    (sealed._Digesting, "__iter__", "iter", "sha256 of the output"),
    (LocalStore, "put", "call", "store put (file)"),
    (pseudo_activity.SealedVaultStore, "load", "call", "vault load"),
    (pseudo_activity.SealedVaultStore, "save", "call", "vault save"),
    (tokens_mod.Vault, "tokens", "call", "vault tokens"),
    (run.Pseudonymizer, "identifier_digest_parts", "iter", "identifier digests"),
)

#: What each validate phase wraps.
VALIDATE = (
    (validate.ValidateActivities, "wait_for_gx", "call", "great-expectations import wait"),
    (validate, "load_digests", "call", "identifier digests: read + load"),
    (validate, "open_plain", "iter", "read + decrypt"),
    (validate, "csv_batches", "iter", "CSV parse"),
    (validate_suite.SuiteRunner, "__post_init__", "call", "GX context + suite"),
    (validate_suite.SuiteEngine, "__init__", "call", "GX context + suite"),
    (validate_suite.SuiteRunner, "flush", "call", "GX: columns to pandas"),
    (validate_suite.SuiteRunner, "run_chunk", "call", "GX run"),
    (validate_suite.SuiteRunner, "add", "call", "GX: gather columns"),
    (validate.ValidationPass, "add", "call", "unique hashes + other"),
    (validate, "infer_suite", "call", "GX context + suite"),
    (ResidualPool, "add", "call", "residual: slice, copy, submit (parent)"),
    (ResidualPool, "_start_pool", "call", "residual: pool start (parent)"),
    (ResidualPool, "result", "call", "residual check (this thread) / wait for pool"),
    (ResidualPool, "close", "call", "residual: pool shutdown"),
    (validate, "store_report", "call", "store report"),
)


def wraps(owner: object, *, call: dict[str, str] | None = None,
          each: dict[str, str] | None = None) -> tuple[tuple[object, str, str, str], ...]:
    """``(owner, attribute, call|iter, label)`` rows for ``Phases.patched``: ``call`` maps
    functions to their labels, ``each`` functions returning iterables."""
    return tuple((owner, name, "call", label) for name, label in (call or {}).items()) + \
        tuple((owner, name, "iter", label) for name, label in (each or {}).items())


_PROFILE = "reference profile"
_WAIT = "pool: wait for children, merge"
_METRICS = "metrics (scorer) + profile scores"
#: What each evaluate phase wraps.
EVALUATE = (
    *wraps(evaluate, each={"open_plain": "read + decrypt"}, call={
        "load_model": "model load (ONNX parse + session)", "feeds": "inputs (feeds)",
        "_holdout": "held-out filter", "profile_bytes": _PROFILE,
        "store_sealed": "store (profile)", "InferencePool": "pool: start (parent)",
        "_take": _WAIT, "choose_providers": "execution providers",
        "bind_inputs": "bindings + scorer", "scorer_for": "bindings + scorer",
        "EvaluateResult": "result (contract)"}),
    *wraps(InferencePool, call={"close": "pool: shutdown (children exit)",
                                "submit": "pool: submit (parent)"}),
    *wraps(PoolWindow, call={"_take": _WAIT}),
    *wraps(datasets.TabularStream, call={"__init__": "CSV parse"}, each={"batches": "CSV parse"}),
    *wraps(evaluate._Run, call={"score": "scoring (onnxruntime)", "take": _METRICS,
                                "metrics": _METRICS}),
    *wraps(profile.ProfileBuilder, call={"add_inputs": _PROFILE, "profile": _PROFILE}),
)


def setup(root: Path, rows: int) -> tuple[WorkerContext, object, dict[str, Path]]:
    """A worker context on local buckets, the fleet's keys and vault, and the reference
    release's inputs."""
    from orchestration import reference_inputs  # the same cohort the release bench uses

    sample = reference_inputs(rows, root / "reference")
    bucket, vault = root / "bucket", root / "vault"
    for b in (bucket, vault):
        LocalStore(b.as_uri()).ensure_bucket()
    keys = local_keys(root / "keys")
    ensure_keys(keys, codec_kek_id=None)
    profile = WorkerProfile(cloud=Cloud.AWS, region="us-east-1", jurisdiction="US",
                            store_uri=bucket.as_uri())
    return WorkerContext(profile=profile), (keys, vault.as_uri()), sample


STAGES = ("pseudonymize", "validate", "evaluate")
Figures = tuple[float, float, Phases]  # wall, CPU (this process group), phases


def one_trial(ctx: WorkerContext, keys_vault: object, sample: dict[str, Path],
              cores: int, clock: Callable[[], float] = time.perf_counter,
              stages: tuple[str, ...] = STAGES) -> dict[str, Figures]:
    """Ingest, then pseudonymize and (when in ``stages``) validate and evaluate with their
    phases timed, on ``cores`` (pseudonymize always runs: the others read its output)."""
    keys, vault_uri = keys_vault  # type: ignore[misc]
    ctx.cores = CoreBudget(cores)
    rid = f"release-cost-{uuid.uuid4().hex[:8]}"
    ingest = IngestActivities(ctx).ingest(IngestInput(release_id=rid, keys=keys, sources=(
        SourceSpec(name="dataset", uri=sample["dataset"].as_uri()),
        SourceSpec(name="model", uri=sample["model"].as_uri()))))
    group = os.getpgid(0)  # this process, its fork server and the pools' children

    def timed(targets: tuple[tuple[object, str, str, str], ...],
              run: Callable[[], Any]) -> tuple[Any, Figures]:
        phases = Phases(clock)
        with phases.patched(*targets), phases.full_collections():
            phases.reset()
            t0, cpu0 = time.perf_counter(), group_cpu_seconds(group)
            result = run()
            phases.stop()
            return result, (time.perf_counter() - t0, group_cpu_seconds(group) - cpu0, phases)

    out: dict[str, Figures] = {}
    pseudo, out["pseudonymize"] = timed(PSEUDONYMIZE, lambda: pseudo_activity.
                                        PseudonymizeActivities(ctx).pseudonymize(
        PseudonymizeInput(release_id=rid, dataset=ingest.artifact("dataset"), keys=keys,
                          vault_uri=vault_uri)))
    if "validate" in stages:
        _, out["validate"] = timed(VALIDATE, lambda: validate.ValidateActivities(ctx).validate(
            ValidateInput(release_id=rid, dataset=pseudo.dataset,
                          identifier_digests=pseudo.identifier_digests)))
    if "evaluate" in stages:
        _, out["evaluate"] = timed(EVALUATE, lambda: evaluate.EvaluateActivities(ctx).evaluate(
            EvaluateInput(release_id=rid, model=ingest.artifact("model"),
                          dataset=pseudo.dataset, keys=keys)))
    return out


def pool_start(cores: int) -> float:
    """Seconds to start a forkserver pool of ``cores`` children and run one no-op on each
    (the pseudonymize pool's initializer with an empty index)."""
    from concurrent.futures import ProcessPoolExecutor

    from medpipe.activities.deid.index import KeyIndex
    from medpipe.activities.procpool import pool_context

    with parallel.shared_index(KeyIndex(b"k" * 32)) as path:
        t0 = time.perf_counter()
        pool = ProcessPoolExecutor(max_workers=cores, mp_context=pool_context(),
                                   initializer=parallel._init_child,
                                   initargs=(None, path, b"k" * 32, "csv", "bench", 0))
        try:
            list(pool.map(abs, range(cores)))
            return time.perf_counter() - t0
        finally:
            pool.shutdown(wait=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--cores", default=f"1,{len(os.sched_getaffinity(0))}")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="what the phases count: wall seconds, or the activity thread's CPU "
                         "seconds (on a loaded machine: what each phase costs)")
    ap.add_argument("--stages", default=",".join(STAGES),
                    help="which stages to run and print (pseudonymize always runs: the "
                         "others read its output)")
    ap.add_argument("--memory", choices=("worker", "default"), default="worker",
                    help="worker: Arrow's pool as a worker sets it (jemalloc, decay 0: "
                         "activities.memory); default: Arrow's default pool")
    args = ap.parse_args()
    if args.memory == "worker":
        from medpipe.activities.memory import return_freed_memory

        return_freed_memory()  # as ``medpipe worker`` does before any stage
    counts = sorted({int(c) for c in args.cores.split(",")})
    root = Path(tempfile.mkdtemp(prefix="medpipe-bench-stagecost-"))
    try:
        with light_main():  # pool children start like a worker's (bench/_lightmain.py)
            ctx, keys_vault, sample = setup(root, args.rows)
            print(f"reference dataset: {args.rows:,} rows "
                  f"({sample['dataset'].stat().st_size / 1e6:.1f} MB CSV); load average "
                  f"{os.getloadavg()[0]:.1f} (the machine is shared); Arrow memory pool "
                  f"{pa.default_memory_pool().backend_name}", flush=True)
            cold = pool_start(max(counts))
            warm = [pool_start(max(counts)) for _ in range(3)]
            print(f"pool start ({max(counts)} forkserver children, initializer run): first "
                  f"{cold:.3f} s, then {statistics.median(warm):.3f} s", flush=True)
            stages = tuple(args.stages.split(","))
            one_trial(ctx, keys_vault, sample, max(counts),  # warm-up: imports, GX, caches
                      stages=stages)
            for cores in counts:
                clock = time.thread_time if args.clock == "cpu" else time.perf_counter
                runs = [one_trial(ctx, keys_vault, sample, cores, clock, stages)
                        for _ in range(args.trials)]
                for stage in stages:
                    walls = [r[stage][0] for r in runs]
                    mid = sorted(range(len(runs)), key=lambda i: walls[i])[len(runs) // 2]
                    wall, cpu, phases = runs[mid][stage]
                    cpus = ", ".join(f"{r[stage][1]:.2f}" for r in runs)
                    print(f"{stage} on {cores} core(s): wall {wall:.3f} s (median of "
                          f"{len(runs)}: {', '.join(f'{w:.2f}' for w in walls)}), "
                          f"{cpu:.2f} CPU-s with its pool (every trial: {cpus}); its "
                          f"thread's phases in that trial:", flush=True)
                    if args.clock == "cpu":
                        thread = sum(phases.seconds.values())
                        print(f"    (CPU seconds of the activity's thread: {thread:.3f})")
                        print(phases.report(thread), flush=True)
                    else:
                        print(phases.report(wall), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
