"""Evidence of a release: everything an auditor needs to check it offline, with nothing else.

The ledger is the index. The sign step appends a ``signed`` entry whose
payload (``signed_entry_payload``) names, by URI and SHA-256, the model, the
OMS bundle, the provenance bundle, the reports and the runtime SBOMs.
``write_evidence`` follows it, fetches those objects (checking each digest
against the ledger), and writes::

    DIR/model.onnx              the signed model, under the name it was signed with (or, with
                                include_model=False, its URI and digest in evidence.json)
    DIR/model.sig               OMS bundle: ``model_signing verify key DIR/model.onnx
                                --signature DIR/model.sig --public_key DIR/keys/<fp>.pem``
    DIR/provenance.json         signed SLSA provenance (Sigstore bundle, DSSE)
    DIR/reports/<name>          pseudonymization / validation reports (counts only)
    DIR/sboms/<sha256>.cdx.json CycloneDX SBOM of every worker runtime named in provenance, and
                                of every gateway runtime the deploy entries name
    DIR/canary.json             deployment outcome, canary verdict, rollbacks (from the ledger)
    DIR/approvals.json          signed promotion approvals (statements, keys, verdict) and how
                                each rollback was authorised (deploy_evidence.py)
    DIR/offboarding.json        certificates of destruction covering the release, once it was
                                offboarded (its artifacts are then no longer fetched: they were
                                returned to the customer and destroyed)
    DIR/dpia.json               DPIA record generated from the release (activities/signing/dpia.py)
    DIR/ledger/entries.jsonl    the chain from the release's first entry to the head
    DIR/ledger/checkpoint.json  the newest signed head checkpoint
    DIR/ledger/proof.json       inclusion proof: the release's entries, linked to the head
    DIR/keys/<fingerprint>.pem  public keys that signed (informative: trust comes
                                from the keys the checker passes)
    DIR/evidence.json           release id, head anchor, the release workflow's own anchor (its
                                last ledger append, from its history), and the SHA-256 of every
                                file above

Every file is either signed (bundles, ledger entries), bound by a digest in
signed material (model, reports, SBOMs), or recomputed from signed material
at verification (canary, DPIA, proof): editing evidence.json along with a
file does not help. ``verify_evidence`` names the first file that fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medpipe.activities.chunkio import file_sha256
from medpipe.activities.sbom import validate_sbom
from medpipe.activities.signing.chain import anchor_in_excerpt, checkpoint_anchor, verify_chain
from medpipe.activities.signing.deploy_evidence import (
    STATEMENT_KEYS,
    approvals_record,
    gateway_sboms,
    verify_approvals,
)
from medpipe.activities.signing.dpia import build_dpia
from medpipe.activities.signing.dsse import TrustedKeys, key_fingerprint, open_statement
from medpipe.activities.signing.ledger import Ledger
from medpipe.activities.signing.oms import OMS_PREDICATE_TYPE, verify_model
from medpipe.activities.signing.provenance import verify_provenance
from medpipe.activities.storage.base import open_store
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.errors import IntegrityError, InvalidInput, MedpipeError, NotFound
from medpipe.contracts.ledger import LedgerReport

PSEUDO_REPORT = "reports/pseudonymize-report"
_DEPLOY_KINDS = ("deployed", "rolled-back", "canary-verdict", "canary-paused", "drift-alert",
                 "drift-rollback")


def signed_entry_payload(model: ArtifactRef, bundle: ArtifactRef, provenance: ArtifactRef,
                         reports: Iterable[ArtifactRef] = (), key_fingerprint: str = "",
                         sboms: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """The payload of the ``signed`` ledger entry (store references and digests only).

    Args:
        sboms: (sha256, uri) of each runtime SBOM the release ran on.
    """
    def ref(a: ArtifactRef) -> dict[str, Any]:
        return a.model_dump(mode="json")

    return {"model": ref(model), "bundle": ref(bundle), "provenance": ref(provenance),
            "reports": [ref(r) for r in reports], "key_fingerprint": key_fingerprint,
            "sboms": [{"sha256": d, "uri": u} for d, u in dict(sboms).items() if d and u]}


def _artifact(ref: Mapping[str, Any]) -> ArtifactRef:
    try:
        return ArtifactRef.model_validate(ref)
    except ValueError as e:
        raise InvalidInput(f"ledger reference {ref.get('name')!r} is not an artifact "
                           f"reference ({e})") from e


def _fetch(ref: Mapping[str, Any]) -> bytes:
    art = _artifact(ref)
    data = b"".join(open_store(art.bucket_uri).get(art.key))
    if hashlib.sha256(data).hexdigest() != art.sha256:
        raise IntegrityError(f"{art.uri} does not match the digest recorded in the ledger")
    return data


def _fetch_sbom(sha256: str, uri: str) -> bytes:
    bucket, _, query = uri.partition("?")
    base, key = bucket.rsplit("/sboms/", 1)
    data = b"".join(open_store(base + (f"?{query}" if query else "")).get(f"sboms/{key}"))
    if hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityError(f"SBOM {uri} does not match the digest the release recorded")
    return data


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".")
    return cleaned or "report"


def _json(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, indent=2).encode() + b"\n"


def canary_record(release_id: str, entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Deployment outcome, canary verdicts, rollbacks and drift alerts of the release."""
    events = [{"seq": e["seq"], "kind": e["kind"], "at": e["at"],
               **{k: v for k, v in e["payload"].items() if k not in STATEMENT_KEYS}}
              for e in entries if e["release_id"] == release_id and e["kind"] in _DEPLOY_KINDS]
    return {"release_id": release_id, "events": events,
            "deployed": any(e["kind"] == "deployed" for e in events),
            "rolled_back": any(e["kind"] in ("rolled-back", "drift-rollback") for e in events)}


