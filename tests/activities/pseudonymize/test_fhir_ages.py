"""Ages in FHIR's structure (HIPAA Safe Harbor: ages over 89 become one category).

An ``Age`` (``Condition.onsetAge``, ``FamilyMemberHistory.ageAge``, an extension's
``valueAge``) or a Quantity in a time unit over 89 years comes out as ">= 90 years" in
any resource type; younger ages, durations and other quantities are kept; the residual
check flags such an age in the input, and in an output whose policy keeps ages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from medpipe.activities.pseudonymize import Vault, default_fhir_policy, pseudonymize_file
from medpipe.activities.pseudonymize.fhir_types import age_years
from medpipe.activities.residual_scan import scan_dataset
from medpipe.contracts.pseudonymize import Action, FieldRule, Policy

UCUM = "http://unitsofmeasure.org"
CATEGORY = {"value": 90, "comparator": ">=", "unit": "years", "system": UCUM, "code": "a"}


def _q(value: float, code: str | None = None, unit: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit:
        q["unit"] = unit
    if code:
        q |= {"system": UCUM, "code": code}
    return q


def _resources() -> list[dict[str, Any]]:
    subject = {"reference": "Patient/p1"}
    return [
        {"resourceType": "Patient", "id": "p1", "gender": "female",
         "extension": [{"url": "http://example.org/age-at-enrolment", "valueAge": _q(91)}]},
        {"resourceType": "Condition", "id": "c1", "subject": subject,
         "code": {"text": "hip fracture"}, "onsetAge": _q(95, "a", "years")},
        {"resourceType": "Condition", "id": "c2", "subject": subject,
         "code": {"text": "cataract"}, "onsetAge": _q(72, "a", "years")},
        {"resourceType": "FamilyMemberHistory", "id": "f1", "status": "completed",
         "patient": subject, "relationship": {"text": "mother"}, "ageAge": _q(102, "a")},
        {"resourceType": "Observation", "id": "o1", "status": "final", "subject": subject,
         "code": {"coding": [{"system": "http://loinc.org", "code": "30525-0"}]},
         "valueQuantity": _q(1140, "mo", "months")},  # 95 years, in months
        {"resourceType": "Observation", "id": "o2", "status": "final", "subject": subject,
         "code": {"text": "weight"}, "valueQuantity": _q(95, "kg", "kg")},
        {"resourceType": "Observation", "id": "o3", "status": "final", "subject": subject,
         "code": {"text": "length of stay"}, "valueQuantity": _q(5, "d", "days")},
        {"resourceType": "Observation", "id": "o4", "status": "final", "subject": subject,
         "code": {"coding": [{"system": "http://loinc.org", "code": "30525-0"}]},
         "valueQuantity": _q(600, "mo", "months")},  # 50 years: more than 89 months
    ]


def _run(tmp_path: Path, policy: Policy) -> tuple[Path, list[dict[str, Any]], Any]:
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in _resources()))
    report = pseudonymize_file(src, dst, policy, vault=Vault.in_memory())
    return src, [json.loads(line) for line in dst.read_text().splitlines()], report


def test_ages_over_89_become_one_category_in_every_resource_type(tmp_path: Path) -> None:
    src, out, report = _run(tmp_path, default_fhir_policy())
    for doc in out:
        get_fhir_model_class(doc["resourceType"]).model_validate(doc)
    patient, old, young, mother, in_months, weight, stay, fifty = out
    assert patient["extension"][0]["valueAge"] == CATEGORY
    assert old["onsetAge"] == CATEGORY and mother["ageAge"] == CATEGORY
    assert in_months["valueQuantity"] == CATEGORY
    assert young["onsetAge"] == _q(72, "a", "years")  # kept: 89 and under
    assert weight["valueQuantity"] == _q(95, "kg", "kg")  # not a time: not an age
    assert stay["valueQuantity"] == _q(5, "d", "days")
    assert fifty["valueQuantity"] == _q(600, "mo", "months")
    ages = {f.field: f for f in report.fields}["@Age"]
    assert (ages.values, ages.changed) == (7, 4)  # the stay in days is a time quantity too
    assert scan_dataset([src.read_bytes()], "ndjson", None).found == 4  # the input's
    assert scan_dataset([(tmp_path / "out.ndjson").read_bytes()], "ndjson", None).found == 0


def test_a_policy_that_keeps_ages_fails_the_residual_check(tmp_path: Path) -> None:
    policy = default_fhir_policy()
    keeping = policy.model_copy(update={"types": {**policy.types,
                                                  "Age": FieldRule(action=Action.KEEP)}})
    _, out, _ = _run(tmp_path, keeping)
    assert out[1]["onsetAge"]["value"] == 95
    tally = scan_dataset([(tmp_path / "out.ndjson").read_bytes()], "ndjson", None)
    assert tally.found == 4
    assert {k for c in tally.kinds.values() for k in c} == {"AGE>89"}


def test_a_fhir_policy_without_an_age_rule_is_refused() -> None:
    raw = default_fhir_policy().model_dump(mode="json")
    del raw["types"]["Age"]
    with pytest.raises(ValueError, match="missing: Age"):
        Policy.model_validate(raw)


@pytest.mark.parametrize(("key", "value", "years"), [
    ("onsetAge", {"value": 95}, 95.0),  # an Age without a unit: years
    ("valueQuantity", {"value": 52, "unit": "wk"}, 52 * 7 / 365.25),
    ("valueQuantity", {"value": 3, "unit": "Years"}, 3.0),
    ("valueQuantity", {"value": 95, "unit": "mg"}, None),
    ("valueQuantity", {"value": 95, "system": "http://snomed.info/sct", "code": "a"}, None),
    ("onsetAge", {"value": "95"}, None),  # not a number
])
def test_what_is_an_age(key: str, value: dict[str, Any], years: float | None) -> None:
    assert age_years(key, value) == (pytest.approx(years) if years else years)


def test_a_birth_time_goes_with_the_birth_date(tmp_path: Path) -> None:
    """``_birthDate`` (the primitive's extensions: US Core's birth time) is dropped when a
    path rule changes the birth date: it would give back the date, and past 89 the age."""
    def patient(pid: str, born: str) -> dict[str, Any]:
        return {"resourceType": "Patient", "id": pid, "birthDate": born,
                "_birthDate": {"extension": [{
                    "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                    "valueDateTime": f"{born}T10:11:00Z"}]}}

    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(patient(*p)) + "\n"
                           for p in (("p1", "1931-01-02"), ("p2", "1990-06-07"))))
    report = pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    old, young = (json.loads(line) for line in dst.read_text().splitlines())
    assert "birthDate" not in old and "_birthDate" not in old
    assert young["birthDate"] == "1990" and "_birthDate" not in young
    figures = {f.field: f for f in report.fields}["Patient._birthDate"]
    assert (figures.values, figures.changed) == (2, 2)
    # a policy that keeps the birth date keeps its extensions (walked by the type rules)
    policy = default_fhir_policy()
    keeping = policy.model_copy(update={"fields": {**policy.fields,
                                                   "Patient.birthDate": FieldRule(
                                                       action=Action.KEEP)}})
    pseudonymize_file(src, dst, keeping, vault=Vault.in_memory())
    kept = json.loads(dst.read_text().splitlines()[1])
    assert kept["birthDate"] == "1990-06-07" and "_birthDate" in kept


def test_everyone_s_birth_date_is_a_year_and_none_past_89(tmp_path: Path) -> None:
    """Safe Harbor counts relatives and household members too: a RelatedPerson's or a
    family member's birth date goes as a patient's does."""
    docs = [{"resourceType": "Patient", "id": "p1"},
            {"resourceType": "RelatedPerson", "id": "r1", "patient": {"reference": "Patient/p1"},
             "birthDate": "1929-05-05"},
            {"resourceType": "RelatedPerson", "id": "r2", "patient": {"reference": "Patient/p1"},
             "birthDate": "1980-05-05"},
            {"resourceType": "Practitioner", "id": "d1", "birthDate": "1975-02-03"},
            {"resourceType": "FamilyMemberHistory", "id": "f1", "status": "completed",
             "patient": {"reference": "Patient/p1"}, "relationship": {"text": "father"},
             "bornDate": "1925-01-01"}]
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(d) + "\n" for d in docs))
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    _, old, young, doctor, father = (json.loads(x) for x in dst.read_text().splitlines())
    assert "birthDate" not in old and young["birthDate"] == "1980"
    assert doctor["birthDate"] == "1975" and "bornDate" not in father
