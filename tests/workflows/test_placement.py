"""Unit tests of the pure placement rules (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medpipe.contracts.placement import (
    Cloud,
    ComputeKind,
    DataClass,
    Fleet,
    ResidencyPolicy,
    WorkerProfile,
    jurisdiction_allowed,
)
from medpipe.contracts.release import Stage
from medpipe.contracts.spread import ProbeLoadResult
from medpipe.workflows.placement import (
    StageSpec,
    candidates,
    forbidden_profiles,
    next_wait_seconds,
    spread,
)
from tests.support import make_fleet

INGEST = StageSpec(stage=Stage.INGEST, data_class=DataClass.IDENTIFIABLE)
EVALUATE = StageSpec(stage=Stage.EVALUATE, data_class=DataClass.IDENTIFIABLE, wants_gpu=True)


@pytest.fixture()
def fleet(tmp_path: Path) -> Fleet:
    return make_fleet(tmp_path, prefix="medpipe")


def test_us_release_never_lists_the_eu_worker(fleet: Fleet) -> None:
    queues = [c.queue for c in candidates(INGEST, fleet, ResidencyPolicy())]
    assert queues == ["medpipe.aws.us-east-1.cpu", "medpipe.azure.eastus.cpu",
                      "medpipe.onprem.gpu-01.cpu"]


def test_eu_release_lists_only_the_eu_worker(fleet: Fleet) -> None:
    eu = ResidencyPolicy(allowed_jurisdictions=("EU",))
    assert [c.queue for c in candidates(INGEST, fleet, eu)] == ["medpipe.gcp.europe-west3.cpu"]
    assert forbidden_profiles(INGEST, fleet, eu) == ["aws/us-east-1", "azure/eastus",
                                                     "onprem/gpu-01"]


def test_gpu_first_then_cpu_degradation(fleet: Fleet) -> None:
    cands = candidates(EVALUATE, fleet, ResidencyPolicy())
    assert cands[0].kind is ComputeKind.GPU and cands[0].queue == "medpipe.onprem.gpu-01.gpu"
    assert all(c.kind is ComputeKind.CPU for c in cands[1:])


def test_locality_preference_moves_data_cloud_first(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy(), prefer_cloud="azure")
    assert cands[0].profile.cloud is Cloud.AZURE


def test_pseudonymized_data_may_travel_only_if_policy_says_so(fleet: Fleet) -> None:
    spec = StageSpec(stage=Stage.EVALUATE, data_class=DataClass.PSEUDONYMIZED)
    strict = ResidencyPolicy(allowed_jurisdictions=("US",))
    loose = ResidencyPolicy(allowed_jurisdictions=("US",), pseudonymized_anywhere=True)
    assert "gcp" not in {c.profile.cloud.value for c in candidates(spec, fleet, strict)}
    assert "gcp" in {c.profile.cloud.value for c in candidates(spec, fleet, loose)}


def test_no_compliant_worker_gives_no_candidates(fleet: Fleet) -> None:
    assert candidates(INGEST, fleet, ResidencyPolicy(allowed_jurisdictions=("JP",))) == []


def test_jurisdiction_prefix_rules() -> None:
    assert jurisdiction_allowed("US-CA", ("US",))
    assert not jurisdiction_allowed("US", ("US-CA",))
    assert not jurisdiction_allowed("USX", ("US",))
    assert jurisdiction_allowed("EU-DE", ("EU",))
    assert jurisdiction_allowed("JP", ("*",))


def test_backoff_grows_and_caps() -> None:
    assert [next_wait_seconds(r, 1, 5) for r in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_empty_residency_policy_is_refused() -> None:
    with pytest.raises(ValueError):
        ResidencyPolicy(allowed_jurisdictions=())


JURS = st.sampled_from(["US", "US-CA", "US-NY", "EU-DE", "EU-FR", "GB", "JP"])


@given(profiles=st.lists(st.tuples(st.sampled_from(list(Cloud)), JURS, st.booleans()),
                         min_size=1, max_size=8),
       allowed=st.lists(st.sampled_from(["US", "EU", "US-CA", "GB"]), min_size=1, max_size=3),
       wants_gpu=st.booleans())
def test_identifiable_data_never_placed_outside_allowed(profiles, allowed, wants_gpu) -> None:  # type: ignore[no-untyped-def]
    fleet = Fleet(profiles=tuple(
        WorkerProfile(cloud=c, region=f"r{i}", jurisdiction=j,
                      accelerators=("cuda",) if g else ())
        for i, (c, j, g) in enumerate(profiles)))
    residency = ResidencyPolicy(allowed_jurisdictions=tuple(allowed))
    spec = StageSpec(stage=Stage.EVALUATE, data_class=DataClass.IDENTIFIABLE,
                     wants_gpu=wants_gpu)
    cands = candidates(spec, fleet, residency)
    for c in cands:
        assert jurisdiction_allowed(c.profile.jurisdiction, tuple(allowed))
    expected_cpu = sum(1 for _, j, _ in profiles if jurisdiction_allowed(j, tuple(allowed)))
    assert sum(1 for c in cands if c.kind is ComputeKind.CPU) == expected_cpu


# -- spreading concurrent releases (workflows.placement.spread) ---------------------------

def _probe(live: tuple[bool, ...], load: tuple[int, ...], others: int = 1,
           ahead: int = 0) -> ProbeLoadResult:
    return ProbeLoadResult(live=live, load=load, others=others, ahead=ahead)


def test_a_release_alone_keeps_fleet_order(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy())
    # even when the first worker is not polling: failover handles it, as before
    assert spread(cands, _probe((False, True, True), (0, 0, 0), others=0)) == (0, "")


def test_concurrent_releases_go_to_the_least_loaded_live_worker(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy())  # aws, azure, onprem
    index, note = spread(cands, _probe((True, True, False), (3, 1, 0), others=4, ahead=4))
    assert cands[index].profile.name == "azure/eastus"  # onprem is idle but not polled
    assert "aws/us-east-1=3" in note and "azure/eastus=1" in note and "onprem" not in note


def test_a_burst_with_equal_loads_spreads_round_robin(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy())
    chosen = [cands[spread(cands, _probe((True, True, True), (0, 0, 0), others=9,
                                         ahead=k))[0]].profile.name for k in range(9)]
    assert {n: chosen.count(n) for n in set(chosen)} == {
        "aws/us-east-1": 3, "azure/eastus": 3, "onprem/gpu-01": 3}


def _greedy_homes(n: int, workers: int) -> list[int]:
    """Homes of ``n`` releases placed one after the other on the least loaded worker."""
    load, homes = [0] * workers, []
    for _ in range(n):
        homes.append(min(range(workers), key=lambda i: (load[i], i)))
        load[homes[-1]] += 1
    return homes


@given(seen=st.lists(st.sets(st.integers(0, 9)), min_size=10, max_size=10))
def test_a_burst_splits_evenly_whatever_visibility_shows_placed(seen) -> None:  # type: ignore[no-untyped-def]
    """Ten releases started at once over two live workers: release k's probe lists the
    earlier releases in ``seen[k]`` as placed (at their homes) and the other earlier ones
    without a stage yet (visibility lags); every release still picks the home the
    one-by-one greedy order gives it, so the burst splits 5/5."""
    cands = candidates(INGEST, Fleet(profiles=(
        WorkerProfile(cloud=Cloud.AWS, region="us-east-1", jurisdiction="US"),
        WorkerProfile(cloud=Cloud.AZURE, region="eastus", jurisdiction="US"))),
        ResidencyPolicy())
    expected = _greedy_homes(10, 2)
    homes: list[int] = []
    for k in range(10):
        placed = [j for j in range(k) if j in seen[k]]
        load = tuple(sum(1 for j in placed if homes[j] == i) for i in range(2))
        probe = ProbeLoadResult(live=(True, True), load=load, others=9, ahead=k,
                                pending=k - len(placed))
        homes.append(spread(cands, probe)[0])
    assert homes == expected and homes.count(0) == homes.count(1) == 5


def test_releases_ahead_without_a_stage_are_placed_first(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy())  # aws, azure, onprem
    live = (True, True, False)
    # two releases placed on aws, three started earlier without a stage yet: they go
    # to azure, azure, then aws (a tie: fleet order) -> this one on azure (3 vs 2)
    index, note = spread(cands, ProbeLoadResult(live=live, load=(2, 0, 0), others=5,
                                                ahead=5, pending=3))
    assert cands[index].profile.name == "azure/eastus", note
    assert "3 starting before it" in note
    # with two of them ahead: 2 vs 2, fleet order
    index, _ = spread(cands, ProbeLoadResult(live=live, load=(2, 0, 0), others=5,
                                             ahead=5, pending=2))
    assert cands[index].profile.name == "aws/us-east-1"
    # a probe recorded before burst accounting (no pending) keeps its round-robin rule
    assert spread(cands, _probe(live, (1, 1, 0), others=2, ahead=1))[0] == 1


def test_no_polled_worker_keeps_fleet_order(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy())
    assert spread(cands, _probe((False,) * 3, (0, 0, 0), others=2, ahead=1))[0] == 0


def test_a_probe_that_does_not_match_the_candidates_changes_nothing(fleet: Fleet) -> None:
    cands = candidates(INGEST, fleet, ResidencyPolicy())
    assert spread(cands, _probe((True, True), (5, 0), others=3, ahead=1)) == (0, "")


@given(profiles=st.lists(st.tuples(st.sampled_from(list(Cloud)), JURS), min_size=1,
                         max_size=6, unique=True),
       allowed=st.lists(st.sampled_from(["US", "EU", "US-CA", "GB"]), min_size=1, max_size=3),
       live=st.lists(st.booleans(), min_size=6, max_size=6),
       load=st.lists(st.integers(0, 5), min_size=6, max_size=6),
       others=st.integers(0, 20), ahead=st.integers(0, 20))
def test_spreading_never_leaves_the_allowed_jurisdictions(  # type: ignore[no-untyped-def]
        profiles, allowed, live, load, others, ahead) -> None:
    fleet = Fleet(profiles=tuple(WorkerProfile(cloud=c, region=f"r{i}", jurisdiction=j)
                                 for i, (c, j) in enumerate(profiles)))
    cands = candidates(INGEST, fleet, ResidencyPolicy(allowed_jurisdictions=tuple(allowed)))
    if not cands:
        return
    n = len(cands)
    index, _ = spread(cands, _probe(tuple(live[:n]), tuple(load[:n]), others, ahead))
    assert 0 <= index < n
    assert jurisdiction_allowed(cands[index].profile.jurisdiction, tuple(allowed))
    if others and any(live[:n]):  # a polled worker with the fewest releases
        assert live[index] and load[index] == min(load[i] for i in range(n) if live[i])
