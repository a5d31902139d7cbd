"""The real release an exercise drives, and what is read back from it afterwards.

Each exercise releases the sample model on the non-production fleet with short
placement timeouts (so failover happens in seconds), follows it through
server restarts, and at the end reads every artifact the release recorded
back: decrypted, with its digest compared. An artifact that does not come
back identical counts as data lost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import PendingActivityState, WorkflowExecutionStatus
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from medpipe.activities.sealed import open_plain
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.canary import CanaryPlan
from medpipe.contracts.errors import MedpipeError
from medpipe.contracts.names import QueryName
from medpipe.contracts.release import (
    FailoverCause,
    PlacementTimeouts,
    ReleaseRequest,
    ReleaseState,
    ReleaseStatus,
)
from medpipe.workers.config import StackConfig
from medpipe.workers.releases import start_release

#: Model name of the exercises' releases that are not deployed.
PROBE_MODEL = "chaos-probe"
#: Failover in seconds, not minutes: a dead worker is noticed at the heartbeat timeout
#: (5 s: with 2 s, a freshly restarted worker's first heavy step missed heartbeats on this
#: 2-core host and was declared lost, a failover the exercise did not cause).
TIMEOUTS = PlacementTimeouts(schedule_to_start_s=3.0, heartbeat_s=5.0, start_to_close_s=240.0,
                             wait_initial_s=2.0, wait_max_s=10.0)
#: A short canary: two steps, a few seconds each, judged on few requests. An exercise judges
#: availability (failover, failed requests, data lost), not the model: on one host the
#: injection itself (a killed gateway's restart taking both cores for seconds) makes the
#: other gateways' canary p99 2-10x their stable's (seen: 336 vs 27 ms, a rollback the
#: exercise then reported as its failure), and v2 (v1's scores) can meet the shift check's
#: sampling noise: latency and shift are judged only far out of range.
CANARY = CanaryPlan(steps=(50, 100), bake_s=4.0, min_requests=5, max_extensions=4,
                    max_error_rate=0.5, max_error_rate_increase=0.5, guard_s=0.0,
                    max_latency_ratio=50.0, max_psi=100.0)


def sample_files(home: Path) -> dict[str, Path]:
    """The sample cohort and models under ``home/chaos/sample`` (written once), plus a
    larger copy of the cohort so a stage runs long enough to be hit mid-way."""
    from medpipe.workers.sample import write_sample

    out = home / "chaos" / "sample"
    files = {"dataset": out / "cohort.csv", "model": out / "model.onnx",
             "model_v2": out / "model-v2.onnx", "big": out / "cohort-big.csv"}
    if not all(p.exists() for p in files.values()):
        out.mkdir(parents=True, exist_ok=True)
        written = write_sample(out, patients=300, visits=3)
        files.update({k: v for k, v in written.items() if k in files})
        header, _, body = files["dataset"].read_bytes().partition(b"\n")
        tmp = files["big"].with_suffix(".tmp")
        tmp.write_bytes(header + b"\n" + body * 4)
        tmp.replace(files["big"])
    return files


def probe_request(config: StackConfig, files: dict[str, Path], scenario: str, *,
                  big: bool = False, prefer_gpu: bool = False, deploy: bool = False,
                  model: str = PROBE_MODEL, model_key: str = "model") -> ReleaseRequest:
    """A release of the sample model for one exercise (a fresh version each time)."""
    return ReleaseRequest(
        model=model, version=f"chaos-{scenario}-{uuid.uuid4().hex[:8]}",
        model_uri=files[model_key].as_uri(),
        data_uri=files["big" if big else "dataset"].as_uri(), fleet=config.fleet,
        requested_by="chaos-exercise", timeouts=TIMEOUTS, prefer_gpu=prefer_gpu,
        deploy=deploy, canary=CANARY)


async def start(client: Client, request: ReleaseRequest) -> WorkflowHandle[Any, Any]:
    """Start the release's workflow."""
    return await start_release(client, request)


