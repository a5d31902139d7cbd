"""Gateway overhead and throughput: OIP over loopback HTTP vs raw onnxruntime ``run``.

Figures:
  * p50/p99 latency of one-row predictions through the gateway (keep-alive client,
    sequential) vs ``session.run`` in-process on the same model and rows, and the
    difference (goal: p50 overhead ≤ 1 ms);
  * requests/s with concurrent keep-alive clients, gateway and load generator each
    in their own process on this 2-core machine (goal: ≥ 1,500 req/s), for each
    uvicorn HTTP implementation / event loop available.

Run: ``.venv/bin/python bench/gateway.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import _procs  # noqa: E402
import numpy as np  # noqa: E402

MODEL = "risk"
FEATURES = ["age", "hba1c", "ldl", "sbp", "bmi"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = np.array([60, 6.5, 120, 130, 28], dtype=np.float32)
    return (base * rng.uniform(0.7, 1.3, (n, len(FEATURES)))).astype(np.float32)


def _body(row: np.ndarray) -> bytes:
    return json.dumps({"inputs": [{"name": "features", "shape": [1, len(FEATURES)],
                                   "datatype": "FP32", "data": row.tolist()}]}).encode()


def _pct(samples: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(np.asarray(samples) * 1000.0, [50, 99])
    return float(p50), float(p99)


def raw_latency(model_path: Path, rows: np.ndarray) -> tuple[float, float]:
    """p50/p99 ms of ``session.run`` for one row, same session options as the gateway."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model_path), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    samples = []
    for row in rows:
        feed = {"features": row.reshape(1, -1)}
        t0 = time.perf_counter()
        session.run(None, feed)
        samples.append(time.perf_counter() - t0)
    return _pct(samples[100:])


def http_latency(port: int, rows: np.ndarray) -> tuple[float, float]:
    """p50/p99 ms of sequential predictions over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"content-type": "application/json"}
    path = f"/v2/models/{MODEL}/infer"
    bodies = [_body(r) for r in rows]
    samples = []
    for body in bodies:
        t0 = time.perf_counter()
        conn.request("POST", path, body, headers)
        resp = conn.getresponse()
        resp.read()
        samples.append(time.perf_counter() - t0)
        assert resp.status == 200, resp.status
    conn.close()
    return _pct(samples[100:])


async def _loadgen(port: int, connections: int, seconds: float, rows: np.ndarray) -> int:
    """Keep ``connections`` raw HTTP/1.1 keep-alive clients busy; returns responses."""
    bodies = [_body(r) for r in rows[:256]]
    requests = [(f"POST /v2/models/{MODEL}/infer HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                 f"content-type: application/json\r\ncontent-length: {len(b)}\r\n\r\n").encode()
                + b for b in bodies]
    done = 0
    stop_at = time.perf_counter() + seconds

    async def one(i: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        k = i
        while time.perf_counter() < stop_at:
            writer.write(requests[k % len(requests)])
            k += 1
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:40].decode())
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            done += 1
        writer.close()

    await asyncio.gather(*(one(i) for i in range(connections)))
    return done


def loadgen_main(port: int, connections: int, seconds: float) -> None:
    """Entry of the load-generator process: prints the number of responses."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        print(runner.run(_loadgen(port, connections, seconds, _rows(256))))


def throughput(port: int, connections: int, seconds: float) -> float:
    """Requests/s from a separate load-generator process."""
    out = subprocess.run([sys.executable, __file__, "--loadgen", str(port), str(connections),
                          str(seconds)], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) / seconds


class Gateway:
    """A gateway process (``python -m workers.gateway``) for the duration of a ``with``."""

    def __init__(self, tmp: Path, model: Path, digest: str, http: str, loop: str) -> None:
        from medpipe.workers.pki import make_test_pki

        pki = make_test_pki(tmp / "pki")
        self.port, admin = _free_port(), _free_port()
        self.cmd = [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(self.port),
                    "--admin-port", str(admin), "--tls-cert", str(pki.server_cert),
                    "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
                    "--model-name", MODEL, "--model", str(model), "--model-sha256", digest,
                    "--http", http, "--loop", loop]

    def __enter__(self) -> Gateway:
        env = os.environ | {"PYTHONPATH": str(ROOT)}
        self.proc = _procs.spawn(self.cmd, cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/v2/health/ready")
                if c.getresponse().status == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        _procs.stop_group(self.proc.pid, grace=15)


def _available(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def main() -> None:
    """Build the sample model, measure raw vs gateway, print the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer requests, shorter load")
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args()
    n = 1000 if args.quick else 5000
    seconds = 3.0 if args.quick else 8.0

    import onnx

    from medpipe.workers.sample import build_model

    rng = np.random.default_rng(0)
    mean = np.array([60, 6.5, 120, 130, 28], dtype=np.float64)
    model = build_model(mean, mean * 0.2, rng.normal(0, 1, 5), -0.3, FEATURES)
    rows = _rows(n)
    configs = [("httptools", "uvloop")] if _available("httptools") and _available("uvloop") \
        else []
    configs.append(("h11", "asyncio"))
    print(f"gateway bench: {n} sequential one-row predictions, then {args.connections} "
          f"concurrent keep-alive connections for {seconds:.0f} s; {os.cpu_count()} cores "
          "(gateway and load generator in separate processes)")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        path = tmp / "model.onnx"
        onnx.save(model, path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        raw50, raw99 = raw_latency(path, rows)
        print(f"  raw onnxruntime session.run       p50 {raw50:7.3f} ms   p99 {raw99:7.3f} ms")
        for http_impl, loop in configs:
            with Gateway(tmp / f"{http_impl}-{loop}", path, digest, http_impl, loop) as gw:
                http_latency(gw.port, rows[:200])  # warm-up
                g50, g99 = http_latency(gw.port, rows)
                rps = throughput(gw.port, args.connections, seconds)
            verdict = "OK" if g50 - raw50 <= 1.0 else "over goal"
            print(f"  gateway ({http_impl:9s}, {loop:7s})  p50 {g50:7.3f} ms   p99 {g99:7.3f} ms"
                  f"   overhead p50 {g50 - raw50:6.3f} ms ({verdict}, goal ≤ 1 ms)")
            rps_verdict = "OK" if rps >= 1500 else "under goal"
            print(f"  {'':34s}throughput {rps:8.0f} req/s ({rps_verdict}, goal ≥ 1,500)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--loadgen":
        loadgen_main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
