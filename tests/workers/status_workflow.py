"""A workflow answering the release ``status`` query badly on purpose (importable by the
workflow sandbox: no test imports), to follow releases whose status query fails."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from medpipe.contracts.names import QueryName
from medpipe.contracts.release import ReleaseState, ReleaseStatus


@workflow.defn
class FlakyStatusWorkflow:
    """Runs until ``finish``; its ``status`` query fails while ``failing`` is set (a
    signal turns it on and off), as a query does when the answering worker cannot
    replay the history."""

    def __init__(self) -> None:
        self._failing = True
        self._done = False

    @workflow.run
    async def run(self, release_id: str) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.signal
    def failing(self, on: bool) -> None:
        self._failing = on

    @workflow.signal
    def finish(self) -> None:
        self._done = True

    @workflow.query(name=QueryName.STATUS)
    def status(self) -> ReleaseStatus:
        if self._failing:
            raise ApplicationError("cannot replay this history (test)")
        return ReleaseStatus(release_id=workflow.info().workflow_id, model="m", version="1",
                             state=ReleaseState.SUCCEEDED if self._done
                             else ReleaseState.RUNNING)
