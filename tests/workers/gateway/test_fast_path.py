"""The public port's fast path (whole small inference requests answered by the HTTP
protocol, no ASGI cycle) against the ASGI path, on real gateways over real sockets:
byte-identical answers for a corpus of requests, order kept when fast and slow requests
share a connection, bodies split across TCP writes, clients leaving mid-body."""

from __future__ import annotations

import gzip
import json
import re
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from medpipe.activities.tls import client_context
from medpipe.workers.gateway.app import PublicApp
from medpipe.workers.gateway.limits import Limits
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.pki import TestPKI
from tests.workers.gateway.conftest import FEATURES, MODEL_NAME, Models, unsigned_loader

INFER = f"/v2/models/{MODEL_NAME}/infer"
ROW = [0.1, 0.2, 0.3, 0.4]
_DATE = re.compile(rb"\r\ndate: [^\r]*")


@dataclass
class Served:
    """A running gateway and how many requests its fast path answered."""

    server: GatewayServer
    fast_answers: list[int]

    @property
    def port(self) -> int:
        return self.server.port


def _start(tmp_path: Path, pki: TestPKI, models: Models, fast_path: bool) -> Served:
    limits = Limits(max_body_bytes=1 << 20, max_json_depth=8, max_json_values=100_000)
    srv = GatewayServer(Gateway(MODEL_NAME, unsigned_loader(tmp_path, models)), "127.0.0.1",
                        0, 0, AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert),
                        limits=limits, allow_pin=True, fast_path=fast_path)
    # count the fast path's answers: the endpoint is the protocol's plain entry point
    app = srv._public.config.app
    assert isinstance(app, PublicApp)
    counted = [0]
    respond = app.endpoint.respond

    def counting(*args: Any) -> Any:
        counted[0] += 1
        return respond(*args)

    app.endpoint.respond = counting  # type: ignore[method-assign]
    srv.start_in_thread()
    ctx = client_context(pki.client_settings())
    r = httpx.post(f"{srv.admin_url}/admin/models", json=models.stable.request(), verify=ctx)
    assert r.status_code == 200, r.text
    return Served(srv, counted)


@pytest.fixture
def both(tmp_path: Path, pki: TestPKI, models: Models) -> Iterator[tuple[Served, Served]]:
    """The same gateway twice: with the fast path, and with every request through ASGI."""
    fast = _start(tmp_path / "fast", pki, models, True)
    slow = _start(tmp_path / "slow", pki, models, False)
    yield fast, slow
    fast.server.join()
    slow.server.join()


def wire(body: bytes, path: str = INFER, method: str = "POST", version: str = "1.1",
         **headers: str) -> bytes:
    """One raw request; ``content-length`` is added unless a header says otherwise."""
    head = [f"{method} {path} HTTP/{version}", "host: 127.0.0.1"]
    if "transfer_encoding" not in headers and "content_length" not in headers:
        head.append(f"content-length: {len(body)}")
    head += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def infer(rows: list[list[float]], request_id: str = "r", **extra: Any) -> bytes:
    return _json({"id": request_id, "inputs": [
        {"name": "features", "shape": [len(rows), FEATURES], "datatype": "FP32",
         "data": [v for r in rows for v in r]}]} | extra)


def binary_infer(rows: list[list[float]]) -> tuple[bytes, str]:
    raw = np.asarray(rows, dtype="<f4").tobytes()
    header = _json({"inputs": [{"name": "features", "shape": [len(rows), FEATURES],
                                "datatype": "FP32", "parameters": {"binary_data_size": len(raw)}}],
                    "parameters": {"binary_data_output": True}})
    return header + raw, str(len(header))


class Reader:
    """Reads HTTP/1.1 responses one after another from one socket (every read has a
    deadline); a response is its raw bytes, head and body, ``date`` left out."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.data = sock, b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.data += chunk
        return bool(chunk)

    def response(self) -> bytes:
        while b"\r\n\r\n" not in self.data:
            if not self._fill():
                raise ConnectionError(f"closed before a response head: {self.data[:200]!r}")
        head, _, rest = self.data.partition(b"\r\n\r\n")
        found = re.search(rb"\r\ncontent-length: (\d+)", head)
        assert found is not None, head
        length = int(found[1])
        while len(rest) < length:
            if not self._fill():
                raise ConnectionError("closed mid-body")
            rest = self.data.partition(b"\r\n\r\n")[2]
        self.data = rest[length:]
        return _DATE.sub(b"", head) + b"\r\n\r\n" + rest[:length]

    def closed(self) -> bool:
        """Whether the server closed the connection (nothing more to read)."""
        return not self.data and not self._fill()


def exchange(port: int, parts: list[bytes], responses: int = 1, pause: float = 0.0
             ) -> tuple[list[bytes], bool]:
    """Send ``parts`` (``pause`` seconds apart) on one connection; read ``responses``;
    also whether the server then closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        for i, part in enumerate(parts):
            if i and pause:
                time.sleep(pause)
            sock.sendall(part)
        reader = Reader(sock)
        out = [reader.response() for _ in range(responses)]
        sock.settimeout(0.3)
        try:
            closed = reader.closed()
        except TimeoutError:
            closed = False
        return out, closed


