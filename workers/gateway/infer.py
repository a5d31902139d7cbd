"""The inference endpoint as a bare ASGI handler: the gateway's hot path.

``POST /v2/models/{name}[/versions/{version}]/infer`` is served here without a
web framework in between (no router, request or response objects: one dict of
the few headers it reads, the body from ``receive``, two ``send`` calls), because
per-request framework overhead would cost more than the inference of a small
model. The order of work keeps the public port safe: route first (no model, no
body read), then the body within the size and time limits, then decoding within
the JSON limits, then the model. Every failure is an OIP error body; no
exception reaches the server.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, MutableMapping
from time import perf_counter
from typing import Any

from starlette.concurrency import run_in_threadpool

from medpipe.contracts.deploy import Slot
from medpipe.contracts.errors import InvalidInput
from medpipe.workers.gateway.fallback import Backup
from medpipe.workers.gateway.limits import (
    Limits,
    RequestRefused,
    accepted_encoding,
    decode_content,
    encode_content,
    parse_json,
    read_body,
    split_header,
)
from medpipe.workers.gateway.loader import LoadedModel
from medpipe.workers.gateway.metrics import SlotStats
from medpipe.workers.gateway.oip import DecodedRequest, encode_response
from medpipe.workers.gateway.plans import Plans
from medpipe.workers.gateway.protocol import BODY_COMPLETE
from medpipe.workers.gateway.reply import BINARY, JSON, Reply
from medpipe.workers.gateway.sketches import book_of
from medpipe.workers.gateway.slots import Gateway

log = logging.getLogger(__name__)
_read_body = read_body  # where it lived before (limits now: the body is a limit's business)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: Paths this handler serves: model name, optional version.
INFER_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?/infer")
#: The same paths as raw request targets, for the fast path: path characters without
#: escapes (RFC 3986 pchar but ``%``), no query (anything else goes the ASGI way).
_PCHARS = rb"[A-Za-z0-9._~!$&'()*+,;=:@-]+"
_INFER_URL = re.compile(rb"/v2/models/(%s)(?:/versions/(%s))?/infer" % (_PCHARS, _PCHARS))
SLOT_HEADER = "x-medpipe-slot"
#: Request targets whose route is remembered (bounded: a client sending ever new targets
#: only makes later ones be matched again).
_ROUTES_KEPT = 256
_SLOT_NAME = SLOT_HEADER.encode()
#: The ``x-medpipe-slot`` response header of each slot, encoded once.
_SLOT_HEADERS: dict[str, tuple[bytes, bytes]] = {
    slot: (_SLOT_NAME, slot.encode()) for slot in Slot}
_ROUTES: dict[bytes, tuple[str, str | None] | None] = {}
_UNSEEN = object()
#: Requests with more input elements than this run in the thread pool; smaller ones
#: run inline, where a thread hop would cost more than the inference itself.
INLINE_MAX_ELEMENTS = 4096
#: Responses smaller than this are sent uncompressed even when the client accepts gzip.
COMPRESS_MIN_BYTES = 1024
_WANTED = frozenset({b"content-length", b"content-encoding", b"accept-encoding",
                     b"inference-header-content-length", SLOT_HEADER.encode()})
#: onnxruntime errors that mean the inputs were wrong, not the model
_CLIENT_ERRORS = frozenset({"InvalidArgument", "InvalidArgumentError"})


class Offload:
    """A step the serving generator wants run off the event loop: ``fn(*args)`` in the
    thread pool within ``timeout`` seconds (its result, or its exception, is sent back)."""

    __slots__ = ("fn", "args", "timeout")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> None:
        self.fn, self.args, self.timeout = fn, args, timeout


#: What the serving generator yields: ``None`` asks for the request body, an ``Offload``
#: for a run in the thread pool; it returns the ``Reply``.
Steps = Generator[Offload | None, Any, Reply]


def _internal_error(e: Exception) -> Reply:
    log.error("inference request failed unexpectedly: %s", type(e).__name__)
    return Reply.error(500, f"internal error ({type(e).__name__})")


def wanted_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The few request headers the endpoint reads, by lower-case name."""
    return {k.decode(): v.decode("latin-1") for k, v in raw if k in _WANTED}


