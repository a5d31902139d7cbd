"""FHIR R4 pseudonymization: NDJSON and Bundles, references, dates, narrative."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from medpipe.activities.pseudonymize import Vault, default_fhir_policy, pseudonymize_file
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import FieldRule, Policy

PATIENT = {"resourceType": "Patient", "id": "p123",
           "identifier": [{"system": "http://hosp.example/mrn", "value": "MRN0100042"}],
           "name": [{"family": "Lindqvist", "given": ["Maya"]}],
           "telecom": [{"system": "phone", "value": "(617) 555-0199"}],
           "address": [{"line": ["1 Main St"], "city": "Boston", "state": "MA",
                        "postalCode": "02139"}],
           "birthDate": "1950-04-02", "gender": "female",
           "text": {"status": "generated", "div": "<div>Maya Lindqvist, MRN0100042</div>"}}
ENCOUNTER = {"resourceType": "Encounter", "id": "e1", "status": "finished",
             "subject": {"reference": "Patient/p123", "display": "Maya Lindqvist"},
             "period": {"start": "2023-01-10T08:00:00Z", "end": "2023-01-12"}}
OBSERVATION = {"resourceType": "Observation", "id": "o1", "status": "final",
               "code": {"text": "HbA1c"}, "subject": {"reference": "Patient/p123"},
               "encounter": {"reference": "Encounter/e1"},
               "effectiveDateTime": "2023-01-11", "valueQuantity": {"value": 6.1},
               "note": [{"text": "Maya called from 617-555-0199 about results"}]}
CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p123"},
             "onsetDateTime": "2022-12-01", "code": {"text": "T2D"}}
MEDREQ = {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
          "intent": "order", "subject": {"reference": "Patient/p123"},
          "authoredOn": "2023-01-12"}
RESOURCES = [PATIENT, ENCOUNTER, OBSERVATION, CONDITION, MEDREQ]
SECRETS = ["p123", "MRN0100042", "Lindqvist", "Maya", "555-0199", "1 Main St", "Boston",
           "02139"]
#: The dates that must not stay where they were: (resource type, field, original). A date
#: string is not a secret anywhere in the output: the patient's other dates, shifted by
#: the same random offset, land on it now and then (2023-01-10 moved by +1 day is
#: 2023-01-11: a CI run failed on that).
DATES = [("Patient", "birthDate", "1950-04-02"), ("Observation", "effectiveDateTime", "2023-01-11")]


def ndjson(tmp_path: Path, resources: list[dict]) -> Path:
    path = tmp_path / "in.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    return path


def check_clean(text: str) -> None:
    """No identifier anywhere in the output (NDJSON or a Bundle), no date where it was."""
    for s in SECRETS:
        assert s not in text, s
    lines = text.splitlines()
    docs = [json.loads(x) for x in lines]
    if len(docs) == 1 and docs[0]["resourceType"] == "Bundle":
        docs = [e["resource"] for e in docs[0]["entry"]]
    by_type = {d["resourceType"]: d for d in docs}
    for kind, field, original in DATES:
        assert not by_type[kind][field].startswith(original), (kind, field)


def test_ndjson_resources(tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    report = pseudonymize_file(ndjson(tmp_path, RESOURCES), out, default_fhir_policy(),
                               vault=Vault.in_memory())
    text = out.read_text()
    check_clean(text)
    docs = [json.loads(line) for line in text.splitlines()]
    patient, enc, obs, cond, med = docs
    token = patient["id"]
    assert token.startswith("pt-")  # FHIR ids allow letters, digits, "-" and "."
    for r in (enc, obs, cond, med):
        assert r["subject"] == {"reference": f"Patient/{token}"}
    assert obs["encounter"]["reference"] == f"Encounter/{enc['id']}"
    assert patient["address"] == [{"state": "MA", "postalCode": "021"}]
    assert "name" not in patient and "telecom" not in patient
    assert patient["identifier"][0]["value"].startswith("pt_")
    assert "[NAME]" in patient["text"]["div"] and "[MRN]" in patient["text"]["div"]
    assert obs["note"][0]["text"] == "[NAME] called from [PHONE] about results"
    # one offset for every date of the patient
    assert patient["birthDate"] == "1950"  # year only (and none past 89)
    pairs = [("2023-01-12", enc["period"]["end"]),
             ("2023-01-11", obs["effectiveDateTime"]), ("2022-12-01", cond["onsetDateTime"]),
             ("2023-01-12", med["authoredOn"])]
    shifts = {(date.fromisoformat(b) - date.fromisoformat(a)).days for a, b in pairs}
    assert len(shifts) == 1 and 0 < abs(shifts.pop()) <= 180
    assert enc["period"]["start"].endswith("T08:00:00Z")
    assert report.records == 5 and report.patients == 1


def test_bundle_matches_ndjson_tokens_with_one_vault(tmp_path: Path) -> None:
    vault = Vault.in_memory()
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"http://x.example/fhir/{r['resourceType']}/{r['id']}",
                         "resource": r} for r in reversed(RESOURCES)]}
    src = tmp_path / "b.json"
    src.write_text(json.dumps(bundle))
    pseudonymize_file(src, tmp_path / "b.out.json", default_fhir_policy(), vault=vault)
    pseudonymize_file(ndjson(tmp_path, RESOURCES), tmp_path / "n.out.ndjson",
                      default_fhir_policy(), vault=vault)
    text = (tmp_path / "b.out.json").read_text()
    check_clean(text)
    out = json.loads(text)
    by_type = {e["resource"]["resourceType"]: e for e in out["entry"]}
    nd = [json.loads(x) for x in (tmp_path / "n.out.ndjson").read_text().splitlines()]
    assert by_type["Patient"]["resource"]["id"] == nd[0]["id"]
    assert by_type["Patient"]["fullUrl"] == f"https://medpipe.invalid/fhir/Patient/{nd[0]['id']}"
    # the Patient came last in the bundle, and its name is still scrubbed from the note
    assert by_type["Observation"]["resource"]["note"][0]["text"].startswith("[NAME]")


def test_unknown_element_is_refused_by_a_path_only_policy(tmp_path: Path) -> None:
    paths = Policy(format="fhir", fields={
        k: v for k, v in default_fhir_policy().fields.items()} | {
        f"*.{e}": FieldRule(action="keep") for e in (
            "status", "code", "valueQuantity", "identifier", "name", "telecom", "address",
            "gender")} | {"*.subject": FieldRule(action="token"),
                          "*.encounter": FieldRule(action="token"),
                          "*.effectiveDateTime": FieldRule(action="date_shift"),
                          "*.text": FieldRule(action="scrub"),
                          "*.note": FieldRule(action="scrub")})
    odd = dict(OBSERVATION, extension=[{"url": "x", "valueString": "MRN0100042"}])
    out = tmp_path / "o.ndjson"
    with pytest.raises(InvalidInput, match=r"line 2: element Observation.extension is not "
                                           r"covered"):
        pseudonymize_file(ndjson(tmp_path, [PATIENT, odd]), out, paths)
    assert not out.exists()


@pytest.mark.parametrize(("content", "match"), [
    ('{"resourceType": "Patient", "id": "a"}\n[1, 2]\n', "line 2: not a FHIR resource"),
    ('{"resourceType": "Patient", "id": "a"}\n{"resource\n', "line 2: not JSON"),
    ('{"hello": "world"}\n', "line 1: not a FHIR resource"),
    ('{"resourceType": "Observation", "effectiveDateTime": "2020-01-01"}\n',
     "line 1, Observation.effectiveDateTime: dates to shift but no patient"),
])
def test_not_fhir_is_refused(tmp_path: Path, content: str, match: str) -> None:
    src = tmp_path / "x.ndjson"
    src.write_text(content)
    with pytest.raises(InvalidInput, match=match):
        pseudonymize_file(src, tmp_path / "y.ndjson", default_fhir_policy())
    assert not (tmp_path / "y.ndjson").exists()


def test_wrong_policy_kind_is_refused(tmp_path: Path) -> None:
    from medpipe.activities.pseudonymize import default_policy
    with pytest.raises(InvalidInput, match="tabular policy cannot apply to ndjson"):
        pseudonymize_file(ndjson(tmp_path, RESOURCES), tmp_path / "o.ndjson", default_policy())
