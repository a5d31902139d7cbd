"""Contracts of separation of duties: the roster of people, their roles, and signed approvals.

Names, roles, public keys, digests and reasons: no patient data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.provenance import SHA256_PATTERN

ROSTER_PREDICATE_TYPE = "https://medpipe.dev/roster/v1"
APPROVAL_PREDICATE_TYPE = "https://medpipe.dev/approval/v1"
PERSON_PATTERN = r"^[a-z0-9][a-z0-9._@-]{0,63}$"


class Role(StrEnum):
    """What a person on the roster may do."""

    RELEASER = "releaser"
    APPROVER = "approver"
    RESPONDER = "responder"
    DATA_STEWARD = "data-steward"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class ApprovalAction(StrEnum):
    """Actions that need a signed statement, and the role each needs."""

    PROMOTE = "promote"
    REIDENTIFY = "reidentify"
    SHRED_KEY = "shred-key"
    OFFBOARD = "offboard"
    ROLLBACK = "rollback"

    @property
    def role(self) -> Role:
        """The role a signer needs for this action."""
        return {ApprovalAction.PROMOTE: Role.APPROVER,
                ApprovalAction.REIDENTIFY: Role.DATA_STEWARD,
                ApprovalAction.SHRED_KEY: Role.ADMINISTRATOR,
                ApprovalAction.OFFBOARD: Role.ADMINISTRATOR,
                ApprovalAction.ROLLBACK: Role.RESPONDER}[self]


class Person(BaseModel):
    """Someone on the roster: a name, a public key (PEM), roles."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=PERSON_PATTERN)
    public_key: str = Field(min_length=1, description="PEM (P-256/P-384 ECDSA)")
    roles: tuple[Role, ...] = Field(min_length=1)


class Roster(BaseModel):
    """Who may do what; signed by an administrator (``roster.yaml.sig``)."""

    model_config = ConfigDict(frozen=True)

    version: int = 1
    people: tuple[Person, ...] = Field(min_length=1)
    revoked: tuple[str, ...] = Field(default=(), description="revoked key fingerprints")


class Approval(BaseModel):
    """The predicate of an approval statement (its subject is the model digest)."""

    model_config = ConfigDict(frozen=True)

    action: ApprovalAction
    release_id: str = Field(min_length=1)
    model_sha256: str = Field(pattern=SHA256_PATTERN)
    by: str = Field(pattern=PERSON_PATTERN)
    reason: str = Field(min_length=1, max_length=1000)
    at: datetime


class ApprovalVerdict(BaseModel):
    """Whether enough distinct, entitled people approved; and why each refusal."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    approvers: tuple[str, ...] = ()
    required: int
    refusals: tuple[str, ...] = ()
