"""The ``medpipe`` command as a person runs it: real processes, real stack."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from medpipe.workers.config import load_config
from medpipe.workers.devserver import free_port
from medpipe.workers.ports import free_block
from tests.replay_all import failure_report, replay_stack


def medpipe(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medpipe", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200",
                                                           **(env or {})})


def test_missing_model_file_is_refused_before_anything_starts(sample: dict[str, Path]) -> None:
    r = medpipe("release", "--model", "/nonexistent/model.onnx", "--data", str(sample["dataset"]))
    assert r.returncode == 2
    assert "model /nonexistent/model.onnx does not exist" in r.stderr
    assert "Traceback" not in r.stderr


def test_non_onnx_model_is_refused(tmp_path: Path, sample: dict[str, Path]) -> None:
    bad = tmp_path / "m.onnx"
    bad.write_text("hello")
    r = medpipe("release", "--model", str(bad), "--data", str(sample["dataset"]))
    assert r.returncode == 2 and "not a valid ONNX model" in r.stderr


def test_unreachable_server_says_how_to_start_it(sample: dict[str, Path]) -> None:
    r = medpipe("--address", f"127.0.0.1:{free_port()}", "release", "--model",
                str(sample["model"]), "--data", str(sample["dataset"]))
    assert r.returncode == 3
    assert "cannot reach Temporal" in r.stderr and "medpipe dev up" in r.stderr


def test_invalid_model_name_is_refused(sample: dict[str, Path]) -> None:
    r = medpipe("release", "--model", str(sample["model"]), "--data", str(sample["dataset"]),
                "--name", "Bad Name!")
    assert r.returncode == 2 and "invalid release request" in r.stderr


def test_sample_writes_a_cohort_and_models(tmp_path: Path) -> None:
    r = medpipe("sample", "-o", str(tmp_path), "--patients", "50")
    assert r.returncode == 0, r.stderr
    header = (tmp_path / "cohort.csv").read_text().splitlines()[0]
    for col in ("patient_id", "name", "ssn", "birth_date", "notes", "label"):
        assert col in header
    assert (tmp_path / "model.onnx").stat().st_size > 0


#: The gateways' ports (base+1..4, base+101..104) and the front's (base, base+100).
GATEWAY_OFFSETS = (0, 1, 2, 3, 4, 100, 101, 102, 103, 104)


def _free_gateway_base() -> int:
    """A base port whose gateway ports and the front's are all free (``GATEWAY_OFFSETS``)."""
    return free_block(GATEWAY_OFFSETS)


