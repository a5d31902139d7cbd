"""Evaluate: score held-out rows with the candidate model in onnxruntime.

The model is read as its converter wrote it: inputs bound to dataset columns
(``model_inputs``), the output for the declared task recognised by type and
name (``model_io``), figures per task (``task_metrics``). The candidate and
the model in service are scored in one pass over the same rows.

Runs on a GPU queue when one answers (CUDA execution provider) and on CPU
otherwise; the result names the provider actually used. A GPU-placed step on
a host without a usable CUDA provider raises ``AcceleratorUnavailable`` so
the workflow moves it (and records the degradation) instead of silently
running on the wrong hardware.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow as pa
import pyarrow.compute as pc
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.datasets import TabularStream, tabular_format
from medpipe.activities.evaluate_pool import InferencePool, Scored, run_rows
from medpipe.activities.model_inputs import InputBinding, bind_inputs, feeds, text_columns
from medpipe.activities.model_io import ModelSignature, choose_output, read_signature
from medpipe.activities.profile import ProfileBuilder, profile_bytes
from medpipe.activities.progress import heartbeat, keeps_alive
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.task_metrics import RegressionScorer, Scorer, scorer_for
from medpipe.contracts.errors import AcceleratorUnavailable, DatasetMismatch, InvalidModel
from medpipe.contracts.evaluate import (
    EvaluateInput,
    EvaluateResult,
    EvaluationSpec,
    ModelMetrics,
    OutputChoice,
    Task,
)
from medpipe.contracts.names import ActivityName

#: Values of a ``split`` column that mark held-out rows.
HOLDOUT_SPLITS = ("test", "holdout", "validation")
_HOLDOUT = pa.array(HOLDOUT_SPLITS, pa.string())
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def choose_providers(require_accelerator: bool, profile_has_gpu: bool) -> list[str]:
    """Execution providers to pass to onnxruntime (always explicit).

    Raises:
        AcceleratorUnavailable: a GPU was required but CUDA is not usable here.
    """
    from medpipe.activities.chaos_flags import accelerator_refused

    if require_accelerator and accelerator_refused():
        raise AcceleratorUnavailable("step placed on a GPU queue but this host's accelerator "
                                     "is taken away by a chaos exercise (GPU loss)")
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
    """An onnxruntime session, its signature and the output read for the task."""

    session: ort.InferenceSession
    signature: ModelSignature
    output: OutputChoice
    provider: str
    name: str
    data: bytes = b""  # the ONNX bytes (for pool children, which open their own session)


def load_model(data: bytes, providers: list[str], name: str,
               spec: EvaluationSpec | None = None, threads: int = 0) -> LoadedModel:
    """Open an ONNX model and choose its output; refuse anything unusable with a clear message.

    ``threads`` caps onnxruntime's intra-op threads (0: its default, one per core).
    """
    spec = spec or EvaluationSpec()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    try:
        proto = onnx.load_model_from_string(data)
        session = ort.InferenceSession(data, options, providers=providers)
    except Exception as e:  # onnx/onnxruntime raise several private exception types
        raise InvalidModel(f"{name} is not a loadable ONNX model: "
                           f"{type(e).__name__}: {str(e)[:200]}") from e
    sig = read_signature(session, proto, name)
    choice = choose_output(sig, spec.task, spec.score_output)
    return LoadedModel(session=session, signature=sig, output=choice,
                       provider=session.get_providers()[0], name=name, data=data)


@dataclass
class _Run:
    """One model being scored: its column bindings, scorer and inference time."""

    model: LoadedModel
    bindings: list[InputBinding]
    scorer: Scorer
    seconds: float = 0.0
    profile: ProfileBuilder | None = None

    def score(self, x: dict[str, np.ndarray], labels: pa.Array) -> None:
        """Score one batch's feeds (this model's inputs, held-out rows) here."""
        t0 = time.perf_counter()
        try:
            out = run_rows(self.model.session, self.model.output.output, x)
        except Exception as e:
            raise DatasetMismatch(f"{self.model.name} refused the dataset's rows: "
                                  f"{type(e).__name__}: {str(e)[:200]}") from e
        self.take(labels, out, time.perf_counter() - t0)

    def take(self, labels: pa.Array, out: np.ndarray, seconds: float) -> None:
        """Count one batch's output (computed here or by a pool child)."""
        self.seconds += seconds
        self.scorer.add(labels, out)
        if self.profile is not None:
            self.profile.add_scores(out)

    def metrics(self) -> ModelMetrics:
        return self.scorer.metrics(self.seconds)


