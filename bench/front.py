"""The front under a regional gateway's crash: failed requests, longest gap, added latency.

Two ``medpipe gateway`` processes of one jurisdiction behind the front (HAProxy,
configuration generated from their fleet by ``workers/frontconfig.py``). Per trial:
``--rate`` requests/s open loop (each request sent on schedule, whatever the
others take) for ``--seconds``; one gateway is SIGKILLed at a third of the trial
and started again one second later (what ``dev up``'s supervisor does). Printed:
requests sent, failed, in flight at the kill, the longest gap between two answers
(goals: 0 failed, gap ≤ 1 s), and when the restarted gateway answered again.
Then the front's added p50 latency: sequential one-row predictions over one
keep-alive connection, interleaved, through the front and straight to a gateway.

Every process started here is stopped on exit, SIGINT or SIGTERM (``bench/_procs``);
each trial has a deadline.

Run: ``.venv/bin/python bench/front.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import _procs  # noqa: E402
import numpy as np  # noqa: E402

from bench._oip_load import MODEL, body, rows  # noqa: E402
from medpipe.contracts.placement import Cloud, Fleet, GatewayTarget, WorkerProfile  # noqa: E402
from medpipe.workers.front import FrontProxy, server_states  # noqa: E402
from medpipe.workers.frontconfig import GATEWAY_HEADER, JURISDICTION_HEADER  # noqa: E402
from medpipe.workers.pki import TestPKI, make_test_pki  # noqa: E402
from medpipe.workers.ports import free_port as _free_port  # noqa: E402

START_DEADLINE_S = 60.0
READ_DEADLINE_S = 15.0
RESTART_AFTER_S = 1.0


def _pct(samples: list[float]) -> tuple[float, float]:
    a = np.array(samples) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


@dataclass
class Gateway:
    """One ``medpipe gateway`` process serving the bench model from its start."""

    name: str
    model: Path
    pki: TestPKI
    logs: Path
    port: int = field(default_factory=_free_port)
    admin_port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        digest = hashlib.sha256(self.model.read_bytes()).hexdigest()
        log = open(self.logs / f"{self.name}.log", "ab")
        self.proc = _procs.spawn(
            [sys.executable, "-m", "medpipe", "gateway", "--port", str(self.port),
             "--admin-port", str(self.admin_port), "--tls-cert", str(self.pki.server_cert),
             "--tls-key", str(self.pki.server_key), "--client-ca", str(self.pki.ca_cert),
             "--model-name", MODEL, "--allow-unsigned", "--model-root", str(self.model.parent),
             "--model", str(self.model), "--model-sha256", digest],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
        log.close()

    def ready(self) -> bool:
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            c.request("GET", "/v2/health/ready")
            return c.getresponse().status == 200
        except OSError:
            return False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while not self.ready():
            if self.proc is None or self.proc.poll() is not None or \
                    time.monotonic() > deadline:
                raise RuntimeError(f"gateway {self.name} did not get ready; see "
                                   f"{self.logs / (self.name + '.log')}")
            time.sleep(0.1)

    @property
    def target(self) -> GatewayTarget:
        return GatewayTarget(name=self.name, admin_url=f"https://127.0.0.1:{self.admin_port}",
                             public_url=f"http://127.0.0.1:{self.port}", model=MODEL,
                             jurisdiction="US")


@dataclass
class Trial:
    """What the callers saw in one trial."""

    sent: int = 0
    ok: int = 0
    failed: int = 0
    in_flight_at_kill: int = 0
    longest_gap_s: float = 0.0
    back_after_s: float | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class _Conn:
    """One keep-alive HTTP/1.1 connection to the front (raw: a light load generator)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, wire: bytes) -> tuple[int, str]:
        """Send one request; (status, the answering gateway)."""
        self.writer.write(wire)
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), READ_DEADLINE_S)
        status, length, gateway = int(head[9:12]), 0, ""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == GATEWAY_HEADER.lower().encode():
                gateway = value.strip().decode()
        await asyncio.wait_for(self.reader.readexactly(length), READ_DEADLINE_S)
        return status, gateway


