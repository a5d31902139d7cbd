"""Gateway throughput and overhead: OIP JSON and binary tensors vs the bare server stack.

Figures, in one run on the same model, load generator and cores:
  * CPU µs per request of the public port's fast path in-process (``bench/_fastpath``:
    the protocol object fed pre-built requests, no sockets; the load-robust figure for
    changes to the hot path);
  * p50/p99 of sequential one-row predictions through the gateway (JSON and binary)
    vs ``session.run`` in-process, and the overhead (goal: p50 ≤ 0.3 ms);
  * the same with the backup pathway answering (``bench/_fallback``): stable model,
    fallback after the stable model failed the request, fallback behind an open breaker;
  * req/s and p50/p99 under ``--connections`` keep-alive clients for JSON and binary
    requests: the gateway (1 process, and 2 processes sharing one public port with
    ``--reuse-port``, each a gateway of its own with its own admin port and state, as
    the runbook deploys them) and the ceiling, a bare ASGI app on the
    same stack (uvicorn + httptools + uvloop) that reads the body and returns a fixed
    OIP response; the ratio gateway/ceiling (goal: ≥ 50 %).
Every server is a separate process, as is the load generator; each trial has a
deadline, and every process started here is stopped on exit, SIGINT or SIGTERM
(``bench/_procs``).

Run: ``.venv/bin/python bench/gateway.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import _procs  # noqa: E402
import numpy as np  # noqa: E402

from bench._oip_load import MODEL, body, rows  # noqa: E402
from medpipe.workers.ports import free_port as _free_port  # noqa: E402

LOAD = str(Path(__file__).with_name("_oip_load.py"))
START_DEADLINE_S = 60.0


def _pct(samples: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(np.asarray(samples) * 1000.0, [50, 99])
    return float(p50), float(p99)


def raw_latency(model_path: Path, data: np.ndarray) -> tuple[float, float]:
    """p50/p99 ms of ``session.run`` for one row, same session options as the gateway."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model_path), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    samples = []
    for row in data:
        feed = {"features": row.reshape(1, -1)}
        t0 = time.perf_counter()
        session.run(None, feed)
        samples.append(time.perf_counter() - t0)
    return _pct(samples[100:])


