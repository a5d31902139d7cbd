"""The codec server: lets the Temporal Web UI and CLI decode payloads, for staff only.

Implements Temporal's remote codec protocol: ``POST /encode`` and
``POST /decode`` (also under ``/{namespace}/…`` for the CLI's endpoint
templating) take and return proto3 JSON ``{"payloads": [...]}``, where the
payload data and every metadata value are base64. The UI sends the namespace
in ``X-Namespace``.

Who may decode:

- with a bearer token configured, every request needs
  ``Authorization: Bearer <token>`` (compared in constant time): no
  credentials answer 401, wrong ones 403;
- served over mutual TLS (a client CA given), the TLS handshake already
  refuses clients without a certificate from that CA; a token, if also
  configured, is then a second factor;
- with neither, the server refuses to start: it would decrypt for anyone.

CORS is answered only for the configured UI origin, with credentials allowed
(the UI's "include cross-origin credentials" setting) and ``Authorization``
and ``X-Namespace`` among the allowed headers; other origins get no CORS
headers, so browsers there cannot read the answers. Access logs are off.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import uvicorn
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from medpipe.activities.tlsutil import server_ssl_context
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.workers.codec import EncryptionCodec

MAX_BODY = 16 * 1024 * 1024
DEFAULT_UI_ORIGIN = "http://127.0.0.1:8233"


@dataclass(frozen=True)
class ServerTLS:
    """Server certificate and key; with ``client_ca``, clients must present a certificate."""

    cert: Path
    key: Path
    client_ca: Path | None = None


SESSION_COOKIE = "medpipe_codec_session"
LOGIN_FORM = ("<!doctype html><title>medpipe codec server</title><form method=post>"
              "<label>Codec token <input name=token type=password autofocus></label>"
              "<button>Log in</button></form>")


def _error(status: int, message: str, *, bearer: bool = False) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="medpipe-codec"'} if bearer else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def build_app(codec: EncryptionCodec, *, token: str | None, ui_origins: list[str],
              mtls: bool = False, namespaces: set[str] | None = None) -> Starlette:
    """The ASGI app (tests can drive it directly; ``CodecServer`` serves it).

    Args:
        codec: the payload codec with the codec keys.
        token: bearer token staff must send (None: rely on mTLS alone).
        ui_origins: origins allowed by CORS (the Temporal UI's).
        mtls: whether the server runs behind mutual TLS.
        namespaces: if given, only these ``X-Namespace`` values are served.

    Raises:
        InvalidInput: neither a token nor mTLS: the server would decrypt for anyone.
    """
    if not token and not mtls:
        raise InvalidInput("the codec server needs a bearer token or mutual TLS: it decrypts "
                           "patient-adjacent data and must not answer anonymous requests")
    expected = f"Bearer {token}".encode() if token else None
    # A browser session for the Web UI: the UI cannot add an Authorization header, but
    # with "include cross-origin credentials" it sends this same-site, HttpOnly cookie.
    session = hmac.new((token or "").encode(), b"medpipe codec session", "sha256").hexdigest()

    def authorize(request: Request) -> Response | None:
        if expected is not None:
            given = request.headers.get("authorization")
            cookie = request.cookies.get(SESSION_COOKIE)
            if not given and cookie:
                if not hmac.compare_digest(cookie.encode(), session.encode()):
                    return _error(403, "session refused: log in again at /login")
            elif not given:
                return _error(401, "credentials required (Authorization: Bearer …, or log in "
                                   "at /login for the Web UI)", bearer=True)
            elif not hmac.compare_digest(given.encode(), expected):
                return _error(403, "credentials refused")
        if namespaces is not None:
            namespace = request.path_params.get("namespace") or request.headers.get("x-namespace")
            if namespace not in namespaces:
                return _error(403, f"namespace '{namespace}' is not served here")
        return None

    async def handle(request: Request, encode: bool) -> Response:
        refused = authorize(request)
        if refused is not None:
            return refused
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, f"request larger than {MAX_BODY} bytes")
        message = Payloads()
        try:
            json_format.Parse(body, message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, UnicodeDecodeError):
            return _error(400, 'body must be proto3 JSON {"payloads": [...]}')
        try:
            out = await (codec.encode(message.payloads) if encode
                         else codec.decode(message.payloads))
        except MedpipeError as e:
            return _error(422, e.message)
        text = json_format.MessageToJson(Payloads(payloads=out), indent=None)
        return Response(text, media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    async def encode(request: Request) -> Response:
        return await handle(request, encode=True)

    async def decode(request: Request) -> Response:
        return await handle(request, encode=False)

    async def login_form(request: Request) -> Response:
        return HTMLResponse(LOGIN_FORM, headers={"Cache-Control": "no-store"})

    async def login(request: Request) -> Response:
        if expected is None:
            return _error(404, "this codec server authenticates by client certificate only")
        form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0].strip()
        if not given:
            return _error(401, "token required")
        if not hmac.compare_digest(f"Bearer {given}".encode(), expected):
            return _error(403, "credentials refused")
        response = HTMLResponse("<p>Logged in: the Web UI can now decode payloads (enable "
                                "<em>Include cross-origin credentials</em> in its codec "
                                "settings).</p>", headers={"Cache-Control": "no-store"})
        response.set_cookie(SESSION_COOKIE, session, max_age=8 * 3600, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    routes = [Route("/login", login_form, methods=["GET"]),
              Route("/login", login, methods=["POST"]),
              Route("/encode", encode, methods=["POST"]),
              Route("/decode", decode, methods=["POST"]),
              Route("/{namespace}/encode", encode, methods=["POST"]),
              Route("/{namespace}/decode", decode, methods=["POST"])]
    middleware = [Middleware(CORSMiddleware, allow_origins=ui_origins,
                             allow_methods=["POST"], allow_credentials=True,
                             allow_headers=["Authorization", "Content-Type", "X-Namespace"],
                             max_age=600)]
    return Starlette(routes=routes, middleware=middleware)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (threads, tests)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class CodecServer:
    """The codec server on a host and port (0: any free port), in this thread or another."""

    def __init__(self, codec: EncryptionCodec, *, token: str | None,
                 ui_origins: list[str] | None = None, host: str = "127.0.0.1", port: int = 0,
                 tls: ServerTLS | None = None, namespaces: set[str] | None = None) -> None:
        mtls = tls is not None and tls.client_ca is not None
        app = build_app(codec, token=token, ui_origins=ui_origins or [DEFAULT_UI_ORIGIN],
                        mtls=mtls, namespaces=namespaces)
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(128)
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        self.tls = tls
        options: dict[str, object] = {"log_level": "warning", "access_log": False,
                                      "lifespan": "off", "server_header": False}
        if tls is not None:
            ctx = server_ssl_context(tls.cert, tls.key, tls.client_ca,
                                     require_client_cert=tls.client_ca is not None)
            options["ssl_context_factory"] = lambda _config, _default: ctx
        self._server = _QuietServer(uvicorn.Config(app, **options))  # type: ignore[arg-type]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL (``https`` when served over TLS)."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def serve(self) -> None:
        """Serve in this thread until ``stop()`` (or Ctrl-C when run from the CLI)."""
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start_in_thread(self, timeout: float = 10.0) -> CodecServer:
        """Serve from a daemon thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.serve, name="codec-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("codec server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> CodecServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def payloads_json(payloads: Payloads) -> str:
    """Proto3 JSON of ``payloads`` as the codec protocol sends it (for clients and tests)."""
    return json.dumps(json_format.MessageToDict(payloads))
