"""Run the gateway: the public OIP port and the mTLS admin port in one process.

Both uvicorn servers share one event loop and one ``Gateway``, so an admin change
(weight, promotion, rollback) applies to the very next request without any
cross-process coordination. Sockets are bound before serving so that port 0
yields a known free port (tests), and signals are handled here once for both
servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from medpipe.activities.tls import server_context
from medpipe.contracts.deploy import LoadModelRequest
from medpipe.workers.gateway.admin import build_admin_app
from medpipe.workers.gateway.app import INLINE_MAX_ELEMENTS, build_app
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.verify import ModelVerifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdminTLS:
    """Certificate, key and the CA whose client certificates may use the admin API."""

    cert: Path
    key: Path
    client_ca: Path


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``GatewayServer``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when it is set
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if loop in ("auto", "uvloop"):
        try:
            import uvloop

            return uvloop.new_event_loop
        except ImportError:
            if loop == "uvloop":
                raise
    return None


class GatewayServer:
    """The two listening servers over one ``Gateway``."""

    def __init__(self, gateway: Gateway, host: str, port: int, admin_port: int, tls: AdminTLS,
                 http: str = "auto", log_level: str = "warning",
                 inline_max_elements: int = INLINE_MAX_ELEMENTS, allow_pin: bool = True) -> None:
        """Args:
        gateway: the slots to serve.
        host: interface for both ports.
        port: public OIP + metrics port (0: any free port).
        admin_port: mTLS admin port (0: any free port).
        tls: admin TLS material; the admin port is never served without it.
        http: uvicorn HTTP implementation (``auto`` picks httptools when installed).
        log_level: uvicorn log level (access logs are always off: no request data in logs).
        inline_max_elements: larger requests run in the thread pool.
        allow_pin: honour the ``x-medpipe-slot`` request header that pins a slot.
        """
        self.gateway = gateway
        self._sockets = (_bind(host, port), _bind(host, admin_port))
        self.host = host
        self.port = self._sockets[0].getsockname()[1]
        self.admin_port = self._sockets[1].getsockname()[1]
        ssl_ctx = server_context(tls.cert, tls.key, tls.client_ca, require_client_cert=True)
        common: dict[str, Any] = {"http": http, "log_level": log_level, "access_log": False,
                                  "lifespan": "off", "server_header": False,
                                  # idle keep-alive clients must not hold a shutdown open
                                  "timeout_graceful_shutdown": 2}
        public_app = build_app(gateway, inline_max_elements, allow_pin)
        self._public = _Server(uvicorn.Config(public_app, **common))
        self._admin = _Server(uvicorn.Config(
            build_admin_app(gateway), ssl_context_factory=lambda _config, _default: ssl_ctx,
            **common))
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """Base URL of the public port."""
        return f"http://{self.host}:{self.port}"

    @property
    def admin_url(self) -> str:
        """Base URL of the admin port."""
        return f"https://{self.host}:{self.admin_port}"

    async def serve(self, initial: LoadModelRequest | None = None) -> None:
        """Serve both ports until ``stop()``; load ``initial`` into its slot first."""
        self._loop = asyncio.get_running_loop()
        if initial is not None:
            await self.gateway.load(initial)
        await asyncio.gather(self._public.serve(sockets=[self._sockets[0]]),
                             self._admin.serve(sockets=[self._sockets[1]]))

    def stop(self) -> None:
        """Ask both servers to finish (safe from any thread or a signal handler)."""
        self._public.should_exit = True
        self._admin.should_exit = True

    @property
    def started(self) -> bool:
        """Both servers are accepting connections."""
        return self._public.started and self._admin.started

    def run(self, initial: LoadModelRequest | None = None, loop: str = "auto") -> None:
        """Serve in the current (main) thread until SIGINT/SIGTERM."""
        with asyncio.Runner(loop_factory=_loop_factory(loop)) as runner:
            event_loop = runner.get_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                event_loop.add_signal_handler(sig, self.stop)
            runner.run(self.serve(initial))

    def start_in_thread(self, timeout: float = 15.0, loop: str = "auto") -> None:
        """Serve from a daemon thread and return once both ports accept (tests, benches)."""
        failure: list[BaseException] = []

        def target() -> None:
            try:
                with asyncio.Runner(loop_factory=_loop_factory(loop)) as runner:
                    runner.run(self.serve())
            except BaseException as e:  # reported to the starting thread
                failure.append(e)

        self._thread = threading.Thread(target=target, name="medpipe-gateway", daemon=True)
        self._thread.start()
        end = time.monotonic() + timeout
        while not self.started:
            if failure:
                raise RuntimeError(f"gateway failed to start: {failure[0]!r}")
            if time.monotonic() > end:
                self.stop()
                raise TimeoutError(f"gateway did not start within {timeout} s")
            time.sleep(0.01)

    def join(self, timeout: float = 10.0) -> None:
        """Stop and wait for the serving thread."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)


def serve(host: str, port: int, admin_port: int, tls: AdminTLS, model_name: str, *,
          initial: LoadModelRequest | None = None, verifier: ModelVerifier | None = None,
          require_signature: bool = False, providers: list[str] | None = None,
          cache_dir: Path | None = None, intra_op_threads: int = 1, http: str = "auto",
          loop: str = "auto", log_level: str = "warning", allow_pin: bool = True) -> None:
    """Run the inference gateway until SIGINT/SIGTERM (the ``medpipe gateway`` command).

    Args:
        host: interface for both ports.
        port: public OIP v2 REST + ``/metrics`` port.
        admin_port: admin API port, TLS 1.3 with required client certificates.
        tls: admin TLS material.
        model_name: the model name served under ``/v2/models/{name}``.
        initial: optionally load this model (into its slot) before serving.
        verifier: signature verifier (default: digest check only).
        require_signature: refuse models without a verified signature bundle.
        providers: onnxruntime providers (default: CUDA when available, then CPU).
        cache_dir: where verified model copies go (default: a temporary directory).
        intra_op_threads: onnxruntime threads per inference call.
        http: uvicorn HTTP implementation (``auto``, ``httptools``, ``h11``).
        loop: event loop (``auto`` uses uvloop when installed, ``asyncio``, ``uvloop``).
        log_level: log level for the gateway and uvicorn.
        allow_pin: honour the ``x-medpipe-slot`` header that pins a request to a slot.
    """
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    with tempfile.TemporaryDirectory(prefix="medpipe-gateway-") as tmp:
        loader = ModelLoader(cache_dir or Path(tmp), providers=providers, verifier=verifier,
                             require_signature=require_signature,
                             intra_op_threads=intra_op_threads)
        server = GatewayServer(Gateway(model_name, loader), host, port, admin_port, tls,
                               http=http, log_level=log_level, allow_pin=allow_pin)
        log.info("gateway for %s on %s (admin mTLS on %s), providers %s", model_name,
                 server.url, server.admin_url, loader.providers)
        server.run(initial, loop=loop)