def _wire(row: np.ndarray, port: int) -> bytes:
    payload, headers = body("json", row)
    head = [f"POST /v2/models/{MODEL}/infer HTTP/1.1", f"host: 127.0.0.1:{port}",
            f"content-length: {len(payload)}", f"{JURISDICTION_HEADER}: US",
            *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


async def _failover_trial(front: FrontProxy, victim: Gateway, rate: float, seconds: float,
                          data: np.ndarray) -> Trial:
    wires = [_wire(r, front.port) for r in data]
    trial, answers = Trial(), []
    idle: list[_Conn] = []
    inflight = 0
    killed = False
    restarted_at: float | None = None

    async def one(i: int) -> None:
        nonlocal inflight
        inflight += 1
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                conn = _Conn(*await asyncio.open_connection("127.0.0.1", front.port))
            status, gateway = await conn.post(wires[i % len(wires)])
            now = time.monotonic()
            if status == 200:
                trial.ok += 1
                answers.append(now)
                if restarted_at is not None and trial.back_after_s is None \
                        and gateway == victim.name:
                    trial.back_after_s = now - restarted_at
            else:
                trial.failed += 1
                trial.errors.append(f"HTTP {status}")
            idle.append(conn)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError, ValueError) as e:
            trial.failed += 1
            trial.errors.append(f"{type(e).__name__}: {e}")
            if conn is not None:
                conn.writer.close()
        finally:
            inflight -= 1

    tasks: set[asyncio.Task[None]] = set()
    t0 = time.monotonic()
    kill_at, restart_at = t0 + seconds / 3, t0 + seconds / 3 + RESTART_AFTER_S
    while (now := time.monotonic()) < t0 + seconds:
        if not killed and victim.proc is not None and now >= kill_at:
            trial.in_flight_at_kill = inflight
            _procs.kill(victim.proc)  # SIGKILL, no goodbye
            victim.proc, killed = None, True
        if killed and restarted_at is None and now >= restart_at:
            victim.start()  # what the supervisor of `dev up` does
            restarted_at = time.monotonic()
        task = asyncio.create_task(one(trial.sent))
        trial.sent += 1
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(max(0.0, t0 + trial.sent / rate - time.monotonic()))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.writer.close()
    answers.sort()
    trial.longest_gap_s = max((b - a for a, b in zip(answers, answers[1:], strict=False)),
                              default=seconds)
    trial.seconds = time.monotonic() - t0
    return trial


def _wait_all_up(front: FrontProxy) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while not all(s.status == "UP" for s in server_states(front.socket)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"front servers not all UP: {server_states(front.socket)}")
        time.sleep(0.1)