class EvaluateActivities:
    """Evaluate activities bound to one worker context."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    @activity.defn(name=ActivityName.EVALUATE)
    @translate_errors
    @keeps_alive("evaluate")
    def evaluate(self, inp: EvaluateInput) -> EvaluateResult:
        """Score the held-out rows of ``inp.dataset`` with ``inp.model`` (and the baseline)."""
        providers = choose_providers(inp.require_accelerator, self.ctx.profile.has_gpu)
        # on CPU: held-out chunks on the cores this worker's budget gives, one onnxruntime
        # thread per process (measured: better than intra-op threads, which spin while
        # they wait; bench/datastages.py)
        threads = 1 if providers[0] == CPU else 0
        with self.ctx.cores.take() as cores:
            model = load_model(b"".join(open_plain(inp.model)), providers, "model", inp.spec,
                               threads=threads)
            baseline = None
            if inp.baseline is not None:
                baseline = load_model(b"".join(open_plain(inp.baseline)), providers,
                                      "model in service", inp.spec, threads=threads)
            models = [model] + ([baseline] if baseline else [])
            runs = score_dataset(models, open_plain(inp.dataset),
                                 tabular_format(inp.dataset.key), inp.label_column, inp.spec,
                                 processes=cores)
        accel = "cuda" if model.provider == CUDA else "cpu"
        scorer = runs[0].scorer
        queue = activity.info().task_queue if activity.in_activity() else ""
        profile = runs[0].profile.profile() if runs[0].profile else None
        profile_ref = None
        if profile is not None:
            body = profile_bytes(profile)
            profile_ref = store_sealed(
                self.ctx.store, f"releases/{inp.release_id}/reports/reference-profile-"
                f"{hashlib.sha256(body).hexdigest()[:12]}.json", [body],
                name="reference-profile", release_id=inp.release_id, keys=inp.keys)
        return EvaluateResult(
            metrics=runs[0].metrics(), execution_provider=model.provider,
            baseline_metrics=runs[1].metrics() if baseline else None,
            output=model.output, baseline_output=baseline.output if baseline else None,
            features=tuple(c for b in runs[0].bindings for c in b.columns),
            prediction_edges=scorer.edges() if isinstance(scorer, RegressionScorer) else (),
            profile=profile, profile_ref=profile_ref,
            ran_on=self.ctx.ran_on(accelerator=accel, task_queue=queue))


def _holdout(batch: pa.RecordBatch) -> np.ndarray | None:
    """The batch's held-out rows as a boolean mask (None: no ``split`` column, every row)."""
    if "split" not in batch.schema.names:
        return None
    split = batch.column("split")
    if pa.types.is_string(split.type):  # in Arrow: ~10x less than NumPy's object compare
        mask = pc.is_in(split, value_set=_HOLDOUT)
        return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    return np.isin(split.to_numpy(zero_copy_only=False), HOLDOUT_SPLITS)


def _held_feeds(runs: list[_Run], batch: pa.RecordBatch, x: dict[str, np.ndarray],
                keep: np.ndarray | None) -> list[dict[str, np.ndarray]]:
    """Each run's feeds on the held-out rows: the first run's taken from ``x`` (its feeds
    on every row, converted once for the profile), the others' converted from those rows."""
    if keep is None:
        return [x] + [feeds(r.bindings, batch) for r in runs[1:]]
    held = [{name: v[keep] for name, v in x.items()}]
    if len(runs) > 1:
        rows = batch.filter(pa.array(keep))
        held += [feeds(r.bindings, rows) for r in runs[1:]]
    return held


def score_dataset(models: list[LoadedModel], chunks: Iterable[bytes], fmt: str, label: str,
                  spec: EvaluationSpec, *, processes: int = 1) -> list[_Run]:
    """Stream a CSV or Parquet dataset in batches through every model, on the same rows.

    With ``processes`` > 1 and every model on the CPU provider, the held-out batches are
    scored on a process pool (``activities.evaluate_pool``: one onnxruntime thread per
    child; not for a single batch); the figures are those of a one-thread sequential run.

    Returns:
        One scored run per model, in order.
    """
    text = set().union(*(text_columns(m.signature, spec) for m in models))
    pooled = processes > 1 and all(m.provider == CPU and m.data for m in models)
    pool: InferencePool | None = None  # started at the second held-out batch
    held: list[tuple[list[dict[str, np.ndarray]], pa.Array]] = []  # feeds, labels
    due: deque[pa.Array] = deque()  # the labels of the chunks on the pool, in order
    try:
        with TabularStream(chunks, fmt, text) as data:
            if label not in data.schema.names:
                raise DatasetMismatch(f"dataset has no label column '{label}'")
            runs = [_Run(m, bind_inputs(m.signature, spec, data.schema, label),
                         scorer_for(spec.task, m.output, spec.positive_class, label, m.name))
                    for m in models]
            profile = runs[0].profile = ProfileBuilder(runs[0].bindings,
                                                       scores=spec.task is Task.BINARY)
            rows = 0
            read = {label, "split", *(c for r in runs for b in r.bindings for c in b.columns)}
            for batch in data.batches(columns=sorted(read)):  # no other column converted
                x = feeds(runs[0].bindings, batch)  # every row, converted once
                profile.add_inputs(x)  # every row; scores: held out
                keep = _holdout(batch)
                count = batch.num_rows if keep is None else int(np.count_nonzero(keep))
                if not count:
                    continue
                labels = batch.column(label)
                labels = labels if keep is None else labels.filter(pa.array(keep))
                xs = _held_feeds(runs, batch, x, keep)
                if not pooled:
                    for run, x_run in zip(runs, xs, strict=True):
                        run.score(x_run, labels)
                else:
                    held.append((xs, labels))
                    if pool is not None or len(held) > 1:
                        pool = pool or InferencePool(
                            [(m.data, m.output.output, m.name) for m in models], processes)
                        for xs_held, lab in held:
                            due.append(lab)
                            for scored in pool.submit(xs_held):
                                _take(runs, due.popleft(), scored)
                        held = []
                rows += count
                heartbeat(f"evaluate: {rows} rows")
            for xs_held, lab in held:  # one held-out batch: no pool (its start costs more)
                for run, x_run in zip(runs, xs_held, strict=True):
                    run.score(x_run, lab)
            for scored in pool.drain() if pool is not None else ():
                _take(runs, due.popleft(), scored)
    finally:
        if pool is not None:
            pool.close()
    if not rows:
        raise DatasetMismatch("dataset has no held-out rows (split in "
                              f"{', '.join(HOLDOUT_SPLITS)}) to evaluate on")
    return runs


def _take(runs: list[_Run], labels: pa.Array, scored: Scored) -> None:
    for run, (out, seconds) in zip(runs, scored, strict=True):
        run.take(labels, out, seconds)
