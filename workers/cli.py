"""The ``medpipe`` command: releases for MLOps engineers, watch/status for on-call.

Every command connects through ``workers.client.connect`` and speaks in
contracts; errors are printed as one clear line (what and why) with a
non-zero exit, never as a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from medpipe.activities.sources import local_path
from medpipe.contracts.canary import CanaryPlan, CanaryStatus, canary_id
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.contracts.placement import ResidencyPolicy
from medpipe.contracts.release import (
    ModelThresholds,
    ReleaseRequest,
    ReleaseState,
    ReleaseStatus,
    StageOutcome,
    release_id,
)
from medpipe.contracts.summary import Summary
from medpipe.workers import cli_canary, cli_codec, cli_keys, cli_pseudo, cli_sign
from medpipe.workers.client import connect
from medpipe.workers.config import StackConfig, load_config, medpipe_home
from medpipe.workers.undecodable import raise_if_undecodable

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async click command, turning domain errors into one clear line."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return asyncio.run(fn(*args, **kwargs))
        except MedpipeError as e:
            err.print(f"[red]error:[/red] {e.message}")
            sys.exit(2)
        except RPCError as e:
            err.print(f"[red]error:[/red] Temporal refused the request: {e.message}")
            sys.exit(2)

    return wrapper


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
@click.pass_context
def main(ctx: click.Context, config_path: str | None, address: str | None,
         tls_cert: str | None, tls_key: str | None, tls_ca: str | None,
         tls_server_name: str | None) -> None:
    """medpipe: durable, secure releases of healthcare AI models on Temporal."""
    try:
        cfg = load_config(config_path)
    except MedpipeError as e:
        err.print(f"[red]error:[/red] {e.message}")
        sys.exit(2)
    updates: dict[str, Any] = {}
    if address:
        updates["temporal_address"] = address
    tls = {k: v for k, v in {"cert": tls_cert, "key": tls_key, "ca": tls_ca,
                             "server_name": tls_server_name}.items() if v}
    if tls:
        updates["tls"] = cfg.tls.model_copy(update=tls)
    ctx.obj = cfg.model_copy(update=updates)


# -- releases -------------------------------------------------------------------
def _model_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


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
@click.option("--model", "model_path", required=True, help="ONNX model (path or URI).")
@click.option("--data", "data_path", required=True, help="Dataset CSV (path or URI).")
@click.option("--policy", "policy_path", default=None, help="Pseudonymization policy (YAML).")
@click.option("--name", default=None, help="Model name (default: the model file's stem).")
@click.option("--version", "version", default=None,
              help="Model version (default: first 12 hex digits of the model's SHA-256).")
@click.option("--allow", "allowed", multiple=True, default=("US",), show_default=True,
              help="Jurisdiction allowed for identifiable data (repeatable, e.g. US, EU-DE).")
@click.option("--label", "label_column", default="label", show_default=True)
@click.option("--min-auroc", type=float, default=0.0, show_default=True)
@click.option("--max-calibration-error", type=float, default=1.0, show_default=True)
@click.option("--canary-steps", default="5,25,50,100", show_default=True,
              help="Canary weights in percent, comma-separated.")
@click.option("--canary-bake", type=float, default=30.0, show_default=True,
              help="Seconds each canary step serves traffic before it is analysed.")
@click.option("--no-deploy", is_flag=True, help="Stop after the model gate (no canary).")
@click.option("--wait", is_flag=True, help="Follow the release until it ends.")
@click.pass_obj
@run_async
async def release(cfg: StackConfig, model_path: str, data_path: str, policy_path: str | None,
                  name: str | None, version: str | None, allowed: tuple[str, ...],
                  label_column: str, min_auroc: float, max_calibration_error: float,
                  canary_steps: str, canary_bake: float, no_deploy: bool,
                  wait: bool) -> None:
    """Start the release of one model version (idempotent: same version, same workflow)."""
    model_file = _check_local_input(model_path, "model")
    _check_local_input(data_path, "dataset")
    if policy_path:
        _check_local_input(policy_path, "policy")
    if model_file is not None:
        _check_onnx(model_file)
    name = name or (model_file.stem if model_file else "model").lower().replace("_", "-")
    version = version or (_model_digest(model_file)[:12] if model_file else "latest")
    try:
        request = ReleaseRequest(
            model=name, version=version, model_uri=_to_uri(model_path),
            data_uri=_to_uri(data_path), policy_uri=_to_uri(policy_path) if policy_path else None,
            label_column=label_column,
            residency=ResidencyPolicy(allowed_jurisdictions=allowed),
            thresholds=ModelThresholds(min_auroc=min_auroc,
                                       max_calibration_error=max_calibration_error),
            requested_by=getpass.getuser(), fleet=cfg.fleet, deploy=not no_deploy,
            canary=CanaryPlan(steps=tuple(int(x) for x in canary_steps.split(",") if x.strip()),
                              bake_s=canary_bake))
    except ValueError as e:
        raise InvalidInput(f"invalid release request: {e}") from e
    client = await connect(cfg)
    handle = await start_release(client, request)
    console.print(f"release [bold]{handle.id}[/bold] started")
    console.print(f"  watch: medpipe watch {handle.id}")
    console.print(f"  UI:    {ui_link(cfg, handle.id)}")
    if wait:
        ok = await watch_release(client, handle.id)
        sys.exit(0 if ok else 1)


async def start_release(client: Client, request: ReleaseRequest) -> WorkflowHandle[Any, Any]:
    """Start (or attach to) the workflow of ``request``.

    Re-submitting a running or succeeded release attaches to it; a failed one
    may be released again.
    """
    allowed = ", ".join(request.residency.allowed_jurisdictions)
    try:
        return await _start(client, request, allowed)
    except WorkflowAlreadyStartedError:
        # Closed and not failed: this version was already released; attach to it.
        return client.get_workflow_handle(request.release_id, result_type=ReleaseStatus)


async def _start(client: Client, request: ReleaseRequest,
                 allowed: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        "ReleaseWorkflow", request, id=request.release_id,
        task_queue=request.fleet.control_queue, result_type=ReleaseStatus,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        static_summary=Summary(f"Release {request.model} {request.version}"),
        static_details=Summary(f"Model **{request.model}** version **{request.version}**, "
                               f"requested by {request.requested_by}. Identifiable data "
                               f"allowed in: {allowed}."),
        search_attributes=None)


# -- watching -----------------------------------------------------------------------
async def query_status(handle: WorkflowHandle[Any, Any]) -> ReleaseStatus:
    """The release's ``status`` query."""
    return await handle.query("status", result_type=ReleaseStatus)


