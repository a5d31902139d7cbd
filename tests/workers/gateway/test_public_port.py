"""The hardened public port: bodies bounded before parsing (declared, chunked, compressed),
JSON shape limits, per-request timeouts, never a traceback, and bounded memory under a
stream of oversized and malformed requests (measured on a real gateway process)."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medpipe.activities.tls import client_context
from medpipe.workers.gateway.limits import Limits
from medpipe.workers.gateway.server import AdminTLS, GatewayServer
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.pki import TestPKI
from medpipe.workers.ports import free_port as _free_port
from tests.workers.gateway import rawhttp
from tests.workers.gateway.conftest import MODEL_NAME, Models, infer_body, unsigned_loader

LIMIT = 1024 * 1024
INFER = f"/v2/models/{MODEL_NAME}/infer"
ROW = [0.1, 0.2, 0.3, 0.4]


@pytest.fixture
def port(tmp_path: Path, pki: TestPKI, models: Models) -> Iterator[int]:
    limits = Limits(max_body_bytes=LIMIT, max_json_depth=8, max_json_values=10_000,
                    request_timeout_s=1.0)
    srv = GatewayServer(Gateway(MODEL_NAME, unsigned_loader(tmp_path, models)), "127.0.0.1",
                        0, 0, AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert),
                        limits=limits)
    srv.start_in_thread()
    ctx = client_context(pki.client_settings())
    r = httpx.post(f"{srv.admin_url}/admin/models", json=models.stable.request(), verify=ctx)
    assert r.status_code == 200, r.text
    yield srv.port
    srv.join()


def _json_headers(body: bytes, **extra: str) -> dict[str, str]:
    return {"content-type": "application/json", "content-length": str(len(body)), **extra}


def test_declared_oversize_is_413_before_any_byte_is_read(port: int) -> None:
    status, headers, body = rawhttp.request(
        port, INFER, {"content-type": "application/json", "content-length": str(100 << 20)},
        [])  # headers only: the answer must not wait for 100 MiB
    assert status == 413 and headers.get("connection") == "close"
    assert "104857600 bytes exceeds the limit of 1048576" in rawhttp.error(body)


def test_an_endless_request_head_is_431(port: int) -> None:
    """httptools would buffer a header line forever; the head is bounded (64 KiB)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST {INFER} HTTP/1.1\r\nhost: x\r\nx-filler: ".encode())
        try:
            for _ in range(64):  # 4 MiB of one header value, never ended
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, body = rawhttp._read_response(sock)
    assert status in (431, 0), body  # 0: the reset raced the answer; the server lives on
    if status:
        assert "request head exceeds 65536 bytes" in rawhttp.error(body)
    assert httpx.post(f"http://127.0.0.1:{port}{INFER}", json=infer_body([ROW])).status_code \
        == 200


def test_chunked_oversize_is_413_as_it_arrives(port: int) -> None:
    part = b"[" + b"0," * (64 * 1024)
    parts = [part] * (LIMIT // len(part) + 1)  # just over the limit, never terminated
    status, _, body = rawhttp.request(port, INFER, {"content-type": "application/json"},
                                      parts, chunked=True)
    assert status == 413 and "exceeds the limit of 1048576" in rawhttp.error(body)


def test_compressed_body_may_not_inflate_past_the_limit(port: int) -> None:
    bomb = gzip.compress(b" " * (50 * LIMIT))
    assert len(bomb) < LIMIT
    status, _, body = rawhttp.request(port, INFER, _json_headers(bomb, **{
        "content-encoding": "gzip"}), [bomb])
    assert status == 413 and "gzip request body inflates past" in rawhttp.error(body)


@pytest.mark.parametrize(("body", "headers", "status", "fragment"), [
    (b"[" * 50 + b"]" * 50, {}, 400, "nested deeper than the limit of 8"),
    (b"[" * 100_000, {}, 400, "nested deeper than the limit of 8"),
    (json.dumps({"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",
                             "data": [[[[[[[[[[0.1]]]]]]]]]]}]}).encode(), {}, 400,
     "nested deeper"),
    (b"[" + b"1," * 20_000 + b"1]", {}, 400, "more than the limit of 10000"),
    (b"{not json", {}, 400, "not valid JSON"),
    (b"\xff\xfe", {}, 400, "not valid JSON"),
    (b"{}", {"content-encoding": "br"}, 415, "'br' is not supported"),
    (b"\x1f\x8b garbage", {"content-encoding": "gzip"}, 400, "not valid gzip"),
    (gzip.compress(b"{}", mtime=0)[:-4], {"content-encoding": "gzip"}, 400, "truncated"),
    (b"{}", {"inference-header-content-length": "99"}, 400, "does not fit a body of 2"),
    (b"{}", {"inference-header-content-length": "-1"}, 400, "does not fit"),
])
def test_malformed_bodies_are_4xx_with_a_message(port: int, body: bytes,
                                                 headers: dict[str, str], status: int,
                                                 fragment: str) -> None:
    got, _, answer = rawhttp.request(port, INFER, _json_headers(body, **headers), [body])
    assert got == status, answer
    assert fragment in rawhttp.error(answer) and b"Traceback" not in answer


