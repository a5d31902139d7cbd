"""HTTP/1.1 protocol for the public port: uvicorn's httptools protocol with a bound on
the request head.

uvicorn bounds request heads only with h11 (``h11_max_incomplete_event_size``);
with httptools a client can stream a header line forever and the parser keeps
every byte (measured: 98 MB -> 470 MB RSS from one connection). This protocol
counts the bytes of each request head and answers 431 and closes the connection
once they pass ``MAX_HEAD_BYTES``, before the parser has buffered much more.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

#: Largest request line + headers accepted (same order as common proxies' defaults).
MAX_HEAD_BYTES = 64 * 1024


def http_protocol(http: str) -> Any:
    """The uvicorn ``http`` setting for the public port: the bounded httptools protocol
    when ``http`` is ``auto`` or ``httptools`` and httptools is installed, else ``http``
    unchanged (h11 bounds heads itself)."""
    if http not in ("auto", "httptools"):
        return http
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        if http == "httptools":
            raise
        return http

    class BoundedHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc]
        """``HttpToolsProtocol`` that refuses a request head over ``MAX_HEAD_BYTES``."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_bytes = 0
            self._in_head = True

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
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