async def running_on(handle: WorkflowHandle[Any, Any], timeout: float,
                     identity_part: str = "", activities: frozenset[str] = frozenset(),
                     heartbeated: bool = False) -> str:
    """Wait until one of the release's activities is running on a worker (whose identity
    contains ``identity_part``); that worker's identity ('' when none did in time).

    ``activities`` limits the wait to those activity types; ``heartbeated`` to an activity
    whose worker has already reported progress on it (a stage under way, not one about to
    be picked up or one that is ending: a fault aimed at it lands mid-stage).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            desc = await handle.describe()
        except RPCError:
            await asyncio.sleep(0.2)
            continue
        if desc.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
            return ""
        for p in desc.raw_description.pending_activities:
            if p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED \
                    and identity_part in p.last_worker_identity \
                    and (not activities or p.activity_type.name in activities) \
                    and (not heartbeated or p.HasField("last_heartbeat_time")):
                return str(p.last_worker_identity)
        await asyncio.sleep(0.1)
    return ""


async def wait_done(handle: WorkflowHandle[Any, Any], deadline_s: float) -> ReleaseStatus | None:
    """The release's final status, riding out an unreachable server; None at the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            desc = await handle.describe()
            if desc.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
                return await handle.query(QueryName.STATUS, result_type=ReleaseStatus)
        except RPCError:
            pass  # the server restarts: keep asking until the deadline
        await asyncio.sleep(0.5)
    return None


def completed(status: ReleaseStatus | None) -> bool:
    """Whether the release succeeded."""
    return status is not None and status.state is ReleaseState.SUCCEEDED


def _refs(value: Any) -> Iterator[ArtifactRef]:
    """Every artifact reference anywhere in a status document."""
    if isinstance(value, dict):
        if {"bucket_uri", "key", "sha256", "size", "name"} <= value.keys():
            yield ArtifactRef.model_validate(value)
        else:
            for v in value.values():
                yield from _refs(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _refs(v)


def ledger_documents(config: StackConfig, release_id: str) -> list[dict[str, Any]]:
    """The payloads the ledger holds for a release (the signed artifacts are named there)."""
    if not config.fleet.ledger_uri or not config.fleet.keys.enabled:
        return []
    from medpipe.activities.signing.ledger import open_ledger

    ledger = open_ledger(config.fleet.ledger_uri, config.fleet.ledger_checkpoint_uri)
    return [dict(e.payload) for e in ledger.entries(release_id)]


def read_back(status: ReleaseStatus, *documents: dict[str, Any]
              ) -> tuple[int, int, list[str]]:
    """Read every artifact the release recorded (in its status and in ``documents``, its
    ledger entries): (checked, lost, what was lost and why)."""
    refs = {(r.bucket_uri, r.key): r
            for r in _refs([status.model_dump(mode="json"), *documents])}
    lost: list[str] = []
    for ref in refs.values():
        try:
            for _ in open_plain(ref):
                pass
        except MedpipeError as e:
            lost.append(f"{ref.name}: {type(e).__name__}: {e.message[:160]}")
    return len(refs), len(lost), lost


def failover_after(status: ReleaseStatus, injected_at: float,
                   causes: tuple[FailoverCause, ...] = ()) -> tuple[float | None, list[str]]:
    """Seconds from the injection (or the start of the affected stage, when the fault was
    there before it) to the first stage that failed over completing elsewhere; and every
    failover as text. With ``causes``, only a failover for one of them counts."""
    described: list[str] = []
    first: float | None = None
    for rec in status.stages:
        for fo in rec.failovers:
            described.append(f"{fo.stage.value}: {fo.from_queue} -> {fo.to_queue or '(wait)'} "
                             f"({fo.cause.value}, {fo.seconds:.1f} s)")
            if fo.at.timestamp() >= injected_at - 1.0 and rec.started_at is not None \
                    and first is None and (not causes or fo.cause in causes):
                # from the fault (or the stage's start, if the fault came first)
                begun = max(injected_at, rec.started_at.timestamp())
                first = rec.started_at.timestamp() + rec.seconds - begun
    return first, described
