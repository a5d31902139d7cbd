"""Open Inference Protocol (KServe v2) REST framing: requests and responses.

A request is a JSON object, optionally followed by binary tensor data (the
binary tensor data extension: the ``Inference-Header-Content-Length`` header
says where the JSON ends; each binary input carries
``parameters.binary_data_size`` and the data follow in input order). Outputs
come back as JSON ``data`` or, when the request asks (``binary_data`` on an
output, or ``binary_data_output`` for all), as binary data after the JSON
header. Pure functions: every rule a client can break is an ``InvalidInput``
naming what is wrong (never the values).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from medpipe.contracts.errors import InvalidInput
from medpipe.workers.gateway import fastjson
from medpipe.workers.gateway.tensors import (
    InputSpec,
    check_tensor_header,
    from_binary,
    from_json,
    oip_datatype,
    parse_shape,
    to_binary,
    to_json_data,
)

#: OIP extensions this gateway implements (server metadata lists them).
EXTENSIONS = ("binary_tensor_data", "parameters")
_SCALAR = (bool, int, float, str)
_NO_OUTPUTS: frozenset[str] = frozenset()
#: A request without ``parameters`` (read only, never handed out)
_NO_PARAMETERS: dict[str, Any] = {}


@dataclass(slots=True)
class DecodedRequest:
    """A validated inference request (not to be changed once decoded: not frozen only
    because a frozen dataclass costs a microsecond more to build, once per request).

    Attributes:
        request_id: the client's ``id``, echoed in the response.
        feeds: input name -> array, ready for onnxruntime.
        output_names: requested outputs in order (``None``: all).
        binary_outputs: names of outputs to return as binary tensor data.
        elements: total input elements (decides inline vs thread-pool execution).
        timeout_s: the client's ``parameters.timeout`` (microseconds in OIP), if any.
    """

    request_id: str | None
    feeds: dict[str, np.ndarray]
    output_names: list[str] | None
    binary_outputs: frozenset[str] = _NO_OUTPUTS
    elements: int = 0
    timeout_s: float | None = None


def _parameters(value: Any, where: str, name: str = "") -> dict[str, Any]:
    """``where`` (``request``, ``input``, ``output``) and ``name`` word the error."""
    if value is None:
        return {}
    if isinstance(value, dict):
        for v in value.values():  # a loop, not all(generator): this runs per request
            if not isinstance(v, _SCALAR):
                break
        else:
            return value
    where = f"{where} '{name}'" if name else where
    raise InvalidInput(f"{where} 'parameters' must be an object of booleans, numbers or "
                       "strings")


def _flag(params: dict[str, Any], key: str, where: str) -> bool | None:
    value = params.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"{where} parameter '{key}' must be true or false")
    return value


def decode_request(payload: Any, binary: memoryview | None, inputs: dict[str, InputSpec],
                   outputs: list[str]) -> DecodedRequest:
    """Validate an OIP inference request against a model's signature.

    Args:
        payload: the parsed JSON header.
        binary: the bytes after the JSON header (binary tensor data), if any.
        inputs: the model's inputs by name.
        outputs: the model's output names.

    Raises:
        InvalidInput: wrong structure, unknown/missing/duplicate input, wrong datatype,
            shape or element count, binary sizes that do not add up, unknown output.
    """
    if not isinstance(payload, dict):
        raise InvalidInput("request body must be a JSON object with an 'inputs' array")
    items = payload.get("inputs")
    if not isinstance(items, list) or not items:
        raise InvalidInput("request needs a non-empty 'inputs' array")
    params = payload.get("parameters")
    params = _NO_PARAMETERS if params is None else _parameters(params, "request")
    feeds: dict[str, np.ndarray] = {}
    elements = 0
    offset = 0
    size = len(binary) if binary is not None else 0
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
        shape = parse_shape(item.get("shape"), name)
        check_tensor_header(spec, item.get("datatype"), shape)
        in_params = item.get("parameters")
        nbytes = None if in_params is None else _parameters(
            in_params, "input", name).get("binary_data_size")
        if nbytes is None:
            feeds[name] = from_json(spec, shape, item.get("data"))
        else:
            if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
                raise InvalidInput(f"input '{name}': binary_data_size must be a non-negative "
                                   "integer")
            if "data" in item:
                raise InvalidInput(f"input '{name}' has both 'data' and binary_data_size")
            if binary is None or offset + nbytes > size:
                raise InvalidInput(f"input '{name}': binary_data_size {nbytes} runs past the "
                                   f"{size - offset} bytes of binary data left "
                                   "(Inference-Header-Content-Length wrong?)")
            feeds[name] = from_binary(spec, shape, binary[offset:offset + nbytes])
            offset += nbytes
        elements += feeds[name].size
    if offset != size:
        raise InvalidInput(f"{size - offset} bytes of binary data are not claimed by any "
                           "input's binary_data_size")
    if len(feeds) != len(inputs):  # every feed is a distinct model input: some are missing
        missing = sorted(set(inputs) - set(feeds))
        raise InvalidInput(f"request lacks input(s) {', '.join(missing)}")
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput("'id' must be a string")
    if params is _NO_PARAMETERS:  # the usual request: no flags, no timeout
        wanted = payload.get("outputs")
        if wanted is None:
            return DecodedRequest(request_id, feeds, None, _NO_OUTPUTS, elements, None)
        names, binary_outputs = _requested_outputs(wanted, outputs, False)
        return DecodedRequest(request_id, feeds, names, binary_outputs, elements, None)
    all_binary = bool(_flag(params, "binary_data_output", "request"))
    names, binary_outputs = _requested_outputs(payload.get("outputs"), outputs, all_binary)
    return DecodedRequest(request_id, feeds, names, binary_outputs, elements,
                          _timeout(params))


def _timeout(params: dict[str, Any]) -> float | None:
    value = params.get("timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInput("request parameter 'timeout' must be a positive number of "
                           "microseconds")
    return float(value) / 1e6


def _requested_outputs(value: Any, outputs: list[str],
                       all_binary: bool) -> tuple[list[str] | None, frozenset[str]]:
    if value is None:
        return None, frozenset(outputs) if all_binary else _NO_OUTPUTS
    if not isinstance(value, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in value):
        raise InvalidInput("'outputs' must be an array of objects with a string 'name'")
    names: list[str] = []
    binary: set[str] = set()
    for o in value:
        name = o["name"]
        if name not in outputs:
            raise InvalidInput(f"model has no output '{name[:100]}' (outputs: "
                               f"{', '.join(outputs)})")
        if name in names:
            raise InvalidInput(f"output '{name}' is requested twice")
        params = _parameters(o.get("parameters"), "output", name)
        if "classification" in params:
            raise InvalidInput(f"output '{name}': the classification extension is not "
                               "supported by this gateway")
        flag = _flag(params, "binary_data", f"output '{name}'")
        if flag or (flag is None and all_binary):
            binary.add(name)
        names.append(name)
    return names or None, frozenset(binary if names else (outputs if all_binary else ()))


def encode_response(model_name: str, version: str, request_id: str | None,
                    parameters: dict[str, Any], names: list[str], arrays: list[np.ndarray],
                    binary_outputs: frozenset[str] = frozenset()) -> tuple[bytes, int | None]:
    """The response body and, when any output is binary, the JSON header's length.

    The JSON header is written in pieces (its constant start once per model version,
    each value by orjson), byte for byte what one ``dumps`` of the whole object
    writes; whatever orjson refuses sends the whole object through ``fastjson.dumps``,
    as before.

    Returns:
        ``(body, header_length)``: ``header_length`` goes in the
        ``Inference-Header-Content-Length`` response header (``None``: all JSON).
    """
    blobs: list[bytes] = []
    if fastjson.strict_dumps is not None:
        try:
            header = _header_pieces(model_name, version, request_id, parameters, names,
                                    arrays, binary_outputs, blobs, fastjson.strict_dumps)
        except TypeError:  # orjson.JSONEncodeError: the whole object, json's way if need be
            blobs.clear()
            header = _header_object(model_name, version, request_id, parameters, names,
                                    arrays, binary_outputs, blobs)
    else:
        header = _header_object(model_name, version, request_id, parameters, names, arrays,
                                binary_outputs, blobs)
    if not blobs:
        return header, None
    return b"".join([header, *blobs]), len(header)


@lru_cache(maxsize=64)
def _opening(model_name: str, version: str) -> bytes:
    """``{"model_name":…,"model_version":…`` of a response (the same for every answer of
    one model version)."""
    return b'{"model_name":%s,"model_version":%s' % (fastjson.dumps(model_name),
                                                     fastjson.dumps(version))


def _header_pieces(model_name: str, version: str, request_id: str | None,
                   parameters: dict[str, Any], names: list[str], arrays: list[np.ndarray],
                   binary_outputs: frozenset[str], blobs: list[bytes],
                   dumps: Callable[[Any], bytes]) -> bytes:
    """The JSON header from pieces, keys in ``_header_object``'s order (binary outputs
    appended to ``blobs``). Raises ``TypeError`` when ``dumps`` refuses a value."""
    parts = [_opening(model_name, version)]
    if request_id is not None:
        parts += (b',"id":', dumps(request_id))
    parts += (b',"parameters":', dumps(parameters), b',"outputs":[')
    for i, (name, array) in enumerate(zip(names, arrays, strict=True)):
        array = np.asarray(array)
        opening, datatype = _tensor_opening(name, array.dtype, array.shape)
        if i:
            parts.append(b",")
        parts.append(opening)
        if name in binary_outputs:
            blob = to_binary(array)
            parts.append(b',"parameters":{"binary_data_size":%d}}' % len(blob))
            blobs.append(blob)
        elif datatype == "BYTES":
            parts += (b',"data":', dumps(to_json_data(array)), b"}")
        else:
            parts += (b',"data":', dumps(array.ravel().tolist()), b"}")
    parts.append(b"]}")
    return b"".join(parts)


@lru_cache(maxsize=256)
def _tensor_opening(name: str, dtype: np.dtype[Any], shape: tuple[int, ...]
                    ) -> tuple[bytes, str]:
    """``{"name":…,"datatype":…,"shape":[…]`` of an output tensor, and its datatype (the
    same for every answer of one model with one batch size)."""
    datatype = oip_datatype(np.empty(0, dtype=dtype))
    return b'{"name":%s,"datatype":"%s","shape":%s' % (
        fastjson.dumps(name), datatype.encode(), fastjson.dumps(list(shape))), datatype


def _header_object(model_name: str, version: str, request_id: str | None,
                   parameters: dict[str, Any], names: list[str], arrays: list[np.ndarray],
                   binary_outputs: frozenset[str], blobs: list[bytes]) -> bytes:
    """The JSON header as one object through ``fastjson.dumps`` (binary outputs appended
    to ``blobs``)."""
    body: dict[str, Any] = {"model_name": model_name, "model_version": version}
    if request_id is not None:
        body["id"] = request_id
    body["parameters"] = parameters
    out: list[dict[str, Any]] = []
    for name, array in zip(names, arrays, strict=True):
        array = np.asarray(array)
        tensor: dict[str, Any] = {"name": name, "datatype": oip_datatype(array),
                                  "shape": list(array.shape)}
        if name in binary_outputs:
            blob = to_binary(array)
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            tensor["data"] = to_json_data(array)
        out.append(tensor)
    body["outputs"] = out
    return fastjson.dumps(body)


def error_body(message: str) -> bytes:
    """OIP error body ``{"error": "..."}``."""
    return json.dumps({"error": message}).encode()
