"""The signed roster and signed approvals: who may do what, proven by their own keys.

Temporal's ``identity`` is self-reported by the client, so it proves
nothing. Authority here is a DSSE-signed in-toto statement made with the
person's own key (any ``KeyProvider``: local PEM, AWS KMS, PKCS#11), checked
against a roster that an administrator signed:

- ``roster.yaml`` lists people, their public keys and roles;
  ``roster.yaml.sig`` is a Sigstore bundle whose statement's subject is the
  roster file's SHA-256 (predicate ``https://medpipe.dev/roster/v1``). It
  verifies only under an administrator key the verifier pins, and that key
  must be an administrator *in* the roster it signs.
- an approval is a statement whose subject is the model digest and whose
  predicate (``https://medpipe.dev/approval/v1``) names the action, release,
  signer, reason and time. ``check_approvals`` counts distinct people with
  the action's role, never the releaser, refusing (with the reason) unknown,
  revoked, wrong-role or wrong-release statements.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from medpipe.activities.keys.base import KeyProvider
from medpipe.activities.signing.dsse import (
    STATEMENT_TYPE,
    ProviderKey,
    SignatureRefused,
    TrustedKeys,
    key_fingerprint,
    open_statement,
    sign_statement,
)
from medpipe.contracts.approval import (
    APPROVAL_PREDICATE_TYPE,
    ROSTER_PREDICATE_TYPE,
    Approval,
    ApprovalAction,
    ApprovalVerdict,
    Person,
    Role,
    Roster,
)
from medpipe.contracts.errors import InvalidInput, MedpipeError, SignatureInvalid
from medpipe.contracts.provenance import SignatureRefusal


def roster_bytes(roster: Roster) -> bytes:
    """The roster as YAML (what is signed: the file's exact bytes)."""
    return yaml.safe_dump(roster.model_dump(mode="json"), sort_keys=True).encode()


def sign_roster(roster: Roster, path: Path, provider: KeyProvider, key_id: str) -> None:
    """Write ``path`` and ``path.sig``, signed by an administrator listed in ``roster``."""
    key = ProviderKey.open(provider, key_id)
    admin = _person_with_key(roster, key.fingerprint)
    if admin is None or Role.ADMINISTRATOR not in admin.roles:
        raise InvalidInput("the roster must be signed by an administrator it lists (key "
                           f"{key.fingerprint[:16]}… is not one)")
    data = roster_bytes(roster)
    statement = {"_type": STATEMENT_TYPE,
                 "subject": [{"name": path.name,
                              "digest": {"sha256": hashlib.sha256(data).hexdigest()}}],
                 "predicateType": ROSTER_PREDICATE_TYPE,
                 "predicate": {"people": len(roster.people), "signed_by": admin.name}}
    path.write_bytes(data)
    Path(f"{path}.sig").write_bytes(sign_statement(key, statement))


def _person_with_key(roster: Roster, fingerprint: str) -> Person | None:
    for p in roster.people:
        if key_fingerprint(p.public_key.encode()) == fingerprint:
            return p
    return None


def load_roster(path: Path, admin_keys: Iterable[bytes], revoked: Iterable[str] = ()) -> Roster:
    """Load a roster after checking its administrator's signature.

    Raises:
        SignatureInvalid: unsigned, forged, edited, or signed by a non-administrator.
        InvalidInput: unreadable or not a roster.
    """
    sig = Path(f"{path}.sig")
    if not path.is_file() or not sig.is_file():
        raise SignatureInvalid(f"roster {path} or its signature {sig.name} is missing: an "
                               "unsigned roster is not trusted")
    data = path.read_bytes()
    statement, fp = open_statement(sig.read_bytes(), TrustedKeys(admin_keys, revoked),
                                   f"roster signature {sig.name}", ROSTER_PREDICATE_TYPE)
    if statement["subject"][0]["digest"].get("sha256") != hashlib.sha256(data).hexdigest():
        raise SignatureInvalid(f"roster {path.name} was changed after it was signed")
    try:
        roster = Roster.model_validate(yaml.safe_load(data))
    except (yaml.YAMLError, ValidationError) as e:
        raise InvalidInput(f"roster {path.name} is not a valid roster ({e})") from e
    signer = _person_with_key(roster, fp)
    if signer is None or Role.ADMINISTRATOR not in signer.roles:
        raise SignatureInvalid(f"roster {path.name} is signed by key {fp[:16]}…, which is not "
                               "an administrator in it")
    return roster


def sign_approval(approval: Approval, provider: KeyProvider, key_id: str) -> bytes:
    """A signed approval statement (Sigstore bundle, DSSE, in-toto Statement v1)."""
    statement = {"_type": STATEMENT_TYPE,
                 "subject": [{"name": approval.release_id,
                              "digest": {"sha256": approval.model_sha256}}],
                 "predicateType": APPROVAL_PREDICATE_TYPE,
                 "predicate": approval.model_dump(mode="json")}
    return sign_statement(ProviderKey.open(provider, key_id), statement)


def new_approval(action: ApprovalAction, release_id: str, model_sha256: str, by: str,
                 reason: str) -> Approval:
    """An approval made now."""
    return Approval(action=action, release_id=release_id, model_sha256=model_sha256, by=by,
                    reason=reason, at=datetime.now(UTC))


def check_approvals(bundles: Sequence[tuple[str, bytes]], roster: Roster, *,
                    action: ApprovalAction, release_id: str, model_sha256: str,
                    releaser: str | None = None, required: int = 1,
                    revoked: Iterable[str] = ()) -> ApprovalVerdict:
    """Count distinct entitled signers of ``action`` on this release and model.

    Args:
        bundles: (label, signed statement) pairs; the label names it in refusals.
        releaser: who released (never counts as an approver: four eyes).
        required: distinct approvals needed.
    """
    trust = TrustedKeys([p.public_key.encode() for p in roster.people],
                        [*roster.revoked, *revoked])
    approvers: list[str] = []
    keys: list[str] = []
    refusals: list[str] = []
    for label, raw in bundles:
        try:
            statement, fp = open_statement(raw, trust, f"approval {label}",
                                           APPROVAL_PREDICATE_TYPE)
            approval = Approval.model_validate(statement["predicate"])
        except (MedpipeError, ValidationError, KeyError) as e:
            why = e.message if isinstance(e, MedpipeError) else f"malformed ({e})"
            if isinstance(e, SignatureRefused) and e.reason is SignatureRefusal.UNTRUSTED_KEY:
                why = f"signed by a key that is not on the roster ({why})"
            refusals.append(f"{label}: {why}")
            continue
        person = _person_with_key(roster, fp)
        assert person is not None  # trusted keys are exactly the roster's
        refusal = _refusal(person, approval, statement, action, release_id, model_sha256,
                           releaser)
        if refusal:
            refusals.append(f"{label}: {refusal}")
        elif person.name not in approvers:
            approvers.append(person.name)
            keys.append(person.public_key)
    return ApprovalVerdict(approved=len(approvers) >= required, approvers=tuple(approvers),
                           required=required, refusals=tuple(refusals),
                           signer_keys=tuple(keys))


def _refusal(person: Person, approval: Approval, statement: dict[str, object],
             action: ApprovalAction, release_id: str, model_sha256: str,
             releaser: str | None) -> str | None:
    subject = json.dumps(statement.get("subject"))
    if approval.by != person.name:
        return (f"signed with {person.name}'s key but claims to be by {approval.by}")
    if approval.action is not action:
        return f"{person.name} approved {approval.action.value}, not {action.value}"
    if approval.release_id != release_id or approval.model_sha256 != model_sha256 \
            or model_sha256 not in subject:
        return f"{person.name} approved another release or model"
    if action.role not in person.roles:
        return (f"{person.name} lacks the role {action.role.value} needed to "
                f"{action.value} (has {', '.join(r.value for r in person.roles)})")
    if releaser is not None and person.name == releaser and action is ApprovalAction.PROMOTE:
        return f"{person.name} released this model: four eyes needs another approver"
    return None
