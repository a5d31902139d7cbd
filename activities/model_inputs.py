"""Feed a model from dataset columns: which columns go to which input, converted how.

A model with one 2-D input reads the spec's ``features`` (or its own
``medpipe.features`` metadata); a model with several inputs (a skl2onnx
``ColumnTransformer`` pipeline, a network exported with named inputs) reads,
for each input, the columns the spec lists for it or the column of its own
name. Generalized columns stay usable: a ZIP3 ("021") or a top-coded age
("90+") is read as a number when the input wants numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.model_io import ModelSignature, TensorInfo
from medpipe.contracts.errors import DatasetMismatch, InvalidModel
from medpipe.contracts.evaluate import EvaluationSpec

_DTYPES: dict[str, type] = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_,
    "tensor(string)": np.str_,
}
#: Columns that never feed a model by default.
NOT_FEATURES = ("split",)


@dataclass(frozen=True)
class InputBinding:
    """The dataset columns feeding one model input, and the tensor they become."""

    input: TensorInfo
    columns: tuple[str, ...]

    @property
    def dtype(self) -> type:
        return _DTYPES[self.input.onnx_type]

    @property
    def is_text(self) -> bool:
        return self.input.onnx_type == "tensor(string)"


def text_columns(sig: ModelSignature, spec: EvaluationSpec) -> set[str]:
    """Columns that feed string inputs (read as text, so "021" keeps its leading zero)."""
    return {c for i in sig.inputs if i.onnx_type == "tensor(string)"
            for c in spec.inputs.get(i.name, (i.name,))}


def _check_types(sig: ModelSignature) -> None:
    for i in sig.inputs:
        if i.onnx_type not in _DTYPES:
            raise InvalidModel(f"{sig.name} input '{i.name}' is {i.onnx_type}; medpipe feeds "
                               "tensors of numbers, booleans or strings")
        if len(i.shape) not in (1, 2):
            raise InvalidModel(f"{sig.name} input {i.describe()}: expected [batch] or "
                               "[batch, columns]")


def bind_inputs(sig: ModelSignature, spec: EvaluationSpec, schema: pa.Schema,
                label: str) -> list[InputBinding]:
    """Which columns feed each input of ``sig``.

    Raises:
        DatasetMismatch: a column is missing, or the count does not fit the input.
        InvalidModel: the spec names inputs the model does not have.
    """
    _check_types(sig)
    names = list(schema.names)
    unknown = sorted(set(spec.inputs) - {i.name for i in sig.inputs})
    if unknown:
        raise InvalidModel(f"{sig.name} has no input {', '.join(map(repr, unknown))} (spec "
                           f"inputs); its inputs: {', '.join(i.name for i in sig.inputs)}")
    bindings: list[InputBinding] = []
    for inp in sig.inputs:
        if len(sig.inputs) == 1 and not spec.inputs:
            cols = _single_input_columns(sig, spec, inp, schema, label)
        else:
            cols = spec.inputs.get(inp.name, (inp.name,))
        missing = [c for c in cols if c not in names]
        if missing:
            raise DatasetMismatch(
                f"dataset lacks column {', '.join(map(repr, missing))} that {sig.name} input "
                f"'{inp.name}' reads; the dataset has: {', '.join(names)[:400]}")
        width = inp.width if len(inp.shape) == 2 else 1
        if width is not None and width != len(cols):
            raise DatasetMismatch(f"{sig.name} input {inp.describe()} takes {width} "
                                  f"column(s) but is given {len(cols)}: {', '.join(cols)}")
        if label in cols:
            raise DatasetMismatch(f"the label column '{label}' is also a feature of "
                                  f"{sig.name} input '{inp.name}'")
        bindings.append(InputBinding(inp, tuple(cols)))
    return bindings


def _single_input_columns(sig: ModelSignature, spec: EvaluationSpec, inp: TensorInfo,
                          schema: pa.Schema, label: str) -> tuple[str, ...]:
    if spec.features:
        return spec.features
    if sig.features is not None:
        return sig.features
    if inp.name in schema.names and inp.width in (None, 1):
        return (inp.name,)
    numeric = tuple(f.name for f in schema if f.name != label and f.name not in NOT_FEATURES
                    and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)))
    if inp.width is not None and len(numeric) != inp.width:
        raise DatasetMismatch(
            f"{sig.name} expects {inp.width} features but the dataset has {len(numeric)} "
            "numeric columns and neither the model nor the spec names them: list the "
            "model's columns in the spec's features (medpipe spec init drafts them)")
    return numeric


def _numbers(col: pa.Array, column: str, binding: InputBinding) -> np.ndarray:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = pc.replace_substring_regex(pc.utf8_trim_whitespace(col), r"\+$", "")
        try:
            col = pc.cast(text, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DatasetMismatch(
                f"column '{column}' holds text; input '{binding.input.name}' expects "
                f"{binding.input.onnx_type} (numbers, or generalized values such as a ZIP3 "
                "or a top-coded age)") from None
    elif not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
              or pa.types.is_boolean(col.type)):
        raise DatasetMismatch(f"column '{column}' is {col.type}; input "
                              f"'{binding.input.name}' expects {binding.input.onnx_type}")
    if col.null_count and not np.issubdtype(binding.dtype, np.floating):
        raise DatasetMismatch(f"column '{column}' has empty values; input "
                              f"'{binding.input.name}' ({binding.input.onnx_type}) cannot "
                              "represent them")
    return col.to_numpy(zero_copy_only=False).astype(binding.dtype, copy=False)


def _text(col: pa.Array) -> np.ndarray:
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string())
    return np.asarray(pc.fill_null(col, "").to_numpy(zero_copy_only=False), dtype=object)


def feeds(bindings: list[InputBinding], batch: pa.RecordBatch) -> dict[str, np.ndarray]:
    """The onnxruntime feed dict of one batch."""
    out: dict[str, np.ndarray] = {}
    for b in bindings:
        arrays = [_text(batch.column(c)) if b.is_text else _numbers(batch.column(c), c, b)
                  for c in b.columns]
        if len(b.input.shape) == 1:
            out[b.input.name] = arrays[0]
        else:
            out[b.input.name] = np.column_stack(arrays) if len(arrays) > 1 else \
                arrays[0].reshape(-1, 1)
    return out
