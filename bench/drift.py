"""Drift monitoring figures: detection delay, false alarms, sketch overhead on the gateway.

* **Detection delay**: a real ``medpipe gateway`` process serves the sample model
  loaded with its reference profile (built by the evaluate stage's own code); a real
  ``medpipe worker`` runs ``DriftMonitorWorkflow`` on a Temporal Schedule every
  ``--interval`` seconds (policy ``record``); traffic is one-row OIP requests at
  ``--rate`` req/s drawn from a second cohort of the same population (other
  patients). Each trial waits for an ``ok`` verdict, then moves one feature (``ldl``)
  by 0.5 standard deviations and times, from that moment, the first ``drift``
  verdict's clock (``verdict.at``, the workflow's time). Steady verdicts seen live
  are counted as false alarms too.
* **False alarms per 1,000 windows**: 1,000 steady windows of ``interval x rate``
  rows of the second cohort, scored by the real model in onnxruntime, counted by the gateway's
  ``Sketch`` and judged by the monitor's ``judge`` (no sleeps: the same code,
  without the clock).
* **Sketch overhead**: p50 of sequential one-row JSON predictions on one gateway
  process holding the model twice: in ``stable`` without a profile (sketches off)
  and in ``canary`` (weight 0) with one (sketches on), requests pinned to each slot
  alternately (``x-medpipe-slot``), over ``--rounds``; goal: at most 0.05 ms added.

Every process started here stops at the end, on error, SIGINT or SIGTERM
(``bench/_procs``); every trial has a deadline.
Run: ``.venv/bin/python bench/drift.py`` (``--trials``, ``--interval``, ``--rate``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _procs
import httpx
import numpy as np
import yaml
from _gateways import LocalGateways
from _stack import ROOT, BenchStack, wait_for_pollers

from medpipe.activities.drift import schedule_monitor
from medpipe.activities.evaluate import CPU, load_model, score_dataset
from medpipe.contracts.drift import (
    DriftAction,
    DriftMonitorInput,
    DriftMonitorResult,
    DriftPolicy,
    DriftScheduleInput,
    DriftVerdictKind,
)
from medpipe.contracts.evaluate import EvaluationSpec
from medpipe.contracts.placement import GatewayTarget
from medpipe.contracts.profile import ReferenceProfile
from medpipe.workers.client import connect
from medpipe.workers.config import DEMO_MODEL, load_config
from medpipe.workers.gateway.sketches import Sketch
from medpipe.workers.sample import FEATURES, feature_rows, write_sample
from medpipe.workflows.drift_stats import judge

SHIFTED = "ldl"
SHIFT_SD = 0.5
GOAL_OVERHEAD_MS = 0.05


def reference(sample: dict[str, Path]) -> ReferenceProfile:
    """The profile the evaluate stage builds: held-out rows through the real scoring code."""
    model = load_model(sample["model"].read_bytes(), [CPU], "model", EvaluationSpec())
    runs = score_dataset([model], [sample["dataset"].read_bytes()], "csv", "label",
                         EvaluationSpec())
    assert runs[0].profile is not None
    return runs[0].profile.profile()


def false_alarms(sample: dict[str, Path], rows: np.ndarray, profile: ReferenceProfile,
                 window: int, windows: int, policy: DriftPolicy) -> tuple[int, float]:
    """Drift verdicts over ``windows`` steady windows of ``rows`` (new patients)."""
    model = load_model(sample["model"].read_bytes(), [CPU], "model", EvaluationSpec())
    rng = np.random.default_rng(11)
    sketch = Sketch("bench", profile)
    out = model.output.output
    alarms, worst = 0, 0.0
    for _ in range(windows):
        x = rows[rng.integers(0, len(rows), size=window)]
        scores = model.session.run([out], {model.signature.inputs[0].name: x})[0]
        sketch.observe({model.signature.inputs[0].name: x}, _first(scores))
        verdict = judge(profile, sketch.read(reset=True), policy)
        alarms += verdict.verdict is DriftVerdictKind.DRIFT
        worst = max([worst, *(f.psi for f in verdict.figures)])
    return alarms, worst


def _first(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim >= 2:
        a = a.reshape(a.shape[0], -1)
        a = a[:, 1] if a.shape[1] == 2 else a[:, 0]
    return a.ravel().astype(np.float64)


class Traffic:
    """One-row OIP requests at ``rate`` req/s; ``shift`` moves one feature."""

    def __init__(self, url: str, rows: np.ndarray, rate: float) -> None:
        self.url, self.rows, self.rate = url, rows, rate
        self.shift = False
        self.sd = float(rows[:, FEATURES.index(SHIFTED)].std())
        self.sent = self.failed = 0
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        rng = np.random.default_rng(5)
        i = FEATURES.index(SHIFTED)
        async with httpx.AsyncClient(timeout=5.0) as http:
            next_at = time.monotonic()
            while True:
                row = self.rows[rng.integers(0, len(self.rows))].astype(float).tolist()
                if self.shift:
                    row[i] += SHIFT_SD * self.sd
                body = {"inputs": [{"name": "features", "shape": [1, len(FEATURES)],
                                    "datatype": "FP32", "data": row}]}
                try:
                    r = await http.post(f"{self.url}/v2/models/{DEMO_MODEL}/infer", json=body)
                    self.sent += 1
                    self.failed += r.status_code != 200
                except httpx.HTTPError:
                    self.failed += 1
                next_at += 1.0 / self.rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> Traffic:
        self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


class Verdicts:
    """Results of the schedule's runs, in order, each read once."""

    def __init__(self, client: object, schedule: object) -> None:
        self.client, self.schedule = client, schedule
        self.seen: set[str] = set()
        self.steady_alarms = self.steady_windows = 0

    async def next(self) -> DriftMonitorResult:
        """The next finished check."""
        while True:
            desc = await self.schedule.describe()  # type: ignore[attr-defined]
            for a in desc.info.recent_actions:
                wid = a.action.workflow_id
                if wid in self.seen:
                    continue
                handle = self.client.get_workflow_handle(  # type: ignore[attr-defined]
                    wid, result_type=DriftMonitorResult)
                self.seen.add(wid)
                return await handle.result()
            await asyncio.sleep(0.2)