async def first_status(client: Client, handle: WorkflowHandle[Any, Any]) -> ReleaseStatus:
    """The first ``status`` of a release; if it does not come, say why when codec keys differ.

    A query waits for the workflow's first task; workers that cannot decode the
    input fail that task forever, so the query would end in a bare timeout.
    """
    try:
        return await handle.query("status", result_type=ReleaseStatus,
                                  rpc_timeout=timedelta(seconds=20))
    except RPCError:
        await raise_if_undecodable(client, handle.id)
        raise


def status_table(status: ReleaseStatus) -> Table:
    """Per-stage table: where each stage ran, how long, how it ended, what moved it."""
    table = Table(title=f"{status.release_id} — {status.state.value}")
    for col in ("stage", "cloud/region/host", "accelerator", "seconds", "outcome", "failovers"):
        table.add_column(col)
    for s in status.stages:
        where = f"{s.ran_on.cloud}/{s.ran_on.region}/{s.ran_on.host}" if s.ran_on else "-"
        accel = (s.ran_on.accelerator if s.ran_on else "-") + (" (degraded)" if s.degraded else "")
        fos = "; ".join(f"{f.from_queue}→{f.to_queue or 'none'} ({f.cause.value}, "
                        f"{f.seconds:.1f}s)" for f in s.failovers) or "-"
        color = "green" if s.outcome is StageOutcome.SUCCEEDED else "red"
        table.add_row(s.stage.value, where, accel, f"{s.seconds:.2f}",
                      f"[{color}]{s.outcome.value}[/{color}]", fos)
    if status.current_stage and status.state in (ReleaseState.RUNNING, ReleaseState.WAITING) \
            and status.current_stage not in {s.stage for s in status.stages}:
        table.add_row(status.current_stage.value, "-", "-", "-",
                      "[yellow]waiting[/yellow]" if status.waiting else "[yellow]running[/yellow]",
                      "-")
    return table


