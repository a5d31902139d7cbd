"""FHIR R4 data types recognized by shape, so rules apply in every resource type.

A FHIR JSON element does not carry its type; the structure definitions do.
Rather than ship the ~150 resource definitions, an element is typed by the
members the R4 data types require or allow (``HumanName`` has ``family``/
``given``, ``Address`` has ``line``/``city``/``postalCode``, a
``ContactPoint`` has a ``system`` among phone|fax|email|pager|url|sms|other,
a ``Reference`` has ``reference``, an ``Age`` is a Quantity under an ``…Age``
choice element or one whose unit is a time unit, ...) and primitives by the key and the
lexical form (``date``/``dateTime``/``instant`` by the R4 regular
expression; codes, URIs and ids by their element names). What is neither a
known complex type nor a code is a free string. This is deliberately
conservative: a shape that could be a name or an identifier is treated as one.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from medpipe.contracts.pseudonymize import FHIR_TYPES as TYPES

__all__ = ["CODE_KEYS", "DATE", "TYPES", "age_over", "age_years", "attachment_text", "complex_type",
           "string_type", "top_coded_age"]

#: The type names a policy's ``types`` may give rules for.

#: R4 date / dateTime / instant (lexical form).
DATE = re.compile(r"^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
                  r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$")
_CONTACT_SYSTEMS = {"phone", "fax", "email", "pager", "url", "sms", "other"}
_IDENTIFIER_KEYS = {"id", "extension", "use", "type", "system", "value", "period", "assigner"}
_ATTACHMENT_KEYS = {"id", "extension", "contentType", "language", "data", "url", "size",
                    "hash", "title", "creation"}
_ANNOTATION_KEYS = {"id", "extension", "authorReference", "authorString", "time", "text"}
_REFERENCE_KEYS = {"id", "extension", "reference", "type", "identifier", "display"}
_QUANTITY_KEYS = {"id", "extension", "value", "comparator", "unit", "system", "code"}
UCUM = "http://unitsofmeasure.org"
#: Years per time unit, by UCUM code and by the unit texts written beside it. A Quantity
#: in one of them is read as an Age: no duration but an age reaches 90 years.
AGE_UNITS = {
    **dict.fromkeys(("a", "a_j", "yr", "yrs", "y", "year", "years"), 1.0),
    **dict.fromkeys(("mo", "mo_j", "month", "months"), 1 / 12),
    **dict.fromkeys(("wk", "week", "weeks"), 7 / 365.25),
    **dict.fromkeys(("d", "day", "days"), 1 / 365.25),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 1 / 8766),
    **dict.fromkeys(("min", "minute", "minutes"), 1 / 525960),
}
#: Elements whose strings are codes, URIs, ids or other non-narrative primitives.
CODE_KEYS = frozenset({
    "resourceType", "id", "system", "code", "version", "url", "status", "use", "language",
    "contentType", "unit", "gender", "intent", "priority", "mode", "kind", "profile", "method",
    "comparator", "fullUrl", "type", "valueCode", "valueUri", "valueUrl", "valueCanonical",
    "valueId", "valueOid", "valueUuid", "valueBoolean", "implicitRules", "security", "tag",
    "source", "versionId", "lastUpdated", "instantiatesCanonical", "instantiatesUri",
    "severity", "criticality", "category", "clinicalStatus", "verificationStatus",
    "udiCarrier", "uri", "div", "encoding", "ifNoneExist", "etag", "outcome", "location",
    "relation", "search", "request", "response", "sequence", "base", "timezone", "reference",
    "uid"})


def complex_type(key: str, value: dict[str, Any]) -> str | None:
    """The R4 data type of a JSON object, when it is one the rules know."""
    keys = value.keys()
    if key == "text" and "div" in keys:
        return "Narrative"
    if isinstance(value.get("reference"), str) or (
            keys <= _REFERENCE_KEYS and ("display" in keys or "identifier" in keys)
            and "system" not in keys and "code" not in keys):
        return "Reference"
    if keys & {"family", "given", "prefix", "suffix"} or (
            key in ("name", "alias") and isinstance(value.get("text"), str) and "coding"
            not in keys):
        return "HumanName"
    if keys & {"line", "city", "postalCode", "district"}:
        return "Address"
    if value.get("system") in _CONTACT_SYSTEMS and "code" not in keys and (
            key in ("telecom", "contact") or keys <= {"id", "extension", "system", "value",
                                                      "use", "rank", "period"}):
        return "ContactPoint"
    if isinstance(value.get("value"), str) and keys <= _IDENTIFIER_KEYS:
        return "Identifier"
    if keys & {"data", "contentType"} and keys <= _ATTACHMENT_KEYS:
        return "Attachment"
    if isinstance(value.get("text"), str) and keys <= _ANNOTATION_KEYS and (
            keys & {"authorString", "authorReference", "time"} or key == "note"):
        return "Annotation"
    if "value" in keys and age_years(key, value) is not None:
        return "Age"
    return None


def age_years(key: str, value: dict[str, Any]) -> float | None:
    """The years a Quantity stands for when it is an age: under an ``…Age`` choice element
    (``onsetAge``, ``valueAge``, ``ageAge``; a unit it does not name counts as years), or
    in a time unit (UCUM code or unit text). None: not an Age."""
    v = value.get("value")
    if not isinstance(v, int | float) or isinstance(v, bool) or not value.keys() <= \
            _QUANTITY_KEYS or value.get("system", UCUM) != UCUM:
        return None
    for unit in (value.get("code"), value.get("unit")):
        if isinstance(unit, str) and unit.strip().lower() in AGE_UNITS:
            return float(v) * AGE_UNITS[unit.strip().lower()]
    return float(v) if key.endswith("Age") else None


def age_over(cap: int, key: str, value: dict[str, Any]) -> bool:
    """An Age that says more than "over ``cap`` years": over it and not the one category
    ``top_coded_age`` writes (a Quantity in no time unit under a path rule is years)."""
    years = age_years(key, value)
    if years is None or years <= cap:
        return False
    category = top_coded_age(cap)
    return not (value.get("value") == category["value"] and
                value.get("comparator") == category["comparator"] and
                value.get("code", value.get("unit")) in ("a", "years"))


def top_coded_age(cap: int) -> dict[str, Any]:
    """The one category every age over ``cap`` years becomes (HIPAA Safe Harbor: "90 or
    older")."""
    return {"value": cap + 1, "comparator": ">=", "unit": "years", "system": UCUM, "code": "a"}


def string_type(key: str, value: str) -> str | None:
    """``date`` for a date/dateTime/instant, None for a code/URI/id, else ``string``."""
    if key in CODE_KEYS:
        return None
    if DATE.match(value):
        return "date"
    return "string"


def attachment_text(att: dict[str, Any]) -> str | None:
    """An Attachment's content as text: its ``data`` decoded when its ``contentType`` is
    ``text/*`` and the data is base64 of UTF-8; None otherwise (no data, another type, or
    data that does not decode). The scrubber and the residual check read it alike."""
    data = att.get("data")
    if not isinstance(data, str) or not str(att.get("contentType", "")).startswith("text/"):
        return None
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
