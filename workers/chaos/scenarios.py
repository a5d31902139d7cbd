"""The chaos scenarios: inject one fault into the running stack while a real release runs.

Each scenario returns the figures of its resilience report (the caller judges
and stores it). Faults go only to children the dev supervisor recorded
(``StackControl``), and every fault is undone in ``finally``: a stopped
emulator is continued, a cut proxy restored, the GPU flag removed.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from medpipe.activities.chaos_flags import ACCELERATOR_OFF, flags_dir
from medpipe.contracts.chaos import Injection, ResilienceGoals, ResilienceReport, Scenario
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.names import ActivityName
from medpipe.contracts.release import FailoverCause, ReleaseStatus
from medpipe.workers.chaos import release_probe as probe
from medpipe.workers.chaos.stack import StackControl
from medpipe.workers.chaos.stackparts import PROXY_CHILD
from medpipe.workers.config import StackConfig
from medpipe.workers.devports import wait_for_port


@dataclass
class Exercise:
    """One running exercise: the stack, the client, and what has been injected so far."""

    config: StackConfig
    home: Path
    client: Client
    scenario: Scenario
    deadline_s: float
    goals: ResilienceGoals = field(default_factory=ResilienceGoals)
    exercise_id: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:12]}")
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    injections: list[Injection] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    statuses: list[ReleaseStatus | None] = field(default_factory=list)

    @property
    def control(self) -> StackControl:
        return StackControl(self.home)

    @property
    def files(self) -> dict[str, Path]:
        return probe.sample_files(self.home)

    def inject(self, action: str, target: str, detail: str = "") -> float:
        """Record an injection (now); its epoch seconds."""
        now = datetime.now(UTC)
        self.injections.append(Injection(action=action, target=target, at=now, detail=detail))
        return now.timestamp()

    def worker_child(self, identity: str) -> str:
        """The supervised child whose pid ends a worker identity (``…@host:PID``)."""
        pid = identity.removesuffix("/control").rpartition(":")[2]
        for name in self.control.names():
            if name.startswith("worker-") and str(self.control.pid(name)) == pid:
                return name
        raise InvalidInput(f"worker {identity} is not a child of the local stack")

    async def release(self, **kwargs: object) -> tuple[ReleaseStatus | None, float | None]:
        """Run one probe release; (final status, None) — the caller injects around it."""
        handle = await probe.start(self.client, probe.probe_request(
            self.config, self.files, self.scenario.value, **kwargs))  # type: ignore[arg-type]
        self.releases.append(handle.id)
        status = await probe.wait_done(handle, self.deadline_s)
        self.statuses.append(status)
        return status, None

    def report(self, status: ReleaseStatus | None, injected_at: float | None, *,
               failover_s: float | None = None, sent: int = 0, failed: int = 0,
               failures: tuple[str, ...] = (), expect: tuple[FailoverCause, ...] = ()
               ) -> ResilienceReport:
        """The exercise's figures (not yet judged)."""
        if not any(s is status for s in self.statuses):
            self.statuses.append(status)
        checked = lost = 0
        notes = list(failures)
        described: list[str] = []
        if status is not None and probe.completed(status):
            checked, lost, why = probe.read_back(
                status, *probe.ledger_documents(self.config, status.release_id))
            notes += why
            measured, described = probe.failover_after(status, injected_at or 0.0, expect)
            failover_s = failover_s if failover_s is not None else measured
            if expect and measured is None:
                notes.append("the fault was not exercised: no failover caused by "
                             f"{' or '.join(c.value for c in expect)}")
        elif status is not None:
            notes.append(f"release ended {status.state.value}: {(status.error or '')[:200]}")
        else:
            notes.append(f"release did not end within {self.deadline_s:.0f} s")
        return ResilienceReport(
            scenario=self.scenario, exercise_id=self.exercise_id, started_at=self.started_at,
            finished_at=datetime.now(UTC), fleet_prefix=self.config.fleet.queue_prefix,
            release_ids=tuple(self.releases), injections=tuple(self.injections),
            failover_s=None if failover_s is None else round(failover_s, 2),
            failovers=tuple(described), releases_started=len(self.releases),
            releases_completed=sum(probe.completed(s) for s in self.statuses),
            requests_sent=sent, requests_failed=failed, artifacts_checked=checked,
            data_lost=lost, goals=self.goals, failures=tuple(notes))


#: Data stages a worker-kill aims at: long enough, on the probe's big cohort, to be killed
#: in. Ingest can end between two looks at the release, and a worker killed just after its
#: step ended is back (restarted by the supervisor) before the next step's schedule-to-start
#: timeout: no failover at all, the fault missed.
KILLABLE = frozenset({ActivityName.PSEUDONYMIZE, ActivityName.PSEUDONYMIZE_LEARN,
                      ActivityName.PSEUDONYMIZE_LEARN_SHARD,
                      ActivityName.PSEUDONYMIZE_LEARN_MERGE,
                      ActivityName.PSEUDONYMIZE_SHARD, ActivityName.VALIDATE,
                      ActivityName.VALIDATE_SHARD, ActivityName.EVALUATE})
