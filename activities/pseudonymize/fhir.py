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
``Type?identifier=sys|value``, a contained resource's ``#id``) and ``fullUrl``s
are tokenized the same way as the ids they name, so they still resolve inside
the output. Dates move by one
offset per patient (the Patient itself, or its ``subject``/``patient``/
``beneficiary``), resolving ``urn:uuid`` fullUrls inside a Bundle. In NDJSON, whose
resources have no fullUrl, a ``urn:uuid:<id>`` reference names the resource with that id
(``fhir_uuids``, from the first pass) and becomes ``Type/<token>``. Every
name, telecom, identifier and address of every resource is indexed first
(a Bundle in memory, NDJSON by a first pass: ``learn_fhir``) and looked up
in every free text.

Resources are walked in batches (``documents``: a Bundle, or up to ``BATCH_DOCS`` lines of
NDJSON): the walk leaves tokens, date offsets and free texts for later (``fhir_later``),
and the batch then scrubs its texts as one column, the way CSV notes are scrubbed, and asks
each tokenizer once, instead of once a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from medpipe.activities.pseudonymize import fhir_values as fv
from medpipe.activities.pseudonymize.fhir_later import Changed, Later, Pending, plain
from medpipe.activities.pseudonymize.fhir_uuids import PREFIX as UUID_PREFIX
from medpipe.activities.pseudonymize.fhir_uuids import UuidTypes
from medpipe.activities.pseudonymize.policy import fhir_rule
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tokens import Tokenizer
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import Action, FieldRule, Policy, TokenMode

_REF = re.compile(r"^(?:.*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9.\-_]{1,64})(/_history/.*)?$")
_CONDITIONAL = re.compile(r"^([A-Z][A-Za-z]+)\?identifier=(?:([^|&]*)\|)?([^&]+)$")
_PATIENT_LINKS = ("subject", "patient", "beneficiary")
_BASE = "https://medpipe.invalid/fhir/"
_DROP = FieldRule(action=Action.DROP)

Json = Any

#: NDJSON lines walked before their batch is resolved: enough that the scrub's fixed cost
#: per call (~50 ms) and the tokenizers' per call are small beside the batch's work, few
#: enough that a batch's resources and outputs stay a few MB.
BATCH_DOCS = 2048
#: ... or NDJSON bytes, whichever comes first (a line may be a large Bundle).
BATCH_BYTES = 8 << 20


def learn_fhir(policy: Policy, docs: Iterable[Json], state: RunState,
               uuids: UuidTypes | None = None) -> None:
    """First pass: index the identifying values of every resource (Bundles included);
    record in ``uuids`` the type of every top-level resource whose id is a UUID (NDJSON)."""
    for doc in docs:
        if isinstance(doc, dict):
            fv.index_values(doc, state)
            if uuids is not None and isinstance(doc.get("resourceType"), str):
                uuids.add(doc["resourceType"], doc.get("id"))


