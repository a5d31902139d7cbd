"""Record the workflow histories that ``tests/workflows/test_durability.py`` replays.

Run on purpose, after a change to workflow code that changes its commands
(and only then: histories recorded by older code must keep replaying)::

    .venv/bin/python tests/data/record_histories.py [--only NAME ...]

Drives real releases (dev server, in-process workers, two real gateways with
admin mTLS, OIP traffic) through every path a history can take, and writes
one JSON history per workflow run into ``tests/data/histories/``:

* ``release-failover``: no worker on the first candidates: failovers, GPU→CPU.
* ``release-fanout``: pseudonymize fanned out over every compliant worker (learn key,
  one learn shard per worker, learn merge, one shard per worker, merge), then validate
  (one shard per worker, merge).
* ``release-spread``: the second of two concurrent releases, homed on another worker by
  the placement probe (a local-activity marker, then ingest on the second queue).
* ``release-reingest``: the store holding the inputs disappears after ingest:
  re-ingest elsewhere, re-pseudonymize, continue.
* ``*-initial-deploy``: first version on empty gateways (loaded as stable).
* ``*-promoted``: a canary paused and resumed (Updates), stepped and promoted.
* ``*-rolled-back-auto``: a model that shifts predictions, on a trickle of traffic: its
  bake extended (window kept) until the shift was judged, then rolled back by analysis.
* ``*-rolled-back-update``: rolled back mid-bake by a person (the ``rollback`` Update).
* ``*-approved``: a canary held for signed approvals (one refused, two counted), promoted.
* ``*-approval-signed-rollback``: held for approvals, rolled back with a responder's
  signed statement (verified after the rollback).
* ``drift-check``: one DriftMonitorWorkflow run started by the schedule the promotion
  created, on steady traffic (reads both gateways' sketches, judges, records).

Each scenario checks it really took its path before its history is written,
and has a deadline; the dev server and gateways stop on exit, SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from temporalio.client import (  # noqa: E402
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)

from medpipe.contracts.canary import (  # noqa: E402
    CanaryPlan,
    CanaryRollbackResult,
    CanaryState,
    CanaryStatus,
    RollbackRequest,
    Verdict,
    canary_id,
)
from medpipe.contracts.drift import (  # noqa: E402
    DriftVerdictKind,
    SlotSketch,
    drift_schedule_id,
)
from medpipe.contracts.fanout import FanoutSettings  # noqa: E402
from medpipe.contracts.names import QueryName, UpdateName  # noqa: E402
from medpipe.contracts.placement import Fleet  # noqa: E402
from medpipe.contracts.release import (  # noqa: E402
    FailoverCause,
    ReleaseRequest,
    ReleaseStatus,
    Stage,
    StageOutcome,
)
from medpipe.workers.client import data_converter  # noqa: E402
from medpipe.workers.devserver import TemporalDevServer  # noqa: E402
from medpipe.workers.emulators import bucket_name  # noqa: E402
from medpipe.workers.gateway.sketches import book_of  # noqa: E402
from medpipe.workers.sample import FEATURES, build_model, write_sample  # noqa: E402
from tests.canary import UNJUDGED_SHIFT  # noqa: E402
from tests.drift import trigger_and_wait  # noqa: E402
from tests.emulators import MotoS3  # noqa: E402
from tests.gateways import GatewayPKI, feature_rows, gateways, traffic  # noqa: E402
from tests.support import make_fleet, make_request, running_workers, start, status_of  # noqa: E402

OUT = Path(__file__).resolve().parent / "histories"
_NO_SKETCH = SlotSketch(version="")
SCENARIO_DEADLINE_S = 240.0
#: Steps extend (their window counting on) until the shift is judged on both slots.
FAST = CanaryPlan(steps=(50, 100), bake_s=1.0, min_requests=5, max_extensions=20, guard_s=0)


class Recorder:
    """Writes histories and remembers what it wrote."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.written: list[Path] = []

    async def save(self, name: str, handle: WorkflowHandle[Any, Any]) -> None:
        history = await handle.fetch_history()
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(history.to_json_dict(), indent=None) + "\n")
        self.written.append(path)
        print(f"  wrote {path.relative_to(ROOT)} ({len(history.events)} events)")

    async def save_release(self, name: str, request: ReleaseRequest,
                           canary: bool = True) -> None:
        await self.save(f"release-{name}", self.client.get_workflow_handle(request.release_id))
        if canary:
            await self.save(f"canary-{name}",
                            self.client.get_workflow_handle(canary_id(request.release_id)))


def check(condition: bool, what: str) -> None:
    """A scenario that did not take its path must not be recorded as if it had."""
    if not condition:
        raise SystemExit(f"scenario did not take its path: {what}")


