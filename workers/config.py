"""Deployment configuration: where Temporal is, which worker profiles exist.

Read from ``$MEDPIPE_CONFIG`` (YAML) when set, else the embedded default: a
local dev stack under ``$MEDPIPE_HOME`` (default ``./.medpipe``) with four
profiles whose "buckets" are local directories.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.errors import InvalidInput
from contracts.placement import Cloud, Fleet, WorkerProfile


class TLSConfig(BaseModel):
    """Client TLS towards the Temporal frontend (mutual TLS when cert+key are set)."""

    model_config = ConfigDict(frozen=True)

    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    server_name: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether any TLS setting was given."""
        return any((self.cert, self.key, self.ca, self.server_name))


class StackConfig(BaseModel):
    """Everything a process needs to join a medpipe deployment."""

    model_config = ConfigDict(frozen=True)

    temporal_address: str = "127.0.0.1:7233"
    namespace: str = "default"
    ui_url: str = "http://127.0.0.1:8233"
    home: str = ".medpipe"
    fleet: Fleet
    tls: TLSConfig = TLSConfig()
    source_tls: TLSConfig = TLSConfig()


def medpipe_home() -> Path:
    """The state directory of the local stack (absolute)."""
    return Path(os.environ.get("MEDPIPE_HOME", ".medpipe")).resolve()


def default_fleet(home: Path) -> Fleet:
    """The four profiles of the embedded default, each with a local bucket."""

    def bucket(name: str) -> str:
        return (home / "buckets" / name).as_uri()

    return Fleet(registry_uri=bucket("registry"), profiles=(
        WorkerProfile(cloud=Cloud.AWS, region="us-east-1", jurisdiction="US",
                      store_uri=bucket("aws-us-east-1")),
        WorkerProfile(cloud=Cloud.GCP, region="europe-west3", jurisdiction="EU-DE",
                      store_uri=bucket("gcp-europe-west3")),
        WorkerProfile(cloud=Cloud.AZURE, region="eastus", jurisdiction="US",
                      store_uri=bucket("azure-eastus")),
        WorkerProfile(cloud=Cloud.ONPREM, region="gpu-01", jurisdiction="US",
                      accelerators=("cuda",), store_uri=bucket("onprem-gpu-01")),
    ))


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
    data.setdefault("fleet", default_fleet(home).model_dump())
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
        return StackConfig.model_validate(data)
    except ValidationError as e:
        raise InvalidInput(f"invalid configuration{' ' + path if path else ''}: {e}") from e
