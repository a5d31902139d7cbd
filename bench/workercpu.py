"""Where a release's worker CPU goes: the stages' own work, and everything else (issue 17).

``bench/orchestration.py`` prints the workers' CPU seconds per release; this splits
them, for each worker process of the local stack, for one release alone and for a
burst of ``--concurrent`` releases, into

* **(a) the activities' own work**: the CPU of the thread that ran each activity
  function, inside it (a data stage's own function, inside its core; ingest, sign
  and ledger as a whole), plus the CPU of the stages' pools (the worker's process
  group minus the worker process: the fork server and its children);
* **(b) everything else**, by thread: the data stages' wrappers in their activity
  threads (the wait for a core, ``release_freed``), the activity threads outside any
  activity, the event loop (the SDK's activity and workflow plumbing, payload
  conversion, heartbeats), the workflow task threads (the sandboxed workflows), the
  Temporal core's Rust threads (gRPC, polling), other Python threads and threads that
  ended during the window.

Per-thread CPU comes from ``/proc/PID/task/TID/stat``; the workers are traced ones
(``bench/_stagetrace.py``, ``ACCOUNT_ENV``): they record each activity's thread CPU
and keep a map of their threads' names. Figures are CPU-s per release (the burst's
divided by its releases), the median over the trials of one release alone.

Run: ``PYTHONPATH=. python bench/workercpu.py [--trials 3] [--concurrent 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _cpu import CpuWindow
from _procs import run_trial
from _rss import group_cpu_seconds
from _stack import BenchStack, connect, wait_for_pollers
from _stagetrace import ACCOUNT_ENV, TRACE_ENV, WORKER_ARGV, read_trace, thread_names_path
from orchestration import reference_inputs, release_timed, request

from medpipe.contracts.names import ActivityName
from medpipe.workers.releases import start_release

_TICK = os.sysconf("SC_CLK_TCK")
#: The data stages (the activities a worker runs holding a core: ``workers.worker``).
DATA_ACTIVITIES = {ActivityName.PSEUDONYMIZE, ActivityName.PSEUDONYMIZE_LEARN,
                   ActivityName.PSEUDONYMIZE_LEARN_SHARD, ActivityName.PSEUDONYMIZE_LEARN_MERGE,
                   ActivityName.PSEUDONYMIZE_SHARD, ActivityName.PSEUDONYMIZE_MERGE,
                   ActivityName.VALIDATE, ActivityName.VALIDATE_SHARD,
                   ActivityName.VALIDATE_MERGE, ActivityName.EVALUATE}
#: Their functions' records (``_stagetrace.traced_worker`` names them by the last part).
DATA = {str(n).rpartition(".")[2] for n in DATA_ACTIVITIES}


def _cpu(stat: str) -> float:
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


@dataclass
class Snapshot:
    """One worker process's CPU now: the process (its ended threads included), its process
    group (pools included), each live thread's, and the Python names of its threads."""

    process: float
    group: float
    threads: dict[int, tuple[str, float]]  # tid -> (name, CPU-s)

    @classmethod
    def take(cls, pid: int, names_dir: Path) -> Snapshot:
        try:
            names = json.loads(thread_names_path(names_dir, pid).read_text())
        except (OSError, ValueError):
            names = {}
        threads = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except OSError:
                continue  # ended meanwhile
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            threads[int(tid)] = (names.get(tid, comm), _cpu(stat))
        return cls(_cpu(Path(f"/proc/{pid}/stat").read_text()), group_cpu_seconds(pid),
                   threads)


def thread_kind(name: str) -> str:
    """A thread's line in the table, from its Python name (or ``comm`` for native ones)."""
    if name == "MainThread":
        return "event loop (main thread): SDK plumbing, payloads, heartbeats"
    if name.startswith("temporal_workflow_"):
        return "workflow task threads (sandboxed workflows)"
    if name.startswith("tokio-runtime"):
        return "Temporal core (Rust: gRPC, polling)"
    if name.startswith("ThreadPoolExecutor-"):
        return "activity threads"
    if name == "python":  # no Python name: started by a native library
        return "native threads (no Python name: Arrow's read-ahead and CPU pool, OpenBLAS...)"
    return "other thread: " + re.sub(r"[-_]?\d+", "", name)


