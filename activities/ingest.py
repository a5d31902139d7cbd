"""Ingest: pull the release's inputs into the placed worker's store.

Streams each source straight into envelope encryption and write-once
storage (plaintext never touches disk), computing SHA-256 and size of the
clear content on the way (constant memory). Re-running after a lost worker
is safe: the same content under the same key is a no-op.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.progress import heartbeating, keeps_alive, throttled
from medpipe.activities.sealed import store_sealed
from medpipe.activities.sources import open_source
from medpipe.contracts.ingest import IngestInput, IngestResult
from medpipe.contracts.names import ActivityName


def artifact_key(release_id: str, name: str, source_uri: str) -> str:
    """Storage key of an ingested input: keeps the source's file extension."""
    suffix = PurePosixPath(urlsplit(source_uri).path).suffix.lower()
    suffix = suffix if suffix.isascii() and len(suffix) <= 10 else ""
    return f"releases/{release_id}/inputs/{name}{suffix}"


class IngestActivities:
    """Ingest activities bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.INGEST)
    @translate_errors
    @keeps_alive("ingest")
    def ingest(self, inp: IngestInput) -> IngestResult:
        """Fetch every source of ``inp`` into this worker's store."""
        artifacts = []
        for src in inp.sources:
            key = artifact_key(inp.release_id, src.name, src.uri)
            chunks = throttled(open_source(src.uri, self.ctx.source_tls),
                               self.ctx.ingest_rate_limit)
            artifacts.append(store_sealed(self.ctx.store, key,
                                          heartbeating(chunks, f"ingest {src.name}"),
                                          name=src.name, release_id=inp.release_id,
                                          keys=inp.keys))
        queue = activity.info().task_queue if activity.in_activity() else ""
        return IngestResult(artifacts=tuple(artifacts), ran_on=self.ctx.ran_on(task_queue=queue))
