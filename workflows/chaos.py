"""ChaosExerciseWorkflow: scheduled chaos exercises on a non-production fleet.

A Temporal Schedule (``medpipe chaos schedule``) starts it; it runs one
activity per scenario on the chaos runner (the process next to the stack that
may signal its processes), each returning the scenario's judged and stored
resilience report. Never retried: a retry would inject the fault twice, and
the next scheduled run is the retry.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from medpipe.contracts.chaos import ChaosExerciseInput, ChaosExerciseResult, ResilienceReport
from medpipe.contracts.names import ActivityName, WorkflowName

#: Heartbeats from the runner while a scenario runs (a Temporal restart is ~seconds).
HEARTBEAT = timedelta(seconds=90)


@workflow.defn(name=WorkflowName.CHAOS_EXERCISE)
class ChaosExerciseWorkflow:
    """Run each scenario once, in order; the result lists their reports."""

    @workflow.run
    async def run(self, inp: ChaosExerciseInput) -> ChaosExerciseResult:
        reports: list[ResilienceReport] = []
        for scenario in inp.scenarios:
            one = ChaosExerciseInput(scenarios=(scenario,), deadline_s=inp.deadline_s)
            result = await workflow.execute_activity(
                ActivityName.CHAOS_EXERCISE, one, result_type=ChaosExerciseResult,
                start_to_close_timeout=timedelta(seconds=inp.deadline_s * 3 + 120),
                heartbeat_timeout=HEARTBEAT, retry_policy=RetryPolicy(maximum_attempts=1),
                summary=f"chaos: {scenario.value}")
            reports.extend(result.reports)
        return ChaosExerciseResult(reports=tuple(reports))
