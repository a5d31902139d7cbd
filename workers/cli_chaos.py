"""``medpipe chaos``: resilience exercises on a non-production fleet.

``run`` injects faults into the local stack while real releases run and prints
each resilience report; ``schedule`` makes a Temporal Schedule run them
(``ChaosExerciseWorkflow`` on the chaos runner); ``report`` prints the latest
report per scenario. Every command refuses a production fleet, naming
``fleet.environment``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import click
from rich.table import Table

from medpipe.contracts.chaos import (
    ChaosExerciseInput,
    ResilienceReport,
    Scenario,
    Verdict,
    chaos_queue,
)
from medpipe.contracts.names import WorkflowName
from medpipe.workers.cli_errors import EXIT_REFUSED, clear_errors, fail, run_async
from medpipe.workers.cli_output import make_console, output_option
from medpipe.workers.config import StackConfig, medpipe_home

console = make_console()
SCENARIO_NAMES = [s.value for s in Scenario]


def _chosen(scenarios: tuple[str, ...], run_all: bool) -> tuple[Scenario, ...]:
    if run_all and scenarios:
        fail("give --scenario or --all, not both")
    if not run_all and not scenarios:
        fail(f"which scenario? --scenario {{{','.join(SCENARIO_NAMES)}}} (repeatable) or --all")
    return tuple(Scenario) if run_all else tuple(dict.fromkeys(Scenario(s) for s in scenarios))


def scenario_options(fn):  # type: ignore[no-untyped-def]
    """``--scenario S`` (repeatable) / ``--all`` and ``--deadline``."""
    fn = click.option("--deadline", type=click.FloatRange(min=10), default=300.0,
                      show_default=True, help="Seconds each release may take under a fault.")(fn)
    fn = click.option("--all", "run_all", is_flag=True, help="Every scenario.")(fn)
    return click.option("--scenario", "scenarios", multiple=True,
                        type=click.Choice(SCENARIO_NAMES), help="A scenario (repeatable).")(fn)


@click.group()
def chaos() -> None:
    """Chaos exercises (non-production fleets only): run, schedule, report."""


def _table(reports: list[ResilienceReport]) -> Table:
    table = Table(title="resilience reports")
    for col in ("scenario", "verdict", "failover s", "releases", "requests failed",
                "artifacts / lost", "finished", "why not"):
        table.add_column(col)
    for r in reports:
        color = "green" if r.verdict is Verdict.PASS else "red"
        table.add_row(r.scenario.value, f"[{color}]{r.verdict.value}[/{color}]",
                      "-" if r.failover_s is None else f"{r.failover_s:.2f}",
                      f"{r.releases_completed}/{r.releases_started}",
                      _requests(r),
                      f"{r.artifacts_checked} / {r.data_lost}",
                      r.finished_at.strftime("%Y-%m-%d %H:%M:%S"), "; ".join(r.failures))
    return table


def _requests(r: ResilienceReport) -> str:
    """Failed/sent straight to the gateways, and through the front when it was used."""
    if not r.requests_sent:
        return "-"
    front = (f" · front {r.front_requests_failed}/{r.front_requests_sent}"
             if r.front_requests_sent else "")
    return f"{r.requests_failed}/{r.requests_sent}{front}"


def _print(reports: list[ResilienceReport], output: str) -> None:
    if output == "json":
        click.echo(json.dumps([r.model_dump(mode="json") for r in reports], indent=2))
    else:
        console.print(_table(reports))


@chaos.command("run")
@scenario_options
@output_option
@click.pass_obj
@run_async
async def chaos_run(cfg: StackConfig, scenarios: tuple[str, ...], run_all: bool,
                    deadline: float, output: str) -> None:
    """Inject each scenario's fault into the local stack while a real release runs."""
    from medpipe.workers.chaos.guard import require_non_production
    from medpipe.workers.chaos.runner import run_exercises
    from medpipe.workers.client import connect

    chosen = _chosen(scenarios, run_all)
    require_non_production(cfg.fleet)
    client = await connect(cfg)

    def progress(r: ResilienceReport) -> None:
        if output != "json":
            console.print(f"{r.scenario.value}: {r.verdict.value}"
                          + (f" ({'; '.join(r.failures)})" if r.failures else ""))

    reports = await run_exercises(cfg, medpipe_home(), client, chosen, deadline,
                                  on_report=progress)
    _print(reports, output)
    if any(r.verdict is not Verdict.PASS for r in reports):
        sys.exit(EXIT_REFUSED)


@chaos.command("schedule")
@click.option("--cron", required=True, help="Cron expression (UTC), e.g. '0 3 * * 1'.")
@scenario_options
@click.pass_obj
@run_async
async def chaos_schedule(cfg: StackConfig, cron: str, scenarios: tuple[str, ...],
                         run_all: bool, deadline: float) -> None:
    """Run exercises on a Temporal Schedule (created, or replaced if it exists)."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
        ScheduleUpdate,
    )

    from medpipe.workers.chaos.guard import require_non_production
    from medpipe.workers.client import connect

    chosen = _chosen(scenarios, run_all)
    if len(cron.split()) not in (5, 6):
        fail(f"--cron {cron!r} is not a cron expression (5 fields, e.g. '0 3 * * 1')")
    require_non_production(cfg.fleet)
    client = await connect(cfg)
    prefix = cfg.fleet.queue_prefix
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WorkflowName.CHAOS_EXERCISE.value,
            ChaosExerciseInput(scenarios=chosen, deadline_s=deadline),
            id=f"chaos-exercise-{prefix}", task_queue=chaos_queue(prefix)),
        spec=ScheduleSpec(cron_expressions=[cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP))
    schedule_id = f"chaos-{prefix}"
    try:
        await client.create_schedule(schedule_id, schedule)
        verb = "created"
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).update(
            lambda _: ScheduleUpdate(schedule=schedule))
        verb = "replaced"
    console.print(f"schedule {schedule_id} {verb}: {cron} (UTC) runs "
                  f"{', '.join(s.value for s in chosen)} on task queue {chaos_queue(prefix)}")


@chaos.command("report")
@output_option
@click.pass_obj
@clear_errors
def chaos_report(cfg: StackConfig, output: str) -> None:
    """The latest resilience report of each scenario."""
    from medpipe.workers.chaos.reports import latest_reports

    reports = latest_reports(cfg.fleet)
    if not reports and output != "json":
        console.print("no chaos exercise has run on this fleet yet (`medpipe chaos run`)")
        return
    _print(reports, output)


@chaos.command("proxy", hidden=True)
@click.option("--listen", required=True, help="host:port to listen on.")
@click.option("--upstream", required=True, help="host:port to forward to.")
@clear_errors
def chaos_proxy(listen: str, upstream: str) -> None:
    """(internal) The cuttable TCP proxy of a non-production stack (SIGUSR1 cut, SIGUSR2
    restore)."""
    from medpipe.workers.chaos.proxy import parse_hostport, serve

    try:
        parse_hostport(listen), parse_hostport(upstream)
    except ValueError as e:
        fail(str(e))
    asyncio.run(serve(listen, upstream))


@chaos.command("worker", hidden=True)
@click.pass_obj
@clear_errors
def chaos_worker(cfg: StackConfig) -> None:
    """(internal) The chaos runner: runs scheduled exercises next to the stack."""
    from medpipe.workers.chaos.runner_worker import run_runner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_runner(cfg, medpipe_home()))
