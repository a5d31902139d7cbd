"""Where release inputs are fetched from, by URI scheme.

``file://`` for local paths and ``https://`` over **mutual TLS**: TLS 1.3
only, a client certificate, and a pinned CA (the system trust store is not
used). Every opener streams chunks; nothing reads a whole input into memory
and nothing writes plaintext to disk. TLS refusals are reported as
``TLSError`` saying which side refused and why.
"""

from __future__ import annotations

import http.client
import os
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from medpipe.activities.schemes import SchemeRegistry
from medpipe.activities.tls import TLSSettings, client_context
from medpipe.contracts.errors import AccessDenied, InvalidInput, NotFound, TLSError, Transient

CHUNK = 4 * 1024 * 1024


SourceOpener = Callable[[str, TLSSettings], Iterator[bytes]]
#: scheme -> the module implementing it (both are here; a new one is one module more)
OPENERS: SchemeRegistry[SourceOpener] = SchemeRegistry(
    "unsupported source scheme",
    {"file": "medpipe.activities.sources", "https": "medpipe.activities.sources"},
    default_scheme="file")


def local_path(uri: str) -> Path:
    """The path of a ``file://`` URI (or of a plain absolute path)."""
    parts = urlsplit(uri)
    if parts.scheme == "":
        return Path(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise InvalidInput(f"'{uri}' is not a local file URI")
    return Path(unquote(parts.path))


@OPENERS.register("file")
def open_file(uri: str, tls: TLSSettings) -> Iterator[bytes]:
    """Stream a local file."""
    path = local_path(uri)
    if not path.exists():
        raise NotFound(f"source {uri} does not exist")
    if not path.is_file():
        raise InvalidInput(f"source {uri} is not a regular file")
    if not os.access(path, os.R_OK):
        raise AccessDenied(f"source {uri} is not readable by the worker")
    return _read_chunks(path)


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


# -- https with mutual TLS ----------------------------------------------------------
def explain_tls_failure(error: BaseException, host: str, has_client_cert: bool) -> str:
    """A sentence saying which side refused the TLS session and why."""
    text = str(error)
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code == 62 or "hostname mismatch" in text.lower() \
                or "doesn't match" in text or "not valid for" in text:
            return (f"the certificate of {host} is not valid for that name (wrong server name); "
                    "refusing to send data")
        return (f"the certificate of {host} is not signed by the pinned CA "
                f"({error.verify_message}); refusing to talk to it")
    upper = text.upper()
    if "CERTIFICATE_REQUIRED" in upper or ("HANDSHAKE_FAILURE" in upper and not has_client_cert):
        return (f"{host} requires a client certificate and none is configured "
                "(set source_tls.cert and source_tls.key)")
    if any(s in upper for s in ("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN",
                                "DECRYPT_ERROR", "ACCESS_DENIED")):
        return (f"{host} refused our client certificate (not issued by a CA it trusts, "
                "or revoked)")
    if "EOF OCCURRED" in upper or isinstance(error, ssl.SSLEOFError):
        if has_client_cert:
            return (f"{host} closed the TLS session after seeing our client certificate "
                    "(refused our client certificate: not issued by a CA it trusts, or revoked)")
        return (f"{host} closed the TLS session: it requires a client certificate and none "
                "is configured")
    if any(s in upper for s in ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_VERSION",
                                "NO_PROTOCOLS_AVAILABLE", "VERSION_TOO_LOW")):
        return f"{host} does not offer TLS 1.3; sources must speak TLS 1.3 only"
    return f"TLS with {host} failed: {text[:200]}"


@OPENERS.register("https")
def open_https(uri: str, tls: TLSSettings) -> Iterator[bytes]:
    """Stream an ``https://`` source over mutual TLS (TLS 1.3 only, pinned CA)."""
    parts = urlsplit(uri)
    if not parts.hostname:
        raise InvalidInput(f"'{uri}' has no host")
    ctx = client_context(tls, setting="source_tls", purpose=f"https sources (fetching {uri})")
    host = parts.hostname
    conn = http.client.HTTPSConnection(host, parts.port or 443, context=ctx, timeout=30)
    if tls.server_name:
        conn._server_hostname = tls.server_name  # type: ignore[attr-defined]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    has_cert = bool(tls.cert)
    try:
        conn.request("GET", path, headers={"User-Agent": "medpipe-ingest"})
        resp = conn.getresponse()
    except ssl.SSLError as e:
        conn.close()
        raise TLSError(explain_tls_failure(e, host, has_cert)) from e
    except ConnectionResetError as e:
        conn.close()
        raise TLSError(f"{host} closed the connection during the TLS handshake "
                       "(client certificate refused?)") from e
    except OSError as e:
        conn.close()
        raise Transient(f"source {parts.scheme}://{parts.netloc} unreachable: "
                        f"{e.strerror or e}") from e
    if resp.status == 404:
        conn.close()
        raise NotFound(f"source {uri} does not exist (HTTP 404)")
    if resp.status in (401, 403):
        conn.close()
        raise AccessDenied(f"source {uri} refused access (HTTP {resp.status})")
    if resp.status >= 500:
        conn.close()
        raise Transient(f"source {uri} failed (HTTP {resp.status})")
    if resp.status != 200:
        conn.close()
        raise InvalidInput(f"source {uri} answered HTTP {resp.status}")
    return _stream_response(conn, resp, host, has_cert)


def _stream_response(conn: http.client.HTTPSConnection, resp: http.client.HTTPResponse,
                     host: str, has_cert: bool) -> Iterator[bytes]:
    expected = resp.getheader("Content-Length")
    got = 0
    try:
        while True:
            try:
                chunk = resp.read(1 << 20)
            except ssl.SSLError as e:
                raise TLSError(explain_tls_failure(e, host, has_cert)) from e
            except (http.client.IncompleteRead, OSError) as e:
                raise Transient(f"source {host} broke off the transfer after {got} bytes") from e
            if not chunk:
                break
            got += len(chunk)
            yield chunk
        if expected is not None and got != int(expected):
            raise Transient(f"source {host} sent {got} of {expected} bytes")
    finally:
        conn.close()


def open_source(uri: str, tls: TLSSettings | None = None) -> Iterator[bytes]:
    """Stream the content of a source URI through the opener of its scheme."""
    return OPENERS.backend(uri)(uri, tls or TLSSettings())
