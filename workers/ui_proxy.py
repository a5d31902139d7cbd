"""The Temporal Web UI behind the codec server's origin: one URL, one login.

A browser sends the codec server's session cookie with the UI's codec
requests only if the UI's "include cross-origin credentials" setting is
ticked — unless the UI and the codec endpoint share an origin. Served
through this proxy, the UI is at the codec server's origin, its codec
endpoint (``…/codec``) is same-origin, the cookie goes along by default, and
the UI page address reaches the audit log in ``Referer`` (naming the
workflow). The proxy forwards everything except the codec server's own
session cookie, streaming both ways, and adds nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from medpipe.workers.codec_access import SESSION_COOKIE

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
               "trailers", "transfer-encoding", "upgrade", "host", "content-length"}


def _without_session_cookie(value: str) -> str:
    kept = [c for c in value.split(";") if c.strip().split("=", 1)[0] != SESSION_COOKIE]
    return ";".join(kept).strip()


class UIProxy:
    """Forwards requests to the Temporal UI at ``upstream`` (``http://host:port``)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Created lazily, inside the server's event loop.
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.upstream, timeout=60.0,
                                             follow_redirects=False)
        return self._client

    async def handle(self, request: Request) -> Response:
        """Forward ``request`` upstream and stream the answer back."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        if "cookie" in headers:
            headers["cookie"] = _without_session_cookie(headers["cookie"])
            if not headers["cookie"]:
                del headers["cookie"]
        body: AsyncIterator[bytes] | None = (
            request.stream() if request.method not in ("GET", "HEAD") else None)
        upstream = self._http().build_request(
            request.method, request.url.path + (f"?{request.url.query}" if request.url.query
                                                else ""), headers=headers, content=body)
        try:
            answer = await self._http().send(upstream, stream=True)
        except httpx.HTTPError:
            return Response(f"the Temporal Web UI at {self.upstream} does not answer",
                            status_code=502, media_type="text/plain")
        out_headers = [(k, v) for k, v in answer.headers.multi_items()
                       if k.lower() not in _HOP_BY_HOP]
        response = StreamingResponse(answer.aiter_raw(), status_code=answer.status_code,
                                     background=BackgroundTask(answer.aclose))
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1"))
                                for k, v in out_headers]
        return response