def test_binary_sizes_that_do_not_add_up(port: int) -> None:
    header = json.dumps({"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 16}}]}).encode()
    for tail, fragment in ((b"\0" * 8, "runs past the 8 bytes"),
                           (b"\0" * 20, "4 bytes of binary data are not claimed")):
        body = header + tail
        got, _, answer = rawhttp.request(port, INFER, _json_headers(
            body, **{"inference-header-content-length": str(len(header))}), [body])
        assert got == 400 and fragment in rawhttp.error(answer), answer


def test_a_body_that_does_not_arrive_in_time_is_408(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST {INFER} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                     "content-length: 100\r\n\r\n{\"inputs\"".encode())
        status, headers, body = rawhttp._read_response(sock)
    assert status == 408 and "not received within 1 s" in rawhttp.error(body)


def test_responses_are_compressed_when_asked_and_worth_it(port: int) -> None:
    url = f"http://127.0.0.1:{port}{INFER}"
    with httpx.Client(timeout=10) as c:  # httpx asks for gzip and inflates transparently
        small = c.post(url, json=infer_body([ROW]))
        assert small.status_code == 200 and "content-encoding" not in small.headers
        big = c.post(url, json=infer_body([ROW] * 300))
        assert big.status_code == 200 and big.headers["content-encoding"] == "gzip"
        assert len(big.json()["outputs"][0]["data"]) == 300
        raw = c.post(url, json=infer_body([ROW] * 300),
                     headers={"accept-encoding": "deflate"})
        assert raw.headers["content-encoding"] == "deflate"
        deflated = zlib.compress(json.dumps(infer_body([ROW] * 2)).encode())
        r = c.post(url, content=deflated, headers={"content-encoding": "deflate",
                                                   "content-type": "application/json"})
        assert r.status_code == 200 and r.json()["outputs"][0]["shape"] == [2, 1]


def test_an_unexpected_failure_is_500_without_detail(tmp_path: Path, pki: TestPKI,
                                                     models: Models) -> None:
    gateway = Gateway(MODEL_NAME, unsigned_loader(tmp_path, models))

    def broken(pin: str | None = None) -> tuple[str, None]:
        raise RuntimeError("patient 4711 secret detail")

    gateway.route = broken  # type: ignore[method-assign]
    srv = GatewayServer(gateway, "127.0.0.1", 0, 0,
                        AdminTLS(pki.server_cert, pki.server_key, pki.ca_cert))
    srv.start_in_thread()
    try:
        r = httpx.post(f"{srv.url}{INFER}", json=infer_body([ROW]))
        assert r.status_code == 500 and r.json() == {"error": "internal error (RuntimeError)"}
    finally:
        srv.join()


# -- memory under abuse, on a real process ---------------------------------------------------
def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.slow
def test_memory_stays_bounded_under_oversized_and_malformed_requests(
        pki: TestPKI, models: Models) -> None:
    limit = 4 * 1024 * 1024
    port = _free_port()
    root = Path(__file__).resolve().parents[3]
    cmd = [sys.executable, "-m", "medpipe.workers.gateway", "--port", str(port),
           "--admin-port", str(_free_port()), "--tls-cert", str(pki.server_cert),
           "--tls-key", str(pki.server_key), "--client-ca", str(pki.ca_cert),
           "--model-name", MODEL_NAME, "--allow-unsigned", "--max-body-bytes", str(limit),
           "--model-root", str(models.stable.path.parent), "--model", str(models.stable.path),
           "--model-sha256", models.stable.sha256]
    proc = subprocess.Popen(cmd, cwd=root, env=os.environ | {"PYTHONPATH": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gateway not ready"
            time.sleep(0.1)
        for _ in range(50):  # warm every code path once before the baseline
            assert httpx.post(f"http://127.0.0.1:{port}{INFER}",
                              json=infer_body([ROW] * 100)).status_code == 200
        baseline = _kib(proc.pid, "VmRSS")
        abuse = [
            ({"content-length": str(100 << 20)}, [], False, 413),
            ({}, [b"[" + b"0," * (512 * 1024)] * 5, True, 413),  # chunked, 5 MiB
            ({"content-encoding": "gzip"}, [gzip.compress(b"[" * (64 << 20))], False, 413),
            ({}, [b"[" * (limit - 10)], False, 400),  # deep
            ({}, [b"[" + b"0," * (limit // 2 - 8) + b"0]"], False, 400),  # many values
            ({}, [b"{\"inputs\": [" + b"x" * (limit - 20)], False, 400),  # not JSON
        ]
        rss = []
        for round_ in range(12):
            rss.append(_kib(proc.pid, "VmRSS"))
            with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
                try:  # an endless header line (httptools would keep every byte)
                    sock.sendall(f"POST {INFER} HTTP/1.1\r\nx-filler: ".encode())
                    for _ in range(64):
                        sock.sendall(b"a" * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            for headers, parts, chunked, status in abuse:
                if not chunked and "content-length" not in headers:
                    headers = headers | {"content-length": str(sum(map(len, parts)))}
                got, _, body = rawhttp.request(port, INFER, {"content-type": "application/json",
                                                             **headers}, parts, chunked)
                assert got == status, (round_, headers, body[:200])
        peak = _kib(proc.pid, "VmHWM")
        after = _kib(proc.pid, "VmRSS")
        assert proc.poll() is None
        # Before the limits a single 100 MiB array took the process from 87 MB to 1.3 GB;
        # now the peak stays within a few bodies of the 4 MiB limit over the baseline, and
        # the resident size levels off (the allocator keeps a few freed bodies for reuse)
        # instead of growing with the number of requests.
        assert peak - baseline < 160 * 1024, f"peak {peak} KiB vs baseline {baseline} KiB"
        rss.append(after)
        settled = rss[len(rss) // 2:]
        assert max(settled) - min(settled) < 2 * limit // 1024, f"RSS still growing: {rss} KiB"
        assert httpx.post(f"http://127.0.0.1:{port}{INFER}",
                          json=infer_body([ROW])).status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_model_run_past_the_request_timeout_is_503(port: int) -> None:
    """The client's ``parameters.timeout`` (µs, as OIP has it) caps the run; 1 µs cannot be
    met by a batch that goes to the thread pool."""
    body = infer_body([ROW] * 2000) | {"parameters": {"timeout": 1}}
    r = httpx.post(f"http://127.0.0.1:{port}{INFER}", json=body, timeout=10)
    assert r.status_code == 503 and "did not answer within 1e-06 s" in r.json()["error"]
    bad = infer_body([ROW]) | {"parameters": {"timeout": -5}}
    r = httpx.post(f"http://127.0.0.1:{port}{INFER}", json=bad, timeout=10)
    assert r.status_code == 400 and "positive number of microseconds" in r.json()["error"]