def offboarding_record(release_id: str,
                       entries: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The certificate(s) of destruction covering the release, if it was offboarded."""
    certs = [{"seq": e["seq"], "at": e["at"], **e["payload"]} for e in entries
             if e["kind"] == "offboarded" and release_id in e["payload"].get("releases", [])]
    return {"release_id": release_id, "certificates": certs} if certs else None


def inclusion_proof(release_id: str, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The release's entries and the hash path from each to the head (the excerpt's links)."""
    return {"release_id": release_id, "method": "sha256 hash chain: entry[i+1].prev_hash == "
            "entry[i].entry_hash from each listed entry to the head, every entry signed",
            "entries": [{"seq": e["seq"], "kind": e["kind"], "entry_hash": e["entry_hash"]}
                        for e in entries if e["release_id"] == release_id],
            "path": [e["entry_hash"] for e in entries],
            "head": {"seq": entries[-1]["seq"], "entry_hash": entries[-1]["entry_hash"]}}


def _stream_model(ref: Mapping[str, Any], path: Path) -> str:
    art = _artifact(ref)
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for chunk in open_store(art.bucket_uri).get(art.key):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != art.sha256:
        path.unlink()
        raise IntegrityError(f"{art.uri} does not match the digest recorded in the ledger")
    return digest.hexdigest()


def write_evidence(ledger: Ledger, release_id: str, out_dir: Path,
                   public_keys: Iterable[bytes] = (), *, include_model: bool = True,
                   workflow_anchor: tuple[int, str] | None = None) -> dict[str, Any]:
    """Write the evidence directory of ``release_id``; returns its index.

    Args:
        workflow_anchor: (seq, entry hash) the release workflow recorded in its history
            (``ReleaseStatus.ledger_head``): the excerpt must contain it.
    """
    entries, checkpoint = ledger.excerpt(release_id)
    if workflow_anchor is not None:
        anchor_in_excerpt(workflow_anchor, entries, "the release workflow's ledger anchor")
    signed = [e for e in entries if e["release_id"] == release_id and e["kind"] == "signed"]
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    index: dict[str, Any] = {"release_id": release_id, "signed": bool(signed)}
    digests: dict[str, str] = {}
    offboarded = offboarding_record(release_id, entries)
    if offboarded is not None:  # artifacts returned and destroyed: the certificate instead
        files["offboarding.json"] = _json(offboarded)
        index["offboarded"] = True
    if signed and offboarded is None:
        payload = signed[-1]["payload"]
        files["model.sig"] = _fetch(payload["bundle"])
        files["provenance.json"] = _fetch(payload["provenance"])
        for r in payload.get("reports", []):
            files[f"reports/{_safe_name(str(r.get('name')))}"] = _fetch(r)
        for s in [*payload.get("sboms", []), *gateway_sboms(release_id, entries)]:
            files[f"sboms/{s['sha256']}.cdx.json"] = _fetch_sbom(s["sha256"], s["uri"])
        model = payload["model"]
        if include_model:  # under the name it was signed with: model_signing checks it
            signed_name = json.loads(_statement_payload(files["model.sig"]))["subject"][0]["name"]
            index["model_file"] = _safe_name(str(signed_name))
            digests[index["model_file"]] = _stream_model(model, out_dir / index["model_file"])
        else:
            index["model"] = {"uri": _artifact(model).uri, "sha256": model["sha256"]}
        statement = json.loads(_statement_payload(files["provenance.json"]))
        pseudo = files.get(PSEUDO_REPORT)
        files["dpia.json"] = _json(build_dpia(release_id, statement,
                                              json.loads(pseudo) if pseudo else None, entries))
    files["canary.json"] = _json(canary_record(release_id, entries))
    approvals = approvals_record(release_id, entries)
    if approvals is not None:
        files["approvals.json"] = _json(approvals)
    files["ledger/entries.jsonl"] = b"".join(
        json.dumps(e, sort_keys=True).encode() + b"\n" for e in entries)
    files["ledger/proof.json"] = _json(inclusion_proof(release_id, entries))
    if checkpoint is not None:
        files["ledger/checkpoint.json"] = json.dumps(checkpoint, sort_keys=True).encode()
    for pem in public_keys:
        files[f"keys/{key_fingerprint(pem)}.pem"] = pem
    for name, data in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    digests.update({n: hashlib.sha256(d).hexdigest() for n, d in files.items()})
    index.update(head={"seq": entries[-1]["seq"], "entry_hash": entries[-1]["entry_hash"]},
                 files=dict(sorted(digests.items())))
    if workflow_anchor is not None:
        index["workflow_anchor"] = {"seq": workflow_anchor[0], "entry_hash": workflow_anchor[1]}
    (out_dir / "evidence.json").write_text(json.dumps(index, indent=2))
    return index


def _statement_payload(bundle: bytes) -> bytes:
    """The (unverified) in-toto statement inside a Sigstore/DSSE bundle."""
    import base64

    doc = json.loads(bundle)
    return base64.b64decode(doc["dsseEnvelope"]["payload"])


def _walk(out_dir: Path) -> Iterator[str]:
    for path in sorted(out_dir.rglob("*")):
        if path.is_file():
            yield path.relative_to(out_dir).as_posix()


@contextmanager
def _about(name: str) -> Iterator[None]:
    """Refusals while checking ``name`` say it is that evidence file that failed."""
    try:
        yield
    except MedpipeError as e:
        if f"evidence file {name}" in e.message:
            raise
        raise IntegrityError(f"evidence file {name}: {e.message}") from e
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise IntegrityError(f"evidence file {name} is malformed ({type(e).__name__}: "
                             f"{e})") from e


class _Pack:
    """Reads files of a pack; a refusal names the file."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir

    def json(self, name: str) -> Any:
        try:
            return json.loads((self.dir / name).read_bytes())
        except (OSError, ValueError) as e:
            raise IntegrityError(f"evidence file {name} is unreadable ({e})") from e

    def same(self, name: str, expected: bytes) -> None:
        if (self.dir / name).read_bytes() != expected:
            raise IntegrityError(f"evidence file {name} does not match what the signed "
                                 "provenance and ledger say")


def verify_evidence(out_dir: Path, trusted_keys: Iterable[bytes], revoked: Iterable[str] = (),
                    model_path: Path | None = None) -> dict[str, Any]:
    """Check every file of an evidence directory; returns a summary.

    Raises:
        SignatureRefused / LedgerTampered / IntegrityError: naming the file that failed.
    """
    pack = _Pack(out_dir)
    if not (out_dir / "evidence.json").is_file():
        raise NotFound(f"{out_dir} is not an evidence directory (no evidence.json)")
    index = pack.json("evidence.json")
    listed = index.get("files", {})
    for name in _walk(out_dir):
        if name != "evidence.json" and name not in listed:
            raise IntegrityError(f"evidence file {name} is not listed in evidence.json "
                                 "(added after the pack was written)")
    for name, digest in listed.items():
        path = out_dir / name
        if not path.is_file() or file_sha256(path) != digest:
            raise IntegrityError(f"evidence file {name} is missing or changed")
    keys = list(trusted_keys)
    trust = TrustedKeys(keys, revoked)
    release_id = index["release_id"]
    for name in (n for n in listed if n.startswith("keys/")):
        with _about(name):
            if key_fingerprint((out_dir / name).read_bytes()) != name[5:-4]:
                raise IntegrityError(f"evidence file {name} holds another key than its name says")
    with _about("ledger/entries.jsonl"):
        lines = (out_dir / "ledger" / "entries.jsonl").read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]

        def chain(checkpoint: Mapping[str, Any] | None = None) -> LedgerReport:
            return verify_chain(
                ((f"{e['seq']:012d}.json", e) for e in entries), trust, start_prev=None,
                start_seq=entries[0]["seq"] if entries else 0, checkpoint=checkpoint,
                allow_empty=False)

        report = chain()
    if "ledger/checkpoint.json" in listed:
        with _about("ledger/checkpoint.json"):
            checkpoint = pack.json("ledger/checkpoint.json")
            checkpoint_anchor(checkpoint, trust)
            report = chain(checkpoint)
    head = index.get("head", {})
    if (report.head_seq, report.head_hash) != (head.get("seq"), head.get("entry_hash")):
        raise IntegrityError("evidence file evidence.json names another ledger head than the "
                             "excerpt's")
    if "workflow_anchor" in index:
        with _about("evidence.json"):
            anchor = index["workflow_anchor"]
            anchor_in_excerpt((int(anchor["seq"]), str(anchor["entry_hash"])), entries,
                          "the release workflow's ledger anchor")
    pack.same("ledger/proof.json", _json(inclusion_proof(release_id, entries)))
    pack.same("canary.json", _json(canary_record(release_id, entries)))
    approvals = approvals_record(release_id, entries)
    if approvals is not None or "approvals.json" in listed:
        with _about("approvals.json"):
            if approvals is None or "approvals.json" not in listed:
                raise IntegrityError("does not match the approvals the ledger records")
            pack.same("approvals.json", _json(approvals))
            verify_approvals(pack.json("approvals.json"))
    summary: dict[str, Any] = {"release_id": release_id, "ledger_entries": report.entries,
                               "head_seq": report.head_seq, "head_hash": report.head_hash}
    if approvals is not None:
        summary["approvals"] = [a["approvers"] for a in approvals["approvals"]]
        summary["rollbacks"] = [r["review"] for r in approvals["rollbacks"]]
    offboarded = offboarding_record(release_id, entries)
    if offboarded is not None or "offboarding.json" in listed:
        if offboarded is None or "offboarding.json" not in listed:
            raise IntegrityError("evidence file offboarding.json does not match the ledger's "
                                 "certificates of destruction")
        pack.same("offboarding.json", _json(offboarded))
        summary["offboarded"] = [{"seq": c["seq"], "manifest_sha256": c["manifest_sha256"],
                                  "keys_destroyed": c["keys_destroyed"]}
                                 for c in offboarded["certificates"]]
        return summary
    signed = [e for e in entries if e["release_id"] == release_id and e["kind"] == "signed"]
    if not signed:
        summary["signed"] = False
        return summary
    summary.update(_verify_signed(pack, index, signed[-1]["payload"], entries, keys, trust,
                                  revoked, model_path))
    summary["files_checked"] = len(listed) + 1
    return summary


def _verify_signed(pack: _Pack, index: Mapping[str, Any], payload: Mapping[str, Any],
                   entries: list[dict[str, Any]], keys: list[bytes], trust: TrustedKeys,
                   revoked: Iterable[str], model_path: Path | None) -> dict[str, Any]:
    out_dir, release_id, listed = pack.dir, index["release_id"], index["files"]
    for name, ref in (("model.sig", payload["bundle"]), ("provenance.json", payload["provenance"])):
        if file_sha256(out_dir / name) != ref["sha256"]:
            raise IntegrityError(f"evidence file {name} is not the one recorded in the ledger")
    for r in payload.get("reports", []):
        name = f"reports/{_safe_name(str(r.get('name')))}"
        if name not in listed or file_sha256(out_dir / name) != r["sha256"]:
            raise IntegrityError(f"evidence file {name} is not the report the ledger signed")
    bundle = (out_dir / "model.sig").read_bytes()
    with _about("model.sig"):
        statement, fp = open_statement(bundle, trust, "model signature bundle",
                                       OMS_PREDICATE_TYPE)
        root = statement["subject"][0]["digest"]["sha256"]
    with _about("provenance.json"):
        prov = verify_provenance(out_dir / "provenance.json", keys, revoked,
                                 release_id=release_id)
        sig_refs = [b for b in prov.statement["predicate"]["runDetails"].get("byproducts", [])
                    if b.get("name") == "model-signature"]
        if sig_refs and sig_refs[0]["digest"]["sha256"] != hashlib.sha256(bundle).hexdigest():
            raise IntegrityError("the provenance names another model signature bundle")
    sboms = _verify_sboms(pack, prov.statement, listed,
                          {s["sha256"] for s in gateway_sboms(release_id, entries)})
    pseudo_name = PSEUDO_REPORT if PSEUDO_REPORT in listed else None
    pack.same("dpia.json", _json(build_dpia(
        release_id, prov.statement, pack.json(pseudo_name) if pseudo_name else None, entries)))
    summary: dict[str, Any] = {"signed": True, "model_root_digest": root, "model_key": fp,
                               "provenance_key": prov.key_fingerprint, "sboms": sboms}
    model_file = str(index.get("model_file", ""))
    model = model_path or (out_dir / model_file if model_file in listed else None)
    if model is not None:
        with _about(model.name if model_path is None else str(model)):
            verified = verify_model(model, out_dir / "model.sig", keys, revoked)
        summary["model_verified"] = verified.model_name
    else:
        recorded = index.get("model", {})
        if recorded.get("sha256") != payload["model"]["sha256"]:
            raise IntegrityError("evidence.json names another model than the ledger")
        summary["model_not_included"] = recorded.get("uri")
    return summary


def _verify_sboms(pack: _Pack, statement: Mapping[str, Any], listed: Mapping[str, str],
                  gateways: set[str]) -> int:
    deps = statement["predicate"]["buildDefinition"].get("resolvedDependencies", [])
    named = {d["digest"]["sha256"] for d in deps
             if d.get("annotations", {}).get("role") == "runtime-sbom"} | gateways
    present = {n[len("sboms/"):-len(".cdx.json")] for n in listed if n.startswith("sboms/")}
    for digest in sorted(named - present):
        raise IntegrityError(f"evidence lacks sboms/{digest}.cdx.json, named in provenance "
                             "or a deploy entry")
    for digest in sorted(present):
        name = f"sboms/{digest}.cdx.json"
        if digest not in named or file_sha256(pack.dir / name) != digest:
            raise IntegrityError(f"evidence file {name} is not an SBOM the provenance or a "
                                 "deploy entry names")
        try:
            validate_sbom((pack.dir / name).read_bytes())
        except MedpipeError as e:
            raise IntegrityError(f"evidence file {name}: {e.message}") from e
    return len(present)
