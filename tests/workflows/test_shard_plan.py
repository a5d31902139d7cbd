"""The shard plan of a fanned-out stage: shards go to the compliant queues a worker polls
(pure rules; ``tests/workflows/test_fanout.py`` runs them on real workers)."""

from __future__ import annotations

import pytest

from medpipe.workflows.shard_plan import every_queue, live_plan


def test_every_queue_polled_plans_as_before_with_no_note() -> None:
    plan = live_plan((True, True, True), per_queue=1)
    assert plan == every_queue(3, 1)
    assert plan.note == ""
    assert plan.shards(chunks=10, max_shards=64) == 3
    assert [plan.rotation(i) for i in range(3)] == [0, 1, 2]


def test_a_queue_nobody_polls_gets_no_shard() -> None:
    plan = live_plan((True, False, True), per_queue=1)
    assert plan.shards(chunks=10, max_shards=64) == 2
    assert [plan.rotation(i) for i in range(2)] == [0, 2]
    assert plan.note == "2 of 3 compliant queues polled"


def test_shards_per_worker_cycle_over_the_live_queues() -> None:
    plan = live_plan((False, True, True), per_queue=2)
    assert plan.shards(chunks=10, max_shards=64) == 4
    assert [plan.rotation(i) for i in range(4)] == [1, 2, 1, 2]


@pytest.mark.parametrize("chunks,max_shards,expected", [(1, 64, 1), (10, 1, 1), (0, 64, 1)])
def test_at_most_one_shard_per_chunk_and_max_shards_and_never_none(
        chunks: int, max_shards: int, expected: int) -> None:
    assert live_plan((True, True), per_queue=4).shards(chunks, max_shards) == expected


def test_no_queue_polled_falls_back_to_every_compliant_queue() -> None:
    """Liveness lags (a worker starting up is not listed yet): failover covers a dead one,
    so the plan never has fewer places than before."""
    plan = live_plan((False, False, False), per_queue=1)
    assert plan.shards(chunks=10, max_shards=64) == 3
    assert "no compliant worker polled" in plan.note


def test_no_candidate_still_plans_one_shard() -> None:
    plan = every_queue(0, 1)
    assert plan.shards(chunks=5, max_shards=64) == 1 and plan.rotation(0) == 0
