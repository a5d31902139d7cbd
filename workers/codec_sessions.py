"""Browser sessions of the codec server: random ids, expiry, server-side revocation.

The Web UI cannot add an ``Authorization`` header to its codec requests, so
staff log in once and the browser sends a session cookie. Each login gets a
fresh random id (never derived from the token, so one leaked cookie is one
session, not every session); the server keeps what it issued and forgets it
on logout or expiry, so a revoked or stolen-then-revoked cookie stops working
at once. Sessions live in memory: a restart of the codec server logs
everyone out, which fails closed.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

DEFAULT_TTL_S = 8 * 3600
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Session:
    """Who logged in, and until when the session holds (monotonic seconds)."""

    subject: str
    expires: float

    def expired(self, now: float) -> bool:
        """Whether the session is past its expiry at ``now``."""
        return now >= self.expires


def session_ref(session_id: str) -> str:
    """A short, non-secret reference to a session id for audit records."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]


class SessionStore:
    """Issued sessions by id; thread-safe; bounded (the oldest go first when full)."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, subject: str) -> str:
        """Issue a new session for ``subject`` and return its (secret) id."""
        session_id = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            while len(self._sessions) >= MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[session_id] = Session(subject, now + self.ttl_s)
        return session_id

    def get(self, session_id: str) -> Session | None:
        """The live session of ``session_id``; None if unknown, revoked or expired."""
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expired(now):
                del self._sessions[session_id]
                return None
            return session

    def revoke(self, session_id: str) -> bool:
        """Forget ``session_id`` (logout); whether it was live."""
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _prune(self, now: float) -> None:
        for sid in [s for s, v in self._sessions.items() if v.expired(now)]:
            del self._sessions[sid]
