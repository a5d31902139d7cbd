"""FHIR by data type: Synthea-shaped transactions, collections, NDJSON out of order.

Outputs are validated as FHIR R4 with ``fhir.resources.R4B`` and their
references must resolve inside the output.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from medpipe.activities.pseudonymize import Vault, default_fhir_policy, pseudonymize_file
from medpipe.activities.pseudonymize.run import Pseudonymizer
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_scan import scan_dataset

from .synthea_like import person, transaction


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, list):
        return [s for d in doc for s in _strings(d)]
    if isinstance(doc, dict):
        return [s for d in doc.values() for s in _strings(d)]
    return []


def _decoded(doc: Any) -> str:
    """The output as text, with base64 attachments decoded (notes hide there)."""
    texts = _strings(doc)
    for s in list(texts):
        if len(s) > 40 and re.fullmatch(r"[A-Za-z0-9+/=]+", s):
            texts.append(base64.b64decode(s).decode("utf-8", "replace"))
    return "\n".join(texts)


def assert_clean(doc: Any, secrets: list[str]) -> None:
    text = _decoded(doc).lower()
    for s in secrets:
        assert not re.search(rf"(?<!\w){re.escape(s.lower())}(?!\w)", text), s


def assert_references_resolve(bundle: dict[str, Any]) -> None:
    full = {e["fullUrl"] for e in bundle["entry"] if "fullUrl" in e}
    typed = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]
             if "id" in e["resource"]}
    idents = {(i.get("system"), i.get("value")) for e in bundle["entry"]
              for i in e["resource"].get("identifier", [])}
    for s in re.findall(r'"reference":\s*"([^"]+)"', json.dumps(bundle)):
        if "?identifier=" in s:
            system, _, value = s.split("?identifier=")[1].rpartition("|")
            assert (system, value) in idents, s
        else:
            assert s in full or s in typed, s


def run_bundle(tmp_path: Path, bundle: dict[str, Any], name: str = "b.json") -> dict[str, Any]:
    src, dst = tmp_path / name, tmp_path / f"out-{name}"
    src.write_text(json.dumps(bundle))
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    return json.loads(dst.read_text())


@pytest.mark.parametrize("with_ids", [False, True], ids=["urn-uuid-only", "ids-too"])
def test_synthea_transaction_validates_and_holds_no_identifier(tmp_path: Path,
                                                                with_ids: bool) -> None:
    fake = Faker("en_US")
    Faker.seed(7)
    p, other = person(fake), person(fake)
    bundle, secrets = transaction(fake, p, other, with_ids=with_ids)
    out = run_bundle(tmp_path, bundle)
    Bundle.model_validate(out)  # FHIR R4 (R4B models), every entry by its own type
    for e in out["entry"]:
        get_fhir_model_class(e["resource"]["resourceType"]).model_validate(e["resource"])
    assert_clean(out, secrets + [p["city"]])
    assert_references_resolve(out)
    # fullUrls stay urn:uuid placeholders (what servers resolve in a transaction), new ones
    for before, after in zip(bundle["entry"], out["entry"], strict=True):
        assert after["fullUrl"].startswith("urn:uuid:") and after["fullUrl"] != before["fullUrl"]
        assert uuid.UUID(after["fullUrl"].removeprefix("urn:uuid:")).version == 4
    types = [e["resource"]["resourceType"] for e in out["entry"]]
    assert types == [e["resource"]["resourceType"] for e in bundle["entry"]]
    by = {e["resource"]["resourceType"]: e["resource"] for e in out["entry"]}
    assert "name" not in by["Practitioner"] and "telecom" not in by["Patient"]
    assert by["Patient"]["address"] == [{"state": p["state"], "country": "US",
                                        "postalCode": by["Patient"]["address"][0]["postalCode"]}]
    assert by["Patient"]["birthDate"] == p["birth"][:4]
    note = base64.b64decode(by["DocumentReference"]["content"][0]["attachment"]["data"]).decode()
    assert "[NAME]" in note and "[MRN]" in note and "[PHONE]" in note
    assert by["Observation"]["note"][0]["text"].startswith("Discussed with [NAME]")
    assert "authorString" not in by["Observation"]["note"][0]
    # one date offset for every resource of the patient (urn:uuid subjects resolved)
    assert by["Encounter"]["period"]["start"][10:] == "T08:00:00-05:00"
    days = {by["Encounter"]["period"]["start"][:10], by["Observation"]["effectiveDateTime"][:10],
            by["Procedure"]["performedPeriod"]["start"][:10],
            by["Immunization"]["occurrenceDateTime"][:10], by["Claim"]["created"]}
    assert len(days) == 1 and days != {"2023-01-10"}


def test_collection_and_searchset_bundles(tmp_path: Path) -> None:
    fake = Faker("en_GB")
    Faker.seed(3)
    p, other = person(fake), person(fake)
    bundle, secrets = transaction(fake, p, other, with_ids=True)
    for kind in ("collection", "searchset", "batch"):
        b = dict(bundle, type=kind)
        if kind != "batch":
            b["entry"] = [{k: v for k, v in e.items() if k != "request"} for e in bundle["entry"]]
            if kind == "searchset":
                b["entry"] = [dict(e, search={"mode": "match"}) for e in b["entry"]]
                b["total"] = len(b["entry"])
        out = run_bundle(tmp_path, b, f"{kind}.json")
        Bundle.model_validate(out)
        assert_clean(out, secrets)
        assert_references_resolve(out)


def test_ndjson_out_of_order_two_passes(tmp_path: Path) -> None:
    """Resources before their Patient, and notes naming a patient who appears later."""
    fake = Faker("es_ES")
    Faker.seed(11)
    p1, p2 = person(fake), person(fake)
    b1, s1 = transaction(fake, p1, p2, with_ids=True)
    b2, s2 = transaction(fake, p2, p1, with_ids=True)
    resources = [e["resource"] for e in b1["entry"] + b2["entry"]]
    for r in resources:  # NDJSON references are Type/id
        text = json.dumps(r)
        for e in b1["entry"] + b2["entry"]:
            text = text.replace(e["fullUrl"], f"{e['resource']['resourceType']}/"
                                              f"{e['resource']['id']}")
        r.clear()
        r.update(json.loads(text))
    resources.reverse()  # every Patient now comes after its resources
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    report = pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    docs = [json.loads(x) for x in dst.read_text().splitlines()]
    for d in docs:
        get_fhir_model_class(d["resourceType"]).model_validate(d)
    assert_clean(docs, s1 + s2)
    ids = {f"{d['resourceType']}/{d['id']}" for d in docs}
    for ref in re.findall(r'"reference":\s*"([^"?]+)"', dst.read_text()):
        assert ref in ids, ref
    assert report.patients == 2
    key = b"k" * 32
    digests = DigestSet.from_values(key, [p1["family"], p2["family"], p1["mrn"], p2["phone"]])
    tally = scan_dataset([dst.read_bytes()], "ndjson", digests)
    assert tally.found == 0, tally.kinds
    assert sum(tally.values.values()) > 100
    # and the check can fail: the input is full of them
    assert scan_dataset([src.read_bytes()], "ndjson", digests).found > 10


def test_contained_resources_keep_their_local_references(tmp_path: Path) -> None:
    """A contained resource's id is tokenized as its container's ``#id`` references are,
    so they still name it; ``#`` (the container itself) stays."""

    def observation(oid: str) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": oid, "status": "final",
                "code": {"text": "weight"}, "effectiveDateTime": "2024-01-01",
                "contained": [{"resourceType": "Patient", "id": "MRN12345",
                               "name": [{"family": "Quigley", "given": ["Zelda"]}]},
                              {"resourceType": "Practitioner", "id": "pr",
                               "name": [{"family": "Jones"}]}],
                "subject": {"reference": "#MRN12345"},
                "performer": [{"reference": "#pr"}],
                "derivedFrom": [{"reference": "#"}]}

    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"http://ex.org/fhir/Observation/{o}",
                         "resource": observation(o)} for o in ("o1", "o2")]}
    out = run_bundle(tmp_path, bundle)
    Bundle.model_validate(out)
    assert "MRN12345" not in json.dumps(out) and "Quigley" not in json.dumps(out)
    for e in out["entry"]:
        obs = e["resource"]
        local = {c["id"] for c in obs["contained"]}
        assert len(local) == 2 and not local & {"MRN12345", "pr"}
        refs = [obs["subject"]["reference"], obs["performer"][0]["reference"]]
        assert {r.removeprefix("#") for r in refs} == local and all(r[0] == "#" for r in refs)
        assert obs["derivedFrom"] == [{"reference": "#"}]


