"""A worker process for one profile (``medpipe worker --profile aws/us-east-1``).

It polls the activity queues its profile implies (CPU, plus GPU when the
profile has accelerators) and the shared control queue for workflow tasks,
so orchestration survives the loss of any one worker process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from medpipe.activities.approvals import ApprovalActivities
from medpipe.activities.context import WorkerContext
from medpipe.activities.cores import CoreBudget, default_activity_slots, default_cores
from medpipe.activities.deploy import DeployActivities
from medpipe.activities.drift import DriftActivities
from medpipe.activities.evaluate import EvaluateActivities
from medpipe.activities.ingest import IngestActivities
from medpipe.activities.memory import return_freed_memory
from medpipe.activities.placement_probe import PlacementProbeActivities
from medpipe.activities.procpool import start_fork_server
from medpipe.activities.pseudonymize.activity import PseudonymizeActivities
from medpipe.activities.pseudonymize.fanout import FanoutPseudonymizeActivities
from medpipe.activities.pseudonymize.learnfanout import FanoutLearnActivities
from medpipe.activities.registry import RegistryActivities
from medpipe.activities.signing.sign import SignActivities
from medpipe.activities.stage_cores import holding_a_core
from medpipe.activities.validate import ValidateActivities, start_gx_import
from medpipe.activities.validate_fanout import FanoutValidateActivities
from medpipe.contracts.names import ActivityName
from medpipe.contracts.placement import Fleet, WorkerProfile
from medpipe.workers.client import connect
from medpipe.workers.config import StackConfig
from medpipe.workflows.canary import CanaryWorkflow
from medpipe.workflows.drift import DriftMonitorWorkflow
from medpipe.workflows.release import ReleaseWorkflow

log = logging.getLogger("medpipe.worker")

WORKFLOWS: list[type] = [ReleaseWorkflow, CanaryWorkflow, DriftMonitorWorkflow]


def activities_for(ctx: WorkerContext) -> list[Callable[..., Any]]:
    """Every activity a worker of this context runs (one line per concern).

    Data stages hold one of ``ctx.cores`` while they run (``activities.stage_cores``).
    """
    sign = SignActivities(ctx)
    fanout = FanoutPseudonymizeActivities(ctx)
    learn = FanoutLearnActivities(ctx)
    validate = ValidateActivities(ctx)
    validate_fanout = FanoutValidateActivities(validate)
    return [
        IngestActivities(ctx).ingest,
        holding_a_core(ActivityName.PSEUDONYMIZE, PseudonymizeActivities(ctx).pseudonymize,
                       ctx.cores),
        holding_a_core(ActivityName.PSEUDONYMIZE_LEARN, fanout.learn, ctx.cores),
        learn.learn_key,
        holding_a_core(ActivityName.PSEUDONYMIZE_LEARN_SHARD, learn.learn_shard, ctx.cores),
        holding_a_core(ActivityName.PSEUDONYMIZE_LEARN_MERGE, learn.learn_merge, ctx.cores),
        holding_a_core(ActivityName.PSEUDONYMIZE_SHARD, fanout.shard, ctx.cores),
        holding_a_core(ActivityName.PSEUDONYMIZE_MERGE, fanout.merge, ctx.cores),
        holding_a_core(ActivityName.VALIDATE, validate.validate, ctx.cores),
        holding_a_core(ActivityName.VALIDATE_SHARD, validate_fanout.shard, ctx.cores),
        holding_a_core(ActivityName.VALIDATE_MERGE, validate_fanout.merge, ctx.cores),
        holding_a_core(ActivityName.EVALUATE, EvaluateActivities(ctx).evaluate, ctx.cores),
        sign.sign,
        sign.ledger_append,
    ]


def workflow_runner() -> SandboxedWorkflowRunner:
    """Sandbox that passes our immutable contracts and pydantic through (faster, same types)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "pydantic", "medpipe.contracts"))


