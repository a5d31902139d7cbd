"""HTTP/1.1 protocol for the public port: uvicorn's httptools protocol with a bound on
the request head, and one transport write per response.

uvicorn bounds request heads only with h11 (``h11_max_incomplete_event_size``);
with httptools a client can stream a header line forever and the parser keeps
every byte (measured: 98 MB -> 470 MB RSS from one connection). This protocol
counts the bytes of each request head and answers 431 and closes the connection
once they pass ``MAX_HEAD_BYTES``, before the parser has buffered much more.

uvicorn writes a response's status line and headers (``http.response.start``) and
its body (``http.response.body``) with two ``transport.write`` calls: two
``send`` system calls and, with ``TCP_NODELAY``, two TCP segments that the client
must read apart, for every small inference answer. Each request's writer here
holds the head back and writes it together with the first body write (or on
close), so a one-body response leaves in one write. ``100 Continue`` is never
held (the client waits for it before sending the body), nor a HEAD response's
head (uvicorn writes no body for HEAD, so nothing would carry it).

A request whose body has arrived whole is marked in its scope (``BODY_COMPLETE``):
the inference endpoint then reads it without arming a timeout, which it needs
only for a body still on its way.

Fast path. Per request, uvicorn's ASGI cycle costs about as much CPU as the
gateway's own work for a one-row prediction (a cycle object, a task, an event,
message dicts, header lists, two ``send`` awaits). So an inference request
(``POST`` to an ``INFER_PATH``-shaped URL, no query string, a ``Content-Length``
within ``FAST_MAX_BODY_BYTES`` and the body limit, no ``Expect``, no
``Transfer-Encoding``, no upgrade) whose whole body arrives in the same
``data_received`` call as its head is answered right there, from the parser's
callback, by the endpoint's plain ``respond(name, version, headers, body)``: no
scope for the app, no task, one ``write``. Everything else goes through uvicorn as
before, and so does a fast-path candidate whose body is still on its way when the
received data runs out: it is handed to an ordinary ASGI cycle with what has
arrived (the cycle then applies the body timeout, 408). Order on a connection is
kept: the fast path is taken only when no earlier response on that connection is
outstanding (else the request queues in uvicorn's pipeline like any other), and a
request that ``respond`` sends to the thread pool (over the inline element bound)
holds the connection like an ASGI cycle until its answer is written. A whole small
body is CPU-bound: its inference runs inline, as the ASGI path already ran it (a
late answer is still returned and counts as a failure for the breaker).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterable
from types import CoroutineType
from typing import Any, Protocol

#: Largest request line + headers accepted (same order as common proxies' defaults).
MAX_HEAD_BYTES = 64 * 1024
#: Scope key set (True) once the request's whole body has been received and buffered:
#: reading it then cannot wait, so the reader needs no timer.
BODY_COMPLETE = "medpipe.body_complete"
_CONTINUE = b"HTTP/1.1 100 "
#: Largest body the fast path takes (larger ones are streamed through the ASGI cycle).
FAST_MAX_BODY_BYTES = 256 * 1024


class FastReply(Protocol):
    """What the fast path writes: a status, its header lines, a body, and whether the
    connection ends after it."""

    status: int
    body: bytes
    close: bool

    def head(self) -> bytes:
        """The header lines (lower-case names, each ending in CRLF), as on the wire."""


class FastEndpoint(Protocol):
    """What the fast path calls: the inference endpoint's plain entry point."""

    @property
    def max_body_bytes(self) -> int:
        """The body limit: a larger body is refused (413) by the ASGI path."""

    def match(self, url: bytes) -> tuple[str, str | None] | None:
        """Model name and version when ``url`` is an inference route, else ``None``."""

    def respond(self, name: str, version: str | None, headers: Iterable[tuple[bytes, bytes]],
                body: bytes) -> FastReply | Coroutine[Any, Any, FastReply]:
        """The reply to a whole request, or a coroutine giving it (thread-pool runs)."""


