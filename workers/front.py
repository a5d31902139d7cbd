"""The front clinical callers use: HAProxy, its configuration, its runtime API.

HAProxy (the Debian package; the compose file uses its official image) rather
than nginx: active HTTP health checks, L7 retries with redispatch to the next
server, a runtime API to drain a server, a stats page and a Prometheus exporter
are all built into the open-source edition (nginx's active checks are in NGINX
Plus only). The configuration is generated from the fleet
(``workers/frontconfig.py``) and checked with ``haproxy -c`` before it is used.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from medpipe.contracts.errors import InvalidInput, ProviderUnavailable
from medpipe.contracts.placement import Fleet
from medpipe.workers.config import StackConfig
from medpipe.workers.frontconfig import (
    FrontBinding,
    FrontConfigError,
    FrontTuning,
    render_front_config,
)

#: Where ``dev up`` keeps the front's configuration and runtime socket (under MEDPIPE_HOME).
FRONT_DIR = "front"


class FrontUnavailable(ProviderUnavailable):
    """HAProxy is missing, or its runtime API does not answer (exit 3: unreachable)."""


def haproxy_binary() -> str:
    """Path of the haproxy executable (Debian installs it in /usr/sbin).

    Raises:
        FrontUnavailable: HAProxy is not installed.
    """
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy")
                                        .exists() else None)
    if not found:
        raise FrontUnavailable("HAProxy is not installed (apt-get install haproxy): the "
                               "front callers use needs it")
    return found


def check_config(path: Path) -> None:
    """Validate a configuration with ``haproxy -c`` (what HAProxy itself would refuse).

    Raises:
        InvalidInput: HAProxy refuses it (its messages, without the banner).
    """
    proc = subprocess.run([haproxy_binary(), "-c", "-q", "-f", str(path)],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise InvalidInput(f"HAProxy refuses the front configuration {path}: "
                           + (proc.stderr or proc.stdout).strip()[-2000:])


def haproxy_installed() -> bool:
    """Whether HAProxy is on this machine (an image may run only the generator)."""
    try:
        haproxy_binary()
    except FrontUnavailable:
        return False
    return True


def write_front_config(fleet: Fleet, binding: FrontBinding, out: Path,
                       tuning: FrontTuning = FrontTuning(), check: bool = True) -> Path:
    """Render, validate (``haproxy -c``) and atomically install the configuration.

    Nothing is replaced when the new configuration is refused. ``check=False`` is
    for a generator without HAProxy (the medpipe image writing the front
    container's file): HAProxy then refuses a bad file when it starts.

    Raises:
        InvalidInput: the fleet cannot be fronted, or HAProxy refuses the result.
    """
    try:
        text = render_front_config(fleet, binding, tuning)
    except FrontConfigError as e:
        raise InvalidInput(f"cannot generate the front configuration: {e}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".new")
    tmp.write_text(text)
    try:
        if check:
            check_config(tmp)
    except InvalidInput:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return out


def local_binding(config: StackConfig) -> FrontBinding:
    """Where the local stack's front listens (loopback, ports from the gateway base)."""
    return FrontBinding(host="127.0.0.1", port=config.front_port, stats_host="127.0.0.1",
                        stats_port=config.front_stats_port,
                        socket=str(front_dir(config) / "haproxy.sock"))


def front_dir(config: StackConfig) -> Path:
    """The front's folder under ``MEDPIPE_HOME`` (configuration, runtime socket)."""
    return Path(config.home) / FRONT_DIR


def front_config_path(config: StackConfig) -> Path:
    """The local stack's generated HAProxy configuration."""
    return front_dir(config) / "haproxy.cfg"


def front_command(config_path: Path) -> list[str]:
    """HAProxy in the foreground (``-db``) so a supervisor owns it; SIGTERM stops it."""
    return [haproxy_binary(), "-db", "-f", str(config_path)]


def wants_front(config: StackConfig) -> bool:
    """Whether the local stack runs a front: enabled, HAProxy present, gateways to front."""
    if not config.front or not any(g.public_url for g in config.fleet.gateways):
        return False
    return haproxy_installed()


# -- the runtime API (drain a gateway, put it back, read the servers' states) -------
def runtime_command(sock: Path, command: str, timeout: float = 5.0) -> str:
    """Send one command to HAProxy's runtime API socket and return its answer.

    Raises:
        FrontUnavailable: the socket does not answer.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(sock))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
    except OSError as e:
        raise FrontUnavailable(f"the front's runtime API at {sock} does not answer "
                               f"({e.strerror or e}): is the front running?") from None
    return b"".join(chunks).decode(errors="replace")


@dataclass(frozen=True)
class ServerState:
    """One gateway as one backend of the front sees it."""

    backend: str
    server: str
    status: str
    weight: str
    check: str


def server_states(sock: Path) -> list[ServerState]:
    """Every (backend, gateway) of the front with its status (UP, DOWN, DRAIN, MAINT)."""
    out = runtime_command(sock, "show stat")
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    header = out.splitlines()[0].lstrip("# ").split(",") if out.startswith("#") else []
    col = {name: i for i, name in enumerate(header)}
    need = ("pxname", "svname", "status", "weight", "check_status")
    if not all(n in col for n in need):
        raise FrontUnavailable(f"unexpected answer from the front's runtime API: {out[:200]}")
    return [ServerState(r[col["pxname"]], r[col["svname"]], r[col["status"]],
                        r[col["weight"]], r[col["check_status"]])
            for r in rows if len(r) > max(col[n] for n in need)
            and r[col["svname"]] not in ("FRONTEND", "BACKEND")]


def set_gateway_state(sock: Path, gateway: str, state: str) -> list[str]:
    """Set ``gateway`` to ``drain``/``ready``/``maint`` in every backend it is in.

    Returns:
        The backends changed.

    Raises:
        InvalidInput: the front has no such gateway, or the state is unknown.
    """
    if state not in ("drain", "ready", "maint"):
        raise InvalidInput(f"unknown server state {state!r}: drain, ready or maint")
    backends = sorted({s.backend for s in server_states(sock) if s.server == gateway})
    if not backends:
        raise InvalidInput(f"the front has no gateway named {gateway!r}")
    for b in backends:
        answer = runtime_command(sock, f"set server {b}/{gateway} state {state}").strip()
        if answer:
            raise FrontUnavailable(f"the front refused to set {b}/{gateway} to {state}: "
                                   f"{answer}")
    return backends


# -- a front process for tests and benchmarks ------------------------------------
@dataclass
class FrontProxy:
    """HAProxy running a generated configuration in ``workdir`` until ``stop``."""

    fleet: Fleet
    workdir: Path
    port: int
    stats_port: int = 0
    tuning: FrontTuning = FrontTuning()
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The callers' base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket(self) -> Path:
        """The runtime API socket."""
        return self.workdir / "haproxy.sock"

    def start(self, timeout: float = 15.0) -> None:
        """Write and check the configuration, start HAProxy, wait for its port."""
        binding = FrontBinding(host="127.0.0.1", port=self.port, stats_port=self.stats_port,
                               socket=str(self.socket))
        conf = write_front_config(self.fleet, binding, self.workdir / "haproxy.cfg",
                                  self.tuning)
        log = open(self.workdir / "haproxy.log", "ab")
        self.proc = subprocess.Popen(front_command(conf), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FrontUnavailable("haproxy exited: " + (self.workdir / "haproxy.log")
                                       .read_text(errors="replace")[-800:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.3):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise FrontUnavailable(f"haproxy did not open port {self.port} in {timeout:.0f} s")

    def stop(self) -> None:
        """Stop HAProxy (SIGTERM, then SIGKILL)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# -- the local stack (``medpipe dev up``) -------------------------------------------
def local_front_command(config: StackConfig) -> list[str] | None:
    """The supervised front's command line, or None when the stack runs no front."""
    return front_command(front_config_path(config)) if wants_front(config) else None


def prepare_local_front(config: StackConfig) -> None:
    """Generate and check the local front's configuration (before the front starts).

    Raises:
        InvalidInput: the fleet cannot be fronted, or HAProxy refuses the result.
    """
    if wants_front(config):
        front_dir(config).mkdir(parents=True, exist_ok=True, mode=0o700)
        write_front_config(config.fleet, local_binding(config), front_config_path(config))