def build_workers(client: Client, ctx: WorkerContext, fleet: Fleet, *, control: bool = True,
                  max_concurrent_activities: int | None = None) -> list[Worker]:
    """Temporal workers for one profile: one per activity queue, plus control.

    ``max_concurrent_activities`` (default: ``$MEDPIPE_ACTIVITY_SLOTS``, else
    ``SLOTS_PER_CORE`` per core of ``ctx.cores``) is generous on purpose: a
    schedule-to-start timeout is how placement notices a queue nobody polls, so a
    live worker must take tasks promptly even when busy; with a small cap, a burst
    of releases made busy workers look absent and moved steps needlessly. The CPU
    is not oversubscribed for it: a started data stage waits, heartbeating, for a
    core of ``ctx.cores`` (``activities.stage_cores``).
    """
    if max_concurrent_activities is None:
        max_concurrent_activities = default_activity_slots(ctx.cores.total)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent_activities * 2)
    acts = activities_for(ctx)
    workers = [
        Worker(client, task_queue=queue, activities=acts, activity_executor=executor,
               max_concurrent_activities=max_concurrent_activities, identity=ctx.worker_id)
        for queue in ctx.profile.queues(fleet.queue_prefix)
    ]
    if control:
        workers.append(control_worker(client, fleet, ctx, executor))
    return workers


def control_activities(ctx: WorkerContext) -> list[Callable[..., Any]]:
    """Short steps run as local activities next to the workflows (no patient data)."""
    registry = RegistryActivities(ctx)
    deploy = DeployActivities(ctx, ctx.gateway_tls)
    drift = DriftActivities(ctx, ctx.gateway_tls)
    return [registry.lookup, registry.record, deploy.call, SignActivities(ctx).ledger_append,
            ApprovalActivities().check, drift.alert, drift.rollback, drift.schedule,
            PlacementProbeActivities().probe]


def control_worker(client: Client, fleet: Fleet, ctx: WorkerContext,
                   executor: concurrent.futures.Executor | None = None) -> Worker:
    """The workflow worker on the fleet's control queue (with its local activities)."""
    return Worker(client, task_queue=fleet.control_queue, workflows=WORKFLOWS,
                  activities=control_activities(ctx),
                  activity_executor=executor or concurrent.futures.ThreadPoolExecutor(4),
                  workflow_runner=workflow_runner(), identity=f"{ctx.worker_id}/control")


async def run_worker(config: StackConfig, profile: WorkerProfile, *,
                     ingest_rate_limit: float | None = None, control: bool = True,
                     data_processes: int | None = None,
                     activity_slots: int | None = None) -> None:
    """Run until SIGINT/SIGTERM, then drain gracefully.

    ``data_processes``: cores the data stages of every worker sharing this machine's
    ``home`` use at once (default: ``$MEDPIPE_DATA_PROCESSES``, else every core).
    ``activity_slots``: activities run at once per task queue (default:
    ``$MEDPIPE_ACTIVITY_SLOTS``, else 8 per core of ``data_processes``).
    """
    return_freed_memory()  # before any stage allocates (activities.memory)
    start_fork_server()  # its imports run meanwhile, not in the first data stage
    client = await connect(config)
    cores = CoreBudget(data_processes or default_cores(), Path(config.home) / "cores")
    ctx = WorkerContext(profile=profile, ingest_rate_limit=ingest_rate_limit,
                        source_tls=config.source_tls,
                        gateway_tls=config.gateway_tls if config.gateway_tls.enabled else None,
                        cores=cores)
    # the SBOM of this runtime, stored once per digest (retried at the first stage if the
    # bucket does not answer yet); stage results name it
    sbom_sha256, sbom_uri = await asyncio.to_thread(lambda: ctx.sbom)
    log.info("worker SBOM %s at %s", sbom_sha256, sbom_uri or "(not stored yet)")
    workers = build_workers(client, ctx, config.fleet, control=control,
                            max_concurrent_activities=activity_slots)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if config.fleet.unprotected:
        log.warning("INSECURE DEV FLEET (fleet.insecure_dev): no key provider; identifiable "
                    "data handled by this worker is stored in clear")
    log.info("worker %s polling %s", ctx.worker_id,
             ", ".join(w.task_queue for w in workers))
    # in the background once no data stage runs, not in the first validate (activities.validate)
    start_gx_import(idle=lambda: not cores.in_use and not cores.waiting)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
    for w in workers:
        await w.shutdown()
    for t in done:
        if t is not stopped and t.exception():
            raise t.exception()  # type: ignore[misc]