def status_footer(status: ReleaseStatus) -> str:
    """Lines under the table: waiting reason, metrics, error."""
    lines = []
    if status.waiting:
        w = status.waiting
        lines.append(f"[yellow]waiting:[/yellow] {w.reason} "
                     f"(round {w.rounds}, next try {w.next_try_at:%H:%M:%S})")
    if status.evaluation:
        m = status.evaluation.metrics
        lines.append(f"evaluation: AUROC {m.auroc:.4f}, accuracy {m.accuracy:.4f}, "
                     f"calibration error {m.calibration_error:.4f} on {m.rows} held-out rows "
                     f"({status.evaluation.execution_provider})")
    if status.gate and status.gate.baseline:
        b = status.gate.baseline
        lines.append(f"in service ({status.gate.baseline_version}) on the same rows: AUROC "
                     f"{b.auroc:.4f}, calibration error {b.calibration_error:.4f}")
    if status.gate:
        verdict = "[green]passed[/green]" if status.gate.passed else "[red]failed[/red]"
        lines.append(f"model gate: {verdict}" + (f" — {'; '.join(status.gate.reasons)}"
                                                 if status.gate.reasons else ""))
    if status.canary:
        c = status.canary
        steps = ", ".join(f"{a.weight}% {a.verdict.value}" for a in c.analyses) or "no steps"
        what = "initial deployment" if c.initial_deploy else steps
        lines.append(f"canary: {c.state.value} ({what})"
                     + (f" — {c.rollback_cause}" if c.rollback_cause else ""))
    if status.error:
        lines.append(f"[red]failed:[/red] {status.error}")
    return "\n".join(lines)


async def watch_release(client: Client, workflow_id: str, interval: float = 0.5) -> bool:
    """Follow a release live until it ends; return whether it succeeded."""
    handle = client.get_workflow_handle(workflow_id)
    status = await first_status(client, handle)
    with Live(status_table(status), console=console, refresh_per_second=4) as live:
        while True:
            desc = await handle.describe()
            status = await query_status(handle)
            live.update(await _live_view(client, status))
            if desc.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
                break
            await asyncio.sleep(interval)
    if not console.is_terminal:
        console.print()  # a captured Live view does not end its last line
    footer = status_footer(status)
    if footer:
        console.print(footer)
    return status.state is ReleaseState.SUCCEEDED


async def _live_view(client: Client, status: ReleaseStatus) -> Any:
    """The stage table, plus the canary's step table while the deploy stage runs."""
    from rich.console import Group

    canary = status.canary
    if canary is None and status.current_stage is not None \
            and status.current_stage.value == "deploy":
        try:
            canary = await client.get_workflow_handle(canary_id(status.release_id)).query(
                "status", result_type=CanaryStatus)
        except RPCError:
            canary = None
    if canary is None:
        return status_table(status)
    parts: list[Any] = [status_table(status), cli_canary.canary_table(canary)]
    footer = cli_canary.canary_footer(canary)
    if footer:
        parts.append(footer)
    return Group(*parts)


@main.command()
@click.argument("workflow_id")
@click.pass_obj
@run_async
async def watch(cfg: StackConfig, workflow_id: str) -> None:
    """Follow a release live (per-stage progress, placements, failovers)."""
    client = await connect(cfg)
    ok = await watch_release(client, _normalize_id(workflow_id))
    sys.exit(0 if ok else 1)


def _normalize_id(value: str) -> str:
    return value if value.startswith("release-") else value


