"""Helpers for drift tests and the drift bench: a webhook receiver, sample rows
(steady or shifted), and waiting for a scheduled drift check."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from temporalio.client import Client, ScheduleHandle

from medpipe.contracts.drift import DriftMonitorResult
from medpipe.workers.sample import FEATURES


@dataclass
class Receiver:
    """A local HTTP alert receiver: fails the first ``fail_first`` POSTs with 503,
    then records each alert once per ``Idempotency-Key``."""

    fail_first: int = 0
    refuse: bool = False
    attempts: list[str] = field(default_factory=list)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                receiver.attempts.append(key)
                if receiver.refuse or len(receiver.attempts) <= receiver.fail_first:
                    self.send_response(422 if receiver.refuse else 503)
                    self.end_headers()
                    return
                receiver.alerts.setdefault(key, json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def shifted(rows: np.ndarray, feature: str, sds: float) -> np.ndarray:
    """``rows`` with ``feature`` moved by ``sds`` of its standard deviation."""
    out = rows.copy()
    i = FEATURES.index(feature)
    out[:, i] += sds * rows[:, i].std()
    return out


async def trigger_and_wait(client: Client, schedule: ScheduleHandle,
                           timeout: float = 60.0) -> DriftMonitorResult:
    """Trigger one scheduled check now and return its result."""
    seen = {a.action.workflow_id for a in (await schedule.describe()).info.recent_actions}
    await schedule.trigger()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        new = [a.action.workflow_id for a in (await schedule.describe()).info.recent_actions
               if a.action.workflow_id not in seen]
        if new:
            break
        if loop.time() > deadline:
            raise AssertionError("the schedule did not start a drift check")
        await asyncio.sleep(0.2)
    handle = client.get_workflow_handle(new[-1], result_type=DriftMonitorResult)
    return await asyncio.wait_for(handle.result(), timeout)