async def detection(verdicts: Verdicts, traffic: Traffic, onset_s: float) -> float:
    """One trial: wait for an ok verdict on steady traffic, then ``onset_s`` more (the
    shift starts at a random point of a window), shift, time the drift verdict."""
    traffic.shift = False
    while True:
        r = await verdicts.next()
        if r.verdict.verdict is DriftVerdictKind.OK:
            break
        verdicts.steady_windows += 1
        verdicts.steady_alarms += r.verdict.verdict is DriftVerdictKind.DRIFT
    verdicts.steady_windows += 1
    await asyncio.sleep(onset_s)
    t0 = time.time()
    traffic.shift = True
    try:
        while True:
            r = await verdicts.next()
            at = r.verdict.at.timestamp() if r.verdict.at else time.time()
            if r.verdict.verdict is DriftVerdictKind.DRIFT and at > t0:
                return at - t0
    finally:
        traffic.shift = False


def p50_pair_ms(port: int, n: int, row: list[float]) -> tuple[float, float]:
    """Median latency of ``n`` one-row JSON predictions pinned to ``stable`` (no profile:
    sketches off) and ``n`` pinned to ``canary`` (same model with its profile: sketches
    on), interleaved request by request on one keep-alive connection, so load from
    elsewhere on the machine hits both alike."""
    body = json.dumps({"inputs": [{"name": "features", "shape": [1, len(FEATURES)],
                                   "datatype": "FP32", "data": row}]}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    times: dict[str, list[float]] = {"stable": [], "canary": []}
    for i in range(2 * n):
        slot = "stable" if i % 2 == 0 else "canary"
        t = time.perf_counter()
        conn.request("POST", f"/v2/models/{DEMO_MODEL}/infer", body,
                     {"Content-Type": "application/json", "x-medpipe-slot": slot})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"inference failed: HTTP {resp.status}")
        times[slot].append(time.perf_counter() - t)
    conn.close()
    return (statistics.median(times["stable"]) * 1000.0,
            statistics.median(times["canary"]) * 1000.0)


