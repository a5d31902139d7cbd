"""A fleet without a key provider refuses to start unless it says ``insecure_dev`` (issue 16).

Every fleet's stages handle identifiable data (ingest, pseudonymize): without a key
provider it would be stored in clear, with no payload codec and no ledger.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from temporalio.client import Client

from medpipe.activities.signing.provenance import build_statement
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.provenance import ArtifactDigest, ProvenanceInput
from medpipe.workers.config import load_config
from medpipe.workers.dev import temporal_binary
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.releases import start_release
from tests.support import make_fleet, make_request

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, **fleet_extra: object) -> Path:
    fleet = {"profiles": [{"cloud": "aws", "region": "us-east-1", "jurisdiction": "US",
                           "store_uri": (tmp_path / "b").as_uri()}], **fleet_extra}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"fleet": fleet}))
    return path


def test_config_without_key_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no key provider .*insecure_dev: true"):
        load_config(str(_write(tmp_path)))


def test_insecure_dev_loads_and_says_so(tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="medpipe.config"):
        config = load_config(str(_write(tmp_path, insecure_dev=True)))
    assert config.fleet.insecure_dev and config.fleet.unprotected
    assert "INSECURE DEV FLEET" in caplog.text
    assert not config.codec_enabled


def test_worker_and_release_refuse_to_start_without_keys(tmp_path: Path) -> None:
    env = {**os.environ, "MEDPIPE_CONFIG": str(_write(tmp_path)),
           "MEDPIPE_HOME": str(tmp_path / "home"), "MEDPIPE_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    for argv in (["worker", "--profile", "aws/us-east-1"],
                 ["release", "--model", str(tmp_path / "m.onnx"), "--data",
                  str(tmp_path / "d.csv"), "--name", "m", "--version", "v1"]):
        proc = subprocess.run([sys.executable, "-m", "medpipe", *argv], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out
        assert "no key provider" in out and "insecure_dev" in out, out
        assert "Traceback" not in out


def test_provenance_of_an_insecure_fleet_says_so() -> None:
    model = ArtifactDigest(name="m", sha256="0" * 64)
    secure = build_statement(ProvenanceInput(
        release_id="r", model=model, builder_id="w",
        request={"fleet": {"keys": {"key_uri": "local:///k.json"}}}))
    insecure = build_statement(ProvenanceInput(
        release_id="r", model=model, builder_id="w",
        request={"fleet": {"insecure_dev": True, "keys": {"key_uri": ""}}}))
    assert "insecureDev" not in secure["predicate"]["buildDefinition"]["internalParameters"]
    assert "in clear" in insecure["predicate"]["buildDefinition"]["internalParameters"][
        "insecureDev"]


async def test_release_summary_of_an_insecure_fleet_says_so(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    """On-call staff see it in the UI: the release's static summary is marked."""
    fleet = make_fleet(tmp_path).model_copy(update={"keys": KeySettings(),
                                                    "insecure_dev": True})
    insecure = await start_release(client, make_request(fleet, sample))
    secure = await start_release(client, make_request(make_fleet(tmp_path / "s"), sample))
    try:
        for handle, marked in ((insecure, True), (secure, False)):
            text = subprocess.run([temporal_binary(), "workflow", "describe", "-w", handle.id,
                                   "--address", temporal_server.address],
                                  capture_output=True, text=True, timeout=60).stdout
            assert "StaticSummary" in text, text
            assert ("INSECURE DEV FLEET" in text) is marked, text
    finally:
        for handle in (insecure, secure):
            await handle.terminate("test over")
