"""Deployment files: the compose file against the Compose Specification, configs load."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medpipe.workers.config import load_config

ROOT = Path(__file__).parent.parent


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    return subprocess.run([exe, "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True)


def test_compose_file_matches_the_compose_specification() -> None:
    result = check_compose(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_check_rejects_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  temporal:\n    ports: 7233\n    restart: sometimes\n")
    assert check_compose(bad).returncode != 0


def test_compose_fleet_config_loads_four_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(str(ROOT / "deploy" / "fleet.compose.yaml"))
    assert [p.name for p in cfg.fleet.profiles] == [
        "aws/us-east-1", "gcp/europe-west3", "azure/eastus", "onprem/gpu-01"]
    assert cfg.temporal_address == "temporal:7233"


def test_compose_runs_one_worker_per_profile() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    cfg = load_config(str(ROOT / "deploy" / "fleet.compose.yaml"))
    commands = [s.get("command") for s in compose["services"].values() if s.get("command")]
    for profile in cfg.fleet.profiles:
        assert ["worker", "--profile", profile.name] in commands


def test_code_is_ruff_and_mypy_clean() -> None:
    """The conventions of DESIGN §6, enforced: lint and types of the shipped code."""
    root = Path(__file__).resolve().parents[1]
    bin_dir = Path(sys.executable).parent
    ruff = subprocess.run([str(bin_dir / "ruff"), "check", "contracts", "workflows",
                           "activities", "workers", "bench", "tests", "medpipe", "setup.py"],
                          cwd=root, capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout[-3000:]
    mypy = subprocess.run([str(bin_dir / "mypy"), "medpipe"], cwd=root, capture_output=True,
                          text=True)
    assert mypy.returncode == 0, mypy.stdout[-3000:]


def test_contracts_and_workflows_are_mypy_strict_clean() -> None:
    """The deterministic core and its contracts type-check under ``--strict``."""
    root = Path(__file__).resolve().parents[1]
    bin_dir = Path(sys.executable).parent
    # through the medpipe/ symlinks, so modules get their installed names
    strict = subprocess.run([str(bin_dir / "mypy"), "--strict", "medpipe/contracts",
                             "medpipe/workflows"], cwd=root, capture_output=True, text=True)
    assert strict.returncode == 0, strict.stdout[-3000:]
    checked = int(strict.stdout.rsplit(" in ", 1)[1].split()[0])  # "... in N source files"
    assert checked >= len(list((root / "contracts").glob("*.py"))) + \
        len(list((root / "workflows").glob("*.py")))