@main.command()
@click.argument("workflow_id")
@click.option("--json", "as_json", is_flag=True, help="Print the status contract as JSON.")
@click.pass_obj
@run_async
async def status(cfg: StackConfig, workflow_id: str, as_json: bool) -> None:
    """Show a release's stages, placements and failovers."""
    client = await connect(cfg)
    st = await first_status(client, client.get_workflow_handle(_normalize_id(workflow_id)))
    if as_json:
        click.echo(st.model_dump_json(indent=2))
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
@click.pass_obj
@run_async
async def list_releases(cfg: StackConfig, model: str | None, stage: str | None,
                        state: str | None, limit: int) -> None:
    """List releases, filtered through search attributes."""
    client = await connect(cfg)
    clauses = ["WorkflowType = 'ReleaseWorkflow'"]
    for attr, value in (("MedpipeModel", model), ("MedpipeStage", stage),
                        ("MedpipeState", state)):
        if value:
            clauses.append(f"{attr} = '{value.replace(chr(39), '')}'")
    table = Table()
    for col in ("release", "model", "version", "stage", "cloud", "state", "started"):
        table.add_column(col)
    count = 0
    async for wf in client.list_workflows(" AND ".join(clauses), limit=limit):
        sa = wf.typed_search_attributes
        get = {p.key.name: p.value for p in sa}
        table.add_row(wf.id, str(get.get("MedpipeModel", "")), str(get.get("MedpipeVersion", "")),
                      str(get.get("MedpipeStage", "")), str(get.get("MedpipeCloud", "")),
                      str(get.get("MedpipeState", "")),
                      f"{wf.start_time:%Y-%m-%d %H:%M:%S}" if wf.start_time else "")
        count += 1
    console.print(table)
    console.print(f"{count} release(s)")


# -- on-call: canary control, traffic, the gateway process ---------------------------------
for _command in cli_canary.COMMANDS:
    main.add_command(_command)
# keys (BYOK/BYOHSM), the Web UI's codec server, signatures, evidence and the ledger
main.add_command(cli_keys.keys)
main.add_command(cli_codec.codec_server)
main.add_command(cli_codec.codec_rotate)
for _command in cli_sign.COMMANDS:
    main.add_command(_command)
# for data stewards: preview a policy, draft one, re-identify (with the key)
for _command in cli_pseudo.COMMANDS:
    main.add_command(_command)


# -- sample data ----------------------------------------------------------------------
@main.command()
@click.option("-o", "--out", "out_dir", default="sample", show_default=True)
@click.option("--patients", default=2000, show_default=True)
@click.option("--visits", default=3, show_default=True)
@click.option("--seed", default=7, show_default=True)
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
@click.pass_obj
def worker(cfg: StackConfig, profile_name: str, ingest_rate_limit: float | None,
           no_control: bool) -> None:
    """Run a worker for one profile of the fleet."""
    import logging

    from medpipe.workers.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        profile = cfg.fleet.find(profile_name)
    except KeyError as e:
        err.print(f"[red]error:[/red] {e.args[0]}")
        sys.exit(2)
    try:
        asyncio.run(run_worker(cfg, profile, ingest_rate_limit=ingest_rate_limit,
                               control=not no_control))
    except MedpipeError as e:
        err.print(f"[red]error:[/red] {e.message}")
        sys.exit(2)


# -- local stack ----------------------------------------------------------------------
@main.group()
def dev() -> None:
    """The local stack: Temporal dev server + UI and one worker per profile."""


@dev.command(name="up")
@click.option("--storage", type=click.Choice(["local", "emulated"]), default=None,
              help="local: directory buckets (default); emulated: the AWS, GCP and Azure "
                   "profiles on moto (S3), gcp-storage-emulator and Azurite.")
@click.pass_context
def dev_up(ctx: click.Context, storage: str | None) -> None:
    """Start the local stack (no-op if it already runs)."""
    from medpipe.workers import dev as stack
    from medpipe.workers.config import STORAGE_MODE_FILE

    cfg: StackConfig = ctx.obj
    home = medpipe_home()
    if storage and storage != cfg.storage:
        state = stack.read_state(home)
        if state and stack.supervisor_alive(state):
            err.print(f"[red]error:[/red] the local stack runs with {cfg.storage} storage; "
                      "`medpipe dev down` first")
            sys.exit(2)
        home.mkdir(parents=True, exist_ok=True)
        (home / STORAGE_MODE_FILE).write_text(storage)
        os.environ["MEDPIPE_STORAGE"] = storage
        cfg = load_config(ctx.find_root().params.get("config_path"))
    from medpipe.workers.devports import PortsInUse

    try:
        state = stack.up(cfg, home)
    except PortsInUse as e:
        err.print(f"[red]error:[/red] {e.message}")
        sys.exit(1)
    except TimeoutError as e:
        err.print(f"[red]error:[/red] {e}")
        sys.exit(1)
    console.print(f"local stack up ({len(state['children'])} processes, {cfg.storage} storage);"
                  f" state in {home}")
    console.print(f"  Temporal: {cfg.temporal_address}   Web UI: {cfg.ui_url}")
    if cfg.codec_enabled:
        console.print(f"  Web UI with decoded payloads: {stack.one_url(cfg)} (log in once with "
                      f"the token in {stack.codec_token_path(cfg)})")


