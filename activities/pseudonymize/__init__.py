"""Pseudonymization: patient identifiers replaced before anything else sees the data.

Public API (see ``run.py``): ``pseudonymize_file``, ``pseudonymize_stream``,
``Pseudonymizer`` (``learn`` — the first pass indexing every patient's
identifiers, as keyed digests —, ``stream``, ``report``, ``identifier_digests``,
``identifier_digest_parts``); tokens and the vault in ``tokens.py``; policies in
``policy.py``. Text matching (folding, patterns, names, the key index) lives in
``activities.deid`` and is shared with the residual check.
"""

from __future__ import annotations

from medpipe.activities.pseudonymize.policy import (
    default_fhir_policy,
    default_policy,
    load_policy,
    parse_policy,
)
from medpipe.activities.pseudonymize.run import (
    FORMATS,
    Pseudonymizer,
    detect_format,
    pseudonymize_file,
    pseudonymize_stream,
)
from medpipe.activities.pseudonymize.tokens import FileVaultStore, HmacTokenizer, Vault

__all__ = [
    "FORMATS",
    "FileVaultStore",
    "HmacTokenizer",
    "Pseudonymizer",
    "Vault",
    "default_fhir_policy",
    "default_policy",
    "detect_format",
    "load_policy",
    "parse_policy",
    "pseudonymize_file",
    "pseudonymize_stream",
]
