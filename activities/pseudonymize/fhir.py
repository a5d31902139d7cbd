"""Pseudonymize FHIR R4 resources (NDJSON bulk export, or Bundles).

Each top-level element of a resource is handled by its policy rule
(``Type.element``, then ``*.element``); an element no rule names is refused.

* ``token``: ids, Identifiers (``value``) and References. ``Patient/123``
  becomes ``Patient/<token>`` everywhere (the Patient's own ``id`` gets the
  same token), so references still resolve; ``display`` texts are dropped.
* ``date_shift``: every date in the element moves by the patient's offset
  (the patient is the resource itself, or its ``subject``/``patient``).
* ``generalize``: ``zip3`` on Addresses (state, country, 3-digit ZIP kept),
  ``year`` on dates, ``age`` on numbers.
* ``scrub``: every text in the element (``text.div`` narrative included).

Values of identifying elements of a Patient (identifier, name, telecom) are
remembered per patient and scrubbed from that patient's other resources'
texts: in NDJSON when the Patient came first, in a Bundle always.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from medpipe.activities.pseudonymize.generalize import AGE_CAP, restricted_zip3
from medpipe.activities.pseudonymize.policy import fhir_rule
from medpipe.activities.pseudonymize.scrub import record_needles, scrub_text
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tokens import Tokenizer
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import (
    Action,
    FieldRule,
    GeneralizeKind,
    Placeholder,
    Policy,
    TokenMode,
)

_DATE = re.compile(r"^([0-9]{4})(-([0-9]{2})(-([0-9]{2})([T ].*)?)?)?$")
_REF = re.compile(r"^(?:.*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9.\-_]{1,64})(/_history/.*)?$")
_PATIENT_LINKS = ("subject", "patient", "beneficiary")
_ADDRESS_KEEP = ("use", "type", "state", "country")

Json = Any


class FhirJob:
    """Applies a FHIR policy to resources of one dataset."""

    def __init__(self, policy: Policy, tokenizers: dict[TokenMode, Tokenizer],
                 state: RunState, source: str) -> None:
        self.policy = policy
        self.tokenizers = tokenizers
        self.state = state
        self.source = source
        self._needles: dict[str, list[tuple[str, str]]] = {}

    # -- entry points -------------------------------------------------------------------

    def document(self, doc: Json, where: str) -> Json:
        """A resource or a Bundle of resources."""
        if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
            raise InvalidInput(f"{where}: not a FHIR resource (a JSON object with resourceType)")
        if doc["resourceType"] == "Bundle":
            return self.bundle(doc, where)
        return self.resource(doc, where)

    def bundle(self, doc: dict[str, Json], where: str) -> dict[str, Json]:
        """A Bundle: Patients' identifiers first, then every entry in order."""
        entries = doc.get("entry", [])
        if not isinstance(entries, list):
            raise InvalidInput(f"{where}: Bundle.entry is not a list")
        for i, e in enumerate(entries):
            res = e.get("resource") if isinstance(e, dict) else None
            if isinstance(res, dict) and res.get("resourceType") == "Patient":
                self._remember_patient(res, f"{where}, entry {i}")
        out_entries = []
        for i, e in enumerate(entries):
            at = f"{where}, entry {i}"
            if not isinstance(e, dict) or not isinstance(e.get("resource"), dict):
                raise InvalidInput(f"{at}: a Bundle entry without a resource")
            new: dict[str, Json] = {"resource": self.document(e["resource"], at)}
            if isinstance(e.get("fullUrl"), str):
                new["fullUrl"] = self._reference(e["fullUrl"])
            for k in ("search", "response"):
                if k in e:
                    new[k] = e[k]
            if isinstance(e.get("request"), dict):
                req = dict(e["request"])
                if isinstance(req.get("url"), str):
                    req["url"] = self._reference(req["url"])
                new["request"] = req
            out_entries.append(new)
        out = {k: v for k, v in doc.items() if k in ("resourceType", "type", "total", "link")}
        out.pop("link", None)
        out["entry"] = out_entries
        return out

    def resource(self, res: dict[str, Json], where: str) -> dict[str, Json]:
        """One resource (not a Bundle)."""
        rtype = res["resourceType"]
        if not re.fullmatch(r"[A-Z][A-Za-z]+", rtype):
            raise InvalidInput(f"{where}: resourceType is not a FHIR type name")
        patient = self._patient_key(res, where)
        if rtype == "Patient":
            self._remember_patient(res, where)
        needles = list(self._needles.get(patient or "", []))
        needles += self._own_needles(res, rtype)
        out: dict[str, Json] = {"resourceType": rtype}
        for key, value in res.items():
            if key == "resourceType":
                continue
            path = f"{rtype}.{key}"
            rule = fhir_rule(self.policy, rtype, key)
            if rule is None:
                raise InvalidInput(f"{where}: element {path} is not covered by the policy "
                                   "(add a rule, e.g. '{action: keep}', if it is safe)")
            name = path if path in self.policy.fields else f"*.{key}"
            new, changed = self._apply(rule, rtype, key, value, patient, needles,
                                       f"{where}, {path}")
            self.state.count(name, rule.action, 1, int(changed))
            if rule.action is not Action.DROP:
                out[key] = new
        self.state.records += 1
        if patient:
            self.state.patients.add(patient)
        return out

    # -- patients -----------------------------------------------------------------------

    def _patient_key(self, res: dict[str, Json], where: str) -> str | None:
        if res["resourceType"] == "Patient":
            pid = res.get("id")
            if not isinstance(pid, str) or not pid:
                raise InvalidInput(f"{where}: Patient without an id")
            return f"Patient/{pid}"
        for link in _PATIENT_LINKS:
            ref = res.get(link)
            if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
                m = _REF.match(ref["reference"])
                if m and m.group(1) == "Patient":
                    return f"Patient/{m.group(2)}"
        return None

    def _remember_patient(self, res: dict[str, Json], where: str) -> None:
        key = self._patient_key(res, where)
        assert key is not None
        needles = self._own_needles(res, "Patient")
        self._needles[key] = needles

    def _own_needles(self, res: dict[str, Json], rtype: str) -> list[tuple[str, str]]:
        """Values of the resource's identifying elements, with their placeholders."""
        pairs: list[tuple[str | None, Placeholder]] = []
        for key, value in res.items():
            rule = fhir_rule(self.policy, rtype, key)
            if rule is None or not rule.is_identifier or key == "id":
                continue
            texts = _identifying_texts(key, value)
            kind = rule.placeholder
            pairs += [(t, kind) for t in texts]
            self.state.add_identifiers(list(texts), kind)
        return record_needles(pairs)

    # -- actions ------------------------------------------------------------------------

    def _tokenizer(self, rule: FieldRule) -> Tokenizer:
        return self.tokenizers[rule.mode or self.policy.token_mode]

    def _token(self, value: str, rule: FieldRule | None = None) -> str:
        tok = self.tokenizers[self.policy.token_mode] if rule is None else self._tokenizer(rule)
        return tok.tokens([value])[0]

    def _reference(self, ref: str, rule: FieldRule | None = None) -> str:
        m = _REF.match(ref)
        if m:
            return f"{m.group(1)}/{self._token(f'{m.group(1)}/{m.group(2)}', rule)}"
        if ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
            return "urn:medpipe:" + self._token(ref, rule)
        if ref.startswith("#"):
            return ref  # contained resource
        return "urn:medpipe:" + self._token(ref, rule)

    def _offset(self, patient: str | None, where: str) -> int:
        if patient is None:
            raise InvalidInput(f"{where}: dates to shift but no patient (subject/patient "
                               "reference), so no shift applies")
        tok = self.tokenizers[self.policy.token_mode]
        token = tok.tokens([patient])[0]
        return int(tok.offset_days([token], self.policy.date_shift_days)[0])

    def _apply(self, rule: FieldRule, rtype: str, key: str, value: Json, patient: str | None,
               needles: list[tuple[str, str]], where: str) -> tuple[Json, bool]:
        a = rule.action
        if a is Action.KEEP:
            return value, False
        if a is Action.DROP:
            return None, True
        if a is Action.TOKEN:
            if key == "id":
                if not isinstance(value, str):
                    raise InvalidInput(f"{where}: id is not a string")
                return self._token(f"{rtype}/{value}", rule), True
            return self._tokenize(value, rule, where), True
        if a is Action.DATE_SHIFT:
            days = self._offset(patient, where)
            return _map_dates(value, lambda s: _shift_date(s, days, where)), True
        if a is Action.GENERALIZE:
            assert rule.kind is not None
            return _generalize(value, rule.kind, where), True
        # SCRUB
        before = value
        after = _map_strings(value, lambda s: scrub_text(s, needles, self.state.placeholders))
        return after, after != before

    def _tokenize(self, value: Json, rule: FieldRule, where: str, top: bool = True) -> Json:
        """Tokenize ids, Identifier values and References; drop ``display`` texts."""
        if isinstance(value, list):
            return [self._tokenize(v, rule, where, top) for v in value]
        if isinstance(value, str):
            return self._token(value, rule) if top else value
        if not isinstance(value, dict):
            if top:
                raise InvalidInput(f"{where}: cannot tokenize a {type(value).__name__}")
            return value
        out: dict[str, Json] = {}
        for k, v in value.items():
            if k == "display":
                continue  # often the patient's or clinician's name
            if k == "reference" and isinstance(v, str):
                out[k] = self._reference(v, rule)
            elif k == "value" and isinstance(v, str) and _looks_identifier(value):
                out[k] = self._token(v, rule)
            elif k == "assigner":
                continue
            else:
                out[k] = self._tokenize(v, rule, where, top=False)
        return out


