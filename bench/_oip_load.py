"""Load generator and bare-ASGI ceiling for ``bench/gateway.py`` (run as subprocesses).

``python bench/_oip_load.py load KIND SECONDS CONNECTIONS PORT [PORT...]`` keeps
CONNECTIONS raw HTTP/1.1 keep-alive clients busy for SECONDS against the ports
(spread round-robin) with OIP requests of KIND (``json`` or ``binary``), and
prints one JSON line: responses, p50 and p99 in ms. Every read has a deadline, so
a stuck server ends the trial instead of hanging it.

``python bench/_oip_load.py bare PORT`` serves the ceiling: a bare ASGI app on the
gateway's server stack (uvicorn, httptools, uvloop, the same socket options) that
reads the body and returns a fixed OIP response.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import _checkout  # noqa: F401  (this checkout's medpipe, not an installed one)
import numpy as np

MODEL = "risk"
FEATURES = 5
READ_DEADLINE_S = 10.0


def rows(n: int) -> np.ndarray:
    """Feature rows of the sample model's scale."""
    rng = np.random.default_rng(3)
    base = np.array([60, 6.5, 120, 130, 28], dtype=np.float32)
    return (base * rng.uniform(0.7, 1.3, (n, FEATURES))).astype(np.float32)


def body(kind: str, row: np.ndarray) -> tuple[bytes, dict[str, str]]:
    """One OIP request for one row: JSON data, or binary tensors both ways."""
    if kind == "json":
        return json.dumps({"inputs": [{"name": "features", "shape": [1, FEATURES],
                                       "datatype": "FP32", "data": row.tolist()}]}).encode(), \
            {"content-type": "application/json"}
    raw = row.astype("<f4").tobytes()
    header = json.dumps({"inputs": [{"name": "features", "shape": [1, FEATURES],
                                     "datatype": "FP32",
                                     "parameters": {"binary_data_size": len(raw)}}],
                         "parameters": {"binary_data_output": True}}).encode()
    return header + raw, {"content-type": "application/octet-stream",
                          "inference-header-content-length": str(len(header))}


def wire(kind: str, row: np.ndarray) -> bytes:
    """One raw HTTP/1.1 inference request for one row."""
    payload, headers = body(kind, row)
    head = [f"POST /v2/models/{MODEL}/infer HTTP/1.1", "host: 127.0.0.1",
            f"content-length: {len(payload)}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


async def _body(reader: asyncio.StreamReader, head: bytes) -> None:
    """Read one response body: ``Content-Length`` bytes, or chunks (KServe sends its
    binary responses chunked)."""
    length, chunked = 0, False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        await reader.readexactly(length)
        return
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        await reader.readexactly(size + 2)  # the chunk and its CRLF
        if size == 0:
            return  # no trailers are sent by the servers measured here


async def _load(kind: str, seconds: float, connections: int, ports: list[int]
                ) -> dict[str, Any]:
    requests = [wire(kind, r) for r in rows(256)]
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def one(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[i % len(ports)])
        k = i
        try:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                writer.write(requests[k % len(requests)])
                k += 1
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_DEADLINE_S)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                await asyncio.wait_for(_body(reader, head), READ_DEADLINE_S)
                latencies.append(time.perf_counter() - t0)
        finally:
            writer.close()

    await asyncio.gather(*(one(i) for i in range(connections)))
    ms = np.asarray(latencies) * 1000.0
    p50, p99 = (float(v) for v in np.percentile(ms, [50, 99])) if ms.size else (0.0, 0.0)
    return {"responses": len(latencies), "p50_ms": p50, "p99_ms": p99}


def _runner() -> asyncio.Runner:
    try:
        import uvloop

        return asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        return asyncio.Runner()


def load_main(argv: list[str]) -> None:
    """Entry of the load-generator process."""
    kind, seconds, connections = argv[0], float(argv[1]), int(argv[2])
    ports = [int(p) for p in argv[3:]]
    with _runner() as runner:
        print(json.dumps(runner.run(_load(kind, seconds, connections, ports))))


_RESPONSE = json.dumps({"model_name": MODEL, "model_version": "1",
                        "parameters": {"slot": "stable", "model_version": "1"},
                        "outputs": [{"name": "probability", "datatype": "FP32", "shape": [1, 1],
                                     "data": [0.4213]}]}, separators=(",", ":")).encode()
_HEADERS = [(b"content-type", b"application/json"),
            (b"content-length", str(len(_RESPONSE)).encode())]


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the whole body, answer a fixed OIP response: the server stack's ceiling."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _RESPONSE})


def bare_main(port: int) -> None:
    """Serve ``bare_app`` like the gateway serves its public port, until SIGTERM."""
    import uvicorn

    from medpipe.workers.gateway.protocol import http_protocol
    from medpipe.workers.gateway.server import _bind

    config = uvicorn.Config(bare_app, http=http_protocol("httptools"), loop="uvloop",
                            access_log=False, lifespan="off", server_header=False,
                            log_level="warning")
    server = uvicorn.Server(config)
    with _runner() as runner:
        runner.run(server.serve(sockets=[_bind("127.0.0.1", port)]))


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load_main(sys.argv[2:])
    elif sys.argv[1] == "bare":
        bare_main(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
