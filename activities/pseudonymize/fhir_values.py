"""Value-level FHIR rules: the typed walk, tokens, dates, generalization, scrubbing.

``TypedWalk`` visits one top-level element of a resource and applies the
policy's type rule to every ``HumanName``, ``Address``, ``ContactPoint``,
``Identifier``, ``Reference``, date, ``Attachment``, ``Narrative``,
``Annotation`` and free string in it, at any depth (backbone elements,
extensions, contained resources). ``index_values`` finds the identifying
values of a resource the same way, for the dataset-wide index.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Protocol

from medpipe.activities.pseudonymize.fhir_later import Later
from medpipe.activities.pseudonymize.fhir_types import (
    DATE,
    age_years,
    attachment_text,
    complex_type,
    string_type,
    top_coded_age,
)
from medpipe.activities.pseudonymize.generalize import AGE_CAP, restricted_zip3
from medpipe.activities.pseudonymize.state import RunState
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import (
    Action,
    FieldRule,
    GeneralizeKind,
    Placeholder,
    Policy,
)

Json = Any
DROPPED: Any = object()
_ADDRESS_KEEP = ("use", "type", "state", "country")
_TAG = re.compile(r"(<[^>]*>)")
_NAME_EXTENSIONS = ("mothersMaidenName", "patient-mothersMaidenName")


class FhirJob(Protocol):
    """What the value rules need of the job walking a dataset (``fhir.FhirJob``).

    A protocol rather than an import keeps ``fhir`` -> ``fhir_values`` one-way.
    """

    policy: Policy
    state: RunState

    def resource(self, res: dict[str, Json], where: str, full_url: str | None = None, *,
                 contained: bool = False) -> Json: ...

    def token(self, value: str, rule: FieldRule | None = None) -> Later: ...

    def reference(self, ref: str, rule: FieldRule | None = None) -> str | Later: ...

    def offset(self, patient: str | None, where: str) -> Later: ...

    def scrub(self, text: str) -> Later: ...

    def count(self, name: str, action: Action, before: Json, after: Json) -> None: ...


# -- the dataset-wide index ---------------------------------------------------------------

def index_values(doc: Json, state: RunState, key: str = "") -> None:
    """Index the names, telecoms, identifiers and addresses found anywhere in ``doc``."""
    if isinstance(doc, list):
        for d in doc:
            index_values(d, state, key)
        return
    if not isinstance(doc, dict):
        return
    t = complex_type(key, doc)
    if t == "HumanName":
        given = [g for g in doc.get("given", []) if isinstance(g, str)]
        fam = doc.get("family") if isinstance(doc.get("family"), str) else None
        state.add_identifiers([" ".join(given + ([fam] if fam else []))], Placeholder.NAME)
        if isinstance(doc.get("text"), str):
            state.add_identifiers([doc["text"]], Placeholder.NAME)
        return
    if t == "ContactPoint":
        kind = Placeholder.EMAIL if doc.get("system") == "email" else Placeholder.PHONE
        state.add_identifiers([doc.get("value")], kind)
        return
    if t == "Identifier":
        state.add_identifiers([doc.get("value")], Placeholder.ID)
    if t == "Address":
        lines = [x for x in doc.get("line", []) if isinstance(x, str)]
        state.add_identifiers(lines + [doc.get("city"), doc.get("district")],
                              Placeholder.ADDRESS)
        return
    url = doc.get("url")
    if isinstance(url, str) and url.endswith(_NAME_EXTENSIONS):
        state.add_identifiers([doc.get("valueString")], Placeholder.NAME)
    if isinstance(doc.get("uid"), str):  # a DICOM UID: the residual check finds one left
        state.add_identifiers([doc["uid"]], Placeholder.ID)
    for k, v in doc.items():
        if isinstance(v, dict | list):
            index_values(v, state, k)


# -- the typed walk -----------------------------------------------------------------------

class TypedWalk:
    """Applies the policy's type rules to one top-level element of a resource."""

    def __init__(self, job: FhirJob, patient: str | None, where: str) -> None:
        self.job = job
        self.patient = patient
        self.where = where
        self._days: Later | None = None

    def days(self) -> Later:
        if self._days is None:
            self._days = self.job.offset(self.patient, self.where)
        return self._days

    def value(self, key: str, v: Json) -> Json:
        """The element's new value, or ``DROPPED``."""
        if isinstance(v, list):
            out = [x for x in (self.value(key, i) for i in v) if x is not DROPPED]
            return out if out else DROPPED
        if isinstance(v, dict):
            if isinstance(v.get("resourceType"), str):  # a contained resource
                return self.job.resource(v, self.where, contained=True)
            t = complex_type(key, v)
            if t is not None:
                return self.typed(t, key, v)
            url = v.get("url")
            if isinstance(url, str) and url.endswith(_NAME_EXTENSIONS):
                return DROPPED
            kept = {}
            for k, x in v.items():
                n = self.value(k, x)
                if n is not DROPPED:
                    kept[k] = n
            return kept if kept else DROPPED
        if isinstance(v, str):
            if key == "uid":
                return self.uid(v)
            st = string_type(key, v)
            return v if st is None else self.typed(st, key, v)
        return v

    def uid(self, v: str) -> Json:
        """An ImagingStudy series' or instance's DICOM UID (FHIR ``id``): an identifier of
        the images, under the Identifier rule. A token comes out as a UID of its own
        (``2.25.<integer of a UUID>``), valid as an ``id`` and as a DICOM UID, the same for
        the same UID everywhere; a rule other than token or keep drops it."""
        rule = self.rule("Identifier")
        if rule.action is Action.KEEP:
            return v
        out: Json = Later(_dicom_uid, self.job.token(v, rule)) \
            if rule.action is Action.TOKEN else DROPPED
        self.job.count("@Identifier", rule.action, v, out)
        return out

    def rule(self, t: str) -> FieldRule:
        rule = self.job.policy.types.get(t)
        if rule is None:
            raise InvalidInput(f"{self.where}: a {t} element has no rule in the policy's "
                               "types (add one, e.g. '{action: drop}')")
        return rule

    def typed(self, t: str, key: str, v: Json) -> Json:
        rule = self.rule(t)
        a = rule.action
        out: Json
        if a is Action.KEEP:
            out = v
        elif a is Action.DROP:
            out = DROPPED
        elif a is Action.TOKEN:
            out = tokenize(self.job, v, rule, self.where)
        elif a is Action.DATE_SHIFT:
            out = map_dates(v, lambda s: shifted(s, self.days(), self.where))
        elif a is Action.GENERALIZE:
            assert rule.kind is not None
            out = generalize(v, rule.kind, self.where)
            out = DROPPED if out is None else out
        elif t == "Annotation":
            out = {k: x for k, x in ((k, self.value(k, x)) for k, x in v.items()
                                     if k != "authorString" and k != "text")
                   if x is not DROPPED}
            out["text"] = self.job.scrub(v["text"])
        elif t == "Attachment":
            out = scrub_attachment(self.job, v)
        else:
            out = scrub_value(self.job, key, v)
        self.job.count(f"@{t}", a, v, out)
        return out


