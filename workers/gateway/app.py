"""The public port: Open Inference Protocol v2 REST and Prometheus ``/metrics``.

Inference (``infer``) is a bare ASGI handler in front; health, metadata and
metrics go through a small Starlette app behind it.

Conventions, from the OIP spec and kept everywhere: health and readiness answer
200 when true and 400 when false; an unknown model name or version is 404;
anything wrong in a request is 400 with ``{"error": ...}`` (413 for a body over
the limit, 408 for one that does not arrive in time); a model that is not in
service is 503. Every body is bounded (``limits``) before it is parsed. Each
response says which slot served it (``x-medpipe-slot`` header,
``parameters.slot``) and which version. No exception ever reaches a client as a
traceback: unexpected failures are a 500 naming only the exception type.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from medpipe.workers.gateway.infer import (
    INFER_PATH,
    INLINE_MAX_ELEMENTS,
    InferEndpoint,
    Receive,
    Scope,
    Send,
)
from medpipe.workers.gateway.limits import Limits
from medpipe.workers.gateway.loader import LoadedModel
from medpipe.workers.gateway.metrics import register_process_collectors
from medpipe.workers.gateway.oip import EXTENSIONS, error_body
from medpipe.workers.gateway.sketches import SketchCollector, book_of
from medpipe.workers.gateway.slots import Gateway

log = logging.getLogger(__name__)

_JSON = "application/json"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status,
                    media_type=_JSON)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(message), status_code=status, media_type=_JSON,
                    headers=headers)


class PublicApp:
    """The public port's ASGI app; ``endpoint`` is its inference endpoint, which the
    server's protocol also calls directly for whole small requests (its fast path)."""

    __slots__ = ("endpoint", "rest")

    def __init__(self, endpoint: InferEndpoint,
                 rest: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.endpoint, self.rest = endpoint, rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = INFER_PATH.fullmatch(scope["path"])
            if match is not None:
                await self.endpoint(scope, receive, send, match[1], match[2])
                return
        await self.rest(scope, receive, send)


def build_app(gateway: Gateway, inline_max_elements: int = INLINE_MAX_ELEMENTS,
              allow_pin: bool = False, limits: Limits | None = None,
              process_metrics: bool = True) -> PublicApp:
    """The OIP + metrics ASGI app over ``gateway``'s slots.

    Args:
        gateway: the slots to serve.
        inline_max_elements: larger requests run in the thread pool.
        allow_pin: honour the ``x-medpipe-slot`` request header (tests, shadow checks);
            off by default so that callers cannot choose the canary themselves.
        limits: body size, JSON shape and time bounds per request.
        process_metrics: also export the process and Python collectors on ``/metrics``.
    """
    limits = limits or Limits()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(gateway.collector())
    registry.register(gateway.fallback.collector(lambda: gateway.previous))
    registry.register(SketchCollector(lambda: book_of(gateway).serving(gateway)))
    if process_metrics:
        register_process_collectors(registry)
    name_ = gateway.model_name
    signatures = ("NOT REQUIRED: started with --allow-unsigned (development only)"
                  if gateway.loader.allow_unsigned else "required")
    from medpipe.activities.sbom import runtime_sbom

    server_meta = {"name": "medpipe-gateway", "version": "1", "extensions": list(EXTENSIONS),
                   "medpipe": {"signatures": signatures, "slot_pinning": allow_pin},
                   # the CycloneDX SBOM of the runtime this gateway serves on (at start)
                   "sbom_sha256": runtime_sbom("gateway").sha256}

    def unknown(name: str) -> Response:
        return _error(404, f"unknown model '{name[:100]}' (this gateway serves '{name_}')")

    async def live(request: Request) -> Response:
        return _json({"live": True})

    async def ready(request: Request) -> Response:
        return _json({"ready": gateway.ready}, 200 if gateway.ready else 400)

    async def server_metadata(request: Request) -> Response:
        return _json(server_meta)

    def _model_for(request: Request) -> tuple[str, LoadedModel | None, Response | None]:
        name = request.path_params["name"]
        if name != name_:
            return "", None, unknown(name)
        version = request.path_params.get("version")
        if version is not None:
            found = gateway.by_version(version)
            if found is None:
                return "", None, _error(404, f"model '{name_}' has no version "
                                             f"'{version[:100]}' loaded")
            return found[0], found[1], None
        return "stable", gateway.stable, None

    async def model_metadata(request: Request) -> Response:
        slot, model, err = _model_for(request)
        if err is not None:
            return err
        if model is None:
            return _error(503, gateway.unavailable(slot))
        versions = [m.version for m in (gateway.stable, gateway.canary) if m is not None]
        return _json({
            "name": name_, "versions": versions, "platform": "onnxruntime_onnx",
            "inputs": [s.info().model_dump() for s in model.inputs.values()],
            "outputs": [o.model_dump() for o in model.outputs]})

    async def model_ready(request: Request) -> Response:
        _, model, err = _model_for(request)
        if err is not None:
            return err
        ok = model is not None
        return _json({"name": name_, "ready": ok}, 200 if ok else 400)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/v2", server_metadata),
        Route("/v2/health/live", live),
        Route("/v2/health/ready", ready),
        Route("/v2/models/{name}", model_metadata),
        Route("/v2/models/{name}/ready", model_ready),
        Route("/v2/models/{name}/infer", _post_only, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}", model_metadata),
        Route("/v2/models/{name}/versions/{version}/ready", model_ready),
        Route("/v2/models/{name}/versions/{version}/infer", _post_only, methods=["POST"]),
        Route("/metrics", metrics),
    ]
    rest = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed,
                                                        Exception: _internal})
    return PublicApp(InferEndpoint(gateway, limits, allow_pin, inline_max_elements), rest)


async def _post_only(request: Request) -> Response:
    """Never reached for POST (the inference endpoint answers first); lists the route so
    that other methods get a 405."""
    return _error(405, "use POST")


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, f"no such endpoint: {request.url.path[:200]}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, f"method {request.method} not allowed on {request.url.path[:200]}")


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("public request failed unexpectedly: %s", type(exc).__name__)
    return _error(500, f"internal error ({type(exc).__name__})")
