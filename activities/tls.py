"""TLS for every medpipe connection: one settings type, one client and one server context.

Sources (ingest over mutual TLS), the gateways' admin API, the codec server and
the Temporal frontend all take their certificates from a ``TLSSettings`` and
build their ``ssl.SSLContext`` here, so the rules (TLS 1.3 only, a pinned CA,
a client certificate and its key together) are written once and refused with
the same words everywhere. Certificates for the dev stack and the tests are
minted by ``medpipe.workers.pki``.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from medpipe.contracts.errors import TLSError


class TLSSettings(BaseModel):
    """Where a client finds its TLS material.

    Attributes:
        ca: PEM file of the CA pinned for the peer (the system trust store is never used).
        cert: the client certificate (mutual TLS), PEM.
        key: the client certificate's private key, PEM.
        server_name: expected name in the server certificate, when it differs from the
            host being dialled.
    """

    model_config = ConfigDict(frozen=True)

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether any TLS setting was given."""
        return any((self.cert, self.key, self.ca, self.server_name))


def client_context(tls: TLSSettings, *, setting: str = "tls",
                   purpose: str = "the server") -> ssl.SSLContext:
    """A TLS 1.3-only client context trusting only ``tls.ca``, presenting ``tls.cert``.

    Args:
        tls: the CA, and the client certificate with its key when mutual TLS is wanted.
        setting: the configuration key the settings come from, named in refusals
            (e.g. ``source_tls``).
        purpose: what the context is for, named in refusals (e.g. ``https sources``).

    Raises:
        TLSError: no CA pinned, a certificate without its key (or the reverse), or a
            file missing or unusable.
    """
    if tls.ca is None:
        raise TLSError(f"no CA is pinned for {purpose}; configure {setting}.ca")
    if bool(tls.cert) != bool(tls.key):
        raise TLSError(f"{setting} needs both a client certificate and its key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        ctx.load_verify_locations(cafile=str(tls.ca))
        if tls.cert and tls.key:
            ctx.load_cert_chain(str(tls.cert), str(tls.key))
    except (OSError, ssl.SSLError) as e:
        raise TLSError(f"cannot load TLS material for {purpose}: {e}") from e
    return ctx


def server_context(cert: Path, key: Path, client_ca: Path | None,
                   require_client_cert: bool = True) -> ssl.SSLContext:
    """A TLS 1.3-only server context, requiring a client certificate from ``client_ca``.

    Raises:
        TLSError: a file is missing or unreadable, or a client CA is required but absent.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        ctx.load_cert_chain(str(cert), str(key))
        if client_ca is not None:
            ctx.load_verify_locations(cafile=str(client_ca))
    except (OSError, ssl.SSLError) as e:
        raise TLSError(f"server TLS material unusable ({cert.name}, {key.name}): {e}") from e
    if require_client_cert:
        if client_ca is None:
            raise TLSError("a client CA is required to verify client certificates")
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
