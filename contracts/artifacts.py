"""A stored artifact: the one reference every stage passes on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ArtifactRef(BaseModel):
    """A stored artifact: where it is and what it is (never its content)."""

    model_config = ConfigDict(frozen=True)

    name: str
    bucket_uri: str
    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)

    @property
    def uri(self) -> str:
        """Absolute URI of the artifact."""
        return f"{self.bucket_uri.rstrip('/')}/{self.key}"
