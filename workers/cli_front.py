"""``medpipe front``: the front clinical callers use (HAProxy), for whoever runs it.

``config`` writes the HAProxy configuration generated from the fleet (checked
with ``haproxy -c``): ``dev up`` does it for the local stack, a container runs
it before the front starts. ``status`` shows each gateway as the front sees it;
``drain`` and ``ready`` take a gateway out of rotation (in-flight and
keep-alive requests finish) and put it back, for maintenance or an incident.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from medpipe.workers.cli_errors import clear_errors
from medpipe.workers.cli_output import make_console, output_option, to_json
from medpipe.workers.config import StackConfig

console = make_console()


def _address(value: str, what: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{what} must be HOST:PORT, not {value!r}")
    return host, int(port)


def _socket(cfg: StackConfig, given: Path | None) -> Path:
    from medpipe.workers.front import front_dir

    return given or front_dir(cfg) / "haproxy.sock"


@click.group()
def front() -> None:
    """The front clinical callers use: one URL, regional gateways behind it."""


@front.command(name="config")
@click.option("-o", "--output-file", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="where to write it (default: $MEDPIPE_HOME/front/haproxy.cfg)")
@click.option("--bind", "bind", default=None,
              help="HOST:PORT of the callers' listener (default 127.0.0.1:gateway_base_port)")
@click.option("--stats-bind", default=None,
              help="HOST:PORT of the stats page and /metrics (default 127.0.0.1:base+100)")
@click.option("--socket", "sock", type=click.Path(path_type=Path), default=None,
              help="runtime API socket (default: beside the configuration)")
@click.pass_obj
@clear_errors
def front_config(cfg: StackConfig, out: Path | None, bind: str | None,
                 stats_bind: str | None, sock: Path | None) -> None:
    """Generate the front's HAProxy configuration from the fleet and check it."""
    from medpipe.workers.front import front_config_path, write_front_config
    from medpipe.workers.frontconfig import FrontBinding, jurisdiction_groups

    out = out or front_config_path(cfg)
    host, port = _address(bind, "--bind") if bind else ("127.0.0.1", cfg.front_port)
    s_host, s_port = (_address(stats_bind, "--stats-bind") if stats_bind
                      else ("127.0.0.1", cfg.front_stats_port))
    binding = FrontBinding(host=host, port=port, stats_host=s_host, stats_port=s_port,
                           socket=str(sock or out.with_name("haproxy.sock")))
    write_front_config(cfg.fleet, binding, out)
    groups = jurisdiction_groups(cfg.fleet)
    console.print(f"front configuration written to {out} (checked by haproxy -c); callers: "
                  f"http://{host}:{port}")
    for j, gateways in groups.items():
        console.print(f"  Medpipe-Jurisdiction: {j} -> {', '.join(g.name for g in gateways)}")
    if cfg.fleet.non_identifiable_models:
        console.print("  no jurisdiction needed (non-identifiable): "
                      + ", ".join(cfg.fleet.non_identifiable_models))


@front.command(name="status")
@click.option("--socket", "sock", type=click.Path(path_type=Path), default=None,
              help="runtime API socket (default: $MEDPIPE_HOME/front/haproxy.sock)")
@output_option
@click.pass_obj
@clear_errors
def front_status(cfg: StackConfig, sock: Path | None, output: str) -> None:
    """Each gateway in each jurisdiction backend, as the front sees it (UP, DOWN, DRAIN)."""
    from medpipe.workers.front import server_states

    states = server_states(_socket(cfg, sock))
    if output == "json":
        click.echo(to_json([s.__dict__ for s in states]))
        return
    table = Table(title="front (HAProxy): gateways per backend")
    for col in ("backend", "gateway", "status", "weight", "last check"):
        table.add_column(col)
    for s in states:
        color = "green" if s.status == "UP" else "yellow" if s.status == "DRAIN" else "red"
        table.add_row(s.backend, s.server, f"[{color}]{s.status}[/{color}]", s.weight,
                      s.check)
    console.print(table)


def _set_state(cfg: StackConfig, sock: Path | None, gateway: str, state: str) -> None:
    from medpipe.workers.front import set_gateway_state

    backends = set_gateway_state(_socket(cfg, sock), gateway, state)
    console.print(f"{gateway}: {state} in {', '.join(backends)}")


@front.command(name="drain")
@click.argument("gateway")
@click.option("--socket", "sock", type=click.Path(path_type=Path), default=None)
@click.pass_obj
@clear_errors
def front_drain(cfg: StackConfig, gateway: str, sock: Path | None) -> None:
    """Send no new request to GATEWAY (in-flight ones finish); `front ready` undoes it."""
    _set_state(cfg, sock, gateway, "drain")


@front.command(name="ready")
@click.argument("gateway")
@click.option("--socket", "sock", type=click.Path(path_type=Path), default=None)
@click.pass_obj
@clear_errors
def front_ready(cfg: StackConfig, gateway: str, sock: Path | None) -> None:
    """Put GATEWAY back in rotation (it serves again once its health check passes)."""
    _set_state(cfg, sock, gateway, "ready")