def _latency(front: FrontProxy, direct_ports: list[int], data: np.ndarray
             ) -> tuple[tuple[float, float], tuple[float, float]]:
    """p50/p99 ms through the front and straight to the gateways (alternately, as the
    front balances), interleaved request by request."""
    via = http.client.HTTPConnection("127.0.0.1", front.port, timeout=10)
    directs = [http.client.HTTPConnection("127.0.0.1", p, timeout=10) for p in direct_ports]
    samples: dict[str, list[float]] = {"front": [], "direct": []}
    path = f"/v2/models/{MODEL}/infer"
    for i, row in enumerate(data):
        payload, headers = body("json", row)
        direct = directs[i % len(directs)]
        for label, conn in (("front", via), ("direct", direct)):
            t0 = time.perf_counter()
            conn.request("POST", path, payload, {**headers, JURISDICTION_HEADER: "US"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{label} answered {resp.status}")
            if i >= 100:  # warm-up
                samples[label].append(time.perf_counter() - t0)
    via.close()
    for conn in directs:
        conn.close()
    return _pct(samples["front"]), _pct(samples["direct"])


async def run(args: argparse.Namespace, tmp: Path) -> bool:
    import onnx

    from medpipe.workers.sample import build_model

    mean = np.array([60, 6.5, 120, 130, 28], dtype=np.float64)
    model = build_model(mean, mean * 0.2, np.random.default_rng(0).normal(0, 1, 5), -0.3,
                        ["age", "hba1c", "ldl", "sbp", "bmi"])
    path = tmp / "model" / "model.onnx"
    path.parent.mkdir()
    onnx.save(model, path)
    logs = tmp / "logs"
    logs.mkdir()
    pki = make_test_pki(tmp / "pki")
    gws = [Gateway(n, path, pki, logs) for n in ("gw-us-a", "gw-us-b")]
    for g in gws:
        g.start()
    for g in gws:
        g.wait_ready()
    fleet = Fleet(profiles=(WorkerProfile(cloud=Cloud.ONPREM, region="r1", jurisdiction="US"),),
                  gateways=tuple(g.target for g in gws))
    front = FrontProxy(fleet, tmp / "front", _free_port())
    _procs.at_stop(front.stop)
    front.start()
    _wait_all_up(front)
    data = rows(2000)
    print(f"front bench: 2 gateways (jurisdiction US) behind HAProxy, {args.rate:.0f} req/s "
          f"open loop for {args.seconds:.0f} s per trial, one gateway SIGKILLed at "
          f"{args.seconds / 3:.1f} s and restarted {RESTART_AFTER_S:.0f} s later; "
          f"{args.trials} trials; {os.cpu_count()} cores", flush=True)

    async def trial() -> Trial:
        await asyncio.to_thread(_wait_all_up, front)
        t = await _failover_trial(front, gws[0], args.rate, args.seconds, data)
        await asyncio.to_thread(gws[0].wait_ready)
        back = "not within the trial" if t.back_after_s is None \
            else f"{t.back_after_s:.1f} s after its restart"
        print(f"  {t.sent} sent ({t.sent / t.seconds:.0f}/s), {t.failed} failed "
              f"({t.in_flight_at_kill} in flight at the kill), longest gap in answers "
              f"{t.longest_gap_s * 1000:.0f} ms; the killed gateway answered again {back}",
              flush=True)
        for e in t.errors[:5]:
            print(f"    failed: {e}")
        return t

    done, timed_out, failed = await _procs.trials(trial, args.trials,
                                                  args.seconds + 90, "failover")
    ok = bool(done) and not timed_out and not failed
    if done:
        worst_failed = max(t.failed for t in done)
        worst_gap = max(t.longest_gap_s for t in done)
        verdict = "OK" if worst_failed == 0 and worst_gap <= 1.0 else "over goal"
        ok = ok and verdict == "OK"
        print(f"  worst of {len(done)}: {worst_failed} failed (goal 0), longest gap "
              f"{worst_gap * 1000:.0f} ms (goal ≤ 1000 ms): {verdict}")
    (f50, f99), (d50, d99) = await asyncio.to_thread(_latency, front, [g.port for g in gws],
                                                     data[:args.latency_n])
    print(f"  latency, sequential one-row JSON predictions ({args.latency_n - 100} each, "
          f"interleaved): front p50 {f50:.3f} ms p99 {f99:.3f} ms; direct p50 {d50:.3f} ms "
          f"p99 {d99:.3f} ms; the front adds {f50 - d50:+.3f} ms p50")
    return ok


def _runner() -> asyncio.Runner:
    try:
        import uvloop

        return asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        return asyncio.Runner()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="one short trial")
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--trials", type=int, default=None)
    args = p.parse_args()
    args.seconds = args.seconds or (9.0 if args.quick else 15.0)
    args.trials = args.trials or (1 if args.quick else 3)
    args.latency_n = 600 if args.quick else 2100
    _procs.install()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with _runner() as runner:
                ok = runner.run(run(args, Path(tmp)))
        finally:
            _procs.stop_all()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