@dev.command(name="init")
@click.pass_obj
def dev_init(cfg: StackConfig) -> None:
    """Create the deployment's local state without starting anything: buckets, keys (local
    keyring), the exported public signing key, codec keyring and token, gateway admin PKI.
    (Containers run this once before the services start.)"""
    from medpipe.workers import dev as stack

    stack.ensure_local_buckets(cfg, all_schemes=True)
    stack.prepare_security(cfg)
    if cfg.fleet.gateways:
        stack.ensure_gateway_pki(cfg)
    console.print(f"initialised {cfg.home}: keys, codec keyring, gateway PKI")


@dev.command(name="down")
def dev_down() -> None:
    """Stop the local stack started by `dev up` (and nothing else)."""
    from medpipe.workers import dev as stack

    console.print("stopped" if stack.down(medpipe_home()) else "no local stack was running")


@dev.command(name="status")
@click.pass_obj
def dev_status(cfg: StackConfig) -> None:
    """Show each process of the local stack."""
    from medpipe.workers import dev as stack

    home = medpipe_home()
    state = stack.read_state(home)
    if not state or not stack.supervisor_alive(state):
        console.print("no local stack is running (start it with `medpipe dev up`)")
        sys.exit(1)
    table = Table(title=f"local stack ({home})")
    for col in ("process", "pid", "state", "restarts", "up for"):
        table.add_column(col)
    colors = {"running": "green", "restarted": "yellow", "dead": "red", "crash-looping": "red"}
    unhealthy = []
    for name, c in state["children"].items():
        health = stack.child_health(c)
        if health in ("dead", "crash-looping"):
            unhealthy.append(f"{name} ({health}, last exit {c.get('last_exit')}; {c['log']})")
        table.add_row(name, str(c["pid"]), f"[{colors[health]}]{health}[/{colors[health]}]",
                      str(c["restarts"]), f"{time.time() - c['started']:.0f}s")
    console.print(table)
    console.print(f"Temporal {cfg.temporal_address}: "
                  f"{'reachable' if stack.port_open(cfg.temporal_address) else 'NOT reachable'}"
                  f" · Web UI {cfg.ui_url}")
    if unhealthy:
        err.print("[red]not healthy:[/red] " + "; ".join(unhealthy))
        sys.exit(1)


@dev.command(name="logs")
@click.argument("process", required=False)
@click.option("-n", "lines", default=40, show_default=True)
@click.option("-f", "follow", is_flag=True, help="Keep printing new lines.")
def dev_logs(process: str | None, lines: int, follow: bool) -> None:
    """Print the logs of one process (or list them)."""
    logs = medpipe_home() / "logs"
    if not process:
        for p in sorted(logs.glob("*.log")):
            console.print(p.stem)
        return
    path = logs / f"{process}.log"
    if not path.exists():
        err.print(f"[red]error:[/red] no log for '{process}' in {logs}")
        sys.exit(2)
    with open(path, "rb") as fh:
        tail = fh.read().decode(errors="replace").splitlines()[-lines:]
        click.echo("\n".join(tail))
        while follow:
            line = fh.readline()
            if line:
                click.echo(line.decode(errors="replace"), nl=False)
            else:
                time.sleep(0.3)


@dev.command(name="supervise", hidden=True)
@click.pass_obj
def dev_supervise(cfg: StackConfig) -> None:
    """(internal) Run the stack supervisor in the foreground."""
    from medpipe.workers import dev as stack

    stack.supervise(cfg, medpipe_home())


__all__ = ["main", "start_release", "watch_release", "release_id", "json"]

if __name__ == "__main__":
    main()
