"""The sign stage and ledger appends: OMS model signature, SLSA provenance, hash chain.

The model is decrypted into a private temporary directory (a model is not
patient data; its integrity matters, not its secrecy), signed in the
OpenSSF model-signing format with the customer's key, and stored in clear
beside its bundle and the signed provenance: that trio is what gateways
load and auditors verify. A retried sign step reuses a bundle already
stored (after verifying it) instead of writing a second, different one.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.keys import shared_provider
from medpipe.activities.progress import keeps_alive
from medpipe.activities.sealed import open_plain
from medpipe.activities.signing.evidence import signed_entry_payload
from medpipe.activities.signing.ledger import open_ledger
from medpipe.activities.signing.oms import sign_model, verify_model
from medpipe.activities.signing.provenance import sign_provenance
from medpipe.activities.storage.base import ObjectStore
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.ledger import LedgerAppendInput, LedgerAppendResult, LedgerKind
from medpipe.contracts.names import ActivityName
from medpipe.contracts.provenance import ArtifactDigest, ProvenanceInput
from medpipe.contracts.sign import SignInput, SignResult


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def _put_file(store: ObjectStore, key: str, path: Path, name: str) -> ArtifactRef:
    info = store.put(key, _file_chunks(path))
    return ArtifactRef(name=name, bucket_uri=store.bucket_uri, key=key, sha256=info.sha256,
                       size=info.size, content_sha256=info.sha256)


def _digest(ref: ArtifactRef) -> ArtifactDigest:
    return ArtifactDigest(name=ref.name, sha256=ref.plain_sha256, uri=ref.uri,
                          size=ref.size if ref.encryption is None else None)


class SignActivities:
    """Sign and ledger activities bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.SIGN)
    @translate_errors
    @keeps_alive("sign")
    def sign(self, inp: SignInput) -> SignResult:
        """Sign the model and the provenance with the customer's signing key."""
        if not inp.keys.enabled:
            raise InvalidInput("signing needs a key provider (fleet.keys.key_uri)")
        provider = shared_provider(inp.keys.key_uri)
        store = self.ctx.store
        base = f"releases/{inp.release_id}/signed"
        with tempfile.TemporaryDirectory(prefix="medpipe-sign-") as tmp:
            model_path = Path(tmp) / "model.onnx"
            digest = hashlib.sha256()
            with open(model_path, "wb") as out:
                for chunk in open_plain(inp.model):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != inp.model.plain_sha256:
                raise IntegrityError(f"model {inp.model.uri} decrypted to content other than "
                                     "the one ingested")
            model_ref = _put_file(store, f"{base}/model.onnx", model_path, "model")
            identity = {"model": inp.model_name, "version": inp.version,
                        "release_id": inp.release_id}
            bundle_key = f"{base}/model.onnx.sig"
            bundle_path = Path(tmp) / "model.onnx.sig"
            public_pem = provider.public_key_pem(inp.keys.signing_key_id)
            if store.exists(bundle_key):  # a retry: keep the bundle already published
                bundle_path.write_bytes(b"".join(store.get(bundle_key)))
                verified = verify_model(model_path, bundle_path, [public_pem],
                                        expected=identity)
                fingerprint = verified.key_fingerprint
                bundle_sha = hashlib.sha256(bundle_path.read_bytes()).hexdigest()
            else:
                signed = sign_model(model_path, bundle_path, provider, inp.keys.signing_key_id,
                                    identity=identity)
                fingerprint, bundle_sha = signed.key_fingerprint, signed.bundle_sha256
            bundle_ref = _put_file(store, bundle_key, bundle_path, "model-signature")
        prov_key = f"{base}/provenance.sig"
        if store.exists(prov_key):
            info = store.head(prov_key)
            prov_ref = ArtifactRef(name="provenance", bucket_uri=store.bucket_uri, key=prov_key,
                                   sha256=info.sha256, size=info.size,
                                   content_sha256=info.sha256)
        else:
            statement = sign_provenance(ProvenanceInput(
                release_id=inp.release_id, request=inp.request, model=_digest(model_ref),
                datasets=tuple(_digest(d) for d in inp.datasets),
                pseudonymization_policy=ArtifactDigest(name="policy", sha256=inp.policy_sha256)
                if inp.policy_sha256 else None,
                reports=tuple(_digest(r) for r in inp.reports), metrics=inp.metrics,
                builder_id=self.ctx.worker_id, stages=inp.stages,
                builder_sbom_sha256=self.ctx.sbom[0], builder_sbom_uri=self.ctx.sbom[1],
                model_signature_sha256=bundle_sha), provider, inp.keys.signing_key_id)
            info = store.put(prov_key, [statement])
            prov_ref = ArtifactRef(name="provenance", bucket_uri=store.bucket_uri, key=prov_key,
                                   sha256=info.sha256, size=info.size,
                                   content_sha256=info.sha256)
        head = None
        if inp.ledger_uri:
            entry = open_ledger(inp.ledger_uri, inp.ledger_checkpoint_uri, provider,
                                inp.keys.signing_key_id).append(
                LedgerKind.SIGNED, inp.release_id,
                signed_entry_payload(model_ref, bundle_ref, prov_ref, inp.reports, fingerprint,
                                     sboms=[*((s.sbom_sha256, s.sbom_uri) for s in inp.stages),
                                            self.ctx.sbom]),
                f"{inp.release_id}/signed")
            head = LedgerAppendResult(seq=entry.seq, entry_hash=entry.entry_hash)
        queue = activity.info().task_queue if activity.in_activity() else ""
        return SignResult(model=model_ref, bundle=bundle_ref, provenance=prov_ref,
                          key_fingerprint=fingerprint, ran_on=self.ctx.ran_on(task_queue=queue),
                          ledger_head=head)

    @activity.defn(name=ActivityName.LEDGER_APPEND)
    @translate_errors
    def ledger_append(self, inp: LedgerAppendInput) -> LedgerAppendResult:
        """Append one signed, hash-chained entry (a retry returns the entry already there)."""
        ledger = open_ledger(inp.ledger_uri, inp.checkpoint_uri,
                             shared_provider(inp.keys.key_uri), inp.keys.signing_key_id)
        entry = ledger.append(inp.kind, inp.release_id, inp.payload, inp.idempotency_key)
        return LedgerAppendResult(seq=entry.seq, entry_hash=entry.entry_hash)
