"""Evidence of a release: everything an auditor needs to check it offline.

The ledger is the index. The sign step appends a ``signed`` entry whose
payload (``signed_entry_payload``) names, by URI and SHA-256, the OMS bundle,
the provenance bundle and the reports. ``write_evidence`` follows it, fetches
those objects (checking each digest against the ledger), and writes::

    DIR/model.sig               OMS bundle (model_signing verify key accepts it)
    DIR/provenance.json         signed SLSA provenance (Sigstore bundle, DSSE)
    DIR/reports/<name>          pseudonymization / validation reports (counts only)
    DIR/ledger/entries.jsonl    the chain from the release's first entry to the head
    DIR/ledger/checkpoint.json  the newest signed head checkpoint
    DIR/keys/<fingerprint>.pem  public keys that signed (informative: trust comes
                                from the keys the checker passes)
    DIR/evidence.json           release id, head, and the SHA-256 of every file above

``verify_evidence`` checks all of it against the caller's trusted keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from medpipe.activities.signing.chain import verify_chain
from medpipe.activities.signing.dsse import TrustedKeys, key_fingerprint, open_statement
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.signing.oms import OMS_PREDICATE_TYPE, verify_model
from medpipe.activities.signing.provenance import verify_provenance
from medpipe.activities.storage.base import open_store
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.errors import IntegrityError, InvalidInput, NotFound
from medpipe.contracts.ledger import LedgerReport


def signed_entry_payload(model: ArtifactRef, bundle: ArtifactRef, provenance: ArtifactRef,
                         reports: Iterable[ArtifactRef] = (),
                         key_fingerprint: str = "") -> dict[str, Any]:
    """The payload of the ``signed`` ledger entry (store references and digests only)."""
    def ref(a: ArtifactRef) -> dict[str, Any]:
        return a.model_dump(mode="json")

    return {"model": ref(model), "bundle": ref(bundle), "provenance": ref(provenance),
            "reports": [ref(r) for r in reports], "key_fingerprint": key_fingerprint}


def _fetch(ref: Mapping[str, Any]) -> bytes:
    try:
        art = ArtifactRef.model_validate(ref)
    except ValueError as e:
        raise InvalidInput(f"ledger reference {ref.get('name')!r} is not an artifact "
                           f"reference ({e})") from e
    data = b"".join(open_store(art.bucket_uri).get(art.key))
    if hashlib.sha256(data).hexdigest() != art.sha256:
        raise IntegrityError(f"{art.uri} does not match the digest recorded in the ledger")
    return data


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".")
    return cleaned or "report"


def write_evidence(ledger: Ledger, release_id: str, out_dir: Path,
                   public_keys: Iterable[bytes] = ()) -> dict[str, Any]:
    """Write the evidence directory of ``release_id``; returns its index."""
    entries, checkpoint = ledger.excerpt(release_id)
    signed = [e for e in entries if e["release_id"] == release_id and e["kind"] == "signed"]
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    if signed:
        payload = signed[-1]["payload"]
        files["model.sig"] = _fetch(payload["bundle"])
        files["provenance.json"] = _fetch(payload["provenance"])
        for r in payload.get("reports", []):
            files[f"reports/{_safe_name(str(r.get('name')))}"] = _fetch(r)
    files["ledger/entries.jsonl"] = b"".join(
        json.dumps(e, sort_keys=True).encode() + b"\n" for e in entries)
    if checkpoint is not None:
        files["ledger/checkpoint.json"] = json.dumps(checkpoint, sort_keys=True).encode()
    for pem in public_keys:
        files[f"keys/{key_fingerprint(pem)}.pem"] = pem
    for name, data in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    index = {"release_id": release_id, "signed": bool(signed),
             "head": {"seq": entries[-1]["seq"], "entry_hash": entries[-1]["entry_hash"]},
             "files": {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}}
    (out_dir / "evidence.json").write_text(json.dumps(index, indent=2))
    return index


def verify_evidence(out_dir: Path, trusted_keys: Iterable[bytes], revoked: Iterable[str] = (),
                    model_path: Path | None = None) -> dict[str, Any]:
    """Check an evidence directory; returns a summary.

    Raises:
        SignatureRefused / LedgerTampered / IntegrityError: naming what failed.
    """
    index_path = out_dir / "evidence.json"
    if not index_path.is_file():
        raise NotFound(f"{out_dir} is not an evidence directory (no evidence.json)")
    index = json.loads(index_path.read_text())
    for name, digest in index["files"].items():
        path = out_dir / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise IntegrityError(f"evidence file {name} is missing or changed")
    keys = list(trusted_keys)
    trust = TrustedKeys(keys, revoked)
    release_id = index["release_id"]
    lines = (out_dir / "ledger" / "entries.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    cp_path = out_dir / "ledger" / "checkpoint.json"
    checkpoint = json.loads(cp_path.read_text()) if cp_path.is_file() else None
    report: LedgerReport = verify_chain(
        ((f"{e['seq']:012d}.json", e) for e in entries), trust, start_prev=None,
        start_seq=entries[0]["seq"] if entries else 0, checkpoint=checkpoint)
    summary: dict[str, Any] = {"release_id": release_id, "ledger_entries": report.entries,
                               "head_seq": report.head_seq, "head_hash": report.head_hash}
    signed = [e for e in entries if e["release_id"] == release_id and e["kind"] == "signed"]
    if not signed:
        summary["signed"] = False
        return summary
    payload = signed[-1]["payload"]
    for name, ref in (("model.sig", payload["bundle"]), ("provenance.json", payload["provenance"])):
        if hashlib.sha256((out_dir / name).read_bytes()).hexdigest() != ref["sha256"]:
            raise IntegrityError(f"evidence {name} is not the one recorded in the ledger")
    bundle = (out_dir / "model.sig").read_bytes()
    statement, fp = open_statement(bundle, trust, "model signature bundle", OMS_PREDICATE_TYPE)
    root = statement["subject"][0]["digest"]["sha256"]
    prov = verify_provenance(out_dir / "provenance.json", keys, revoked, release_id=release_id)
    sig_refs = [b for b in prov.statement["predicate"]["runDetails"].get("byproducts", [])
                if b.get("name") == "model-signature"]
    if sig_refs and sig_refs[0]["digest"]["sha256"] != hashlib.sha256(bundle).hexdigest():
        raise IntegrityError("the provenance names another model signature bundle")
    summary.update(signed=True, model_root_digest=root, model_key=fp,
                   provenance_key=prov.key_fingerprint)
    if model_path is not None:
        verified = verify_model(model_path, out_dir / "model.sig", keys, revoked)
        summary["model_verified"] = verified.model_name
    return summary
