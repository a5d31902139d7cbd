"""Before a scenario: every process of the stack runs and every worker polls its queues.

A previous scenario's victim is restarted by the supervisor with backoff and
takes seconds to poll again; an exercise started earlier would see a
"no worker" failover instead of the fault it injects, and measure nothing.
"""

from __future__ import annotations

import asyncio
import time

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from medpipe.contracts.errors import InvalidInput
from medpipe.workers.chaos.stack import StackControl
from medpipe.workers.config import StackConfig


async def _polls(client: Client, queue: str, pid: int) -> bool:
    try:
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
    except RPCError:
        return False
    return any(p.identity.endswith(f":{pid}") for p in resp.pollers)


async def stack_ready(config: StackConfig, control: StackControl, client: Client,
                      timeout: float = 120.0) -> None:
    """Wait until every child runs its recorded command and each worker polls its CPU queue.

    Raises:
        TimeoutError: naming what is not ready after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    prefix = config.fleet.queue_prefix
    missing = ["?"]
    while time.monotonic() < deadline:
        missing = []
        for profile in config.fleet.profiles:
            name = f"worker-{profile.cloud.value}-{profile.region}"
            try:
                pid = control.pid(name)
            except InvalidInput:
                missing.append(name)
                continue
            if not await _polls(client, profile.queues(prefix)[0], pid):
                missing.append(f"{name} (not polling yet)")
        for name in control.names():
            if not name.startswith("worker-"):
                try:
                    control.pid(name)
                except InvalidInput:
                    missing.append(name)
        if not missing:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the local stack is not ready for an exercise: {', '.join(missing)}")
