"""The ``medpipe`` command: releases for MLOps engineers, watch/status for on-call.

This module holds the group, its connection options and the release
commands; the other audiences' commands live beside it and are registered
at the end: on-call canary control (``cli_canary``), keys (``cli_keys``),
the codec server (``cli_codec``), signatures and the ledger (``cli_sign``),
data stewards' pseudonymization (``cli_pseudo``) and the local stack
(``cli_dev``). The client API the commands use (and tests and benchmarks
import) is ``workers/releases.py``; tables are drawn by ``cli_render``.
Every command reports refusals through ``cli_errors``: one line, never a
traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import click
from rich.live import Live
from temporalio.client import Client

from medpipe.activities.chunkio import file_sha256
from medpipe.activities.sources import local_path
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.contracts.release import ReleaseState
from medpipe.revision import version_line
from medpipe.workers import (
    cli_approve,
    cli_canary,
    cli_chaos,
    cli_codec,
    cli_dev,
    cli_front,
    cli_keys,
    cli_offboard,
    cli_pseudo,
    cli_roster,
    cli_sign,
    cli_spec,
)
from medpipe.workers.cli_errors import clear_errors, fail, report, run_async
from medpipe.workers.cli_options import output_path_option
from medpipe.workers.cli_render import (
    make_console,
    output_option,
    release_rows,
    release_view,
    releases_table,
    status_footer,
    status_table,
    to_json,
)
from medpipe.workers.client import connect, temporal_client_used
from medpipe.workers.config import StackConfig, load_config
from medpipe.workers.extras import require_extras
from medpipe.workers.releases import (
    canary_status,
    first_status,
    follow_release,
    list_releases,
    release_query,
    start_release,
)

#: What a worker imports beyond the base: it signs models and validates data.
WORKER_EXTRAS = ("sign", "validate")
#: Shell completion (README): ``eval "$(_MEDPIPE_COMPLETE=bash_source medpipe)"``.
COMPLETE_VAR = "_MEDPIPE_COMPLETE"
console = make_console()


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_line())
        ctx.exit()


@click.group()
@click.option("--config", "config_path", envvar="MEDPIPE_CONFIG", default=None,
              help="YAML configuration (default: the embedded local stack).")
@click.option("--address", envvar="MEDPIPE_TEMPORAL_ADDRESS", default=None,
              help="Temporal frontend host:port.")
@click.option("--tls-cert", envvar="MEDPIPE_TLS_CERT", default=None,
              help="Client certificate (PEM) for mutual TLS to Temporal.")
@click.option("--tls-key", envvar="MEDPIPE_TLS_KEY", default=None, help="Client key (PEM).")
@click.option("--tls-ca", envvar="MEDPIPE_TLS_CA", default=None,
              help="CA certificate (PEM) that signed the server's certificate.")
@click.option("--tls-server-name", envvar="MEDPIPE_TLS_SERVER_NAME", default=None,
              help="Expected server name in the server certificate.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Print the version and code revision, and exit.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, address: str | None,
         tls_cert: str | None, tls_key: str | None, tls_ca: str | None,
         tls_server_name: str | None) -> None:
    """medpipe: durable, secure releases of healthcare AI models on Temporal."""
    try:
        cfg = load_config(config_path)
    except MedpipeError as e:
        report(e)
    updates: dict[str, Any] = {}
    if address:
        updates["temporal_address"] = address
    tls = {k: v for k, v in {"cert": tls_cert, "key": tls_key, "ca": tls_ca,
                             "server_name": tls_server_name}.items() if v}
    if tls:
        updates["tls"] = cfg.tls.model_copy(update=tls)
    ctx.obj = cfg.model_copy(update=updates)


# -- releases -------------------------------------------------------------------
def _check_local_input(uri: str, what: str) -> Path | None:
    if "://" in uri and not uri.startswith("file://"):
        return None
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


@main.command()
@cli_spec.release_options
@click.option("--wait", is_flag=True, help="Follow the release until it ends.")
@click.pass_obj
@run_async
async def release(cfg: StackConfig, spec_path: str | None, wait: bool, **flags: Any) -> None:
    """Start the release of one model version (idempotent: same version, same workflow)."""
    spec = cli_spec.load_spec(spec_path, flags)
    if spec.model and (model_file := _check_local_input(spec.model, "model")) is not None:
        _check_onnx(model_file)
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
    status = await first_status(client, client.get_workflow_handle(workflow_id))
    with Live(status_table(status), console=console, refresh_per_second=4) as live:
        async for status, _running in follow_release(client, workflow_id, interval):
            canary = status.canary
            if canary is None and status.current_stage is not None \
                    and status.current_stage.value == "deploy":
                canary = await canary_status(client, status.release_id)
            live.update(release_view(status, canary))
    if not console.is_terminal:
        console.print()  # a captured Live view does not end its last line
    footer = status_footer(status)
    if footer:
        console.print(footer)
    return status.state is ReleaseState.SUCCEEDED


@main.command()
@click.argument("workflow_id")
@click.pass_obj
@run_async
async def watch(cfg: StackConfig, workflow_id: str) -> None:
    """Follow a release live (per-stage progress, placements, failovers)."""
    client = await connect(cfg)
    ok = await watch_release(client, workflow_id)
    sys.exit(0 if ok else 1)


@main.command()
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


@main.command(name="list")
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
@main.command()
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
@main.command()
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
    from medpipe.workers.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_worker(cfg, profile, ingest_rate_limit=ingest_rate_limit,
                           control=not no_control, data_processes=data_processes,
                           activity_slots=activity_slots))


# -- the other audiences' commands -----------------------------------------------------
# on-call: canary control, traffic, the gateway process
for _command in cli_canary.COMMANDS:
    main.add_command(_command)
# keys (BYOK/BYOHSM), the Web UI's codec server, signatures, evidence and the ledger
main.add_command(cli_keys.keys)
main.add_command(cli_spec.spec_group)
main.add_command(cli_offboard.offboard_command)
main.add_command(cli_approve.approve_command)
for _command in cli_roster.COMMANDS:
    main.add_command(_command)
main.add_command(cli_codec.codec_server)
main.add_command(cli_codec.codec_rotate)
for _command in cli_sign.COMMANDS:
    main.add_command(_command)
# for data stewards: preview a policy, draft one, re-identify (with the key)
for _command in cli_pseudo.COMMANDS:
    main.add_command(_command)
# for whoever runs the local stack
main.add_command(cli_dev.dev)
main.add_command(cli_front.front)
main.add_command(cli_chaos.chaos)



def run() -> NoReturn:
    """The console script: ``main``, then exit without interpreter teardown once a Temporal
    client was used.

    The SDK's Rust threads may still release the GIL while CPython finalizes, which aborts the
    process (SIGABRT, "PyGILState_Release: thread state … must be current when releasing";
    temporalio/sdk-python#300): a refusal printed with exit status 2 would end as a crash,
    about one run in three here. Output and logs are flushed first; nothing else of medpipe
    relies on teardown (no atexit handlers).
    """
    try:
        # One completion variable however it is started (console script or ``python -m``).
        main(complete_var=COMPLETE_VAR)
        code: int = 0
    except SystemExit as e:
        if not temporal_client_used():
            raise
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    if not temporal_client_used():
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


__all__ = ["main", "run", "watch_release"]

if __name__ == "__main__":
    run()
