"""An ONNX model's signature, read by type and name: which inputs, which outputs, which classes.

Converters write classifiers differently: skl2onnx and onnxmltools put the
predicted label first and the probabilities second (a ZipMap sequence of maps
unless ZipMap is turned off), XGBoost gives a probability tensor, networks
give one score tensor. The evaluate stage must read the output that holds
probabilities or values for the declared task, never a label, so outputs are
recognised here by ONNX type and shape first and by name second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import onnx

from medpipe.contracts.errors import InvalidModel
from medpipe.contracts.evaluate import OutputChoice, OutputKind, Task

_FLOATS = ("tensor(float)", "tensor(double)", "tensor(float16)")
_CLASS_ATTRS = ("classlabels_strings", "classlabels_ints", "classlabels_int64s")
_CLASS_OPS = ("ZipMap", "LinearClassifier", "TreeEnsembleClassifier", "SVMClassifier",
              "TreeEnsemble")


@dataclass(frozen=True)
class TensorInfo:
    """One graph input or output as onnxruntime describes it."""

    name: str
    onnx_type: str
    shape: tuple[int | str | None, ...]

    @property
    def width(self) -> int | None:
        """Second dimension when fixed (None: symbolic, or a 1-D tensor)."""
        if len(self.shape) == 2 and isinstance(self.shape[1], int):
            return self.shape[1]
        return None

    def kind(self) -> OutputKind:
        """What this output holds, by type and shape (names only break ties)."""
        if self.onnx_type.startswith("seq(map("):
            return OutputKind.ZIPMAP
        if self.onnx_type in _FLOATS:
            if len(self.shape) <= 1 or self.width == 1:
                return OutputKind.SCORE
            if self.width is not None or "prob" in self.name.lower():
                return OutputKind.PROBABILITIES
            return OutputKind.SCORE
        return OutputKind.LABEL

    def describe(self) -> str:
        """``name (type, shape)`` for messages."""
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name} ({self.onnx_type} [{dims}])"


@dataclass(frozen=True)
class ModelSignature:
    """Inputs, outputs, class labels and declared features of one model."""

    name: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    classes: tuple[str, ...] | None
    features: tuple[str, ...] | None


def _info(arg: Any) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) else (d or None) for d in (arg.shape or ()))
    return TensorInfo(name=str(arg.name), onnx_type=str(arg.type), shape=shape)


def graph_classes(model: onnx.ModelProto) -> tuple[str, ...] | None:
    """Class labels the graph names (ZipMap or classifier node), as strings, in output order."""
    found: tuple[str, ...] | None = None
    for node in model.graph.node:
        if node.op_type not in _CLASS_OPS:
            continue
        for attr in node.attribute:
            if attr.name not in _CLASS_ATTRS:
                continue
            values = [s.decode() for s in attr.strings] if attr.strings else \
                [str(i) for i in attr.ints]
            if values:
                if node.op_type == "ZipMap":
                    return tuple(values)
                found = found or tuple(values)
    return found


def read_signature(session: object, model: onnx.ModelProto, name: str) -> ModelSignature:
    """The signature of an opened model (``session`` is an onnxruntime session)."""
    inputs = tuple(_info(a) for a in session.get_inputs())  # type: ignore[attr-defined]
    outputs = tuple(_info(a) for a in session.get_outputs())  # type: ignore[attr-defined]
    meta = {p.key: p.value for p in model.metadata_props}
    features = None
    if "medpipe.features" in meta:
        try:
            features = tuple(str(f) for f in json.loads(meta["medpipe.features"]))
        except ValueError as e:
            raise InvalidModel(f"{name} has malformed medpipe.features metadata") from e
    return ModelSignature(name=name, inputs=inputs, outputs=outputs,
                          classes=graph_classes(model), features=features)


_USABLE = {
    Task.BINARY: (OutputKind.ZIPMAP, OutputKind.PROBABILITIES, OutputKind.SCORE),
    Task.MULTICLASS: (OutputKind.ZIPMAP, OutputKind.PROBABILITIES),
    Task.REGRESSION: (OutputKind.SCORE,),
}
_EXPECTED = {
    Task.BINARY: "class probabilities (a [batch, 2] float tensor or a ZipMap) or a "
                 "[batch, 1] score",
    Task.MULTICLASS: "class probabilities (a [batch, classes] float tensor or a ZipMap)",
    Task.REGRESSION: "a [batch] or [batch, 1] float tensor of predicted values",
}


def _rank(out: TensorInfo) -> tuple[int, int]:
    named = 0 if any(w in out.name.lower() for w in ("prob", "score", "variable", "output")) \
        else 1
    order = {OutputKind.PROBABILITIES: 0, OutputKind.ZIPMAP: 1, OutputKind.SCORE: 2}
    return named, order.get(out.kind(), 3)


def choose_output(sig: ModelSignature, task: Task, wanted: str | None = None) -> OutputChoice:
    """The output to read for ``task`` (``wanted`` names it explicitly).

    Raises:
        InvalidModel: no output fits the task, names what the model has and what was expected.
    """
    listing = "; ".join(o.describe() for o in sig.outputs)
    if wanted is not None:
        match = [o for o in sig.outputs if o.name == wanted]
        if not match:
            raise InvalidModel(f"{sig.name} has no output '{wanted}' (score_output); its "
                               f"outputs: {listing}")
        candidates = match
    else:
        candidates = list(sig.outputs)
    usable = [o for o in candidates if o.kind() in _USABLE[task]]
    if task is Task.BINARY:
        usable = [o for o in usable if o.width in (None, 1, 2)]
    if not usable:
        what = f"output '{wanted}'" if wanted else "no output"
        raise InvalidModel(f"{sig.name}: {what} usable for a {task.value} task; expected "
                           f"{_EXPECTED[task]}; the model has: {listing}")
    best = sorted(usable, key=_rank)[0]
    kind = best.kind()
    classes = sig.classes or ()
    if not classes and kind is OutputKind.PROBABILITIES and best.width:
        classes = tuple(str(i) for i in range(best.width))
    if task is Task.BINARY and kind is OutputKind.SCORE:
        classes = classes if len(classes) == 2 else ("0", "1")
    if task is Task.REGRESSION:
        classes = ()
    if task is Task.BINARY and len(classes) > 2:
        raise InvalidModel(f"{sig.name} predicts {len(classes)} classes but the task is "
                           "binary; declare task: multiclass")
    skipped = [o.name for o in sig.outputs if o is not best]
    reason = f"{kind.value} output for a {task.value} task" + (
        f" (not {', '.join(skipped)})" if skipped else "")
    return OutputChoice(output=best.name, kind=kind, onnx_type=best.onnx_type,
                        classes=classes, reason=reason)
