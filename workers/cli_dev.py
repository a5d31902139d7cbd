"""``medpipe dev``: the one-command local stack, for developers and the demo.

Temporal dev server + UI, one worker per profile, the inference gateways and
the codec server, supervised in the background (``workers/dev.py`` does the
work; this module is its command line). Kept apart from the release commands
because its audience is whoever runs the stack, not whoever releases models.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from medpipe.workers.cli_errors import EXIT_REFUSED, clear_errors, fail
from medpipe.workers.cli_output import make_console, output_option, to_json
from medpipe.workers.config import StackConfig, load_config, medpipe_home
from medpipe.workers.extras import require_extras

#: What the stack's processes import beyond the base: workers sign and validate,
#: gateways export Prometheus metrics.
STACK_EXTRAS = ("sign", "validate", "gateway")
#: With ``--storage emulated`` the workers also talk to S3, GCS and Azure Blob.
EMULATED_EXTRAS = ("aws", "gcp", "azure")
console = make_console()


def _require_emulators() -> None:
    """Refuse before anything starts when an emulator binary is missing (the supervisor
    would otherwise restart a process that cannot exist, forever)."""
    from medpipe.workers import emulators

    try:
        emulators.moto_executable()
        emulators.gcs_executable()
        emulators.azurite_executable()
    except FileNotFoundError as e:
        fail(str(e))


@click.group()
def dev() -> None:
    """The local stack: Temporal dev server + UI and one worker per profile."""


@dev.command(name="up")
@click.option("--storage", type=click.Choice(["local", "emulated"]), default=None,
              help="local: directory buckets (default); emulated: the AWS, GCP and Azure "
                   "profiles on moto (S3), gcp-storage-emulator and Azurite.")
@click.pass_context
@clear_errors
def dev_up(ctx: click.Context, storage: str | None) -> None:
    """Start the local stack (no-op if it already runs)."""
    from medpipe.workers import dev as stack
    from medpipe.workers.config import STORAGE_MODE_FILE

    cfg: StackConfig = ctx.obj
    emulated = (storage or cfg.storage) == "emulated"
    require_extras("the local stack (its workers and gateways)", *STACK_EXTRAS,
                   *(EMULATED_EXTRAS if emulated else ()))
    if emulated:
        _require_emulators()
    home = medpipe_home()
    if storage and storage != cfg.storage:
        state = stack.read_state(home)
        if state and stack.supervisor_alive(state):
            fail(f"the local stack runs with {cfg.storage} storage; `medpipe dev down` first")
        home.mkdir(parents=True, exist_ok=True)
        (home / STORAGE_MODE_FILE).write_text(storage)
        os.environ["MEDPIPE_STORAGE"] = storage
        cfg = load_config(ctx.find_root().params.get("config_path"))
    from medpipe.workers.devports import PortsInUse

    try:
        state = stack.up(cfg, home)
    except PortsInUse as e:
        fail(e.message, code=1)
    except TimeoutError as e:
        fail(str(e), code=1)
    console.print(f"local stack up ({len(state['children'])} processes, {cfg.storage} storage);"
                  f" state in {home}")
    console.print(f"  Temporal: {cfg.temporal_address}   Web UI: {cfg.ui_url}")
    _print_front(cfg)
    if cfg.codec_enabled:
        console.print(f"  Web UI with decoded payloads: {stack.one_url(cfg)} (log in once with "
                      f"the token in {stack.codec_token_path(cfg)})")


def _print_front(cfg: StackConfig) -> None:
    """Where clinical callers go (or why the front did not start)."""
    from medpipe.workers.front import wants_front

    if wants_front(cfg):
        console.print(f"  Front for clinical callers: http://127.0.0.1:{cfg.front_port} "
                      f"(header Medpipe-Jurisdiction) · stats "
                      f"http://127.0.0.1:{cfg.front_stats_port}/")
    elif cfg.front and any(g.public_url for g in cfg.fleet.gateways):
        console.print("  front not started: HAProxy is not installed (apt-get install haproxy)")


def _unwritable(e: PermissionError) -> str:
    """Say which path could not be written, by whom, and who owns it (a volume, usually)."""
    path = Path(e.filename) if e.filename else None
    owner = ""
    probe = path
    while probe is not None and not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe is not None and probe.exists():
        owner = f"; {probe} is owned by uid {probe.stat().st_uid}"
    return (f"cannot write {path or 'the deployment state'}: permission denied (this process "
            f"runs as uid {os.getuid()}{owner}); give the volume to this user")


@dev.command(name="init")
@click.option("--front-bind", default=None, metavar="HOST:PORT",
              help="also write the front's HAProxy configuration "
                   "($MEDPIPE_HOME/front/haproxy.cfg), its callers' listener here")
@click.option("--front-stats-bind", default=None, metavar="HOST:PORT",
              help="the front's stats page and /metrics")
@click.option("--front-socket", default=None, metavar="PATH",
              help="the front's runtime API socket, as the front's container sees it")
@click.pass_obj
@clear_errors
def dev_init(cfg: StackConfig, front_bind: str | None, front_stats_bind: str | None,
             front_socket: str | None) -> None:
    """Create the deployment's local state without starting anything: buckets, keys (local
    keyring), the exported public signing key, codec keyring and token, gateway admin PKI,
    and with --front-bind the front's configuration.
    (Containers run this once before the services start.)"""
    from medpipe.workers import dev as stack
    from medpipe.workers.devgateways import ensure_gateway_pki

    try:
        stack.ensure_local_buckets(cfg, all_schemes=True)
        stack.prepare_security(cfg)
        if cfg.fleet.gateways:
            ensure_gateway_pki(cfg)
        if front_bind:
            _write_front(cfg, front_bind, front_stats_bind, front_socket)
    except PermissionError as e:
        fail(_unwritable(e), code=EXIT_REFUSED)
    console.print(f"initialised {cfg.home}: keys, codec keyring, gateway PKI"
                  + (", front configuration" if front_bind else ""))


def _write_front(cfg: StackConfig, bind: str, stats_bind: str | None,
                 sock: str | None) -> None:
    """The front container's configuration (checked here when HAProxy is installed)."""
    from medpipe.workers.front import front_config_path, haproxy_installed, write_front_config
    from medpipe.workers.frontconfig import FrontBinding

    def split(value: str, what: str) -> tuple[str, int]:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            fail(f"{what} must be HOST:PORT, not {value!r}")
        return host, int(port)

    host, port = split(bind, "--front-bind")
    s_host, s_port = split(stats_bind, "--front-stats-bind") if stats_bind else ("", 0)
    write_front_config(cfg.fleet, FrontBinding(host, port, s_host or "127.0.0.1", s_port,
                                               sock or ""),
                       front_config_path(cfg), check=haproxy_installed())