def _looks_identifier(d: dict[str, Json]) -> bool:
    return set(d) <= {"system", "value", "use", "type", "period", "assigner"}


def _identifying_texts(key: str, value: Json) -> list[str]:
    """Texts of an identifying element: identifier values, names (whole and parts)."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            if isinstance(item.get("value"), str):
                out.append(item["value"])
            given = [g for g in item.get("given", []) if isinstance(g, str)]
            family = item.get("family") if isinstance(item.get("family"), str) else None
            if given or family:
                out.append(" ".join(given + ([family] if family else [])))
            if isinstance(item.get("text"), str) and key != "identifier":
                out.append(item["text"])
    return out


def _map_strings(value: Json, fn: Callable[[str], str]) -> Json:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    return value


def _map_dates(value: Json, fn: Callable[[str], str]) -> Json:
    return _map_strings(value, lambda s: fn(s) if _DATE.match(s) else s)


def _shift_date(s: str, days: int, where: str) -> str:
    m = _DATE.match(s)
    assert m
    y, mo, d, rest = m.group(1), m.group(3), m.group(5), m.group(6) or ""
    try:
        if mo is None:
            return y  # a year alone is kept (Safe Harbor allows the year)
        if d is None:
            moved = date(int(y), int(mo), 15) + timedelta(days=days)
            return f"{moved.year:04d}-{moved.month:02d}"
        moved = date(int(y), int(mo), int(d)) + timedelta(days=days)
    except ValueError:
        raise InvalidInput(f"{where}: a value is not a calendar date") from None
    return moved.isoformat() + rest


def _generalize(value: Json, kind: GeneralizeKind, where: str) -> Json:
    if isinstance(value, list):
        return [_generalize(v, kind, where) for v in value]
    if kind is GeneralizeKind.ZIP3:
        if not isinstance(value, dict):
            raise InvalidInput(f"{where}: zip3 applies to Address elements")
        out = {k: value[k] for k in _ADDRESS_KEEP if k in value}
        pc = value.get("postalCode")
        if isinstance(pc, str):
            if not re.fullmatch(r"[0-9]{5}(-?[0-9]{4})?", pc.strip()):
                raise InvalidInput(f"{where}: postalCode is not a ZIP code")
            area = pc.strip()[:3]
            out["postalCode"] = "000" if area in restricted_zip3() else area
        return out
    if kind is GeneralizeKind.YEAR:
        if isinstance(value, str) and _DATE.match(value):
            return value[:4]
        return _map_dates(value, lambda s: s[:4])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(value, AGE_CAP + 1)
    if isinstance(value, dict) and isinstance(value.get("value"), int | float):
        return {**value, "value": min(value["value"], AGE_CAP + 1)}
    raise InvalidInput(f"{where}: age applies to numbers")

