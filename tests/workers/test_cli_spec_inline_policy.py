"""A release spec's ``policy`` may be the policy itself (a mapping) as well as a path.

The inline policy is checked like a file one before any workflow starts
(parsed, and checked against the model's features), refused naming the spec
field and the policy field, and sent to the pseudonymize worker as a
``data:`` URI that only the policy loader reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medpipe.activities.pseudonymize.policy import (
    INLINE_PREFIX,
    MAX_INLINE_POLICY,
    inline_policy_text,
    inline_policy_uri,
    parse_policy,
)
from medpipe.activities.sources import open_source
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.spec import parse_spec
from medpipe.workers.cli_spec import _policy
from medpipe.workers.devserver import free_port
from tests import byom
from tests.workers.test_cli import medpipe
from tests.workers.test_cli_spec import NOWHERE, files, write_spec

__all__ = ["files"]  # the module-scoped fixture, shared with test_cli_spec
FEATURES = ["radius", "mean_texture", "smoothness", "concavity"]


def inline(**changes: object) -> dict[str, object]:
    """``byom.POLICY`` as a mapping, for the renamed ``mean_texture`` column."""
    doc = yaml.safe_load(byom.POLICY.replace("texture:", "mean_texture:"))
    doc["fields"].update(changes)
    return doc


def test_inline_policy_gets_as_far_as_temporal(files: dict[str, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files["root"])
    spec = write_spec(files["root"], "inline.yaml", model="model.onnx", data="cohort.csv",
                      label="diagnosis", positive_class="malignant", features=FEATURES,
                      policy=inline())
    r = medpipe("--address", f"127.0.0.1:{free_port()}", "release", "--spec", str(spec))
    assert r.returncode == 3 and "cannot reach Temporal" in r.stderr, r.stderr


def test_inline_policy_removing_a_feature_is_refused(files: dict[str, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files["root"])
    spec = write_spec(files["root"], "inline-scrub.yaml", model="model.onnx",
                      data="cohort.csv", label="diagnosis", features=FEATURES,
                      policy=inline(mean_texture={"action": "scrub"}))
    r = medpipe(*NOWHERE, "release", "--spec", str(spec))
    assert r.returncode == 2 and "'mean_texture' (scrub)" in r.stderr, r.stderr


def test_invalid_inline_policy_is_refused_naming_both_fields(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files["root"])
    spec = write_spec(files["root"], "inline-bad.yaml", model="model.onnx", data="cohort.csv",
                      label="diagnosis", features=FEATURES,
                      policy=inline(radius={"action": "obliterate"}))
    r = medpipe(*NOWHERE, "release", "--spec", str(spec))
    assert r.returncode == 2, r.stderr
    assert "field 'policy' (inline)" in r.stderr and "fields.radius" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "cannot reach Temporal" not in r.stderr


def test_empty_inline_policy_is_a_spec_error() -> None:
    with pytest.raises(InvalidInput, match="field 'policy'|policy: an inline policy"):
        parse_spec("policy: {}\n", "s.yaml")
    assert isinstance(parse_spec("policy: {fields: {}}\n").policy, dict)
    assert parse_spec("policy: p.yaml\n").policy == "p.yaml"


def test_the_inline_uri_carries_the_same_policy_and_only_the_policy_loader_reads_it() -> None:
    doc = inline()
    uri, policy = _policy(doc)
    assert uri is not None and uri.startswith(INLINE_PREFIX) and policy is not None
    text = inline_policy_text(uri)
    assert text is not None and parse_policy(text) == policy
    assert policy.fields["zip"].action.value == "generalize"
    assert inline_policy_text("file:///etc/policy.yaml") is None
    with pytest.raises(InvalidInput, match="base64"):
        inline_policy_text(INLINE_PREFIX + "not base64!")
    with pytest.raises(InvalidInput, match="at most"):
        inline_policy_uri("fields: {}\n#" + "x" * MAX_INLINE_POLICY)
    # the source openers that fetch models and datasets refuse it: no dataset inline
    with pytest.raises(InvalidInput, match="data"):
        b"".join(open_source(uri))
