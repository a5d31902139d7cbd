"""The front callers use: real HAProxy in front of real ``medpipe gateway`` processes.

Jurisdiction is enforced by the front (a request never reaches a gateway of
another jurisdiction: the gateways' own counters say so), a request without one
is refused, and a SIGKILLed gateway under steady load costs the callers nothing
(HAProxy retries on the other gateway) and gets its traffic back once restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.placement import Fleet
from medpipe.workers.config import default_fleet
from medpipe.workers.front import (
    FrontProxy,
    check_config,
    server_states,
    set_gateway_state,
    write_front_config,
)
from medpipe.workers.frontconfig import (
    GATEWAY_HEADER,
    JURISDICTION_HEADER,
    FrontBinding,
    jurisdiction_groups,
    render_front_config,
)
from medpipe.workers.pki import make_test_pki
from tests.frontrig import MODEL, GatewayProc, fleet_of, free_port, infer_body

ROOT = Path(__file__).resolve().parents[2]
ROW = [61.0, 6.4, 118.0, 131.0, 27.5]
INFER = f"/v2/models/{MODEL}/infer"


@pytest.fixture(scope="module")
def rig(sample: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[dict[str, GatewayProc], FrontProxy]]:
    """Two US gateways, one EU-DE gateway, and the front generated from their fleet."""
    tmp = tmp_path_factory.mktemp("front")
    pki = make_test_pki(tmp / "pki")
    gws = {name: GatewayProc(name, j, sample["model"], pki, tmp / "logs")
           for name, j in (("gw-us-a", "US"), ("gw-us-b", "US"), ("gw-eu", "EU-DE"))}
    front = FrontProxy(fleet_of(list(gws.values())), tmp / "front", free_port(), free_port())
    try:
        for g in gws.values():
            g.start()
        for g in gws.values():
            g.wait_ready()
        front.start()
        _wait_all_up(front)
        yield gws, front
    finally:
        front.stop()
        for g in gws.values():
            g.stop()


def _wait_all_up(front: FrontProxy, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not all(s.status == "UP" for s in server_states(front.socket)):
        assert time.monotonic() < deadline, server_states(front.socket)
        time.sleep(0.1)


# -- the configuration ---------------------------------------------------------------
def test_default_fleet_config_has_one_backend_per_jurisdiction_and_passes_haproxy(
        tmp_path: Path) -> None:
    fleet = default_fleet(tmp_path)
    groups = {j: sorted(g.name for g in gs) for j, gs in jurisdiction_groups(fleet).items()}
    assert groups == {"EU": ["gw-gcp-europe-west3"], "EU-DE": ["gw-gcp-europe-west3"],
                      "US": ["gw-aws-us-east-1", "gw-azure-eastus", "gw-onprem-gpu-01"]}
    out = write_front_config(fleet, FrontBinding("127.0.0.1", 8600, stats_port=8700,
                                                 socket=str(tmp_path / "s.sock")),
                             tmp_path / "haproxy.cfg")
    text = out.read_text()
    check_config(out)
    us = text.split("backend jur_US\n")[1].split("\nbackend ")[0]
    assert "gw-gcp-europe-west3" not in us and us.count("server ") == 3
    assert "http-check send meth GET uri /v2/health/ready" in us
    assert "option redispatch" in text and "retry-on conn-failure" in text


def test_compose_fleet_config_resolves_gateways_by_name_and_passes_haproxy(
        tmp_path: Path) -> None:
    """The compose file's front reaches gateways by service name (Docker's DNS)."""
    data = yaml.safe_load((ROOT / "deploy" / "fleet.compose.yaml").read_text())
    fleet = Fleet.model_validate(data["fleet"])
    out = write_front_config(fleet, FrontBinding("0.0.0.0", 8080, "0.0.0.0", 8404,
                                                 str(tmp_path / "admin.sock")),
                             tmp_path / "haproxy.cfg")
    text = out.read_text()
    assert "server gw-aws-us-east-1 gateway-aws:8080 check resolvers system" in text
    assert "parse-resolv-conf" in text
    us = text.split("backend jur_US\n")[1].split("\nbackend ")[0]
    assert "gateway-gcp" not in us and "gateway-azure" in us


def test_a_gateway_without_jurisdiction_is_in_no_jurisdiction_backend(tmp_path: Path) -> None:
    fleet = default_fleet(tmp_path)
    stray = fleet.gateways[0].model_copy(update={"name": "gw-stray", "cloud": "aws",
                                                 "region": "nowhere", "jurisdiction": ""})
    fleet = fleet.model_copy(update={"gateways": (*fleet.gateways, stray)})
    text = render_front_config(fleet, FrontBinding("127.0.0.1", 8600))
    assert "server gw-stray" not in text
    both = fleet.model_copy(update={"non_identifiable_models": ("risk-model",)})
    any_region = render_front_config(both, FrontBinding("127.0.0.1", 8600)).split(
        "backend any_region\n")[1].split("\nbackend ")[0]
    assert "server gw-stray" in any_region  # non-identifiable data: any region


def test_a_config_haproxy_refuses_is_not_installed(tmp_path: Path) -> None:
    fleet = default_fleet(tmp_path)
    good = write_front_config(fleet, FrontBinding("127.0.0.1", 8600), tmp_path / "h.cfg")
    before = good.read_text()
    with pytest.raises(InvalidInput, match="HAProxy refuses"):
        write_front_config(fleet, FrontBinding("127.0.0.1", 8600, stats_host="300.1.1.1",
                                               stats_port=8700), good)
    assert good.read_text() == before and not (tmp_path / "h.cfg.new").exists()
    bad = fleet.model_copy(update={"gateways": (fleet.gateways[0].model_copy(
        update={"public_url": "https://x:1"}),)})
    with pytest.raises(InvalidInput, match="must be http://HOST:PORT"):
        write_front_config(bad, FrontBinding("127.0.0.1", 8600), tmp_path / "h.cfg")


# -- jurisdiction ---------------------------------------------------------------------
def _counts(gws: dict[str, GatewayProc]) -> dict[str, float]:
    return {name: g.requests() for name, g in gws.items()}


@pytest.mark.slow
def test_requests_stay_in_the_callers_jurisdiction(rig: tuple[dict[str, GatewayProc],
                                                              FrontProxy]) -> None:
    gws, front = rig
    before = _counts(gws)
    answered = []
    with httpx.Client(base_url=front.url, timeout=10) as http:
        for _ in range(20):
            r = http.post(INFER, json=infer_body(ROW), headers={JURISDICTION_HEADER: "EU-DE"})
            assert r.status_code == 200, r.text
            answered.append(r.headers[GATEWAY_HEADER])
        for _ in range(10):
            r = http.post(INFER, json=infer_body(ROW), headers={JURISDICTION_HEADER: "EU"})
            assert r.status_code == 200, r.text
            answered.append(r.headers[GATEWAY_HEADER])
    mid = _counts(gws)
    assert set(answered) == {"gw-eu"}
    assert mid["gw-eu"] - before["gw-eu"] == 30
    assert mid["gw-us-a"] == before["gw-us-a"] and mid["gw-us-b"] == before["gw-us-b"]
    answered = []
    with httpx.Client(base_url=front.url, timeout=10) as http:
        for _ in range(30):
            r = http.post(INFER, json=infer_body(ROW), headers={JURISDICTION_HEADER: "US"})
            assert r.status_code == 200, r.text
            answered.append(r.headers[GATEWAY_HEADER])
    after = _counts(gws)
    assert set(answered) == {"gw-us-a", "gw-us-b"}  # active-active
    assert after["gw-eu"] == mid["gw-eu"]
    assert (after["gw-us-a"] - mid["gw-us-a"]) + (after["gw-us-b"] - mid["gw-us-b"]) == 30


@pytest.mark.slow
@pytest.mark.parametrize(("headers", "status", "says"), [
    ([], 400, "header is required"),
    ([(JURISDICTION_HEADER, "US"), (JURISDICTION_HEADER, "EU-DE")], 400, "one jurisdiction"),
    ([(JURISDICTION_HEADER, "US,EU-DE")], 400, "one jurisdiction"),
    ([(JURISDICTION_HEADER, "FR")], 403, "known: EU EU-DE US"),
    ([(JURISDICTION_HEADER, "us")], 403, "no gateway of this deployment"),
])
def test_a_request_without_one_known_jurisdiction_is_refused(
        rig: tuple[dict[str, GatewayProc], FrontProxy], headers: list[tuple[str, str]],
        status: int, says: str) -> None:
    gws, front = rig
    before = _counts(gws)
    r = httpx.post(front.url + INFER, json=infer_body(ROW), headers=headers, timeout=10)
    assert r.status_code == status and says in r.json()["error"], r.text
    assert _counts(gws) == before  # no gateway saw it


@pytest.mark.slow
def test_non_identifiable_models_go_anywhere_without_jurisdiction(
        rig: tuple[dict[str, GatewayProc], FrontProxy], tmp_path: Path) -> None:
    gws, _ = rig
    open_front = FrontProxy(fleet_of(list(gws.values()), non_identifiable=(MODEL,)),
                            tmp_path / "front", free_port())
    open_front.start()
    try:
        with httpx.Client(base_url=open_front.url, timeout=10) as http:
            answered = set()
            for _ in range(15):
                r = http.post(INFER, json=infer_body(ROW))
                assert r.status_code == 200, r.text
                answered.add(r.headers[GATEWAY_HEADER])
            assert answered == set(gws)  # every region
            other = http.post("/v2/models/other-model/infer", json=infer_body(ROW))
            assert other.status_code == 400  # not declared non-identifiable
            assert http.get("/front/health").status_code == 200
    finally:
        open_front.stop()


@pytest.mark.slow
def test_drain_takes_a_gateway_out_and_ready_puts_it_back(
        rig: tuple[dict[str, GatewayProc], FrontProxy]) -> None:
    gws, front = rig
    assert set_gateway_state(front.socket, "gw-us-a", "drain") == ["jur_US"]
    try:
        with httpx.Client(base_url=front.url, timeout=10) as http:
            seen = {http.post(INFER, json=infer_body(ROW), headers={JURISDICTION_HEADER: "US"}
                              ).headers[GATEWAY_HEADER] for _ in range(10)}
        assert seen == {"gw-us-b"}
        assert {s.status for s in server_states(front.socket) if s.server == "gw-us-a"} == \
            {"DRAIN"}
    finally:
        set_gateway_state(front.socket, "gw-us-a", "ready")
    with pytest.raises(InvalidInput, match="no gateway named"):
        set_gateway_state(front.socket, "gw-nope", "drain")


# -- failover -------------------------------------------------------------------------
@dataclass
class Load:
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    inflight: int = 0
    by_gateway: dict[str, int] = field(default_factory=dict)


async def _steady(url: str, stop: asyncio.Event, load: Load, rate: float) -> None:
    """Open-loop load: one request every 1/rate s, whatever the answers take."""
    async with httpx.AsyncClient(base_url=url, timeout=15) as http:
        async def one() -> None:
            load.inflight += 1
            try:
                r = await http.post(INFER, json=infer_body(ROW),
                                    headers={JURISDICTION_HEADER: "US"})
                if r.status_code == 200:
                    load.ok += 1
                    gw = r.headers[GATEWAY_HEADER]
                    load.by_gateway[gw] = load.by_gateway.get(gw, 0) + 1
                else:
                    load.failed.append(f"{r.status_code} {r.text[:100]}")
            except httpx.HTTPError as e:
                load.failed.append(f"{type(e).__name__}: {e}")
            finally:
                load.inflight -= 1

        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(1.0 / rate)
        await asyncio.gather(*tasks)


async def _until(check: object, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(check):  # type: ignore[arg-type]
        assert loop.time() < deadline, f"{what} within {timeout:.0f} s"
        await asyncio.sleep(0.2)


@pytest.mark.slow
def test_sigkill_of_a_gateway_under_load_fails_no_request_and_traffic_returns(
        rig: tuple[dict[str, GatewayProc], FrontProxy]) -> None:
    gws, front = rig
    victim, survivor = gws["gw-us-a"], gws["gw-us-b"]
    eu_before = gws["gw-eu"].requests()

    async def scenario() -> tuple[Load, int]:
        load, stop = Load(), asyncio.Event()
        runner = asyncio.create_task(_steady(front.url, stop, load, rate=40.0))
        await _until(lambda: load.by_gateway.get("gw-us-a", 0) >= 20, 60, "victim serves")
        in_flight_at_kill = load.inflight
        victim.kill()
        served_before = dict(load.by_gateway)
        await _until(lambda: load.by_gateway.get("gw-us-b", 0)
                     >= served_before.get("gw-us-b", 0) + 40, 60, "survivor takes the load")
        victim.start()  # what the supervisor of `dev up` does
        await asyncio.to_thread(victim.wait_ready)
        restarted_at = load.by_gateway.get("gw-us-a", 0)
        await _until(lambda: load.by_gateway.get("gw-us-a", 0) >= restarted_at + 10, 60,
                     "traffic returns to the restarted gateway")
        stop.set()
        await runner
        return load, in_flight_at_kill

    load, in_flight = asyncio.run(scenario())
    print(f"front under SIGKILL: {load.ok} answered, {len(load.failed)} failed, "
          f"{in_flight} in flight at the kill, per gateway {load.by_gateway}")
    assert not load.failed, load.failed
    assert victim.requests() >= 10  # the new process's own counter: it serves again
    assert gws["gw-eu"].requests() == eu_before  # US callers never reached EU-DE
    assert survivor.requests() > 0


# -- the local stack -------------------------------------------------------------------
def test_dev_stack_runs_the_front_and_checks_its_ports(tmp_path: Path) -> None:
    from medpipe.workers.config import StackConfig
    from medpipe.workers.dev import stack_children
    from medpipe.workers.devports import stack_ports

    config = StackConfig(home=str(tmp_path), fleet=default_fleet(tmp_path),
                         gateway_base_port=18600)
    ports = stack_ports(config, {})
    assert ports[18600].startswith("front") and ports[18700].startswith("front stats")
    front = [c for c in stack_children(config, tmp_path) if c.name == "front"]
    assert len(front) == 1 and front[0].cmd[-2:] == ["-f", str(tmp_path / "front" /
                                                                "haproxy.cfg")]
    off = config.model_copy(update={"front": False})
    assert 18600 not in stack_ports(off, {})
    assert "front" not in {c.name for c in stack_children(off, tmp_path)}
