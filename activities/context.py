"""Who and where a worker is: injected into every activity class.

Activities report where they ran from this context (cloud, region,
jurisdiction, host, accelerator), so stage records come from the worker
that did the work, not from what the workflow hoped.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from functools import cached_property

from medpipe.activities.cores import CoreBudget, default_cores
from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.activities.tls import TLSSettings
from medpipe.contracts.errors import MedpipeError
from medpipe.contracts.placement import RanOn, WorkerProfile

log = logging.getLogger("medpipe.worker")


@dataclass
class WorkerContext:
    """A worker's identity, its store, and its limits.

    Attributes:
        profile: the worker profile it was started with.
        host: host name reported in stage records.
        ingest_rate_limit: bytes/s cap for pulling from sources (protects
            hospital source systems); None for no cap.
        source_tls: mutual-TLS settings for ``https://`` sources.
        gateway_tls: client certificate for the gateways' admin API.
        cores: the cores this worker's data stages share (child processes for
            their chunks; ``activities.cores``). Default: ``$MEDPIPE_DATA_PROCESSES``,
            else the cores the process may run on.
    """

    profile: WorkerProfile
    host: str = field(default_factory=socket.gethostname)
    ingest_rate_limit: float | None = None
    source_tls: TLSSettings = field(default_factory=TLSSettings)
    gateway_tls: TLSSettings | None = None
    cores: CoreBudget = field(default_factory=lambda: CoreBudget(default_cores()))
    _sbom_uri: str = field(default="", init=False, repr=False)

    @property
    def worker_id(self) -> str:
        """Unique id of this worker process."""
        return f"{self.profile.name}@{self.host}:{os.getpid()}"

    @property
    def sbom(self) -> tuple[str, str]:
        """(SHA-256, URI) of this runtime's SBOM, stored in this worker's bucket once.

        ``medpipe worker`` stores it at start; a context built otherwise (tests,
        embedded workers) at its first stage result. The digest never depends on
        storage: when the bucket does not answer, the URI is "" (and the store is
        retried next time) rather than failing a stage, or a registry step on a
        control worker, over its SBOM. Evidence then refuses the missing SBOM.
        """
        from medpipe.activities.sbom import runtime_sbom, store_sbom

        sbom = runtime_sbom("worker")
        if not self._sbom_uri:
            try:
                self._sbom_uri = store_sbom(self.store, sbom)
            except MedpipeError as e:
                log.warning("SBOM %s not stored yet (%s)", sbom.sha256[:12], e)
                return sbom.sha256, ""
        return sbom.sha256, self._sbom_uri

    @cached_property
    def store(self) -> ObjectStore:
        """This worker's bucket (release artifacts are written here)."""
        return open_store(self.profile.store_uri)

    def ran_on(self, accelerator: str = "cpu", task_queue: str = "") -> RanOn:
        """The record of this worker for a stage result."""
        sbom_sha256, sbom_uri = self.sbom
        return RanOn(cloud=self.profile.cloud.value, region=self.profile.region,
                     jurisdiction=self.profile.jurisdiction, host=self.host,
                     worker_id=self.worker_id, accelerator=accelerator, task_queue=task_queue,
                     sbom_sha256=sbom_sha256, sbom_uri=sbom_uri)