class InferEndpoint:
    """Serves inference requests for ``gateway``'s slots under ``limits``.

    One implementation of the inference semantics (``_serve``, a generator that asks
    its driver for the body and for thread-pool runs), two entry points: ``__call__``
    (ASGI: the body read from ``receive`` within the size and time limits) and
    ``respond`` (a plain function over a body already received whole, called by the
    public port's protocol without an ASGI cycle; see ``protocol``).
    """

    def __init__(self, gateway: Gateway, limits: Limits, allow_pin: bool = False,
                 inline_max_elements: int = INLINE_MAX_ELEMENTS) -> None:
        """Args:
        gateway: the slots to serve.
        limits: body size, JSON shape and time bounds per request.
        allow_pin: honour the ``x-medpipe-slot`` request header.
        inline_max_elements: larger requests run in the thread pool.
        """
        self.gateway = gateway
        self.sketches = book_of(gateway)  # drift: live inputs over the reference bins
        self.limits = limits
        self._parse: Callable[[bytes], Any] = lambda data: parse_json(data, limits)
        #: binary-tensor request headers decoded once (``plans``)
        self.plans = Plans()
        self.allow_pin = allow_pin
        self.inline_max_elements = inline_max_elements

    @property
    def max_body_bytes(self) -> int:
        """The body limit (the fast path takes no larger body)."""
        return self.limits.max_body_bytes

    @staticmethod
    def match(url: bytes) -> tuple[str, str | None] | None:
        """Model name and version when the request target ``url`` is an inference route
        the fast path may take, else ``None`` (remembered for the first ``_ROUTES_KEPT``
        targets seen: callers send the same few again and again)."""
        route = _ROUTES.get(url, _UNSEEN)
        if route is not _UNSEEN:
            return route  # type: ignore[return-value]
        found = _INFER_URL.fullmatch(url)
        if found is None:
            route = None
        else:
            version = found[2]
            route = found[1].decode(), version.decode() if version is not None else None
        if len(_ROUTES) < _ROUTES_KEPT:
            _ROUTES[url] = route
        return route

    async def __call__(self, scope: Scope, receive: Receive, send: Send,
                       name: str, version: str | None) -> None:
        """Answer one request (never raises: an unexpected error is a 500 naming its type)."""
        headers = wanted_headers(scope["headers"])
        steps = self._serve(name, version, headers)
        complete = scope.get(BODY_COMPLETE, False)
        try:
            step = next(steps)
            reply = await self._finish(steps, step, lambda: read_body(
                receive, headers.get("content-length"), self.limits, complete))
        except StopIteration as stop:
            reply = stop.value
        except Exception as e:
            reply = _internal_error(e)
        await send({"type": "http.response.start", "status": reply.status,
                    "headers": reply.headers})
        await send({"type": "http.response.body", "body": reply.body})

    def respond(self, name: str, version: str | None, headers: Iterable[tuple[bytes, bytes]],
                body: bytes) -> Reply | Coroutine[Any, Any, Reply]:
        """Answer one inference request whose body has arrived whole, without an ASGI cycle.

        ``name``/``version`` come from the path (``INFER_PATH``), ``headers`` as the
        server parsed them (lower-case names). Returns the ``Reply`` at once, or, when the
        request is large enough to run in the thread pool, a coroutine that gives it
        (the caller keeps the connection's responses in order). Never raises.
        """
        steps = self._serve(name, version, wanted_headers(headers))
        try:
            step = steps.send(None)
            if step is None:  # the body: here already
                step = steps.send(body)
            if step is None:
                raise RuntimeError("the serving generator asked for the body twice")
            return self._finish(steps, step, None)  # an Offload: the thread pool's job
        except StopIteration as stop:
            reply: Reply = stop.value
            return reply
        except Exception as e:
            return _internal_error(e)

    async def _finish(self, steps: Steps, step: Offload | None,
                      read_body: Callable[[], Awaitable[bytes]] | None) -> Reply:
        """Drive ``steps`` from ``step`` on: read the body, run offloaded steps in the
        thread pool within their timeout; errors go back into the generator."""
        try:
            while True:
                value: Any = None
                error: BaseException | None = None
                try:
                    if step is None:
                        if read_body is None:
                            raise RuntimeError("the serving generator asked for the body twice")
                        value = await read_body()
                        read_body = None
                    else:
                        value = await asyncio.wait_for(
                            run_in_threadpool(step.fn, *step.args), step.timeout)
                except Exception as e:
                    error = e
                step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            reply: Reply = stop.value
            return reply
        except Exception as e:
            return _internal_error(e)

    def _serve(self, name: str, version: str | None, headers: dict[str, str]) -> Steps:
        """The inference semantics: route (no body read), body within the limits, decode
        within the JSON limits, run (breaker, fallback), metrics and sketches, reply."""
        started = perf_counter()
        gateway = self.gateway
        if name != gateway.model_name:
            return Reply.error(404, f"unknown model '{name[:100]}' (this gateway serves "
                                    f"'{gateway.model_name}')")
        model: LoadedModel | None
        if version is not None:
            found = gateway.by_version(version)
            if found is None:
                return Reply.error(404, f"model '{name}' has no version '{version[:100]}' "
                                        "loaded")
            slot, model = found
        else:
            try:
                slot, model = gateway.route(headers.get(SLOT_HEADER) if self.allow_pin
                                            else None)
            except InvalidInput as e:
                gateway.stats["none"].error("client", perf_counter() - started)
                return Reply.error(400, e.message)
        # The breaker and the fallback guard the stable model (the canary has its workflow).
        guarded = version is None and slot == Slot.STABLE
        path = gateway.fallback
        backup = path.backup(gateway.previous) if guarded else None
        reason: str | None = None
        if model is None:
            if backup is None:
                if guarded:
                    path.answered("none", perf_counter() - started)
                return Reply.error(503, gateway.unavailable(slot))
            reason = "out_of_service"
        elif backup is not None and not path.breaker.allow():
            reason = "breaker_open"
        signature = path.inputs(model, backup) if backup is not None else (
            model.inputs, model.output_names) if model is not None else None
        if signature is None:
            return Reply.error(503, gateway.unavailable(slot))
        stats = gateway.stats[slot]
        limits = self.limits
        try:
            body = yield None  # the driver reads it (or refuses it: RequestRefused)
            body = decode_content(body, headers.get("content-encoding"), limits.max_body_bytes)
            header, binary = split_header(body, headers.get("inference-header-content-length"))
            req = self.plans.decode(header, binary, *signature, self._parse)
        except (RequestRefused, InvalidInput) as e:
            if guarded and reason is None:
                path.breaker.record(None)
            stats.error("client", perf_counter() - started)
            status = e.status if isinstance(e, RequestRefused) else 400
            return Reply.error(status, e.message, close=status in (408, 413))
        timeout = min(limits.request_timeout_s, req.timeout_s or limits.request_timeout_s)
        if guarded and path.breaker.settings.primary_timeout_s is not None:
            timeout = min(timeout, path.breaker.settings.primary_timeout_s)
        if reason is None and model is not None:
            if req.elements > self.inline_max_elements:
                arrays, failure = yield from self._run(model, req, timeout, name, stats,
                                                       started)
            else:
                arrays, failure = self._run_inline(model, req, timeout, name, stats, started)
            if guarded:
                path.breaker.record(None if isinstance(failure, Reply)
                                    else failure is not None)
            if isinstance(failure, Reply):  # the request's fault: never the fallback's job
                return failure
            if failure is None or failure[1] is None:  # answered (maybe late: still counted)
                if guarded:
                    path.answered("primary", perf_counter() - started)
                names = req.output_names or model.output_names
                scores = model.scores(names, arrays)
                sketch = self.sketches.of(model)
                positive = None
                if sketch is not None:  # drift: inputs and scores over the reference bins
                    positive = scores.scores() if scores is not None else None
                    sketch.observe(req.feeds, positive)
                    sketch.remember(req.request_id, positive)
                stats.observe(perf_counter() - started, scores, positive)
                return self._reply(name, model.version, req, slot, names, arrays, headers)
            if backup is None:
                if guarded:
                    path.answered("none", perf_counter() - started)
                return failure[1]
            reason = failure[0]
        assert backup is not None and reason is not None
        return (yield from self._fallback(backup, reason, model, req, name, headers, started))

    def _run(self, model: LoadedModel, req: DecodedRequest, timeout: float, name: str,
             stats: SlotStats, started: float
             ) -> Generator[Offload | None, Any,
                            tuple[list[Any], tuple[str, Reply | None] | Reply | None]]:
        """Run ``model`` in the thread pool (``_run_inline`` says what comes back)."""
        try:
            arrays = yield Offload(model.run, (req.output_names, req.feeds), timeout)
        except Exception as e:
            return [], self._failed(e, model, timeout, name, stats, started)
        return arrays, ("primary_timeout", None) if perf_counter() - started > timeout \
            else None

    def _run_inline(self, model: LoadedModel, req: DecodedRequest, timeout: float, name: str,
                    stats: SlotStats, started: float
                    ) -> tuple[list[Any], tuple[str, Reply | None] | Reply | None]:
        """Run ``model`` here: ``(arrays, None)``, or a failure: ``(why, 5xx reply)`` when
        the model failed or missed its deadline, a 400 ``Reply`` when the inputs were bad.

        An inline run cannot be interrupted: when it answers after the deadline its
        answer is returned (``(arrays, ("primary_timeout", None))``) but the run counts
        as a failure for the breaker, so the next requests go to the fallback. (Not a
        generator, unlike ``_run``: a small request pays for no generator.)
        """
        try:
            arrays = model.run(req.output_names, req.feeds)
        except Exception as e:
            return [], self._failed(e, model, timeout, name, stats, started)
        return arrays, ("primary_timeout", None) if perf_counter() - started > timeout \
            else None

    @staticmethod
    def _failed(e: Exception, model: LoadedModel, timeout: float, name: str,
                stats: SlotStats, started: float) -> tuple[str, Reply] | Reply:
        """A failed run, counted: ``(why, 5xx reply)``, or a 400 ``Reply`` for bad inputs."""
        if isinstance(e, TimeoutError):
            stats.error("server", perf_counter() - started)
            return "primary_timeout", Reply.error(
                503, f"model {model.version} did not answer within {timeout:g} s")
        kind = type(e).__name__  # onnxruntime's exception types are private
        stats.error("client" if kind in _CLIENT_ERRORS else "server", perf_counter() - started)
        log.warning("model %s %s failed a request: %s", name, model.version, kind)
        if kind in _CLIENT_ERRORS:
            return Reply.error(400, f"model rejected the inputs ({kind})")
        return "primary_error", Reply.error(
            500, f"model {model.version} failed to run the request ({kind})")

    def _fallback(self, backup: Backup, reason: str, primary: LoadedModel | None,
                  req: DecodedRequest, name: str, headers: dict[str, str],
                  started: float) -> Steps:
        """Answer from the fallback, flagged; 503 naming both when it fails too."""
        path = self.gateway.fallback
        try:
            if backup.model is not None and req.elements > self.inline_max_elements:
                names, arrays = yield Offload(backup.run, (req.output_names, req.feeds),
                                              self.limits.request_timeout_s)
            else:
                names, arrays = backup.run(req.output_names, req.feeds)
        except Exception as e:
            path.answered("none", perf_counter() - started)
            log.error("fallback %s failed a request: %s", backup.label, type(e).__name__)
            return Reply.error(503, f"model '{name}' could not answer ({reason}) and its "
                                    f"fallback {backup.label} failed too ({type(e).__name__})")
        path.answered("fallback", perf_counter() - started, backup.kind.value, reason)
        extra = {"medpipe_fallback": True, "medpipe_fallback_kind": backup.kind.value,
                 "medpipe_fallback_reason": reason, "medpipe_fallback_source": backup.label,
                 "medpipe_primary_version": primary.version if primary else None}
        return self._reply(name, backup.version, req, Slot.FALLBACK, names, arrays, headers,
                           extra)

    @staticmethod
    def _reply(name: str, version: str, req: DecodedRequest, slot: str, names: list[str],
               arrays: list[Any], headers: dict[str, str],
               extra_parameters: dict[str, Any] | None = None) -> Reply:
        parameters = {"slot": slot, "model_version": version}
        if extra_parameters:
            parameters |= extra_parameters
        out, header_length = encode_response(name, version, req.request_id, parameters,
                                             names, arrays, req.binary_outputs)
        extra = [_SLOT_HEADERS.get(slot) or (_SLOT_NAME, slot.encode())]
        if header_length is not None:
            extra.append((b"inference-header-content-length", b"%d" % header_length))
        if len(out) >= COMPRESS_MIN_BYTES:
            coding = accepted_encoding(headers.get("accept-encoding"))
            if coding is not None:
                out = encode_content(out, coding)
                extra.append((b"content-encoding", coding.encode()))
        return Reply(200, out, BINARY if header_length is not None else JSON, extra)