@dataclass
class Account:
    """CPU-s of one worker process over a window, by line of the table."""

    lines: dict[str, float] = field(default_factory=lambda: collections.defaultdict(float))

    @classmethod
    def between(cls, a: Snapshot, b: Snapshot, records: list[dict[str, Any]]) -> Account:
        acc = cls()
        by_kind: dict[str, float] = collections.defaultdict(float)
        for tid, (name, cpu) in b.threads.items():
            by_kind[thread_kind(name)] += cpu - a.threads.get(tid, (name, 0.0))[1]
        ended = (b.process - a.process) - sum(by_kind.values())
        for r in (r for r in records if r["name"] == "thread-ended"):
            cpu = r["cpu"] - a.threads.get(r["thread"], ("", 0.0))[1]
            by_kind[thread_kind(r["thread_name"]) + " (ended)"] += cpu
            ended -= cpu
        records = [r for r in records if r["name"] != "thread-ended"]
        inner = {r["name"]: 0.0 for r in records}
        for r in records:
            inner[r["name"]] += r["thread_user"] + r["thread_sys"]
        own = sum(s for n, s in inner.items() if n in DATA)
        wholes = sum(s for n, s in inner.items() if n.startswith("activity:"))
        data_wholes = sum(s for n, s in inner.items()
                          if n.partition(":")[2] in DATA_ACTIVITIES)
        for n, s in inner.items():
            if n in DATA:
                acc.lines[f"(a) {n}"] += s
            elif n.startswith("activity:") and n.partition(":")[2] not in DATA_ACTIVITIES:
                acc.lines[f"(a) {n.partition(':')[2]}"] += s
        acc.lines["(a) the stages' pools (fork server and children)"] += (
            (b.group - a.group) - (b.process - a.process))
        acc.lines["(b) data stages' wrappers: core wait, release_freed"] += data_wholes - own
        acc.lines["(b) activity threads outside any activity"] += (
            by_kind.pop("activity threads", 0.0) - wholes)
        for kind, s in by_kind.items():
            acc.lines[f"(b) {kind}"] += s
        acc.lines["(b) threads that ended in the window, unnamed"] += ended
        return acc


async def measured_window(stack: BenchStack, names_dir: Path, trace_file: Path,
                          run: Any) -> list[Account]:
    """Run ``run`` (an awaitable) and account each worker's CPU meanwhile."""
    pids = [p.pid for p in stack.procs]
    seen = len(read_trace(trace_file))
    before = [Snapshot.take(pid, names_dir) for pid in pids]
    await run
    after = [Snapshot.take(pid, names_dir) for pid in pids]
    time.sleep(0.05)  # the last records are appended as the activities return
    records = read_trace(trace_file)[seen:]
    return [Account.between(a, b, [r for r in records if r.get("pid") == pid])
            for pid, a, b in zip(pids, before, after, strict=True)]


