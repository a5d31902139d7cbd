"""Does a store's endpoint answer at all? A quick probe before a request.

Why: a store that is stopped or hung (``SIGSTOP``, a frozen VM, a wedged proxy)
still accepts TCP connections — the kernel completes the handshake into the
listen backlog — so the SDK's connect timeout never fires and each request
waits out its *read* timeout, retries included (measured: 42.6 s before the
``store-stopped`` chaos exercise saw a failover). Read timeouts cannot simply
be cut: they must let a slow-but-alive store finish server-side work on large
artifacts (a multipart commit, a compose, a part copy).

So before an SDK request the adapters ask ``check``: a fresh connection to the
endpoint (``PROBE_CONNECT_S``) and a ``HEAD /`` that must get *any* HTTP answer
(a 403 or 404 is an answer) within ``PROBE_ANSWER_S``. No answer is
``ProviderUnavailable`` (retryable for Temporal, which carries the step to an
alternate worker); an answer is remembered for ``ALIVE_FOR_S`` so a busy store
is probed a few times a minute, not per request. The probe sends no
credentials and no object names; only ``scheme://host:port`` is used or shown.

A probe that cannot be made honestly answers "alive" and leaves the SDK's own
timeouts in charge: an endpoint reached through an HTTP(S) proxy from the
environment (a direct probe would not take the path the SDK takes), or a URL
without a host.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from medpipe.contracts.errors import ProviderUnavailable

#: Seconds to open a TCP (and TLS) connection to the endpoint.
PROBE_CONNECT_S = 2.5
#: Seconds for the endpoint to answer ``HEAD /`` once connected.
PROBE_ANSWER_S = 3.0
#: Seconds an answer vouches for the endpoint before it is probed again.
ALIVE_FOR_S = 5.0

_answered: dict[str, float] = {}
_lock = threading.Lock()


def endpoint_of(url: str) -> str:
    """``scheme://host[:port]`` of a request URL (no path, query or credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _proxied(scheme: str, host: str) -> bool:
    """Whether the environment sends requests to ``host`` through a proxy."""
    proxies = urllib.request.getproxies()
    return scheme in proxies and not urllib.request.proxy_bypass(host)


def answers(endpoint: str) -> bool:
    """Whether ``endpoint`` (``scheme://host[:port]``) gives any HTTP answer in time."""
    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host or parts.scheme not in ("http", "https") or _proxied(parts.scheme, host):
        return True
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, parts.port, timeout=PROBE_CONNECT_S,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=PROBE_CONNECT_S)
    try:
        conn.connect()
        assert conn.sock is not None
        conn.sock.settimeout(PROBE_ANSWER_S)
        conn.request("HEAD", "/", headers={"User-Agent": "medpipe-liveness"})
        conn.getresponse().close()
        return True
    except ssl.SSLCertVerificationError:
        return True  # it answered the handshake: the SDK will report the certificate
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def check(url: str, what: str) -> None:
    """Raise ``ProviderUnavailable`` unless the endpoint of ``url`` answers (see module).

    Args:
        url: the request's URL (only its scheme, host and port are used).
        what: the store, as the error names it ("S3 endpoint for s3://bucket…").

    Raises:
        ProviderUnavailable: no HTTP answer within the probe's timeouts.
    """
    endpoint = endpoint_of(url)
    now = time.monotonic()
    with _lock:
        if now - _answered.get(endpoint, float("-inf")) < ALIVE_FOR_S:
            return
    if not answers(endpoint):
        with _lock:
            _answered.pop(endpoint, None)
        raise ProviderUnavailable(
            f"{what} does not answer: {endpoint} gave no HTTP answer within "
            f"{PROBE_CONNECT_S + PROBE_ANSWER_S:.1f} s (stopped, hung or unreachable)")
    with _lock:
        _answered[endpoint] = time.monotonic()


class ProbedAdapter:
    """A ``requests`` transport adapter that calls ``check`` before each request, then
    hands the request to the adapter it wraps (``Session.mount`` takes any object with
    ``send`` and ``close``)."""

    def __init__(self, inner: Any, what: str) -> None:
        self.inner, self.what = inner, what

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Probe the endpoint, then send as the wrapped adapter would."""
        check(request.url, self.what)
        return self.inner.send(request, *args, **kwargs)

    def close(self) -> None:
        """Close the wrapped adapter."""
        self.inner.close()


def mount(session: Any, what: str) -> None:
    """Probe before every request of a ``requests`` session (http and https); ``what``
    names the store in errors."""
    for prefix in ("https://", "http://"):
        session.mount(prefix, ProbedAdapter(session.get_adapter(prefix), what))


def forget() -> None:
    """Drop every remembered answer (tests; a process that knows the fleet changed)."""
    with _lock:
        _answered.clear()