def _corpus() -> list[tuple[str, bytes]]:
    big = [ROW] * 1100  # 4400 elements: over the inline bound, runs in the thread pool
    binary, header_length = binary_infer([ROW, [1.0, 2.0, 3.0, 4.0]])
    one = infer([ROW])
    rows = infer([ROW] * 40)
    return [
        ("json", wire(one)),
        ("json, several rows, output chosen", wire(infer(
            [ROW, ROW], outputs=[{"name": "probability"}]))),
        ("json asking binary output", wire(infer(
            [ROW], outputs=[{"name": "probability", "parameters": {"binary_data": True}}]))),
        ("binary tensors", wire(binary, content_type="application/octet-stream",
                                inference_header_content_length=header_length)),
        ("gzip request", wire(gzip.compress(one), content_encoding="gzip")),
        ("deflate request", wire(zlib.compress(one), content_encoding="deflate")),
        ("gzip response", wire(rows, accept_encoding="gzip")),
        ("version route", wire(one, path=f"/v2/models/{MODEL_NAME}/versions/1/infer")),
        ("pinned stable", wire(one, x_medpipe_slot="stable")),
        ("thread pool", wire(infer(big))),
        ("thread pool past its timeout", wire(infer(big, parameters={"timeout": 1}))),
        ("HTTP/1.0", wire(one, version="1.0")),
        ("connection close", wire(one, connection="close")),
        ("unknown model", wire(one, path="/v2/models/other/infer")),
        ("unknown version", wire(one, path=f"/v2/models/{MODEL_NAME}/versions/9/infer")),
        ("not JSON", wire(b"{nope")),
        ("too deep", wire(b"[" * 20 + b"]" * 20)),
        ("wrong datatype", wire(_json({"inputs": [{"name": "features", "shape": [1, 4],
                                                   "datatype": "INT64", "data": [1, 2, 3, 4]}]}))),
        ("missing input", wire(_json({"inputs": [{"name": "other", "shape": [1],
                                                  "datatype": "FP32", "data": [1]}]}))),
        ("bad header length", wire(binary, inference_header_content_length="99999")),
        ("unknown encoding", wire(one, content_encoding="br")),
        ("corrupt gzip", wire(b"\x1f\x8b garbage", content_encoding="gzip")),
        ("bad pin", wire(one, x_medpipe_slot="blue")),
        ("canary pinned, none loaded", wire(one, x_medpipe_slot="canary")),
        ("oversize declared", wire(b"", content_length=str(2 << 20))),
    ]


def test_fast_and_asgi_paths_answer_byte_for_byte_alike(both: tuple[Served, Served]) -> None:
    fast, slow = both
    corpus = _corpus()
    for label, request in corpus:
        (ours,), ours_closed = exchange(fast.port, [request])
        (theirs,), theirs_closed = exchange(slow.port, [request])
        assert ours == theirs, label
        assert ours_closed == theirs_closed, label
    # the fast path answered all but the refused-before-reading one (413: declared too big)
    assert fast.fast_answers[0] == len(corpus) - 1
    assert slow.fast_answers[0] == 0
    status = {label: exchange(fast.port, [r])[0][0].split(b" ", 2)[1] for label, r in corpus}
    assert status["json"] == status["binary tensors"] == status["thread pool"] == b"200"
    assert status["thread pool past its timeout"] == b"503"
    assert status["oversize declared"] == b"413" and status["unknown encoding"] == b"415"


