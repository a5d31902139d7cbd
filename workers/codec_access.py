"""Who may use the codec server: static token, OIDC access token, session, or mTLS.

``Access.authenticate`` turns a request into a ``Principal`` (authenticated),
``Anonymous`` (no credentials at all: the UI before login) or ``Refused``
(credentials given and wrong, or a session cookie sent from another origin).
Kept apart from the HTTP routes so the rules read in one place.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request

from medpipe.contracts.errors import AccessDenied, InvalidInput, ProviderUnavailable
from medpipe.workers.codec_sessions import SessionStore, session_ref
from medpipe.workers.oidc import OIDCSettings, OIDCVerifier, subject_of

SESSION_COOKIE = "medpipe_codec_session"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: who (for the audit log) and how."""

    who: str
    auth: str


@dataclass(frozen=True)
class Anonymous:
    """No credentials (or an expired/revoked session): the caller should log in."""

    reason: str


@dataclass(frozen=True)
class Refused:
    """Credentials given and refused."""

    status: int
    reason: str


@dataclass
class Access:
    """The configured ways in; at least one is required (``check_configured``)."""

    token: str | None = None
    oidc: OIDCSettings | None = None
    mtls: bool = False
    sessions: SessionStore = field(default_factory=SessionStore)

    def __post_init__(self) -> None:
        self._verifier = OIDCVerifier(self.oidc) if self.oidc else None

    def check_configured(self) -> None:
        """Raises InvalidInput when the server would decrypt for anyone."""
        if not (self.token or self.oidc or self.mtls):
            raise InvalidInput("the codec server needs a bearer token, an OIDC issuer or mutual "
                               "TLS: it decrypts patient-adjacent data and must not answer "
                               "anonymous requests")

    def session_of(self, request: Request) -> str | None:
        """The live session id the request's cookie carries, if any."""
        cookie = request.cookies.get(SESSION_COOKIE)
        return cookie if cookie and self.sessions.get(cookie) is not None else None

    async def authenticate(self, request: Request,
                           origin_allowed: bool) -> Principal | Anonymous | Refused:
        """Who sent ``request`` (see the module docstring for the outcomes)."""
        given = request.headers.get("authorization")
        if given:
            return await self._bearer(given)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            if not origin_allowed:
                return Refused(403, "a session cookie is accepted only from the Web UI's "
                                    "origin (Origin header missing or not allowed)")
            session = self.sessions.get(cookie)
            if session is None:
                return Anonymous("your session expired or was logged out")
            return Principal(f"{session.subject} (session {session_ref(cookie)})", "session")
        if self.mtls and not (self.token or self.oidc):
            return Principal("client certificate", "mtls")
        return Anonymous("not logged in")

    async def _bearer(self, given: str) -> Principal | Refused:
        scheme, _, value = given.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return Refused(401, "Authorization must be 'Bearer <token>'")
        if self.token and hmac.compare_digest(value.encode(), self.token.encode()):
            return Principal("static-token", "token")
        if self._verifier is not None and value.count(".") == 2:
            try:
                claims = await asyncio.to_thread(self._verifier.verify, value)
            except AccessDenied as e:
                return Refused(403, e.message)
            except ProviderUnavailable as e:
                return Refused(503, e.message)
            return Principal(subject_of(claims), "oidc")
        return Refused(403, "credentials refused")

    def login(self, form_body: bytes) -> str | None:
        """A new session id for a login form carrying the static token; None if wrong."""
        form = parse_qs(form_body.decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0].strip()
        if not (self.token and given and hmac.compare_digest(given.encode(),
                                                             self.token.encode())):
            return None
        return self.sessions.create("static-token login")

    def logout(self, request: Request) -> bool:
        """Revoke the request's session server-side; whether one was live."""
        cookie = request.cookies.get(SESSION_COOKIE)
        return bool(cookie) and self.sessions.revoke(cookie or "")
