"""Pure placement: the ordered candidate queues for a stage.

No I/O and no Temporal calls here, so the rules that keep identifiable data
inside its allowed jurisdictions are unit-tested exhaustively and reused
unchanged by the workflow.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from medpipe.contracts.placement import (
    Candidate,
    ComputeKind,
    DataClass,
    Fleet,
    ResidencyPolicy,
)
from medpipe.contracts.release import Stage
from medpipe.contracts.spread import ProbeLoadResult


class StageSpec(BaseModel):
    """What a stage needs from a worker.

    Attributes:
        stage: which stage.
        data_class: sensitivity of the data it touches (drives residency).
        wants_gpu: try accelerator queues first, then degrade to CPU.
    """

    model_config = ConfigDict(frozen=True)

    stage: Stage
    data_class: DataClass
    wants_gpu: bool = False


def candidates(
    spec: StageSpec,
    fleet: Fleet,
    residency: ResidencyPolicy,
    prefer_cloud: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Candidate]:
    """Ordered places where ``spec`` may run.

    Order: GPU queues first when the stage wants one (then every CPU queue,
    which is the degradation path); within a kind, the profile on
    ``prefer_cloud`` (data locality) first, then fleet order. Profiles whose
    jurisdiction the residency policy forbids for this data class are never
    returned; nor are profiles in ``exclude`` (e.g. whose store is down).

    Returns:
        The candidates, possibly empty (the workflow then waits, never widens).
    """
    compliant = [p for p in fleet.profiles if residency.allows(p.jurisdiction, spec.data_class)
                 and p.name not in exclude]
    compliant.sort(key=lambda p: 0 if prefer_cloud and p.cloud.value == prefer_cloud else 1)
    ordered: list[Candidate] = []
    pre = fleet.queue_prefix
    if spec.wants_gpu:
        ordered += [Candidate(profile=p, kind=ComputeKind.GPU, queue_prefix=pre)
                    for p in compliant if p.has_gpu]
    ordered += [Candidate(profile=p, kind=ComputeKind.CPU, queue_prefix=pre) for p in compliant]
    return ordered


def spread(cands: list[Candidate], probe: ProbeLoadResult) -> tuple[int, str]:
    """Where a release's data should live: the index of its home in ``cands``, and why.

    The release is homed on the worker that ingests it; its later stages prefer
    that cloud (their inputs are stored there), so spreading releases is choosing
    homes. Rules, in order:

    * no other release of the fleet runs: fleet order (index 0), the operator's
      preference; a dead first worker costs a failover, exactly as before;
    * otherwise, among the candidates a worker polls, the least loaded (fewest
      running releases on its cloud), after placing the releases that started
      before this one but show no stage yet (``probe.pending``), one by one on
      the least loaded, as each of them will; ties go to fleet order. Every
      release of a burst replays the same greedy sequence, so ten releases
      started in one second split 5/5 over two workers whatever their probes
      saw placed already (visibility lags behind the starts);
    * a probe recorded before burst accounting (``pending`` None): ties go
      round-robin by how many running releases started before this one;
    * no candidate polled: fleet order again (failover and waiting take over).

    Only reorders ``cands`` (the runner rotates them): a queue residency forbids is
    never in them, so it can never be chosen.

    Returns:
        (index, note): the rotation for ``StageRunner.run`` and a one-line reason for
        the stage record (names and counts only).
    """
    if len(cands) < 2 or len(probe.live) != len(cands) or len(probe.load) != len(cands):
        return 0, ""
    if probe.others == 0:
        return 0, ""
    live = [i for i in range(len(cands)) if probe.live[i]]
    if not live:
        return 0, "placement: no compliant worker polled, fleet order"
    if probe.pending is None:
        lowest = min(probe.load[i] for i in live)
        best = [i for i in live if probe.load[i] == lowest]
        chosen = best[probe.ahead % len(best)]
    else:
        chosen = _greedy(live, list(probe.load), probe.pending)
    loads = ", ".join(f"{cands[i].profile.name}={probe.load[i]}" for i in live)
    pending = f", {probe.pending} starting before it" if probe.pending else ""
    return chosen, (f"placement: spread over {len(live)} live compliant workers "
                    f"({probe.others} other release(s) running{pending}; load {loads})")[:300]


def _greedy(live: list[int], load: list[int], pending: int) -> int:
    """The least loaded of ``live`` (fleet order on ties) once ``pending`` earlier
    releases each took the least loaded one."""
    for _ in range(pending):
        load[min(live, key=lambda i: (load[i], i))] += 1
    return min(live, key=lambda i: (load[i], i))


def next_wait_seconds(rounds: int, initial: float, maximum: float) -> float:
    """Backoff before retrying all candidates again after ``rounds`` failed rounds."""
    return float(min(maximum, initial * (2 ** max(0, rounds - 1))))


def profile_of_store(fleet: Fleet, bucket_uri: str) -> str | None:
    """Name of the profile whose bucket is ``bucket_uri`` (None if no profile owns it)."""
    for p in fleet.profiles:
        if p.store_uri.rstrip("/") == bucket_uri.rstrip("/"):
            return p.name
    return None


def forbidden_profiles(spec: StageSpec, fleet: Fleet, residency: ResidencyPolicy) -> list[str]:
    """Names of the profiles residency excludes for this stage (for status messages)."""
    return [p.name for p in fleet.profiles
            if not residency.allows(p.jurisdiction, spec.data_class)]
