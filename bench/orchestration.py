"""Orchestration overhead of a release on the local stack.

Prints: the reference release's wall time vs the sum of the same activities
run directly in one process (ratio, goal ≤ 1.10), the per-stage
orchestration overhead in ms, and 20 concurrent releases' total wall time and
releases/min.

Reference release: 100k-row cohort, ~5 MB model. Run: ``./run bench orchestration``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _procs import TrialTimedOut, run_trial
from _stack import BenchStack, connect, wait_for_pollers
from temporalio.client import Client

from medpipe.activities.context import WorkerContext
from medpipe.activities.evaluate import EvaluateActivities
from medpipe.activities.ingest import IngestActivities
from medpipe.activities.pseudonymize.activity import PseudonymizeActivities
from medpipe.activities.signing.sign import SignActivities
from medpipe.activities.validate import ValidateActivities
from medpipe.contracts.evaluate import EvaluateInput
from medpipe.contracts.ingest import IngestInput, SourceSpec
from medpipe.contracts.ledger import LedgerAppendInput
from medpipe.contracts.pseudonymize import PseudonymizeInput
from medpipe.contracts.release import PlacementTimeouts, ReleaseRequest
from medpipe.contracts.sign import SignInput
from medpipe.contracts.validate import ValidateInput
from medpipe.workers.releases import start_release
from medpipe.workers.sample import write_sample


def reference_inputs(rows: int) -> dict[str, Path]:
    out = Path(tempfile.mkdtemp(prefix="medpipe-ref-"))
    paths = write_sample(out, patients=rows // 3, visits=3, hidden=1100)
    return paths


def direct_run(fleet, sample: dict[str, Path]) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """The same activities the release runs, called directly in one process (no Temporal).

    Returns the seconds they took and how many stages that was.
    """
    ctx = WorkerContext(profile=fleet.find("aws/us-east-1"))
    rid = f"release-direct-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    sign = SignActivities(ctx)
    for kind in ("release-started", "stage-completed"):  # the release's ledger entries
        sign.ledger_append(LedgerAppendInput(ledger_uri=fleet.ledger_uri, keys=fleet.keys,
                                             kind=kind, release_id=rid, payload={},
                                             idempotency_key=f"{rid}/{kind}"))
    ingest = IngestActivities(ctx).ingest(IngestInput(release_id=rid, keys=fleet.keys, sources=(
        SourceSpec(name="model", uri=sample["model"].as_uri()),
        SourceSpec(name="dataset", uri=sample["dataset"].as_uri()))))
    pseudo = PseudonymizeActivities(ctx).pseudonymize(PseudonymizeInput(
        release_id=rid, dataset=ingest.artifact("dataset"), keys=fleet.keys,
        vault_uri=fleet.vault_uri))
    ValidateActivities(ctx).validate(ValidateInput(
        release_id=rid, dataset=pseudo.dataset, identifier_digests=pseudo.identifier_digests))
    evaluation = EvaluateActivities(ctx).evaluate(EvaluateInput(
        release_id=rid, model=ingest.artifact("model"), dataset=pseudo.dataset))
    m = evaluation.metrics
    sign.sign(SignInput(
        release_id=rid, model_name="bench", version="direct", model=ingest.artifact("model"),
        keys=fleet.keys, request={}, datasets=(ingest.artifact("dataset"), pseudo.dataset),
        policy_sha256=pseudo.policy_sha256, reports=(pseudo.report_ref,),
        metrics=m.figures(), ledger_uri=fleet.ledger_uri))
    return time.perf_counter() - t0, 5


def request(fleet, sample: dict[str, Path]) -> ReleaseRequest:  # type: ignore[no-untyped-def]
    return ReleaseRequest(model="bench", version=f"v{uuid.uuid4().hex[:10]}",
                          model_uri=sample["model"].as_uri(), data_uri=sample["dataset"].as_uri(),
                          fleet=fleet, prefer_gpu=False,
                          timeouts=PlacementTimeouts(schedule_to_start_s=10, heartbeat_s=10))


async def release_seconds(client: Client, fleet, sample: dict[str, Path]) -> float:  # type: ignore[no-untyped-def]
    """Seconds for one release, start to result."""
    t0 = time.perf_counter()
    await (await start_release(client, request(fleet, sample))).result()
    return time.perf_counter() - t0


async def main(rows: int, trials: int, concurrent: int, deadline: float) -> None:
    sample = reference_inputs(rows)
    print(f"reference release: {rows:,} rows ({sample['dataset'].stat().st_size / 1e6:.1f} MB CSV),"
          f" model {sample['model'].stat().st_size / 1e6:.1f} MB; {deadline:.0f} s deadline "
          "per trial", flush=True)
    with BenchStack() as stack:
        fleet = stack.fleet()
        stack.worker(fleet, "aws/us-east-1")
        stack.worker(fleet, "azure/eastus")
        client = await connect(stack.server.address)
        await wait_for_pollers(client, [fleet.control_queue,
                                        f"{fleet.queue_prefix}.aws.us-east-1.cpu"])
        # warm-up (imports, onnxruntime session caches)
        await run_trial(release_seconds(client, fleet, sample), deadline, "warm-up release")
        direct_run(fleet, sample)

        walls, directs, per_stage, timed_out = [], [], [], 0
        for i in range(trials):
            direct, stages = direct_run(fleet, sample)
            try:
                wall = await run_trial(release_seconds(client, fleet, sample), deadline,
                                       f"release trial {i + 1}")
            except TrialTimedOut as e:
                timed_out += 1
                print(f"  TIMED OUT {e}", flush=True)
                continue
            walls.append(wall)
            directs.append(direct)
            per_stage.append((wall - direct) / stages * 1000)
        late = f"; {timed_out} trial(s) TIMED OUT" if timed_out else ""
        if walls:
            wall, direct = statistics.median(walls), statistics.median(directs)
            print(f"single release (median of {len(walls)}): wall {wall:.3f} s, direct "
                  f"activities {direct:.3f} s, ratio {wall / direct:.3f} (goal <= 1.10){late}")
            print(f"orchestration overhead per stage: {statistics.median(per_stage):.1f} ms "
                  f"(min {min(per_stage):.1f}, max {max(per_stage):.1f})")
        else:
            print(f"single release: no trial ended{late}")

        async def burst() -> float:
            t0 = time.perf_counter()
            handles = [await start_release(client, request(fleet, sample))
                       for _ in range(concurrent)]
            await asyncio.gather(*(h.result() for h in handles))
            return time.perf_counter() - t0

        try:
            total = await run_trial(burst(), deadline * max(1, concurrent // 2),
                                    f"{concurrent} concurrent releases")
        except TrialTimedOut as e:
            print(f"{concurrent} concurrent releases: TIMED OUT ({e})")
            return
        print(f"{concurrent} concurrent releases: total {total:.2f} s, "
              f"{concurrent / total * 60:.1f} releases/min (2 workers, 2 cores)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--concurrent", type=int, default=20)
    ap.add_argument("--trial-deadline", type=float, default=300.0,
                    help="seconds before a release is reported as timed out")
    args = ap.parse_args()
    asyncio.run(main(args.rows, args.trials, args.concurrent, args.trial_deadline))