class PinnableGateways(LocalGateways):
    """The bench gateways, honouring ``x-medpipe-slot`` (to interleave off/on requests)."""

    def _command(self, target: GatewayTarget) -> list[str]:
        return [*super()._command(target), "--allow-pin"]


async def load(gws: LocalGateways, model: Path, version: str,
               profile: ReferenceProfile | None, slot: str = "stable") -> None:
    """Load ``model`` into ``slot`` on every gateway (with or without its profile)."""
    body = {"slot": slot, "name": DEMO_MODEL, "version": version,
            "model_uri": str(model), "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
            "profile": profile.model_dump(mode="json") if profile else None}
    assert gws._http is not None
    for t in gws.targets:
        r = await gws._http.post(t.admin_url + "/admin/models", json=body)
        if r.status_code != 200:
            raise RuntimeError(f"load on {t.name} refused: {r.text[:200]}")


def microbench(profile: ReferenceProfile, n: int = 20000) -> float:
    """Microseconds ``Sketch.observe`` takes per one-row request, in process."""
    sketch = Sketch("bench", profile)
    x = np.ones((1, len(FEATURES)), dtype=np.float32)
    s = np.array([0.3])
    t = time.perf_counter()
    for _ in range(n):
        sketch.observe({"features": x}, s)
    return (time.perf_counter() - t) / n * 1e6


