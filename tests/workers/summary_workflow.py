"""A workflow with UI summaries, importable by the workflow sandbox (no test imports)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

# Imported inside the sandbox (not passed through): the converter must recognise a
# Summary from a re-imported copy of the module.
from medpipe.contracts.summary import Summary


@activity.defn
async def echo(text: str) -> str:
    return f"seen {text}"


@workflow.defn
class SummaryTestWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            echo, text, start_to_close_timeout=timedelta(seconds=30),
            summary=Summary("pseudonymize on medpipe.aws.us-east-1.cpu"))
