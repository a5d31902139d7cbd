"""Orchestration of releases on the local stack: overhead, stage work, concurrency, scale.

Prints:

* the reference release's wall time vs the sum of the same activities run
  directly in one process (ratio, goal <= 1.10) and the per-stage
  orchestration overhead in ms;
* its stage work (the activities' own Started→Completed times in history),
  goal <= 3 s for 100k rows with notes;
* N concurrent releases (default 10): wall, releases/min, and % of the ideal
  ``N x single stage work / cores`` (goal >= 80 %); the CPU seconds the workers
  used over the burst's wall time (cores kept busy) next to the load of the rest
  of the machine (it is shared: a poor wall ratio with a busy neighbour is not
  ours); which worker ran the stages and the CPU seconds each worker used; and,
  per activity, its mean time in the burst (waiting for a core included) against
  the same activity run alone;
* ``--big-rows`` (default 10M) rows released with 1, 2, 4 worker processes
  (``--workers``): wall, per-stage work, peak RSS (VmHWM) of each worker and
  of its child processes, and the scaling ratio to one worker. A stage fans
  out over workers only above the release's fan-out threshold (when this
  medpipe has one: ``--fanout-min-bytes``); otherwise one worker does each
  stage and the ratio stays near 1.

Reference release: 100k-row cohort with notes, ~5 MB model. Run:
``./run bench orchestration`` (``--parts reference,concurrent,big``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from _bigdata import vary_notes
from _cpu import CpuWindow
from _history import activity_seconds
from _lightmain import light_main
from _orch_big import BigRun, big_release
from _procs import TrialTimedOut, run_trial
from _rss import group_cpu_seconds
from _stack import BenchStack, connect, wait_for_pollers
from _stagetrace import TRACE_ENV, WORKER_ARGV, count_processes, measured, read_trace
from temporalio.client import Client

from medpipe.activities.context import WorkerContext
from medpipe.activities.cores import default_cores
from medpipe.activities.evaluate import EvaluateActivities
from medpipe.activities.ingest import IngestActivities
from medpipe.activities.memory import return_freed_memory
from medpipe.activities.pseudonymize.activity import PseudonymizeActivities
from medpipe.activities.signing.sign import SignActivities
from medpipe.activities.validate import ValidateActivities
from medpipe.contracts.evaluate import EvaluateInput
from medpipe.contracts.ingest import IngestInput, SourceSpec
from medpipe.contracts.ledger import LedgerAppendInput
from medpipe.contracts.pseudonymize import PseudonymizeInput
from medpipe.contracts.release import PlacementTimeouts, ReleaseRequest, ReleaseStatus, Stage
from medpipe.contracts.sign import SignInput
from medpipe.contracts.validate import ValidateInput
from medpipe.workers.releases import start_release
from medpipe.workers.sample import write_sample


def reference_inputs(rows: int, out: Path) -> dict[str, Path]:
    """The reference release's model and dataset (``rows`` rows with varied notes) in
    ``out`` (the bench stack's directory, so they go when the stack does)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = write_sample(out, patients=rows // 3, visits=3, hidden=1100)
    table = pacsv.read_csv(paths["dataset"], convert_options=pacsv.ConvertOptions(
        column_types={"zip": pa.string()}))  # ZIPs keep their leading zeros
    pacsv.write_csv(vary_notes(table), paths["dataset"])
    return paths


def direct_run(fleet, sample: dict[str, Path],  # type: ignore[no-untyped-def]
               timed: dict[str, float] | None = None,
               trace: list[dict[str, Any]] | None = None) -> tuple[float, int]:
    """The same activities the release runs, called directly in one process (no Temporal).

    Returns the seconds they took and how many stages that was; ``timed`` gets each
    activity's seconds (by the names history gives them), ``trace`` the data stages'
    costs as a traced worker records them (``bench/_stagetrace.py``).
    """
    with light_main():
        return _direct_run(fleet, sample, {} if timed is None else timed, trace)


def _direct_run(fleet, sample: dict[str, Path],  # type: ignore[no-untyped-def]
                timed: dict[str, float], trace: list[dict[str, Any]] | None
                ) -> tuple[float, int]:
    ctx = WorkerContext(profile=fleet.find("aws/us-east-1"))
    rid = f"release-direct-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()

    def step(name: str, t: float) -> float:
        now = time.perf_counter()
        timed[name] = timed.get(name, 0.0) + now - t
        return now

    def stage(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn if trace is None else measured(name, fn, trace.append)

    sign = SignActivities(ctx)
    for kind in ("release-started", "stage-completed"):  # the release's ledger entries
        sign.ledger_append(LedgerAppendInput(ledger_uri=fleet.ledger_uri, keys=fleet.keys,
                                             kind=kind, release_id=rid, payload={},
                                             idempotency_key=f"{rid}/{kind}"))
    t = step("ledger", t0)
    ingest = IngestActivities(ctx).ingest(IngestInput(release_id=rid, keys=fleet.keys, sources=(
        SourceSpec(name="model", uri=sample["model"].as_uri()),
        SourceSpec(name="dataset", uri=sample["dataset"].as_uri()))))
    t = step("ingest", t)
    pseudo = stage("pseudonymize", PseudonymizeActivities(ctx).pseudonymize)(PseudonymizeInput(
        release_id=rid, dataset=ingest.artifact("dataset"), keys=fleet.keys,
        vault_uri=fleet.vault_uri))
    t = step("pseudonymize", t)
    stage("validate", ValidateActivities(ctx).validate)(ValidateInput(
        release_id=rid, dataset=pseudo.dataset, identifier_digests=pseudo.identifier_digests))
    t = step("validate", t)
    evaluation = stage("evaluate", EvaluateActivities(ctx).evaluate)(EvaluateInput(
        release_id=rid, model=ingest.artifact("model"), dataset=pseudo.dataset))
    t = step("evaluate", t)
    m = evaluation.metrics
    sign.sign(SignInput(
        release_id=rid, model_name="bench", version="direct", model=ingest.artifact("model"),
        keys=fleet.keys, request={}, datasets=(ingest.artifact("dataset"), pseudo.dataset),
        policy_sha256=pseudo.policy_sha256, reports=(pseudo.report_ref,),
        metrics=m.figures(), ledger_uri=fleet.ledger_uri))
    step("sign", t)
    return time.perf_counter() - t0, 5


def request(fleet, sample: dict[str, Path]) -> ReleaseRequest:  # type: ignore[no-untyped-def]
    return ReleaseRequest(model="bench", version=f"v{uuid.uuid4().hex[:10]}",
                          model_uri=sample["model"].as_uri(), data_uri=sample["dataset"].as_uri(),
                          fleet=fleet, prefer_gpu=False,
                          timeouts=PlacementTimeouts(schedule_to_start_s=10, heartbeat_s=10))


async def release_timed(client: Client, fleet, sample: dict[str, Path],  # type: ignore[no-untyped-def]
                        ran_on: collections.Counter[str] | None = None
                        ) -> tuple[float, dict[str, float]]:
    """Seconds for one release, start to result, and each activity's work (from history);
    ``ran_on`` counts the workers its stages ran on."""
    t0 = time.perf_counter()
    handle = await start_release(client, request(fleet, sample))
    status = await handle.result()
    wall = time.perf_counter() - t0
    if ran_on is not None:
        ran_on.update(st.ran_on.worker_id.split("@")[0] for st in status.stages
                      if st.ran_on is not None)
    return wall, await activity_seconds(client, handle.id)


async def main(rows: int, trials: int, concurrent: int, deadline: float,
               parts: set[str], big: BigRun, profiles: tuple[str, ...],
               trace: bool = False, worker_session: str = "bench") -> None:
    # the direct run's memory as a worker's (activities.memory: Arrow's jemalloc pool purging
    # at once), as bench/stagecost.py does: the comparison is then of where the stages run,
    # not of two allocators (Arrow's default mimalloc pool keeps freed pages for reuse)
    return_freed_memory()
    # the bench's workers share one core budget of their own (lock files under this home)
    home = tempfile.mkdtemp(prefix="medpipe-bench-home-")
    os.environ["MEDPIPE_HOME"] = home
    try:
        if parts & {"reference", "concurrent"}:
            await reference_and_concurrent(rows, trials, concurrent, deadline, parts, profiles,
                                           trace, worker_session)
        if "big" in parts:
            await big_release(big)
    finally:
        shutil.rmtree(home, ignore_errors=True)


async def reference_and_concurrent(rows: int, trials: int, concurrent: int, deadline: float,
                                   parts: set[str], profiles: tuple[str, ...],
                                   trace: bool = False, worker_session: str = "bench"
                                   ) -> None:
    cores = default_cores()
    with BenchStack() as stack:
        sample = reference_inputs(rows, stack.dir / "reference")
        where = "their own sessions" if worker_session == "own" else "this bench's session"
        print(f"reference release: {rows:,} rows ({sample['dataset'].stat().st_size / 1e6:.1f} MB "
              f"CSV), model {sample['model'].stat().st_size / 1e6:.1f} MB; {deadline:.0f} s "
              f"deadline per trial; workers in {where}; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        fleet = stack.fleet()
        trace_file = stack.dir / "stagetrace.jsonl"  # what traced workers record
        own = worker_session == "own"
        for profile in profiles:
            if trace:
                stack.worker(fleet, profile, command=WORKER_ARGV,
                             env={TRACE_ENV: str(trace_file)}, own_session=own)
            else:
                stack.worker(fleet, profile, own_session=own)
        client = await connect(stack.server.address)
        await wait_for_pollers(client, [fleet.control_queue, *(
            f"{fleet.queue_prefix}.{p.replace('/', '.')}.cpu" for p in set(profiles))])
        # warm-up (imports, onnxruntime session caches): the first release of fresh workers
        first, first_work = await run_trial(release_timed(client, fleet, sample), deadline,
                                            "warm-up release")
        print(f"first release of fresh workers (warm-up, not counted): wall {first:.2f} s; "
              + "; ".join(f"{name.rpartition('.')[2]} {s:.2f} s" for name, s in
                          sorted(first_work.items(), key=lambda kv: -kv[1])), flush=True)
        direct_run(fleet, sample)

        walls, directs, per_stage, works, timed_out = [], [], [], [], 0
        direct_cpus: list[float] = []
        traced: dict[str, list[dict[str, Any]]] = {"worker": [], "direct": []}
        per_activity: dict[str, list[float]] = collections.defaultdict(list)
        per_direct: dict[str, list[float]] = collections.defaultdict(list)
        ran_on: collections.Counter[str] = collections.Counter()
        cpus: list[CpuWindow] = []
        for i in range(trials if "reference" in parts else 1):
            timed: dict[str, float] = {}
            if trace:
                count_processes()
            cpu0 = group_cpu_seconds(os.getpgid(0))  # this process and its pools
            direct, stages = direct_run(fleet, sample, timed,
                                        traced["direct"] if trace else None)
            direct_cpu = group_cpu_seconds(os.getpgid(0)) - cpu0
            seen = len(read_trace(trace_file))
            for name, seconds in timed.items():
                per_direct[name].append(seconds)
            cpu = CpuWindow([p.pid for p in stack.procs]).start()
            try:
                wall, by_activity = await run_trial(release_timed(client, fleet, sample, ran_on),
                                                    deadline, f"release trial {i + 1}")
            except TrialTimedOut as e:
                timed_out += 1
                print(f"  TIMED OUT {e}", flush=True)
                continue
            cpus.append(cpu.stop())
            direct_cpus.append(direct_cpu)
            traced["worker"] += read_trace(trace_file)[seen:]
            walls.append(wall)
            works.append(sum(by_activity.values()))
            for name, seconds in by_activity.items():
                per_activity[name.rpartition(".")[2]].append(seconds)
            directs.append(direct)
            per_stage.append((wall - direct) / stages * 1000)
        late = f"; {timed_out} trial(s) TIMED OUT" if timed_out else ""
        if walls:
            wall, direct = statistics.median(walls), statistics.median(directs)
            print(f"single release (median of {len(walls)}): wall {wall:.3f} s, direct "
                  f"activities {direct:.3f} s, ratio {wall / direct:.3f} (goal <= 1.10){late}")
            print(f"orchestration overhead per stage: {statistics.median(per_stage):.1f} ms "
                  f"(min {min(per_stage):.1f}, max {max(per_stage):.1f})")
            work = statistics.median(works)
            print(f"stage work of the reference release ({rows:,} rows with notes; activities' "
                  f"Started->Completed in history): {work:.2f} s (goal <= 3 s: "
                  f"{'met' if work <= 3 else f'x{work / 3:.1f} over'}), wall {wall:.2f} s")
            # the workflow's own time, without the direct run: that one runs in this
            # bench's session while the workers run in theirs (sched_autogroup shares the CPU
            # per session), so under other sessions' load the ratio above swings with it
            proper = [w - k for w, k in zip(walls, works, strict=True)]
            mid = statistics.median(proper)
            print(f"  orchestration proper (wall - stage work, no direct run in it): "
                  f"{mid:.3f} s, {mid / stages * 1000:.0f} ms per stage (min "
                  f"{min(proper):.3f}, max {max(proper):.3f} s)")
            ours = statistics.median(c.ours for c in cpus)
            others = statistics.median(max(0.0, c.busy - c.ours) / w
                                       for c, w in zip(cpus, walls, strict=True))
            print(f"  workers' CPU per release (their pools included): {ours:.2f} CPU-s "
                  f"(median); the rest of the machine kept {others:.2f} of {cores} cores busy")
            # the same comparison in CPU seconds: what the workers spent on a release (its
            # orchestration included) against what the direct run spent, pools included;
            # unlike wall time, it does not depend on how the kernel shares the CPU between
            # the workers' sessions and this bench's
            by_cpu = [c.ours / d for c, d in zip(cpus, direct_cpus, strict=True)]
            print(f"  CPU ratio: workers' CPU-s per release / direct run's CPU-s "
                  f"{statistics.median(direct_cpus):.2f} = {statistics.median(by_cpu):.3f} "
                  f"(median; trials {', '.join(f'{r:.3f}' for r in by_cpu)})")
            print("  per activity (median, min of the trials): " + "; ".join(
                f"{name} {statistics.median(v):.2f} s ({min(v):.2f})"
                for name, v in sorted(per_activity.items(), key=lambda kv: -max(kv[1]))))
            print("  the trials' stages ran on: " + ", ".join(
                f"{w} x{n}" for w, n in ran_on.most_common()))
            # what the ratio is made of: the same activity in a worker (history) and here
            print("  per activity called directly (median, min): " + "; ".join(
                f"{name} {statistics.median(v):.2f} s ({min(v):.2f})"
                for name, v in sorted(per_direct.items(), key=lambda kv: -max(kv[1]))))
            if trace:
                print_traces(traced)
        else:
            print(f"single release: no trial ended{late}")
            return
        if "concurrent" not in parts:
            return

        async def burst() -> tuple[float, list[ReleaseStatus], list[str]]:
            t0 = time.perf_counter()
            handles = [await start_release(client, request(fleet, sample))
                       for _ in range(concurrent)]
            statuses = await asyncio.gather(*(h.result() for h in handles))
            return time.perf_counter() - t0, statuses, [h.id for h in handles]

        single = await activity_seconds_of_last(client, fleet, sample)
        cpu = CpuWindow([p.pid for p in stack.procs]).start()
        per_worker = [CpuWindow([p.pid]).start() for p in stack.procs]
        try:
            total, statuses, ids = await run_trial(burst(), deadline * max(1, concurrent // 2),
                                                   f"{concurrent} concurrent releases")
        except TrialTimedOut as e:
            print(f"{concurrent} concurrent releases: TIMED OUT ({e})")
            return
        cpu.stop()
        for w in per_worker:
            w.stop()
        ideal = concurrent * work / cores
        print(f"{concurrent} concurrent releases: total {total:.2f} s, "
              f"{concurrent / total * 60:.1f} releases/min ({len(profiles)} workers, {cores} "
              f"cores); ideal {concurrent} x {work:.2f} s / {cores} = {ideal:.1f} s: "
              f"{ideal / total:.0%} of ideal (goal >= 80 %)")
        # a release alone already runs its pools on every core: its wall-clock stage work
        # over the cores understates what N of them need; their CPU over the cores does not
        by_cpu = concurrent * ours / cores
        print(f"  by CPU: ideal {concurrent} x {ours:.2f} CPU-s (one release alone, pools "
              f"included) / {cores} = {by_cpu:.1f} s: {by_cpu / total:.0%} of ideal")
        print("  " + cpu.report(total, cores))
        print("  CPU-s per worker (with its pools): " + ", ".join(
            f"{name} {w.ours:.1f}" for name, w in zip(profiles, per_worker, strict=True)))
        where = collections.Counter(st.ran_on.worker_id for status in statuses
                                    for st in status.stages if st.ran_on is not None)
        print("  stages ran on: " + ", ".join(f"{w} x{n}" for w, n in where.most_common()))
        homes = collections.Counter(
            (st.detail.split(" (")[0] or "alone: fleet order") for status in statuses
            for st in status.stages if st.stage is Stage.INGEST)
        print("  ingest placement: " + "; ".join(f"{why} x{n}" for why, n in homes.items()))
        await print_stage_slowdown(client, ids, single)


def print_traces(traced: dict[str, list[dict[str, Any]]]) -> None:
    """Each data stage's costs in a worker and called directly (medians of the trials;
    ``bench/_stagetrace.py``)."""
    print("  data stages measured where they ran (--trace; medians of the trials):")
    for name in ("pseudonymize", "validate", "evaluate"):
        for side in ("worker", "direct"):
            rows = [r for r in traced[side] if r["name"] == name]
            if not rows:
                continue

            def mid(key: str, rows: list[dict[str, Any]] = rows) -> float:
                return statistics.median(r[key] for r in rows)

            print(f"    {name:12s} {side:6s} wall {mid('wall'):.3f} s; its thread "
                  f"{mid('thread_user'):.3f} user + {mid('thread_sys'):.3f} sys CPU-s, "
                  f"{mid('thread_minflt') / 1000:.0f}k minor faults; process "
                  f"{mid('process_cpu'):.3f}, group {mid('group_cpu'):.3f} CPU-s; full GCs "
                  f"{mid('gc_full'):.0f} ({mid('gc_full_s'):.3f} s); "
                  f"{mid('processes'):.0f} processes")
    stages = [r for r in traced["worker"] if r["name"] != "release_freed"]
    print(f"    the worker's {len(stages)} data stages ran on "
          f"{len({r['thread'] for r in stages})} executor threads")
    freed = [r for r in traced["worker"] if r["name"] == "release_freed"]
    if freed:
        print(f"    the worker's release_freed after each data stage: median "
              f"{statistics.median(r['wall'] for r in freed) * 1000:.1f} ms "
              f"({statistics.median(r['thread_cpu'] for r in freed) * 1000:.1f} ms CPU)")


async def activity_seconds_of_last(client: Client, fleet, sample: dict[str, Path]  # type: ignore[no-untyped-def]
                                   ) -> dict[str, float]:
    """Per-activity work of one release run alone (the reference for the burst)."""
    handle = await start_release(client, request(fleet, sample))
    await handle.result()
    return await activity_seconds(client, handle.id)


async def print_stage_slowdown(client: Client, ids: list[str], single: dict[str, float]) -> None:
    """Where the burst's time went: each activity's mean Started->Completed in the burst
    (waiting for a core included) against the same activity run alone."""
    burst: dict[str, list[float]] = collections.defaultdict(list)
    for wid in ids:
        for name, seconds in (await activity_seconds(client, wid)).items():
            burst[name].append(seconds)
    parts = [f"{name.rpartition('.')[2]} {statistics.mean(v):.2f} s vs {single.get(name, 0):.2f}"
             for name, v in sorted(burst.items(), key=lambda kv: -statistics.mean(kv[1]))]
    print("  per release in the burst vs alone (activity Started->Completed): "
          + "; ".join(parts))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--concurrent", type=int, default=10)
    ap.add_argument("--trial-deadline", type=float, default=300.0,
                    help="seconds before a release is reported as timed out")
    ap.add_argument("--profiles", default="aws/us-east-1,azure/eastus",
                    help="worker processes of the reference and concurrent runs (one each)")
    ap.add_argument("--parts", default="reference,concurrent,big",
                    help="comma-separated: reference, concurrent, big")
    ap.add_argument("--big-rows", type=int, default=10_000_000,
                    help="rows of the big release (generated streaming)")
    ap.add_argument("--workers", default="1,2,4",
                    help="worker processes for the big release, one run per figure")
    ap.add_argument("--big-deadline", type=float, default=3600.0,
                    help="seconds before a big release is reported as timed out")
    ap.add_argument("--fanout-min-bytes", type=int, default=None,
                    help="the big release's fan-out threshold (when medpipe has one)")
    ap.add_argument("--cohort-dir", default=None,
                    help="where the big cohort is generated (default: the temp dir; "
                         "/dev/shm keeps its 3 GB for 10M rows off a nearly full disk)")
    ap.add_argument("--memory-trace", action="store_true",
                    help="big release: each activity's worker RSS at start/end/peak and its "
                         "pool children's peak")
    ap.add_argument("--trace", action="store_true",
                    help="measure the data stages the same way in the workers and in the "
                         "direct run: thread/process/group CPU-s, page faults, full GCs "
                         "(bench/_stagetrace.py)")
    ap.add_argument("--worker-session", choices=("bench", "own"), default="bench",
                    help="reference and concurrent runs: the workers in this bench's session "
                         "(the kernel schedules them as it does the direct run) or each in "
                         "its own, as in a deployment (the wall ratio then also says how "
                         "the kernel shares the CPU between sessions: sched_autogroup)")
    args = ap.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"reference", "concurrent", "big"}
    if unknown:
        ap.error(f"--parts: unknown {sorted(unknown)}")
    counts = tuple(int(w) for w in args.workers.split(","))
    asyncio.run(main(args.rows, args.trials, args.concurrent, args.trial_deadline, parts,
                     BigRun(rows=args.big_rows, workers=counts, deadline=args.big_deadline,
                            fanout_min_bytes=args.fanout_min_bytes,
                            memory_trace=args.memory_trace, cohort_dir=args.cohort_dir),
                     tuple(p.strip() for p in args.profiles.split(",") if p.strip()),
                     args.trace, args.worker_session))
