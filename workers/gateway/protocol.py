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
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

#: Largest request line + headers accepted (same order as common proxies' defaults).
MAX_HEAD_BYTES = 64 * 1024
#: Scope key set (True) once the request's whole body has been received and buffered:
#: reading it then cannot wait, so the reader needs no timer.
BODY_COMPLETE = "medpipe.body_complete"
_CONTINUE = b"HTTP/1.1 100 "


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


def http_protocol(http: str) -> Any:
    """The uvicorn ``http`` setting for the public port: the bounded, coalescing
    httptools protocol when ``http`` is ``auto`` or ``httptools`` and httptools is
    installed, else ``http`` unchanged (h11 bounds heads itself)."""
    if http not in ("auto", "httptools"):
        return http
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
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

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()
            cycle = getattr(self, "cycle", None)
            # the cycle's task has not run yet (it was only scheduled): swap its writer;
            # not for HEAD, whose response has no body write to carry the head
            if cycle is not None and cycle.transport is self.transport \
                    and self.scope.get("method") != "HEAD":
                cycle.transport = CoalescingWriter(self.transport)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self.scope[BODY_COMPLETE] = True  # type: ignore[literal-required]
            self._in_head, self._head_bytes = True, 0

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

    return BoundedHttpToolsProtocol