def test_binary_content_is_read_as_an_attachment_is(tmp_path: Path) -> None:
    """A Binary (a note's document in a bulk export) holds an Attachment's content at its
    top: text is decoded, scrubbed and re-encoded, other content dropped; the residual
    check reads it decoded too, so an untouched note fails it."""
    note = ("Zelda Quigley (MRN 12345678) seen 03/04/2024, phone 617-555-0199, lives at "
            "12 Main Street, Boston.")
    docs = [{"resourceType": "Patient", "id": "p1",
             "name": [{"family": "Quigley", "given": ["Zelda"]}]},
            {"resourceType": "Binary", "id": "b1", "contentType": "text/plain",
             "securityContext": {"reference": "Patient/p1"},
             "data": base64.b64encode(note.encode()).decode()},
            {"resourceType": "Binary", "id": "b2", "contentType": "application/pdf",
             "data": base64.b64encode(b"%PDF-1.4 Zelda Quigley").decode()}]
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(d) + "\n" for d in docs))
    report = pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    _, text, pdf = out = [json.loads(line) for line in dst.read_text().splitlines()]
    for d in out:
        get_fhir_model_class(d["resourceType"]).model_validate(d)
    scrubbed = base64.b64decode(text["data"]).decode()
    assert scrubbed.startswith("[NAME] (MRN [MRN]) seen [DATE], phone [PHONE]")
    assert "data" not in pdf and pdf["contentType"] == "application/pdf"
    assert {f.field: f for f in report.fields}["@Attachment"].changed == 2
    found = scan_dataset([src.read_bytes()], "ndjson", None)
    assert found.hits["Binary.data"] == 2  # the note's patterns, and the PDF unread
    assert scan_dataset([dst.read_bytes()], "ndjson", None).found == 0


