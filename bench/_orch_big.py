"""A release of many rows (``--big-rows``) with 1, 2, 4 worker processes: wall, RSS, scaling.

The cohort is generated streaming (``_bigdata``), once, and released once per
worker count on a fresh fleet of the same dev server. Worker processes take
the US CPU profiles in turn (aws/us-east-1, azure/eastus, aws/us-east-1, ...):
every one of them may hold the release's identifiable data. They share the
machine's core budget (the bench's ``MEDPIPE_HOME``), as workers of one machine do.

One worker does a stage unless the release fans the stage out over shards:
``ReleaseRequest.fanout.min_bytes`` when this medpipe has it (the figure says
which it was), so the scaling ratio is near 1 without fan-out.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (this checkout's medpipe, not an installed one)
from _bigdata import write_big_sample
from _history import activity_seconds
from _memtrace import RssTimeline, activity_runs, memory_table
from _procs import TrialTimedOut, run_trial
from _rss import PeakRss, group_cpu_seconds
from _stack import BenchStack, connect, wait_for_pollers
from temporalio.client import WorkflowFailureError

from medpipe.activities.cores import default_cores
from medpipe.contracts.release import PlacementTimeouts, ReleaseRequest, ReleaseState
from medpipe.workers.releases import start_release

#: The profiles worker processes take in turn (US: all may hold identifiable data).
PROFILES = ("aws/us-east-1", "azure/eastus")


@dataclass(frozen=True)
class BigRun:
    """What ``--big-rows`` runs."""

    rows: int
    workers: tuple[int, ...]
    deadline: float
    fanout_min_bytes: int | None = None
    memory_trace: bool = False
    cohort_dir: str | None = None


def fanout_fields(min_bytes: int | None) -> tuple[dict[str, Any], str]:
    """The request fields that set the fan-out threshold, and a line saying what applies."""
    field = ReleaseRequest.model_fields.get("fanout")
    if field is None:
        return {}, "fan-out: not in this medpipe (one worker per stage)"
    settings = field.default
    if min_bytes is not None:
        settings = settings.model_copy(update={"min_bytes": min_bytes})
    return {"fanout": settings}, f"fan-out threshold: {settings.min_bytes:,} bytes"


async def one_release(stack: BenchStack, sample: dict[str, Path], workers: int,
                      run: BigRun, extra: dict[str, Any]) -> dict[str, Any]:
    """Release ``sample`` with ``workers`` fresh worker processes; figures of that run."""
    fleet = stack.fleet()
    procs = [stack.worker(fleet, PROFILES[i % len(PROFILES)]) for i in range(workers)]
    client = await connect(stack.server.address)
    await wait_for_pollers(client, [fleet.control_queue,
                                    *(f"{fleet.queue_prefix}.{p.replace('/', '.')}.cpu"
                                      for p in PROFILES[:workers])], timeout=120)
    request = ReleaseRequest(
        model="big", version=f"v{uuid.uuid4().hex[:10]}", model_uri=sample["model"].as_uri(),
        data_uri=sample["dataset"].as_uri(), fleet=fleet, prefer_gpu=False,
        timeouts=PlacementTimeouts(schedule_to_start_s=30, heartbeat_s=30,
                                   start_to_close_s=run.deadline), **extra)
    try:
        with PeakRss([p.pid for p in procs]) as rss, RssTimeline([p.pid for p in procs]) as tl:
            cpu0 = [group_cpu_seconds(p.pid) for p in procs]
            t0 = time.perf_counter()
            handle = await start_release(client, request)
            status = await run_trial(handle.result(), run.deadline,
                                     f"{run.rows:,}-row release, {workers} worker(s)")
            wall = time.perf_counter() - t0
            cpu = [group_cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
    finally:
        for p in procs:
            stack.procs.remove(p)
            stack.kill(p)
        # the release's objects (sealed dataset copies, shards: several times the CSV) go
        # before the next release, or three runs of a big cohort fill the disk
        shutil.rmtree(stack.dir / fleet.queue_prefix, ignore_errors=True)
    if status.state is not ReleaseState.SUCCEEDED:
        raise RuntimeError(f"release ended {status.state}: {status.error or ''}")
    trace = memory_table(await activity_runs(client, handle.id), tl, [p.pid for p in procs]) \
        if run.memory_trace else []
    return {"wall": wall, "work": await activity_seconds(client, handle.id), "trace": trace,
            "cpu": cpu, "main_mib": [rss.main_kib.get(p.pid, 0) / 1024 for p in procs],
            "child_mib": [rss.child_kib.get(p.pid, 0) / 1024 for p in procs]}


async def big_release(run: BigRun) -> None:
    """Generate the cohort, release it once per worker count, print the figures."""
    out = Path(tempfile.mkdtemp(prefix="medpipe-big-", dir=run.cohort_dir))
    walls: dict[int, float] = {}
    try:  # the generated cohort goes whatever happens, an interrupted generation included
        t0 = time.perf_counter()
        sample = write_big_sample(out, run.rows, processes=min(2, default_cores()))
        size = sample["dataset"].stat().st_size
        extra, fanout_line = fanout_fields(run.fanout_min_bytes)
        print(f"big release: {run.rows:,} rows with notes ({size / 1e6:,.0f} MB CSV, generated "
              f"streaming in {time.perf_counter() - t0:.0f} s); {default_cores()} cores; "
              f"{fanout_line}; {run.deadline:.0f} s deadline per release", flush=True)
        with BenchStack() as stack:  # removes its directory (server db, logs) when it stops
            for n in run.workers:
                try:
                    fig = await one_release(stack, sample, n, run, extra)
                except (TrialTimedOut, RuntimeError, WorkflowFailureError) as e:
                    print(f"  {n} worker(s): FAILED {e}", flush=True)
                    continue
                walls[n] = fig["wall"]
                stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(fig["work"].items(),
                                                                      key=lambda kv: -kv[1]))
                print(f"  {n} worker(s): wall {fig['wall']:.1f} s, "
                      f"{run.rows / fig['wall']:,.0f} rows/s; stage work (s): {stages}",
                      flush=True)
                print(f"    workers' CPU (s, with their pools): {sum(fig['cpu']):.1f} = "
                      + " + ".join(f"{c:.1f}" for c in fig["cpu"]), flush=True)
                print("    peak RSS per worker (VmHWM): "
                      + "; ".join(f"w{i + 1} {m:,.0f} MiB (children max {c:,.0f} MiB)"
                                  for i, (m, c) in enumerate(zip(fig["main_mib"],
                                                                 fig["child_mib"],
                                                                 strict=True))), flush=True)
                for line in fig["trace"]:
                    print(f"    {line}", flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if 1 in walls:
        ratios = ", ".join(f"{n} workers x{walls[1] / w:.2f}" for n, w in walls.items() if n != 1)
        print(f"scaling (wall with 1 worker / wall with n): {ratios or 'n/a'}")
