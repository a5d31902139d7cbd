"""Check a release spec against its model and dataset before any workflow starts.

The same functions the evaluate stage uses (signature, output choice, input
binding) run here on the local files, so a spec that names a missing
column, a model without a usable output or a feature the policy removes is
refused at ``medpipe release`` with the field and the reason, rather than
minutes later in the evaluate stage.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime as ort
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from medpipe.activities.model_inputs import bind_inputs, text_columns
from medpipe.activities.model_io import ModelSignature, choose_output, read_signature
from medpipe.contracts.errors import DatasetMismatch, InvalidInput, InvalidModel
from medpipe.contracts.evaluate import EvaluationSpec, OutputChoice, Task
from medpipe.contracts.pseudonymize import Action, Policy


def model_signature(path: Path) -> ModelSignature:
    """The signature of the ONNX model at ``path`` (CPU session)."""
    try:
        proto = onnx.load(str(path))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # onnx/onnxruntime raise private exception types
        raise InvalidModel(f"model {path.name} is not a loadable ONNX model: "
                           f"{type(e).__name__}") from e
    return read_signature(session, proto, f"model {path.name}")


def dataset_schema(path: Path, text: set[str] | None = None) -> pa.Schema:
    """The schema of a local CSV (inferred from its first block) or Parquet file."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pq.read_schema(path)
        except (pa.ArrowInvalid, OSError):
            raise InvalidInput(f"dataset {path.name} is not readable Parquet") from None
    try:
        reader = pacsv.open_csv(path, convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(text or (), pa.string())))
    except pa.ArrowInvalid:
        raise InvalidInput(f"dataset {path.name} is not readable CSV") from None
    schema = reader.schema
    reader.close()
    return schema


def check_policy(spec: EvaluationSpec, columns: tuple[str, ...], policy: Policy,
                 source: str) -> None:
    """Refuse features the policy drops, tokenizes, shifts or scrubs (no longer usable).

    Kept and generalized columns (a ZIP3, a top-coded age) stay usable features.
    """
    bad = [(c, policy.fields[c].action) for c in columns
           if c in policy.fields and policy.fields[c].action not in (Action.KEEP,
                                                                     Action.GENERALIZE)]
    if bad:
        listed = ", ".join(f"'{c}' ({a.value})" for c, a in bad)
        raise InvalidInput(f"{source}: the model reads {listed}, which the pseudonymization "
                           "policy removes or rewrites; keep or generalize them, or drop them "
                           "from the spec's features")


def check_spec(model: Path, data: Path | None, spec: EvaluationSpec, label: str,
               policy: Policy | None = None) -> tuple[OutputChoice, tuple[str, ...]]:
    """The output and the feature columns the release will use; refuse what cannot work.

    Raises:
        InvalidModel / DatasetMismatch / InvalidInput: named model, column or field and why.
    """
    sig = model_signature(model)
    choice = choose_output(sig, spec.task, spec.score_output)
    if data is None:
        return choice, ()
    schema = dataset_schema(data, text_columns(sig, spec))
    if label not in schema.names:
        raise DatasetMismatch(f"dataset {data.name} has no label column '{label}' (label); "
                              f"its columns: {', '.join(schema.names)[:400]}")
    label_type = schema.field(label).type
    if spec.task is Task.REGRESSION and not (pa.types.is_integer(label_type)
                                             or pa.types.is_floating(label_type)):
        raise DatasetMismatch(f"regression label column '{label}' is not numeric "
                              f"({label_type}) in {data.name}; a regression task needs numbers")
    columns = tuple(c for b in bind_inputs(sig, spec, schema, label) for c in b.columns)
    if policy is not None:
        check_policy(spec, columns, policy, "release spec")
        if label in policy.fields and policy.fields[label].action is not Action.KEEP:
            raise InvalidInput(f"release spec: the label column '{label}' is "
                               f"{policy.fields[label].action.value} in the policy; keep it")
    return choice, columns
