"""The provenance ledger: append-only, hash-chained, signed, in object storage.

Layout in the ledger's store (``prefix`` defaults to ``ledger``)::

    ledger/<seq:012d>.json         one entry per object, written with create_if_absent
    ledger-index/<sha256(key)>.json  idempotency key -> seq (a lookup aid, not the authority)
    ledger-head/<seq:012d>.json    signed head checkpoints (optionally in another store)

**No forks.** An entry is written only with ``create_if_absent`` at
``seq = head + 1``; of two writers racing for the same seq exactly one wins,
the other re-reads the head and tries again on top of it. Each entry holds
the previous entry's hash and the SHA-256 of its own canonical JSON
(``entry_hash``), signed through the key provider.

**Idempotent appends.** An activity may die after its entry was written but
before it returned, and be retried. Before writing entry N+1, a writer makes
sure entry N has its index object (the writer of N may have died before
writing it). So once entry H is the head, every entry before H is indexed,
and "is key K already in the chain?" is answered exactly by: the head's key
is K, or ``ledger-index/<K>`` exists. The retry then returns the existing
entry instead of appending a duplicate.

**Tamper evidence.** ``verify`` recomputes every hash, checks every
signature against the caller's trusted public keys, the seq of every object
against its name, every link, and names the entry at fault: edited (content
or hash), deleted (a gap), reordered (seq/name or link mismatch), forged
(untrusted key). *Truncation* (deleting the last entries) leaves no gap, so
each append also writes a signed checkpoint "head is seq N with hash H";
``verify`` refuses a chain shorter than its newest checkpoint. An attacker
who can delete both the tail and its checkpoints in the same bucket defeats
that, so: put checkpoints in a second store (``checkpoint_store``, another
account/cloud or an object-lock bucket), and/or pass a head you learnt
elsewhere (``expected_head``: evidence bundles and ``ledger verify`` print
it). With both entries and checkpoints in a WORM bucket nothing can be
deleted at all; the chain still detects what the storage admin could do.

Entries carry digests, names and figures: callers must never put patient
data in a payload (payloads are size-limited JSON and stored in the clear).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from medpipe.activities.keys.base import KeyProvider
from medpipe.activities.signing.chain import (
    GENESIS,
    SEQ_NAME,
    canonical,
    checkpoint_digest,
    entry_digest,
    verify_chain,
)
from medpipe.activities.signing.dsse import ProviderKey, TrustedKeys
from medpipe.activities.storage.base import ObjectStore, open_store
from medpipe.contracts.errors import (
    IntegrityError,
    InvalidInput,
    LedgerTampered,
    NotFound,
    Transient,
)
from medpipe.contracts.ledger import LedgerEntry, LedgerReport

MAX_PAYLOAD_BYTES = 64 * 1024
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,47}$")


class Ledger:
    """Append-only provenance ledger over an ``ObjectStore``.

    Args:
        store: where entries (and, by default, checkpoints) live.
        provider / key_id: the signing key (None for a read-only ledger).
        checkpoint_store: a separate store for head checkpoints (see module doc).
        prefix: object key prefix of this ledger.
    """

    def __init__(self, store: ObjectStore, provider: KeyProvider | None = None,
                 key_id: str | None = None, *, checkpoint_store: ObjectStore | None = None,
                 prefix: str = "ledger", max_attempts: int = 10_000) -> None:
        self.store = store
        self.checkpoints = checkpoint_store or store
        self.provider = provider
        self.key_id = key_id
        self.prefix = prefix.strip("/")
        self.max_attempts = max_attempts
        self._key: ProviderKey | None = None
        self._head_cache: dict[str, Any] | None = None

    # -- object names --------------------------------------------------------
    def entry_key(self, seq: int) -> str:
        """Object key of entry ``seq``."""
        return f"{self.prefix}/{seq:012d}.json"

    def _index_key(self, idempotency_key: str) -> str:
        return f"{self.prefix}-index/{hashlib.sha256(idempotency_key.encode()).hexdigest()}.json"

    def _checkpoint_key(self, seq: int) -> str:
        return f"{self.prefix}-head/{seq:012d}.json"

    # -- reading ---------------------------------------------------------------
    def _read(self, store: ObjectStore, key: str) -> dict[str, Any] | None:
        try:
            raw = b"".join(store.get(key))
        except NotFound:
            return None
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise IntegrityError(f"{key} is not a JSON object")
        return doc

    def _seqs(self) -> list[int]:
        out = []
        for info in self.store.list(f"{self.prefix}/"):
            m = SEQ_NAME.match(info.key[len(self.prefix) + 1:])
            if m:
                out.append(int(m.group(1)))
        return sorted(out)

    def _head(self) -> dict[str, Any] | None:
        """The current head entry: cached, then probed forward (one read per newer entry)."""
        head = self._head_cache
        if head is None:
            seqs = self._seqs()
            if seqs:
                head = self._read(self.store, self.entry_key(seqs[-1]))
        while True:
            nxt = self._read(self.store, self.entry_key(head["seq"] + 1 if head else 0))
            if nxt is None:
                break
            head = nxt
        self._head_cache = head
        return head

    def _find(self, idempotency_key: str, head: dict[str, Any] | None) -> dict[str, Any] | None:
        """The entry already appended with ``idempotency_key`` (head read first: see doc)."""
        if head is None:
            return None
        if head.get("idempotency_key") == idempotency_key:
            return head
        index = self._read(self.store, self._index_key(idempotency_key))
        if index is None:
            return None
        entry = self._read(self.store, self.entry_key(int(index["seq"])))
        if entry is None or entry.get("idempotency_key") != idempotency_key:
            raise LedgerTampered(f"idempotency index of a key points at entry {index['seq']}, "
                                 "which does not carry that key")
        return entry

    def _ensure_index(self, entry: Mapping[str, Any]) -> None:
        body = canonical({"idempotency_key": entry["idempotency_key"], "seq": entry["seq"],
                          "entry_hash": entry["entry_hash"]})
        self.store.create_if_absent(self._index_key(entry["idempotency_key"]), body)

    # -- appending -------------------------------------------------------------
    def _signing_key(self) -> ProviderKey:
        if self.provider is None or self.key_id is None:
            raise InvalidInput("this ledger was opened read-only (no key provider / key id)")
        if self._key is None:
            self._key = ProviderKey.open(self.provider, self.key_id)
        return self._key

    def _sign(self, digest: bytes) -> str:
        return base64.b64encode(self._signing_key().sign_digest(digest)).decode()

    def append(self, kind: str, release_id: str, payload: Mapping[str, Any],
               idempotency_key: str) -> LedgerEntry:
        """Append an entry, or return the one already appended with ``idempotency_key``.

        Raises:
            InvalidInput: bad kind, empty key, payload not JSON or too large.
            Transient: could not win a seq after ``max_attempts`` (extreme contention).
        """
        if not _KIND.match(kind):
            raise InvalidInput(f"ledger entry kind {kind!r} must be a lower-case slug")
        if not idempotency_key or len(idempotency_key) > 512:
            raise InvalidInput("ledger idempotency key must be 1..512 characters")
        try:
            payload_doc = json.loads(canonical(payload))
        except (TypeError, ValueError) as e:
            raise InvalidInput(f"ledger payload is not JSON-serializable ({e})") from e
        if len(canonical(payload_doc)) > MAX_PAYLOAD_BYTES:
            raise InvalidInput(f"ledger payload over {MAX_PAYLOAD_BYTES} bytes: store the "
                               "document elsewhere and record its digest")
        key = self._signing_key()
        for _ in range(self.max_attempts):
            head = self._head()
            found = self._find(idempotency_key, head)
            if found is not None:
                return LedgerEntry.model_validate(found)
            if head is not None:
                self._ensure_index(head)
            body: dict[str, Any] = {
                "v": 1, "seq": head["seq"] + 1 if head else 0, "kind": kind,
                "release_id": release_id, "payload": payload_doc,
                "idempotency_key": idempotency_key,
                "at": datetime.now(UTC).isoformat(),
                "prev_hash": head["entry_hash"] if head else GENESIS,
                "key_id": key.key_id, "key_fingerprint": key.fingerprint,
            }
            body["entry_hash"] = entry_digest(body)
            body["signature"] = self._sign(bytes.fromhex(body["entry_hash"]))
            if self.store.create_if_absent(self.entry_key(body["seq"]), canonical(body)):
                self._head_cache = body
                self._ensure_index(body)
                self._write_checkpoint(body)
                return LedgerEntry.model_validate(body)
        raise Transient(f"ledger append did not win a seq in {self.max_attempts} attempts")

    def _write_checkpoint(self, entry: Mapping[str, Any]) -> None:
        key = self._signing_key()
        cp: dict[str, Any] = {"seq": entry["seq"], "entry_hash": entry["entry_hash"],
                              "at": datetime.now(UTC).isoformat(), "key_id": key.key_id,
                              "key_fingerprint": key.fingerprint}
        cp["signature"] = self._sign(checkpoint_digest(cp))
        self.checkpoints.create_if_absent(self._checkpoint_key(entry["seq"]), canonical(cp))

    # -- reading and verifying -----------------------------------------------
    def latest_checkpoint(self) -> dict[str, Any] | None:
        """The newest head checkpoint object (unverified), from every store that holds some.

        Checkpoints normally live in ``checkpoint_store``; writers that were not told
        about it (or an older configuration) left theirs beside the entries. The
        newest of all is the strongest anchor.
        """
        newest: tuple[str, ObjectStore] | None = None
        stores = [self.checkpoints] + ([self.store] if self.store is not self.checkpoints
                                       else [])
        for store in stores:
            keys = [i.key for i in store.list(f"{self.prefix}-head/")
                    if SEQ_NAME.match(i.key.rsplit("/", 1)[-1])]
            if keys and (newest is None or max(keys) > newest[0]):
                newest = (max(keys), store)
        return self._read(newest[1], newest[0]) if newest else None

    def _raw_entries(self) -> Iterator[tuple[str, dict[str, Any] | Exception]]:
        for info in self.store.list(f"{self.prefix}/"):
            try:
                doc = self._read(self.store, info.key)
            except (IntegrityError, ValueError) as e:
                yield info.key, e
                continue
            if doc is not None:
                yield info.key, doc

    def verify(self, trusted_public_keys: Iterable[bytes | str], revoked: Iterable[str] = (),
               *, expected_head: tuple[int, str] | None = None,
               anchors: Iterable[tuple[str, tuple[int, str]]] = (),
               allow_empty: bool = False) -> LedgerReport:
        """Verify the whole chain (see module doc).

        An empty chain is refused unless a deployment says it never appended
        (``allow_empty``) and no checkpoint or anchor records an entry: deleting
        every entry and every checkpoint must not verify as "0 entries, OK".

        Raises:
            LedgerTampered: naming the entry that was edited, deleted,
                reordered, forged, or the truncation.
        """
        trust = TrustedKeys(trusted_public_keys, revoked)
        try:
            checkpoint = self.latest_checkpoint()  # read before entries: see module doc
        except (IntegrityError, ValueError) as e:
            raise LedgerTampered(f"the newest head checkpoint was edited ({e})") from e
        return verify_chain(self._raw_entries(), trust, checkpoint=checkpoint,
                            expected_head=expected_head, anchors=anchors,
                            allow_empty=allow_empty)

    def entries(self, release_id: str | None = None) -> list[LedgerEntry]:
        """Entries in seq order (optionally one release's), parsed but not verified."""
        out = []
        for _key, doc in self._raw_entries():
            if isinstance(doc, Exception):
                raise LedgerTampered(f"ledger entry {_key} was edited: {doc}")
            if release_id is None or doc.get("release_id") == release_id:
                out.append(LedgerEntry.model_validate(doc))
        return out

    def excerpt(self, release_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Raw entries from the release's first entry to the head, plus the newest checkpoint.

        Entries of other releases in that range are included (they hold no
        patient data) so the excerpt is a contiguous, checkable piece of chain.
        """
        checkpoint = self.latest_checkpoint()
        raw = [(k, d) for k, d in self._raw_entries()]
        for k, d in raw:
            if isinstance(d, Exception):
                raise LedgerTampered(f"ledger entry {k} was edited: {d}")
        docs = [d for _, d in raw if isinstance(d, dict)]
        first = next((i for i, d in enumerate(docs) if d.get("release_id") == release_id), None)
        if first is None:
            raise NotFound(f"no ledger entry for release {release_id!r}")
        return docs[first:], checkpoint


def open_ledger(ledger_uri: str, checkpoint_uri: str = "", provider: KeyProvider | None = None,
                key_id: str | None = None) -> Ledger:
    """The ledger at ``ledger_uri``, its checkpoints at ``checkpoint_uri`` (if given)."""
    return Ledger(open_store(ledger_uri), provider, key_id,
                  checkpoint_store=open_store(checkpoint_uri) if checkpoint_uri else None)
