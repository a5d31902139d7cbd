"""Rollback speed: seconds from issuing the rollback Update to confirmation of 0 % canary.

Real components throughout: a Temporal dev server, a ``medpipe worker`` process
(control queue: CanaryWorkflow and the gateway admin activity), one
``medpipe gateway`` process per cloud profile (admin API over mutual TLS), and
``medpipe traffic`` sending inference requests to every gateway meanwhile.

Each trial starts a ``CanaryWorkflow`` directly (no full release: the figure is
the rollback, not ingestion or evaluation) with a long bake, waits until it
bakes at 10 % on every gateway, then times ``execute_update("rollback")`` from
issue to return. A trial counts only if the Update confirms 0 % on every
gateway; the benchmark then reads every gateway's admin status itself (mTLS)
to check that the confirmation is true. It also runs the one-command path
(``medpipe rollback <release>``) a few times, and breaks the Update's time down
from the workflow's history.

Prints p50/p90/p99/max against the goal p99 ≤ 0.5 s.
Run: ``.venv/bin/python bench/rollback.py`` (``--trials``, ``--rate``, ``--cli-trials``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import _procs
import numpy as np
import yaml
from _gateways import LocalGateways
from _stack import ROOT, BenchStack, wait_for_pollers
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.canary import (
    CanaryInput,
    CanaryPlan,
    CanaryRollbackResult,
    CanaryState,
    CanaryStatus,
    RollbackRequest,
    canary_id,
)
from medpipe.contracts.names import QueryName, SignalName, UpdateName, WorkflowName
from medpipe.contracts.placement import Fleet
from medpipe.workers.client import connect
from medpipe.workers.config import DEMO_MODEL, load_config
from medpipe.workers.sample import write_sample

GOAL_P99_S = 0.5
CANARY_WEIGHT = 10
#: a bake far longer than the benchmark: every rollback interrupts a bake
PLAN = CanaryPlan(steps=(CANARY_WEIGHT, 100), bake_s=600, min_requests=0, guard_s=0)
ENDED = (CanaryState.ROLLED_BACK, CanaryState.FAILED, CanaryState.PROMOTED)
PHASES = ("issue → update accepted by the workflow",
          "accepted → update completed (gateway calls)",
          "  of which accepted → last call started",
          "  of which first call started → last done",
          "  of which last call done → update completed",
          "  (one gateway call alone: start → done)",
          "update completed → client has the answer")


@dataclass
class Trial:
    """One rollback: its latency (None when it did not confirm) and what was seen."""

    n: int
    latency: float | None = None
    check_after: float | None = None
    error: str | None = None
    phases: list[float] = field(default_factory=list)


def artifact(path: Path) -> ArtifactRef:
    """A reference to a local model file (the gateways load ``artifact.uri``)."""
    data = path.read_bytes()
    return ArtifactRef(name=path.name, bucket_uri=path.parent.as_uri(), key=path.name,
                       sha256=hashlib.sha256(data).hexdigest(), size=len(data))


async def start_canary(client: Client, fleet: Fleet, release_id: str, version: str,
                       model: ArtifactRef) -> WorkflowHandle[object, CanaryStatus]:
    """Start a CanaryWorkflow the way ReleaseWorkflow starts its child (minus the parent)."""
    inp = CanaryInput(release_id=release_id, model=DEMO_MODEL, version=version,
                      artifact=model, targets=fleet.gateways, plan=PLAN,
                      activity_queue=fleet.control_queue)
    return await client.start_workflow(
        WorkflowName.CANARY, inp, id=canary_id(release_id), task_queue=fleet.control_queue,
        result_type=CanaryStatus, static_summary=f"bench canary {DEMO_MODEL} {version}")


async def wait_for_state(handle: WorkflowHandle[object, CanaryStatus], state: CanaryState,
                         timeout: float = 60.0) -> CanaryStatus:
    """Poll the ``status`` query until the canary reaches ``state``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            st = await handle.query(QueryName.STATUS, result_type=CanaryStatus)
            if st.state is state:
                return st
            if st.state in ENDED:
                raise RuntimeError(f"{handle.id} ended {st.state.value} before {state.value}: "
                                   f"{st.rollback_cause or st.problems}")
        except (RPCError, WorkflowQueryFailedError):
            pass  # no workflow task completed yet
        if time.monotonic() > deadline:
            raise TimeoutError(f"{handle.id} not {state.value} after {timeout} s")
        await asyncio.sleep(0.02)