class FhirJob:
    """Applies a FHIR policy to resources of one dataset.

    ``learned``: ``learn_fhir`` indexed this very input first, so the walk does not index
    each document again (without it, documents are indexed as they come).
    ``uuids``: the types ``learn_fhir`` recorded, which resolve ``urn:uuid:<id>``
    references outside a Bundle's fullUrls (none: such references stay opaque URNs).
    """

    def __init__(self, policy: Policy, tokenizers: dict[TokenMode, Tokenizer],
                 state: RunState, source: str, *, learned: bool = False,
                 uuids: UuidTypes | None = None) -> None:
        self.policy = policy
        self.learned = learned
        self.uuids = uuids if uuids is not None else UuidTypes()
        self.tokenizers = tokenizers
        self.state = state
        self.source = source
        self._alias: dict[str, str] = {}
        self._pending = Pending(fv.DROPPED)

    # -- entry points -------------------------------------------------------------------

    def documents(self, docs: Sequence[tuple[Json, str]]) -> list[Json]:
        """Resources or Bundles (each with where it comes from, for messages), as one
        batch: walked in order, then their tokens, offsets and texts resolved together."""
        self._pending = Pending(fv.DROPPED)
        walked = [self._walk(doc, where) for doc, where in docs]
        self._pending.resolve(self.tokenizers, self.state.index, self.state.placeholders,
                              self.state.count)
        self._pending = Pending(fv.DROPPED)
        return [plain(out) for out in walked]

    def document(self, doc: Json, where: str) -> Json:
        """A resource or a Bundle of resources (a batch of one)."""
        return self.documents([(doc, where)])[0]

    def _walk(self, doc: Json, where: str) -> Json:
        if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
            raise InvalidInput(f"{where}: not a FHIR resource (a JSON object with resourceType)")
        if not self.learned:  # NDJSON without a first pass: index while streaming
            fv.index_values(doc, self.state)
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
        out.update(self._bundle_stamp(doc, entries, where))
        out["entry"] = out_entries
        return out

    def _bundle_stamp(self, doc: dict[str, Json], entries: list[Json], where: str
                      ) -> dict[str, Json]:
        """A Bundle's ``identifier`` and ``timestamp``, which a document Bundle must have
        (bdl-9, bdl-10): the identifier under the Identifier rule, the timestamp under the
        date rule with the offset of the first entry's patient (a document's Composition
        subject). Without entries the timestamp is dropped: no patient's offset applies."""
        out: dict[str, Json] = {}
        if isinstance(doc.get("identifier"), dict):
            ident = fv.TypedWalk(self, None, f"{where}, Bundle.identifier").value(
                "identifier", doc["identifier"])
            if ident is not fv.DROPPED:
                out["identifier"] = ident
        if isinstance(doc.get("timestamp"), str) and entries:
            first = entries[0]
            patient = self._patient_key(first["resource"], first.get("fullUrl"), where)
            stamp = fv.TypedWalk(self, patient, f"{where}, Bundle.timestamp").value(
                "timestamp", doc["timestamp"])
            if stamp is not fv.DROPPED:
                out["timestamp"] = stamp
        return out

    def resource(self, res: dict[str, Json], where: str, full_url: str | None = None, *,
                 contained: bool = False) -> dict[str, Json]:
        """One resource (not a Bundle); ``contained``: one inside another, whose id only
        its container's ``#id`` references name."""
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
            rule, name = self._rule(rtype, key)
            at = f"{where}, {path}"
            if rule is not None:
                new, changed = self._apply(rule, rtype, key, value, patient, at, contained)
                self._pending.count(name, rule.action, changed)
                if rule.action is not Action.DROP and new is not None:
                    out[key] = new
            elif self.policy.types:
                # a Binary holds an Attachment's content at its top: the Attachment rule
                # applies (text scrubbed and re-encoded; other content dropped)
                binary = rtype == "Binary" and key == "data"
                if binary:
                    value = {"contentType": res.get("contentType"), "data": value}
                new = fv.TypedWalk(self, patient, at).value(key, value)
                if binary and new is not fv.DROPPED:
                    new = new.get("data", fv.DROPPED)
                if new is not fv.DROPPED:
                    out[key] = new
            else:
                raise InvalidInput(f"{where}: element {path} is not covered by the policy "
                                   "(add a rule, e.g. '{action: keep}', if it is safe)")
        self.state.records += 1
        if rtype == "Patient" and patient:
            self.state.patients.add(patient)
        return out

    def _rule(self, rtype: str, key: str) -> tuple[FieldRule | None, str]:
        """An element's path rule and the name its figures go under. A primitive's
        extensions (``_birthDate``) go with it: dropped when a path rule changes the value
        (a birth time would give back the date the rule generalizes or drops)."""
        rule = fhir_rule(self.policy, rtype, key)
        path = f"{rtype}.{key}"
        if rule is None and key.startswith("_") and len(key) > 1:
            base = fhir_rule(self.policy, rtype, key[1:])
            if base is not None and base.action is not Action.KEEP:
                return _DROP, path
        return rule, path if path in self.policy.fields else f"*.{key}"

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
                if self.uuids.reference_type(r) == "Patient":
                    return f"Patient/{r[len(UUID_PREFIX):]}"
                m = _REF.match(r)
                if m and m.group(1) == "Patient":
                    return f"Patient/{m.group(2)}"
                if r.startswith("urn:"):
                    return r
        return _own_key(res, full_url)

    # -- tokens -------------------------------------------------------------------------

    def _mode(self, rule: FieldRule | None) -> TokenMode:
        """The token mode of a rule (default: the policy's)."""
        return (rule.mode if rule is not None else None) or self.policy.token_mode

    def token(self, value: str, rule: FieldRule | None = None) -> Later:
        """The token of one value (once the batch is resolved)."""
        return self._pending.token(self._mode(rule), value)

    def resource_id(self, rtype: str, rid: str, rule: FieldRule | None = None) -> Later:
        """The token standing for a resource id (FHIR ids allow no ``_``)."""
        return Later(_id_token, self.token(f"{rtype}/{rid}", rule))

    def local_id(self, rid: str, rule: FieldRule | None = None) -> Later:
        """The token standing for a contained resource's id, as its ``#id`` references
        name it (``#`` then the same token)."""
        return Later(_id_token, self.token(f"#{rid}", rule))

    def _reference(self, ref: str, rule: FieldRule | None = None,
                   absolute: bool = False) -> str | Later:
        if ref.startswith("#") and len(ref) > 1:  # a contained resource, by its local id
            return Later(_prefixed, "#", self.local_id(ref[1:], rule))
        if ref == "#" or re.fullmatch(r"[A-Z][A-Za-z]+", ref):
            return ref  # the container itself; a type alone (transaction request url)
        m = _CONDITIONAL.match(ref)
        if m:
            head = f"{m.group(1)}?identifier={m.group(2)}|" if m.group(2) is not None \
                else f"{m.group(1)}?identifier="
            return Later(_prefixed, head, self.token(m.group(3), rule))
        named = None if ref in self._alias else self.uuids.reference_type(ref)
        if named is not None:  # NDJSON: the resource whose id is this UUID
            return Later(_prefixed, f"{named}/",
                         self.resource_id(named, ref[len(UUID_PREFIX):], rule))
        m = _REF.match(ref)
        if m:
            base = _BASE if absolute or "://" in ref else ""
            return Later(_prefixed, f"{base}{m.group(1)}/",
                         self.resource_id(m.group(1), m.group(2), rule))
        return Later(fv.uuid_urn, self.token(ref, rule))

    def reference(self, ref: str, rule: FieldRule | None = None) -> str | Later:
        """A reference, tokenized consistently with ids and fullUrls."""
        return self._reference(ref, rule)

    def offset(self, patient: str | None, where: str) -> Later:
        """The date offset (days) of a patient (once the batch is resolved)."""
        if patient is None:
            raise InvalidInput(f"{where}: dates to shift but no patient (subject/patient "
                               "reference), so no shift applies")
        return self._pending.offset(self._mode(None), self.policy.date_shift_days, patient)

    def scrub(self, text: str) -> Later:
        """One free text scrubbed with every known identifier of the dataset (once the
        batch is resolved)."""
        return self._pending.scrub(text)

    def count(self, name: str, action: Action, before: Json, after: Json) -> None:
        """One element's figures: changed unless ``after`` (resolved) equals ``before``."""
        self._pending.count(name, action, (before, after))

    # -- path rules ---------------------------------------------------------------------

    def _apply(self, rule: FieldRule, rtype: str, key: str, value: Json, patient: str | None,
               where: str, contained: bool = False) -> tuple[Json, Changed]:
        a = rule.action
        if a is Action.KEEP:
            return value, False
        if a is Action.DROP:
            return None, True
        if a is Action.TOKEN:
            if key == "id":
                if not isinstance(value, str):
                    raise InvalidInput(f"{where}: id is not a string")
                if contained:
                    return self.local_id(value, rule), True
                return self.resource_id(rtype, value, rule), True
            return fv.tokenize(self, value, rule, where), True
        if a is Action.DATE_SHIFT:
            days = self.offset(patient, where)
            return fv.map_dates(value, lambda s: fv.shifted(s, days, where)), True
        if a is Action.GENERALIZE:
            assert rule.kind is not None
            return fv.generalize(value, rule.kind, where), True
        after = fv.scrub_value(self, key, value)
        return after, (value, after)


def _id_token(token: str) -> str:
    return token.replace("_", "-")


def _prefixed(head: str, token: str) -> str:
    return head + token


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
