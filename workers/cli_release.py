"""The release commands of ``medpipe``: release, watch, status, list, sample, worker.

For MLOps engineers (start and follow a release) and on-call staff (status,
list). ``workers/cli.py`` registers them lazily, so this module and what it
imports (the Temporal client, rich's live view, ONNX checks) load only when one
of these commands runs. The client API they use is ``workers/releases.py``;
tables are drawn by ``cli_render``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
from temporalio.client import Client

from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.release import ReleaseState
from medpipe.workers import cli_spec
from medpipe.workers.cli_errors import clear_errors, fail, run_async
from medpipe.workers.cli_options import output_path_option
from medpipe.workers.cli_output import make_console, output_option, to_json
from medpipe.workers.cli_render import (
    query_warning,
    release_rows,
    release_view,
    releases_table,
    status_footer,
    status_table,
    with_warning,
)
from medpipe.workers.client import connect
from medpipe.workers.config import StackConfig
from medpipe.workers.extras import require_extras
from medpipe.workers.releases import (
    Followed,
    canary_status,
    first_status,
    follow_release,
    list_releases,
    release_query,
    start_release,
)

#: What a worker imports beyond the base: it signs models and validates data.
WORKER_EXTRAS = ("sign", "validate")
console = make_console()


# -- releases -------------------------------------------------------------------
def _check_local_input(uri: str, what: str) -> Path | None:
    if "://" in uri and not uri.startswith("file://"):
        return None
    from medpipe.activities.sources import local_path  # TLS settings: not for list/status

    path = local_path(uri if "://" in uri else str(Path(uri).resolve()))
    if not path.exists():
        raise InvalidInput(f"{what} {uri} does not exist")
    if not path.is_file():
        raise InvalidInput(f"{what} {uri} is not a file")
    return path


def _check_onnx(path: Path) -> None:
    import onnx  # local import: only the release command needs it

    try:
        onnx.checker.check_model(str(path))
    except Exception as e:
        raise InvalidInput(f"model {path} is not a valid ONNX model: {str(e)[:200]}") from e


def _to_uri(value: str) -> str:
    return value if "://" in value else Path(value).resolve().as_uri()


def ui_link(cfg: StackConfig, workflow_id: str) -> str:
    """Web UI address of a workflow."""
    return f"{cfg.ui_url}/namespaces/{cfg.namespace}/workflows/{workflow_id}"


@click.command()
@cli_spec.release_options
@click.option("--wait", is_flag=True, help="Follow the release until it ends.")
@click.pass_obj
@run_async
async def release(cfg: StackConfig, spec_path: str | None, wait: bool, **flags: Any) -> None:
    """Start the release of one model version (idempotent: same version, same workflow)."""
    spec = cli_spec.load_spec(spec_path, flags)
    if spec.model and (model_file := _check_local_input(spec.model, "model")) is not None:
        _check_onnx(model_file)
    from medpipe.activities.chunkio import file_sha256

    request = cli_spec.build_request(cfg, spec, file_sha256)
    client = await connect(cfg)
    handle = await start_release(client, request)
    console.print(f"release [bold]{handle.id}[/bold] started")
    console.print(f"  watch: medpipe watch {handle.id}")
    console.print(f"  UI:    {ui_link(cfg, handle.id)}")
    if wait:
        ok = await watch_release(client, handle.id)
        sys.exit(0 if ok else 1)


# -- watching -----------------------------------------------------------------------
async def watch_release(client: Client, workflow_id: str, interval: float = 0.5) -> bool:
    """Follow a release live until it ends; return whether it succeeded."""
    from rich.live import Live

    status = await first_status(client, client.get_workflow_handle(workflow_id))
    look = Followed(status=status, running=True)
    with Live(status_table(status), console=console, refresh_per_second=4) as live:
        async for look in follow_release(client, workflow_id, status, interval):
            status = look.status
            canary = status.canary
            if canary is None and status.current_stage is not None \
                    and status.current_stage.value == "deploy":
                canary = await canary_status(client, status.release_id)
            warning = None if look.query_error is None \
                else query_warning(look.query_error, look.running)
            live.update(with_warning(release_view(status, canary), warning))
    if not console.is_terminal:
        console.print()  # a captured Live view does not end its last line
    if look.query_error is not None:
        # the workflow closed but its status could not be read (the live view's last
        # render says so): its close status decides
        return look.completed
    footer = status_footer(status)
    if footer:
        console.print(footer)
    return status.state is ReleaseState.SUCCEEDED


@click.command()
@click.argument("workflow_id")
@click.pass_obj
@run_async
async def watch(cfg: StackConfig, workflow_id: str) -> None:
    """Follow a release live (per-stage progress, placements, failovers)."""
    client = await connect(cfg)
    ok = await watch_release(client, workflow_id)
    sys.exit(0 if ok else 1)


@click.command()
@click.argument("workflow_id")
@output_option
@click.pass_obj
@run_async
async def status(cfg: StackConfig, workflow_id: str, output: str) -> None:
    """Show a release's stages, placements and failovers."""
    client = await connect(cfg)
    st = await first_status(client, client.get_workflow_handle(workflow_id))
    if output == "json":
        click.echo(to_json(st))
        return
    console.print(status_table(st))
    footer = status_footer(st)
    if footer:
        console.print(footer)


