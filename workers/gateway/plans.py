"""Decoded binary-tensor requests, remembered by their JSON header.

A request in the binary tensor data extension carries its values after the JSON
header; the header itself (input names, datatypes, shapes, byte sizes, outputs,
parameters) is the same text request after request from one caller. Decoding it
is a pure function of those bytes, the model's signature and the JSON limits, so
the gateway decodes a header once (``decode_request``, every rule and message as
always) and keeps the result as a ``Plan``; a later request with the same header
bytes for the same signature only cuts its binary part into tensors
(``from_binary``: the size, finiteness and BOOL checks run on every request's own
values). Only headers that decoded cleanly and whose inputs are all binary are
kept; anything else, and a binary part of another length, is decoded in full, so
every refusal is the full decoder's, word for word. The store is bounded: once
``MAX_PLANS`` headers are kept, others are decoded in full every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from medpipe.workers.gateway.oip import DecodedRequest, decode_request
from medpipe.workers.gateway.tensors import InputSpec, from_binary

#: Most headers kept per endpoint (a caller sends one or a few).
MAX_PLANS = 64
#: Longest JSON header kept (a one-model request's header is a few hundred bytes).
MAX_HEADER_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Plan:
    """A decoded header: its binary inputs in order and what the request asked."""

    inputs: tuple[tuple[str, InputSpec, tuple[int, ...], int], ...]
    size: int
    template: DecodedRequest

    def decode(self, binary: memoryview) -> DecodedRequest:
        """This request's tensors cut from its binary part (``size`` bytes long)."""
        feeds: dict[str, np.ndarray] = {}
        offset = 0
        for name, spec, shape, nbytes in self.inputs:
            feeds[name] = from_binary(spec, shape, binary[offset:offset + nbytes])
            offset += nbytes
        t = self.template
        return DecodedRequest(t.request_id, feeds, t.output_names, t.binary_outputs,
                              t.elements, t.timeout_s)


class Plans:
    """The plans of one endpoint, by header bytes and the signature they were made for."""

    def __init__(self) -> None:
        self._kept: dict[tuple[bytes, int, int], tuple[Any, Any, Plan]] = {}

    def decode(self, header: bytes, binary: memoryview | None, inputs: dict[str, InputSpec],
               outputs: list[str], parse: Callable[[bytes], Any]) -> DecodedRequest:
        """Decode a request as ``decode_request(parse(header), binary, inputs, outputs)``
        does (same result, same errors), from a kept plan when there is one.

        Raises:
            InvalidInput: as ``parse`` and ``decode_request``.
        """
        if binary is None or len(header) > MAX_HEADER_BYTES:
            return decode_request(parse(header), binary, inputs, outputs)
        key = (header, id(inputs), id(outputs))
        kept = self._kept.get(key)
        # identity, not just the ids: a kept signature stays alive, so its id is never reused
        if kept is not None and kept[0] is inputs and kept[1] is outputs \
                and kept[2].size == len(binary):
            return kept[2].decode(binary)
        req = decode_request(parse(header), binary, inputs, outputs)
        if kept is None and len(self._kept) < MAX_PLANS:
            plan = _plan(parse(header), req, inputs)
            if plan is not None:
                self._kept[key] = (inputs, outputs, plan)
        return req


def _plan(payload: Any, req: DecodedRequest, inputs: dict[str, InputSpec]) -> Plan | None:
    """The plan of a header that decoded into ``req``, when every input is binary."""
    steps: list[tuple[str, InputSpec, tuple[int, ...], int]] = []
    size = 0
    for item in payload["inputs"]:  # decode_request accepted it: the structure holds
        params = item.get("parameters") or {}
        nbytes = params.get("binary_data_size")
        if nbytes is None:
            return None  # values in the JSON: they differ from request to request
        name = item["name"]
        steps.append((name, inputs[name], tuple(item["shape"]), nbytes))
        size += nbytes
    template = DecodedRequest(req.request_id, {}, req.output_names, req.binary_outputs,
                              req.elements, req.timeout_s)
    return Plan(tuple(steps), size, template)
