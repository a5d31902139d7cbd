"""The public port's HTTP plumbing: one write per response (checked on a real socket
pair and through a real gateway), ``100 Continue`` never held, the JSON fast path
accepting and refusing exactly what ``json`` does, and public ports shared by
several processes (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from medpipe.workers.gateway import fastjson
from medpipe.workers.gateway.protocol import CoalescingWriter
from medpipe.workers.gateway.server import _bind
from tests.workers.gateway.conftest import MODEL_NAME, infer_body


@pytest.fixture
async def pair() -> AsyncIterator[tuple[asyncio.Transport, socket.socket]]:
    """A real asyncio transport and the raw socket at the other end."""
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    yield transport, theirs  # type: ignore[misc]
    transport.close()
    theirs.close()


def _pending(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return b""


async def test_the_head_waits_for_the_body_and_both_leave_in_one_write(
        pair: tuple[asyncio.Transport, socket.socket]) -> None:
    transport, peer = pair
    writer = CoalescingWriter(transport)
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"
    writer.write(head)
    await asyncio.sleep(0.05)
    assert _pending(peer) == b""  # held back
    writer.write(b"{}")
    await asyncio.sleep(0.05)
    assert _pending(peer) == head + b"{}"
    writer.write(b"more")  # later writes go straight out
    await asyncio.sleep(0.05)
    assert _pending(peer) == b"more"


async def test_100_continue_is_never_held_and_close_flushes(
        pair: tuple[asyncio.Transport, socket.socket]) -> None:
    transport, peer = pair
    writer = CoalescingWriter(transport)
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    await asyncio.sleep(0.05)
    assert _pending(peer) == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nconnection: close\r\n\r\n")
    assert not writer.is_closing()
    writer.close()
    await asyncio.sleep(0.05)
    assert _pending(peer).startswith(b"HTTP/1.1 500 ")
    assert writer.is_closing()


def test_expect_100_continue_still_works_through_the_gateway(loaded: object,
                                                              server: object) -> None:
    body = json.dumps(infer_body([[0.1, 0.2, 0.3, 0.4]])).encode()
    port = server.port  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /v2/models/{MODEL_NAME}/infer HTTP/1.1\r\nhost: x\r\n"
                     f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
                     "expect: 100-continue\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    head, _, answer = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer)["outputs"][0]["name"] == "probability"


def test_head_requests_get_their_answer(server: object) -> None:
    """uvicorn writes no body for HEAD: a held head would never leave."""
    port = server.port  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for _ in range(2):  # twice on one connection: each answered at once
            sock.sendall(b"HEAD /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("text", [
    b'{"inputs":[{"name":"x","data":[1.5,-2,3e2]}],"id":"r1"}',
    b'[NaN, Infinity, -Infinity]',             # json accepts these; orjson does not
    b'[18446744073709551615, -9223372036854775808]',  # 64-bit limits
    '{"a": "\u00e9"}'.encode("utf-16"),        # json detects UTF-16
    b'{"a": 1, "a": 2}',
])
def test_fast_json_accepts_what_json_accepts(text: bytes) -> None:
    assert repr(fastjson.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", [b"", b"{", b'{"a":}', b"[1,]", b"\xff\xfe\x00", b"nul"])
def test_fast_json_refuses_what_json_refuses_with_its_words(text: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        fastjson.loads(text)
    with pytest.raises(ValueError) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", ["<i8", "<u8", "<i4", "<u1"])
def test_an_integer_over_64_bits_is_refused_by_an_integer_tensor_either_way(dtype: str
                                                                             ) -> None:
    text = b"[1180591620717411303424]"  # 2**70: orjson reads a float, json an int
    for parsed in (fastjson.loads(text), json.loads(text)):
        with pytest.raises(OverflowError):
            np.asarray(parsed, dtype=np.dtype(dtype))
    assert np.asarray(fastjson.loads(text), dtype="<f4") == np.asarray(json.loads(text),
                                                                       dtype="<f4")


def test_fast_json_nesting_past_its_own_limit_is_json_s_decision() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    with pytest.raises(RecursionError):
        json.loads(deep)
    with pytest.raises(RecursionError):
        fastjson.loads(deep)


def test_fast_json_writes_compact_json_and_big_integers() -> None:
    doc = {"model_name": "m", "outputs": [{"data": [0.25, 1, True, "é"]}], "n": 2 ** 70}
    assert json.loads(fastjson.dumps(doc)) == doc
    assert b" " not in fastjson.dumps({"a": [1, 2]})


def test_a_public_port_is_shared_only_when_asked(tmp_path: Path) -> None:
    first = _bind("127.0.0.1", 0, reuse_port=True)
    port = first.getsockname()[1]
    try:
        second = _bind("127.0.0.1", port, reuse_port=True)
        second.close()
        with pytest.raises(OSError):
            _bind("127.0.0.1", port).close()
    finally:
        first.close()
    plain = _bind("127.0.0.1", 0)
    try:
        with pytest.raises(OSError):
            _bind("127.0.0.1", plain.getsockname()[1], reuse_port=True).close()
    finally:
        plain.close()


async def test_a_buffered_body_is_read_without_a_timer_and_within_the_limits() -> None:
    from medpipe.workers.gateway.infer import _read_body
    from medpipe.workers.gateway.limits import Limits, RequestRefused

    async def whole() -> dict[str, object]:
        return {"type": "http.request", "body": b"x" * 100, "more_body": False}

    limits = Limits(max_body_bytes=64, request_timeout_s=0.05)
    with pytest.raises(RequestRefused) as refused:  # chunked: no declared length
        await _read_body(whole, None, limits, complete=True)
    assert refused.value.status == 413
    assert await _read_body(whole, "100", Limits(request_timeout_s=0.05),
                            complete=True) == b"x" * 100

    async def never() -> dict[str, object]:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    with pytest.raises(RequestRefused) as late:  # still on its way: the timer is armed
        await _read_body(never, "10", limits)
    assert late.value.status == 408


async def test_a_body_cut_in_two_is_still_read_whole(loaded: object, server: object
                                                     ) -> None:
    """Through the real protocol: the request starts before its body is complete (not
    marked, read on the timed path; ``test_public_port``'s 408 test checks the timer)."""
    body = json.dumps(infer_body([[0.1, 0.2, 0.3, 0.4]])).encode()
    port = server.port  # type: ignore[attr-defined]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST /v2/models/{MODEL_NAME}/infer HTTP/1.1\r\nhost: x\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n").encode()
    writer.write(head + body[:10])
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.write(body[10:])
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status.startswith(b"HTTP/1.1 200 ")
