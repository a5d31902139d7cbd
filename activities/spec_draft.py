"""Draft a release spec from a model's signature and a dataset's schema (``medpipe spec init``).

Features are chosen by type, not by name: numeric columns the policy keeps
(or generalizes as a number, like a top-coded age) feed a model with one
2-D input; a model with named inputs reads the columns of those names. The
pseudonymization policy comes from ``medpipe policy init``'s drafter, and the
draft says where the spec and the policy disagree, so a person reviews both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import yaml

from medpipe.activities.model_io import OutputKind, choose_output
from medpipe.activities.pseudonymize.draft import draft_policy
from medpipe.activities.pseudonymize.policy import parse_policy
from medpipe.activities.spec_check import check_policy, dataset_schema, model_signature
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.contracts.evaluate import EvaluationSpec, Task
from medpipe.contracts.pseudonymize import Action, GeneralizeKind, Policy

_LABELS = r"^(label|target|outcome|y|class|diagnosis)$"


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _usable(name: str, policy: Policy) -> bool:
    """Not an identifier, a date or a ZIP by the policy (a numeric column it scrubs as
    free text is still drafted: the consistency check below then flags the policy)."""
    rule = policy.fields.get(name)
    if rule is None or rule.action in (Action.KEEP, Action.SCRUB):
        return True
    return rule.action is Action.GENERALIZE and rule.kind is GeneralizeKind.AGE


def _task(kinds: set[OutputKind], classes: int, label_type: pa.DataType | None) -> Task:
    if kinds & {OutputKind.ZIPMAP, OutputKind.PROBABILITIES}:
        return Task.MULTICLASS if classes > 2 else Task.BINARY
    if label_type is not None and pa.types.is_floating(label_type):
        return Task.REGRESSION
    return Task.BINARY


def draft_spec(model: Path, data: Path, label: str | None = None,
               policy_name: str = "policy.yaml") -> tuple[str, str, list[str]]:
    """(spec YAML, policy YAML, things to review) drafted for ``model`` on ``data``."""
    fmt = "parquet" if data.suffix.lower() in (".parquet", ".pq") else "csv"
    policy_text = draft_policy(data, fmt)
    policy = parse_policy(policy_text, source="drafted policy")
    sig = model_signature(model)
    schema = dataset_schema(data)
    review: list[str] = []
    if label is None:
        label = next((n for n in schema.names if re.match(_LABELS, n.lower())), None)
        if label is None:
            raise InvalidInput(f"cannot tell the label column of {data.name}; pass --label")
    if label not in schema.names:
        raise InvalidInput(f"dataset {data.name} has no column '{label}' (--label)")
    kinds = {o.kind() for o in sig.outputs}
    task = _task(kinds, len(sig.classes or ()), schema.field(label).type)
    doc: dict[str, object] = {"model": str(model), "data": str(data), "policy": policy_name,
                              "label": label, "task": task.value}
    if len(sig.inputs) == 1:
        inp = sig.inputs[0]
        features = list(sig.features or [
            f.name for f in schema if f.name not in (label, "split") and _numeric(f.type)
            and _usable(f.name, policy)])
        if inp.width is not None and inp.width != len(features):
            review.append(f"model input '{inp.name}' takes {inp.width} columns; "
                          f"{len(features)} numeric columns drafted: keep the model's, in "
                          "its training order")
        doc["features"] = features
    else:
        missing = [i.name for i in sig.inputs if i.name not in schema.names]
        if missing:
            review.append(f"no column named like model input(s) {', '.join(missing)}: map "
                          "them under inputs: {input: [columns]}")
            doc["inputs"] = {n: ["<column>"] for n in missing}
    try:
        choice = choose_output(sig, task, None)
        if task is Task.BINARY and len(choice.classes) == 2:
            doc["positive_class"] = choice.classes[1]
        doc["score_output"] = choice.output
    except MedpipeError as e:
        review.append(e.message)
    doc["thresholds"] = ({"max_rmse_increase": 0.05} if task is Task.REGRESSION else
                         {"min_auroc": 0.7, "max_auroc_drop": 0.02})
    doc["canary"] = {"steps": [5, 25, 50, 100], "bake_s": 30}
    doc["allow"] = ["US"]
    spec = EvaluationSpec(task=task, features=tuple(doc.get("features", ())))  # type: ignore[arg-type]
    try:
        check_policy(spec, spec.features, policy, "drafted spec")
    except InvalidInput as e:
        review.append(e.message)
    head = "# Draft release spec: review every line (medpipe release --spec this-file).\n"
    notes = "".join(f"# review: {r}\n" for r in review)
    return head + notes + yaml.safe_dump(doc, sort_keys=False), policy_text, review