def test_fast_and_slow_requests_on_one_connection_answer_in_order(
        both: tuple[Served, Served]) -> None:
    fast, _ = both
    sequence = [
        wire(infer([ROW], "a")),
        wire(b"", path="/metrics", method="GET"),  # ASGI (Starlette)
        wire(infer([ROW], "b")),
        wire(infer([ROW] * 1100, "big")),  # fast path, then the thread pool: holds the line
        wire(infer([ROW], "c")),
        b"POST " + INFER.encode() + b" HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(infer([ROW], "chunked")), infer([ROW], "chunked")),
        wire(infer([ROW], "d")),
        wire(b"", path="/v2/health/ready", method="GET"),
        wire(infer([ROW], "e")),
    ]
    expected = ["a", "metrics", "b", "big", "c", "chunked", "d", None, "e"]

    def ids(answers: list[bytes]) -> list[str | None]:
        assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers)
        bodies = [a.partition(b"\r\n\r\n")[2] for a in answers]
        assert json.loads(bodies[7]) == {"ready": True}
        return [json.loads(b).get("id") if b.startswith(b"{") else "metrics" for b in bodies]

    # pipelined, all in one write: after the first ASGI request every later one queues
    # behind it (uvicorn's pipeline), fast-path candidates included
    answers, _ = exchange(fast.port, [b"".join(sequence)], len(sequence))
    assert ids(answers) == expected
    # one request at a time on the same connection: each inference request but the
    # chunked one takes the fast path
    before = fast.fast_answers[0]
    with socket.create_connection(("127.0.0.1", fast.port), timeout=20) as sock:
        reader = Reader(sock)
        answers = []
        for request in sequence:
            sock.sendall(request)
            answers.append(reader.response())
    assert ids(answers) == expected
    assert fast.fast_answers[0] - before == 6  # a, b, big, c, d, e
    # a fast request that goes to the thread pool holds the requests pipelined behind it
    before = fast.fast_answers[0]
    answers, _ = exchange(fast.port, [b"".join([sequence[3], sequence[4], sequence[0],
                                                sequence[1]])], 4)
    assert [json.loads(a.partition(b"\r\n\r\n")[2]).get("id") for a in answers[:3]] == [
        "big", "c", "a"]
    assert fast.fast_answers[0] - before == 1  # big; c and a waited in the pipeline
    # fast requests pipelined behind fast ones are all answered by the fast path, in order
    before = fast.fast_answers[0]
    answers, _ = exchange(fast.port, [b"".join(wire(infer([ROW], str(i))) for i in range(5))],
                          5)
    assert [json.loads(a.partition(b"\r\n\r\n")[2])["id"] for a in answers] == [
        "0", "1", "2", "3", "4"]
    assert fast.fast_answers[0] - before == 5


def test_a_body_split_across_writes_is_answered_as_a_whole_one(
        both: tuple[Served, Served]) -> None:
    fast, slow = both
    request = wire(infer([ROW, [0.5, 0.6, 0.7, 0.8]], "split"))
    head_end = request.index(b"\r\n\r\n") + 4
    (whole,), _ = exchange(slow.port, [request])
    for cuts in ([head_end + 10], [head_end], [20], [head_end - 3, head_end + 5, len(request) - 1]):
        bounds = [0, *cuts, len(request)]
        parts = [request[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        for served in (fast, slow):
            (answer,), _ = exchange(served.port, parts, pause=0.05)
            assert answer == whole, cuts
    # a split body goes the ASGI way, where the body timeout applies; the next request on
    # the same connection takes the fast path again
    before = fast.fast_answers[0]
    with socket.create_connection(("127.0.0.1", fast.port), timeout=20) as sock:
        reader = Reader(sock)
        sock.sendall(request[:head_end + 10])
        time.sleep(0.05)
        sock.sendall(request[head_end + 10:])
        first = reader.response()
        sock.sendall(request)
        assert [first, reader.response()] == [whole, whole]
    assert fast.fast_answers[0] == before + 1


def test_a_client_leaving_mid_body_is_a_client_error_and_the_port_serves_on(
        both: tuple[Served, Served]) -> None:
    fast, _ = both
    gateway = fast.server.gateway
    stats = gateway.stats["stable"]
    requests, client_errors = stats.requests, stats.errors["client"]
    request = wire(infer([ROW] * 3, "gone"))
    for cut in (len(request) - 5, request.index(b"\r\n\r\n") + 4):
        with socket.create_connection(("127.0.0.1", fast.port), timeout=10) as sock:
            sock.sendall(request[:cut])
            time.sleep(0.05)
        time.sleep(0.1)
    # the server is unharmed: a whole request right after is answered, on the fast path
    before = fast.fast_answers[0]
    (answer,), _ = exchange(fast.port, [wire(infer([ROW], "after"))])
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"id":"after"' in answer
    assert fast.fast_answers[0] == before + 1
    # the abandoned requests count as client errors (as on the ASGI path), never as the
    # model's failures, and the breaker stays closed
    assert stats.requests == requests + 3 and stats.errors["client"] == client_errors + 2
    assert stats.errors["server"] == 0 and gateway.fallback.breaker.allow()

