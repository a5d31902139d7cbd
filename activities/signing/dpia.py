"""A DPIA record (GDPR art. 35 / HIPAA risk analysis input) generated from a release's evidence.

Pure and deterministic: built only from signed material in the evidence
pack (the provenance statement, the pseudonymization report whose digest
the ledger signed, and the ledger excerpt), so ``verify --evidence``
rebuilds it and refuses a ``dpia.json`` that says anything else. What the
release does not state (purpose, retention) is recorded as not stated
rather than invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DPIA_VERSION = "medpipe-dpia/v1"

# What a pseudonymization action says about the data category of a field.
_CATEGORY = {
    "token": "direct identifier (replaced by a token)",
    "date_shift": "date (shifted per patient)",
    "generalize": "quasi-identifier (generalized)",
    "scrub": "free text (identifiers scrubbed)",
    "drop": "identifier or unneeded field (dropped)",
    "keep": "clinical or other data (kept as is)",
}


def _stages(statement: Mapping[str, Any]) -> list[dict[str, Any]]:
    run = statement.get("predicate", {}).get("runDetails", {})
    return [{k: s.get(k) for k in ("stage", "cloud", "region", "jurisdiction", "accelerator",
                                   "sbom_sha256") if s.get(k) not in (None, "")}
            for s in run.get("medpipe_stages", [])]


def build_dpia(release_id: str, statement: Mapping[str, Any],
               pseudonymization: Mapping[str, Any] | None,
               entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The DPIA record of ``release_id``.

    Args:
        release_id: the release.
        statement: the verified provenance statement (in-toto, SLSA predicate).
        pseudonymization: the pseudonymization report (counts only), if the pack has one.
        entries: the ledger excerpt (raw entries).
    """
    params = statement.get("predicate", {}).get("buildDefinition", {}).get(
        "externalParameters", {})
    residency = params.get("residency", {}) if isinstance(params, Mapping) else {}
    fields = (pseudonymization or {}).get("fields", [])
    stages = _stages(statement)
    mine = [e for e in entries if e.get("release_id") == release_id]
    signing_keys = sorted({str(e.get("key_fingerprint")) for e in mine})
    signed = [e for e in mine if e.get("kind") == "signed"]
    model_key = signed[-1].get("payload", {}).get("key_fingerprint") if signed else None
    purpose = params.get("purpose") if isinstance(params, Mapping) else None
    retention = params.get("retention") if isinstance(params, Mapping) else None
    return {
        "version": DPIA_VERSION,
        "release_id": release_id,
        "processing": {
            "purpose": purpose or {"stated": False, "note": "the release request states no "
                                   "purpose; record it in the release specification"},
            "model": params.get("model"), "model_version": params.get("version"),
            "requested_by": params.get("requested_by"),
        },
        "data": {
            "format": (pseudonymization or {}).get("format"),
            "records": (pseudonymization or {}).get("records"),
            "patients": (pseudonymization or {}).get("patients"),
            "categories": [{"field": f.get("field"), "action": f.get("action"),
                            "category": _CATEGORY.get(str(f.get("action")), "unclassified")}
                           for f in fields],
            "identifiers": sorted(str(f.get("field")) for f in fields
                                  if f.get("action") in ("token", "drop")),
            "token_modes": list((pseudonymization or {}).get("token_modes", [])),
        },
        "residency": {
            "allowed_jurisdictions": residency.get("allowed_jurisdictions"),
            "jurisdictions_used": sorted({str(s["jurisdiction"]) for s in stages
                                          if s.get("jurisdiction")}),
            "stages": stages,
        },
        "keys": {"model_and_provenance_signing_key": model_key,
                 "ledger_signing_keys": signing_keys},
        "retention": retention or {"stated": False, "note": "artifacts are kept until "
                                   "offboarding (medpipe offboard); the ledger is append-only"},
    }
