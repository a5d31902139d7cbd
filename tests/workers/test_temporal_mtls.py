"""Mutual TLS to Temporal, through a real TLS-terminating nginx in front of the dev server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from medpipe.activities.tls import TLSSettings
from medpipe.contracts.errors import AccessDenied
from medpipe.workers.client import connect
from medpipe.workers.codec import open_codec
from medpipe.workers.config import StackConfig
from medpipe.workers.devserver import TemporalDevServer, free_port
from medpipe.workers.keysetup import CODEC_KEK_ID, ensure_keys
from medpipe.workers.pki import CertificateAuthority
from medpipe.workers.tlsproxy import MTLSProxy
from tests.support import make_fleet, make_request, running_workers, start

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("temporal-pki")
    ca = CertificateAuthority.create(out, "temporal-ca")
    other = CertificateAuthority.create(out, "rogue-ca")
    return {"ca": ca, "server": ca.issue(out, "frontend", "temporal", server=True),
            "worker": ca.issue(out, "worker", "worker-aws", server=False),
            "rogue": other.issue(out, "rogue", "intruder", server=False)}


@pytest.fixture(scope="module")
def proxy(temporal_server: TemporalDevServer, pki: dict[str, object],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[MTLSProxy]:
    ca: CertificateAuthority = pki["ca"]  # type: ignore[assignment]
    server = pki["server"]
    p = MTLSProxy(upstream=temporal_server.address, cert=server.cert,  # type: ignore[attr-defined]
                  key=server.key, client_ca=ca.files.cert,  # type: ignore[attr-defined]
                  workdir=tmp_path_factory.mktemp("nginx"), port=free_port())
    p.start()
    yield p
    p.stop()


def config(proxy: MTLSProxy, pki: dict[str, object], cert: str | None, tmp: Path) -> StackConfig:
    ca: CertificateAuthority = pki["ca"]  # type: ignore[assignment]
    tls = TLSSettings(ca=str(ca.files.cert), server_name="localhost")
    if cert:
        files = pki[cert]
        tls = tls.model_copy(update={"cert": str(files.cert),  # type: ignore[attr-defined]
                                     "key": str(files.key)})  # type: ignore[attr-defined]
    fleet = make_fleet(tmp)
    ensure_keys(fleet.keys)  # the deployment's codec key too: payloads sealed through the proxy
    open_codec(tmp, fleet.keys.key_uri, CODEC_KEK_ID)
    return StackConfig(temporal_address=proxy.address, tls=tls, fleet=fleet, home=str(tmp))


async def test_worker_with_the_right_certificate_completes_a_release(
        proxy: MTLSProxy, pki: dict[str, object], tmp_path: Path,
        sample: dict[str, Path]) -> None:
    cfg = config(proxy, pki, "worker", tmp_path)
    client = await connect(cfg)
    async with running_workers(client, cfg.fleet, ["aws/us-east-1"]):
        status = await (await start(client, make_request(cfg.fleet, sample))).result()
    assert status.state.value == "succeeded"


async def test_client_without_a_certificate_is_refused_clearly(
        proxy: MTLSProxy, pki: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(AccessDenied, match="requires a valid client certificate .* "
                                           "pass --tls-cert and --tls-key"):
        await connect(config(proxy, pki, None, tmp_path))


async def test_client_with_a_certificate_from_another_ca_is_refused(
        proxy: MTLSProxy, pki: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(AccessDenied, match="does not accept the certificate .*rogue.crt"):
        await connect(config(proxy, pki, "rogue", tmp_path))


async def test_cli_without_a_certificate_says_what_is_missing(
        proxy: MTLSProxy, pki: dict[str, object], sample: dict[str, Path]) -> None:
    ca: CertificateAuthority = pki["ca"]  # type: ignore[assignment]
    r = subprocess.run([sys.executable, "-m", "medpipe", "--address", proxy.address,
                        "--tls-ca", str(ca.files.cert), "--tls-server-name", "localhost",
                        "release", "--model", str(sample["model"]), "--data",
                        str(sample["dataset"])], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "requires a valid client certificate" in r.stderr and "Traceback" not in r.stderr
