"""Contracts of the ingest stage: which inputs to fetch, and the stored copies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.placement import RanOn


class SourceSpec(BaseModel):
    """One input to fetch at ingest."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_.-]+$")
    uri: str


class IngestInput(BaseModel):
    """Fetch the release's inputs into the placed worker's store."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    sources: tuple[SourceSpec, ...]
    keys: KeySettings = KeySettings()


class IngestResult(BaseModel):
    """The stored copies, with digests computed while streaming."""

    model_config = ConfigDict(frozen=True)

    artifacts: tuple[ArtifactRef, ...]
    ran_on: RanOn

    def artifact(self, name: str) -> ArtifactRef:
        """The artifact called ``name``."""
        for a in self.artifacts:
            if a.name == name:
                return a
        raise KeyError(name)