@dev.command(name="down")
@clear_errors
def dev_down() -> None:
    """Stop the local stack started by `dev up` (and nothing else)."""
    from medpipe.workers import dev as stack

    console.print("stopped" if stack.down(medpipe_home()) else "no local stack was running")


@dev.command(name="status")
@output_option
@click.pass_obj
@clear_errors
def dev_status(cfg: StackConfig, output: str) -> None:
    """Show each process of the local stack."""
    from medpipe.workers import dev as stack

    home = medpipe_home()
    state = stack.read_state(home)
    if not state or not stack.supervisor_alive(state):
        if output == "json":
            click.echo(to_json({"running": False, "home": str(home), "processes": []}))
        else:
            console.print("no local stack is running (start it with `medpipe dev up`)")
        sys.exit(1)
    if output == "json":
        _status_json(cfg, state, home)
        return
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
        fail("not healthy: " + "; ".join(unhealthy), code=1)


def _status_json(cfg: StackConfig, state: dict[str, Any], home: Path) -> None:
    """``dev status --output json``: each process with its health; exit 1 when one is not."""
    from medpipe.workers import dev as stack

    processes = [{"process": name, "pid": c["pid"], "state": stack.child_health(c),
                  "restarts": c["restarts"], "last_exit": c.get("last_exit"), "log": c["log"],
                  "up_seconds": round(time.time() - c["started"], 1)}
                 for name, c in state["children"].items()]
    click.echo(to_json({"running": True, "home": str(home),
                        "temporal_address": cfg.temporal_address,
                        "temporal_reachable": stack.port_open(cfg.temporal_address),
                        "ui_url": cfg.ui_url, "processes": processes}))
    if any(p["state"] in ("dead", "crash-looping") for p in processes):
        sys.exit(1)


@dev.command(name="logs")
@click.argument("process", required=False)
@click.option("-n", "lines", default=40, show_default=True)
@click.option("-f", "follow", is_flag=True, help="Keep printing new lines.")
@clear_errors
def dev_logs(process: str | None, lines: int, follow: bool) -> None:
    """Print the logs of one process (or list them)."""
    logs = medpipe_home() / "logs"
    if not process:
        for p in sorted(logs.glob("*.log")):
            console.print(p.stem)
        return
    path = logs / f"{process}.log"
    if not path.exists():
        fail(f"no log for '{process}' in {logs}")
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
@clear_errors
def dev_supervise(cfg: StackConfig) -> None:
    """(internal) Run the stack supervisor in the foreground."""
    from medpipe.workers import dev as stack

    stack.supervise(cfg, medpipe_home())
