"""Real storage emulators as child processes on 127.0.0.1, stoppable and restartable.

Each emulator runs as its own process on a free port so a test can stop it
(the provider goes down) and start it again *on the same port* (the provider
comes back) without touching anything else. Importable by any test or bench:
no pytest dependency here.

- ``MotoS3``: ``moto_server`` (in memory: a restart loses objects; the buckets
  created through ``create_bucket`` are re-created on start).
- ``GcsEmulator``: ``gcp-storage-emulator`` (in memory, or on disk under the
  work dir with ``persistent=True`` so objects survive a restart). It has no
  port 0, hence the free-port pick; it ignores ``ifGenerationMatch``.
- ``Azurite``: ``node_modules/.bin/azurite-blob`` (npm, pinned in
  ``package-lock.json``), data under the work dir, so objects survive a restart.

The command lines, endpoints and bucket URIs come from ``workers.emulators``
(shared with ``medpipe dev up --storage emulated``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from medpipe.workers import emulators as cmdlines
from medpipe.workers.emulators import AZURITE_ACCOUNT, AZURITE_KEY
from medpipe.workers.ports import free_port

__all__ = ["AZURITE_ACCOUNT", "AZURITE_KEY", "Azurite", "EmulatorProcess", "GcsEmulator",
           "MotoS3", "free_port"]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the emulator gets SIGTERM if the test process dies without stopping it."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmulatorProcess:
    """One emulator process bound to 127.0.0.1:``port``; ``stop()``/``start()`` keep the port."""

    name = "emulator"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / f"{self.name}.log"

    # -- to override -------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def after_start(self) -> None:
        """Hook run once the port answers (e.g. re-create buckets)."""

    # -- lifecycle ---------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return cmdlines.endpoint(self.port, self.host)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until it answers HTTP on its port."""
        if self.running:
            return
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting for it (``wait_ready`` then waits).

        Call it from a thread that outlives the emulator (the main thread):
        the child's parent-death signal follows the *thread* that forked it,
        so a child launched from a short-lived worker thread is killed when
        that thread ends. ``wait_ready`` may run in any thread.
        """
        if self.running:
            return
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child's lifetime
        try:
            self.proc = subprocess.Popen(self.command(), cwd=self.workdir, env=self.env(),
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)
        finally:
            log.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the launched process answers HTTP, then run ``after_start``."""
        if self.proc is None:
            raise RuntimeError(f"{self.name} was not launched")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} on port "
                                   f"{self.port}: {self.log_tail()}")
            if self._answers():
                self.after_start()
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.endpoint} within {timeout}s: "
                           f"{self.log_tail()}")

    def _answers(self) -> bool:
        return cmdlines.answers(self.endpoint + "/")

    def stop(self) -> None:
        """Terminate the process (the port is released for a restart)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        # Wait until the port is really closed, so "down" is down for the caller.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex((self.host, self.port)) != 0:
                    return
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MotoS3(EmulatorProcess):
    """moto's S3 server. Needs AWS credentials in the client env (any value works)."""

    name = "moto"

    def __init__(self, workdir: Path, port: int | None = None,
                 enforce_auth: bool = False) -> None:
        super().__init__(workdir, port)
        self.enforce_auth = enforce_auth
        self.buckets: set[str] = set()

    def command(self) -> list[str]:
        return cmdlines.moto_command(self.port, self.host)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.enforce_auth:
            # moto then checks signatures against its IAM: unknown keys get 403.
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        return env

    def client(self) -> Any:
        """A raw boto3 client against this server (tests use it to tamper behind an adapter)."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)
        self.buckets.add(bucket)

    def after_start(self) -> None:
        for bucket in sorted(self.buckets):
            self.client().create_bucket(Bucket=bucket)

    def bucket_uri(self, bucket: str, prefix: str = "") -> str:
        return cmdlines.emulated_bucket_uri("s3", bucket, self.endpoint, prefix)


class GcsEmulator(EmulatorProcess):
    """gcp-storage-emulator (single-threaded; no preconditions)."""

    name = "gcs"

    def __init__(self, workdir: Path, port: int | None = None, persistent: bool = False) -> None:
        super().__init__(workdir, port)
        self.persistent = persistent
        self.buckets: set[str] = set()

    def command(self) -> list[str]:
        return cmdlines.gcs_command(self.port, self.host, persistent=self.persistent)

    def env(self) -> dict[str, str]:
        return {**os.environ, **cmdlines.gcs_env(self.workdir)}

    def client(self) -> Any:
        """A raw google-cloud-storage client against this emulator."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(project="medpipe-test", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": self.endpoint})

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(bucket)
        self.buckets.add(bucket)

    def after_start(self) -> None:
        if not self.persistent:
            for bucket in sorted(self.buckets):
                self.client().create_bucket(bucket)

    def bucket_uri(self, bucket: str, prefix: str = "") -> str:
        return cmdlines.emulated_bucket_uri("gs", bucket, self.endpoint, prefix)


class Azurite(EmulatorProcess):
    """Azurite's Blob service, data under ``workdir/data`` (survives restarts)."""

    name = "azurite"

    def command(self) -> list[str]:
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        try:
            return cmdlines.azurite_command(self.port, data, self.host)
        except FileNotFoundError as e:
            raise RuntimeError(f"{e}: run `npm ci` in {cmdlines.ROOT} (./run test does)") from e

    @property
    def account_url(self) -> str:
        return cmdlines.azurite_account_url(self.port, self.host)

    def connection_string(self, key: str = AZURITE_KEY) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
                f"BlobEndpoint={self.account_url};")

    def client(self) -> Any:
        """A raw BlobServiceClient against this Azurite."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string())

    def create_bucket(self, container: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            self.client().create_container(container)

    def bucket_uri(self, container: str, prefix: str = "") -> str:
        return cmdlines.emulated_bucket_uri("azblob", container, self.account_url, prefix)
