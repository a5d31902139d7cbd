"""The load probe behind spreading concurrent releases over the compliant workers.

A release chooses where its data will live (the worker that ingests it; later
stages follow the data) from what this probe saw when it started: which of its
compliant queues a worker polls, and how many other releases of the same fleet
are running and where. The probe's answer is recorded in the release's history,
so a replay makes the same choice.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ProbeLoadInput(BaseModel):
    """The queues to probe, in placement order, and the fleet they belong to.

    Attributes:
        queues: the candidate activity queues (ingest's, residency already applied).
        clouds: the cloud of each queue (running releases are counted per cloud).
        control_queue: the fleet's workflow queue (other fleets' releases do not count).
        started_at: when the asking release started (``workflow_start_time``):
            orders it among the others when visibility does not list it yet.
        liveness_only: only which queues a worker polls (a fanned-out stage planning
            its shards); no visibility listing, ``load`` all zero.
    """

    model_config = ConfigDict(frozen=True)

    queues: tuple[str, ...]
    clouds: tuple[str, ...]
    control_queue: str
    started_at: datetime | None = None
    liveness_only: bool = False

    @model_validator(mode="after")
    def _same_length(self) -> ProbeLoadInput:
        if len(self.queues) != len(self.clouds):
            raise ValueError("queues and clouds must have one entry per candidate")
        return self


class ProbeLoadResult(BaseModel):
    """What the probe saw, per candidate (same order as the input's queues).

    Attributes:
        live: whether Temporal lists a worker polling the queue (it keeps a dead
            worker listed for about a minute: failover still covers that case).
        load: other running releases of the fleet whose current stage runs on the
            candidate's cloud (releases in deployment do not count).
        others: other running releases of the fleet.
        ahead: of those, how many started before this one (spreads a burst whose
            releases started before any was placed).
        pending: of those ahead, how many show no stage yet (started, not yet placed:
            each will take the least loaded worker before this release does, so
            ``workflows.placement.spread`` places them first, in start order). None:
            a probe that did not count them (recorded before burst accounting), whose
            release chose round-robin by ``ahead``; a replay must choose alike.
    """

    model_config = ConfigDict(frozen=True)

    live: tuple[bool, ...]
    load: tuple[int, ...]
    others: int = Field(default=0, ge=0)
    ahead: int = Field(default=0, ge=0)
    pending: int | None = Field(default=None, ge=0)
