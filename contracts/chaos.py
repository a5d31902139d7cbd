"""Chaos exercises: what is injected, and the resilience report each exercise writes.

An exercise drives a real release (and canary where relevant) on a
non-production fleet while it injects one fault, then reports what happened
against the goals in ``docs/resilience-goals.md``. Reports hold references,
figures and process names only, never data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.placement import DEFAULT_QUEUE_PREFIX


class Scenario(StrEnum):
    """The faults an exercise can inject."""

    WORKER_KILL = "worker-kill"
    STORE_STOPPED = "store-stopped"
    GPU_LOSS = "gpu-loss"
    TEMPORAL_RESTART = "temporal-restart"
    GATEWAY_KILL = "gateway-kill"
    NETWORK_PARTITION = "network-partition"


class Verdict(StrEnum):
    """The exercise against its goals."""

    PASS = "pass"
    FAIL = "fail"


def chaos_queue(prefix: str = DEFAULT_QUEUE_PREFIX) -> str:
    """Task queue of the chaos runner (a process on the host of the non-production stack)."""
    return f"{prefix}.chaos"


class ResilienceGoals(BaseModel):
    """The bar an exercise is judged against (documented in ``docs/resilience-goals.md``).

    Attributes:
        max_failover_s: seconds from the injection to the stage completing elsewhere.
        max_release_s: seconds the whole release may take under the fault.
        max_failed_request_ratio: inference requests sent straight to the gateways that
            failed, over those sent, during a canary scenario (a killed gateway's own
            clients see errors until it is back).
        max_failed_front_ratio: the same for requests through the front (HAProxy), which
            retries another region: clinical callers should not notice.
        max_data_lost: artifacts that do not decrypt or whose digest differs (always 0).
    """

    model_config = ConfigDict(frozen=True)

    max_failover_s: float = 60.0
    max_release_s: float = 300.0
    max_failed_request_ratio: float = 0.20
    max_failed_front_ratio: float = 0.01
    max_data_lost: int = 0


class Injection(BaseModel):
    """One thing the exercise did to the stack, and when."""

    model_config = ConfigDict(frozen=True)

    action: str
    target: str
    at: datetime
    detail: str = ""


class ResilienceReport(BaseModel):
    """What one exercise did and how the fleet held up.

    Attributes:
        failover_s: seconds from the injection to the affected stage completing
            elsewhere (None when no stage had to move, e.g. a server restart).
        releases_completed: releases that succeeded out of ``releases_started``.
        requests_sent / requests_failed: inference traffic straight to the gateways
            during a canary scenario; ``front_requests_*`` the same through the front.
        artifacts_checked / data_lost: artifacts read back (decrypted, digests
            compared) and how many did not verify.
        failures: each goal missed, in words (empty on pass).
    """

    model_config = ConfigDict(frozen=True)

    scenario: Scenario
    exercise_id: str
    started_at: datetime
    finished_at: datetime
    fleet_prefix: str
    release_ids: tuple[str, ...] = ()
    injections: tuple[Injection, ...] = ()
    failover_s: float | None = None
    failovers: tuple[str, ...] = ()
    releases_started: int = 0
    releases_completed: int = 0
    requests_sent: int = 0
    requests_failed: int = 0
    front_requests_sent: int = 0
    front_requests_failed: int = 0
    #: why the front's failed requests failed: HTTP status or client error class -> count
    front_failure_reasons: dict[str, int] = Field(default_factory=dict)
    artifacts_checked: int = 0
    data_lost: int = 0
    goals: ResilienceGoals = ResilienceGoals()
    verdict: Verdict = Verdict.FAIL
    failures: tuple[str, ...] = ()
    report_uri: str = ""


class ChaosExerciseInput(BaseModel):
    """One exercise (or several): which scenarios, with what deadline each."""

    model_config = ConfigDict(frozen=True)

    scenarios: tuple[Scenario, ...] = Field(min_length=1)
    deadline_s: float = Field(default=300.0, gt=0)


class ChaosExerciseResult(BaseModel):
    """Each scenario's report (the full reports are stored and in the ledger)."""

    model_config = ConfigDict(frozen=True)

    reports: tuple[ResilienceReport, ...] = ()
