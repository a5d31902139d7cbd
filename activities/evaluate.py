"""Evaluate: score held-out rows with the candidate model in onnxruntime.

Runs on a GPU queue when one answers (CUDA execution provider) and on CPU
otherwise; the result names the provider actually used. A GPU-placed step on
a host without a usable CUDA provider raises ``AcceleratorUnavailable`` so
the workflow moves it (and records the degradation) instead of silently
running on the wrong hardware.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.csv as pacsv
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.chunkio import ChunkReader
from medpipe.activities.context import WorkerContext
from medpipe.activities.metrics import accuracy, auroc, expected_calibration_error
from medpipe.activities.progress import heartbeat, keeps_alive
from medpipe.activities.sealed import open_plain
from medpipe.contracts.errors import (
    AcceleratorUnavailable,
    DatasetMismatch,
    InvalidInput,
    InvalidModel,
)
from medpipe.contracts.evaluate import EvaluateInput, EvaluateResult, ModelMetrics
from medpipe.contracts.release import ActivityName

#: Values of a ``split`` column that mark held-out rows.
HOLDOUT_SPLITS = ("test", "holdout", "validation")
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def choose_providers(require_accelerator: bool, profile_has_gpu: bool) -> list[str]:
    """Execution providers to pass to onnxruntime (always explicit).

    Raises:
        AcceleratorUnavailable: a GPU was required but CUDA is not usable here.
    """
    available = ort.get_available_providers()
    if require_accelerator and CUDA not in available:
        raise AcceleratorUnavailable(
            "step placed on a GPU queue but onnxruntime has no CUDA execution provider "
            f"on this host (available: {', '.join(available)})")
    if (require_accelerator or profile_has_gpu) and CUDA in available:
        return [CUDA, CPU]
    return [CPU]


@dataclass
class LoadedModel:
    """An onnxruntime session plus what it expects."""

    session: ort.InferenceSession
    input_name: str
    features: list[str] | None
    n_features: int | None
    provider: str


def load_model(data: bytes, providers: list[str], name: str) -> LoadedModel:
    """Open an ONNX model; refuse anything that is not one with a clear message."""
    try:
        session = ort.InferenceSession(data, providers=providers)
    except Exception as e:  # onnxruntime raises several private exception types
        raise InvalidModel(f"{name} is not a loadable ONNX model: "
                           f"{type(e).__name__}: {str(e)[:200]}") from e
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise InvalidModel(f"{name} has {len(inputs)} inputs; medpipe evaluates models with "
                           "one 2-D feature tensor")
    shape = inputs[0].shape
    if len(shape) != 2:
        raise InvalidModel(f"{name} input '{inputs[0].name}' has shape {shape}; expected "
                           "[batch, features]")
    meta = session.get_modelmeta().custom_metadata_map
    features = None
    if "medpipe.features" in meta:
        try:
            features = [str(f) for f in json.loads(meta["medpipe.features"])]
        except ValueError as e:
            raise InvalidModel(f"{name} has malformed medpipe.features metadata") from e
    n = shape[1] if isinstance(shape[1], int) else None
    return LoadedModel(session=session, input_name=inputs[0].name, features=features,
                       n_features=n, provider=session.get_providers()[0])


def _feature_columns(model: LoadedModel, schema: pa.Schema, label: str) -> list[str]:
    names = list(schema.names)
    if model.features is not None:
        missing = [f for f in model.features if f not in names]
        if missing:
            raise DatasetMismatch(f"dataset lacks the model's input columns: {', '.join(missing)}")
        return model.features
    numeric = [f.name for f in schema if f.name != label
               and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))]
    if model.n_features is not None and len(numeric) != model.n_features:
        raise DatasetMismatch(f"model expects {model.n_features} features but the dataset has "
                              f"{len(numeric)} numeric columns and the model names none")
    return numeric


def _scores(output: np.ndarray) -> np.ndarray:
    out = np.asarray(output)
    if out.ndim == 2 and out.shape[1] == 2:
        return out[:, 1].astype(np.float64)
    return out.reshape(-1).astype(np.float64)


class EvaluateActivities:
    """Evaluate activities bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.EVALUATE)
    @translate_errors
    @keeps_alive("evaluate")
    def evaluate(self, inp: EvaluateInput) -> EvaluateResult:
        """Score the held-out rows of ``inp.dataset`` with ``inp.model``."""
        providers = choose_providers(inp.require_accelerator, self.ctx.profile.has_gpu)
        model = load_model(b"".join(open_plain(inp.model)), providers, "model")
        metrics = _metrics(*score_dataset(model, open_plain(inp.dataset), inp.label_column))
        baseline_metrics = None
        if inp.baseline is not None:
            baseline = load_model(b"".join(open_plain(inp.baseline)), providers,
                                  "model in service")
            baseline_metrics = _metrics(*score_dataset(baseline, open_plain(inp.dataset),
                                                       inp.label_column))
        accel = "cuda" if model.provider == CUDA else "cpu"
        queue = activity.info().task_queue if activity.in_activity() else ""
        return EvaluateResult(metrics=metrics, execution_provider=model.provider,
                              baseline_metrics=baseline_metrics,
                              ran_on=self.ctx.ran_on(accelerator=accel, task_queue=queue))


