"""The public port: Open Inference Protocol v2 REST and Prometheus ``/metrics``.

Conventions chosen from the OIP spec and kept everywhere: an unknown model name
or version is 404; anything wrong in a request body is 400 with ``{"error": ...}``;
a model that is not loaded makes readiness 503. Each response says which slot
served it (``x-medpipe-slot`` header, ``parameters.slot``) and which version.
"""

from __future__ import annotations

import logging
from time import perf_counter

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from medpipe.contracts.errors import InvalidInput
from medpipe.workers.gateway.loader import LoadedModel
from medpipe.workers.gateway.oip import decode_request, encode_response, error_body
from medpipe.workers.gateway.oip import parse_json as parse_body
from medpipe.workers.gateway.slots import Gateway

log = logging.getLogger(__name__)

SLOT_HEADER = "x-medpipe-slot"
#: Requests with more input elements than this run in the thread pool; smaller ones
#: run inline, where a thread hop would cost more than the inference itself.
INLINE_MAX_ELEMENTS = 4096
_JSON = "application/json"


def _error(status: int, message: str) -> Response:
    return Response(error_body(message), status_code=status, media_type=_JSON)


def build_app(gateway: Gateway, inline_max_elements: int = INLINE_MAX_ELEMENTS,
              allow_pin: bool = True) -> Starlette:
    """The OIP + metrics ASGI app over ``gateway``'s slots.

    Args:
        gateway: the slots to serve.
        inline_max_elements: larger requests run in the thread pool.
        allow_pin: honour the ``x-medpipe-slot`` request header (tests, shadow checks);
            turn off where clients must not choose the canary themselves.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(gateway.collector())
    name_ = gateway.model_name

    def unknown(name: str) -> Response:
        return _error(404, f"unknown model '{name[:100]}' (this gateway serves '{name_}')")

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        return JSONResponse({"ready": gateway.ready}, status_code=200 if gateway.ready else 503)

    async def server_metadata(request: Request) -> Response:
        return JSONResponse({"name": "medpipe-gateway", "version": "1", "extensions": []})

    def _model_for(request: Request) -> tuple[LoadedModel | None, Response | None]:
        name = request.path_params["name"]
        if name != name_:
            return None, unknown(name)
        version = request.path_params.get("version")
        if version is not None:
            found = gateway.by_version(version)
            if found is None:
                return None, _error(404, f"model '{name_}' has no version '{version[:100]}' "
                                         "loaded")
            return found[1], None
        return gateway.stable, None

    async def model_metadata(request: Request) -> Response:
        model, err = _model_for(request)
        if err is not None:
            return err
        if model is None:
            return _error(503, f"model '{name_}' has no stable version loaded")
        versions = [m.version for m in (gateway.stable, gateway.canary) if m is not None]
        return JSONResponse({
            "name": name_, "versions": versions, "platform": "onnx",
            "inputs": [s.info().model_dump() for s in model.inputs.values()],
            "outputs": [o.model_dump() for o in model.outputs]})

    async def model_ready(request: Request) -> Response:
        model, err = _model_for(request)
        if err is not None:
            return err
        ok = model is not None
        return JSONResponse({"name": name_, "ready": ok}, status_code=200 if ok else 503)

    async def infer(request: Request) -> Response:
        started = perf_counter()
        name = request.path_params["name"]
        if name != name_:
            return unknown(name)
        model: LoadedModel | None
        try:
            payload = parse_body(await request.body())
            version = request.path_params.get("version")
            if version is not None:
                found = gateway.by_version(version)
                if found is None:
                    return _error(404, f"model '{name_}' has no version '{version[:100]}' "
                                       "loaded")
                slot, model = found[0], found[1]
            else:
                pin = request.headers.get(SLOT_HEADER) if allow_pin else None
                slot, model = gateway.route(pin)
        except InvalidInput as e:
            gateway.stats["none"].error("client", perf_counter() - started)
            return _error(400, e.message)
        if model is None:
            return _error(503, f"no model loaded in slot {slot}")
        stats = gateway.stats[slot]
        try:
            req = decode_request(payload, model.inputs, model.output_names)
        except InvalidInput as e:
            stats.error("client", perf_counter() - started)
            return _error(400, e.message)
        try:
            if req.elements > inline_max_elements:
                arrays = await run_in_threadpool(model.run, req.output_names, req.feeds)
            else:
                arrays = model.run(req.output_names, req.feeds)
        except Exception as e:  # onnxruntime's exception types are private
            kind = type(e).__name__
            client = kind in ("InvalidArgument", "InvalidArgumentError")
            stats.error("client" if client else "server", perf_counter() - started)
            log.warning("model %s %s failed a request: %s", name_, model.version, kind)
            if client:
                return _error(400, f"model rejected the inputs ({kind})")
            return _error(500, f"model {model.version} failed to run the request ({kind})")
        names = req.output_names or model.output_names
        body = encode_response(name_, model.version, req.request_id, slot, names, arrays)
        scores = model.scores(names, arrays)
        stats.observe(perf_counter() - started, scores)
        return Response(body, media_type=_JSON, headers={SLOT_HEADER: slot})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/v2", server_metadata),
        Route("/v2/health/live", live),
        Route("/v2/health/ready", ready),
        Route("/v2/models/{name}", model_metadata),
        Route("/v2/models/{name}/ready", model_ready),
        Route("/v2/models/{name}/infer", infer, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}", model_metadata),
        Route("/v2/models/{name}/versions/{version}/ready", model_ready),
        Route("/v2/models/{name}/versions/{version}/infer", infer, methods=["POST"]),
        Route("/metrics", metrics),
    ]
    return Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, f"no such endpoint: {request.url.path[:200]}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, f"method {request.method} not allowed on {request.url.path[:200]}")