def test_a_reference_named_only_by_its_display_keeps_it_scrubbed(tmp_path: Path) -> None:
    """A display is dropped beside a reference or an identifier; alone it is all the
    Reference has (an empty one is no FHIR), so it is kept, scrubbed as free text."""
    docs = [{"resourceType": "Patient", "id": "p1",
             "name": [{"family": "Quigley", "given": ["Zelda"]}]},
            {"resourceType": "Coverage", "id": "c1", "status": "active",
             "beneficiary": {"reference": "Patient/p1", "display": "Zelda Quigley"},
             "payor": [{"display": "Aetna"}, {"display": "Zelda Quigley"}],
             "identifier": [{"type": {"coding": [{"system": "http://example.org/id-type",
                                                  "code": "MB", "display": "Member"}]},
                             "system": "urn:x", "value": "W123"}]}]
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(d) + "\n" for d in docs))
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    coverage = json.loads(dst.read_text().splitlines()[1])
    get_fhir_model_class("Coverage").model_validate(coverage)
    assert "display" not in coverage["beneficiary"]
    assert coverage["payor"] == [{"display": "Aetna"}, {"display": "[NAME]"}]
    # a Coding's display inside a tokenized element is no Reference's: still dropped
    assert coverage["identifier"][0]["type"] == {
        "coding": [{"system": "http://example.org/id-type", "code": "MB"}]}
    assert scan_dataset([dst.read_bytes()], "ndjson", None).found == 0


def test_a_locations_coordinates_are_dropped(tmp_path: Path) -> None:
    """A home-health visit's Location is the patient's home: its position goes, its
    address is generalized as any Address is."""
    docs = [{"resourceType": "Location", "id": "l1", "name": "Home of patient",
             "position": {"latitude": 42.361145, "longitude": -71.057083},
             "address": {"line": ["12 Main St"], "city": "Boston", "postalCode": "02118"}}]
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text(json.dumps(docs[0]) + "\n")
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    location = json.loads(dst.read_text())
    get_fhir_model_class("Location").model_validate(location)
    assert "position" not in location and location["address"] == {"postalCode": "021"}


