"""Real ONNX models that are bad canaries in one way each, built from the sample model.

Each keeps the sample model's predictions (so only the intended metric moves)
and passes the release's evaluation (one large batch), but misbehaves on the
single-row requests the gateway serves:

* ``failing_model``: a run fails for rows whose BMI has an odd tenths digit (about
  half of them, so even a short bake sees failures): a data-dependent Reshape the
  runtime rejects, as a broken export might.
* ``slow_model``: every run multiplies two N×N matrices it builds from the
  input (so nothing can be constant-folded away) and adds zero times the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from medpipe.workers.sample import FEATURES

_INPUT = "features"


def _const(name: str, value: object, dtype: type = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _rewire(model: onnx.ModelProto, new_input: str) -> None:
    """Make every node that read the graph input read ``new_input`` instead."""
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name == _INPUT:
                node.input[i] = new_input


def _save(model: onnx.ModelProto, out: Path) -> Path:
    onnx.checker.check_model(model)
    onnx.save(model, out)
    return out


def failing_model(base: Path, out: Path) -> Path:
    """``base`` with a check that fails single-row runs when BMI's tenths digit is odd."""
    model = onnx.load(base)
    bmi = FEATURES.index("bmi")
    width = len(FEATURES)
    model.graph.initializer.extend([
        _const("f_bmi_index", bmi, np.int64), _const("f_ten", 10.0), _const("f_two", 2.0),
        _const("f_odd", 1.0),
        _const("f_zero_index", 0, np.int64), _const("f_one", 1, np.int64),
        _const("f_width", [width], np.int64), _const("f_any_rows", [-1], np.int64)])
    nodes = [
        helper.make_node("Gather", [_INPUT, "f_bmi_index"], ["f_bmi"], axis=1),
        helper.make_node("Mul", ["f_bmi", "f_ten"], ["f_bmi10"]),
        helper.make_node("Round", ["f_bmi10"], ["f_bmi10r"]),
        helper.make_node("Mod", ["f_bmi10r", "f_two"], ["f_parity"], fmod=1),
        helper.make_node("Equal", ["f_parity", "f_odd"], ["f_unlucky"]),
        helper.make_node("Shape", [_INPUT], ["f_shape"]),
        helper.make_node("Gather", ["f_shape", "f_zero_index"], ["f_rows"], axis=0),
        helper.make_node("Equal", ["f_rows", "f_one"], ["f_single"]),
        helper.make_node("And", ["f_unlucky", "f_single"], ["f_fail_rows"]),
        helper.make_node("Cast", ["f_fail_rows"], ["f_fail_int"], to=onnx.TensorProto.INT64),
        helper.make_node("ReduceMax", ["f_fail_int"], ["f_fail"], keepdims=1),
        helper.make_node("Add", ["f_width", "f_fail"], ["f_cols"]),
        helper.make_node("Concat", ["f_any_rows", "f_cols"], ["f_target"], axis=0),
        # width + 1 columns cannot hold `width` values: the runtime refuses the run
        helper.make_node("Reshape", [_INPUT, "f_target"], ["f_checked"]),
    ]
    _rewire(model, "f_checked")
    for i, node in enumerate(nodes):
        model.graph.node.insert(i, node)
    return _save(model, out)


def slow_model(base: Path, out: Path, size: int = 768, products: int = 3) -> Path:
    """``base`` plus ``products`` dense size×size products per run, contributing 0."""
    model = onnx.load(base)
    model.graph.initializer.extend([
        _const("s_zero", 0.0), _const("s_small", 1e-3),
        _const("s_square", [size, size], np.int64)])
    nodes = [
        helper.make_node("ReduceSum", [_INPUT], ["s_sum"], keepdims=0),
        helper.make_node("Mul", ["s_sum", "s_zero"], ["s_nothing"]),
        helper.make_node("Add", ["s_nothing", "s_small"], ["s_fill"]),
        helper.make_node("Expand", ["s_fill", "s_square"], ["s_m0"]),
    ]
    for k in range(products):
        nodes.append(helper.make_node("MatMul", [f"s_m{k}", "s_m0"], [f"s_m{k + 1}"]))
    nodes += [
        helper.make_node("ReduceSum", [f"s_m{products}"], ["s_total"], keepdims=0),
        helper.make_node("Mul", ["s_total", "s_zero"], ["s_extra"]),
    ]
    logit = next(n for n in model.graph.node if "logit" in n.output)
    logit.output[0] = "s_logit0"
    nodes.append(helper.make_node("Add", ["s_logit0", "s_extra"], ["logit"]))
    model.graph.node.extend(nodes)
    graph = helper.make_graph(
        _toposort(list(model.graph.node)), model.graph.name, list(model.graph.input),
        list(model.graph.output), list(model.graph.initializer))
    model.graph.CopyFrom(graph)
    return _save(model, out)


def _toposort(nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    produced = {o for n in nodes for o in n.output}
    done: set[str] = set()
    ordered: list[onnx.NodeProto] = []
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if all(i in done or i not in produced for i in n.input)]
        if not ready:
            raise ValueError("graph has a cycle")
        for n in ready:
            ordered.append(n)
            done.update(n.output)
            pending.remove(n)
    return ordered