class CoalescingWriter:
    """The transport as one request/response cycle sees it: the response head is held
    until the first body write, then both go out in one ``write``.

    Only what uvicorn's cycle calls is offered: ``write``, ``close``, ``is_closing``.
    """

    __slots__ = ("_transport", "_head", "_first")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        """Hold the cycle's first write (its response head); join it to the next one."""
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head + data)
        elif self._first and not data.startswith(_CONTINUE):
            self._first = False
            self._head = data
        else:
            self._transport.write(data)

    def flush(self) -> None:
        """Write a held head now."""
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        """Write what is held, then close the connection."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing."""
        return self._transport.is_closing()


class _Deferred:
    """Stands in for uvicorn's cycle while a fast-path request waits for the thread pool:
    it has what the protocol reads of a cycle (pipelining, shutdown, disconnects)."""

    __slots__ = ("response_complete", "disconnected", "keep_alive", "message_event")

    def __init__(self, keep_alive: bool) -> None:
        self.response_complete = False
        self.disconnected = False
        self.keep_alive = keep_alive
        self.message_event = asyncio.Event()


class _DefaultHead:
    """uvicorn's default response headers (``date``, refreshed each second by the
    server) as bytes, rebuilt only when the server swaps its list."""

    __slots__ = ("source", "head")

    def __init__(self) -> None:
        self.source: list[tuple[bytes, bytes]] | None = None
        self.head = b""

    def of(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        if headers is not self.source:
            self.source = headers
            self.head = b"".join(b"%s: %s\r\n" % (k, v) for k, v in headers)
        return self.head


def http_protocol(http: str, fast: FastEndpoint | None = None) -> Any:
    """The uvicorn ``http`` setting for the public port: the bounded, coalescing
    httptools protocol when ``http`` is ``auto`` or ``httptools`` and httptools is
    installed, else ``http`` unchanged (h11 bounds heads itself).

    ``fast``: the inference endpoint whose whole-body requests are answered from the
    protocol (see the module docstring); ``None``: every request goes through ASGI.
    """
    if http not in ("auto", "httptools"):
        return http
    try:
        from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
    except ImportError:
        if http == "httptools":
            raise
        return http

    class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        """``HttpToolsProtocol`` that refuses a request head over ``MAX_HEAD_BYTES`` and
        writes each response in one ``write``."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_bytes = 0
            self._in_head = True

        def _start_cycle(self) -> None:
            super().on_headers_complete()
            cycle = getattr(self, "cycle", None)
            # the cycle's task has not run yet (it was only scheduled): swap its writer;
            # not for HEAD, whose response has no body write to carry the head
            if cycle is not None and cycle.transport is self.transport \
                    and self.scope.get("method") != "HEAD":
                cycle.transport = CoalescingWriter(self.transport)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._start_cycle()

        def on_message_complete(self) -> None:
            self._in_head, self._head_bytes = True, 0
            super().on_message_complete()
            self.scope[BODY_COMPLETE] = True  # type: ignore[literal-required]

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > MAX_HEAD_BYTES \
                    and not self.transport.is_closing():
                body = json.dumps({"error": f"request head exceeds {MAX_HEAD_BYTES} "
                                            "bytes"}).encode()
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-type: application/json\r\nconnection: close\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                self.transport.close()

    if fast is None:
        return BoundedHttpToolsProtocol
    fast_max = min(FAST_MAX_BODY_BYTES, fast.max_body_bytes)
    default_head = _DefaultHead()

    class FastHttpToolsProtocol(BoundedHttpToolsProtocol):
        """``BoundedHttpToolsProtocol`` that answers whole inference requests itself
        (the fast path: see the module docstring)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            #: the fast-path request being received: (name, version, keep-alive)
            self._pending: tuple[str, str | None, bool] | None = None
            self._chunks: list[bytes] = []
            self._answered = False

        def on_message_begin(self) -> None:
            # what uvicorn resets per message; its scope is built only for a request
            # that goes the ASGI way (``_start_cycle``): the fast path never reads it
            self.url = b""
            self.expect_100_continue = False
            self.headers = []

        def _start_cycle(self) -> None:
            url, headers, expect = self.url, self.headers, self.expect_100_continue
            HttpToolsProtocol.on_message_begin(self)  # uvicorn's own scope for the request
            self.url, self.headers, self.expect_100_continue = url, headers, expect
            self.scope["headers"] = headers
            super()._start_cycle()

        def _fast_candidate(self) -> tuple[str, str | None, bool] | None:
            """Name, version and keep-alive when this request may take the fast path."""
            cycle = self.cycle
            if self.expect_100_continue or self.limit_concurrency is not None \
                    or (cycle is not None and not cycle.response_complete) \
                    or self.flow.write_paused or self.transport.is_closing():
                return None
            parser = self.parser
            if parser.get_method() != b"POST" or parser.should_upgrade():
                return None
            assert fast is not None
            route = fast.match(self.url)
            if route is None:
                return None
            length = -1
            for name, value in self.headers:
                if name == b"content-length":
                    if length >= 0 or not value.isdigit():
                        return None
                    length = int(value)
                elif name == b"transfer-encoding":
                    return None
            if length < 0 or length > fast_max:
                return None
            keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
            return route[0], route[1], keep_alive

        def on_headers_complete(self) -> None:
            self._in_head = False
            pending = self._fast_candidate()
            if pending is None:
                self._start_cycle()
                return
            self._pending = pending
            self._chunks = []

        def on_body(self, body: bytes) -> None:
            if self._pending is not None:
                self._chunks.append(body)
            else:
                super().on_body(body)

        def on_message_complete(self) -> None:
            pending = self._pending
            if pending is None:
                super().on_message_complete()
                return
            self._in_head, self._head_bytes = True, 0
            self._pending = None
            chunks, self._chunks = self._chunks, []
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            assert fast is not None
            reply = fast.respond(pending[0], pending[1], self.headers, body)
            self.server_state.total_requests += 1
            if type(reply) is CoroutineType:  # an ABC isinstance check costs more
                self._defer(reply, pending[2])
            else:
                self._write(reply, pending[2])  # type: ignore[arg-type]  # not a coroutine
                self._answered = True

        def _write(self, reply: FastReply, keep_alive: bool) -> None:
            """Write ``reply`` in one write, its head as uvicorn writes one; close the
            connection after it when the request or the reply says so."""
            close = reply.close
            data = b"%s%s%s%s\r\n%s" % (
                STATUS_LINE[reply.status], default_head.of(self.server_state.default_headers),
                reply.head(), b"" if keep_alive or close else b"connection: close\r\n",
                reply.body)
            self.transport.write(data)
            if close or not keep_alive:
                self.transport.close()

        def _defer(self, reply: Coroutine[Any, Any, FastReply], keep_alive: bool) -> None:
            """Finish a request in the thread pool; later requests on the connection wait
            (uvicorn's pipeline queues them behind this stand-in cycle)."""
            stand_in = _Deferred(keep_alive)
            self.cycle = stand_in  # type: ignore[assignment]  # has what is read of a cycle

            async def finish() -> None:
                answer: FastReply | None = None
                try:
                    answer = await reply
                except Exception:  # respond's coroutine never raises: fail closed if it did
                    self.transport.close()
                if answer is not None and not stand_in.disconnected \
                        and not self.transport.is_closing():
                    self._write(answer, stand_in.keep_alive)
                stand_in.response_complete = True
                self.on_response_complete()

            task = self.loop.create_task(finish())
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

        def data_received(self, data: bytes) -> None:
            self._answered = False
            super().data_received(data)
            if self._pending is not None:
                # the body is still on its way: an ordinary ASGI cycle takes it from here
                self._pending = None
                chunks, self._chunks = self._chunks, []
                if self.parser is not None and not self.transport.is_closing():
                    self._start_cycle()
                    HttpToolsProtocol.on_body(self, b"".join(chunks))
            elif self._answered and (self.cycle is None or self.cycle.response_complete) \
                    and not self.transport.is_closing() and self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self.timeout_keep_alive_handler)

    return FastHttpToolsProtocol
