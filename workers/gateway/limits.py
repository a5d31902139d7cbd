"""What the public port accepts before any parsing: body size, encodings, JSON shape.

The public port faces clinical systems and whatever else reaches it, so every
request is bounded before it costs memory: a declared ``Content-Length`` over
the limit is refused (413) without reading a byte, a chunked body is counted as
it arrives and refused the moment it passes the limit, a compressed body may not
inflate past the same limit, a JSON header's number of values is bounded on the
raw bytes before ``json.loads`` builds any object, and its nesting depth is
checked as it is parsed. Refusals are ``RequestRefused`` with the HTTP
status and a message saying which limit and its value.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from medpipe.contracts.errors import InvalidInput
from medpipe.workers.gateway import fastjson

#: Header of the binary tensor data extension: length of the JSON part of a body.
HEADER_LENGTH = "inference-header-content-length"


_TOO_DEEP = object()


class RequestRefused(Exception):
    """A request refused at the HTTP level (``status``: 400, 408, 411, 413, 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Bounds on one public request.

    Attributes:
        max_body_bytes: largest body accepted, compressed or not (413 above it).
        max_json_depth: deepest nesting of arrays/objects in the JSON header (400).
        max_json_values: most values (separators + 1) in the JSON header (400).
        request_timeout_s: longest a request may take to arrive and to run (408/503).
    """

    max_body_bytes: int = 16 * 1024 * 1024
    max_json_depth: int = 32
    max_json_values: int = 2_000_000
    request_timeout_s: float = 30.0


def decode_content(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate), never inflating past ``limit`` bytes.

    ``deflate`` is accepted zlib-wrapped (RFC 9110, what tritonclient sends) and raw.

    Raises:
        RequestRefused: 415 (unknown encoding), 413 (inflates past the limit),
            400 (corrupt or truncated stream).
    """
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding in ("gzip", "x-gzip"):
        attempts = [zlib.MAX_WBITS | 16]
    elif coding == "deflate":
        attempts = [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    else:
        raise RequestRefused(415, f"Content-Encoding {coding[:30]!r} is not supported "
                                  "(gzip, deflate, identity)")
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(out) > limit:
            raise RequestRefused(413, f"{coding} request body inflates past the limit of "
                                      f"{limit} bytes")
        if not inflater.eof or inflater.unused_data:
            raise RequestRefused(400, f"{coding} request body is truncated or has trailing "
                                      "data")
        return out
    raise RequestRefused(400, f"request body is not valid {coding} data")


def split_header(body: bytes, header_length: str | None) -> tuple[bytes, memoryview | None]:
    """JSON part and binary part of a body (binary tensor data extension).

    The binary part is a view (tensors are read from it without a copy).

    Raises:
        RequestRefused: 400 when the header length is not a number within the body.
    """
    if header_length is None:
        return body, None
    if not header_length.isdigit() or int(header_length) > len(body):
        raise RequestRefused(400, f"Inference-Header-Content-Length {header_length[:20]!r} "
                                  f"does not fit a body of {len(body)} bytes")
    n = int(header_length)
    return body[:n], memoryview(body)[n:]


def parse_json(data: bytes, limits: Limits) -> Any:
    """Parse a JSON header within the value-count and depth limits.

    The value count is bounded before parsing (every comma counts, also inside
    strings: a conservative bound that costs one pass in C and no memory); the depth
    is measured after parsing, and only when the body has more brackets than the
    limit (``json.loads`` itself stops at Python's recursion limit, safely).

    Raises:
        InvalidInput: not JSON, too many values, or nested deeper than allowed.
    """
    values = data.count(b",") + 1
    if values > limits.max_json_values:
        raise InvalidInput(f"request JSON holds up to {values} values, more than the limit of "
                           f"{limits.max_json_values}")
    try:
        doc = fastjson.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidInput(f"request body is not valid JSON ({type(e).__name__} at "
                           f"position {getattr(e, 'pos', '?')})") from None
    except RecursionError:
        doc = _TOO_DEEP  # raised below: an exception kept in a local would form a cycle
    if doc is _TOO_DEEP or (data.count(b"[") + data.count(b"{") > limits.max_json_depth
                            and _depth(doc, limits.max_json_depth) > limits.max_json_depth):
        raise InvalidInput(f"request JSON is nested deeper than the limit of "
                           f"{limits.max_json_depth} levels")
    return doc


def _depth(doc: Any, limit: int) -> int:
    """Nesting depth of parsed JSON (``[]`` is 1), stopping once it passes ``limit``."""
    level = 0
    frontier = [doc] if isinstance(doc, list | dict) else []
    while frontier and level <= limit:
        level += 1
        deeper: list[Any] = []
        for node in frontier:
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, list | dict):
                    deeper.append(child)
        frontier = deeper
    return level


def accepted_encoding(accept: str | None) -> str | None:
    """The response encoding to use for an ``Accept-Encoding`` header (gzip first)."""
    if not accept:
        return None
    offered = {}
    for part in accept.lower().split(","):
        token, _, q = part.strip().partition(";")
        weight = 1.0
        if q.strip().startswith("q="):
            try:
                weight = float(q.strip()[2:])
            except ValueError:
                weight = 0.0
        offered[token.strip()] = weight
    for coding in ("gzip", "deflate"):
        if offered.get(coding, 0.0) > 0:
            return coding
    return None


def encode_content(body: bytes, coding: str) -> bytes:
    """Compress a response body (``gzip`` or zlib-wrapped ``deflate``)."""
    wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(body) + compressor.flush()


async def read_body(receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
                    declared: str | None, limits: Limits, complete: bool = False) -> bytes:
    """The request body, refused as soon as it is known to be too large or too slow.

    ``complete``: the server has the whole body buffered (``BODY_COMPLETE``), so no
    timer is armed (``receive`` cannot wait); the limits apply all the same.

    Raises:
        RequestRefused: 413 (over ``max_body_bytes``: a declared length before reading
            anything, a chunked body as it arrives), 408 (not received within
            ``request_timeout_s``), 400 (bad length, client gone).
    """
    limit = limits.max_body_bytes
    if declared is not None:
        if not declared.isdigit():
            raise RequestRefused(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise RequestRefused(413, f"request body of {int(declared)} bytes exceeds the "
                                      f"limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    more = True
    try:
        async with asyncio.timeout(None if complete else limits.request_timeout_s):
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestRefused(400, "client disconnected while sending the body")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise RequestRefused(413, f"request body exceeds the limit of {limit} "
                                              "bytes")
                chunks.append(chunk)
                more = message.get("more_body", False)
    except TimeoutError:
        raise RequestRefused(408, f"request body not received within "
                                  f"{limits.request_timeout_s:g} s") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
