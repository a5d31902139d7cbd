"""Data stages fanned out over shards across every compliant worker (pseudonymize, validate).

Above ``request.fanout.min_bytes`` the stage runs as: one **learn** activity
(dataset-wide identifier index and every vault token, stored sealed), one
**shard** activity per range of chunks — started together, the i-th on the
i-th compliant queue a worker polls (``workflows.shard_plan``: a compliant
queue nobody polls gets no shard to wait on), each failing over on its own
to the next compliant worker, so a lost worker reruns only its shard — and
one **merge** activity writing the stage's usual result.
Residency is placement's: every shard is identifiable data, so its
candidates are the pseudonymize stage's, never wider.

Each of these appears in history as its own activity (``ActivityName.
PSEUDONYMIZE_LEARN/SHARD/MERGE``) and in the release's status as its own
pseudonymize stage record (``detail`` says which part), so on-call staff see
where every shard ran and every failover.

Behind ``LEARN_SHARDS_PATCH`` the learn pass fans out too: a **learn key**
activity (the release's wrapped digest key, stored sealed), one **learn
shard** per compliant queue (every ``shards``-th chunk each; placed, rotated
and failing over like the shards), then a **learn merge** giving the learn
result (``ActivityName.PSEUDONYMIZE_LEARN_KEY/SHARD/MERGE``). Releases
started before it replay their one learn activity.

Validate fans out the same way (``validate``), without a first pass: one
**shard** per range of rows of the pseudonymized dataset on every compliant
validate worker, then a **merge** of their sealed parts into the one report
(``ActivityName.VALIDATE_SHARD/MERGE``), behind its own patch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from temporalio import workflow

from medpipe.contracts.fanout import (
    FANOUT_DETAIL,
    PseudonymizeLearnInput,
    PseudonymizeLearnKeyResult,
    PseudonymizeLearnMergeInput,
    PseudonymizeLearnResult,
    PseudonymizeLearnShardInput,
    PseudonymizeLearnShardResult,
    PseudonymizeMergeInput,
    PseudonymizeShardInput,
    PseudonymizeShardResult,
    ValidateMergeInput,
    ValidateShardInput,
    ValidateShardResult,
    row_ranges,
    shard_ranges,
)
from medpipe.contracts.names import ActivityName
from medpipe.contracts.pseudonymize import PseudonymizeResult
from medpipe.contracts.release import ReleaseRequest, Stage
from medpipe.contracts.validate import ValidateResult
from medpipe.workflows.policies import STAGE_SPECS
from medpipe.workflows.progress import ReleaseProgress
from medpipe.workflows.shard_plan import ShardPlan, plan_shards
from medpipe.workflows.stage_runner import InputsUnavailable, StageCall, StageRunner

T = TypeVar("T")

#: ``workflow.patched`` id: releases started before the fan-out replay without it.
FANOUT_PATCH = "pseudonymize-fanout-v1"
#: ``workflow.patched`` id of the validate fan-out (releases started before it replay
#: their one validate activity).
VALIDATE_FANOUT_PATCH = "validate-fanout-v1"
#: ``workflow.patched`` id of the learn pass in learn shards (releases started before it
#: replay their one learn activity).
LEARN_SHARDS_PATCH = "pseudonymize-learn-shards-v1"


def fans_out(request: ReleaseRequest, progress: ReleaseProgress) -> bool:
    """Whether this release's pseudonymize stage fans out (a pure size/format test;
    the caller guards the new path with ``workflow.patched(FANOUT_PATCH)``)."""
    return request.fanout.applies(progress.inputs.raw_dataset)


def validate_fans_out(request: ReleaseRequest, progress: ReleaseProgress) -> bool:
    """Whether this release's validate stage fans out: the pseudonymized dataset is above
    the threshold, tabular, and has rows (the caller guards the new path with
    ``workflow.patched(VALIDATE_FANOUT_PATCH)``)."""
    return (request.fanout.applies(progress.inputs.dataset)
            and progress.pseudonymized.report.records > 0)


def _noted(detail: str, plan: ShardPlan) -> str:
    return f"{detail} ({plan.note})" if plan.note else detail


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
    learn_input = PseudonymizeLearnInput(
        release_id=request.release_id, dataset=dataset, policy_uri=request.policy_uri,
        keys=fleet.keys, vault_uri=fleet.vault_uri, chunk_rows=settings.chunk_rows)
    plan = await plan_shards(request, Stage.PSEUDONYMIZE)
    try:
        if workflow.patched(LEARN_SHARDS_PATCH):
            learned = await _learned_in_shards(runner, request, learn_input, cloud, plan)
            if learned is None:
                return None
        else:
            learned = await runner.run(
                StageCall(spec, ActivityName.PSEUDONYMIZE_LEARN, learn_input,
                          PseudonymizeLearnResult),
                prefer_cloud=cloud, detail=f"{FANOUT_DETAIL}learn pass")
        ranges = shard_ranges(learned.chunks,
                              plan.shards(learned.chunks, settings.max_shards))

        async def shard(i: int, first: int, count: int) -> PseudonymizeShardResult:
            call = StageCall(spec, ActivityName.PSEUDONYMIZE_SHARD, PseudonymizeShardInput(
                release_id=request.release_id, dataset=dataset, policy_uri=request.policy_uri,
                keys=fleet.keys, vault_uri=fleet.vault_uri, index=learned.index, shard=i,
                first_chunk=first, chunks=count, chunk_rows=learned.chunk_rows,
                vault_version=learned.vault_version), PseudonymizeShardResult)
            return await runner.run(
                call, rotate=plan.rotation(i),
                detail=f"{FANOUT_DETAIL}shard {i + 1}/{len(ranges)} "
                f"(chunks {first}-{first + count - 1})")

        done = await _gathered([shard(i, f, n) for i, (f, n) in enumerate(ranges)])
        if done is None:
            return None
        shards = tuple(done)
        return await runner.run(StageCall(
            spec, ActivityName.PSEUDONYMIZE_MERGE,
            PseudonymizeMergeInput(release_id=request.release_id, dataset=dataset,
                                   keys=fleet.keys, learned=learned, shards=shards),
            PseudonymizeResult), prefer_cloud=cloud,
            detail=_noted(f"{FANOUT_DETAIL}merge of {len(shards)} shards", plan))
    except InputsUnavailable:
        workflow.logger.warning("pseudonymize fan-out: input store down; running the stage "
                                "as one activity (it re-ingests)")
        return None


async def _learned_in_shards(runner: StageRunner, request: ReleaseRequest,
                             inp: PseudonymizeLearnInput, cloud: str | None,
                             plan: ShardPlan) -> PseudonymizeLearnResult | None:
    """The learn pass as learn key, one learn shard per queue of ``plan``, learn merge;
    None when an input store stopped answering.

    Raises:
        InputsUnavailable: the key or the merge found an input store down.
        StageFailed: a part failed for a reason no other worker can fix.
    """
    spec = STAGE_SPECS[Stage.PSEUDONYMIZE]
    key = await runner.run(
        StageCall(spec, ActivityName.PSEUDONYMIZE_LEARN_KEY, inp, PseudonymizeLearnKeyResult),
        prefer_cloud=cloud, detail=f"{FANOUT_DETAIL}learn key")
    max_shards = request.fanout.max_shards
    shards = plan.shards(max_shards, max_shards)

    async def part(i: int) -> PseudonymizeLearnShardResult:
        call = StageCall(spec, ActivityName.PSEUDONYMIZE_LEARN_SHARD,
                         PseudonymizeLearnShardInput(**inp.model_dump(), digest_key=key.key,
                                                     shard=i, shards=shards),
                         PseudonymizeLearnShardResult)
        return await runner.run(call, rotate=plan.rotation(i),
                                detail=f"{FANOUT_DETAIL}learn shard {i + 1}/{shards}")

    parts = await _gathered([part(i) for i in range(shards)])
    if parts is None:
        return None
    return await runner.run(StageCall(
        spec, ActivityName.PSEUDONYMIZE_LEARN_MERGE,
        PseudonymizeLearnMergeInput(**inp.model_dump(), digest_key=key.key, parts=tuple(parts)),
        PseudonymizeLearnResult), prefer_cloud=cloud,
        detail=f"{FANOUT_DETAIL}learn merge of {shards} parts")


async def _gathered(parts: list[Awaitable[T]]) -> list[T] | None:
    """Every part's result, in order; None when an input store stopped answering.

    Raises:
        StageFailed: a part failed for a reason no other worker can fix (wins over a
            store outage).
    """
    done = await asyncio.gather(*parts, return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException) and not isinstance(outcome, InputsUnavailable):
            raise outcome
    if any(isinstance(o, InputsUnavailable) for o in done):
        return None
    return [o for o in done if not isinstance(o, BaseException)]


async def validate(runner: StageRunner, request: ReleaseRequest,
                   progress: ReleaseProgress) -> ValidateResult | None:
    """Run the validate stage fanned out over ranges of rows; None when its input store
    stopped answering (the caller then runs the one-activity path, which re-ingests).

    Raises:
        StageFailed: a shard or the merge failed for a reason no other worker can fix.
    """
    spec = STAGE_SPECS[Stage.VALIDATE]
    dataset = progress.inputs.dataset
    rows = progress.pseudonymized.report.records
    chunk_rows = request.fanout.chunk_rows
    chunks = -(-rows // chunk_rows)
    plan = await plan_shards(request, Stage.VALIDATE)
    ranges = row_ranges(rows, chunk_rows, plan.shards(chunks, request.fanout.max_shards))
    digests = progress.pseudonymized.identifier_digests

    async def shard(i: int, first: int, count: int) -> ValidateShardResult:
        call = StageCall(spec, ActivityName.VALIDATE_SHARD, ValidateShardInput(
            release_id=request.release_id, dataset=dataset, identifier_digests=digests,
            keys=request.fleet.keys, shard=i, first_row=first, rows=count),
            ValidateShardResult)
        return await runner.run(call, rotate=plan.rotation(i),
                                detail=f"{FANOUT_DETAIL}shard {i + 1}/"
                                f"{len(ranges)} (rows {first}-{first + count - 1})")

    try:
        shards = await _gathered([shard(i, f, n) for i, (f, n) in enumerate(ranges)])
        if shards is None:
            return None
        return await runner.run(StageCall(
            spec, ActivityName.VALIDATE_MERGE,
            ValidateMergeInput(release_id=request.release_id, dataset=dataset, rows=rows,
                               shards=tuple(shards)), ValidateResult),
            prefer_cloud=progress.inputs.cloud,
            detail=_noted(f"{FANOUT_DETAIL}merge of {len(shards)} shards", plan))
    except InputsUnavailable:
        workflow.logger.warning("validate fan-out: input store down; running the stage as "
                                "one activity (it re-ingests)")
        return None


__all__ = ["FANOUT_PATCH", "LEARN_SHARDS_PATCH", "VALIDATE_FANOUT_PATCH", "fans_out",
           "pseudonymize", "validate", "validate_fans_out"]
