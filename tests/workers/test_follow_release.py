"""Following a release whose status query fails (a real Temporal dev server).

A query fails while the release itself is fine when no worker polls the control
queue for a moment or the answering worker cannot replay the history (seen once in
CI under heavy load: ``medpipe release --wait`` then died with a traceback).
``follow_release`` keeps the last status, says why, asks again, and ends on the
workflow's close status when the query never answers again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.worker import Worker

from medpipe.contracts.release import ReleaseState, ReleaseStatus
from medpipe.workers.cli_errors import EXIT_UNREACHABLE, report
from medpipe.workers.releases import Followed, follow_release
from tests.workers.status_workflow import FlakyStatusWorkflow

FIRST = ReleaseStatus(release_id="r", model="m", version="1", state=ReleaseState.RUNNING)


@asynccontextmanager
async def flaky_release(client: Client) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """A running ``FlakyStatusWorkflow`` (its status query failing) and its worker."""
    queue = f"follow-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[FlakyStatusWorkflow]):
        yield await client.start_workflow(FlakyStatusWorkflow.run, "r",
                                          id=f"follow-{uuid.uuid4().hex}", task_queue=queue)


@pytest.mark.asyncio
async def test_a_failing_status_query_keeps_the_last_status_and_asks_again(
        client: Client) -> None:
    async with flaky_release(client) as handle:
        looks: list[Followed] = []
        async for look in follow_release(client, handle.id, FIRST, interval=0.05):
            looks.append(look)
            if len(looks) == 3:
                await handle.signal(FlakyStatusWorkflow.failing, False)
            if look.query_error is None and look.running:
                await handle.signal(FlakyStatusWorkflow.finish)
        # the first looks: the query failed, the last status read is kept, the error named
        assert looks[0].query_error is not None and "cannot replay" in looks[0].query_error
        assert looks[0].status == FIRST and looks[0].running
        # then it answered: a fresh status, and the last look is the closed workflow's
        answered = [lk for lk in looks if lk.query_error is None]
        assert answered and answered[0].status.release_id == handle.id
        assert not looks[-1].running and looks[-1].completed
        assert looks[-1].query_error is None
        assert looks[-1].status.state is ReleaseState.SUCCEEDED


@pytest.mark.asyncio
async def test_a_closed_release_whose_query_keeps_failing_ends_on_its_close_status(
        client: Client) -> None:
    async with flaky_release(client) as handle:
        await handle.signal(FlakyStatusWorkflow.finish)
        await handle.result()
        looks = [lk async for lk in follow_release(client, handle.id, FIRST, interval=0.05)]
    # one look only: tries on a closed workflow are not shown one by one
    assert len(looks) == 1
    last = looks[0]
    assert not last.running and last.completed
    assert last.query_error is not None and "cannot replay" in last.query_error
    assert last.status == FIRST


def test_a_query_no_worker_answered_is_one_line_and_exit_3(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Where a command queries once (``status``, the first look of ``watch``)."""
    error = WorkflowQueryFailedError("[TMPRL1100] Nondeterminism error: patch marker")
    with pytest.raises(SystemExit) as exit_:
        report(error)
    assert exit_.value.code == EXIT_UNREACHABLE
    err = capsys.readouterr().err
    assert "did not answer the query" in err and "Nondeterminism error" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