def test_dev_stack_up_release_canary_rollback_down(tmp_path: Path, sample: dict[str, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command in miniature, on its own ports and state dir:
    a first release deploys to the stack's four gateways, a second one is rolled
    back by ``medpipe rollback`` in the middle of its canary while ``medpipe
    traffic`` feeds it."""
    # one base for all, so that no two of the stack's ports can meet: the frontend, the Web
    # UI (+1000), the codec server (+2000), the gateways and the front (+3000 and up)
    port = free_block((0, 1000, 2000) + tuple(3000 + o for o in GATEWAY_OFFSETS))
    home = tmp_path / "home"
    config = tmp_path / "medpipe.yaml"
    gateway_base = port + 3000
    config.write_text(yaml.safe_dump({"temporal_address": f"127.0.0.1:{port}",
                                      "ui_url": f"http://127.0.0.1:{port + 1000}",
                                      "codec_port": port + 2000,
                                      "gateway_base_port": gateway_base}))
    env = {"MEDPIPE_HOME": str(home), "MEDPIPE_CONFIG": str(config)}
    traffic = None
    try:
        up = medpipe("dev", "up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        st = medpipe("dev", "status", env=env)
        assert st.returncode == 0 and st.stdout.count("running") >= 10, st.stdout
        assert "codec-server" in st.stdout
        assert "gw-aws-us-east-1" in st.stdout and "gw-onprem-gpu-01" in st.stdout
        rel = medpipe("release", "--model", str(sample["model"]), "--data",
                      str(sample["dataset"]), "--name", "risk-model", "--version", "cli1",
                      "--wait", env=env)
        assert rel.returncode == 0, rel.stdout + rel.stderr
        assert "release-risk-model-cli1" in rel.stdout and "succeeded" in rel.stdout
        assert "canary: promoted (initial deployment)" in rel.stdout, rel.stdout
        assert f"http://127.0.0.1:{port + 1000}/namespaces/default/workflows/" \
               "release-risk-model-cli1" in rel.stdout
        status = medpipe("status", "release-risk-model-cli1", "--json", env=env)
        assert '"state": "succeeded"' in status.stdout
        as_json = json.loads(medpipe("status", "release-risk-model-cli1", "--output", "json",
                                     env=env).stdout)
        assert as_json["state"] == "succeeded" and as_json["stages"], as_json
        listed = medpipe("list", "--model", "risk-model", env=env)
        assert "release-risk-model-cli1" in listed.stdout
        rows = json.loads(medpipe("list", "--model", "risk-model", "--output", "json",
                                  env=env).stdout)
        assert [r["release"] for r in rows] == ["release-risk-model-cli1"]
        canary_json = json.loads(medpipe("canary", "risk-model-cli1", "--output", "json",
                                         env=env).stdout)
        assert canary_json["release_id"] == "release-risk-model-cli1"
        # auditors: the evidence pack of the release verifies as a whole, and offline
        ev = medpipe("evidence", "risk-model-cli1", "-o", str(tmp_path / "evidence"), env=env)
        assert ev.returncode == 0, ev.stdout + ev.stderr
        checked = medpipe("verify", "--output", "json", "--evidence",
                          str(tmp_path / "evidence"), "--trusted-key",
                          str(home / "keys" / "signing.pub.pem"), env=env)
        assert checked.returncode == 0 and '"verified": true' in checked.stdout, checked.stderr
        chain = medpipe("ledger", "verify", env=env)
        assert chain.returncode == 0 and "OK" in chain.stdout, chain.stdout + chain.stderr
        shown = medpipe("ledger", "show", "--release", "risk-model-cli1", env=env)
        for kind in ("release-started", "stage-completed", "signed", "deployed"):
            assert kind in shown.stdout, shown.stdout

        # Nothing to roll back yet for a release that was never deployed.
        none = medpipe("rollback", "risk-model-nope", "--reason", "test", env=env)
        assert none.returncode == 1 and "no canary for release release-risk-model-nope" \
            in none.stderr
        # The second version's canary, fed by `medpipe traffic`, rolled back by a person.
        traffic = subprocess.Popen(
            [sys.executable, "-m", "medpipe", "traffic", "--rate", "20", "--data",
             str(sample["dataset"])], env={**os.environ, **env}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        rel2 = medpipe("release", "--model", str(sample["model_v2"]), "--data",
                       str(sample["dataset"]), "--name", "risk-model", "--version", "cli2",
                       "--canary-bake", "60", env=env)
        assert rel2.returncode == 0, rel2.stdout + rel2.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            can = medpipe("canary", "risk-model-cli2", env=env)
            if "baking" in can.stdout:
                break
            time.sleep(0.5)
        assert "baking" in can.stdout, can.stdout + can.stderr
        no_reason = medpipe("rollback", "risk-model-cli2", "--reason", "  ", env=env)
        assert no_reason.returncode == 2 and "needs a reason" in no_reason.stderr
        rb = medpipe("rollback", "risk-model-cli2", "--reason", "sepsis alerts doubled",
                     "--incident", "INC-123", env=env)
        assert rb.returncode == 0, rb.stdout + rb.stderr
        assert "rolled back" in rb.stdout and "gw-gcp-europe-west3 0 %" in rb.stdout
        watched = medpipe("watch", "release-risk-model-cli2", env=env)
        assert watched.returncode == 1 and "INC-123" in watched.stdout, watched.stdout
        assert "sepsis alerts doubled" in watched.stdout
        rolled = medpipe("ledger", "show", "--release", "risk-model-cli2", env=env)
        assert "rolled-back" in rolled.stdout and "INC-123" in rolled.stdout, rolled.stdout
        logs = medpipe("dev", "logs", env=env)
        assert "temporal" in logs.stdout
        # Every workflow the stack closed replays on the current code, as a worker taking
        # it over would replay it (``tests.replay_all``); a failing history is kept.
        monkeypatch.setenv("MEDPIPE_HOME", str(home))
        replayed, failures = asyncio.run(replay_stack(load_config(str(config))))
        assert replayed >= 3 and not failures, failure_report(failures)
    finally:
        if traffic is not None:
            traffic.terminate()
            out, _ = traffic.communicate(timeout=10)
        down = medpipe("dev", "down", env=env)
    assert "ok" in out  # the traffic command reports what it sent
    assert down.returncode == 0 and "stopped" in down.stdout
    gone = medpipe("dev", "status", env=env)
    assert gone.returncode == 1 and "no local stack" in gone.stdout
    # A full stack restart is not an outage: every gateway serves the in-service model
    # (cli1, after cli2's rollback) again without a release, its signature verified again.
    try:
        up = medpipe("dev", "up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        for i in range(4):
            url = f"http://127.0.0.1:{gateway_base + 1 + i}/v2/models/risk-model"
            deadline = time.monotonic() + 60
            while True:
                try:
                    meta = httpx.get(url, timeout=2)
                    if meta.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"gateway {i} never served risk-model"
                time.sleep(0.2)
            assert meta.json()["versions"] == ["cli1"], meta.text
            width = meta.json()["inputs"][0]["shape"][1]
            r = httpx.post(url + "/infer", json={"inputs": [{
                "name": meta.json()["inputs"][0]["name"], "shape": [1, width],
                "datatype": "FP32", "data": [0.5] * width}]})
            assert r.status_code == 200 and r.json()["model_version"] == "cli1", r.text
        # callers use the front: US requests reach only US gateways, and are answered
        front = f"http://127.0.0.1:{gateway_base}/v2/models/risk-model/infer"
        deadline = time.monotonic() + 30  # until the front's health checks pass (rise 2)
        while True:
            via = httpx.post(front, headers={"Medpipe-Jurisdiction": "US"}, timeout=10,
                             json={"inputs": [{"name": meta.json()["inputs"][0]["name"],
                                               "shape": [1, width], "datatype": "FP32",
                                               "data": [0.5] * width}]})
            if via.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert via.status_code == 200 and via.json()["model_version"] == "cli1", via.text
        assert via.headers["Medpipe-Gateway"] != "gw-gcp-europe-west3"
    finally:
        medpipe("dev", "down", env=env)


@pytest.mark.parametrize("profile", ["mars/olympus"])
def test_worker_with_unknown_profile_is_refused(profile: str) -> None:
    r = medpipe("worker", "--profile", profile)
    assert r.returncode == 2 and "no worker profile 'mars/olympus'" in r.stderr
