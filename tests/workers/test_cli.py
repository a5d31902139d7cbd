"""The ``medpipe`` command as a person runs it: real processes, real stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workers.devserver import free_port


def medpipe(*args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers.cli", *args], capture_output=True,
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
    assert r.returncode == 2
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


def test_dev_stack_up_release_status_down(tmp_path: Path, sample: dict[str, Path]) -> None:
    """The README's first command in miniature, on its own ports and state dir."""
    port = free_port()
    home = tmp_path / "home"
    config = tmp_path / "medpipe.yaml"
    config.write_text(yaml.safe_dump({"temporal_address": f"127.0.0.1:{port}",
                                      "ui_url": f"http://127.0.0.1:{port + 1000}"}))
    env = {"MEDPIPE_HOME": str(home), "MEDPIPE_CONFIG": str(config)}
    try:
        up = medpipe("dev", "up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        st = medpipe("dev", "status", env=env)
        assert st.returncode == 0 and st.stdout.count("running") >= 5, st.stdout
        rel = medpipe("release", "--model", str(sample["model"]), "--data",
                      str(sample["dataset"]), "--name", "risk", "--version", "cli1", "--wait",
                      env=env)
        assert rel.returncode == 0, rel.stdout + rel.stderr
        assert "release-risk-cli1" in rel.stdout and "succeeded" in rel.stdout
        assert f"http://127.0.0.1:{port + 1000}/namespaces/default/workflows/release-risk-cli1" \
            in rel.stdout
        status = medpipe("status", "release-risk-cli1", "--json", env=env)
        assert '"state": "succeeded"' in status.stdout
        listed = medpipe("list", "--model", "risk", env=env)
        assert "release-risk-cli1" in listed.stdout
        logs = medpipe("dev", "logs", env=env)
        assert "temporal" in logs.stdout
    finally:
        down = medpipe("dev", "down", env=env)
    assert down.returncode == 0 and "stopped" in down.stdout
    gone = medpipe("dev", "status", env=env)
    assert gone.returncode == 1 and "no local stack" in gone.stdout


@pytest.mark.parametrize("profile", ["mars/olympus"])
def test_worker_with_unknown_profile_is_refused(profile: str) -> None:
    r = medpipe("worker", "--profile", profile)
    assert r.returncode == 2 and "no worker profile 'mars/olympus'" in r.stderr
