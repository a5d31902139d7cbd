"""Storage emulators for the local stack (``medpipe dev up --storage emulated``).

The one place that knows how to run the three emulators medpipe is tested
against, so the development stack and the tests start them the same way:

- S3: moto's ``moto_server`` (in memory: a restart loses buckets and objects,
  so ``ensure_emulated_buckets`` must run again after one);
- GCS: ``gcp-storage-emulator`` (on disk under ``STORAGE_BASE``, or in memory);
- Azure Blob: Azurite's ``azurite-blob`` (npm), data under ``--location``.

Ports are fixed on the loopback interface and derived from one base port
(S3, GCS, Azure at base, base+1, base+2) so worker profiles can name the
endpoints in their ``store_uri`` before the emulators start. No cloud SDK is
imported here at module level: bucket creation goes through the storage
adapters, which give the "install medpipe[...]" hint when an extra is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from medpipe.contracts.placement import Cloud, WorkerProfile

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
#: Base of the emulators' ports: clear of Temporal (7233/8233), the codec
#: server (8081), the local gateways (8600-8799), LocalStack (4566) and the
#: emulators' own defaults (9023, 10000), which other tools may already hold.
DEFAULT_EMULATOR_BASE_PORT = 8900

#: Azurite's well-known development account and key (published by Microsoft;
#: the emulator accepts it by design, it protects nothing).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr"
               "/KBHBeksoGMGw==")

#: Emulated cloud → URI scheme of its adapter (onprem keeps its file:// bucket).
SCHEMES: dict[Cloud, str] = {Cloud.AWS: "s3", Cloud.GCP: "gs", Cloud.AZURE: "azblob"}


@dataclass(frozen=True)
class EmulatorPorts:
    """Loopback ports of the three emulators."""

    s3: int
    gcs: int
    azure: int

    @classmethod
    def from_base(cls, base: int = DEFAULT_EMULATOR_BASE_PORT) -> EmulatorPorts:
        """S3 on ``base``, GCS on ``base + 1``, Azure Blob on ``base + 2``."""
        return cls(s3=base, gcs=base + 1, azure=base + 2)


def _executable(name: str, env_var: str, *candidates: Path) -> str:
    """Path of an emulator binary: an explicit override, the venv/repo copy, else ``PATH``."""
    override = os.environ.get(env_var)
    if override:
        return override
    for path in candidates:
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is missing (set {env_var} or install it: see "
                                "README, `./run test` installs all three emulators)")
    return found


def moto_executable() -> str:
    """moto's S3 server (PyPI ``moto[server]``, next to this interpreter)."""
    return _executable("moto_server", "MEDPIPE_MOTO_SERVER",
                       Path(sys.executable).parent / "moto_server")


def gcs_executable() -> str:
    """gcp-storage-emulator (PyPI, next to this interpreter)."""
    return _executable("gcp-storage-emulator", "MEDPIPE_GCS_EMULATOR",
                       Path(sys.executable).parent / "gcp-storage-emulator")


def azurite_executable() -> str:
    """Azurite's Blob service (npm, pinned in the repo's ``package-lock.json``)."""
    return _executable("azurite-blob", "MEDPIPE_AZURITE_BLOB",
                       ROOT / "node_modules" / ".bin" / "azurite-blob")


# -- command lines -------------------------------------------------------------
def moto_command(port: int, host: str = LOOPBACK) -> list[str]:
    """moto_server for S3 on ``host:port`` (in memory)."""
    return [moto_executable(), "-H", host, "-p", str(port)]


def gcs_command(port: int, host: str = LOOPBACK, persistent: bool = True) -> list[str]:
    """gcp-storage-emulator on ``host:port``; on disk (see ``gcs_env``) unless not persistent."""
    cmd = [gcs_executable(), "start", "--host", host, "--port", str(port), "-q"]
    return cmd if persistent else [*cmd, "--in-memory"]


def gcs_env(data_dir: Path) -> dict[str, str]:
    """Environment of gcp-storage-emulator: where it keeps its data (it reads no flag for it)."""
    return {"STORAGE_BASE": str(data_dir)}


def azurite_command(port: int, location: Path, host: str = LOOPBACK) -> list[str]:
    """azurite-blob on ``host:port`` with its data under ``location`` (survives restarts).

    ``--skipApiVersionCheck``: the Python SDK speaks a newer API version than
    Azurite knows; ``--loose`` ignores headers Azurite does not implement.
    """
    return [azurite_executable(), "--blobHost", host, "--blobPort", str(port),
            "--location", str(location), "--skipApiVersionCheck", "--disableTelemetry",
            "--loose", "--silent"]


# -- endpoints and bucket URIs ---------------------------------------------------
def endpoint(port: int, host: str = LOOPBACK) -> str:
    """HTTP endpoint of an emulator."""
    return f"http://{host}:{port}"