def _metrics(labels: np.ndarray, scores: np.ndarray, seconds: float) -> ModelMetrics:
    return ModelMetrics(
        rows=int(labels.size), auroc=auroc(labels, scores), accuracy=accuracy(labels, scores),
        calibration_error=expected_calibration_error(labels, scores),
        latency_ms_per_1k_rows=(seconds * 1000.0 / max(labels.size, 1)) * 1000.0)


def score_dataset(model: LoadedModel, chunks: Iterator[bytes],
                  label: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Stream a CSV dataset in batches through the model.

    Returns:
        (labels, scores, seconds spent in inference) over held-out rows.
    """
    try:
        reader = pacsv.open_csv(io.BufferedReader(ChunkReader(chunks), 1 << 20),
                                read_options=pacsv.ReadOptions(block_size=4 << 20))
    except pa.ArrowInvalid as e:
        raise InvalidInput(f"dataset is not readable CSV: {str(e)[:200]}") from e
    schema = reader.schema
    if label not in schema.names:
        raise DatasetMismatch(f"dataset has no label column '{label}'")
    features = _feature_columns(model, schema, label)
    has_split = "split" in schema.names
    all_labels: list[np.ndarray] = []
    all_scores: list[np.ndarray] = []
    infer_s = 0.0
    rows = 0
    try:
        for batch in reader:
            if has_split:
                split = batch.column("split").to_numpy(zero_copy_only=False)
                mask = np.isin(split, HOLDOUT_SPLITS)
                if not mask.any():
                    continue
                batch = batch.filter(pa.array(mask))
            try:
                x = np.column_stack([
                    batch.column(f).to_numpy(zero_copy_only=False).astype(np.float32)
                    for f in features])
                y = batch.column(label).to_numpy(zero_copy_only=False).astype(np.int64)
            except (ValueError, TypeError, pa.ArrowInvalid) as e:
                raise DatasetMismatch(
                    f"dataset columns {', '.join(features)} / '{label}' are not numeric") from e
            t0 = time.perf_counter()
            try:
                out = model.session.run(None, {model.input_name: x})[0]
            except Exception as e:
                raise DatasetMismatch(f"model refused the dataset's rows: "
                                      f"{type(e).__name__}: {str(e)[:200]}") from e
            infer_s += time.perf_counter() - t0
            all_labels.append(y)
            all_scores.append(_scores(out))
            rows += len(y)
            heartbeat(f"evaluate: {rows} rows")
    except pa.ArrowInvalid as e:
        raise InvalidInput(f"dataset is not readable CSV: {str(e)[:200]}") from e
    if not all_labels:
        raise DatasetMismatch("dataset has no held-out rows (split in "
                              f"{', '.join(HOLDOUT_SPLITS)}) to evaluate on")
    return np.concatenate(all_labels), np.concatenate(all_scores), infer_s
