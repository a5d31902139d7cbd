"""A stored artifact: the one reference every stage passes on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.crypto import EncryptionRef


class ArtifactRef(BaseModel):
    """A stored artifact: where it is and what it is (never its content).

    Attributes:
        sha256: digest of the *stored* bytes (checked on every read).
        size: stored size in bytes.
        encryption: how it was sealed (None: stored in clear, e.g. a signed model).
        content_sha256: digest of the clear content (what provenance names);
            equals ``sha256`` for clear artifacts.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    bucket_uri: str
    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    encryption: EncryptionRef | None = None
    content_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @property
    def plain_sha256(self) -> str:
        """Digest of the clear content."""
        return self.content_sha256 or self.sha256

    @property
    def uri(self) -> str:
        """Absolute URI of the artifact."""
        base, sep, query = self.bucket_uri.partition("?")
        return f"{base.rstrip('/')}/{self.key}" + (f"?{query}" if sep else "")