@click.command(name="list")
@click.option("--model", default=None)
@click.option("--stage", default=None)
@click.option("--state", default=None, type=click.Choice([s.value for s in ReleaseState]))
@click.option("--limit", default=50, show_default=True)
@output_option
@click.pass_obj
@run_async
async def list_command(cfg: StackConfig, model: str | None, stage: str | None,
                       state: str | None, limit: int, output: str) -> None:
    """List releases, filtered through search attributes."""
    client = await connect(cfg)
    query = release_query(model, stage, state)
    releases = await list_releases(client, query, limit)
    if output == "json":
        click.echo(to_json([{**row, "ui": ui_link(cfg, row["release"])}
                            for row in release_rows(releases)]))
        return
    console.print(releases_table(releases))
    console.print(f"{len(releases)} release(s); UI: {cfg.ui_url}/namespaces/{cfg.namespace}"
                  f"/workflows?query={quote(query)}")


# -- sample data ----------------------------------------------------------------------
@click.command()
@output_path_option("out_dir", default="sample", show_default=True,
                    help="Directory to write the cohort and models to.")
@click.option("--patients", default=2000, show_default=True)
@click.option("--visits", default=3, show_default=True)
@click.option("--seed", default=7, show_default=True)
@clear_errors
def sample(out_dir: str, patients: int, visits: int, seed: int) -> None:
    """Write a synthetic patient cohort and logistic-regression ONNX models."""
    from medpipe.workers.sample import write_sample

    paths = write_sample(Path(out_dir), patients=patients, visits=visits, seed=seed)
    for name, path in paths.items():
        console.print(f"{name:9} {path}")


# -- worker ---------------------------------------------------------------------------
@click.command()
@click.option("--profile", "profile_name", required=True, help="cloud/region, e.g. aws/us-east-1")
@click.option("--ingest-rate-limit", type=float, default=None,
              help="Cap on bytes/s pulled from sources (protects source systems).")
@click.option("--no-control", is_flag=True, help="Do not run workflow tasks in this process.")
@click.option("--data-processes", type=click.IntRange(min=1), default=None,
              envvar="MEDPIPE_DATA_PROCESSES",
              help="Cores the data stages of this machine's workers use at once (processes "
                   "for their chunks; 1 = sequential). Default: every core.")
@click.option("--activity-slots", type=click.IntRange(min=1), default=None,
              envvar="MEDPIPE_ACTIVITY_SLOTS",
              help="Activities this worker runs at once per task queue (data stages among "
                   "them wait for a core). Default: 8 per data-processes core.")
@click.pass_obj
@clear_errors
def worker(cfg: StackConfig, profile_name: str, ingest_rate_limit: float | None,
           no_control: bool, data_processes: int | None, activity_slots: int | None) -> None:
    """Run a worker for one profile of the fleet."""
    try:
        profile = cfg.fleet.find(profile_name)
    except KeyError as e:
        fail(e.args[0])
    require_extras("a worker", *WORKER_EXTRAS)
    from medpipe.workers.scratch import install
    from medpipe.workers.worker import run_worker

    install()  # its temporary files (and its pools') go with it, even after a SIGKILL

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_worker(cfg, profile, ingest_rate_limit=ingest_rate_limit,
                           control=not no_control, data_processes=data_processes,
                           activity_slots=activity_slots))


COMMANDS: tuple[click.Command, ...] = (release, watch, status, list_command, sample, worker)

__all__ = ["COMMANDS", "ui_link", "watch_release"]
