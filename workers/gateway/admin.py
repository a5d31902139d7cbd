"""The admin port (served only over mutual TLS): load, weight, promote, rollback, fallback,
status.

Bodies are the frozen contracts of ``contracts.deploy``; a body that does not
validate is 422, a refused signature or digest 403, a model outside the
configured roots 403, an unloadable model or bad reference 400, an operation the
current slots do not allow 409. A failed operation never changes the slots.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from medpipe.contracts.deploy import (
    FallbackSpec,
    GatewayRollbackRequest,
    LoadModelRequest,
    PromoteRequest,
    SetWeightRequest,
)
from medpipe.contracts.drift import FeedbackRequest
from medpipe.contracts.errors import (
    AccessDenied,
    DeployFailed,
    IntegrityError,
    InvalidInput,
    InvalidModel,
    MedpipeError,
    NotFound,
    SignatureInvalid,
)
from medpipe.workers.gateway.sketches import book_of
from medpipe.workers.gateway.slots import Gateway

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

_STATUS: list[tuple[type[MedpipeError], int]] = [
    (SignatureInvalid, 403), (IntegrityError, 403), (AccessDenied, 403), (InvalidModel, 400),
    (InvalidInput, 400), (NotFound, 400), (DeployFailed, 409),
]


def _json(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def _error(status: int, message: str, error_type: str) -> Response:
    return JSONResponse({"error": message, "type": error_type}, status_code=status)


async def _body(request: Request, model: type[M], empty_ok: bool = False) -> M:
    raw = await request.body()
    if empty_ok and not raw.strip():
        raw = b"{}"
    return model.model_validate_json(raw)


def _handler(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request],
                                                                       Awaitable[Response]]:
    """Map validation and domain errors to status codes with a message."""
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
                                 for err in e.errors(include_input=False, include_url=False))
            return _error(422, f"invalid request: {problems}", "InvalidInput")
        except MedpipeError as e:
            status = next((code for cls, code in _STATUS if isinstance(e, cls)), 500)
            log.warning("admin %s %s refused: %s", request.method, request.url.path, e.message)
            return _error(status, e.message, e.error_type)

    return wrapped


def build_admin_app(gateway: Gateway) -> Starlette:
    """The admin ASGI app over ``gateway`` (serve it behind ``tls.server_context``)."""

    from medpipe.activities.sbom import SBOM_MEDIA_TYPE, runtime_sbom

    async def status(request: Request) -> Response:
        return _json(gateway.status().model_copy(
            update={"sbom_sha256": runtime_sbom("gateway").sha256}))

    async def sbom(request: Request) -> Response:
        return Response(runtime_sbom("gateway").document, media_type=SBOM_MEDIA_TYPE)

    async def load(request: Request) -> Response:
        return _json(await gateway.load(await _body(request, LoadModelRequest)))

    async def unload(request: Request) -> Response:
        return _json(await gateway.unload(request.path_params["slot"]))

    async def weight(request: Request) -> Response:
        return _json(await gateway.set_weight((await _body(request, SetWeightRequest)).weight))

    async def promote(request: Request) -> Response:
        return _json(await gateway.promote(await _body(request, PromoteRequest, empty_ok=True)))

    async def rollback(request: Request) -> Response:
        req = await _body(request, GatewayRollbackRequest, empty_ok=True)
        return _json(await gateway.rollback(req))

    async def fallback(request: Request) -> Response:
        return _json(await gateway.set_fallback(await _body(request, FallbackSpec)))

    async def reload_trust(request: Request) -> Response:
        return _json(await gateway.reload_trust())

    async def metrics(request: Request) -> Response:
        return _json(gateway.metrics())

    async def reset(request: Request) -> Response:
        return _json(gateway.metrics(reset=True))

    book = book_of(gateway)

    async def sketches(request: Request) -> Response:
        return _json(book.window(gateway))

    async def sketches_reset(request: Request) -> Response:
        return _json(book.window(gateway, reset=True))

    async def feedback(request: Request) -> Response:
        req = await _body(request, FeedbackRequest)
        if not book.feedback(gateway, req.request_id, req.outcome):
            raise NotFound(f"no recent request '{req.request_id[:100]}' answered by a model "
                           "with a reference profile (or its outcome was already reported)")
        return Response(status_code=204)

    routes = [
        Route("/admin/status", _handler(status)),
        Route("/admin/sbom", _handler(sbom)),
        Route("/admin/models", _handler(load), methods=["POST"]),
        Route("/admin/models/{slot}", _handler(unload), methods=["DELETE"]),
        Route("/admin/weight", _handler(weight), methods=["PUT"]),
        Route("/admin/promote", _handler(promote), methods=["POST"]),
        Route("/admin/rollback", _handler(rollback), methods=["POST"]),
        Route("/admin/fallback", _handler(fallback), methods=["PUT"]),
        Route("/admin/trust/reload", _handler(reload_trust), methods=["POST"]),
        Route("/admin/metrics", _handler(metrics)),
        Route("/admin/metrics/reset", _handler(reset), methods=["POST"]),
        Route("/admin/sketches", _handler(sketches)),
        Route("/admin/sketches/reset", _handler(sketches_reset), methods=["POST"]),
        Route("/admin/feedback", _handler(feedback), methods=["POST"]),
    ]
    return Starlette(routes=routes)
