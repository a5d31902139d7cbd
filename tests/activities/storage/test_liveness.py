"""A store that accepts connections but never answers fails through the liveness probe.

A stopped (``SIGSTOP``) emulator still completes TCP handshakes, so only a read
timeout would notice it; the adapters probe the endpoint first. The error must be the
probe's ("no HTTP answer within"), not the SDK's read timeout, and the store must work
again once the emulator continues. A slow probe answer within the limits is alive.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from medpipe.activities.storage import liveness
from medpipe.activities.storage.base import open_store
from medpipe.contracts.errors import ProviderUnavailable
from medpipe.workers.chaos import procstate
from tests.activities.storage.conftest import BUCKET
from tests.emulators import Azurite, GcsEmulator, MotoS3

PROBE_MESSAGE = "no HTTP answer within"


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that completes TCP handshakes (listen backlog) but never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


class _Slow(BaseHTTPRequestHandler):
    delay_s = 0.0

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        time.sleep(self.delay_s)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_an_endpoint_that_never_answers_is_unavailable(silent_endpoint: str) -> None:
    liveness.forget()
    with pytest.raises(ProviderUnavailable, match=PROBE_MESSAGE) as e:
        liveness.check(f"{silent_endpoint}/bucket/key?x=1", "S3")
    assert "/bucket" not in str(e.value) and "x=1" not in str(e.value)


def test_any_answer_in_time_is_alive_and_remembered() -> None:
    liveness.forget()

    class Handler(_Slow):
        delay_s = liveness.PROBE_ANSWER_S / 3  # slow, but an answer (a 404) in time

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/b/k"
    try:
        liveness.check(url, "S3")
    finally:
        server.shutdown()
        server.server_close()
    liveness.check(url, "S3")  # remembered: no probe of the closed port within ALIVE_FOR_S
    liveness.forget()
    with pytest.raises(ProviderUnavailable, match="does not answer"):
        liveness.check(url, "S3")


@pytest.mark.parametrize("scheme", ["s3", "gs", "azblob"])
def test_a_stopped_store_fails_through_the_probe(scheme: str, tmp_path: Path,
                                                 cloud_env: None) -> None:
    emu = {"s3": MotoS3, "gs": GcsEmulator, "azblob": Azurite}[scheme](tmp_path / scheme)
    emu.start()
    stopped = False
    try:
        emu.create_bucket(BUCKET)  # type: ignore[attr-defined]
        store = open_store(emu.bucket_uri(BUCKET))  # type: ignore[attr-defined]
        store.put("k", [b"v"])
        assert emu.proc is not None
        os.kill(emu.proc.pid, signal.SIGSTOP)
        stopped = True
        # kill() returns before the threads stop: a loaded host let the emulator
        # answer the probe once more, then hang the request the probe vouched for
        assert procstate.wait_stopped(emu.proc.pid), "the emulator did not stop"
        liveness.forget()  # as a process that last reached the store ALIVE_FOR_S ago
        for op in (lambda: store.head("k"), lambda: store.put("k2", [b"x"]),
                   lambda: list(store.list())):
            with pytest.raises(ProviderUnavailable, match=PROBE_MESSAGE) as e:
                op()
            assert f"{scheme}://{BUCKET}" in str(e.value)  # names the store
        os.kill(emu.proc.pid, signal.SIGCONT)
        stopped = False
        assert store.head("k").size == 1
        assert store.put("k2", [b"x"]).size == 1
    finally:
        if stopped and emu.proc is not None:
            os.kill(emu.proc.pid, signal.SIGCONT)
        emu.stop()
