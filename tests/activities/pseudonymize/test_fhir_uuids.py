"""NDJSON whose references are ``urn:uuid:<id>`` (a flattened Synthea transaction): each
reference comes out as ``Type/<token>`` of the resource with that id, which resolves in the
output, and a patient's resources move by the Patient's own date offset."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from faker import Faker
from fhir.resources.R4B import get_fhir_model_class

from medpipe.activities.pseudonymize import Vault, default_fhir_policy, pseudonymize_file
from medpipe.activities.pseudonymize.fhir_uuids import UuidTypes

from .synthea_like import person, transaction

U1 = "0b3e8a4e-1f0c-4c49-9a55-2d1c6a1e0f01"
U2 = "0b3e8a4e-1f0c-4c49-9a55-2d1c6a1e0f02"
U9 = "0b3e8a4e-1f0c-4c49-9a55-2d1c6a1e0f09"
_DATES = ("deceasedDateTime", "onsetDateTime", "recordedDate", "effectiveDateTime",
          "occurrenceDateTime", "created", "issued", "date")


def test_types_by_uuid_id() -> None:
    ids = UuidTypes()
    assert ids.type_of(U1) is None  # nothing recorded
    ids.add("Patient", U1)
    ids.add("Patient", U1)  # the same resource twice: still one type
    ids.add("Patient", "123")  # not a UUID: not recorded
    ids.add("Encounter", U2)
    ids.add("Group", U2)  # one UUID, two types: names neither
    assert len(ids) == 4
    assert ids.type_of(U1) == "Patient"
    assert ids.type_of(U2) is None and ids.type_of(U9) is None and ids.type_of("123") is None
    assert ids.reference_type(f"urn:uuid:{U1}") == "Patient"
    assert ids.reference_type(f"Patient/{U1}") is None  # only the urn:uuid form
    ids.add("Observation", U9)  # recorded after a lookup: found
    assert ids.type_of(U9) == "Observation" and ids.type_of(U1) == "Patient"


def _pairs(tmp_path: Path, patients: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                   str]:
    """(input, output, output text) of an NDJSON export with urn:uuid references, every
    Patient after its resources."""
    fake = Faker("en_US")
    fake.seed_instance(31)
    people = [person(fake) for _ in range(patients + 1)]
    resources: list[dict[str, Any]] = []
    for i in range(patients):
        bundle, _ = transaction(fake, people[i], people[i + 1], with_ids=True)
        resources += [e["resource"] for e in bundle["entry"]]
    for r in resources:  # a date the Patient's own offset moves (its birthDate is a year)
        if r["resourceType"] == "Patient":
            r["deceasedDateTime"] = "2024-02-29"
    resources.reverse()
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in resources))
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    text = dst.read_text()
    return resources, [json.loads(line) for line in text.splitlines()], text


def _day(value: object) -> int | None:
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value[:10]).toordinal()
    return None


def test_urn_uuid_references_resolve_in_the_output(tmp_path: Path) -> None:
    before, after, text = _pairs(tmp_path, 3)
    assert '"urn:uuid:' in json.dumps(before)  # the input's form
    ids = {f"{d['resourceType']}/{d['id']}" for d in after}
    refs = re.findall(r'"reference":\s*"([^"?]+)"', text)
    assert len(refs) > 10 * 3
    for ref in refs:
        assert ref in ids, ref
    for d in after:  # still FHIR
        get_fhir_model_class(d["resourceType"]).model_validate(d)


def test_a_patients_resources_move_by_the_patients_offset(tmp_path: Path) -> None:
    before, after, _ = _pairs(tmp_path, 3)
    deltas: dict[str, set[int]] = {}
    for b, a in zip(before, after, strict=True):
        subject = (b.get("subject") or b.get("patient") or {}).get("reference")
        owner = f"urn:uuid:{b['id']}" if b["resourceType"] == "Patient" else subject
        if not isinstance(owner, str):
            continue
        pairs = [(b.get(k), a.get(k)) for k in _DATES]
        for k in ("period", "performedPeriod"):
            pairs.append(((b.get(k) or {}).get("start"), (a.get(k) or {}).get("start")))
        for x, y in pairs:
            dx, dy = _day(x), _day(y)
            if dx is not None and dy is not None:
                deltas.setdefault(owner, set()).add(dy - dx)
    assert len(deltas) == 3  # three patients, each with dated resources
    for owner, moved in deltas.items():
        assert len(moved) == 1, (owner, moved)


def test_a_uuid_no_resource_or_several_resources_have_stays_opaque(tmp_path: Path) -> None:
    docs = [
        {"resourceType": "Observation", "id": U9, "status": "final",
         "code": {"text": "weight"}, "subject": {"reference": f"urn:uuid:{U1}"},
         "focus": [{"reference": f"urn:uuid:{U2}"},
                   {"reference": "urn:uuid:0b3e8a4e-1f0c-4c49-9a55-2d1c6a1e0fff"}]},
        {"resourceType": "Patient", "id": U1},
        {"resourceType": "Patient", "id": U2},
        {"resourceType": "Group", "id": U2, "type": "person", "actual": True},
    ]
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(d) + "\n" for d in docs))
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    obs = out[0]
    assert obs["subject"]["reference"] == f"Patient/{out[1]['id']}"
    ambiguous, unknown = (f["reference"] for f in obs["focus"])
    assert ambiguous.startswith("urn:uuid:") and unknown.startswith("urn:uuid:")
    assert U2 not in ambiguous and "0fff" not in unknown  # tokenized all the same
    assert ambiguous != unknown