def azurite_account_url(port: int, host: str = LOOPBACK) -> str:
    """Azurite's path-style account URL (what the Azure adapter's ``?endpoint=`` takes)."""
    return f"{endpoint(port, host)}/{AZURITE_ACCOUNT}"


def emulated_bucket_uri(scheme: str, bucket: str, service_url: str, prefix: str = "") -> str:
    """``scheme://bucket[/prefix]?endpoint=URL``: the URI carries the endpoint, never a secret
    (``gs://`` and ``azblob://`` also ``&emulator=1``: the adapters treat an endpoint as an
    emulator only when told so)."""
    path = f"/{prefix}" if prefix else ""
    flag = "&emulator=1" if scheme in ("gs", "azblob") else ""
    return f"{scheme}://{bucket}{path}?endpoint={service_url}{flag}"


def bucket_name(profile: WorkerProfile) -> str:
    """A bucket name valid on S3, GCS and Azure (lowercase, digits, single hyphens)."""
    return f"medpipe-{profile.cloud.value}-{profile.region}"


# -- what the local stack needs ------------------------------------------------------
def emulator_children(home: Path, ports: EmulatorPorts | None = None
                      ) -> list[tuple[str, list[str], dict[str, str]]]:
    """The emulator processes of the local stack as ``(name, command, extra env)``.

    Data lives under ``home/emulators/<name>`` (moto keeps nothing). The env
    is to be merged over the parent's. Start them before the workers and call
    ``ensure_emulated_buckets`` once they answer (and again after moto restarts).
    """
    ports = ports or EmulatorPorts.from_base()
    base = Path(home) / "emulators"
    gcs_dir, azurite_dir = base / "gcs", base / "azurite"
    for d in (gcs_dir, azurite_dir):
        d.mkdir(parents=True, exist_ok=True)
    return [
        ("emulator-s3", moto_command(ports.s3), {}),
        ("emulator-gcs", gcs_command(ports.gcs), gcs_env(gcs_dir)),
        ("emulator-azure", azurite_command(ports.azure, azurite_dir), {}),
    ]


def emulated_profiles(profiles: tuple[WorkerProfile, ...], ports: EmulatorPorts | None = None
                      ) -> tuple[WorkerProfile, ...]:
    """``profiles`` with AWS/GCP/Azure stores on the emulators; others unchanged."""
    ports = ports or EmulatorPorts.from_base()
    urls = {Cloud.AWS: endpoint(ports.s3), Cloud.GCP: endpoint(ports.gcs),
            Cloud.AZURE: azurite_account_url(ports.azure)}
    out = []
    for p in profiles:
        if p.cloud in SCHEMES:
            uri = emulated_bucket_uri(SCHEMES[p.cloud], bucket_name(p), urls[p.cloud])
            p = p.model_copy(update={"store_uri": uri})
        out.append(p)
    return tuple(out)


def emulated_worker_env() -> dict[str, str]:
    """Extra env of worker processes on the emulated stack.

    Dummy AWS credentials (moto accepts any; boto3 refuses to sign without
    some) and blank Azure account settings, so a developer's real cloud
    credentials in the shell are never sent to, or mixed up with, the emulators.
    """
    return {"AWS_ACCESS_KEY_ID": "medpipe-dev", "AWS_SECRET_ACCESS_KEY": "medpipe-dev",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AZURE_STORAGE_ACCOUNT": "", "AZURE_STORAGE_KEY": "",
            "AZURE_STORAGE_CONNECTION_STRING": ""}


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers at ``url`` (any status counts)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback http only
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, urllib.error.URLError):
        return False


def _service_root(store_uri: str) -> str | None:
    """``scheme://host:port/`` of the endpoint named in a store URI (None: no endpoint)."""
    values = parse_qs(urlsplit(store_uri).query).get("endpoint")
    if not values:
        return None
    parts = urlsplit(values[0])
    return f"{parts.scheme}://{parts.netloc}/"


def ensure_emulated_buckets(profiles: tuple[WorkerProfile, ...], wait_s: float = 30.0) -> None:
    """Create the buckets of the emulated profiles once their emulators answer.

    Idempotent (existing buckets are kept). Profiles without an emulator
    endpoint in their ``store_uri`` are left alone.

    Raises:
        TimeoutError: an emulator did not answer within ``wait_s``.
    """
    from medpipe.activities.storage.base import open_store

    deadline = time.monotonic() + wait_s
    for p in profiles:
        root = _service_root(p.store_uri)
        if root is None or p.cloud not in SCHEMES:
            continue
        while not answers(root):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {p.cloud.value} storage emulator at {root} did not "
                                   f"answer within {wait_s:.0f}s")
            time.sleep(0.1)
        store = open_store(p.store_uri)
        store.ensure_bucket()  # type: ignore[attr-defined]