#: Releases a worker-kill tries before it reports that no kill landed mid-stage.
KILL_ATTEMPTS = 3


async def worker_kill(ex: Exercise) -> ResilienceReport:
    """SIGKILL the worker running a stage of the release, mid-stage.

    The kill goes to a worker that has reported progress on a data stage, but the stage
    can still end before the signal lands (a race no outside observer can close). Such an
    attempt is recorded as missed and the exercise runs another release, up to
    ``KILL_ATTEMPTS``; every release and every kill stays in the report.
    """
    expect = (FailoverCause.WORKER_LOST, FailoverCause.NO_WORKER)
    attempt = 0
    while True:
        attempt += 1
        handle = await probe.start(ex.client, probe.probe_request(
            ex.config, ex.files, ex.scenario.value, big=True))
        ex.releases.append(handle.id)
        identity = await probe.running_on(handle, 60.0, "@", KILLABLE, heartbeated=True)
        injected_at = None
        if identity:
            name = ex.worker_child(identity)
            pid = ex.control.send(name, signal.SIGKILL)
            injected_at = ex.inject("SIGKILL", name, f"pid {pid}, mid-stage ({identity})")
        status = await probe.wait_done(handle, ex.deadline_s)
        missed = (injected_at is not None and status is not None and probe.completed(status)
                  and probe.failover_after(status, injected_at, expect)[0] is None)
        if not missed or attempt >= KILL_ATTEMPTS:
            return ex.report(status, injected_at,
                             failures=() if identity else ("no stage ran long enough to be "
                                                           "killed",),
                             # lost mid-step, or gone when the next step was scheduled on it
                             expect=expect)
        ex.statuses.append(status)
        ex.inject("missed", identity, f"attempt {attempt}: the stage ended before the kill "
                  "landed (no failover); the exercise runs another release")


async def store_stopped(ex: Exercise) -> ResilienceReport:
    """Stop (SIGSTOP) the S3 emulator for the whole release; continue it afterwards."""
    target = "emulator-s3"
    if target not in ex.control.names():
        raise InvalidInput("store-stopped needs the emulated stack (`medpipe dev up --storage "
                           "emulated`): the local stack has no emulator-s3")
    pid = ex.control.send(target, signal.SIGSTOP)
    injected_at = ex.inject("SIGSTOP", target, f"pid {pid}: the AWS store stops answering")
    try:
        status, _ = await ex.release()
    finally:
        ex.control.send(target, signal.SIGCONT)
        ex.inject("SIGCONT", target, "store answers again")
    return ex.report(status, injected_at, expect=(FailoverCause.PROVIDER_UNAVAILABLE,))


async def gpu_loss(ex: Exercise) -> ResilienceReport:
    """The GPU worker refuses its accelerator; the evaluation must move (GPU → CPU)."""
    flag = flags_dir(ex.home) / ACCELERATOR_OFF
    flag.parent.mkdir(parents=True, exist_ok=True)
    flag.write_text("set by a chaos exercise\n")
    injected_at = ex.inject("accelerator-off", str(flag), "GPU workers refuse GPU steps")
    try:
        status, _ = await ex.release(prefer_gpu=True)
    finally:
        flag.unlink(missing_ok=True)
        ex.inject("accelerator-on", str(flag), "flag removed")
    return ex.report(status, injected_at, expect=(FailoverCause.ACCELERATOR_UNAVAILABLE,))


async def temporal_restart(ex: Exercise) -> ResilienceReport:
    """SIGKILL the Temporal dev server mid-release; the supervisor restarts it on its db file."""
    handle = await probe.start(ex.client, probe.probe_request(
        ex.config, ex.files, ex.scenario.value, big=True))
    ex.releases.append(handle.id)
    await probe.running_on(handle, 60.0, "@")
    pid = ex.control.send("temporal", signal.SIGKILL)
    injected_at = ex.inject("SIGKILL", "temporal", f"pid {pid}, mid-release")
    back = await asyncio.to_thread(ex.control.wait_replaced, "temporal", pid, 60.0)
    if not await asyncio.to_thread(wait_for_port, ex.config.temporal_address, 60.0):
        raise TimeoutError(f"temporal (pid {back}) did not answer on "
                           f"{ex.config.temporal_address} within 60 s of its restart")
    recovered = time.time() - injected_at
    ex.inject("restarted", "temporal", f"pid {back} answers after {recovered:.1f} s")
    return ex.report(await probe.wait_done(handle, ex.deadline_s), injected_at,
                     failover_s=recovered)