# -- actions ------------------------------------------------------------------------------

def scrub_value(job: FhirJob, key: str, value: Json) -> Json:
    """Scrub every free text in a value; codes, URIs and ids inside it are kept, and
    narrative XHTML is scrubbed in its text nodes only (the markup stays valid)."""
    if isinstance(value, str):
        if key == "div":
            parts = [p if p.startswith("<") or not p else job.scrub(p)
                     for p in _TAG.split(value)]
            return Later.then(_joined, *parts)
        return job.scrub(value) if string_type(key, value) is not None else value
    if isinstance(value, list):
        return [scrub_value(job, key, v) for v in value]
    if isinstance(value, dict):
        return {k: scrub_value(job, k, v) for k, v in value.items()}
    return value


def _joined(*parts: str) -> str:
    return "".join(parts)


def scrub_attachment(job: FhirJob, att: dict[str, Json]) -> Json:
    """Text attachments are decoded, scrubbed and re-encoded; other content is dropped."""
    out = {k: v for k, v in att.items() if k in ("contentType", "language")}
    if isinstance(att.get("title"), str):
        out["title"] = job.scrub(att["title"])
    text = attachment_text(att)  # content that is not text, or does not decode: dropped
    if text is not None:
        out["data"] = Later(_base64, job.scrub(text))
    return out


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tokenize(job: FhirJob, value: Json, rule: FieldRule, where: str, top: bool = True) -> Json:
    """Tokenize ids, Identifier values and References; drop ``display`` texts, except in a
    Reference that has nothing else to name its target (``payor: [{display: "Aetna"}]``):
    that display is scrubbed as free text, so the element is not left empty."""
    if isinstance(value, list):
        return [tokenize(job, v, rule, where, top) for v in value]
    if isinstance(value, str):
        return job.token(value, rule) if top else value
    if not isinstance(value, dict):
        if top:
            raise InvalidInput(f"{where}: cannot tokenize a {type(value).__name__}")
        return value
    out: dict[str, Json] = {}
    for k, v in value.items():
        if k in ("display", "assigner"):
            continue  # often the patient's or clinician's name
        if k == "reference" and isinstance(v, str):
            out[k] = job.reference(v, rule)
        elif k == "value" and isinstance(v, str) and _looks_identifier(value):
            # a value whose system says it is a URI stays one (a urn:uuid of its token)
            out[k] = Later(uuid_urn, job.token(v, rule)) \
                if value.get("system") == "urn:ietf:rfc:3986" else job.token(v, rule)
        else:
            out[k] = tokenize(job, v, rule, where, top=False)
    display = value.get("display")
    if isinstance(display, str) and not out.keys() & {"reference", "identifier"} and \
            complex_type("", value) == "Reference":
        out["display"] = job.scrub(display)
    return out


