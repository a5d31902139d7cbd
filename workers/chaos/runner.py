"""Run chaos exercises on the local non-production stack: one report per scenario.

What ``medpipe chaos run`` and the ``medpipe.chaos.exercise`` activity share:
refuse a production fleet, run each scenario against the stack the dev
supervisor records, judge it against the goals, store it and append it to the
ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from temporalio.client import Client

from medpipe.contracts.chaos import ResilienceGoals, ResilienceReport, Scenario
from medpipe.workers.chaos.guard import require_non_production
from medpipe.workers.chaos.ready import stack_ready
from medpipe.workers.chaos.reports import judge, store_report
from medpipe.workers.chaos.scenarios import SCENARIOS, Exercise
from medpipe.workers.chaos.stack import StackControl
from medpipe.workers.config import StackConfig


async def run_exercises(config: StackConfig, home: Path, client: Client,
                        scenarios: tuple[Scenario, ...], deadline_s: float = 300.0,
                        goals: ResilienceGoals | None = None,
                        on_report: Callable[[ResilienceReport], None] | None = None,
                        ) -> list[ResilienceReport]:
    """Run ``scenarios`` one after the other; each report judged, stored and in the ledger.

    Raises:
        AccessDenied: the fleet is not marked non-production.
        InvalidInput: no local stack runs under ``home``.
    """
    require_non_production(config.fleet)
    StackControl(home).names()  # refuses clearly when no stack runs here
    if config.storage == "emulated":  # read artifacts back as the stack's workers do
        import os

        from medpipe.workers.emulators import emulated_worker_env

        os.environ.update(emulated_worker_env())
    reports = []
    for scenario in scenarios:
        await stack_ready(config, StackControl(home), client)
        ex = Exercise(config=config, home=home, client=client, scenario=scenario,
                      deadline_s=deadline_s, goals=goals or ResilienceGoals())
        report = judge(await SCENARIOS[scenario](ex))
        report = await asyncio.to_thread(store_report, config.fleet, report)
        if on_report is not None:
            on_report(report)
        reports.append(report)
    return reports