async def poll(predicate: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached in time")
        await asyncio.sleep(0.05)


async def canary_state(client: Client, request: ReleaseRequest) -> CanaryState | None:
    try:
        st: CanaryStatus = await client.get_workflow_handle(canary_id(request.release_id)) \
            .query(QueryName.STATUS, result_type=CanaryStatus)
    except Exception:  # not started yet
        return None
    return st.state


async def release_failover(rec: Recorder, root: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(root / "failover")
    request = make_request(fleet, sample)
    async with running_workers(rec.client, fleet, ["azure/eastus"]):
        status: ReleaseStatus = await (await start(rec.client, request)).result()
    check(bool(status.failovers), "failovers")
    check(any(s.degraded for s in status.stages), "GPU→CPU degradation")
    await rec.save_release("failover", request, canary=False)


async def release_fanout(rec: Recorder, root: Path, sample: dict[str, Path]) -> None:
    """Pseudonymize (learn key, one learn shard per compliant US worker, learn merge, one
    shard per worker, merge), then validate (one shard per worker, merge), fanned out."""
    import great_expectations  # noqa: F401  (imported now, not by three shards at once)
    fleet = make_fleet(root / "fanout")
    request = make_request(fleet, sample, fanout=FanoutSettings(min_bytes=1, chunk_rows=100))
    async with running_workers(rec.client, fleet,
                               ["aws/us-east-1", "azure/eastus", "onprem/gpu-01"]):
        status: ReleaseStatus = await (await start(rec.client, request)).result()
    shards = [s for s in status.stages if s.detail.startswith("fan-out: shard")]
    check(len(shards) == 6 and len({s.ran_on.cloud for s in shards if s.ran_on}) > 1,
          "three shards per stage over several workers")
    check(sum(s.stage is Stage.VALIDATE for s in shards) == 3, "validate fanned out")
    learn = [s for s in status.stages if s.detail.startswith("fan-out: learn shard")]
    check(len(learn) == 3 and len({s.ran_on.cloud for s in learn if s.ran_on}) > 1,
          "three learn shards over several workers")
    await rec.save_release("fanout", request, canary=False)


async def release_spread(rec: Recorder, root: Path, sample: dict[str, Path]) -> None:
    """Two releases at once on two compliant workers: the second is homed on the other one
    (the placement probe's marker, then ingest rotated to azure)."""
    fleet = make_fleet(root / "spread")
    first, second = make_request(fleet, sample), make_request(fleet, sample)
    async with running_workers(rec.client, fleet, ["aws/us-east-1", "azure/eastus"]):
        h1 = await start(rec.client, first)
        h2 = await start(rec.client, second)
        await h1.result()
        status: ReleaseStatus = await h2.result()
    ingest = next(s for s in status.stages if s.stage is Stage.INGEST)
    check(ingest.ran_on is not None and ingest.ran_on.cloud == "azure"
          and ingest.detail.startswith("placement: spread"), "second release homed on azure")
    await rec.save_release("spread", second, canary=False)


async def release_reingest(rec: Recorder, root: Path, sample: dict[str, Path]) -> None:
    """AWS stores on moto's S3 server; moto is stopped once ingest succeeded there."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ[name] = value
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(name, None)
    moto = MotoS3(root / "moto")
    moto.launch()
    try:
        moto.wait_ready()
        fleet = make_fleet(root / "reingest")
        aws = fleet.find("aws/us-east-1")
        moto.create_bucket(bucket_name(aws))
        fleet = fleet.model_copy(update={"profiles": tuple(
            p.model_copy(update={"store_uri": moto.bucket_uri(bucket_name(aws))})
            if p.name == aws.name else p for p in fleet.profiles)})
        request = make_request(fleet, sample)
        async with running_workers(rec.client, fleet, ["aws/us-east-1", "azure/eastus"]):
            handle = await start(rec.client, request)

            async def ingested() -> bool:
                return any(s.stage is Stage.INGEST and s.outcome is StageOutcome.SUCCEEDED
                           for s in (await status_of(handle)).stages)

            await poll(ingested, 60)
            await asyncio.to_thread(moto.stop)  # the provider goes away for real
            status: ReleaseStatus = await handle.result()
    finally:
        moto.stop()
    ingests = [s for s in status.stages if s.stage is Stage.INGEST]
    check(len(ingests) == 2 and "re-ingested" in ingests[1].detail, "re-ingest")
    check(any(f.cause is FailoverCause.PROVIDER_UNAVAILABLE for f in status.failovers),
          "input store outage")
    await rec.save_release("reingest", request, canary=False)


def inverted_model(root: Path) -> Path:
    path = root / "inverted.onnx"
    onnx.save(build_model(np.full(5, 50.0), np.full(5, 10.0), -np.ones(5), 0.0, FEATURES),
              path)
    return path


async def canary_paths(rec: Recorder, root: Path, sample: dict[str, Path]) -> None:
    """Initial deploy, promote (with pause/resume), automatic and manual rollback."""
    client = rec.client
    pki = GatewayPKI.create(root / "pki")
    with gateways(["gw-aws", "gw-azure"], "risk", pki, root / "gw") as gws:
        fleet: Fleet = make_fleet(root / "canary").model_copy(
            update={"gateways": tuple(g.target for g in gws)})
        rows = feature_rows(sample["dataset"])
        urls = [g.target.public_url for g in gws]
        v1 = make_request(fleet, sample, canary=FAST)
        v2 = make_request(fleet, sample, model_uri=sample["model_v2"].as_uri(),
                          canary=CanaryPlan(steps=(20, 100), bake_s=1.0, min_requests=3,
                                            max_extensions=20, guard_s=0, **UNJUDGED_SHIFT),
                          thresholds={"max_auroc_drop": 0.5})
        bad = make_request(fleet, sample, canary=FAST,
                           model_uri=inverted_model(root).as_uri(),
                           thresholds={"max_auroc_drop": 1.0})
        v4 = make_request(fleet, sample, model_uri=sample["model"].as_uri(),
                          canary=CanaryPlan(steps=(10, 100), bake_s=300, min_requests=0,
                                            guard_s=0),
                          thresholds={"max_auroc_drop": 0.5})
        async with running_workers(client, fleet, ["aws/us-east-1"], gateway_tls=pki.client):
            first: ReleaseStatus = await (await start(client, v1)).result()
            check(first.canary is not None and first.canary.initial_deploy, "initial deploy")
            await rec.save_release("initial-deploy", v1)

            async with traffic(urls, "risk", rows):
                parent = await start(client, v2)

                async def baking() -> bool:
                    return await canary_state(client, v2) is CanaryState.BAKING

                await poll(baking, 60)
                canary = client.get_workflow_handle(canary_id(v2.release_id))
                await canary.execute_update(UpdateName.PAUSE, "recorder",
                                            result_type=CanaryStatus)
                await asyncio.sleep(1.5)
                await canary.execute_update(UpdateName.RESUME, "recorder",
                                            result_type=CanaryStatus)
                second: ReleaseStatus = await parent.result()
            check(second.canary is not None and second.canary.state is CanaryState.PROMOTED
                  and not second.canary.initial_deploy, "canary promoted")
            await rec.save_release("promoted", v2)

            # the drift schedule created at promotion: one check of v2 on steady traffic
            schedule = client.get_schedule_handle(drift_schedule_id("risk",
                                                                    fleet.control_queue))
            async with traffic(urls, "risk", rows):
                async def counted() -> bool:
                    return sum((book_of(g.gateway).window(g.gateway).stable or _NO_SKETCH).rows
                                for g in gws) >= v2.drift.min_samples

                await poll(counted, 60)
            checked = await trigger_and_wait(client, schedule)
            check(checked.verdict.verdict is not DriftVerdictKind.INSUFFICIENT
                  and len(checked.verdict.figures) == len(FEATURES) + 1, "drift check")
            ran = (await schedule.describe()).info.recent_actions[-1].action.workflow_id
            await rec.save("drift-check", client.get_workflow_handle(ran))

            async with traffic(urls, "risk", rows, rate=8.0):  # a trickle: bakes extend
                try:
                    await (await start(client, bad)).result()
                    check(False, "automatic rollback")
                except WorkflowFailureError:
                    pass
            auto = await client.get_workflow_handle(
                canary_id(bad.release_id), result_type=CanaryStatus).result()
            check(auto.state is CanaryState.ROLLED_BACK
                  and auto.rollback is not None
                  and auto.rollback.requested_by == "canary-analysis", "automatic rollback")
            check(any(a.verdict is Verdict.EXTEND for a in auto.analyses),
                  "a bake extended until the shift was judged")
            await rec.save_release("rolled-back-auto", bad)

            parent = await start(client, v4)

            async def baking4() -> bool:
                return await canary_state(client, v4) is CanaryState.BAKING

            await poll(baking4, 60)
            result = await client.get_workflow_handle(canary_id(v4.release_id)).execute_update(
                UpdateName.ROLLBACK, RollbackRequest(reason="recorded incident",
                                                     incident="INC-REC", requested_by="oncall"),
                result_type=CanaryRollbackResult)
            check(result.state is CanaryState.ROLLED_BACK, "rollback by Update")
            try:
                await parent.result()
                check(False, "release failed after rollback")
            except WorkflowFailureError:
                pass
            await client.get_workflow_handle(canary_id(v4.release_id)).result()
            await rec.save_release("rolled-back-update", v4)


async def approval_paths(rec: Recorder, root: Path, sample: dict[str, Path]) -> None:
    """A canary held for signed approvals: approved and promoted; rolled back signed."""
    from medpipe.contracts.approval import ApprovalAction, ApprovalProgress, Role
    from tests.people import make_team, rule_for, signed_roster

    client = rec.client
    pki = GatewayPKI.create(root / "pki")
    team = make_team(root / "people", "admin", "bob", "carol", "erin")
    roster = signed_roster(root / "roster.yaml", team["admin"], [
        team["bob"].person(Role.APPROVER), team["carol"].person(Role.APPROVER),
        team["erin"].person(Role.RESPONDER)])
    with gateways(["gw-aws", "gw-azure"], "risk", pki, root / "gw") as gws:
        plain: Fleet = make_fleet(root / "approval").model_copy(
            update={"gateways": tuple(g.target for g in gws)})
        gated = plain.model_copy(update={"approval": rule_for(roster, team["admin"],
                                                              required=2, at_weight=10)})
        plan = CanaryPlan(steps=(10, 100), bake_s=1.0, min_requests=0, guard_s=0)
        v1 = make_request(plain, sample, canary=FAST)
        v2 = make_request(gated, sample, model_uri=sample["model_v2"].as_uri(), canary=plan,
                          thresholds={"max_auroc_drop": 0.5})
        v3 = make_request(gated, sample, model_uri=sample["model"].as_uri(), canary=plan,
                          thresholds={"max_auroc_drop": 0.5})
        async with running_workers(client, gated, ["aws/us-east-1"], gateway_tls=pki.client):
            await (await start(client, v1)).result()
            for request, name in ((v2, "approved"), (v3, "approval-signed-rollback")):
                parent = await start(client, request)

                async def waiting(r: ReleaseRequest = request) -> bool:
                    return await canary_state(client, r) is CanaryState.AWAITING_APPROVAL

                await poll(waiting, 90)
                canary = client.get_workflow_handle(canary_id(request.release_id))
                st = await canary.query(QueryName.STATUS, result_type=CanaryStatus)
                kw = {"release": request.release_id, "model": st.model_sha256}
                if name == "approved":
                    try:  # a responder is refused (recorded in history)
                        await canary.execute_update(
                            UpdateName.APPROVE, team["erin"].statement(**kw),
                            result_type=ApprovalProgress)
                        check(False, "refused approval")
                    except WorkflowUpdateFailedError:
                        pass
                    for who in ("bob", "carol"):
                        await canary.execute_update(UpdateName.APPROVE,
                                                    team[who].statement(**kw),
                                                    result_type=ApprovalProgress)
                    done: ReleaseStatus = await parent.result()
                    check(done.canary is not None and done.canary.state is CanaryState.PROMOTED
                          and done.canary.approval is not None
                          and done.canary.approval.approvers == ("bob", "carol"), "approved")
                else:
                    await canary.execute_update(
                        UpdateName.ROLLBACK, RollbackRequest(
                            reason="recorded incident", requested_by="erin",
                            statement=team["erin"].statement(ApprovalAction.ROLLBACK, **kw)),
                        result_type=CanaryRollbackResult)
                    try:
                        await parent.result()
                        check(False, "release failed after rollback")
                    except WorkflowFailureError:
                        pass
                    final = await client.get_workflow_handle(
                        canary_id(request.release_id), result_type=CanaryStatus).result()
                    check(final.rollback_review == "signed by erin (responder)",
                          "signed rollback")
                await rec.save_release(name, request)


SCENARIOS: dict[str, Callable[[Recorder, Path, dict[str, Path]], Awaitable[None]]] = {
    "failover": release_failover,
    "reingest": release_reingest,
    "fanout": release_fanout,
    "spread": release_spread,
    "canary": canary_paths,
    "approval": approval_paths,
}


async def record(only: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="medpipe-record-") as tmp:
        root = Path(tmp)
        server = TemporalDevServer(root / "temporal.db", root / "temporal.log")
        server.start()
        try:
            client = await Client.connect(server.address, data_converter=data_converter())
            rec = Recorder(client)
            sample = write_sample(root / "sample", patients=400, visits=3)
            for name, scenario in SCENARIOS.items():
                if only and name not in only:
                    continue
                print(f"{name}:")
                await asyncio.wait_for(scenario(rec, root / name, sample),
                                       timeout=SCENARIO_DEADLINE_S)
            print(f"{len(rec.written)} histories in {OUT.relative_to(ROOT)}")
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=[], choices=list(SCENARIOS))
    args = parser.parse_args()

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the finally blocks

    signal.signal(signal.SIGTERM, stop)
    # activity failures are the point of some scenarios: their tracebacks are noise here
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    asyncio.run(record(args.only))


if __name__ == "__main__":
    main()