def test_imaging_uids_become_uids_of_their_own(tmp_path: Path) -> None:
    """ImagingStudy series and instance UIDs (FHIR ``id``, DICOM UIDs; Synthea writes them)
    were scrubbed as text into ``[ID].[MRN].[MRN]``, which no ``id`` allows; they are
    identifiers: tokens written as ``2.25.<n>`` UIDs, the same UID the same token."""
    study = {"resourceType": "ImagingStudy", "id": "i1", "status": "available",
             "subject": {"reference": "Patient/p1"},
             "series": [{"uid": "1.2.840.99999999.1.59754136.1601236738020", "number": 1,
                         "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM",
                                      "code": "DX"},
                         "instance": [{"uid": "1.2.840.99999999.1.1.36367036.1601236738020",
                                       "sopClass": {"system": "urn:ietf:rfc:3986",
                                                    "code": "1.2.840.10008.5.1.4.1.1.1.1"}}]}]}
    again = dict(study, id="i2")  # the same series, seen twice
    src, dst = tmp_path / "in.ndjson", tmp_path / "out.ndjson"
    src.write_text("".join(json.dumps(d) + "\n" for d in
                           ({"resourceType": "Patient", "id": "p1"}, study, again)))
    pseudonymize_file(src, dst, default_fhir_policy(), vault=Vault.in_memory())
    _, first, second = (json.loads(x) for x in dst.read_text().splitlines())
    for d in (first, second):
        get_fhir_model_class("ImagingStudy").model_validate(d)
    series, instance = first["series"][0], first["series"][0]["instance"][0]
    assert re.fullmatch(r"2\.25\.[0-9]{1,39}", series["uid"]) and series["uid"] != instance["uid"]
    assert re.fullmatch(r"2\.25\.[0-9]{1,39}", instance["uid"])
    assert second["series"][0]["uid"] == series["uid"]  # linkage kept
    assert instance["sopClass"]["code"] == "1.2.840.10008.5.1.4.1.1.1.1"  # a code stays
    # the check finds an untouched UID by its digest (the run indexed it)
    run = Pseudonymizer(default_fhir_policy(), Vault.in_memory(), source="in.ndjson")
    pseudonymize_file(src, dst, default_fhir_policy(), run=run)
    digests = run.state.digests(run.index.key)
    assert scan_dataset([src.read_bytes()], "ndjson", digests).hits["ImagingStudy.series"] == 4
    assert scan_dataset([dst.read_bytes()], "ndjson", digests).found == 0


def test_a_document_bundle_keeps_its_identifier_and_timestamp(tmp_path: Path) -> None:
    """A document Bundle must have both (bdl-9, bdl-10): the identifier is tokenized (a URI
    system keeps a URI value), the timestamp moves by its Composition subject's offset."""
    pat, comp = "urn:uuid:11111111-1111-4111-8111-111111111111", \
        "urn:uuid:44444444-4444-4444-8444-444444444444"
    bundle = {"resourceType": "Bundle", "type": "document",
              "identifier": {"system": "urn:ietf:rfc:3986",
                             "value": "urn:uuid:33333333-3333-4333-8333-333333333333"},
              "timestamp": "2024-03-04T10:00:00Z",
              "entry": [{"fullUrl": comp, "resource": {
                  "resourceType": "Composition", "status": "final",
                  "type": {"text": "Discharge summary"}, "subject": {"reference": pat},
                  "date": "2024-03-04T10:00:00Z", "title": "Discharge summary",
                  "author": [{"display": "Dr. Ada Jones"}]}},
                  {"fullUrl": pat, "resource": {"resourceType": "Patient",
                                                "name": [{"family": "Quigley"}]}}]}
    out = run_bundle(tmp_path, bundle)
    Bundle.model_validate(out)
    assert out["identifier"]["system"] == "urn:ietf:rfc:3986"
    value = out["identifier"]["value"]
    assert value.startswith("urn:uuid:") and "3333" not in value
    assert uuid.UUID(value.removeprefix("urn:uuid:"))
    composition = out["entry"][0]["resource"]
    assert out["timestamp"] == composition["date"] != bundle["timestamp"]
    assert_references_resolve(out)
