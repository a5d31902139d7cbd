"""One chaos scenario of each kind on one real non-production stack, each report a pass.

The stack is ``medpipe dev up --storage emulated`` (Temporal dev server on a
SQLite file, moto/gcs-emulator/Azurite, the S3 proxy, workers, gateways, the
chaos runner), started once for the module on its own ports and state dir.
Each test runs ``medpipe chaos run --scenario S`` as a person would and reads
the stored report back through ``medpipe chaos report``. The first test checks the
emulated stack itself (a release lands its sealed inputs on the emulators): one
``dev up --storage emulated`` serves both, as starting it costs about half a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from medpipe.workers.devserver import free_port
from medpipe.workers.ports import free_block
from tests.workers.test_cli import _free_gateway_base, medpipe

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


def _free_block(size: int) -> int:
    """A first port with the ``size - 1`` ports after it free too (emulators and S3 proxy),
    outside the ephemeral range like the stack's other ports (``ports.free_block``)."""
    return free_block(tuple(range(size)))


@pytest.fixture(scope="module")
def stack_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    """The stack's environment and what ``dev up`` printed."""
    tmp = tmp_path_factory.mktemp("chaos")
    port = free_port()
    base = _free_gateway_base()
    config = tmp / "medpipe.yaml"
    config.write_text(yaml.safe_dump({
        "environment": "non-production", "temporal_address": f"127.0.0.1:{port}",
        "ui_url": f"http://127.0.0.1:{port + 1000}", "codec_port": free_port(),
        "gateway_base_port": base, "emulator_base_port": _free_block(4)}))
    env = {"MEDPIPE_HOME": str(tmp / "home"), "MEDPIPE_CONFIG": str(config)}
    try:
        up = medpipe("dev", "up", "--storage", "emulated", env=env, timeout=240)
        assert up.returncode == 0, up.stdout + up.stderr
        yield env, up.stdout
    finally:
        medpipe("dev", "down", env=env)


@pytest.fixture(scope="module")
def stack(stack_up: tuple[dict[str, str], str]) -> dict[str, str]:
    """The stack's environment (``MEDPIPE_HOME``, ``MEDPIPE_CONFIG``)."""
    return stack_up[0]


def test_dev_stack_on_emulated_cloud_storage(stack_up: tuple[dict[str, str], str],
                                             sample: dict[str, Path]) -> None:
    """`medpipe dev up --storage emulated`: the AWS, GCP and Azure profiles store on moto,
    gcp-storage-emulator and Azurite (real processes); a release lands its sealed inputs there."""
    env, up_stdout = stack_up
    assert "emulated storage" in up_stdout, up_stdout
    st = medpipe("dev", "status", env=env)
    for name in ("emulator-s3", "emulator-gcs", "emulator-azure"):
        assert name in st.stdout, st.stdout
    rel = medpipe("release", "--model", str(sample["model"]), "--data",
                  str(sample["dataset"]), "--name", "risk", "--version", "emu1",
                  "--no-deploy", "--wait", env=env)
    assert rel.returncode == 0, rel.stdout + rel.stderr
    status = json.loads(medpipe("status", "release-risk-emu1", "--json", env=env).stdout)
    buckets = {a["bucket_uri"].split("://")[0] for a in status["ingest"]["artifacts"]}
    assert buckets <= {"s3", "azblob"} and buckets, buckets  # US clouds, emulated


def _run(env: dict[str, str], scenario: str) -> dict:
    r = medpipe("chaos", "run", "--scenario", scenario, "--deadline", "240", "--output", "json",
                env=env, timeout=600)
    reports = json.loads(r.stdout) if r.stdout.strip().startswith("[") else []
    assert reports, r.stdout + r.stderr
    report = reports[0]
    assert report["scenario"] == scenario
    assert report["verdict"] == "pass" and r.returncode == 0, json.dumps(report, indent=1)
    assert report["data_lost"] == 0 and report["artifacts_checked"] > 0
    assert report["releases_completed"] == report["releases_started"] >= 1
    assert report["injections"] and report["report_uri"]
    return report


