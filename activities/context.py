"""Who and where a worker is: injected into every activity class.

Activities report where they ran from this context (cloud, region,
jurisdiction, host, accelerator), so stage records come from the worker
that did the work, not from what the workflow hoped.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from functools import cached_property

from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.activities.tls import TLSSettings
from medpipe.contracts.placement import RanOn, WorkerProfile


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
    """

    profile: WorkerProfile
    host: str = field(default_factory=socket.gethostname)
    ingest_rate_limit: float | None = None
    source_tls: TLSSettings = field(default_factory=TLSSettings)
    gateway_tls: TLSSettings | None = None

    @property
    def worker_id(self) -> str:
        """Unique id of this worker process."""
        return f"{self.profile.name}@{self.host}:{os.getpid()}"

    @cached_property
    def sbom(self) -> tuple[str, str]:
        """(SHA-256, URI) of this runtime's SBOM, stored in this worker's bucket on first use.

        ``medpipe worker`` calls it at start; anything else that builds a
        context (tests, embedded workers) gets it at its first stage result.
        """
        from medpipe.activities.sbom import runtime_sbom, store_sbom

        sbom = runtime_sbom("worker")
        return sbom.sha256, store_sbom(self.store, sbom)

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
