"""Contracts of separation of duties: the roster of people, their roles, and signed approvals.

Names, roles, public keys, digests and reasons: no patient data.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

#: as ``contracts.provenance.SHA256_PATTERN`` (not imported: the fleet contract imports
#: this module, and provenance imports the fleet's).
SHA256_PATTERN = r"^[0-9a-f]{64}$"

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
    signer_keys: tuple[str, ...] = Field(default=(), description="the roster's public key "
                                         "(PEM) of each approver, in the same order")


class ApprovalRule(BaseModel):
    """Where a fleet's canaries wait for signed approvals, and how many they need.

    Attributes:
        roster_path: the signed roster (``roster.yaml`` next to ``roster.yaml.sig``),
            readable by the control worker.
        admin_keys: pinned administrator public keys (PEM): the roster must be signed
            by one of them (and that key must be an administrator in it).
        required: distinct approvers (never the releaser) before traffic goes above
            ``at_weight``.
        at_weight: the canary weight (percent) the rollout holds at while it waits.
        revoked: revoked key fingerprints, on top of the roster's own list.
    """

    model_config = ConfigDict(frozen=True)

    roster_path: str = Field(min_length=1)
    admin_keys: tuple[str, ...] = Field(min_length=1)
    required: int = Field(default=2, ge=1, le=20)
    at_weight: int = Field(default=50, ge=0, le=99)
    revoked: tuple[str, ...] = ()


#: A signed statement is a few KB; anything far larger is not one.
MAX_STATEMENT_BYTES = 64_000


class SignedStatement(BaseModel):
    """A DSSE bundle (JSON text) as submitted: a signature, never patient data."""

    model_config = ConfigDict(frozen=True)

    bundle: str = Field(min_length=2, max_length=MAX_STATEMENT_BYTES)
    label: str = Field(default="statement", max_length=200)


class CheckApprovalsInput(BaseModel):
    """Verify statements against the fleet's signed roster (``approvals.check``)."""

    model_config = ConfigDict(frozen=True)

    rule: ApprovalRule
    action: ApprovalAction
    release_id: str
    model_sha256: str = Field(pattern=SHA256_PATTERN)
    releaser: str | None = None
    statements: tuple[SignedStatement, ...]
    required: int = Field(default=1, ge=1)


class ApprovalProgress(BaseModel):
    """Where a canary's approval gate stands (in its status and evidence)."""

    model_config = ConfigDict(frozen=True)

    required: int
    at_weight: int
    approvers: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()
    statements: tuple[SignedStatement, ...] = Field(
        default=(), description="the accepted statements, for the evidence pack")
    signer_keys: tuple[str, ...] = Field(
        default=(), description="each approver's public key (PEM) from the roster, in order")

    @property
    def approved(self) -> bool:
        """Whether enough distinct entitled people signed."""
        return len(self.approvers) >= self.required


#: Actions about a release (their statements name the release and the model digest).
RELEASE_ACTIONS = frozenset({ApprovalAction.PROMOTE, ApprovalAction.ROLLBACK})


def action_subject(action: ApprovalAction, target: str) -> tuple[str, str]:
    """The (subject name, subject digest) a statement about ``target`` must carry.

    A promotion or rollback names the release and the model digest. Re-identification,
    key shredding and offboarding have no model: their statement names
    ``ACTION:TARGET`` (``shred-key:KEY_ID``, ``offboard:model=NAME``,
    ``reidentify:SHA256(TOKEN)``) and carries its SHA-256, so a statement signed for
    one key, model or token cannot authorise another.
    """
    if action in RELEASE_ACTIONS:
        raise ValueError(f"{action.value} statements name a release and a model digest")
    if action is ApprovalAction.REIDENTIFY:  # the token itself stays out of statements
        target = hashlib.sha256(target.encode()).hexdigest()
    name = f"{action.value}:{target}"
    return name, hashlib.sha256(name.encode()).hexdigest()
