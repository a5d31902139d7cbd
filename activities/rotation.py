"""Key rotation for stored objects: re-wrap data keys, never re-encrypt content.

``KeyProvider.rotate`` makes a new key version current, but every object
sealed before still names the old version in its envelope header. To retire
old versions (or before shredding one), each object's data key is re-wrapped
under the current version: ``rewrap_stream`` swaps the header's key section
and passes the content segments through byte for byte, and the store's one
sanctioned mutation, ``replace_if_match``, swaps the object only if nobody
changed it since it was read.

Why it is safe to run over a whole bucket, repeatedly:

- Only envelopes are touched: an object that does not start with the
  envelope magic (clear signed models, JSON reports, ledger entries) is
  skipped; so is an envelope wrapped by another provider or another key.
- An object is replaced only after its old wrapped key unwrapped and
  matched the header's key commitment, and the new one did too
  (``rewrap_stream`` checks both). Anything that fails (corrupted header,
  destroyed key, unknown context, a concurrent change) is reported as
  failed with the reason and left exactly as it was.
- Objects already on the target version are counted as current, so a
  second run is a no-op and an interrupted run can simply be re-run.

The wrapping context is not in the header, so it is rebuilt from the object
key the way the writers build it (``context_for_key``): release artifacts
``releases/<release_id>/...`` are sealed with ``{"release_id": ...}``
(``activities.sealed``), the token vault ``vault/v<n>.sealed`` with
``{"purpose": "pseudonymization-vault"}``. Reports carry object keys, key ids
and error messages, never content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medpipe.activities.envelope import (
    CONTEXT_OBJECT_KEY,
    MAGIC,
    EnvelopeHeader,
    read_header,
    rewrap_stream,
)
from medpipe.activities.keys.base import KeyProvider, split_version
from medpipe.activities.storage.base import ObjectInfo, ObjectStore
from medpipe.contracts.errors import AlreadyExists, InvalidInput, MedpipeError, NotFound

#: Bytes read to parse a header: more than the largest header the format allows.
HEADER_PEEK = 16 * 1024
#: Chunk size for the peek (small: most objects are skipped after a few bytes).
_PEEK_CHUNK = 64 * 1024
_RELEASE_KEY = re.compile(r"^releases/([^/]+)/")
_VAULT_KEY = re.compile(r"^vault/(v\d+|hmac-token-key)\.sealed$")
_PROBE_CONTEXT = {"purpose": "medpipe-key-rotation-probe"}

Status = Literal["rewrapped", "current", "skipped", "failed"]


def context_for_key(key: str) -> dict[str, str] | None:
    """The wrapping context medpipe's writers bind to the object stored at ``key``.

    Returns None for keys no writer seals (the object cannot be re-wrapped
    without knowing its context, and is reported as failed).
    """
    m = _RELEASE_KEY.match(key)
    if m:
        return {"release_id": m.group(1)}
    if _VAULT_KEY.match(key):
        return {"purpose": "pseudonymization-vault"}
    return None


class RewrapOutcome(BaseModel):
    """What happened to one object.

    Attributes:
        key: the object's key in its store.
        status: rewrapped, current (already on the target version), skipped
            (not an envelope, or another provider's/key's), failed.
        reason: why it was skipped or failed (empty otherwise).
        old_key_id / new_key_id: the wrapping key version before and after.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    status: Status
    reason: str = ""
    old_key_id: str = ""
    new_key_id: str = ""


class RewrapReport(BaseModel):
    """The result of re-wrapping one store's objects (keys and counts, no content).

    Attributes:
        bucket_uri: the store.
        key_id: the key whose older versions were retired.
        target_key_id: the exact key version objects are now wrapped by.
        outcomes: one per object examined, in key order.
    """

    model_config = ConfigDict(frozen=True)

    bucket_uri: str
    key_id: str
    target_key_id: str
    outcomes: tuple[RewrapOutcome, ...] = Field(default=())

    def _count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rewrapped(self) -> int:
        """Objects whose data key was re-wrapped by this run."""
        return self._count("rewrapped")

    @property
    def current(self) -> int:
        """Objects already wrapped by the target version."""
        return self._count("current")

    @property
    def skipped(self) -> int:
        """Objects that are not envelopes of this key."""
        return self._count("skipped")

    @property
    def failed(self) -> int:
        """Objects that could not be re-wrapped (left untouched)."""
        return self._count("failed")

    def failures(self) -> list[RewrapOutcome]:
        """The failed outcomes, with their reasons."""
        return [o for o in self.outcomes if o.status == "failed"]

    def counts(self) -> dict[str, int]:
        """Counts by status (for the ledger and the CLI)."""
        return {"rewrapped": self.rewrapped, "current": self.current,
                "skipped": self.skipped, "failed": self.failed}


def current_version(provider: KeyProvider, key_id: str) -> str:
    """The exact version id now current for ``key_id`` (``name#vN``, or a KMS key ARN).

    The protocol has no "describe" call, so this wraps a throwaway data key
    and reads which version the provider used: one provider call.
    """
    _clear, wrapped = provider.new_data_key(key_id, _PROBE_CONTEXT)
    return wrapped.key_id


def _peek(store: ObjectStore, key: str) -> bytes:
    """The object's first ``HEADER_PEEK`` bytes (fewer if it is shorter)."""
    stream = store.get(key, _PEEK_CHUNK)
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in stream:
            parts.append(chunk)
            size += len(chunk)
            if size >= HEADER_PEEK:
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # stop the download; the digest is checked on the full read later
    return b"".join(parts)[:HEADER_PEEK]


