"""Run the gateway: the public OIP port and the mTLS admin port in one process.

Both uvicorn servers share one event loop and one ``Gateway``, so an admin change
(weight, promotion, rollback) applies to the very next request without any
cross-process coordination. Sockets are bound before serving so that port 0
yields a known free port (tests), and signals are handled here once for both
servers: SIGINT/SIGTERM stop, SIGHUP re-reads the trusted keys and revocations.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
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
from medpipe.workers.gateway.limits import Limits
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.protocol import http_protocol
from medpipe.workers.gateway.slots import Gateway
from medpipe.workers.gateway.state import ServingStateFile
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


def _bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening socket; ``reuse_port``: other processes (same user) may listen on the
    same port, and the kernel spreads new connections over them (SO_REUSEPORT)."""
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when it is set
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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
                 inline_max_elements: int = INLINE_MAX_ELEMENTS, allow_pin: bool = False,
                 limits: Limits | None = None, reuse_port: bool = False,
                 fast_path: bool = True) -> None:
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
        limits: body size, JSON shape and time bounds on public requests.
        reuse_port: share the public port with other gateway processes (SO_REUSEPORT).
        fast_path: answer whole small inference requests from the protocol, without an
            ASGI cycle (``protocol``); off: every request goes through ASGI (tests).
        """
        self.gateway = gateway
        self._sockets = (_bind(host, port, reuse_port), _bind(host, admin_port))
        self.host = host
        self.port = self._sockets[0].getsockname()[1]
        self.admin_port = self._sockets[1].getsockname()[1]
        ssl_ctx = server_context(tls.cert, tls.key, tls.client_ca, require_client_cert=True)
        common: dict[str, Any] = {"http": http, "log_level": log_level, "access_log": False,
                                  "lifespan": "off", "server_header": False,
                                  # idle keep-alive clients must not hold a shutdown open
                                  "timeout_graceful_shutdown": 2}
        public_app = build_app(gateway, inline_max_elements, allow_pin, limits)
        # no proxy-headers middleware: nothing here reads the client address, and it
        # would be one more layer on every request
        self._public = _Server(uvicorn.Config(public_app, **(common | {
            "http": http_protocol(http, public_app.endpoint if fast_path else None),
            "proxy_headers": False})))
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
        """Serve both ports until ``stop()``.

        Before accepting a connection: restore the recorded serving state (every model
        verified again), then load ``initial`` if no stable model was restored.
        """
        self._loop = asyncio.get_running_loop()
        started = time.monotonic()
        await self.gateway.restore()
        if initial is not None and self.gateway.stable is None:
            await self.gateway.load(initial)
        # Everything alive now (modules, sessions) lives as long as the process: keep it
        # out of the cyclic collector's scans, which would otherwise stall requests.
        gc.collect()
        gc.freeze()
        log.warning("gateway ready to serve after %.2f s (stable: %s)",
                    time.monotonic() - started,
                    self.gateway.stable.version if self.gateway.stable else "none")
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
            event_loop.add_signal_handler(signal.SIGHUP, self._reload_soon, event_loop)
            runner.run(self.serve(initial))

    def _reload_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        """SIGHUP: re-read trust on the loop; a failure is logged, the old trust stays."""
        async def reload() -> None:
            try:
                result = await self.gateway.reload_trust()
                if result.taken_out:
                    log.error("SIGHUP trust reload took out of service: %s", result.taken_out)
            except Exception as e:  # a signal handler has no caller to report to
                log.error("SIGHUP trust reload failed, previous trust kept: %s", e)

        loop.create_task(reload())

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
          allow_unsigned: bool = False, model_roots: tuple[str, ...] = (),
          providers: list[str] | None = None, cache_dir: Path | None = None,
          intra_op_threads: int = 1, http: str = "auto", loop: str = "auto",
          log_level: str = "warning", allow_pin: bool = False,
          limits: Limits | None = None, state_file: Path | None = None,
          reuse_port: bool = False, fast_path: bool = True) -> None:
    """Run the inference gateway until SIGINT/SIGTERM (the ``medpipe gateway`` command).

    Args:
        host: interface for both ports.
        port: public OIP v2 REST + ``/metrics`` port.
        admin_port: admin API port, TLS 1.3 with required client certificates.
        tls: admin TLS material.
        model_name: the model name served under ``/v2/models/{name}``.
        initial: optionally load this model (into its slot) before serving.
        verifier: signature verifier; without one only ``allow_unsigned`` loads models.
        allow_unsigned: load models without a verified signature (development only).
        model_roots: directories and object-store URI prefixes models may be read from.
        providers: onnxruntime providers (default: CUDA when available, then CPU).
        cache_dir: where verified model copies go (default: a temporary directory).
        intra_op_threads: onnxruntime threads per inference call.
        http: uvicorn HTTP implementation (``auto``, ``httptools``, ``h11``).
        loop: event loop (``auto`` uses uvloop when installed, ``asyncio``, ``uvloop``).
        log_level: log level for the gateway and uvicorn.
        allow_pin: honour the ``x-medpipe-slot`` header that pins a request to a slot.
        limits: body size, JSON shape and time bounds on public requests.
        state_file: where the serving state is recorded and restored from at start.
        reuse_port: share the public port with other gateway processes (SO_REUSEPORT);
            each process keeps its own slots, admin port and state file.
        fast_path: answer whole small inference requests from the HTTP protocol.
    """
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    if allow_unsigned:
        log.warning("=" * 72)
        log.warning("THIS GATEWAY LOADS UNSIGNED MODELS (--allow-unsigned): development only; "
                    "never expose it to clinical traffic")
        log.warning("=" * 72)
    with tempfile.TemporaryDirectory(prefix="medpipe-gateway-") as tmp:
        loader = ModelLoader(cache_dir or Path(tmp), providers=providers, verifier=verifier,
                             model_roots=model_roots, allow_unsigned=allow_unsigned,
                             intra_op_threads=intra_op_threads)
        state = ServingStateFile(state_file) if state_file is not None else None
        server = GatewayServer(Gateway(model_name, loader, state), host, port, admin_port, tls,
                               http=http, log_level=log_level, allow_pin=allow_pin,
                               limits=limits, reuse_port=reuse_port, fast_path=fast_path)
        log.info("gateway for %s on %s (admin mTLS on %s), providers %s", model_name,
                 server.url, server.admin_url, loader.providers)
        server.run(initial, loop=loop)
