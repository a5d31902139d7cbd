"""HTTP hygiene of the codec server: bounded request bodies and exact UI origins."""

from __future__ import annotations

import re

from starlette.requests import Request

from medpipe.contracts.errors import InvalidInput

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


class TooLarge(Exception):
    """The request body exceeds the limit (answered 413)."""


def check_ui_origins(origins: list[str]) -> list[str]:
    """The UI origins, each ``scheme://host[:port]``; ``*`` and ``null`` are refused.

    Raises:
        InvalidInput: a wildcard, ``null``, a path or an empty list.
    """
    if not origins:
        raise InvalidInput("give the Temporal Web UI origin (--ui-origin http://host:port)")
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise InvalidInput(f"UI origin {origin!r} refused: give an exact origin such as "
                               "https://temporal-ui.hospital.example (no '*', no path) — the "
                               "codec server answers with credentials, so any origin allowed "
                               "could read decrypted payloads")
    return [o.rstrip("/") for o in origins]


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused (``TooLarge``) as soon as it would exceed ``limit``.

    ``Content-Length`` is checked before anything is read; a chunked body is
    counted as it streams, so a huge body never sits in memory.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)
