"""FHIR R4 in the shapes Synthea and most generators write (US Core profiles).

A transaction Bundle per patient: ``fullUrl: urn:uuid:…`` on every entry,
resources with or without ``id``, ``request`` with POST/PUT, references by
``urn:uuid``, conditional references to Practitioner/Organization by
identifier (``Practitioner?identifier=…us-npi|…``), base64 text notes in
DocumentReference and DiagnosticReport. Identities come from Faker.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from faker import Faker

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
NPI = "http://hl7.org/fhir/sid/us-npi"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def person(fake: Faker) -> dict[str, Any]:
    """One identity: everything a note may quote (names from ``fake``'s locale, a US
    address: the export is US Core)."""
    us = Faker("en_US")
    us.seed_instance(fake.random.getrandbits(32))
    return {"given": fake.first_name(), "family": fake.last_name(), "phone": us.phone_number(),
            "street": us.street_address(), "city": us.city(), "state": us.state_abbr(),
            "zip": us.zipcode(), "ssn": us.ssn(), "mrn": str(us.random_number(8, True)),
            "birth": us.date_of_birth(minimum_age=20, maximum_age=85).isoformat(),
            "email": us.email()}


def transaction(fake: Faker, p: dict[str, Any], other: dict[str, Any], *,
                with_ids: bool = False) -> tuple[dict[str, Any], list[str]]:
    """(transaction Bundle, the identifying strings that must not survive)."""
    u = {k: str(uuid.UUID(int=fake.random.getrandbits(128))) for k in
         ("pat", "enc", "obs", "cond", "dr", "doc", "allergy", "proc", "imm", "claim", "prac",
          "org", "loc")}
    npi = str(fake.random_number(10, True))
    doc_given, doc_family = fake.first_name(), fake.last_name()

    def ref(k: str) -> dict[str, str]:
        return {"reference": f"urn:uuid:{u[k]}"}

    def res(k: str, body: dict[str, Any]) -> dict[str, Any]:
        if with_ids:
            body = {"id": u[k], **body}
        return body

    note = (f"{p['given']} {p['family']} (MRN {p['mrn']}), born {p['birth']}, seen by "
            f"Dr. {doc_family}. Lives at {p['street']}, {p['city']}. Phone {p['phone']}. "
            f"Met {other['given']} {other['family']} in the waiting room.")
    pat = res("pat", {
        "resourceType": "Patient", "meta": {"profile": [US_CORE + "us-core-patient"]},
        "extension": [
            {"url": US_CORE + "us-core-race", "extension": [
                {"url": "ombCategory", "valueCoding": {
                    "system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3",
                    "display": "White"}}, {"url": "text", "valueString": "White"}]},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
             "valueString": fake.last_name()},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
             "valueAddress": {"city": p["city"], "state": p["state"], "country": "US"}}],
        "identifier": [
            {"system": "https://github.com/synthetichealth/synthea", "value": u["pat"]},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                  "code": "MR"}], "text": "Medical Record Number"},
             "system": "http://hospital.smarthealthit.org", "value": p["mrn"]},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                  "code": "SS"}]},
             "system": "http://hl7.org/fhir/sid/us-ssn", "value": p["ssn"]}],
        "name": [{"use": "official", "family": p["family"], "given": [p["given"]],
                  "prefix": ["Mx."]}],
        "telecom": [{"system": "phone", "value": p["phone"], "use": "home"},
                    {"system": "email", "value": p["email"]}],
        "gender": "female", "birthDate": p["birth"],
        "address": [{"line": [p["street"]], "city": p["city"], "state": p["state"],
                     "postalCode": p["zip"], "country": "US"}],
        "contact": [{"name": {"family": other["family"], "given": [other["given"]]},
                     "telecom": [{"system": "phone", "value": other["phone"]}]}],
        "text": {"status": "generated",
                 "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{p["given"]} '
                        f'{p["family"]}</div>'}})
    prac = res("prac", {"resourceType": "Practitioner",
                        "identifier": [{"system": NPI, "value": npi}],
                        "name": [{"family": doc_family, "given": [doc_given], "prefix": ["Dr."]}],
                        "telecom": [{"system": "email", "value": fake.email()}],
                        "gender": "male"})
    org = res("org", {"resourceType": "Organization", "name": "General Hospital",
                      "identifier": [{"system": "https://github.com/synthetichealth/synthea",
                                      "value": u["org"]}],
                      "address": [{"line": [fake.street_address()], "city": fake.city(),
                                   "state": "MA", "postalCode": "02139"}],
                      "telecom": [{"system": "phone", "value": fake.phone_number()}]})
    loc = res("loc", {"resourceType": "Location", "status": "active", "name": "Ward 7",
                      "position": {"longitude": -71.06, "latitude": 42.36},
                      "managingOrganization": {"reference": f"Organization?identifier="
                                               f"https://github.com/synthetichealth/synthea|"
                                               f"{u['org']}", "display": "General Hospital"}})
    pract_ref = {"reference": f"Practitioner?identifier={NPI}|{npi}",
                 "display": f"Dr. {doc_given} {doc_family}"}
    enc = res("enc", {"resourceType": "Encounter", "status": "finished",
                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                "code": "AMB"},
                      "subject": {**ref("pat"), "display": f"{p['given']} {p['family']}"},
                      "participant": [{"individual": pract_ref}],
                      "period": {"start": "2023-01-10T08:00:00-05:00",
                                 "end": "2023-01-10T08:30:00-05:00"},
                      "location": [{"location": {"reference": f"urn:uuid:{u['loc']}",
                                                 "display": "Ward 7"}}],
                      "serviceProvider": {"reference": f"urn:uuid:{u['org']}"}})
    obs = res("obs", {"resourceType": "Observation", "status": "final",
                      "meta": {"profile": [US_CORE + "us-core-observation-lab"]},
                      "category": [{"coding": [{"system": "http://terminology.hl7.org/"
                                                          "CodeSystem/observation-category",
                                                "code": "laboratory"}]}],
                      "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4",
                                           "display": "Hemoglobin A1c"}], "text": "HbA1c"},
                      "subject": ref("pat"), "encounter": ref("enc"),
                      "effectiveDateTime": "2023-01-10T08:15:00-05:00",
                      "issued": "2023-01-10T08:15:00.123-05:00",
                      "valueQuantity": {"value": 6.1, "unit": "%",
                                        "system": "http://unitsofmeasure.org", "code": "%"},
                      "note": [{"authorString": f"Dr. {doc_family}", "time": "2023-01-10",
                                "text": f"Discussed with {p['given']}; call {p['phone']}."}]})
    cond = res("cond", {"resourceType": "Condition", "subject": ref("pat"),
                        "encounter": ref("enc"), "onsetDateTime": "2022-12-01",
                        "recordedDate": "2023-01-10",
                        "code": {"coding": [{"system": "http://snomed.info/sct",
                                             "code": "44054006"}], "text": "Diabetes"}})
    dr = res("dr", {"resourceType": "DiagnosticReport", "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "34117-2"}]},
                    "subject": ref("pat"), "encounter": ref("enc"),
                    "effectiveDateTime": "2023-01-10", "issued": "2023-01-10T09:00:00Z",
                    "performer": [pract_ref], "result": [ref("obs")],
                    "presentedForm": [{"contentType": "text/plain", "data": _b64(note)}]})
    doc = res("doc", {"resourceType": "DocumentReference", "status": "current",
                      "type": {"coding": [{"system": "http://loinc.org", "code": "34117-2"}]},
                      "subject": ref("pat"), "date": "2023-01-10T09:00:00Z",
                      "author": [pract_ref], "custodian": {"reference": f"urn:uuid:{u['org']}"},
                      "content": [{"attachment": {"contentType": "text/plain; charset=utf-8",
                                                  "data": _b64(note)},
                                   "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir"
                                              "/CodeSystem/formatcode", "code": "urn:ihe:iti:xds:"
                                              "2017:mimeTypeSufficient"}}],
                      "context": {"encounter": [ref("enc")],
                                  "period": {"start": "2023-01-10T08:00:00Z"}}})
    allergy = res("allergy", {"resourceType": "AllergyIntolerance", "patient": ref("pat"),
                              "clinicalStatus": {"coding": [{
                                  "system": "http://terminology.hl7.org/CodeSystem/"
                                            "allergyintolerance-clinical", "code": "active"}]},
                              "code": {"text": "Peanut"}, "recordedDate": "2020-05-01",
                              "recorder": pract_ref})
    proc = res("proc", {"resourceType": "Procedure", "status": "completed",
                        "subject": ref("pat"), "encounter": ref("enc"),
                        "code": {"text": "Foot exam"},
                        "performedPeriod": {"start": "2023-01-10T08:20:00-05:00",
                                            "end": "2023-01-10T08:25:00-05:00"},
                        "note": [{"text": f"{p['family'].upper()} tolerated well"}]})
    imm = res("imm", {"resourceType": "Immunization", "status": "completed",
                      "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                                  "code": "140"}]},
                      "patient": ref("pat"), "encounter": ref("enc"),
                      "occurrenceDateTime": "2023-01-10T08:00:00-05:00",
                      "primarySource": True, "lotNumber": "LOT-99812"})
    claim = res("claim", {"resourceType": "Claim", "status": "active",
                          "type": {"coding": [{"system": "http://terminology.hl7.org/"
                                                         "CodeSystem/claim-type",
                                               "code": "professional"}]},
                          "use": "claim", "patient": ref("pat"),
                          "billablePeriod": {"start": "2023-01-10", "end": "2023-01-10"},
                          "created": "2023-01-10",
                          "provider": {"reference": f"urn:uuid:{u['org']}"},
                          "priority": {"coding": [{"code": "normal"}]},
                          "insurance": [{"sequence": 1, "focal": True,
                                         "coverage": {"display": "Medicaid"}}],
                          "item": [{"sequence": 1, "productOrService": {"text": "Visit"},
                                    "encounter": [ref("enc")]}],
                          "total": {"value": 120.5, "currency": "USD"}})
    entries = []
    for k, r in (("pat", pat), ("prac", prac), ("org", org), ("loc", loc), ("enc", enc),
                 ("obs", obs), ("cond", cond), ("dr", dr), ("doc", doc),
                 ("allergy", allergy), ("proc", proc), ("imm", imm), ("claim", claim)):
        entries.append({"fullUrl": f"urn:uuid:{u[k]}", "resource": r,
                        "request": {"method": "POST", "url": r["resourceType"]}})
    secrets = [p["given"], p["family"], p["phone"], p["street"], p["mrn"], p["ssn"], p["email"],
               p["birth"], other["family"], other["phone"], doc_family, npi, u["pat"]]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, secrets
