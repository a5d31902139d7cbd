"""A data stage fanned out over shards across every compliant worker (pseudonymize).

Above ``request.fanout.min_bytes`` the stage runs as: one **learn** activity
(dataset-wide identifier index and every vault token, stored sealed), one
**shard** activity per range of chunks — started together, the i-th on the
i-th compliant worker's queue (``StageRunner.run(rotate=i)``), each failing
over on its own to the next compliant worker, so a lost worker reruns only
its shard — and one **merge** activity writing the stage's usual result.
Residency is placement's: every shard is identifiable data, so its
candidates are the pseudonymize stage's, never wider.

Each of these appears in history as its own activity (``ActivityName.
PSEUDONYMIZE_LEARN/SHARD/MERGE``) and in the release's status as its own
pseudonymize stage record (``detail`` says which part), so on-call staff see
where every shard ran and every failover.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

from medpipe.contracts.fanout import (
    FANOUT_DETAIL,
    PseudonymizeLearnInput,
    PseudonymizeLearnResult,
    PseudonymizeMergeInput,
    PseudonymizeShardInput,
    PseudonymizeShardResult,
    shard_ranges,
)
from medpipe.contracts.names import ActivityName
from medpipe.contracts.pseudonymize import PseudonymizeResult
from medpipe.contracts.release import ReleaseRequest, Stage
from medpipe.workflows.placement import candidates
from medpipe.workflows.policies import STAGE_SPECS
from medpipe.workflows.progress import ReleaseProgress
from medpipe.workflows.stage_runner import InputsUnavailable, StageCall, StageRunner

#: ``workflow.patched`` id: releases started before the fan-out replay without it.
FANOUT_PATCH = "pseudonymize-fanout-v1"


def fans_out(request: ReleaseRequest, progress: ReleaseProgress) -> bool:
    """Whether this release's pseudonymize stage fans out (a pure size/format test;
    the caller guards the new path with ``workflow.patched(FANOUT_PATCH)``)."""
    return request.fanout.applies(progress.inputs.raw_dataset)


def shard_count(request: ReleaseRequest, chunks: int) -> int:
    """Shards for ``chunks`` chunks: ``shards_per_worker`` per compliant queue, at most
    one per chunk and ``max_shards``."""
    spec = STAGE_SPECS[Stage.PSEUDONYMIZE]
    queues = len(candidates(spec, request.fleet, request.residency))
    s = request.fanout
    return max(1, min(chunks, s.max_shards, max(1, queues) * s.shards_per_worker))


async def pseudonymize(runner: StageRunner, request: ReleaseRequest,
                       progress: ReleaseProgress) -> PseudonymizeResult | None:
    """Run the pseudonymize stage fanned out; None when its input store stopped
    answering (the caller then runs the one-activity path, which re-ingests).

    Raises:
        StageFailed: a part failed for a reason no other worker can fix.
    """
    spec = STAGE_SPECS[Stage.PSEUDONYMIZE]
    fleet, settings = request.fleet, request.fanout
    dataset = progress.inputs.raw_dataset
    cloud = progress.inputs.cloud
    try:
        learned = await runner.run(StageCall(
            spec, ActivityName.PSEUDONYMIZE_LEARN,
            PseudonymizeLearnInput(release_id=request.release_id, dataset=dataset,
                                   policy_uri=request.policy_uri, keys=fleet.keys,
                                   vault_uri=fleet.vault_uri, chunk_rows=settings.chunk_rows),
            PseudonymizeLearnResult), prefer_cloud=cloud, detail=f"{FANOUT_DETAIL}learn pass")
        ranges = shard_ranges(learned.chunks, shard_count(request, learned.chunks))

        async def shard(i: int, first: int, count: int) -> PseudonymizeShardResult:
            call = StageCall(spec, ActivityName.PSEUDONYMIZE_SHARD, PseudonymizeShardInput(
                release_id=request.release_id, dataset=dataset, policy_uri=request.policy_uri,
                keys=fleet.keys, vault_uri=fleet.vault_uri, index=learned.index, shard=i,
                first_chunk=first, chunks=count, chunk_rows=learned.chunk_rows,
                vault_version=learned.vault_version), PseudonymizeShardResult)
            return await runner.run(
                call, rotate=i,
                detail=f"{FANOUT_DETAIL}shard {i + 1}/{len(ranges)} "
                f"(chunks {first}-{first + count - 1})")

        done = await asyncio.gather(*(shard(i, f, n) for i, (f, n) in enumerate(ranges)),
                                    return_exceptions=True)
        for outcome in done:  # a stage failure wins over a store outage
            if isinstance(outcome, BaseException) and not isinstance(outcome, InputsUnavailable):
                raise outcome
        if any(isinstance(o, InputsUnavailable) for o in done):
            return None
        shards = tuple(o for o in done if isinstance(o, PseudonymizeShardResult))
        return await runner.run(StageCall(
            spec, ActivityName.PSEUDONYMIZE_MERGE,
            PseudonymizeMergeInput(release_id=request.release_id, dataset=dataset,
                                   keys=fleet.keys, learned=learned, shards=shards),
            PseudonymizeResult), prefer_cloud=cloud,
            detail=f"{FANOUT_DETAIL}merge of {len(shards)} shards")
    except InputsUnavailable:
        workflow.logger.warning("pseudonymize fan-out: input store down; running the stage "
                                "as one activity (it re-ingests)")
        return None


__all__ = ["FANOUT_PATCH", "fans_out", "pseudonymize", "shard_count"]
