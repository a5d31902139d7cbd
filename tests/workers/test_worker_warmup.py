"""A worker imports great-expectations as it starts, not in its first validate (issue 17).

The import takes seconds (and leaves ~400k objects that ``_preload_gx`` freezes out
of the collector): done inside the first validate of a fresh worker, it made that
release's validate 9-14 s instead of 2-3 s on a loaded machine
(``bench/orchestration.py``, first release of fresh workers). A real ``medpipe
worker`` process, started against the session's Temporal server and given no work
at all, must log that the import is done (once idle for ``GX_IDLE_S``, 30 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from medpipe.workers.devserver import TemporalDevServer
from tests.support import make_fleet, wait_until, worker_process, write_fleet_file

pytestmark = pytest.mark.asyncio

#: What ``activities.validate._preload_gx`` logs once the import and the freeze are done.
IMPORTED = "great-expectations imported;"


async def test_a_worker_imports_great_expectations_before_any_validate(
        temporal_server: TemporalDevServer, tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    fleet_file = write_fleet_file(fleet, tmp_path / "fleet.yaml")
    log = tmp_path / "worker.log"
    proc = worker_process(temporal_server.address, fleet_file, "aws/us-east-1", log)

    def text() -> str:
        return log.read_text() if log.exists() else ""

    async def polling() -> bool:
        return "polling" in text() or proc.poll() is not None

    async def imported() -> bool:
        return IMPORTED in text() or proc.poll() is not None

    try:
        await wait_until(polling, timeout=60)
        assert proc.poll() is None, text()[-2000:]
        # no release runs: only the worker's start can have started the import
        await wait_until(imported, timeout=180, interval=0.25)
        assert proc.poll() is None, text()[-2000:]
        line = next(x for x in text().splitlines() if IMPORTED in x)
        frozen = int(line.split(IMPORTED)[1].split()[0])
        assert frozen > 100_000, line  # great-expectations' objects, out of the collector
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