async def gx_imported(trace_file: Path, pids: list[int], deadline: float) -> None:
    """Wait until every worker has imported great-expectations (a worker that ran no
    validate yet does it once idle for ``validate.GX_IDLE_S``): a one-time cost, not a
    release's."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        done = {r.get("pid") for r in read_trace(trace_file)
                if r.get("thread_name") == "medpipe-gx-import"}
        if done >= set(pids):
            return
        await asyncio.sleep(1.0)
    print(f"great-expectations not imported by every worker after {deadline:.0f} s")


def print_table(title: str, profiles: list[str], columns: dict[str, list[list[Account]]],
                releases: dict[str, int]) -> None:
    """Median CPU-s per release of each line, per worker, for each scenario."""
    print(f"\n{title}")
    columns = {scen: runs for scen, runs in columns.items() if runs}
    names = sorted({n for runs in columns.values() for run in runs for acc in run
                    for n in acc.lines})
    names.sort(key=lambda n: (not n.startswith("(a)"), n))
    heads = [f"{scen}: {prof}" for scen in columns for prof in profiles]
    print("| CPU-s per release | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))

    def cell(scen: str, w: int, pick: Any) -> float:
        return statistics.median(pick(run[w]) / releases[scen] for run in columns[scen])

    for n in names:
        vals = [cell(scen, w, lambda a, n=n: a.lines.get(n, 0.0))
                for scen in columns for w in range(len(profiles))]
        if max(abs(v) for v in vals) < 0.0005:
            continue
        print(f"| {n} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    for part, label in (("(a)", "(a) total"), ("(b)", "(b) total"), ("", "total")):
        vals = [cell(scen, w, lambda a, p=part: sum(s for n, s in a.lines.items()
                                                    if n.startswith(p)))
                for scen in columns for w in range(len(profiles))]
        print(f"| **{label}** | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    for scen, runs in columns.items():
        tot = [sum(sum(a.lines.values()) for a in run) / releases[scen] for run in runs]
        b = [sum(sum(s for n, s in a.lines.items() if n.startswith("(b)")) for a in run)
             / releases[scen] for run in runs]
        print(f"{scen}: all workers {', '.join(f'{t:.2f}' for t in tot)} CPU-s per release "
              f"(trials), of which (b) {', '.join(f'{x:.2f}' for x in b)}")


async def main(args: argparse.Namespace) -> None:
    home = tempfile.mkdtemp(prefix="medpipe-bench-home-")
    os.environ["MEDPIPE_HOME"] = home  # the workers' own core budget (lock files)
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    try:
        with BenchStack() as stack:
            sample = reference_inputs(args.rows, stack.dir / "reference")
            fleet = stack.fleet()
            names_dir = stack.dir / "threads"
            names_dir.mkdir()
            trace_file = stack.dir / "stagetrace.jsonl"
            for profile in profiles:
                stack.worker(fleet, profile, command=WORKER_ARGV, own_session=False,
                             env={TRACE_ENV: str(trace_file), ACCOUNT_ENV: str(names_dir)})
            client = await connect(stack.server.address)
            await wait_for_pollers(client, [fleet.control_queue, *(
                f"{fleet.queue_prefix}.{p.replace('/', '.')}.cpu" for p in set(profiles))])
            print(f"reference release: {args.rows:,} rows; {len(profiles)} traced workers; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
            await run_trial(release_timed(client, fleet, sample), args.trial_deadline,
                            "warm-up release")
            await gx_imported(trace_file, [p.pid for p in stack.procs], args.trial_deadline)
            columns: dict[str, list[list[Account]]] = {"alone": [], "burst": []}
            for i in range(args.trials):
                cpu = CpuWindow([p.pid for p in stack.procs]).start()
                columns["alone"].append(await measured_window(
                    stack, names_dir, trace_file,
                    run_trial(release_timed(client, fleet, sample), args.trial_deadline,
                              f"release {i + 1}")))
                cpu.stop()
                print(f"release {i + 1}: workers {cpu.ours:.2f} CPU-s; the rest of the "
                      f"machine {max(0.0, cpu.busy - cpu.ours):.2f} CPU-s; load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)

            async def burst() -> None:
                handles = [await start_release(client, request(fleet, sample))
                           for _ in range(args.concurrent)]
                await asyncio.gather(*(h.result() for h in handles))

            for i in range(args.bursts):
                t0 = time.perf_counter()
                cpu = CpuWindow([p.pid for p in stack.procs]).start()
                columns["burst"].append(await measured_window(
                    stack, names_dir, trace_file,
                    run_trial(burst(), args.trial_deadline * max(1, args.concurrent // 2),
                              f"burst {i + 1}")))
                cpu.stop()
                print(f"burst {i + 1} of {args.concurrent}: {time.perf_counter() - t0:.1f} s, "
                      f"workers {cpu.ours:.1f} CPU-s; the rest of the machine "
                      f"{max(0.0, cpu.busy - cpu.ours):.1f} CPU-s; load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
            print_table("worker CPU per release (median of the trials), by worker process",
                        profiles, columns, {"alone": 1, "burst": args.concurrent})
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--trials", type=int, default=3, help="releases measured alone")
    ap.add_argument("--bursts", type=int, default=1, help="bursts measured")
    ap.add_argument("--concurrent", type=int, default=10)
    ap.add_argument("--trial-deadline", type=float, default=300.0,
                    help="seconds before a release is reported as timed out")
    ap.add_argument("--profiles", default="aws/us-east-1,azure/eastus",
                    help="worker processes (one each), as in bench/orchestration.py")
    asyncio.run(main(ap.parse_args()))
