"""Verifying a run of ledger entries: hashes, signatures, links, and the heads it must reach.

Pure functions over parsed entries (no storage): ``Ledger.verify`` feeds it
the whole chain, ``verify_evidence`` an excerpt from an evidence pack. The
anchors (signed checkpoints, heads kept outside storage) are what turns
"nothing was edited" into "nothing was cut off the end".
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from medpipe.activities.signing.dsse import TrustedKeys
from medpipe.contracts.errors import IntegrityError, LedgerTampered
from medpipe.contracts.ledger import LedgerCheckpoint, LedgerEntry, LedgerReport

GENESIS = "0" * 64
_ENTRY_DOMAIN = b"medpipe-ledger-entry/v1\x00"
_HEAD_DOMAIN = b"medpipe-ledger-head/v1\x00"
SEQ_NAME = re.compile(r"^(\d{12})\.json$")


def canonical(doc: Mapping[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no spaces, ASCII (stable across writers)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def entry_digest(body: Mapping[str, Any]) -> str:
    """The hash of an entry: every field except ``entry_hash`` and ``signature``."""
    fields = {k: v for k, v in body.items() if k not in ("entry_hash", "signature")}
    return hashlib.sha256(_ENTRY_DOMAIN + canonical(fields)).hexdigest()


def checkpoint_digest(body: Mapping[str, Any]) -> bytes:
    """The signed digest of a head checkpoint (domain-separated from entries)."""
    fields = {k: v for k, v in body.items() if k != "signature"}
    return hashlib.sha256(_HEAD_DOMAIN + canonical(fields)).digest()


def _check_signature(key: ec.EllipticCurvePublicKey, signature_b64: str, digest: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), digest,
                   ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_chain(items: Iterable[tuple[str, Mapping[str, Any] | Exception]], trust: TrustedKeys,
                 *, start_prev: str | None = GENESIS, start_seq: int = 0,
                 checkpoint: Mapping[str, Any] | None = None,
                 expected_head: tuple[int, str] | None = None,
                 anchors: Iterable[tuple[str, tuple[int, str]]] = (),
                 allow_empty: bool = True) -> LedgerReport:
    """Check a run of entries (in seq order) and name the first one at fault.

    Args:
        items: (object key, parsed entry or the error reading it).
        trust: public keys allowed to sign entries and checkpoints.
        start_prev: prev hash of the first entry (None: an excerpt, not checked).
        start_seq: seq of the first entry.
        checkpoint: the newest signed head checkpoint, if any.
        expected_head: a (seq, entry hash) the chain must contain, learnt elsewhere.
        anchors: more (label, (seq, entry hash)) heads learnt elsewhere (evidence
            packs, a previous verify, the release workflow's history).
        allow_empty: accept a chain with no entry at all when no anchor names one
            (only a deployment that has never appended may pass this).

    Raises:
        LedgerTampered: naming the entry and what is wrong with it.
    """
    prev = start_prev
    want = start_seq
    hashes_by_seq: dict[int, str] = {}
    per_key: dict[str, int] = {}
    last: tuple[int, str] | None = None
    for key, doc in items:
        m = SEQ_NAME.match(key.rsplit("/", 1)[-1])
        if m is None:
            raise LedgerTampered(f"unexpected object {key} among the ledger entries")
        seq = int(m.group(1))
        if isinstance(doc, Exception):
            raise LedgerTampered(f"entry {seq} ({key}) was edited: {doc}")
        if seq > want:
            gap = f"{want}" if seq == want + 1 else f"{want}..{seq - 1}"
            raise LedgerTampered(f"entry {gap} missing (deleted): the chain jumps from entry "
                                 f"{want - 1} to entry {seq}")
        if doc.get("seq") != seq:
            raise LedgerTampered(f"entry at {key} claims seq {doc.get('seq')}: entries were "
                                 "reordered or moved")
        if entry_digest(doc) != doc.get("entry_hash"):
            raise LedgerTampered(f"entry {seq} ({key}) was edited: its content does not match "
                                 "its hash")
        fp = str(doc.get("key_fingerprint", ""))
        pub = trust.keys.get(fp)
        if pub is None:
            raise LedgerTampered(f"entry {seq} is signed by key {fp[:16]}…, which is not "
                                 "trusted (forged or re-signed entry)")
        if fp in trust.revoked:
            raise LedgerTampered(f"entry {seq} is signed by revoked key {fp[:16]}…")
        if not _check_signature(pub, str(doc.get("signature", "")),
                                bytes.fromhex(doc["entry_hash"])):
            raise LedgerTampered(f"entry {seq} ({key}) has a signature that does not verify: "
                                 "edited and re-hashed")
        if prev is not None and doc.get("prev_hash") != prev:
            raise LedgerTampered(f"entry {seq} does not follow entry {seq - 1} (prev hash "
                                 "mismatch): entries were reordered, replaced or removed")
        try:
            LedgerEntry.model_validate(doc)
        except ValueError as e:
            raise LedgerTampered(f"entry {seq} is not a valid ledger entry ({e})") from e
        prev = doc["entry_hash"]
        hashes_by_seq[seq] = prev
        per_key[fp] = per_key.get(fp, 0) + 1
        last = (seq, prev)
        want = seq + 1
    cp_seq = None
    all_anchors = [("signed checkpoint", checkpoint_anchor(checkpoint, trust)),
                   ("expected head", expected_head), *anchors]
    if last is None and not allow_empty and all(a is None for _, a in all_anchors):
        raise LedgerTampered("the ledger is empty and no checkpoint or anchor was found: a "
                             "ledger deleted with its checkpoints looks exactly like this; "
                             "pass an anchor (--expect-head, --evidence) or, for a deployment "
                             "that never appended, --allow-empty")
    for label, anchor in all_anchors:
        if anchor is None:
            continue
        a_seq, a_hash = anchor
        if last is None or a_seq > last[0]:
            end = "is empty" if last is None else f"ends at entry {last[0]}"
            first = 0 if last is None else last[0] + 1
            raise LedgerTampered(f"ledger truncated: the {label} records entry {a_seq} "
                                 f"(hash {a_hash[:12]}…) but the chain {end}: entries "
                                 f"{first}..{a_seq} were deleted")
        if a_seq in hashes_by_seq and hashes_by_seq[a_seq] != a_hash:
            raise LedgerTampered(f"entry {a_seq} differs from the {label}: the chain was "
                                 "rewritten")
        if label == "signed checkpoint":
            cp_seq = a_seq
    return LedgerReport(entries=len(hashes_by_seq), head_seq=last[0] if last else None,
                        head_hash=last[1] if last else None, checkpoint_seq=cp_seq,
                        keys=per_key)


def checkpoint_anchor(cp: Mapping[str, Any] | None,
                      trust: TrustedKeys) -> tuple[int, str] | None:
    """(seq, entry hash) of a signed head checkpoint, after checking its signature."""
    if cp is None:
        return None
    fp = str(cp.get("key_fingerprint", ""))
    pub = trust.keys.get(fp)
    if pub is None or not _check_signature(pub, str(cp.get("signature", "")),
                                           checkpoint_digest(cp)):
        raise LedgerTampered(f"head checkpoint {cp.get('seq')} is not signed by a trusted key "
                             "(forged checkpoint)")
    try:
        LedgerCheckpoint.model_validate(cp)
    except ValueError as e:
        raise LedgerTampered(f"head checkpoint {cp.get('seq')} is malformed ({e})") from e
    return int(cp["seq"]), str(cp["entry_hash"])


def anchor_in_excerpt(anchor: tuple[int, str], entries: Sequence[Mapping[str, Any]],
                      what: str) -> None:
    """Refuse an excerpt without the entry at the anchor's seq, with the anchor's hash."""
    seq, digest = anchor
    found = [e for e in entries if e["seq"] == seq]
    if not found or found[0]["entry_hash"] != digest:
        raise IntegrityError(f"{what} {seq}:{digest[:16]}… is not in the ledger excerpt "
                             "(entries after it were removed, or it was rewritten)")
