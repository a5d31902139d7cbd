"""FHIR as a third party writes it: ``carebundle`` (Apache-2.0, US Core 6.1 R4), not ours.

Its transaction Bundles (``urn:uuid`` fullUrls, no ids) and its FHIR Bulk Data export
(resources with ids, relative references, one stream per type: here all in one file, the
Patients last) go through the bundled policy. The output must validate as FHIR
(``fhir.resources`` R4B), its references must resolve inside it, no identifying value of
the input may survive anywhere in it (narratives and notes included), and the validate
stage's residual check must pass it while it flags the input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import carebundle
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from medpipe.activities.pseudonymize import Vault, default_fhir_policy, pseudonymize_file
from medpipe.activities.pseudonymize.run import Pseudonymizer
from medpipe.activities.residual_scan import scan_dataset

from .test_fhir_types import assert_clean, assert_references_resolve

COHORT = 12


@pytest.fixture(scope="module")
def cohort() -> list[dict[str, Any]]:
    """Transaction Bundles, one a patient, as carebundle writes them (seeded)."""
    return [json.loads(carebundle.to_json(b))
            for b in carebundle.generate_cohort(count=COHORT, seed=11)]


def _identifying(resources: list[dict[str, Any]]) -> list[str]:
    """Every identifying value in the input: names, identifiers, telecoms, address parts,
    birth dates (the policy keeps only the year)."""
    found: list[str] = []
    for res in resources:
        for name in res.get("name", []):
            found += [*name.get("given", []), name.get("family", "")]
        found += [i.get("value", "") for i in res.get("identifier", [])]
        found += [t.get("value", "") for t in res.get("telecom", [])]
        for a in res.get("address", []):
            found += [*a.get("line", []), a.get("city", "")]
        if res["resourceType"] == "Patient":
            found.append(res.get("birthDate", ""))
    return sorted({v for v in found if len(v) > 2})


def _pseudonymized(src: Path, out: Path) -> Pseudonymizer:
    run = Pseudonymizer(default_fhir_policy(), Vault.in_memory(), source=src.name)
    pseudonymize_file(src, out, default_fhir_policy(), run=run)
    return run


def test_transaction_bundles_come_out_valid_resolvable_and_clean(
        tmp_path: Path, cohort: list[dict[str, Any]]) -> None:
    names = 0
    for i, bundle in enumerate(cohort):
        src, out = tmp_path / f"b{i}.json", tmp_path / f"out{i}.json"
        src.write_text(json.dumps(bundle))
        run = _pseudonymized(src, out)
        doc = json.loads(out.read_text())
        Bundle.model_validate(doc)
        assert_references_resolve(doc)
        secrets = _identifying([e["resource"] for e in bundle["entry"]])
        assert secrets
        assert_clean(doc, secrets)
        digests = run.state.digests(run.index.key)
        assert scan_dataset([out.read_bytes()], "bundle", digests).found == 0
        assert scan_dataset([src.read_bytes()], "bundle", digests).found > 0
        assert run.report is not None
        names += run.report.placeholders.get("NAME", 0)
    assert names >= COHORT  # each narrative named its patient: the scrub had work to do


def test_a_bulk_export_out_of_order_comes_out_valid_resolvable_and_clean(
        tmp_path: Path) -> None:
    streams = carebundle.to_ndjson(carebundle.generate_cohort(count=COHORT, seed=11))
    order = sorted(streams, key=lambda t: t == "Patient")  # every Patient after its data
    src, out = tmp_path / "export.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(streams[t].rstrip("\n") + "\n" for t in order))
    resources = [json.loads(line) for line in src.read_text().splitlines()]
    assert resources[-1]["resourceType"] == "Patient" and len(resources) > 10 * COHORT
    run = _pseudonymized(src, out)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == len(resources)
    for res in got:
        get_fhir_model_class(res["resourceType"]).model_validate(res)
    ids = {f"{r['resourceType']}/{r['id']}" for r in got}
    refs = re.findall(r'"reference":\s*"([^"]+)"', out.read_text())
    assert refs and set(refs) <= ids  # relative references still point inside the export
    assert_clean(got, _identifying(resources))
    digests = run.state.digests(run.index.key)
    assert scan_dataset([out.read_bytes()], "ndjson", digests).found == 0
    assert scan_dataset([src.read_bytes()], "ndjson", digests).found > 0
