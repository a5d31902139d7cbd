"""Real inference gateways (in-thread uvicorn servers) and OIP traffic for canary tests."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import random
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from medpipe.activities.tls import TLSSettings
from medpipe.contracts.placement import GatewayTarget
from medpipe.workers.gateway import AdminTLS, Gateway, GatewayServer
from medpipe.workers.gateway.loader import ModelLoader
from medpipe.workers.gateway.state import ServingStateFile
from medpipe.workers.pki import GatewayPKI as AdminPKI
from medpipe.workers.sample import FEATURES


@dataclass
class GatewayPKI:
    """Admin mTLS material: server certs for gateways, a client cert for workers."""

    server: AdminTLS
    client: TLSSettings

    @classmethod
    def create(cls, out: Path) -> GatewayPKI:
        pki = AdminPKI.create(out)
        return cls(server=AdminTLS(cert=pki.server.cert, key=pki.server.key, client_ca=pki.ca),
                   client=pki.deployer_tls)


class GatewayProcess:
    """One gateway (both ports) serving from a background thread; restartable."""

    def __init__(self, name: str, model: str, tls: AdminTLS, cache: Path,
                 model_roots: tuple[Path, ...] = (), state_file: Path | None = None) -> None:
        self.name, self.model, self.tls, self.cache = name, model, tls, cache
        self.model_roots = model_roots
        #: where the gateway records its serving state (None: it keeps none)
        self.state_file = state_file
        self.server: GatewayServer | None = None
        self.port = 0
        self.admin_port = 0

    def start(self) -> None:
        # The fleet's signing key is made after the gateways start; these gateways test
        # canary mechanics, signatures are tested in tests/workers/gateway.
        gateway = Gateway(self.model, ModelLoader(self.cache, model_roots=self.model_roots,
                                                  allow_unsigned=True),
                          ServingStateFile(self.state_file) if self.state_file else None)
        self.server = GatewayServer(gateway, "127.0.0.1", self.port, self.admin_port, self.tls)
        self.port, self.admin_port = self.server.port, self.server.admin_port
        self.server.start_in_thread()

    def stop(self) -> None:
        if self.server is not None:
            self.server.join()
            self.server = None

    @property
    def target(self) -> GatewayTarget:
        return GatewayTarget(name=self.name, admin_url=f"https://127.0.0.1:{self.admin_port}",
                             public_url=f"http://127.0.0.1:{self.port}")

    @property
    def gateway(self) -> Gateway:
        assert self.server is not None
        return self.server.gateway


@contextlib.contextmanager
def gateways(names: list[str], model: str, pki: GatewayPKI, root: Path, state: bool = False
             ) -> Iterator[list[GatewayProcess]]:
    """Start one gateway per name; stop them all afterwards.

    Models load from anywhere under ``root``'s parent (the test's temporary directory);
    with ``state`` each gateway records its serving state in ``root/<name>.state.json``.
    """
    procs = [GatewayProcess(n, model, pki.server, root / n, (root.parent,),
                            root / f"{n}.state.json" if state else None) for n in names]
    for p in procs:
        p.start()
    try:
        yield procs
    finally:
        for p in procs:
            p.stop()


def feature_rows(dataset: Path, limit: int = 500) -> list[list[float]]:
    """Feature vectors from the sample cohort (for OIP requests)."""
    with open(dataset, newline="") as fh:
        reader = csv.DictReader(fh)
        return [[float(r[f]) for f in FEATURES] for _, r in zip(range(limit), reader,
                                                                 strict=False)]


def features_body(row: list[float]) -> dict[str, object]:
    """An OIP request for the sample model: one row of its ``features`` input."""
    return {"inputs": [{"name": "features", "shape": [1, len(row)], "datatype": "FP32",
                        "data": row}]}


@contextlib.asynccontextmanager
async def traffic(urls: list[str], model: str, rows: list[list[float]],
                  rate: float = 80.0,
                  body: Callable[[list[float]], dict[str, object]] = features_body,
                  ) -> AsyncIterator[dict[str, int]]:
    """Send OIP infer requests to every URL at about ``rate`` requests/s each
    (``body`` turns one row into a request; default: the sample model's)."""
    counts = {"ok": 0, "failed": 0}
    stop = asyncio.Event()

    async def loop(url: str) -> None:
        async with httpx.AsyncClient(timeout=5.0) as http:
            rnd = random.Random(url)
            while not stop.is_set():
                request = body(rows[rnd.randrange(len(rows))])
                try:
                    r = await http.post(f"{url}/v2/models/{model}/infer", json=request)
                    counts["ok" if r.status_code == 200 else "failed"] += 1
                except httpx.HTTPError:
                    counts["failed"] += 1
                await asyncio.sleep(1.0 / rate)

    tasks = [asyncio.create_task(loop(u)) for u in urls]
    try:
        yield counts
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
