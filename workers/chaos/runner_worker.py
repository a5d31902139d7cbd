"""The chaos runner: the worker of ``ChaosExerciseWorkflow`` and its exercise activity.

It runs next to the non-production stack (``dev up`` starts it as
``chaos-runner``) because an exercise signals the stack's processes by the
pids the supervisor recorded. It refuses to start on a production fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from medpipe.contracts.chaos import ChaosExerciseInput, ChaosExerciseResult, chaos_queue
from medpipe.contracts.names import ActivityName
from medpipe.workers.chaos.guard import require_non_production
from medpipe.workers.chaos.runner import run_exercises
from medpipe.workers.config import StackConfig


class ChaosActivities:
    """The exercise activity, bound to the stack it may disturb."""

    def __init__(self, config: StackConfig, home: Path, client: Client) -> None:
        self.config, self.home, self.client = config, home, client

    @activity.defn(name=ActivityName.CHAOS_EXERCISE)
    async def exercise(self, inp: ChaosExerciseInput) -> ChaosExerciseResult:
        """Run the scenarios; heartbeat meanwhile (the result holds the stored reports)."""

        async def beat() -> None:
            while True:
                with contextlib.suppress(Exception):
                    activity.heartbeat()
                await asyncio.sleep(5)

        beating = asyncio.create_task(beat())
        try:
            reports = await run_exercises(self.config, self.home, self.client, inp.scenarios,
                                          inp.deadline_s)
        finally:
            beating.cancel()
        return ChaosExerciseResult(reports=tuple(reports))


async def run_runner(config: StackConfig, home: Path) -> None:
    """Poll the chaos queue until SIGTERM/SIGINT."""
    from medpipe.workers.client import connect
    from medpipe.workers.worker import workflow_runner
    from medpipe.workflows.chaos import ChaosExerciseWorkflow

    require_non_production(config.fleet)
    client = await connect(config)
    worker = Worker(client, task_queue=chaos_queue(config.fleet.queue_prefix),
                    workflows=[ChaosExerciseWorkflow],
                    activities=[ChaosActivities(config, home, client).exercise],
                    workflow_runner=workflow_runner())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(worker.run())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # the worker failed: exit with its error so the supervisor restarts it
        stopped.cancel()
        await task
        return
    await worker.shutdown()
    with contextlib.suppress(Exception):
        await task
