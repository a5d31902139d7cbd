"""The codec server: lets the Temporal Web UI and CLI decode payloads, for staff only.

Implements Temporal's remote codec protocol: ``POST /encode`` and
``POST /decode`` (also under ``/{namespace}/…`` for the CLI's endpoint
templating) take and return proto3 JSON ``{"payloads": [...]}``, where the
payload data and every metadata value are base64. The UI sends the namespace
in ``X-Namespace`` (and nothing naming the workflow: the audit log takes the
workflow id from the UI page in ``Referer`` when the browser sends it).

Who may decode (``codec_access``):

- ``Authorization: Bearer <static token>`` (constant-time compare), for the
  local stack and scripts;
- ``Authorization: Bearer <OIDC access token>`` as the Web UI forwards it
  with ``passAccessToken`` (validated against the issuer's JWKS, see
  ``workers/oidc.py``);
- a session cookie from ``/login`` (random per login, expiring, revoked by
  ``/logout``), accepted only with an ``Origin`` that is the UI's or ours;
- served over mutual TLS, the handshake already refuses clients without a
  certificate from the client CA.

With none of these configured the server refuses to start. A request with
*no* credentials to ``/decode`` is answered 200 with every sealed payload
replaced by a short note saying where to log in (the Web UI then shows that
note instead of a "Codec Server could not connect" banner; it treats any
fetch error as a broken codec server); wrong credentials are refused (403).

Bodies are limited before they are read (``Content-Length`` first, then the
stream is counted), CORS answers only the configured UI origins (``*`` is
refused), access logs are off, and every decode is written to the audit log
before its answer leaves (``workers/codec_audit.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from temporalio.api.common.v1 import Payload, Payloads

from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.tls import server_context
from medpipe.contracts.errors import MedpipeError
from medpipe.workers.codec import ENCODING, KEY_ID_METADATA, EncryptionCodec
from medpipe.workers.codec_access import SESSION_COOKIE, Access, Anonymous, Principal, Refused
from medpipe.workers.codec_audit import AuditLog, AuditRecord
from medpipe.workers.codec_http import TooLarge, check_ui_origins, read_limited
from medpipe.workers.codec_ledger import AuditExporter
from medpipe.workers.codec_sessions import SessionStore
from medpipe.workers.config import medpipe_home
from medpipe.workers.oidc import OIDCSettings

AUDIT_FILE = "codec-audit.jsonl"
#: Where the codec endpoint lives when the server also serves the Web UI.
CODEC_PREFIX = "/codec"
MAX_BODY = 16 * 1024 * 1024
MAX_LOGIN_BODY = 4096
DEFAULT_UI_ORIGIN = "http://127.0.0.1:8233"
LOGIN_REQUIRED_HEADER = "X-Medpipe-Codec"
_WORKFLOW_PAGE = re.compile(r"/namespaces/([^/?#]+)/workflows/([^/?#]+)")


@dataclass(frozen=True)
class ServerTLS:
    """Server certificate and key; with ``client_ca``, clients must present a certificate."""

    cert: Path
    key: Path
    client_ca: Path | None = None


def _error(status: int, message: str, *, bearer: bool = False) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="medpipe-codec"'} if bearer else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _json(message: Payloads, headers: dict[str, str] | None = None) -> Response:
    return Response(json_format.MessageToJson(message, indent=None),
                    media_type="application/json",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def login_note(payload: Payload, login_url: str, why: str) -> Payload:
    """What the UI shows instead of a sealed payload before login (clear, no data)."""
    if payload.metadata.get("encoding") != ENCODING:
        return payload
    key = payload.metadata.get(KEY_ID_METADATA, b"?").decode("utf-8", "replace")
    text = f"[encrypted with codec key {key}: {why} — log in at {login_url} to read it]"
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


def _workflow_of(request: Request) -> str | None:
    found = _WORKFLOW_PAGE.search(request.headers.get("referer", ""))
    return found.group(2) if found else None


def _key_ids(payloads: list[Payload]) -> list[str]:
    return sorted({p.metadata[KEY_ID_METADATA].decode("utf-8", "replace")
                   for p in payloads if KEY_ID_METADATA in p.metadata})


def _login_page(logged_in: bool, ui_origin: str, message: str = "") -> str:
    form = ("<form method=post action=logout><button>Log out</button></form>" if logged_in else
            "<form method=post action=login><label>Codec token <input name=token "
            "type=password autofocus></label> <button>Log in</button></form>")
    return ("<!doctype html><meta charset=utf-8><title>medpipe codec server</title>"
            f"<h1>medpipe codec server</h1><p>{message}</p>{form}"
            f"<p><a href=\"{ui_origin}\">Temporal Web UI</a></p>")


def build_app(codec: EncryptionCodec, *, access: Access, ui_origins: list[str],
              audit: AuditLog, namespaces: set[str] | None = None, prefix: str = "",
              after_login: str | None = None) -> Starlette:
    """The ASGI app (tests can drive it directly; ``CodecServer`` serves it).

    Args:
        codec: the payload codec with the codec keys.
        access: how staff authenticate (token, OIDC, sessions, mTLS).
        ui_origins: origins allowed by CORS and for cookie-authenticated requests.
        audit: where every decode is recorded.
        namespaces: if given, only these namespaces are served.
        prefix: the path the app is mounted under (for the login address it gives).
        after_login: where ``/login`` sends the browser (default: the first UI origin).

    Raises:
        InvalidInput: no way to authenticate, or a wildcard UI origin.
    """
    origins = check_ui_origins(ui_origins)
    access.check_configured()
    ui_home = after_login or origins[0]

    def own_origin(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def origin_allowed(request: Request) -> bool:
        origin = request.headers.get("origin")
        return origin is not None and origin in (*origins, own_origin(request))

    def record(request: Request, operation: str, outcome: str, who: Principal | None,
               payloads: list[Payload] | None = None, namespace: str | None = None) -> None:
        audit.write(AuditRecord(
            operation=operation, outcome=outcome,
            principal=who.who if who else "anonymous", auth=who.auth if who else "none",
            namespace=namespace, workflow_id=_workflow_of(request),
            payloads=len(payloads or []), key_ids=_key_ids(payloads or []),
            remote=request.client.host if request.client else None))

    async def handle(request: Request, encode: bool) -> Response:
        try:
            return await _handle(request, encode)
        except OSError:  # the audit log cannot be written: answer nothing (fail closed)
            return _error(503, "the request could not be recorded in the audit log: refused")

    async def _handle(request: Request, encode: bool) -> Response:
        operation = "encode" if encode else "decode"
        namespace = request.path_params.get("namespace") or request.headers.get("x-namespace")
        who = await access.authenticate(request, origin_allowed(request))
        if isinstance(who, Refused):
            record(request, operation, f"refused: {who.reason}", None, namespace=namespace)
            return _error(who.status, who.reason, bearer=who.status == 401)
        if namespaces is not None and namespace not in namespaces:
            record(request, operation, "refused: namespace", who if isinstance(
                who, Principal) else None, namespace=namespace)
            return _error(403, f"namespace '{namespace}' is not served here")
        try:
            body = await read_limited(request, MAX_BODY)
        except TooLarge:
            return _error(413, f"request larger than {MAX_BODY} bytes")
        message = Payloads()
        try:
            json_format.Parse(body, message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, UnicodeDecodeError):
            return _error(400, 'body must be proto3 JSON {"payloads": [...]}')
        payloads = list(message.payloads)
        if isinstance(who, Anonymous):
            if encode:
                record(request, operation, "refused: no credentials", None, payloads, namespace)
                return _error(401, "credentials required (Authorization: Bearer …, or log in "
                                   "at /login)", bearer=True)
            record(request, operation, f"login required: {who.reason}", None, payloads,
                   namespace)
            login = f"{own_origin(request)}{prefix}/login"
            notes = [login_note(p, login, who.reason) for p in payloads]
            return _json(Payloads(payloads=notes), {LOGIN_REQUIRED_HEADER: "login-required"})
        try:
            out = await (codec.encode(payloads) if encode else codec.decode(payloads))
        except MedpipeError as e:
            record(request, operation, f"failed: {type(e).__name__}", who, payloads, namespace)
            return _error(422, e.message)
        record(request, operation, "ok", who, payloads, namespace)
        return _json(Payloads(payloads=out))

    async def encode(request: Request) -> Response:
        return await handle(request, encode=True)

    async def decode(request: Request) -> Response:
        return await handle(request, encode=False)

    async def login_form(request: Request) -> Response:
        logged_in = access.session_of(request) is not None
        text = ("Logged in: the Web UI decodes payloads." if logged_in
                else "Log in to read decrypted payloads in the Temporal Web UI.")
        return HTMLResponse(_login_page(logged_in, ui_home, text),
                            headers={"Cache-Control": "no-store"})

    async def login(request: Request) -> Response:
        if access.token is None:
            return _error(404, "this codec server takes OIDC access tokens or client "
                               "certificates, not a login form")
        if request.headers.get("origin") is not None and not origin_allowed(request):
            return _error(403, "login from another site refused")
        try:
            body = await read_limited(request, MAX_LOGIN_BODY)
        except TooLarge:
            return _error(413, f"login form larger than {MAX_LOGIN_BODY} bytes")
        session_id = access.login(body)
        try:
            if session_id is None:
                record(request, "login", "refused", None)
                return _error(403, "credentials refused")
            record(request, "login", "ok", Principal("static-token", "session"))
        except OSError:
            if session_id is not None:
                access.sessions.revoke(session_id)
            return _error(503, "the login could not be recorded in the audit log: refused")
        # Back to the UI (a fixed, configured origin: no open redirect).
        response = RedirectResponse(ui_home, status_code=303,
                                    headers={"Cache-Control": "no-store"})
        response.set_cookie(SESSION_COOKIE, session_id, max_age=max(1, int(access.sessions.ttl_s)),
                            httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(request: Request) -> Response:
        if not origin_allowed(request):
            return _error(403, "logout must come from the UI or this server (Origin)")
        revoked = access.logout(request)
        with contextlib.suppress(OSError):  # the session is revoked either way
            record(request, "logout", "ok" if revoked else "no session", None)
        response = HTMLResponse(_login_page(False, ui_home, "Logged out."),
                                headers={"Cache-Control": "no-store"})
        response.delete_cookie(SESSION_COOKIE)
        return response

    routes = [Route("/login", login_form, methods=["GET"]),
              Route("/login", login, methods=["POST"]),
              Route("/logout", logout, methods=["POST"]),
              Route("/encode", encode, methods=["POST"]),
              Route("/decode", decode, methods=["POST"]),
              Route("/{namespace}/encode", encode, methods=["POST"]),
              Route("/{namespace}/decode", decode, methods=["POST"])]
    middleware = [Middleware(CORSMiddleware, allow_origins=origins,
                             allow_methods=["POST"], allow_credentials=True,
                             allow_headers=["Authorization", "Content-Type", "X-Namespace"],
                             expose_headers=[LOGIN_REQUIRED_HEADER], max_age=600)]
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
                 tls: ServerTLS | None = None, namespaces: set[str] | None = None,
                 oidc: OIDCSettings | None = None, audit_log: Path | None = None,
                 session_ttl_s: float | None = None, ui_upstream: str | None = None,
                 ledger: Ledger | None = None, export_interval_s: float = 30.0) -> None:
        """Args (beyond ``build_app``'s):
        token: the static bearer token (None: OIDC and/or mTLS only).
        oidc: the issuer and audience of accepted OIDC access tokens.
        audit_log: the JSON-lines audit file (default ``$MEDPIPE_HOME/codec-audit.jsonl``).
        session_ttl_s: how long a login lasts (default 8 h).
        ui_upstream: the Temporal UI to serve at ``/`` (see ``workers/ui_proxy.py``);
            the codec endpoint then lives under ``/codec``.
        ledger: the fleet's ledger, where audit records are appended in batches.
        """
        mtls = tls is not None and tls.client_ca is not None
        sessions = SessionStore(session_ttl_s) if session_ttl_s else SessionStore()
        access = Access(token=token, oidc=oidc, mtls=mtls, sessions=sessions)
        self.audit = AuditLog(audit_log or medpipe_home() / AUDIT_FILE)
        self.exporter = (AuditExporter(self.audit.path, ledger, interval_s=export_interval_s)
                         if ledger is not None else None)
        origins = ui_origins or [DEFAULT_UI_ORIGIN]
        app = build_app(codec, access=access, ui_origins=origins, audit=self.audit,
                        namespaces=namespaces, prefix=CODEC_PREFIX if ui_upstream else "",
                        after_login="/" if ui_upstream else None)
        if ui_upstream:
            from medpipe.workers.ui_proxy import UIProxy

            app = Starlette(routes=[Mount(CODEC_PREFIX, app),
                                    Route("/{path:path}", UIProxy(ui_upstream).handle,
                                          methods=["GET", "HEAD", "POST", "PUT", "PATCH",
                                                   "DELETE", "OPTIONS"])])
        self.access = access
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
            ctx = server_context(tls.cert, tls.key, tls.client_ca,
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
        if self.exporter is not None:
            self.exporter.start()
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        finally:
            if self.exporter is not None:
                self.exporter.stop()

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
            self._thread.join(timeout=40)
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> CodecServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def payloads_json(payloads: Payloads) -> str:
    """Proto3 JSON of ``payloads`` as the codec protocol sends it (for clients and tests)."""
    return json.dumps(json_format.MessageToDict(payloads))