def http_latency(port: int, kind: str, data: np.ndarray) -> tuple[float, float]:
    """p50/p99 ms of sequential predictions over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    path = f"/v2/models/{MODEL}/infer"
    requests = [body(kind, r) for r in data]
    samples = []
    for payload, headers in requests:
        t0 = time.perf_counter()
        conn.request("POST", path, payload, headers)
        resp = conn.getresponse()
        resp.read()
        samples.append(time.perf_counter() - t0)
        if resp.status != 200:
            raise RuntimeError(f"gateway answered {resp.status}")
    conn.close()
    return _pct(samples[100:])


def load(kind: str, ports: list[int], connections: int, seconds: float) -> dict[str, Any]:
    """One trial from a separate load-generator process (deadline: seconds + 30)."""
    out = subprocess.run([sys.executable, LOAD, "load", kind, str(seconds), str(connections),
                          *map(str, ports)], check=True, capture_output=True, text=True,
                         timeout=seconds + 30)
    figures: dict[str, Any] = json.loads(out.stdout)
    figures["rps"] = figures["responses"] / seconds
    return figures


class Server:
    """A server process for the duration of a ``with``; ready when ``/v2/health/ready``
    answers 200 (the bare app answers 200 to anything) ``probes`` times in a row, each on
    a fresh connection (processes sharing a port: the kernel spreads connections over
    every process listening, ready or not), within ``START_DEADLINE_S``."""

    def __init__(self, cmd: list[str], port: int, cwd: Path = ROOT, probes: int = 1,
                 bound_after: int | None = None, log: Path | None = None) -> None:
        """``bound_after``: a port the server listens on only once its public socket is
        bound (a gateway's admin port); probing starts when it accepts connections.
        ``log``: where the server's output goes (its last line says why it did not start)."""
        self.cmd, self.port, self.cwd, self.probes = cmd, port, cwd, probes
        self.bound_after, self.log = bound_after, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        """Start the process without waiting for it (``ready`` waits)."""
        env = os.environ | {"PYTHONPATH": str(ROOT)} if self.cwd == ROOT else dict(os.environ)
        if self.log is None:
            self.proc = _procs.spawn(self.cmd, cwd=self.cwd, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return self
        with self.log.open("ab") as out:
            self.proc = _procs.spawn(self.cmd, cwd=self.cwd, env=env, stdout=out,
                                     stderr=subprocess.STDOUT)
        return self

    def _bound(self) -> bool:
        if self.bound_after is None:
            return True
        try:
            socket.create_connection(("127.0.0.1", self.bound_after), timeout=1).close()
            return True
        except OSError:
            return False

    def __enter__(self) -> Server:
        return self.start().ready()

    def ready(self) -> Server:
        """Wait until the started process answers (see the class); stop it if it does not."""
        assert self.proc is not None
        deadline = time.monotonic() + START_DEADLINE_S
        answered = 0
        while True:
            try:
                if not self._bound():
                    raise OSError("not bound yet")
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/v2/health/ready")
                ok = c.getresponse().status == 200
                c.close()
                answered = answered + 1 if ok else 0
                if answered >= self.probes:
                    return self
                if ok:
                    continue
            except OSError:
                answered = 0
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                last = self.log.read_text(errors="replace").strip().splitlines()[-1:] \
                    if self.log is not None and self.log.exists() else []
                raise RuntimeError(f"server did not start: {' '.join(self.cmd[:4])}"
                                   + (f" ({last[0][:160]})" if last else ""))
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _procs.stop_group(self.proc.pid, grace=15)


def gateway(tmp: Path, model: Path, digest: str, port: int | None = None,
            extra: tuple[str, ...] = ()) -> Server:
    """A ``python -m medpipe.workers.gateway`` process serving ``model`` (unsigned: bench);
    with ``port``, one of the processes sharing that public port (``--reuse-port``);
    ``extra``: more gateway options."""
    from medpipe.workers.pki import make_test_pki

    pki = make_test_pki(tmp / f"pki-{_free_port()}")
    shared = ["--reuse-port"] if port is not None else []
    port = port or _free_port()
    admin = _free_port()
    return Server([sys.executable, "-m", "medpipe.workers.gateway", "--port", str(port),
                   "--admin-port", str(admin), "--tls-cert", str(pki.server_cert),
                   "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
                   "--model-name", MODEL, "--allow-unsigned", "--model-root", str(model.parent),
                   "--model", str(model), "--model-sha256", digest, "--http", "httptools",
                   "--loop", "uvloop", *shared, *extra], port, probes=16 if shared else 1,
                  bound_after=admin)


def restart_seconds(tmp: Path, model: Path, digest: str) -> tuple[float, float]:
    """Seconds to ready: a signed gateway's first start, and its restart after SIGKILL
    from its recorded serving state (the model fetched and verified again)."""
    from medpipe.activities.keys import open_provider
    from medpipe.activities.signing.oms import sign_model
    from medpipe.workers.pki import make_test_pki

    provider = open_provider(f"local://{tmp / 'keys' / 'keyring.json'}")
    provider.create_signing_key("bench")
    public = tmp / "bench.pub.pem"
    public.write_bytes(provider.public_key_pem("bench"))
    bundle = model.with_name("model.onnx.sig")
    sign_model(model, bundle, provider, "bench",
               identity={"model": MODEL, "version": "1", "release_id": "bench-1"})
    pki = make_test_pki(tmp / "pki-restart")
    port = _free_port()
    base = [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(port),
            "--admin-port", str(_free_port()), "--tls-cert", str(pki.server_cert),
            "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
            "--model-name", MODEL, "--trusted-key", str(public), "--model-root",
            str(model.parent), "--state-file", str(tmp / "state.json")]
    first = Server(base + ["--model", str(model), "--model-sha256", digest, "--model-bundle",
                          str(bundle), "--release-id", "bench-1"], port)
    t0 = time.monotonic()
    with first:
        first_s = time.monotonic() - t0
        assert first.proc is not None
        _procs.kill(first.proc)  # a crash: the supervisor would start the same command again
    t0 = time.monotonic()
    with Server(base, port):  # no --model: what it serves comes from the recorded state
        return first_s, time.monotonic() - t0


def bare() -> Server:
    """The bare ASGI ceiling on the same server stack."""
    port = _free_port()
    return Server([sys.executable, LOAD, "bare", str(port)], port)


def peer_servers(tmp: Path, args: argparse.Namespace, model: Path) -> dict[str, Server]:
    """MLServer and KServe (same model, onnxruntime, one process each), where installed."""
    from bench._peers import COMMANDS, peer_pythons

    found = {}
    for label, python in peer_pythons(args.peers, args.peers_python).items():
        port, module = _free_port(), COMMANDS[label][0]
        folder = tmp / module
        found[label] = Server(COMMANDS[label][1](python, folder, model, MODEL, port,
                                                 _free_port()), port, cwd=folder,
                              log=folder / "server.log")
    return found


@dataclass
class Target:
    """What one trial loads: a label and the ports its connections spread over."""

    label: str
    servers: list[Server]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    refused: str = ""

    @property
    def ports(self) -> list[int]:
        """Where the load generator's connections go."""
        return list(dict.fromkeys(s.port for s in self.servers))

    def cpu_seconds(self) -> float:
        """CPU time used so far by the target's server processes (all threads)."""
        total = 0.0
        for s in self.servers:
            assert s.proc is not None
            fields = Path(f"/proc/{s.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def summary(self) -> dict[str, float]:
        """Medians over the rounds (the machine is shared: rounds interleave targets)."""
        return {key: float(np.median([r[key] for r in self.rounds]))
                for key in ("rps", "p50_ms", "p99_ms", "cpu_us")}


def interleaved(targets: list[Target], kind: str, connections: int, seconds: float,
                rounds: int) -> None:
    """``rounds`` rounds; in each, every target gets one trial of ``seconds / rounds``, so
    that load from elsewhere on the machine falls on all of them alike."""
    for _ in range(rounds):
        for t in targets:
            if t.refused:
                continue
            try:
                cpu = t.cpu_seconds()
                figures = load(kind, t.ports, connections, seconds / rounds)
                # server CPU per answer: what a request costs, whatever else runs here
                figures["cpu_us"] = (t.cpu_seconds() - cpu) / max(1, figures["responses"]) \
                    * 1e6
                t.rounds.append(figures)
            except subprocess.CalledProcessError as e:
                t.refused = e.stderr.strip().splitlines()[-1][:90]


def _row(label: str, f: dict[str, float], ratios: str = "") -> str:
    return (f"  {label:24s} {f['rps']:7.0f} req/s  p50 {f['p50_ms']:5.2f} ms  "
            f"p99 {f['p99_ms']:6.2f} ms  {f['cpu_us']:5.0f} µs CPU/req{ratios}")


def throughput(tmp: Path, path: Path, digest: str, args: argparse.Namespace) -> None:
    """Every server up at once; interleaved rounds of JSON then binary trials."""
    from bench._peers import UNSUPPORTED

    servers: list[Server] = []
    try:
        ceiling = bare()
        one = gateway(tmp, path, digest)
        # the same gateway with every request through its ASGI app (before the fast path)
        asgi = gateway(tmp, path, digest, extra=("--no-fast-path",))
        shared_port = _free_port()
        # two processes on one public port (SO_REUSEPORT: the kernel spreads connections),
        # each its own gateway with its own admin port, as a deployment would run them
        two = [gateway(tmp, path, digest, shared_port) for _ in range(2)]
        peers = peer_servers(tmp, args, path)
        for server in [ceiling, one, asgi, *two, *peers.values()]:
            servers.append(server.start())
        for server in servers[:len(servers) - len(peers)]:
            server.ready()
        for label, server in list(peers.items()):
            try:
                server.ready()
            except RuntimeError as e:  # a peer that does not start is skipped, said why
                del peers[label]
                print(f"  {label}: skipped: {e}")
        for kind in ("json", "binary"):
            targets = [Target("bare ASGI ceiling", [ceiling]),
                       Target("gateway, 1 process", [one]),
                       Target("gateway, 2 processes", two),
                       Target("gateway, 1, no fast path", [asgi])]
            targets += [Target(name, [server], refused=UNSUPPORTED.get((name, kind), ""))
                        for name, server in peers.items()]
            interleaved(targets, kind, args.connections, args.seconds, args.rounds)
            if kind == "json":
                print("  (2 processes: two gateways on one public port, --reuse-port; the "
                      "kernel spreads connections; admin changes go to each one's admin port)")
            top = targets[0].summary()
            gw = targets[1].summary()
            print(f"  {kind}:")
            for t in targets:
                if t.refused or not t.rounds:
                    print(f"  {t.label:24s} not measured: {t.refused}")
                    continue
                f = t.summary()
                ratio = (f"  {f['rps'] / top['rps']:5.1%} of ceiling (CPU "
                         f"{top['cpu_us'] / f['cpu_us']:4.0%})") if t is not targets[0] else ""
                if t in targets[4:]:
                    ratio += f", gateway = {gw['rps'] / f['rps']:4.1f}× this peer"
                print(_row(t.label, f, ratio))
    finally:
        for server in reversed(servers):
            server.__exit__()


def main() -> None:
    """Build the sample model, measure raw, ceiling and gateway, print the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer requests, shorter load")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds per request kind")
    p.add_argument("--peers", action="store_true",
                   help="run MLServer and KServe beside the gateway, each in a venv of its "
                        "own made once under .bench/peers-venv/ (bench/_peers_env.py)")
    p.add_argument("--peers-python", default=os.environ.get("MEDPIPE_BENCH_PEERS_PYTHON"),
                   help="a Python with mlserver and/or kserve + onnxruntime (peer servers)")
    args = p.parse_args()
    n = 1000 if args.quick else 5000
    args.seconds = 4.0 if args.quick else 12.0

    import onnx

    from medpipe.workers.sample import build_model

    rng = np.random.default_rng(0)
    mean = np.array([60, 6.5, 120, 130, 28], dtype=np.float64)
    model = build_model(mean, mean * 0.2, rng.normal(0, 1, 5), -0.3,
                        ["age", "hba1c", "ldl", "sbp", "bmi"])
    data = rows(n)
    print(f"gateway bench: {n} sequential one-row predictions, then {args.connections} "
          f"keep-alive connections, {args.seconds:.0f} s per target and kind in "
          f"{args.rounds} interleaved rounds; {os.cpu_count()} cores; "
          "servers and load generator in separate processes")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        path = tmp / "model" / "model.onnx"
        path.parent.mkdir()
        onnx.save(model, path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        raw50, raw99 = raw_latency(path, data)
        print(f"  raw onnxruntime session.run        p50 {raw50:7.3f} ms   p99 {raw99:7.3f} ms")
        from bench._fastpath import fast_path_cpu_us
        from bench._oip_load import wire

        fast = fast_path_cpu_us(path, digest, MODEL, {kind: [wire(kind, r) for r in data[:256]]
                                                      for kind in ("json", "binary")})
        print("  fast path in-process (protocol + endpoint + onnxruntime, no sockets): "
              + ", ".join(f"{kind} {us:.1f} µs CPU/req" for kind, us in fast.items()))
        with bare() as ceiling:
            http_latency(ceiling.port, "json", data[:200])
            b50, b99 = http_latency(ceiling.port, "json", data)
        print(f"  bare ASGI, sequential (HTTP alone) p50 {b50:7.3f} ms   p99 {b99:7.3f} ms")
        with gateway(tmp, path, digest) as gw:
            for kind in ("json", "binary"):
                http_latency(gw.port, kind, data[:200])  # warm-up
                g50, g99 = http_latency(gw.port, kind, data)
                verdict = "OK" if g50 - raw50 <= 0.3 else "over goal"
                print(f"  gateway, sequential, {kind:6s}        p50 {g50:7.3f} ms   p99 "
                      f"{g99:7.3f} ms   overhead p50 {g50 - raw50:6.3f} ms ({verdict}, "
                      "goal ≤ 0.3 ms)")
        first_s, again_s = restart_seconds(tmp, path, digest)
        print(f"  seconds to ready: first start {first_s:.2f} s; after SIGKILL, restoring "
              f"its signed model from the serving state {again_s:.2f} s")
        from bench._fallback import fallback_latency

        paths = fallback_latency(tmp, path, digest, data, Server, http_latency, _free_port,
                                 MODEL)
        for label, (f50, f99) in paths.items():
            print(f"  fallback bench, json, {label:13s} p50 {f50:7.3f} ms   p99 {f99:7.3f} ms")
        throughput(tmp, path, digest, args)
        print(f"  goal: one gateway process ≥ 50 % of the ceiling; {os.cpu_count()} cores are "
              "shared by every server and the load generator (and other users of the machine)")


if __name__ == "__main__":
    main()
