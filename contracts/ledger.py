"""Contracts of the provenance ledger: its entries, checkpoints, verification report, and the
append activity.

Everything here is digests, names and figures: safe in Temporal history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.provenance import SHA256_PATTERN


class LedgerAppendInput(BaseModel):
    """Append one entry to the provenance ledger (idempotent by ``idempotency_key``)."""

    model_config = ConfigDict(frozen=True)

    ledger_uri: str
    keys: KeySettings
    kind: str
    release_id: str
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    checkpoint_uri: str = Field(default="", description="bucket of the head checkpoints "
                                "(Fleet.ledger_checkpoint_uri); empty: beside the entries")


class LedgerAppendResult(BaseModel):
    """Where the entry landed in the chain: also a head anchor kept outside storage.

    A workflow that keeps this result (it is in its history anyway) can later
    prove the ledger had at least ``seq + 1`` entries with this hash at ``seq``:
    ``medpipe ledger verify --expect-head SEQ:HASH`` refuses a shorter chain.
    """

    model_config = ConfigDict(frozen=True)

    seq: int
    entry_hash: str

    @property
    def anchor(self) -> str:
        """``SEQ:HASH``, the form ``ledger verify --expect-head`` takes."""
        return f"{self.seq}:{self.entry_hash}"


class LedgerKind(StrEnum):
    """Known kinds of ledger entries (the field accepts any lower-case slug)."""

    RELEASE_STARTED = "release-started"
    STAGE_COMPLETED = "stage-completed"
    SIGNED = "signed"
    DEPLOYED = "deployed"
    ROLLED_BACK = "rolled-back"
    KEY_ROTATED = "key-rotated"
    KEY_SHREDDED = "key-shredded"
    REIDENTIFIED = "reidentified"


class LedgerEntry(BaseModel):
    """One signed, hash-chained ledger entry.

    ``entry_hash`` is SHA-256 over the canonical JSON of every field except
    ``entry_hash`` and ``signature``; ``signature`` is DER ECDSA (base64) over
    that digest by ``key_id`` (fingerprint ``key_fingerprint``).
    """

    model_config = ConfigDict(frozen=True)

    v: int = 1
    seq: int = Field(ge=0)
    kind: str = Field(pattern=r"^[a-z][a-z0-9-]{0,47}$")
    release_id: str
    payload: dict[str, Any]
    idempotency_key: str = Field(min_length=1, max_length=512)
    at: datetime
    prev_hash: str = Field(pattern=SHA256_PATTERN)
    key_id: str
    key_fingerprint: str
    entry_hash: str = Field(pattern=SHA256_PATTERN)
    signature: str


class LedgerCheckpoint(BaseModel):
    """A signed statement "the ledger had ``seq`` as head, with this hash"."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=0)
    entry_hash: str = Field(pattern=SHA256_PATTERN)
    at: datetime
    key_id: str
    key_fingerprint: str
    signature: str


class LedgerReport(BaseModel):
    """Result of a successful ``Ledger.verify``."""

    model_config = ConfigDict(frozen=True)

    entries: int
    head_seq: int | None
    head_hash: str | None
    checkpoint_seq: int | None
    keys: dict[str, int] = Field(default_factory=dict,
                                 description="entries per signing-key fingerprint")
