"""Real regional gateways (``medpipe gateway`` processes) behind a real HAProxy front.

Each gateway serves the sample model from the start (``--model``), so a SIGKILLed
one restarted with the same command serves again, as under ``dev up``'s supervisor.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from medpipe.contracts.placement import Cloud, Fleet, GatewayTarget, WorkerProfile
from medpipe.workers.pki import TestPKI
from medpipe.workers.ports import free_port

MODEL = "risk-model"


@dataclass
class GatewayProc:
    """One ``medpipe gateway`` process serving ``model`` (unsigned: the front is tested)."""

    name: str
    jurisdiction: str
    model: Path
    pki: TestPKI
    logs: Path
    port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        digest = hashlib.sha256(self.model.read_bytes()).hexdigest()
        return [sys.executable, "-m", "medpipe", "gateway", "--port", str(self.port),
                "--admin-port", str(self.admin_port), "--tls-cert", str(self.pki.server_cert),
                "--tls-key", str(self.pki.server_key), "--client-ca", str(self.pki.ca_cert),
                "--model-name", MODEL, "--allow-unsigned", "--model-root",
                str(self.model.parent), "--model", str(self.model), "--model-sha256", digest]

    def start(self) -> None:
        """Start the process (returns at once; ``wait_ready`` waits)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait until ``/v2/health/ready`` answers 200 (model loaded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, \
                (self.logs / f"{self.name}.log").read_text()[-2000:]
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gateway {self.name} not ready in {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL the gateway (a crash: nothing is closed cleanly)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target(self) -> GatewayTarget:
        return GatewayTarget(name=self.name, admin_url=f"https://127.0.0.1:{self.admin_port}",
                             public_url=self.url, model=MODEL, jurisdiction=self.jurisdiction)

    def requests(self) -> float:
        """Inference requests this gateway process counted (its Prometheus counter)."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return sum(s.value for fam in text_string_to_metric_families(text)
                   if fam.name == "medpipe_gateway_requests"
                   for s in fam.samples if s.name.endswith("_total"))


def fleet_of(gateways: list[GatewayProc], non_identifiable: tuple[str, ...] = ()) -> Fleet:
    """A fleet whose gateways are ``gateways`` (one profile per jurisdiction)."""
    profiles = tuple(WorkerProfile(cloud=Cloud.ONPREM, region=f"r{i}", jurisdiction=j)
                     for i, j in enumerate(sorted({g.jurisdiction for g in gateways})))
    return Fleet(profiles=profiles, gateways=tuple(g.target for g in gateways),
                 non_identifiable_models=non_identifiable)


def infer_body(row: list[float]) -> dict[str, object]:
    """One OIP v2 JSON inference request for one feature row."""
    return {"inputs": [{"name": "features", "shape": [1, len(row)], "datatype": "FP32",
                        "data": row}]}
