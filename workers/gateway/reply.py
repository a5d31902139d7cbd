"""An inference answer as both paths of the public port write it.

The ASGI path hands uvicorn a header list; the fast path (``protocol``) writes the
head itself. One object gives both forms from the same fields, in the same order,
so the two paths answer byte for byte alike, and the fast path formats its head in
one step instead of scanning a header list per response.
"""

from __future__ import annotations

from medpipe.workers.gateway.oip import error_body

#: Content types of inference answers.
JSON = b"application/json"
BINARY = b"application/octet-stream"
#: The first header lines of a response per content type, up to its length's digits.
_CONTENT_LINES = {ct: b"content-type: %s\r\ncontent-length: " % ct for ct in (JSON, BINARY)}


class Reply:
    """A response: status, body, content type and extra headers.

    Two forms of the same head: ``headers`` (the list ASGI wants) and ``head()`` (the
    header lines as written on the wire, for the public port's fast path); both give
    content-type, content-length, the extras in order, then ``connection: close`` when
    ``close`` is set, so both paths answer byte for byte alike.
    """

    __slots__ = ("status", "body", "content_type", "extra", "close")

    def __init__(self, status: int, body: bytes, content_type: bytes = JSON,
                 headers: list[tuple[bytes, bytes]] | None = None, close: bool = False) -> None:
        self.status, self.body, self.content_type = status, body, content_type
        self.extra = headers
        #: end the connection after this response (e.g. after an unread body)
        self.close = close

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The response headers as ASGI wants them (lower-case names, in wire order)."""
        out = [(b"content-type", self.content_type),
               (b"content-length", b"%d" % len(self.body))]
        if self.extra:
            out += self.extra
        if self.close:
            out.append((b"connection", b"close"))
        return out

    def head(self) -> bytes:
        """The header lines (each ending in CRLF) as written on the wire."""
        line = _CONTENT_LINES.get(self.content_type)
        if line is None:
            line = b"content-type: %s\r\ncontent-length: " % self.content_type
        head = line + b"%d\r\n" % len(self.body)
        if self.extra:
            head += b"".join([b"%s: %s\r\n" % pair for pair in self.extra])
        if self.close:
            head += b"connection: close\r\n"
        return head

    @classmethod
    def error(cls, status: int, message: str, close: bool = False) -> Reply:
        """An OIP error (``close``: end the connection, e.g. after an unread body)."""
        return cls(status, error_body(message), close=close)
