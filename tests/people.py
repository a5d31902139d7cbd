"""People with their own keys, and a signed roster of them, for governance tests.

Each person has a local keyring holding a real ECDSA key (through the KeyProvider).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from medpipe.activities.governance import new_approval, sign_approval, sign_roster
from medpipe.activities.keys import open_provider
from medpipe.activities.signing.dsse import key_fingerprint
from medpipe.contracts.approval import (
    ApprovalAction,
    ApprovalRule,
    Person,
    Role,
    Roster,
    SignedStatement,
)

RELEASE = "release-risk-7"
MODEL = hashlib.sha256(b"model").hexdigest()


class Someone:
    """A person with their own signing key."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.name = name
        self.key_uri = f"local://{tmp}/{name}-keyring.json"
        self.provider = open_provider(self.key_uri)
        self.key_id = self.provider.create_signing_key(name)
        self.pem = self.provider.public_key_pem(self.key_id)
        self.pem_path = tmp / f"{name}.pub.pem"
        self.pem_path.write_bytes(self.pem)

    @property
    def fingerprint(self) -> str:
        """The fingerprint a revocation names."""
        return key_fingerprint(self.pem)

    def person(self, *roles: Role) -> Person:
        """This person on a roster with ``roles``."""
        return Person(name=self.name, public_key=self.pem.decode(), roles=roles)

    def approve(self, action: ApprovalAction = ApprovalAction.PROMOTE, *, by: str | None = None,
                release: str = RELEASE, model: str = MODEL) -> tuple[str, bytes]:
        """A signed statement (label, bundle)."""
        a = new_approval(action, release, model, by or self.name, "metrics reviewed")
        return self.name, sign_approval(a, self.provider, self.key_id)

    def statement(self, action: ApprovalAction = ApprovalAction.PROMOTE, *,
                  release: str = RELEASE, model: str = MODEL) -> SignedStatement:
        """A signed statement as the ``approve`` Update takes it."""
        return SignedStatement(bundle=self.approve(action, release=release,
                                                   model=model)[1].decode(), label=self.name)


def make_team(tmp: Path, *names: str) -> dict[str, Someone]:
    """People by name, each with a key under ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {n: Someone(tmp, n) for n in names}


def signed_roster(path: Path, admin: Someone, people: list[Person]) -> Path:
    """``path`` and ``path.sig``, signed by ``admin`` (an administrator in it)."""
    sign_roster(Roster(people=(admin.person(Role.ADMINISTRATOR), *people)), path,
                admin.provider, admin.key_id)
    return path


def rule_for(roster: Path, admin: Someone, **fields: object) -> ApprovalRule:
    """An approval rule pinning ``admin``'s key."""
    return ApprovalRule.model_validate({"roster_path": str(roster),
                                        "admin_keys": (admin.pem.decode(),), **fields})
