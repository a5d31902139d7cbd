"""Deployment configuration: where Temporal is, which worker profiles exist.

Read from ``$MEDPIPE_CONFIG`` (YAML) when set, else the embedded default: a
local dev stack under ``$MEDPIPE_HOME`` (default ``./.medpipe``) with four
profiles whose "buckets" are local directories.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from medpipe.activities.tls import TLSSettings
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.placement import Cloud, Environment, Fleet, GatewayTarget, WorkerProfile
from medpipe.workers.pki import GatewayPKI

log = logging.getLogger("medpipe.config")

#: Where the local stack records its storage mode, so every command agrees with it.
STORAGE_MODE_FILE = "storage-mode"
#: The model name the local stack's gateways serve (the demo releases it).
DEMO_MODEL = "risk-model"
#: Public ports of the local gateways are BASE+1.., admin (mTLS) ports BASE+101..;
#: the front callers use listens on BASE, its stats page on BASE+100.
DEFAULT_GATEWAY_BASE_PORT = 8600


class StackConfig(BaseModel):
    """Everything a process needs to join a medpipe deployment."""

    model_config = ConfigDict(frozen=True)

    temporal_address: str = "127.0.0.1:7233"
    namespace: str = "default"
    ui_url: str = "http://127.0.0.1:8233"
    home: str = ".medpipe"
    fleet: Fleet
    tls: TLSSettings = TLSSettings()
    source_tls: TLSSettings = TLSSettings()
    gateway_tls: TLSSettings = TLSSettings()
    gateway_base_port: int = DEFAULT_GATEWAY_BASE_PORT
    gateway_model: str = DEMO_MODEL
    payload_codec: bool = True
    codec_port: int = 8081
    storage: str = Field(default="local", pattern="^(local|emulated)$",
                         description="local: directory buckets; emulated: the AWS/GCP/Azure "
                                     "profiles on moto, gcp-storage-emulator and Azurite")
    emulator_base_port: int = 8900
    front: bool = Field(default=True, description="start the front (HAProxy) clinical "
                        "callers use in front of the local gateways")

    @model_validator(mode="after")
    def _fail_closed(self) -> StackConfig:
        """Every fleet's stages handle identifiable data (ingest, pseudonymize): without a
        key provider they would store it in clear, so refuse unless told it is a dev fleet."""
        if self.fleet.unprotected and not self.fleet.insecure_dev:
            raise ValueError(
                "the fleet has no key provider (fleet.keys.key_uri): its stages handle "
                "identifiable data, which would be stored in clear with no payload codec and "
                "no ledger. Configure fleet.keys.key_uri (local://, aws-kms://, pkcs11://), "
                "or set fleet.insecure_dev: true for a development fleet")
        return self

    @property
    def codec_enabled(self) -> bool:
        """Whether Temporal payloads are encrypted (needs the fleet's key provider)."""
        return self.payload_codec and self.fleet.keys.enabled

    @property
    def public_key_path(self) -> Path:
        """Where ``dev up`` exports the signing key's public half (gateways, auditors)."""
        return Path(self.home) / "keys" / "signing.pub.pem"

    @property
    def front_port(self) -> int:
        """Where clinical callers reach the local gateways through the front."""
        return self.gateway_base_port

    @property
    def front_stats_port(self) -> int:
        """The front's stats page and Prometheus metrics (on-call)."""
        return self.gateway_base_port + 100

    @property
    def gateway_pki_dir(self) -> Path:
        """Where ``dev up`` keeps the gateways' admin PKI (CA, server and deployer certs)."""
        return Path(self.home) / "pki" / "gateway"


def medpipe_home() -> Path:
    """The state directory of the local stack (absolute)."""
    return Path(os.environ.get("MEDPIPE_HOME", ".medpipe")).resolve()


def local_gateways(profiles: tuple[WorkerProfile, ...], base_port: int,
                   model: str) -> tuple[GatewayTarget, ...]:
    """One gateway per profile of the local stack, on fixed loopback ports."""
    return tuple(GatewayTarget(name=f"gw-{p.cloud.value}-{p.region}", cloud=p.cloud.value,
                               model=model, region=p.region, jurisdiction=p.jurisdiction,
                               admin_url=f"https://127.0.0.1:{base_port + 101 + i}",
                               public_url=f"http://127.0.0.1:{base_port + 1 + i}")
                 for i, p in enumerate(profiles))


def default_fleet(home: Path, gateway_base_port: int = DEFAULT_GATEWAY_BASE_PORT,
                  gateway_model: str = DEMO_MODEL) -> Fleet:
    """The four profiles of the embedded default, each with a local bucket and a gateway."""

    def bucket(name: str) -> str:
        return (home / "buckets" / name).as_uri()

    profiles = (
        WorkerProfile(cloud=Cloud.AWS, region="us-east-1", jurisdiction="US",
                      store_uri=bucket("aws-us-east-1")),
        WorkerProfile(cloud=Cloud.GCP, region="europe-west3", jurisdiction="EU-DE",
                      store_uri=bucket("gcp-europe-west3")),
        WorkerProfile(cloud=Cloud.AZURE, region="eastus", jurisdiction="US",
                      store_uri=bucket("azure-eastus")),
        WorkerProfile(cloud=Cloud.ONPREM, region="gpu-01", jurisdiction="US",
                      accelerators=("cuda",), store_uri=bucket("onprem-gpu-01")),
    )
    keyring = home / "keys" / "keyring.json"
    return Fleet(registry_uri=bucket("registry"), profiles=profiles,
                 vault_uri=bucket("vault"), ledger_uri=bucket("ledger"),
                 ledger_checkpoint_uri=bucket("ledger-checkpoints"),
                 keys=KeySettings(key_uri=f"local://{keyring}"),
                 gateways=local_gateways(profiles, gateway_base_port, gateway_model))


def _environment(value: object) -> Environment:
    try:
        return Environment(str(value))
    except ValueError as e:
        raise InvalidInput(f"invalid configuration: environment must be "
                           f"{' or '.join(v.value for v in Environment)}, not {value!r}") from e


def load_config(path: str | None = None) -> StackConfig:
    """Load the configuration (explicit path, ``$MEDPIPE_CONFIG``, or the default).

    Environment overrides: ``MEDPIPE_TEMPORAL_ADDRESS``, ``MEDPIPE_NAMESPACE``,
    ``MEDPIPE_TLS_CERT``/``_KEY``/``_CA``/``_SERVER_NAME``.
    """
    home = medpipe_home()
    path = path or os.environ.get("MEDPIPE_CONFIG")
    data: dict[str, object] = {}
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise InvalidInput(f"cannot read configuration {path}: {e}") from e
    data.setdefault("home", str(home))
    base = int(data.get("gateway_base_port") or DEFAULT_GATEWAY_BASE_PORT)  # type: ignore[call-overload]
    model = str(data.get("gateway_model") or DEMO_MODEL)
    mode_file = home / STORAGE_MODE_FILE  # written by `medpipe dev up --storage …`
    if os.environ.get("MEDPIPE_STORAGE"):
        data["storage"] = os.environ["MEDPIPE_STORAGE"]
    elif "storage" not in data and mode_file.exists():
        data["storage"] = mode_file.read_text().strip()
    environment = data.pop("environment", None)  # shorthand for fleet.environment
    if "fleet" not in data:
        fleet = default_fleet(home, base, model)
        if environment:
            fleet = fleet.model_copy(update={"environment": _environment(environment)})
        if data.get("storage") == "emulated":
            from medpipe.workers.emulators import EmulatorPorts, emulated_profiles

            ports = EmulatorPorts.from_base(int(data.get("emulator_base_port") or 8900))  # type: ignore[call-overload]
            fleet = fleet.model_copy(update={"profiles": emulated_profiles(fleet.profiles,
                                                                             ports)})
            if fleet.environment is Environment.NON_PRODUCTION:  # chaos: a cuttable S3 path
                from medpipe.workers.chaos.stackparts import proxied_profiles

                fleet = fleet.model_copy(update={"profiles": proxied_profiles(fleet.profiles,
                                                                                ports)})
        data["fleet"] = fleet.model_dump()
    elif environment and isinstance(data["fleet"], dict):
        data["fleet"].setdefault("environment", environment)
    pki = GatewayPKI.at(home / "pki" / "gateway")
    if pki.deployer.cert.exists():  # made by `medpipe dev up` / `dev init`
        data.setdefault("gateway_tls", pki.deployer_tls.model_dump(mode="json"))
    env_map = {"MEDPIPE_TEMPORAL_ADDRESS": "temporal_address",
               "MEDPIPE_NAMESPACE": "namespace", "MEDPIPE_UI_URL": "ui_url"}
    for env, field in env_map.items():
        if os.environ.get(env):
            data[field] = os.environ[env]
    tls = dict(data.get("tls") or {})  # type: ignore[call-overload]
    for part in ("cert", "key", "ca", "server_name"):
        value = os.environ.get(f"MEDPIPE_TLS_{part.upper()}")
        if value:
            tls[part] = value
    data["tls"] = tls
    try:
        config = StackConfig.model_validate(data)
    except ValidationError as e:
        raise InvalidInput(f"invalid configuration{' ' + path if path else ''}: {e}") from e
    if config.fleet.unprotected:
        log.warning("INSECURE DEV FLEET: no key provider (fleet.keys.key_uri); identifiable "
                    "data is stored in clear, payloads are not encrypted, no ledger is kept")
    return config
