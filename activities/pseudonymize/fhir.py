"""Pseudonymize FHIR R4 resources (NDJSON bulk export, or Bundles).

Rules come from the policy in two forms:

* by **data type** (``types``: HumanName, Address, ContactPoint, Identifier,
  Reference, date, Attachment, Narrative, Annotation, string), applied
  wherever that type occurs in any resource type (``fhir_types`` recognizes
  them); this is how the bundled default covers every resource of a US Core /
  Synthea export;
* by **path** (``fields``: ``Type.element`` or ``*.element``), which
  override the type rules for a top-level element. A policy without type
  rules must name every element (fail closed).

References (``Patient/123``, ``urn:uuid:…``, absolute URLs, conditional
``Type?identifier=sys|value``) and ``fullUrl``s are tokenized the same way
everywhere, so they still resolve inside the output. Dates move by one
offset per patient (the Patient itself, or its ``subject``/``patient``/
``beneficiary``), resolving ``urn:uuid`` fullUrls inside a Bundle. Every
name, telecom, identifier and address of every resource is indexed first
(a Bundle in memory, NDJSON by a first pass: ``learn_fhir``) and looked up
in every free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from medpipe.activities.pseudonymize import fhir_values as fv
from medpipe.activities.pseudonymize.policy import fhir_rule
from medpipe.activities.pseudonymize.scrub import scrub_text
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tokens import Tokenizer
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import Action, FieldRule, Policy, TokenMode

_REF = re.compile(r"^(?:.*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9.\-_]{1,64})(/_history/.*)?$")
_CONDITIONAL = re.compile(r"^([A-Z][A-Za-z]+)\?identifier=(?:([^|&]*)\|)?([^&]+)$")
_PATIENT_LINKS = ("subject", "patient", "beneficiary")
_BASE = "https://medpipe.invalid/fhir/"

Json = Any


def learn_fhir(policy: Policy, docs: Iterable[Json], state: RunState) -> None:
    """First pass: index the identifying values of every resource (Bundles included)."""
    for doc in docs:
        if isinstance(doc, dict):
            fv.index_values(doc, state)


class FhirJob:
    """Applies a FHIR policy to resources of one dataset."""

    def __init__(self, policy: Policy, tokenizers: dict[TokenMode, Tokenizer],
                 state: RunState, source: str) -> None:
        self.policy = policy
        self.tokenizers = tokenizers
        self.state = state
        self.source = source
        self._alias: dict[str, str] = {}

    # -- entry points -------------------------------------------------------------------

    def document(self, doc: Json, where: str) -> Json:
        """A resource or a Bundle of resources."""
        if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
            raise InvalidInput(f"{where}: not a FHIR resource (a JSON object with resourceType)")
        fv.index_values(doc, self.state)  # NDJSON without a first pass: index while streaming
        if doc["resourceType"] == "Bundle":
            return self.bundle(doc, where)
        return self.resource(doc, where)

    def bundle(self, doc: dict[str, Json], where: str) -> dict[str, Json]:
        """A Bundle (transaction, batch, collection, searchset, ...): entry by entry."""
        entries = doc.get("entry", [])
        if not isinstance(entries, list):
            raise InvalidInput(f"{where}: Bundle.entry is not a list")
        for i, e in enumerate(entries):
            res = e.get("resource") if isinstance(e, dict) else None
            if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                raise InvalidInput(f"{where}, entry {i}: a Bundle entry without a resource")
            own = _own_key(res, e.get("fullUrl"))
            if own:
                for alias in (e.get("fullUrl"), _typed_id(res)):
                    if isinstance(alias, str):
                        self._alias[alias] = own
        out_entries = []
        for i, e in enumerate(entries):
            at = f"{where}, entry {i}"
            full = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
            new: dict[str, Json] = {}
            if full:
                new["fullUrl"] = self._reference(full, absolute=True)
            new["resource"] = self.resource(e["resource"], at, full)
            if isinstance(e.get("search"), dict):
                new["search"] = {k: v for k, v in e["search"].items() if k in ("mode", "score")}
            if isinstance(e.get("request"), dict):
                req = {k: v for k, v in e["request"].items() if k in ("method", "url")}
                if isinstance(req.get("url"), str):
                    req["url"] = self._reference(req["url"])
                new["request"] = req
            if isinstance(e.get("response"), dict):
                new["response"] = {k: v for k, v in e["response"].items() if k == "status"}
            out_entries.append(new)
        out = {k: v for k, v in doc.items() if k in ("resourceType", "type", "total")}
        out["entry"] = out_entries
        return out

    def resource(self, res: dict[str, Json], where: str, full_url: str | None = None
                 ) -> dict[str, Json]:
        """One resource (not a Bundle)."""
        rtype = res["resourceType"]
        if not re.fullmatch(r"[A-Z][A-Za-z]+", rtype):
            raise InvalidInput(f"{where}: resourceType is not a FHIR type name")
        if rtype == "Bundle":
            return self.bundle(res, where)
        patient = self._patient_key(res, full_url, where)
        out: dict[str, Json] = {"resourceType": rtype}
        for key, value in res.items():
            if key == "resourceType":
                continue
            path = f"{rtype}.{key}"
            rule = fhir_rule(self.policy, rtype, key)
            at = f"{where}, {path}"
            if rule is not None:
                name = path if path in self.policy.fields else f"*.{key}"
                new, changed = self._apply(rule, rtype, key, value, patient, at)
                self.state.count(name, rule.action, 1, int(changed))
                if rule.action is not Action.DROP and new is not None:
                    out[key] = new
            elif self.policy.types:
                new = fv.TypedWalk(self, patient, at).value(key, value)
                if new is not fv.DROPPED:
                    out[key] = new
            else:
                raise InvalidInput(f"{where}: element {path} is not covered by the policy "
                                   "(add a rule, e.g. '{action: keep}', if it is safe)")
        self.state.records += 1
        if rtype == "Patient" and patient:
            self.state.patients.add(patient)
        return out

    # -- patients -----------------------------------------------------------------------

    def _patient_key(self, res: dict[str, Json], full_url: str | None, where: str) -> str | None:
        """The key of the patient whose date offset applies (None: not a patient's)."""
        if res["resourceType"] == "Patient":
            key = _own_key(res, full_url)
            if key is None:
                raise InvalidInput(f"{where}: Patient without an id or a fullUrl")
            return key
        for link in _PATIENT_LINKS:
            ref = res.get(link)
            if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
                r: str = ref["reference"]
                r = self._alias.get(r) or r
                m = _REF.match(r)
                if m and m.group(1) == "Patient":
                    return f"Patient/{m.group(2)}"
                if r.startswith("urn:"):
                    return r
        return _own_key(res, full_url)

    # -- tokens -------------------------------------------------------------------------

    def tokenizer(self, rule: FieldRule | None = None) -> Tokenizer:
        """The tokenizer of a rule (default: the policy's mode)."""
        mode = (rule.mode if rule is not None else None) or self.policy.token_mode
        return self.tokenizers[mode]

    def token(self, value: str, rule: FieldRule | None = None) -> str:
        """The token of one value."""
        return self.tokenizer(rule).tokens([value])[0]

    def resource_id(self, rtype: str, rid: str, rule: FieldRule | None = None) -> str:
        """The token standing for a resource id (FHIR ids allow no ``_``)."""
        return self.token(f"{rtype}/{rid}", rule).replace("_", "-")

    def _reference(self, ref: str, rule: FieldRule | None = None, absolute: bool = False) -> str:
        if ref.startswith("#") or re.fullmatch(r"[A-Z][A-Za-z]+", ref):
            return ref  # contained resource; a type alone (transaction request url)
        m = _CONDITIONAL.match(ref)
        if m:
            system = f"{m.group(2)}|" if m.group(2) is not None else ""
            return f"{m.group(1)}?identifier={system}{self.token(m.group(3), rule)}"
        m = _REF.match(ref)
        if m:
            rel = f"{m.group(1)}/{self.resource_id(m.group(1), m.group(2), rule)}"
            return _BASE + rel if absolute or "://" in ref else rel
        return "urn:medpipe:" + self.token(ref, rule)

    def reference(self, ref: str, rule: FieldRule | None = None) -> str:
        """A reference, tokenized consistently with ids and fullUrls."""
        return self._reference(ref, rule)

    def offset(self, patient: str | None, where: str) -> int:
        """The date offset (days) of a patient."""
        if patient is None:
            raise InvalidInput(f"{where}: dates to shift but no patient (subject/patient "
                               "reference), so no shift applies")
        tok = self.tokenizer()
        token = tok.tokens([patient])[0]
        return int(tok.offset_days([token], self.policy.date_shift_days)[0])

    def scrub(self, text: str) -> str:
        """Scrub one free text with every known identifier of the dataset."""
        return scrub_text(text, self.state.index, self.state.placeholders)

    # -- path rules ---------------------------------------------------------------------

    def _apply(self, rule: FieldRule, rtype: str, key: str, value: Json, patient: str | None,
               where: str) -> tuple[Json, bool]:
        a = rule.action
        if a is Action.KEEP:
            return value, False
        if a is Action.DROP:
            return None, True
        if a is Action.TOKEN:
            if key == "id":
                if not isinstance(value, str):
                    raise InvalidInput(f"{where}: id is not a string")
                return self.resource_id(rtype, value, rule), True
            return fv.tokenize(self, value, rule, where), True
        if a is Action.DATE_SHIFT:
            days = self.offset(patient, where)
            return fv.map_dates(value, lambda s: fv.shift_date(s, days, where)), True
        if a is Action.GENERALIZE:
            assert rule.kind is not None
            return fv.generalize(value, rule.kind, where), True
        after = fv.scrub_value(self, key, value)
        return after, after != value


def _typed_id(res: dict[str, Json]) -> str | None:
    rid = res.get("id")
    return f"{res['resourceType']}/{rid}" if isinstance(rid, str) and rid else None


def _own_key(res: dict[str, Json], full_url: object) -> str | None:
    """A resource's canonical key: ``Type/id``, else its fullUrl."""
    typed = _typed_id(res)
    if typed:
        return typed
    if isinstance(full_url, str) and full_url:
        m = _REF.match(full_url)
        return f"{m.group(1)}/{m.group(2)}" if m else full_url
    return None