def token_uuid(token: str) -> uuid.UUID:
    """A UUID made from a token (version-4 shaped): the same token, the same UUID."""
    return uuid.UUID(bytes=hashlib.sha256(token.encode()).digest()[:16], version=4)


def uuid_urn(token: str) -> str:
    """``urn:uuid:`` and the UUID made from a token: what a reference or fullUrl that names
    no ``Type/id`` (``urn:uuid:``, ``urn:oid:``, another URL), or an identifier whose system
    says URI, becomes. Servers take ``urn:uuid:`` fullUrls as a transaction's placeholders
    and validators accept them, where a URN of our own was neither; the same token gives
    the same UUID, so references still name their entry."""
    return f"urn:uuid:{token_uuid(token)}"


def _dicom_uid(token: str) -> str:
    return f"2.25.{token_uuid(token).int}"


def _looks_identifier(d: dict[str, Json]) -> bool:
    return set(d) <= {"id", "extension", "system", "value", "use", "type", "period",
                      "assigner"}


def map_strings(value: Json, fn: Callable[[str], Json]) -> Json:
    """Apply ``fn`` to every string in a JSON value."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    return value


def map_dates(value: Json, fn: Callable[[str], Json]) -> Json:
    """Apply ``fn`` to every date/dateTime/instant string in a JSON value."""
    return map_strings(value, lambda s: fn(s) if DATE.match(s) else s)


def shifted(s: str, days: Later | int, where: str) -> Later | str:
    """``s`` moved by ``days`` (a date offset the batch resolves)."""
    return Later.then(shift_date, s, days, where)


def shift_date(s: str, days: int, where: str) -> str:
    """A date/dateTime moved by ``days`` (a year alone is kept)."""
    m = DATE.match(s)
    assert m
    y, mo, d = m.group(1), m.group(3), m.group(5)
    rest = s[10:] if d is not None else ""
    try:
        if mo is None:
            return y
        if d is None:
            moved = date(int(y), int(mo), 15) + timedelta(days=days)
            return f"{moved.year:04d}-{moved.month:02d}"
        moved = date(int(y), int(mo), int(d)) + timedelta(days=days)
    except ValueError:
        raise InvalidInput(f"{where}: a value is not a calendar date") from None
    return moved.isoformat() + rest


def generalize(value: Json, kind: GeneralizeKind, where: str) -> Json:
    """zip3 on Addresses, year (or birth year, None past 89) on dates, age caps."""
    if isinstance(value, list):
        return [generalize(v, kind, where) for v in value]
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
    if kind in (GeneralizeKind.YEAR, GeneralizeKind.BIRTH_YEAR):
        from medpipe.activities.pseudonymize.generalize import over_89

        if isinstance(value, str) and DATE.match(value):
            if kind is GeneralizeKind.BIRTH_YEAR and over_89(int(value[:4])):
                return None
            return value[:4]
        return map_dates(value, lambda s: s[:4])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(value, AGE_CAP + 1)
    if isinstance(value, dict) and isinstance(value.get("value"), int | float):
        years = age_years(where.rpartition(".")[2], value)
        if years is None:  # a Quantity in no time unit, under a path rule: years
            years = float(value["value"])
        if years <= AGE_CAP:
            return value
        kept = {k: v for k, v in value.items() if k in ("id", "extension")}
        return kept | top_coded_age(AGE_CAP)
    raise InvalidInput(f"{where}: age applies to numbers and Age quantities")