async def main(args: argparse.Namespace) -> None:
    """Build the reference, run the three measurements, print the figures."""
    out = Path(tempfile.mkdtemp(prefix="medpipe-drift-"))
    sample = write_sample(out / "sample", patients=2000, visits=3)
    # live traffic: other patients from the same population (another seed)
    live = feature_rows(write_sample(out / "live", patients=2000, visits=3, seed=8)["dataset"])
    profile = reference(sample)
    window = int(args.interval * args.rate)
    policy = DriftPolicy(interval_s=args.interval, action=DriftAction.RECORD,
                         min_samples=max(10, int(window * 0.8)))
    print(f"reference profile: {profile.rows} rows, {len(profile.features)} features;"
          f" windows of ~{window} rows ({args.interval:g} s at {args.rate:g} req/s)", flush=True)

    t = time.perf_counter()
    alarms, worst = false_alarms(sample, live, profile, window, args.windows, policy)
    print(f"false alarms (steady traffic, simulated): {alarms} in {args.windows} windows = "
          f"{alarms * 1000 / args.windows:.1f} per 1,000 windows (worst PSI {worst:.3f}; "
          f"{time.perf_counter() - t:.1f} s)", flush=True)
    print(f"Sketch.observe in process: {microbench(profile):.1f} us per one-row request",
          flush=True)

    with BenchStack() as stack:
        base = stack.fleet()
        base = base.model_copy(update={"profiles": base.profiles[:1]})
        async with PinnableGateways(stack.dir / "gateways", base, DEMO_MODEL,
                                 model_roots=(out / "sample",)) as gws:
            port = int(gws.targets[0].public_url.rsplit(":", 1)[1])
            row = feature_rows(sample["dataset"], "test")[0].astype(float).tolist()
            await load(gws, sample["model"], "off", None)
            await load(gws, sample["model"], "on", profile, slot="canary")  # weight stays 0
            p50_pair_ms(port, 200, row)  # warm up
            pairs = [await asyncio.to_thread(p50_pair_ms, port, args.requests, row)
                     for _ in range(args.rounds)]
            off, on = [p[0] for p in pairs], [p[1] for p in pairs]
            added = statistics.median([b - a for a, b in pairs])
            print(f"gateway p50, sketches off: {statistics.median(off):.3f} ms; on: "
                  f"{statistics.median(on):.3f} ms; added (median over rounds of interleaved "
                  f"requests) {added:+.3f} ms (goal <= {GOAL_OVERHEAD_MS} ms: "
                  f"{'met' if added <= GOAL_OVERHEAD_MS else 'NOT met'}); per round off "
                  f"{[round(v, 3) for v in off]} on {[round(v, 3) for v in on]}", flush=True)
            await gws._http.delete(gws.targets[0].admin_url + "/admin/models/canary")  # type: ignore[union-attr]

            fleet = base.model_copy(update={"gateways": gws.targets})
            cfg = stack.dir / f"{fleet.queue_prefix}.yaml"
            cfg.write_text(yaml.safe_dump({
                "temporal_address": stack.server.address, "home": str(stack.dir / "home"),
                "fleet": fleet.model_dump(mode="json"),
                "gateway_tls": gws.pki.deployer_tls.model_dump(mode="json"),
                "payload_codec": False}))
            proc = stack.worker(fleet, "aws/us-east-1")
            client = await connect(load_config(str(cfg)))
            await wait_for_pollers(client, [fleet.control_queue], pid=proc.pid)
            await load(gws, sample["model"], "monitored", profile)
            monitor = DriftMonitorInput(
                model=DEMO_MODEL, version="monitored", release_id="release-bench-drift",
                canary_workflow_id="canary-bench-drift", targets=gws.targets,
                activity_queue=fleet.control_queue, profile=profile, policy=policy)
            created = await schedule_monitor(client, DriftScheduleInput(
                model=DEMO_MODEL, control_queue=fleet.control_queue, monitor=monitor))
            schedule = client.get_schedule_handle(created.schedule_id)
            verdicts = Verdicts(client, schedule)
            delays: list[float] = []
            with Traffic(gws.targets[0].public_url, live, args.rate) as traffic:
                onsets = iter(np.random.default_rng(3).uniform(0, args.interval, args.trials))
                values, timed_out, failed = await _procs.trials(
                    lambda: detection(verdicts, traffic, float(next(onsets))), args.trials,
                    deadline_s=max(120.0, 20 * args.interval), what="detection")
                delays = values
            await schedule.delete()
            print(f"traffic: {traffic.sent} requests, {traffic.failed} failed; live steady "
                  f"checks before the shifts: {verdicts.steady_windows}, drift verdicts among "
                  f"them: {verdicts.steady_alarms} (a check right after a shift ends is "
                  "partly shifted and not counted)", flush=True)
    if delays:
        d = sorted(delays)
        print(f"detection delay of a {SHIFT_SD} sd shift in '{SHIFTED}' at {args.rate:g} req/s,"
              f" checks every {args.interval:g} s: median {statistics.median(d):.1f} s, "
              f"min {d[0]:.1f} s, max {d[-1]:.1f} s over {len(d)} trial(s) "
              f"({timed_out} timed out, {failed} failed): {[round(v, 1) for v in d]}",
              flush=True)
    else:
        print(f"detection delay: no trial finished ({timed_out} timed out, {failed} failed)")


def parse() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--interval", type=float, default=10.0, help="seconds between checks")
    p.add_argument("--rate", type=float, default=50.0, help="requests/s")
    p.add_argument("--windows", type=int, default=1000, help="simulated steady windows")
    p.add_argument("--rounds", type=int, default=5, help="rounds of interleaved off/on")
    p.add_argument("--requests", type=int, default=2000, help="requests per p50 measurement")
    return p.parse_args()


if __name__ == "__main__":
    _procs.install()
    sys.path.insert(0, str(ROOT))
    asyncio.run(main(parse()))
