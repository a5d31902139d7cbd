"""Loading pseudonymization policies (YAML) and checking data against them.

Two defaults ship with the package: ``cohort_policy.yaml`` (the sample
cohort's columns, a template for longitudinal tables) and
``fhir_policy.yaml`` (FHIR R4, every resource type: rules by data type).

A policy written inline in a release spec travels to the pseudonymize worker
as a ``data:`` URI (YAML, base64) in the request: a policy names columns and
actions, never patient values, and this scheme is read here only, never by the
source openers that fetch models and datasets (so no dataset can ride inline
into workflow history).
"""

from __future__ import annotations

import base64
import binascii
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import FieldRule, Policy


def parse_policy(text: str, source: str = "policy") -> Policy:
    """A policy from YAML text.

    Raises:
        InvalidInput: not YAML, or not a valid policy (the message says which field).
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InvalidInput(f"{source}: not valid YAML ({type(e).__name__})") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{source}: a policy is a mapping with 'fields'")
    try:
        return Policy.model_validate(doc)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                             for err in e.errors()[:5])
        raise InvalidInput(f"{source}: invalid policy: {problems}") from None


#: How an inline policy's URI starts.
INLINE_PREFIX = "data:application/yaml;base64,"
#: Largest inline policy (YAML bytes): it rides in the workflow's history.
MAX_INLINE_POLICY = 64 * 1024


def inline_policy_uri(text: str, source: str = "inline policy") -> str:
    """The ``data:`` URI carrying an inline policy's YAML, after checking it parses.

    Raises:
        InvalidInput: too large, or not a valid policy (naming ``source`` and the field).
    """
    data = text.encode("utf-8")
    if len(data) > MAX_INLINE_POLICY:
        raise InvalidInput(f"{source}: {len(data)} bytes; an inline policy is at most "
                           f"{MAX_INLINE_POLICY} bytes (give a path instead)")
    parse_policy(text, source)
    return INLINE_PREFIX + base64.b64encode(data).decode("ascii")


def inline_policy_text(uri: str) -> str | None:
    """The YAML of an inline policy URI (None: ``uri`` is not one).

    Raises:
        InvalidInput: the URI is inline but not base64 UTF-8 text of a sane size.
    """
    if not uri.startswith(INLINE_PREFIX):
        return None
    payload = uri[len(INLINE_PREFIX):]
    if len(payload) > MAX_INLINE_POLICY * 4 // 3 + 4:
        raise InvalidInput(f"inline policy is over {MAX_INLINE_POLICY} bytes")
    try:
        return base64.b64decode(payload, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput("inline policy is not base64-encoded UTF-8 YAML") from None


def load_policy(path: Path) -> Policy:
    """A policy from a YAML file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"policy {path}: cannot read ({type(e).__name__})") from None
    return parse_policy(text, str(path))


def _bundled(name: str) -> Policy:
    text = resources.files("medpipe.activities.pseudonymize").joinpath(name).read_text()
    return parse_policy(text, name)


def default_policy() -> Policy:
    """The policy for the sample cohort (``medpipe sample``)."""
    return _bundled("cohort_policy.yaml")


def default_fhir_policy() -> Policy:
    """The policy for FHIR R4 resources (rules by data type, every resource type)."""
    return _bundled("fhir_policy.yaml")


def check_columns(policy: Policy, columns: list[str], source: str) -> None:
    """Refuse a table whose columns do not match the policy (fail closed).

    Raises:
        InvalidInput: naming the columns the policy does not cover, and the
            policy's columns the data lacks.
    """
    unknown = [c for c in columns if c not in policy.fields]
    missing = [c for c in policy.fields if c not in columns]
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    problems = []
    if unknown:
        problems.append("columns not covered by the policy (add a rule, e.g. "
                        f"'{{action: keep}}', if they are safe): {', '.join(unknown)}")
    if missing:
        problems.append(f"columns of the policy missing from the data: {', '.join(missing)}")
    if dupes:
        problems.append(f"duplicate column names: {', '.join(dupes)}")
    if problems:
        raise InvalidInput(f"{source}: schema does not match the policy: " + "; ".join(problems))


def fhir_rule(policy: Policy, resource_type: str, element: str) -> FieldRule | None:
    """The rule for a FHIR element: ``Type.element`` first, then ``*.element``."""
    return policy.fields.get(f"{resource_type}.{element}") or policy.fields.get(f"*.{element}")