async def gateway_kill(ex: Exercise) -> ResilienceReport:
    """SIGKILL a regional gateway during a canary that serves traffic."""
    gateways = [g for g in ex.config.fleet.gateways if g.public_url and g.name in
                ex.control.names()]
    if not gateways:
        raise InvalidInput("gateway-kill needs the local stack's gateways")
    model = ex.config.gateway_model
    urls = [g.public_url.rstrip("/") for g in gateways]
    if not await _serving(urls[0], model):  # a canary needs a stable to compare with
        base, _ = await ex.release(deploy=True, model=model)
        if not probe.completed(base):
            return ex.report(base, None, failures=("the first (stable) release failed",))
    from medpipe.workers.chaos.traffic import send
    from medpipe.workers.cli_canary import feature_rows
    from medpipe.workers.frontconfig import JURISDICTION_HEADER, FrontTuning
    from medpipe.workers.sample import FEATURES

    rows = feature_rows(ex.files["dataset"], list(FEATURES))
    direct, front = {"ok": 0, "failed": 0}, {"ok": 0, "failed": 0}
    front_why: Counter[str] = Counter()
    stop = asyncio.Event()
    senders = [send(u, model, rows, 10.0, direct, stop) for u in urls]
    if "front" in ex.control.names():  # what clinical callers use
        senders.append(send(f"http://127.0.0.1:{ex.config.front_port}", model, rows, 20.0,
                            front, stop, {JURISDICTION_HEADER: "US"},
                            timeout_s=FrontTuning().server_timeout_s + 5.0,
                            reasons=front_why))
    traffic = asyncio.gather(*senders)
    victim = gateways[0].name
    injected_at = recovered = None
    status = None
    try:
        handle = await probe.start(ex.client, probe.probe_request(
            ex.config, ex.files, ex.scenario.value, deploy=True, model=model,
            model_key="model_v2"))
        ex.releases.append(handle.id)
        await _until_canary(ex, handle.id)
        pid = ex.control.send(victim, signal.SIGKILL)
        injected_at = ex.inject("SIGKILL", victim, f"pid {pid}, during the canary")
        await asyncio.to_thread(ex.control.wait_replaced, victim, pid, 60.0)
        while not await _serving(urls[0], model):
            if time.time() - injected_at > ex.deadline_s:
                break
            await asyncio.sleep(0.1)
        recovered = time.time() - injected_at
        ex.inject("serving", victim, f"serves {model} again after {recovered:.1f} s")
        status = await probe.wait_done(handle, ex.deadline_s)
    finally:
        stop.set()
        await asyncio.wait_for(traffic, 15)
    report = ex.report(status, injected_at, failover_s=recovered,
                       sent=sum(direct.values()), failed=direct["failed"])
    return report.model_copy(update={"front_requests_sent": sum(front.values()),
                                     "front_requests_failed": front["failed"],
                                     "front_failure_reasons": dict(front_why)})


async def network_partition(ex: Exercise) -> ResilienceReport:
    """Cut the TCP path between the workers and the AWS store mid-release, restore after."""
    if PROXY_CHILD not in ex.control.names():
        raise InvalidInput("network-partition needs the non-production emulated stack (`medpipe "
                           f"dev up --storage emulated`): the local stack has no {PROXY_CHILD}")
    handle = await probe.start(ex.client, probe.probe_request(
        ex.config, ex.files, ex.scenario.value, big=True))
    ex.releases.append(handle.id)
    await probe.running_on(handle, 30.0, "aws/")
    pid = ex.control.send(PROXY_CHILD, signal.SIGUSR1)
    injected_at = ex.inject("cut", PROXY_CHILD, f"pid {pid}: workers <-/-> AWS store")
    try:
        status = await probe.wait_done(handle, ex.deadline_s)
    finally:
        ex.control.send(PROXY_CHILD, signal.SIGUSR2)
        ex.inject("restore", PROXY_CHILD, "partition healed")
    return ex.report(status, injected_at, expect=(FailoverCause.PROVIDER_UNAVAILABLE,))


async def _serving(url: str, model: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            r = await http.get(f"{url}/v2/models/{model}")
            return r.status_code == 200
    except httpx.HTTPError:
        return False


async def _until_canary(ex: Exercise, release_id: str) -> None:
    """Wait until the release's canary serves traffic at a step (or ends)."""
    from medpipe.workers.releases import canary_status

    deadline = time.monotonic() + ex.deadline_s
    while time.monotonic() < deadline:
        status = await canary_status(ex.client, release_id)
        if status is not None and (status.state.value in ("baking", "promoted", "rolled-back",
                                                          "failed", "paused")):
            return
        await asyncio.sleep(0.2)


SCENARIOS: dict[Scenario, Callable[[Exercise], Awaitable[ResilienceReport]]] = {
    Scenario.WORKER_KILL: worker_kill,
    Scenario.STORE_STOPPED: store_stopped,
    Scenario.GPU_LOSS: gpu_loss,
    Scenario.TEMPORAL_RESTART: temporal_restart,
    Scenario.GATEWAY_KILL: gateway_kill,
    Scenario.NETWORK_PARTITION: network_partition,
}
