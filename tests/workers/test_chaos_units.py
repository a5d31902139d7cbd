"""Chaos exercises without a stack: the cuttable proxy, the production refusal, the verdict."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from medpipe.activities.chaos_flags import ACCELERATOR_OFF, accelerator_refused, flags_dir
from medpipe.activities.evaluate import choose_providers
from medpipe.contracts.chaos import Injection, ResilienceReport, Scenario, Verdict
from medpipe.contracts.errors import AcceleratorUnavailable
from medpipe.workers.chaos.proxy import CuttableProxy
from medpipe.workers.chaos.reports import judge
from tests.workers.test_cli import medpipe


async def _echo_server() -> asyncio.Server:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def _roundtrip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 5)
    finally:
        writer.close()


async def test_proxy_forwards_cuts_open_and_new_connections_and_restores() -> None:
    server = await _echo_server()
    upstream = server.sockets[0].getsockname()[1]
    proxy = CuttableProxy("127.0.0.1", 0, "127.0.0.1", upstream)
    await proxy.start()
    try:
        assert await _roundtrip(proxy.port, b"x" * 100_000) == b"x" * 100_000
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"before")
        await writer.drain()
        assert await reader.readexactly(6) == b"before"
        proxy.cut()  # the open connection is reset...
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            writer.write(b"after")
            await writer.drain()
            await asyncio.wait_for(reader.readexactly(5), 5)
        writer.close()
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):  # ...and new ones
            await _roundtrip(proxy.port, b"new")
        proxy.restore()
        assert await _roundtrip(proxy.port, b"healed") == b"healed"
    finally:
        await proxy.close()
        server.close()


def _report(**kw: object) -> ResilienceReport:
    now = datetime.now(UTC)
    base: dict[str, object] = dict(
        scenario=Scenario.WORKER_KILL, exercise_id="chaos-x", started_at=now, finished_at=now,
        fleet_prefix="medpipe", release_ids=("r",), releases_started=1, releases_completed=1,
        artifacts_checked=3, failover_s=2.0,
        injections=(Injection(action="SIGKILL", target="worker-aws-us-east-1", at=now),))
    base.update(kw)
    return ResilienceReport.model_validate(base)


@pytest.mark.parametrize(("change", "why"), [
    ({}, None),
    ({"data_lost": 1}, "1 artifact(s) lost"),
    ({"releases_completed": 0}, "0/1 releases completed"),
    ({"failover_s": 61.0}, "failover 61.0 s > goal 60 s"),
    ({"artifacts_checked": 0}, "data loss not verified"),
    ({"injections": ()}, "nothing was injected"),
    ({"requests_sent": 100, "requests_failed": 40}, "40/100 inference requests failed"),
    ({"front_requests_sent": 1000, "front_requests_failed": 11},
     "11/1000 requests through the front failed"),
])
def test_verdict_names_each_missed_goal(change: dict[str, object], why: str | None) -> None:
    judged = judge(_report(**change))
    if why is None:
        assert judged.verdict is Verdict.PASS and not judged.failures
    else:
        assert judged.verdict is Verdict.FAIL
        assert any(why in f for f in judged.failures), judged.failures


def test_gpu_loss_flag_makes_gpu_steps_refuse_their_accelerator(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.setenv("MEDPIPE_HOME", str(tmp_path))
    assert not accelerator_refused()
    choose_providers(require_accelerator=False, profile_has_gpu=True)  # CPU steps unaffected
    flags_dir().mkdir(parents=True)
    (flags_dir() / ACCELERATOR_OFF).write_text("x")
    assert accelerator_refused()
    with pytest.raises(AcceleratorUnavailable, match="chaos exercise"):
        choose_providers(require_accelerator=True, profile_has_gpu=True)
    assert choose_providers(require_accelerator=False, profile_has_gpu=True)


@pytest.mark.parametrize("args", [["chaos", "run", "--all"],
                                  ["chaos", "run", "--scenario", "worker-kill"],
                                  ["chaos", "schedule", "--cron", "0 3 * * *", "--all"]])
def test_production_fleet_is_refused_naming_the_setting(tmp_path: Path, args: list[str]) -> None:
    """The default fleet is production: nothing is injected, nothing is connected to."""
    env = {"MEDPIPE_HOME": str(tmp_path / "home"), "MEDPIPE_CONFIG": ""}
    r = medpipe(*args, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    message = " ".join(r.stderr.split())
    assert "chaos exercises refused: the fleet is production (fleet.environment)" in message
    assert "environment: non-production" in message and "Traceback" not in r.stderr
    explicit = tmp_path / "prod.yaml"
    explicit.write_text(yaml.safe_dump({"environment": "production"}))
    r = medpipe(*args, env={**env, "MEDPIPE_CONFIG": str(explicit)})
    assert r.returncode == 1 and "fleet is production" in r.stderr


def test_environment_setting_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"environment": "staging"}))
    r = medpipe("chaos", "report", env={"MEDPIPE_HOME": str(tmp_path / "home"),
                                        "MEDPIPE_CONFIG": str(bad)})
    assert r.returncode == 2 and "environment must be production or non-production, not " \
        "'staging'" in r.stderr and "Traceback" not in r.stderr


def test_chaos_run_needs_a_scenario(tmp_path: Path) -> None:
    r = medpipe("chaos", "run", env={"MEDPIPE_HOME": str(tmp_path), "MEDPIPE_CONFIG": ""})
    assert r.returncode == 2 and "--scenario" in r.stderr and "--all" in r.stderr


def test_read_back_counts_an_altered_artifact_as_lost(tmp_path: Path) -> None:
    from medpipe.activities.storage.local import LocalStore
    from medpipe.contracts.release import ReleaseState, ReleaseStatus
    from medpipe.workers.chaos.release_probe import read_back

    store = LocalStore((tmp_path / "bucket").as_uri())
    store.ensure_bucket()
    good = store.put("a", [b"intact"])
    bad = store.put("b", [b"recorded"])
    status = ReleaseStatus(release_id="r", model="m", version="v", state=ReleaseState.SUCCEEDED)

    def ref(name: str, key: str, sha: str, size: int) -> dict[str, object]:
        return {"name": name, "bucket_uri": store.bucket_uri, "key": key, "sha256": sha,
                "size": size}

    checked, lost, why = read_back(status, {"x": [ref("good", "a", good.sha256, good.size)]})
    assert (checked, lost, why) == (1, 0, [])
    altered = ref("bad", "b", "0" * 64, bad.size)  # the digest the release recorded differs
    checked, lost, why = read_back(status, {"x": [ref("good", "a", good.sha256, good.size)]},
                                   {"y": {"z": altered}})
    assert (checked, lost) == (2, 1) and why[0].startswith("bad: IntegrityError"), why
