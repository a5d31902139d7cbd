"""Concurrent data stages on one worker share its cores: a stage waits for one, then runs.

Two releases run at once on one real worker (Temporal dev server, the real release
workflow and activities) whose core budget is a single core: every data stage's
run holds that core, so no two of them overlap, and the second release's stages
demonstrably waited for the first's instead of sharing the CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from medpipe.activities.context import WorkerContext
from medpipe.activities.cores import CoreBudget, default_activity_slots
from medpipe.contracts.release import ReleaseState
from medpipe.workers.worker import build_workers
from tests.support import make_fleet, make_request, start

pytestmark = pytest.mark.asyncio


class TracedBudget(CoreBudget):
    """A core budget that records when each stage asked for its core, got it, gave it back."""

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.spans: list[tuple[float, float, float]] = []

    @contextlib.contextmanager
    def hold(self, tick: Callable[[], None] | None = None, **kw: Any) -> Iterator[None]:
        outer = not self._held_here()
        asked = time.monotonic()
        with super().hold(tick, **kw):
            got = time.monotonic()
            try:
                yield
            finally:
                if outer:
                    self.spans.append((asked, got, time.monotonic()))


async def test_data_stages_of_concurrent_releases_take_turns_on_the_cores(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    budget = TracedBudget(1)
    ctx = WorkerContext(profile=fleet.find("aws/us-east-1"), cores=budget)
    workers = build_workers(client, ctx, fleet)
    assert all(w.config()["max_concurrent_activities"] == default_activity_slots(1)
               for w in workers[:-1])  # sized from the worker's cores
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        handles = [await start(client, make_request(fleet, sample, prefer_gpu=False))
                   for _ in range(2)]
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 300)
    finally:
        for w in workers:
            await w.shutdown()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert all(r.state is ReleaseState.SUCCEEDED for r in results)
    spans = sorted(budget.spans, key=lambda s: s[1])
    assert len(spans) >= 6  # pseudonymize, validate, evaluate of each release
    for (_, _, done), (_, got_next, _) in zip(spans, spans[1:], strict=False):
        assert done <= got_next, "two data stages ran at once on a one-core budget"
    waited = [j for j, (asked, got, _) in enumerate(spans)
              if any(asked < d and got >= d for i, (_, _, d) in enumerate(spans) if i != j)]
    assert waited, "no stage waited for a core: the releases did not overlap"
    assert budget.in_use == 0
