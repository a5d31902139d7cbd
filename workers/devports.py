"""Ports of the local stack: which it needs, and who holds one that is taken.

``dev up`` checks every port before starting anything: with another stack
on the same ports, its own Temporal server and gateways would crash-loop
while the CLI talked to the other stack (with other codec keys). The owner
of a taken port is found from ``/proc/net/tcp*`` and the processes' socket
file descriptors — where this user may read them; otherwise it is "unknown".
"""

from __future__ import annotations

import errno
import os
import socket
import time
from pathlib import Path

from medpipe.contracts.errors import MedpipeError
from medpipe.workers.config import StackConfig

_LISTEN = "0A"


class PortsInUse(MedpipeError):
    """A port the local stack needs is held by another process."""


def stack_ports(config: StackConfig, gateway_commands: dict[str, list[str]]) -> dict[int, str]:
    """Every TCP port the local stack listens on -> what listens there."""
    port = int(config.temporal_address.rpartition(":")[2])
    ports = {port: "Temporal frontend", port + 1000: "Temporal Web UI"}
    if config.codec_enabled:
        ports[config.codec_port] = "codec server"
    for name, cmd in gateway_commands.items():
        for flag, what in (("--port", "public"), ("--admin-port", "admin")):
            if flag in cmd:
                ports[int(cmd[cmd.index(flag) + 1])] = f"gateway {name} ({what})"
    from medpipe.workers.front import wants_front

    if wants_front(config):
        ports[config.front_port] = "front (HAProxy) for clinical callers"
        ports[config.front_stats_port] = "front stats and metrics"
    if config.storage == "emulated":
        from medpipe.workers.emulators import EmulatorPorts

        e = EmulatorPorts.from_base(config.emulator_base_port)
        ports.update({e.s3: "S3 emulator (moto)", e.gcs: "GCS emulator",
                      e.azure: "Azure Blob emulator (Azurite)"})
    return ports


def port_open(address: str, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(address: str, seconds: float) -> bool:
    """Poll until ``address`` accepts connections or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(address):
            return True
        time.sleep(0.1)
    return False


def port_taken(host: str, port: int) -> bool:
    """Whether binding ``host:port`` fails because something holds it."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def port_owner(port: int) -> str | None:
    """``pid N (command line)`` of the process listening on ``port``, if visible."""
    inodes = {f"socket:[{i}]" for i in _listening_inodes(port)}
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                    return f"pid {pid} ({cmd.decode(errors='replace').strip()[:120]})"
            except OSError:
                continue
    return None


def check_ports_free(config: StackConfig, gateway_commands: dict[str, list[str]]) -> None:
    """Refuse (``PortsInUse``) when any port of the stack is taken, naming each and its owner."""
    host = config.temporal_address.rpartition(":")[0] or "127.0.0.1"
    taken = []
    for port, what in sorted(stack_ports(config, gateway_commands).items()):
        if port_taken(host, port):
            owner = port_owner(port) or "owner not visible to this user"
            taken.append(f"{host}:{port} ({what}) is held by {owner}")
    if taken:
        raise PortsInUse("the local stack cannot start: " + "; ".join(taken) + ". Stop that "
                         "process (another `medpipe dev up`? try `medpipe dev down` with its "
                         "MEDPIPE_HOME) or give other ports in the configuration "
                         "(temporal_address, codec_port, gateway_base_port)")