def test_worker_sigkill_mid_stage(stack: dict[str, str]) -> None:
    report = _run(stack, "worker-kill")
    assert report["injections"][0]["action"] == "SIGKILL"
    assert report["injections"][0]["target"].startswith("worker-")
    assert any("worker-lost" in f or "no-worker" in f for f in report["failovers"]), report


def test_gpu_loss(stack: dict[str, str]) -> None:
    report = _run(stack, "gpu-loss")
    assert any("evaluate" in f and "accelerator-unavailable" in f
               for f in report["failovers"]), report["failovers"]
    assert not (Path(stack["MEDPIPE_HOME"]) / "chaos" / "accelerator-off").exists()


def test_network_partition(stack: dict[str, str]) -> None:
    report = _run(stack, "network-partition")
    assert [i["action"] for i in report["injections"]] == ["cut", "restore"]
    assert any("provider-unavailable" in f or "input-unavailable" in f
               for f in report["failovers"]), report["failovers"]


def test_store_stopped(stack: dict[str, str]) -> None:
    report = _run(stack, "store-stopped")
    assert [i["action"] for i in report["injections"]] == ["SIGSTOP", "SIGCONT"]
    assert report["failovers"], report
    print(f"store-stopped: failover after {report['failover_s']} s; {report['failovers']}")


def test_temporal_restart(stack: dict[str, str]) -> None:
    report = _run(stack, "temporal-restart")
    assert report["injections"][0]["target"] == "temporal"
    assert report["failover_s"] is not None


def test_gateway_killed_during_canary(stack: dict[str, str]) -> None:
    report = _run(stack, "gateway-kill")
    assert report["injections"][0]["target"].startswith("gw-")
    assert report["requests_sent"] > 0
    assert report["front_requests_sent"] > 0  # dev up runs the front (HAProxy) callers use


def test_reports_are_stored_in_the_ledger_and_the_schedule_exists(stack: dict[str, str]
                                                                   ) -> None:
    shown = medpipe("chaos", "report", "--output", "json", env=stack)
    assert shown.returncode == 0, shown.stderr
    scenarios = {r["scenario"] for r in json.loads(shown.stdout)}
    assert scenarios >= {"worker-kill", "gpu-loss"}, scenarios
    table = medpipe("chaos", "report", env=stack)
    assert "worker-kill" in table.stdout and "pass" in table.stdout
    chain = medpipe("ledger", "verify", env=stack)
    assert chain.returncode == 0, chain.stdout + chain.stderr
    sched = medpipe("chaos", "schedule", "--cron", "0 3 * * 1", "--scenario", "gpu-loss",
                    env=stack)
    assert sched.returncode == 0 and "created" in sched.stdout, sched.stdout + sched.stderr
    again = medpipe("chaos", "schedule", "--cron", "0 4 * * 1", "--scenario", "gpu-loss",
                    env=stack)
    assert again.returncode == 0 and "replaced" in again.stdout, again.stdout + again.stderr
    bad = medpipe("chaos", "schedule", "--cron", "tomorrow", "--all", env=stack)
    assert bad.returncode == 2 and "not a cron expression" in bad.stderr
    # the schedule's action runs on the stack's chaos runner and stores its report
    before = {r["exercise_id"] for r in json.loads(medpipe(
        "chaos", "report", "--output", "json", env=stack).stdout)}
    address = yaml.safe_load(Path(stack["MEDPIPE_CONFIG"]).read_text())["temporal_address"]
    temporal = [str(Path(sys.executable).parent / "temporal"), "--address", address]
    subprocess.run([*temporal[:1], "schedule", "trigger", "-s", "chaos-medpipe",
                    *temporal[1:]], check=True, capture_output=True, timeout=30)
    deadline = time.monotonic() + 240
    while True:
        latest = {r["scenario"]: r for r in json.loads(medpipe(
            "chaos", "report", "--output", "json", env=stack).stdout)}
        if latest["gpu-loss"]["exercise_id"] not in before:
            break
        assert time.monotonic() < deadline, "the scheduled exercise did not report"
        time.sleep(2)
    assert latest["gpu-loss"]["verdict"] == "pass", latest["gpu-loss"]
    subprocess.run([*temporal[:1], "schedule", "delete", "-s", "chaos-medpipe",
                    *temporal[1:]], check=True, capture_output=True, timeout=30)
