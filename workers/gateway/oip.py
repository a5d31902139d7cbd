"""Open Inference Protocol (KServe v2) REST codec: JSON tensors <-> numpy arrays.

Pure functions with no I/O, so every rule a client can break is checked here and
reported as ``InvalidInput`` with a message naming the input and what the model
expects (never the values: requests may carry patient features).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from medpipe.contracts.deploy import TensorInfo
from medpipe.contracts.errors import InvalidInput

#: OIP datatype -> numpy dtype (BYTES is not supported by this gateway).
OIP_TO_NUMPY: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}
NUMPY_TO_OIP: dict[np.dtype[Any], str] = {v: k for k, v in OIP_TO_NUMPY.items()}

#: onnxruntime type string -> OIP datatype.
ONNX_TO_OIP: dict[str, str] = {
    "tensor(bool)": "BOOL",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(int8)": "INT8",
    "tensor(int16)": "INT16",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(float16)": "FP16",
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(string)": "BYTES",
}


@dataclass(frozen=True)
class InputSpec:
    """What one model input accepts; ``None`` dimensions are dynamic."""

    name: str
    datatype: str
    dtype: np.dtype[Any] | None
    shape: tuple[int | None, ...]

    def info(self) -> TensorInfo:
        """Metadata form (dynamic dimensions as -1, as OIP clients expect)."""
        return TensorInfo(name=self.name, datatype=self.datatype,
                          shape=[-1 if d is None else d for d in self.shape])


@dataclass(frozen=True)
class DecodedRequest:
    """A validated inference request."""

    request_id: str | None
    feeds: dict[str, np.ndarray]
    output_names: list[str] | None
    elements: int


def onnx_dims(shape: list[Any]) -> tuple[int | None, ...]:
    """onnxruntime reports dynamic dims as strings or None; normalise them to None."""
    return tuple(d if isinstance(d, int) and d >= 0 else None for d in shape)


def parse_json(body: bytes) -> Any:
    """Decode a request body, refusing anything that is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidInput(f"request body is not valid JSON ({type(e).__name__} at "
                           f"position {getattr(e, 'pos', '?')})") from None


def _shape(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value):
        raise InvalidInput(f"input '{name}': 'shape' must be a list of non-negative integers")
    return tuple(value)


def _check_shape(spec: InputSpec, shape: tuple[int, ...]) -> None:
    if len(shape) != len(spec.shape) or any(
            want is not None and want != got for want, got in zip(spec.shape, shape, strict=False)):
        expected = [-1 if d is None else d for d in spec.shape]
        raise InvalidInput(f"input '{spec.name}' has shape {list(shape)}, model expects "
                           f"{expected} (-1: any size)")


def _tensor(spec: InputSpec, item: dict[str, Any]) -> np.ndarray:
    shape = _shape(item.get("shape"), spec.name)
    datatype = item.get("datatype")
    if datatype != spec.datatype:
        raise InvalidInput(f"input '{spec.name}' has datatype {datatype!r}, model expects "
                           f"{spec.datatype}")
    if spec.dtype is None:
        raise InvalidInput(f"input '{spec.name}': datatype {spec.datatype} is not supported "
                           "by this gateway")
    _check_shape(spec, shape)
    data = item.get("data")
    if not isinstance(data, list):
        raise InvalidInput(f"input '{spec.name}': 'data' must be a JSON array")
    try:
        array = np.asarray(data, dtype=spec.dtype)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput(f"input '{spec.name}': 'data' holds values that are not "
                           f"{spec.datatype}") from None
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidInput(f"input '{spec.name}': 'data' holds null or non-finite values")
    if array.size != math.prod(shape):
        raise InvalidInput(f"input '{spec.name}': 'data' has {array.size} elements, shape "
                           f"{list(shape)} needs {math.prod(shape)}")
    return array.reshape(shape)


def decode_request(payload: Any, inputs: dict[str, InputSpec],
                   outputs: list[str]) -> DecodedRequest:
    """Validate an OIP inference request against a model's signature.

    Raises:
        InvalidInput: wrong structure, unknown/missing/duplicate input, wrong datatype,
            shape or element count, or an unknown requested output.
    """
    if not isinstance(payload, dict):
        raise InvalidInput("request body must be a JSON object with an 'inputs' array")
    items = payload.get("inputs")
    if not isinstance(items, list) or not items:
        raise InvalidInput("request needs a non-empty 'inputs' array")
    feeds: dict[str, np.ndarray] = {}
    elements = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInput("each input must be an object with a string 'name'")
        name = item["name"]
        spec = inputs.get(name)
        if spec is None:
            raise InvalidInput(f"model has no input '{name[:100]}' (inputs: "
                               f"{', '.join(sorted(inputs))})")
        if name in feeds:
            raise InvalidInput(f"input '{name}' is given twice")
        feeds[name] = _tensor(spec, item)
        elements += feeds[name].size
    missing = sorted(set(inputs) - set(feeds))
    if missing:
        raise InvalidInput(f"request lacks input(s) {', '.join(missing)}")
    output_names = _requested_outputs(payload.get("outputs"), outputs)
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput("'id' must be a string")
    return DecodedRequest(request_id, feeds, output_names, elements)


def _requested_outputs(value: Any, outputs: list[str]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in value):
        raise InvalidInput("'outputs' must be an array of objects with a string 'name'")
    names = [o["name"] for o in value]
    unknown = [n for n in names if n not in outputs]
    if unknown:
        raise InvalidInput(f"model has no output '{unknown[0][:100]}' (outputs: "
                           f"{', '.join(outputs)})")
    return names or None


def encode_output(name: str, array: np.ndarray) -> dict[str, Any]:
    """One OIP output tensor (row-major flattened data)."""
    array = np.asarray(array)
    datatype = NUMPY_TO_OIP.get(array.dtype, "BYTES")
    data = array.ravel().tolist()
    if datatype == "BYTES":
        data = [v.decode() if isinstance(v, bytes) else str(v) for v in data]
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": data}


def encode_response(model_name: str, version: str, request_id: str | None, slot: str,
                    names: list[str], arrays: list[np.ndarray]) -> bytes:
    """The response body, with the serving slot and version in ``parameters``."""
    body: dict[str, Any] = {"model_name": model_name, "model_version": version}
    if request_id is not None:
        body["id"] = request_id
    body["parameters"] = {"slot": slot, "model_version": version}
    body["outputs"] = [encode_output(n, a) for n, a in zip(names, arrays, strict=True)]
    return json.dumps(body, separators=(",", ":")).encode()


def error_body(message: str) -> bytes:
    """OIP error body ``{"error": "..."}``."""
    return json.dumps({"error": message}).encode()


def first_scores(array: np.ndarray) -> np.ndarray | None:
    """Per-row score from the first output, for the prediction distribution.

    Column 1 of a two-column output (binary class probabilities), else column 0;
    ``None`` for non-numeric outputs.
    """
    a = np.asarray(array)
    if a.dtype.kind not in "fiub" or a.size == 0:
        return None
    if a.ndim >= 2:
        a = a.reshape(a.shape[0], -1)
        a = a[:, 1] if a.shape[1] == 2 else a[:, 0]
    return a.ravel().astype(np.float64, copy=False)
