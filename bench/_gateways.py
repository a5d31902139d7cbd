"""Shared by the benchmarks: real inference gateways as ``medpipe gateway`` processes.

One gateway per cloud profile of a fleet, each a separate process started the
way ``medpipe dev up`` starts them (``python -m medpipe gateway``), with
the admin port behind mutual TLS from a throwaway PKI. The benchmark reads
every gateway's admin status itself, over mTLS, so it can check what the
workflow reports against what the gateways actually serve.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import _procs
import httpx
from _checkout import ROOT

from medpipe.activities.tls import client_context
from medpipe.contracts.deploy import GatewayStatus
from medpipe.contracts.placement import Fleet, GatewayTarget
from medpipe.workers.pki import GatewayPKI
from medpipe.workers.ports import free_port as _free_port


class LocalGateways:
    """One ``medpipe gateway`` process per profile of ``fleet`` while inside ``with``."""

    def __init__(self, root: Path, fleet: Fleet, model: str,
                 model_roots: tuple[Path, ...] = ()) -> None:
        """Args:
        root: folder for the PKI and the gateways' logs.
        fleet: one gateway per profile; the profiles' stores are model roots.
        model: the model name the gateways serve.
        model_roots: further folders models may be loaded from (a bench's sample).
        """
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.model = model
        self.fleet = fleet
        self.model_roots = model_roots
        self.pki = GatewayPKI.create(root / "pki")
        self.targets = tuple(
            GatewayTarget(name=f"gw-{p.cloud.value}-{p.region}", cloud=p.cloud.value,
                          model=model, admin_url=f"https://127.0.0.1:{_free_port()}",
                          public_url=f"http://127.0.0.1:{_free_port()}")
            for p in fleet.profiles)
        self.procs: list[subprocess.Popen[bytes]] = []
        self._http: httpx.AsyncClient | None = None

    def _command(self, target: GatewayTarget) -> list[str]:
        admin_port = target.admin_url.rsplit(":", 1)[1]
        port = target.public_url.rsplit(":", 1)[1]
        roots = [arg for r in [p.store_uri for p in self.fleet.profiles if p.store_uri]
                 + [str(m) for m in self.model_roots] for arg in ("--model-root", r)]
        # these benches measure rollback and failover, not signatures: unsigned allowed
        return [sys.executable, "-m", "medpipe", "gateway", "--port", port,
                "--admin-port", admin_port, "--tls-cert", str(self.pki.server.cert),
                "--tls-key", str(self.pki.server.key), "--client-ca", str(self.pki.ca),
                "--model-name", self.model, "--allow-unsigned", *roots]

    async def __aenter__(self) -> LocalGateways:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for target in self.targets:
            log = open(self.root / f"{target.name}.log", "ab")
            self.procs.append(_procs.spawn(
                self._command(target), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, cwd=ROOT))
            log.close()
        admin_tls = client_context(self.pki.deployer_tls, setting="gateway_tls",
                                   purpose="gateway admin APIs")
        self._http = httpx.AsyncClient(verify=admin_tls, timeout=5.0)
        try:
            await self._wait_ready()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for target, proc in zip(self.targets, self.procs, strict=True):
            while True:
                try:
                    await self.status(target)
                    break
                except (httpx.HTTPError, OSError):
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"gateway {target.name} exited with {proc.returncode}; "
                                       f"see {self.root / (target.name + '.log')}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"gateway {target.name} did not answer in {timeout} s")
                await asyncio.sleep(0.1)

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            _procs.stop_group(proc.pid, grace=10)

    async def status(self, target: GatewayTarget) -> GatewayStatus:
        """``GET /admin/status`` of one gateway, over mutual TLS."""
        assert self._http is not None
        resp = await self._http.get(target.admin_url + "/admin/status")
        resp.raise_for_status()
        return GatewayStatus.model_validate_json(resp.content)

    async def statuses(self) -> dict[str, GatewayStatus]:
        """Every gateway's admin status, read concurrently."""
        results = await asyncio.gather(*(self.status(t) for t in self.targets))
        return {t.name: s for t, s in zip(self.targets, results, strict=True)}
