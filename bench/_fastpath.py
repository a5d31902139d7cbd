"""In-process figure for ``bench/gateway.py``: CPU µs per request of the public port's
fast path, without sockets or a load generator.

A gateway's protocol object (``protocol.http_protocol`` over a real ``InferEndpoint``,
``Gateway`` and onnxruntime session on the sample model) is fed pre-built one-row OIP
requests through ``data_received`` on a transport that only keeps what is written; each
answer is checked to be a 200. The figure is process CPU time over many requests (the
least of several trials), so other load on the machine barely moves it: it is the
figure to compare before and after a change to the hot path (HTTP parsing, routing,
decoding, the run, metrics, encoding, the one ``write``). Every trial has a request
count and a deadline, and nothing here starts a process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

#: Requests per trial, trials per kind, and the most a trial may take (CPU seconds).
REQUESTS = 3000
TRIALS = 15
TRIAL_DEADLINE_S = 10.0


class _Transport:
    """What the protocol writes to: keeps the last answer, never closes."""

    def __init__(self) -> None:
        self.last = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.last = data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def fast_path_cpu_us(model_path: Path, digest: str, model_name: str,
                     requests: dict[str, list[bytes]]) -> dict[str, float]:
    """Least CPU µs per request over ``TRIALS`` trials, per kind of request.

    Args:
        model_path: the sample model (loaded unsigned, as the bench's gateways are).
        digest: its sha256.
        model_name: the served model name.
        requests: kind -> raw HTTP/1.1 requests (cycled through).
    """
    import tempfile

    import uvicorn
    from uvicorn.server import ServerState

    from medpipe.contracts.deploy import LoadModelRequest, Slot
    from medpipe.workers.gateway.app import build_app
    from medpipe.workers.gateway.loader import ModelLoader
    from medpipe.workers.gateway.protocol import http_protocol
    from medpipe.workers.gateway.server import _loop_factory
    from medpipe.workers.gateway.slots import Gateway

    # the bench's model is unsigned, as its gateways' are: their servers say so in their
    # own logs; here it would only interleave with the printed figures
    loader_log = logging.getLogger("medpipe.workers.gateway.loader")
    level = loader_log.level
    loader_log.setLevel(logging.ERROR)
    factory = _loop_factory("auto")
    loop = factory() if factory is not None else asyncio.new_event_loop()
    out: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as cache:
            loader = ModelLoader(Path(cache), providers=["CPUExecutionProvider"],
                                 allow_unsigned=True, model_roots=(str(model_path.parent),))
            gateway = Gateway(model_name, loader)
            loop.run_until_complete(gateway.load(LoadModelRequest(
                slot=Slot.STABLE, name=model_name, version="1", model_uri=str(model_path),
                sha256=digest)))
            app = build_app(gateway, process_metrics=False)
            protocol_class = http_protocol("httptools", app.endpoint)
            config = uvicorn.Config(app, http=protocol_class, lifespan="off",
                                    access_log=False, log_level="warning")
            config.load()
            for kind, wires in requests.items():
                protocol = protocol_class(config, ServerState(), {}, loop)
                transport = _Transport()
                protocol.connection_made(transport)
                for wire in wires * 4:  # warm-up
                    protocol.data_received(wire)
                if not transport.last.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"fast path answered {transport.last[:40]!r}")
                best = float("inf")
                for _ in range(TRIALS):
                    started = time.process_time()
                    for i in range(REQUESTS):
                        protocol.data_received(wires[i % len(wires)])
                    spent = time.process_time() - started
                    best = min(best, spent / REQUESTS * 1e6)
                    if spent > TRIAL_DEADLINE_S:
                        break
                if transport.closed or not transport.last.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"fast path answered {transport.last[:40]!r}")
                protocol.connection_lost(None)
                out[kind] = best
    finally:
        loop.close()
        loader_log.setLevel(level)
    return out