def _family(versioned: str) -> str | None:
    """The key name of a ``name#vN`` version id; None when the id does not say (KMS ARNs)."""
    if "#" not in versioned:
        return None
    try:
        return split_version(versioned)[0]
    except InvalidInput:
        return None


class _Rewrapper:
    """Re-wraps one store's objects for one key (the state of one run)."""

    def __init__(self, store: ObjectStore, provider: KeyProvider, key_id: str,
                 target: str, context_for: Callable[[str], Mapping[str, str] | None]) -> None:
        self.store, self.provider, self.key_id, self.target = store, provider, key_id, target
        self.context_for = context_for
        self.family = _family(key_id) or key_id
        self._key_current: str | None = None

    def key_current(self) -> str:
        """The current version of ``key_id`` (differs from the target when migrating keys)."""
        if self._key_current is None:
            self._key_current = current_version(self.provider, self.key_id)
        return self._key_current

    def _belongs(self, header: EnvelopeHeader, context: Mapping[str, str]) -> bool:
        """Whether the header's key is a version of ``key_id``.

        ``name#vN`` ids say so themselves. A KMS key ARN does not: the provider
        re-wraps under the current version of the ARN's own key, and the
        object belongs if that is the current version of ``key_id`` (one
        extra provider call; the result is discarded, nothing is stored).
        """
        family = _family(header.wrapped.key_id)
        if family is not None:
            return family == self.family
        bound = {**context, CONTEXT_OBJECT_KEY: header.object_id}
        own = self.provider.rewrap(header.wrapped, bound)
        return own.key_id == self.key_current()

    def one(self, info: ObjectInfo) -> RewrapOutcome:
        key = info.key
        try:
            head = _peek(self.store, key)
        except MedpipeError as e:
            return RewrapOutcome(key=key, status="failed", reason=f"unreadable: {e.message}")
        if not head.startswith(MAGIC):
            return RewrapOutcome(key=key, status="skipped", reason="not an envelope")
        try:
            header = read_header(head, object_id=key)
        except MedpipeError as e:
            return RewrapOutcome(key=key, status="failed", reason=e.message)
        old = header.wrapped.key_id
        if header.wrapped.provider != self.provider.scheme:
            return RewrapOutcome(key=key, status="skipped", old_key_id=old,
                                 reason=f"wrapped by a '{header.wrapped.provider}' key")
        if old == self.target:
            return RewrapOutcome(key=key, status="current", old_key_id=old, new_key_id=old)
        context = self.context_for(key)
        if context is None:
            return RewrapOutcome(key=key, status="failed", old_key_id=old,
                                 reason="no known encryption context for this object key")
        try:
            if not self._belongs(header, context):
                return RewrapOutcome(key=key, status="skipped", old_key_id=old,
                                     reason=f"wrapped by another key than '{self.key_id}'")
            sealed = rewrap_stream(self.store.get(key), object_id=key, provider=self.provider,
                                   new_key_id=self.target, context=context)
            self.store.replace_if_match(key, sealed, info.sha256)
        except AlreadyExists as e:
            return RewrapOutcome(key=key, status="failed", old_key_id=old,
                                 reason=f"changed during re-wrap: {e.message}")
        except NotFound as e:
            return RewrapOutcome(key=key, status="skipped", old_key_id=old,
                                 reason=f"deleted during re-wrap: {e.message}")
        except MedpipeError as e:
            return RewrapOutcome(key=key, status="failed", old_key_id=old, reason=e.message)
        return RewrapOutcome(key=key, status="rewrapped", old_key_id=old, new_key_id=self.target)


def rewrap_objects(store: ObjectStore, provider: KeyProvider, key_id: str,
                   new_key_id: str | None = None, prefix: str = "",
                   context_for: Callable[[str], Mapping[str, str] | None] = context_for_key,
                   on_outcome: Callable[[RewrapOutcome], None] | None = None) -> RewrapReport:
    """Re-wrap the data keys of the envelopes under ``prefix`` that old versions of ``key_id`` wrap.

    The target is the current version of ``new_key_id`` (default: ``key_id``).
    Each object is streamed through ``rewrap_stream`` into
    ``replace_if_match`` in constant memory; its content segments pass
    through unchanged and are never decrypted.

    Args:
        store: the store to walk.
        provider: the provider holding ``key_id`` (objects of other providers are skipped).
        key_id: the key whose older versions are being retired (a bare name).
        new_key_id: re-wrap under this key's current version instead (key migration).
        prefix: only objects whose key starts with this.
        context_for: the wrapping context of an object key (default: medpipe's writers').
        on_outcome: called after each object (progress, heartbeats).

    Returns:
        A report with one outcome per object and counts per status.

    Raises:
        KeyProviderError / KeyUnavailable: the target key cannot be used at all
            (per-object provider errors are reported in the outcomes instead).
    """
    target = current_version(provider, new_key_id or key_id)
    worker = _Rewrapper(store, provider, key_id, target, context_for)
    outcomes: list[RewrapOutcome] = []
    for info in store.list(prefix):
        outcome = worker.one(info)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return RewrapReport(bucket_uri=store.bucket_uri, key_id=key_id, target_key_id=target,
                        outcomes=tuple(outcomes))