async def expect_canary(gws: LocalGateways, version: str) -> None:
    """Before a rollback: every gateway really serves ``version`` at the canary weight."""
    for name, st in (await gws.statuses()).items():
        if st.canary is None or st.canary.version != version \
                or st.canary_weight != CANARY_WEIGHT:
            raise RuntimeError(f"{name} is not baking {version} at {CANARY_WEIGHT} % "
                               f"(canary {st.canary and st.canary.version}, "
                               f"weight {st.canary_weight})")


async def seconds_until_zero(gws: LocalGateways, version: str, timeout: float = 5.0) -> float:
    """Independent check: seconds until every gateway's admin status shows 0 % ``version``."""
    t0 = time.perf_counter()
    while True:
        statuses = await gws.statuses()
        if all(s.canary_weight == 0 and (s.canary is None or s.canary.version != version)
               and (s.stable is None or s.stable.version != version)
               for s in statuses.values()):
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError("gateways still serve the canary: " + ", ".join(
                f"{n} {s.canary_weight} %" for n, s in statuses.items()))
        await asyncio.sleep(0.005)


def _at(event: object) -> float:
    return event.event_time.ToMicroseconds() / 1e6  # type: ignore[attr-defined]


async def phases_of(handle: WorkflowHandle[object, CanaryStatus], issued: float,
                    returned: float) -> list[float]:
    """Split one Update's time by the server's history timestamps (see ``PHASES``)."""
    events = [e async for e in handle.fetch_history_events()]
    accepted = next(e for e in events
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    completed = next(e for e in events
                     if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    after = [e for e in events if accepted.event_id < e.event_id < completed.event_id]
    started = [_at(e) for e in after
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    done = [e for e in after if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    detail = [math.nan] * 4  # gateway calls as local activities leave no activity events
    if started and done:
        by_id = {e.event_id: e for e in after}
        alone = [_at(e) - _at(by_id[e.activity_task_completed_event_attributes.started_event_id])
                 for e in done]
        last_done = max(_at(e) for e in done)
        detail = [max(started) - _at(accepted), last_done - min(started),
                  _at(completed) - last_done, float(np.median(alone))]
    return [_at(accepted) - issued, _at(completed) - _at(accepted), *detail,
            returned - _at(completed)]


async def trial(client: Client, fleet: Fleet, gws: LocalGateways, n: int,
                model: ArtifactRef) -> Trial:
    """One canary rolled back by the Update, timed from issue to return."""
    result = Trial(n)
    version = f"v2-bench-{n:03d}"
    handle: WorkflowHandle[object, CanaryStatus] | None = None
    try:
        handle = await start_canary(client, fleet, f"release-bench-{n:03d}", version, model)
        await wait_for_state(handle, CanaryState.BAKING)
        await expect_canary(gws, version)
        request = RollbackRequest(reason="bench: simulated incident", incident=f"INC-B{n:03d}",
                                  requested_by="bench")
        issued = time.time()
        t0 = time.perf_counter()
        answer = await asyncio.wait_for(handle.execute_update(
            UpdateName.ROLLBACK, request, result_type=CanaryRollbackResult), timeout=30)
        latency = time.perf_counter() - t0
        returned = time.time()
        names = {t.name for t in fleet.gateways}
        if answer.state is not CanaryState.ROLLED_BACK or set(answer.canary_weights) != names \
                or any(w != 0 for w in answer.canary_weights.values()):
            result.error = f"not confirmed: {answer.state.value} {answer.canary_weights}"
            return result
        result.check_after = await seconds_until_zero(gws, version)
        result.latency = latency
        final = await asyncio.wait_for(handle.result(), timeout=30)
        if final.state is not CanaryState.ROLLED_BACK:
            result.error = f"workflow ended {final.state.value}"
            result.latency = None
        result.phases = await phases_of(handle, issued, returned)
    except Exception as e:  # a failed trial is reported, not timed
        result.error = f"{type(e).__name__}: {e}"
        if handle is not None:  # leave no canary baking behind for the next trial
            with contextlib.suppress(Exception):
                await handle.signal(SignalName.ROLLBACK, RollbackRequest(
                    reason="bench: failed trial", requested_by="bench"))
    return result


async def cli_trial(client: Client, fleet: Fleet, gws: LocalGateways, n: int,
                    model: ArtifactRef, env: dict[str, str]) -> tuple[float, float] | str:
    """``medpipe rollback <release>`` as a responder types it: (process s, reported s)."""
    version = f"v2-cli-{n:03d}"
    release = f"release-cli-{n:03d}"
    try:
        handle = await start_canary(client, fleet, release, version, model)
        await wait_for_state(handle, CanaryState.BAKING)
        await expect_canary(gws, version)
        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "medpipe", "rollback", release.removeprefix("release-"),
            "--reason", "bench: simulated incident", "--incident", f"INC-C{n:03d}",
            "--by", "bench", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            cwd=ROOT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        wall = time.perf_counter() - t0
        text = out.decode(errors="replace")
        found = re.search(r"rolled back in ([0-9.]+)s", text)
        if proc.returncode != 0 or not found:
            return f"exit {proc.returncode}: {text.strip()[-300:]}"
        await seconds_until_zero(gws, version)
        await asyncio.wait_for(handle.result(), timeout=30)
        return wall, float(found.group(1))
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def pct(values: list[float], q: float) -> float:
    """Percentile (linear interpolation, as numpy computes it)."""
    return float(np.percentile(np.asarray(values), q))


def report(trials: list[Trial], gateways: int, cli: list[tuple[float, float] | str],
           traffic_line: str) -> bool:
    """Print the figures; True when every trial confirmed and the goal is met."""
    ok = [t for t in trials if t.latency is not None]
    failed = [t for t in trials if t.latency is None]
    lat = [t.latency for t in ok if t.latency is not None]
    print(f"trials: {len(trials)} ({len(ok)} confirmed, {len(failed)} failed), "
          f"gateways: {gateways}")
    for t in failed:
        print(f"  trial {t.n} FAILED (not timed): {t.error}")
    met = False
    if lat:
        p99 = pct(lat, 99)
        met = p99 <= GOAL_P99_S and not failed
        print("rollback Update, issue → every gateway confirmed at 0 % canary:")
        print(f"  p50 {pct(lat, 50):.3f} s   p90 {pct(lat, 90):.3f} s   p99 {p99:.3f} s   "
              f"max {max(lat):.3f} s   min {min(lat):.3f} s")
        print(f"  goal p99 <= {GOAL_P99_S} s: {'MET' if met else 'NOT MET'}"
              + ("" if not failed else " (failed trials)"))
        checks = [t.check_after for t in ok if t.check_after is not None]
        print(f"independent check (GET /admin/status over mTLS on all {gateways} gateways) "
              f"after the Update returned: 0 % in {len(checks)}/{len(ok)} trials, read in "
              f"p50 {pct(checks, 50) * 1000:.1f} ms, max {max(checks) * 1000:.1f} ms")
        phased = [t.phases for t in ok if t.phases]
        if phased:
            print(f"where the time goes (median of {len(phased)} trials, server history "
                  "timestamps):")
            arr = np.asarray(phased)
            for i, name in enumerate(PHASES):
                column = arr[:, i][~np.isnan(arr[:, i])]
                if column.size:
                    print(f"  {name:46} {np.median(column) * 1000:7.1f} ms   "
                          f"p99 {np.percentile(column, 99) * 1000:7.1f} ms")
    if cli:
        good = [c for c in cli if not isinstance(c, str)]
        print(f"one command, `medpipe rollback <release>` ({len(cli)} runs, {len(good)} "
              "confirmed):")
        for c in cli:
            if isinstance(c, str):
                print(f"  FAILED: {c}")
        if good:
            walls, reported = [w for w, _ in good], [r for _, r in good]
            print(f"  process start → exit p50 {pct(walls, 50):.2f} s, max {max(walls):.2f} s "
                  f"(Python start-up and connecting included); the command's own figure "
                  f"p50 {pct(reported, 50):.2f} s, max {max(reported):.2f} s")
    if traffic_line:
        print(f"traffic meanwhile: {traffic_line}")
    return met


def start_traffic(stack: BenchStack, gws: LocalGateways, dataset: Path, rate: float,
                  env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``medpipe traffic`` against every gateway (its own process), until SIGINT."""
    cmd = [sys.executable, "-m", "medpipe", "traffic", "--rate", str(rate),
           "--model", DEMO_MODEL, "--data", str(dataset)]
    for t in gws.targets:
        cmd += ["--gateway", t.public_url]
    log = open(stack.dir / "traffic.log", "wb")
    proc = _procs.spawn(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    log.close()
    stack.procs.append(proc)  # killed by the stack on the way out if still running
    return proc


def stop_traffic(stack: BenchStack, proc: subprocess.Popen[bytes]) -> str:
    """Stop ``medpipe traffic`` gracefully; its summary line."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            stack.kill(proc)
    text = (stack.dir / "traffic.log").read_text(errors="replace")
    return next((line for line in text.splitlines() if line.startswith("sent:")),
                f"no summary (exit {proc.returncode})")


async def main(args: argparse.Namespace) -> bool:
    """Start the stack, deploy v1 as the initial stable, run the trials, print figures.

    Returns whether every rollback confirmed (the exit status; the goal is reported).
    """
    out = Path(tempfile.mkdtemp(prefix="medpipe-rb-"))
    sample = write_sample(out / "sample", patients=300, visits=3)
    v1, v2 = artifact(sample["model"]), artifact(sample["model_v2"])
    t_start = time.monotonic()
    confirmed = False
    with BenchStack() as stack:
        base = stack.fleet()
        async with LocalGateways(stack.dir / "gateways", base, DEMO_MODEL,
                                 model_roots=(out / "sample",)) as gws:
            fleet = base.model_copy(update={"gateways": gws.targets})
            cfg_path = stack.dir / f"{fleet.queue_prefix}.yaml"
            cfg_path.write_text(yaml.safe_dump({
                "temporal_address": stack.server.address, "home": str(stack.dir / "home"),
                "fleet": fleet.model_dump(mode="json"),
                "gateway_tls": gws.pki.deployer_tls.model_dump(mode="json"),
                "payload_codec": False}))
            env = {**os.environ, "MEDPIPE_CONFIG": str(cfg_path),
                   "MEDPIPE_TEMPORAL_ADDRESS": stack.server.address, "PYTHONPATH": str(ROOT)}
            stack.worker(fleet, "aws/us-east-1")  # writes nothing: the config exists
            client = await connect(load_config(str(cfg_path)))
            await wait_for_pollers(client, [fleet.control_queue])

            first = await start_canary(client, fleet, "release-bench-v1", "v1", v1)
            status = await asyncio.wait_for(first.result(), timeout=120)
            if not (status.initial_deploy and status.state is CanaryState.PROMOTED):
                raise RuntimeError(f"initial deployment failed: {status}")
            traffic = start_traffic(stack, gws, sample["dataset"], args.rate, env) \
                if args.rate > 0 else None
            print(f"rollback bench: {len(gws.targets)} gateway processes "
                  f"({', '.join(t.name for t in gws.targets)}), stable v1 on each; "
                  f"{args.trials} trials after {args.warmup} warm-up; canary at "
                  f"{CANARY_WEIGHT} % baking {PLAN.bake_s:.0f} s; traffic "
                  f"{args.rate:g} req/s per gateway; setup {time.monotonic() - t_start:.1f} s",
                  flush=True)
            for w in range(args.warmup):
                await trial(client, fleet, gws, 900 + w, v2)
            trials = [await trial(client, fleet, gws, n, v2) for n in range(args.trials)]
            cli = [await cli_trial(client, fleet, gws, n, v2, env)
                   for n in range(args.cli_trials)]
            traffic_line = stop_traffic(stack, traffic) if traffic else ""
            report(trials, len(gws.targets), cli, traffic_line)
            confirmed = all(t.latency is not None for t in trials) \
                and not any(isinstance(c, str) for c in cli)
            stack.keep = args.keep or not confirmed
    print(f"total {time.monotonic() - t_start:.1f} s")
    if stack.dir.exists():
        print(f"logs kept in {stack.dir}")
    shutil.rmtree(out, ignore_errors=True)
    return confirmed


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=1, help="untimed trials first")
    ap.add_argument("--cli-trials", type=int, default=5,
                    help="runs of the one-command `medpipe rollback` (0: none)")
    ap.add_argument("--rate", type=float, default=20.0,
                    help="inference requests/s per gateway meanwhile (0: no traffic)")
    ap.add_argument("--keep", action="store_true", help="keep the stack's logs and data")
    sys.exit(0 if asyncio.run(main(ap.parse_args())) else 1)
