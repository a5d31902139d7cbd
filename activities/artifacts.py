"""Reading release artifacts back, checked against what the workflow recorded.

Every stage reads its inputs through ``read_artifact``: it checks the stored
digest is the one recorded at ingest, streams with end-to-end verification,
and reports an unreachable store as ``InputUnavailable`` (so the workflow
re-ingests elsewhere instead of moving the step between workers that all
read the same dead store).
"""

from __future__ import annotations

from collections.abc import Iterator

from medpipe.activities.storage.base import open_store
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.errors import InputUnavailable, IntegrityError, ProviderUnavailable


def read_artifact(ref: ArtifactRef, *, rewrapped_ok: bool = False) -> Iterator[bytes]:
    """Stream an artifact's stored bytes after checking it is the recorded one.

    Args:
        rewrapped_ok: for a sealed artifact, accept stored bytes that differ from the
            recorded digest (a key rotation re-wrote its header); the caller must then
            check the clear content against ``ref.content_sha256`` (``open_plain`` does).

    Raises:
        InputUnavailable: the artifact's store does not answer.
        IntegrityError: the stored object is not the one recorded at ingest.
    """
    try:
        store = open_store(ref.bucket_uri)
        info = store.head(ref.key)
    except ProviderUnavailable as e:
        raise InputUnavailable(f"input {ref.name} is in {ref.bucket_uri}, which does not answer: "
                               f"{e.message}", ref.bucket_uri) from e
    if info.sha256 != ref.sha256 and not (rewrapped_ok and ref.encryption is not None
                                          and ref.content_sha256 is not None):
        raise IntegrityError(f"{ref.uri} is not the artifact recorded at ingest "
                             f"(sha256 {info.sha256[:12]}… != {ref.sha256[:12]}…)")
    return _guarded(store.get(ref.key), ref)


def _guarded(chunks: Iterator[bytes], ref: ArtifactRef) -> Iterator[bytes]:
    try:
        yield from chunks
    except ProviderUnavailable as e:
        raise InputUnavailable(f"input {ref.name} became unreadable in {ref.bucket_uri}: "
                               f"{e.message}", ref.bucket_uri) from e
