"""Binary-tensor request headers decoded once (``plans``) give what the full decoder
gives: the same tensors from each request's own bytes, the same refusals word for word,
no plan across signatures, a bounded store."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from medpipe.contracts.errors import InvalidInput
from medpipe.workers.gateway import plans as plans_module
from medpipe.workers.gateway.limits import Limits, parse_json
from medpipe.workers.gateway.oip import DecodedRequest, decode_request
from medpipe.workers.gateway.plans import Plans
from medpipe.workers.gateway.tensors import InputSpec

LIMITS = Limits()


def _signature() -> tuple[dict[str, InputSpec], list[str]]:
    return ({"features": InputSpec("features", "FP32", np.dtype("<f4"), (None, 4)),
             "flag": InputSpec("flag", "BOOL", np.dtype(np.bool_), (None,))},
            ["probability", "label"])


def _header(rows: int, request_id: str = "r", **extra: Any) -> bytes:
    return json.dumps({"id": request_id, "inputs": [
        {"name": "features", "shape": [rows, 4], "datatype": "FP32",
         "parameters": {"binary_data_size": rows * 16}},
        {"name": "flag", "shape": [rows], "datatype": "BOOL",
         "parameters": {"binary_data_size": rows}}],
        "outputs": [{"name": "label", "parameters": {"binary_data": True}}]} | extra).encode()


def _binary(values: np.ndarray, flags: list[int]) -> memoryview:
    return memoryview(values.astype("<f4").tobytes() + bytes(flags))


def _parse(data: bytes) -> Any:
    return parse_json(data, LIMITS)


def _both(plans: Plans, header: bytes, binary: memoryview,
          signature: tuple[dict[str, InputSpec], list[str]]
          ) -> tuple[DecodedRequest | str, DecodedRequest | str]:
    """(through the plans, through the full decoder): a request, or the refusal's words."""
    out: list[DecodedRequest | str] = []
    for decode in (lambda: plans.decode(header, binary, *signature, _parse),
                   lambda: decode_request(_parse(header), binary, *signature)):
        try:
            out.append(decode())
        except InvalidInput as e:
            out.append(e.message)
    return out[0], out[1]


def _same(a: DecodedRequest | str, b: DecodedRequest | str) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert (a.request_id, a.output_names, a.binary_outputs, a.elements, a.timeout_s) == \
        (b.request_id, b.output_names, b.binary_outputs, b.elements, b.timeout_s)
    assert a.feeds.keys() == b.feeds.keys()
    for name in a.feeds:
        assert a.feeds[name].dtype == b.feeds[name].dtype
        assert np.array_equal(a.feeds[name], b.feeds[name])


def test_each_request_gets_its_own_values_and_refusals_from_a_kept_header() -> None:
    plans, signature = Plans(), _signature()
    header = _header(2)
    rng = np.random.default_rng(0)
    for _ in range(5):  # the first decodes in full and keeps the plan; the others use it
        values = rng.normal(size=(2, 4))
        a, b = _both(plans, header, _binary(values, [0, 1]), signature)
        _same(a, b)
        assert isinstance(a, DecodedRequest) and np.allclose(a.feeds["features"], values)
    assert len(plans._kept) == 1
    bad = [(_binary(np.array([[np.nan, 0, 0, 0], [0, 0, 0, 0]]), [0, 1]), "non-finite"),
           (_binary(np.zeros((2, 4)), [0, 2]), "BOOL bytes must be 0 or 1"),
           (memoryview(_binary(np.zeros((2, 4)), [0, 1]).tobytes() + b"x"), "not claimed"),
           (memoryview(_binary(np.zeros((2, 4)), [0, 1]).tobytes()[:-1]), "runs past")]
    for binary, words in bad:
        a, b = _both(plans, header, binary, signature)
        _same(a, b)
        assert isinstance(a, str) and words in a


def test_a_header_the_full_decoder_refuses_is_refused_each_time_and_never_kept() -> None:
    plans, signature = Plans(), _signature()
    header = _header(1, outputs=[{"name": "nope"}])
    for _ in range(3):
        a, b = _both(plans, header, _binary(np.zeros((1, 4)), [1]), signature)
        _same(a, b)
        assert isinstance(a, str) and "has no output 'nope'" in a
    assert not plans._kept


def test_values_in_the_json_are_never_planned() -> None:
    plans, signature = Plans(), _signature()
    header = json.dumps({"inputs": [
        {"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]},
        {"name": "flag", "shape": [1], "datatype": "BOOL",
         "parameters": {"binary_data_size": 1}}]}).encode()
    a, b = _both(plans, header, memoryview(b"\x01"), signature)
    _same(a, b)
    assert not plans._kept


def test_a_plan_is_kept_per_signature() -> None:
    plans = Plans()
    stable, other = _signature(), _signature()
    narrow = ({"features": InputSpec("features", "FP32", np.dtype("<f4"), (None, 3)),
               "flag": other[0]["flag"]}, other[1])
    header = _header(1)
    binary = _binary(np.ones((1, 4)), [1])
    _same(*_both(plans, header, binary, stable))
    a, b = _both(plans, header, binary, narrow)  # same bytes, a model reading 3 features
    _same(a, b)
    assert isinstance(a, str) and "model expects [-1, 3]" in a


def test_the_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plans_module, "MAX_PLANS", 3)
    plans, signature = Plans(), _signature()
    for i in range(6):
        header = _header(1, request_id=f"r{i}")
        _same(*_both(plans, header, _binary(np.ones((1, 4)), [1]), signature))
        _same(*_both(plans, header, _binary(np.ones((1, 4)), [1]), signature))
    assert len(plans._kept) == 3
