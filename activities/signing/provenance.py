"""SLSA provenance v1 of a release, as a signed in-toto statement (DSSE).

The OMS bundle says "this key signed these bytes"; the provenance says how
those bytes came to be: the release request (minus anything sensitive), the
model, datasets and pseudonymization policy it resolved to (by digest), the
reports and figures it produced, where each stage ran (cloud, region,
jurisdiction, host, accelerator) and the code revision of the pipeline. It is
signed with the same provider and key as the model, in the same container
(Sigstore bundle v0.3 + DSSE), so one trust list checks both.

Field placement follows SLSA v1: ``buildDefinition.externalParameters`` is
the request, ``resolvedDependencies`` the inputs, ``runDetails.builder.id``
the worker identity, ``runDetails.byproducts`` reports and metrics; stage
placements go in the extension field ``runDetails.medpipe_stages`` (SLSA
allows extension fields; verifiers ignore what they do not know).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from medpipe.activities.keys.base import KeyProvider
from medpipe.activities.signing.dsse import (
    STATEMENT_TYPE,
    ProviderKey,
    SignatureRefused,
    TrustedKeys,
    open_statement,
    sign_statement,
)
from medpipe.contracts.provenance import (
    ArtifactDigest,
    ProvenanceInput,
    SignatureRefusal,
    VerifiedProvenance,
)
from medpipe.revision import code_revision

SLSA_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://medpipe/release/v1"

_SENSITIVE_KEY = re.compile(r"secret|passw|token|credential|api[_-]?key|private|pin$|"
                            r"^pin|auth|cookie|session", re.IGNORECASE)
_REDACTED = "[redacted]"


def _clean_uri(value: str) -> str:
    """Drop credentials a URI may carry (user:password@, presigned query strings)."""
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc and not parts.query:
        return value
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if "@" in parts.netloc:
        netloc = f"{_REDACTED}@{netloc}"
    query = _REDACTED if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def sanitize(value: Any) -> Any:
    """The request without secrets: sensitive keys redacted, URI credentials removed."""
    if isinstance(value, Mapping):
        return {str(k): (_REDACTED if _SENSITIVE_KEY.search(str(k)) else sanitize(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return _clean_uri(value)
    return value


def _descriptor(a: ArtifactDigest, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": a.name, "digest": {"sha256": a.sha256}}
    if a.uri:
        d["uri"] = _clean_uri(a.uri)
    if a.size is not None:
        d.setdefault("annotations", {})["size"] = a.size
    d.update(extra)
    return d


def _internal(inp: ProvenanceInput) -> dict[str, Any]:
    """The release id, and a loud mark when the fleet ran without a key provider."""
    out: dict[str, Any] = {"releaseId": inp.release_id}
    fleet = inp.request.get("fleet") or {}
    if fleet.get("insecure_dev") or not (fleet.get("keys") or {}).get("key_uri", True):
        out["insecureDev"] = ("no key provider: identifiable data was stored in clear "
                              "(fleet.insecure_dev)")
    return out


def _runtime_sboms(inp: ProvenanceInput) -> list[dict[str, Any]]:
    """One resolvedDependency per distinct runtime SBOM (stage workers and the signer)."""
    seen: dict[str, dict[str, Any]] = {}
    runs = [(s.sbom_sha256, s.sbom_uri, s.stage) for s in inp.stages]
    runs.append((inp.builder_sbom_sha256, inp.builder_sbom_uri, "sign"))
    for digest, uri, stage in runs:
        if not digest:
            continue
        entry = seen.setdefault(digest, {
            "name": f"runtime-sbom-{digest[:12]}", "digest": {"sha256": digest},
            "mediaType": "application/vnd.cyclonedx+json",
            "annotations": {"role": "runtime-sbom", "stages": []}})
        if uri and "uri" not in entry:
            entry["uri"] = _clean_uri(uri)
        if stage not in entry["annotations"]["stages"]:
            entry["annotations"]["stages"].append(stage)
    return list(seen.values())


def build_statement(inp: ProvenanceInput) -> dict[str, Any]:
    """The in-toto Statement v1 with the SLSA provenance v1 predicate of ``inp``."""
    deps = [_descriptor(inp.model, annotations={"role": "model"})]
    deps += [_descriptor(d, annotations={"role": "dataset"}) for d in inp.datasets]
    if inp.pseudonymization_policy:
        deps.append(_descriptor(inp.pseudonymization_policy,
                                annotations={"role": "pseudonymization-policy"}))
    deps += _runtime_sboms(inp)
    byproducts = [_descriptor(r, annotations={"role": "report"}) for r in inp.reports]
    if inp.model_signature_sha256:
        byproducts.append({"name": "model-signature",
                           "digest": {"sha256": inp.model_signature_sha256},
                           "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"})
    if inp.metrics:
        byproducts.append({"name": "evaluation-metrics",
                           "annotations": {k: float(v) for k, v in sorted(inp.metrics.items())}})
    revision = inp.code_revision or code_revision()
    builder: dict[str, Any] = {"id": inp.builder_id}
    if revision:
        builder["builderDependencies"] = [{"name": "medpipe", "digest": {"gitCommit": revision}}]
    metadata: dict[str, Any] = {"invocationId": inp.release_id}
    if inp.started_at:
        metadata["startedOn"] = inp.started_at.isoformat()
    if inp.finished_at:
        metadata["finishedOn"] = inp.finished_at.isoformat()
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": inp.model.name, "digest": {"sha256": inp.model.sha256}}],
        "predicateType": SLSA_PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": sanitize(inp.request),
                "internalParameters": _internal(inp),
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": builder,
                "metadata": metadata,
                "byproducts": byproducts,
                "medpipe_stages": [s.model_dump(mode="json", exclude_none=True)
                                   for s in inp.stages],
            },
        },
    }


def sign_provenance(inp: ProvenanceInput, provider: KeyProvider, key_id: str) -> bytes:
    """The signed provenance bundle (JSON bytes) of a release."""
    return sign_statement(ProviderKey.open(provider, key_id), build_statement(inp))


def verify_provenance(bundle: bytes | Path, trusted_keys: Iterable[bytes | str],
                      revoked: Iterable[str] = (), *, model_sha256: str | None = None,
                      release_id: str | None = None) -> VerifiedProvenance:
    """Verify a provenance bundle and, optionally, that it is about this model/release.

    Raises:
        SignatureRefused: unsigned (no file), malformed, untrusted/revoked key,
            bad signature, or provenance of another model/release.
    """
    if isinstance(bundle, Path):
        if not bundle.is_file():
            raise SignatureRefused(SignatureRefusal.UNSIGNED, f"no provenance bundle at {bundle}")
        raw = bundle.read_bytes()
    else:
        raw = bundle
    statement, fp = open_statement(raw, TrustedKeys(trusted_keys, revoked), "provenance bundle",
                                   SLSA_PREDICATE_TYPE)
    try:
        subject = tuple(ArtifactDigest(name=s["name"], sha256=s["digest"]["sha256"])
                        for s in statement["subject"])
        got_release = statement["predicate"]["runDetails"]["metadata"]["invocationId"]
    except (KeyError, TypeError, ValueError) as e:
        raise SignatureRefused(SignatureRefusal.MALFORMED,
                               f"provenance bundle lacks subject or invocation id ({e})") from e
    if model_sha256 and all(s.sha256 != model_sha256 for s in subject):
        raise SignatureRefused(SignatureRefusal.OTHER_MODEL,
                               f"provenance is about {', '.join(s.name for s in subject)} "
                               f"(sha256 {subject[0].sha256[:12]}…), not the model with sha256 "
                               f"{model_sha256[:12]}…")
    if release_id and got_release != release_id:
        raise SignatureRefused(SignatureRefusal.OTHER_MODEL,
                               f"provenance is of release {got_release!r}, not {release_id!r}")
    return VerifiedProvenance(release_id=str(got_release), subject=subject,
                              statement=statement, key_fingerprint=fp)
