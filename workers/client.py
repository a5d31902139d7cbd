"""Connecting to Temporal: address, TLS/mTLS, data converter, in one place.

Every process (CLI, workers, tests, benchmarks) connects through ``connect``
so they agree on the converter; when the encryption codec is configured it is
added here, and nothing else changes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from medpipe.activities.tls import TLSSettings
from medpipe.contracts.errors import AccessDenied, InvalidInput, ProviderUnavailable, TLSError
from medpipe.workers.config import StackConfig

#: Set once a Temporal client is created here: its Rust threads outlive it (see ``cli.run``).
_CLIENT_USED = threading.Event()


def _read(path: Path | None, what: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InvalidInput(f"cannot read TLS {what} {path}: {e.strerror}") from e


def tls_config(settings: TLSSettings) -> TLSConfig | bool:
    """Temporal ``TLSConfig`` from settings (False when TLS is off)."""
    if not settings.enabled:
        return False
    if bool(settings.cert) != bool(settings.key):
        raise InvalidInput("--tls-cert and --tls-key go together (mutual TLS needs both)")
    return TLSConfig(
        server_root_ca_cert=_read(settings.ca, "CA certificate"),
        client_cert=_read(settings.cert, "client certificate"),
        client_private_key=_read(settings.key, "client key"),
        domain=settings.server_name,
    )


def data_converter(config: StackConfig | None = None) -> DataConverter:
    """The converter shared by every process: pydantic, plus the encryption codec
    (payloads and failure messages sealed) when the deployment has a key provider."""
    if config is None or not config.codec_enabled:
        return pydantic_data_converter
    from medpipe.workers.codec import KEYRING_FILE, make_data_converter, open_codec
    from medpipe.workers.keysetup import CODEC_KEK_ID

    if not (Path(config.home) / KEYRING_FILE).exists():
        raise InvalidInput(
            f"the payload-encryption keyring {Path(config.home) / KEYRING_FILE} does not exist: "
            "`medpipe dev up` creates it for the local stack; elsewhere copy it from the "
            "deployment (its keys are wrapped by the customer's key provider)")
    return make_data_converter(open_codec(Path(config.home), config.fleet.keys.key_uri,
                                          CODEC_KEK_ID))


def _unauthenticated(config: StackConfig) -> AccessDenied:
    hint = ("pass --tls-cert and --tls-key (or MEDPIPE_TLS_CERT/KEY)" if not config.tls.cert
            else f"it does not accept the certificate {config.tls.cert}")
    return AccessDenied(f"Temporal at {config.temporal_address} requires a valid client "
                        f"certificate (mutual TLS): {hint}")


async def connect(config: StackConfig, converter: DataConverter | None = None) -> Client:
    """Connect to the configured Temporal frontend.

    Raises:
        ProviderUnavailable: the server does not answer; the message says how
            to start the local one.
    """
    try:
        converter = converter or data_converter(config)
    except InvalidInput:
        # Say what is wrong with the connection first (unreachable, certificate, TLS);
        # only a server that answers makes the missing keyring the problem.
        await _connect(config, pydantic_data_converter)
        raise
    return await _connect(config, converter)


def temporal_client_used() -> bool:
    """Whether this process has started a Temporal client (see ``workers.cli.run``)."""
    return _CLIENT_USED.is_set()


# A frontend that has just started accepts connections before its health check
# passes; connecting then fails with this. It is the server warming up (seconds),
# not an outage, so connecting waits for it, within a bound.
_WARMING_UP = "not healthy yet"
WARM_UP_WAIT_S = 30.0


async def _connect(config: StackConfig, converter: DataConverter) -> Client:
    _CLIENT_USED.set()
    deadline = time.monotonic() + WARM_UP_WAIT_S
    while True:
        try:
            return await _connect_once(config, converter)
        except RuntimeError as e:
            if _WARMING_UP not in str(e) or time.monotonic() >= deadline:
                raise _connect_error(config, e) from e
        except RPCError as e:
            raise _connect_error(config, e) from e
        await asyncio.sleep(0.5)


async def _connect_once(config: StackConfig, converter: DataConverter) -> Client:
    return await Client.connect(
        config.temporal_address, namespace=config.namespace,
        data_converter=converter, tls=tls_config(config.tls))


def _connect_error(config: StackConfig, e: Exception) -> Exception:
    """The medpipe error a failed connect becomes (what failed, and what to do)."""
    if isinstance(e, RPCError):
        if e.status == RPCStatusCode.UNAUTHENTICATED:
            return _unauthenticated(config)
        return ProviderUnavailable(
            f"Temporal at {config.temporal_address} refused the connection: {e.message}")
    text = str(e)
    if "Unauthenticated" in text:
        return _unauthenticated(config)
    if any(s in text.lower() for s in ("certificate", "handshake", "tls", "invalidcontent")):
        return TLSError(f"TLS with Temporal at {config.temporal_address} failed: {text[:300]}")
    why = "connection refused" if "refused" in text.lower() else text[:200]
    return ProviderUnavailable(
        f"cannot reach Temporal at {config.temporal_address} ({why}); start the local "
        "stack with `medpipe dev up` or set MEDPIPE_TEMPORAL_ADDRESS")
