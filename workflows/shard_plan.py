"""How many shards a fanned-out stage cuts, and which compliant queue each starts on.

A fanned-out stage puts one shard (``shards_per_worker`` of them) on each compliant
queue at once. A compliant queue no worker polls — a GPU host not deployed, a
region whose workers are down — would take its shards first and hold each for
``schedule_to_start_s`` before failover moved it on: every fanned-out stage of
every release paid that wait (a 300k-row release with one of three US workers
running took 187 s instead of ~20). So before cutting shards the workflow asks
the placement probe (``ActivityName.PLACEMENT_PROBE``, liveness only) which
compliant queues a worker polls, and plans over those: as many shards as live
queues, the i-th starting on the i-th live one. The dead queues stay in every
shard's candidate list, behind the live ones, so failover is unchanged. The
probe's answer is a marker in history (a replay plans alike); releases started
before this code replay with every compliant queue (``LIVE_QUEUES_PATCH``). If
the probe fails, or lists no live queue, the plan is every compliant queue, as
before: liveness unknown is not a reason to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow
from temporalio.exceptions import ActivityError

from medpipe.contracts.release import ReleaseRequest, Stage
from medpipe.workflows.placement import candidates
from medpipe.workflows.policies import STAGE_SPECS
from medpipe.workflows.spread import probe_candidates

#: ``workflow.patched`` id: fan-outs planned over the compliant queues a worker polls.
LIVE_QUEUES_PATCH = "fanout-live-queues-v1"


@dataclass(frozen=True)
class ShardPlan:
    """The queues a stage's shards start on.

    Attributes:
        starts: index (in the stage's candidate order) of each queue shards start
            on, in that order; never empty.
        per_queue: shards per starting queue (``FanoutSettings.shards_per_worker``).
        note: why these queues (counts only, kept on the merge's stage record), or ""
            when they are every compliant queue because every one is polled.
    """

    starts: tuple[int, ...]
    per_queue: int
    note: str = ""

    def shards(self, chunks: int, max_shards: int) -> int:
        """Shards for ``chunks`` units: ``per_queue`` per starting queue, at most one per
        unit and ``max_shards``."""
        return max(1, min(chunks, max_shards, len(self.starts) * self.per_queue))

    def rotation(self, shard: int) -> int:
        """``StageRunner.run(rotate=...)`` for shard number ``shard``."""
        return self.starts[shard % len(self.starts)]


def every_queue(count: int, per_queue: int, note: str = "") -> ShardPlan:
    """The plan before this module: every one of ``count`` compliant queues, in order."""
    return ShardPlan(starts=tuple(range(max(1, count))), per_queue=per_queue, note=note)


def live_plan(live: tuple[bool, ...], per_queue: int) -> ShardPlan:
    """The plan over the queues ``live`` marks (pure; the probe's answer in order)."""
    starts = tuple(i for i, up in enumerate(live) if up)
    if not starts:
        return every_queue(len(live), per_queue,
                           "no compliant worker polled: every compliant queue")
    if len(starts) == len(live):
        return every_queue(len(live), per_queue)
    return ShardPlan(starts=starts, per_queue=per_queue,
                     note=f"{len(starts)} of {len(live)} compliant queues polled")


async def plan_shards(request: ReleaseRequest, stage: Stage) -> ShardPlan:
    """The shard plan of ``stage`` for ``request`` (runs the probe when it can matter)."""
    cands = candidates(STAGE_SPECS[stage], request.fleet, request.residency)
    per_queue = request.fanout.shards_per_worker
    if len(cands) < 2 or not workflow.patched(LIVE_QUEUES_PATCH):
        return every_queue(len(cands), per_queue)
    try:
        probe = await probe_candidates(
            request, cands, f"fan-out: which compliant {stage.value} workers poll",
            liveness_only=True)
    except ActivityError:
        workflow.logger.warning("fan-out probe failed: shards over every compliant queue")
        return every_queue(len(cands), per_queue,
                           "liveness unknown (probe failed): every compliant queue")
    if len(probe.live) != len(cands):
        return every_queue(len(cands), per_queue)
    return live_plan(probe.live, per_queue)


__all__ = ["LIVE_QUEUES_PATCH", "ShardPlan", "every_queue", "live_plan", "plan_shards"]
