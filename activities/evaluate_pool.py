"""Evaluate's inference on every core: held-out chunks scored in a process pool.

onnxruntime can spread one ``run`` over intra-op threads, but its threads spin
while they wait for work: on a busy machine they burn CPU that other stages
(and other releases) need, and on small models the split costs more than it
gives. Here each child process opens its own session with **one** intra-op
thread and scores whole chunks; the parent keeps what must see every row in
order (reading, the reference profile, the task's scorer) and merges the
outputs chunk by chunk in input order, so figures are those of a sequential
run with one thread. At most ``processes * IN_FLIGHT_PER_PROCESS`` chunks are
in flight (bounded memory). Children get the model bytes once, at pool start;
rows travel as the feed arrays the model reads, nothing else.

Used on the CPU execution provider only (a GPU session is one device, not a
pool); ``bench/datastages.py`` prints this pool against onnxruntime's threads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import onnxruntime as ort

from medpipe.activities.poolwindow import PoolWindow
from medpipe.activities.procpool import IN_FLIGHT_PER_PROCESS, pool_context, start_child
from medpipe.contracts.errors import DatasetMismatch

CPU = "CPUExecutionProvider"

#: What a child scores with: (session, output name, model name) per model.
_CHILD: list[tuple[ort.InferenceSession, str, str]] = []

Feeds = dict[str, np.ndarray]


def _init_child(models: Sequence[tuple[bytes, str, str]]) -> None:
    start_child()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    _CHILD[:] = [(ort.InferenceSession(data, options, providers=[CPU]), output, name)
                 for data, output, name in models]


#: Rows per onnxruntime ``run``: a batch's held-out rows go through the model in slices
#: of this many. The reference model (5 -> 1100 -> 1100 -> 1) computed its 20,001 rows in
#: 0.61-0.69 CPU-s in the CSV reader's batches (~2,500 held-out rows) and in 0.50-0.52 in
#: slices of 512-1,024: its [rows, 1100] intermediates then stay in the caches instead of
#: going out to memory (load 4.5; the same output bytes at every size from 128 to 20,001).
SCORE_ROWS = 1024


def run_rows(session: ort.InferenceSession, output: str, x: Feeds,
             rows: int | None = None) -> Any:
    """``session``'s ``output`` on the feeds ``x``, run over at most ``rows`` rows at a time
    (default ``SCORE_ROWS``) and joined in order: an array, or a list (a ZipMap's maps).

    Each row's output is the model's on that row alone, so the slices change no value:
    the batches a dataset is read in already vary with its format and block size.
    """
    rows = rows or SCORE_ROWS
    n = len(next(iter(x.values()))) if x else 0
    if n <= rows:
        return session.run([output], x)[0]
    parts = [session.run([output], {k: v[i:i + rows] for k, v in x.items()})[0]
             for i in range(0, n, rows)]
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [r for part in parts for r in part]


def _infer(feeds: Sequence[Feeds]) -> Scored:
    """Each model's chosen output on its feeds (as onnxruntime returns it: an array,
    or a list of maps for a ZipMap), and the seconds its ``run`` took."""
    out = []
    for (session, output, name), x in zip(_CHILD, feeds, strict=True):
        t0 = time.perf_counter()
        try:
            y = run_rows(session, output, x)
        except Exception as e:  # onnxruntime raises private exception types
            raise DatasetMismatch(f"{name} refused the dataset's rows: "
                                  f"{type(e).__name__}: {str(e)[:200]}") from None
        out.append((y, time.perf_counter() - t0))
    return out


#: What a child returns for a chunk: each model's output and the seconds its ``run`` took.
Scored = list[tuple[Any, float]]


class InferencePool:
    """Scores chunks with every model on ``processes`` child processes, in order.

    Args:
        models: (ONNX bytes, output to read, name for messages) per model.
        processes: child processes (each with one onnxruntime thread).
    """

    def __init__(self, models: Sequence[tuple[bytes, str, str]], processes: int) -> None:
        self._pool = ProcessPoolExecutor(max_workers=max(1, processes),
                                         mp_context=pool_context(), initializer=_init_child,
                                         initargs=(list(models),))
        self._window: PoolWindow[Scored] = PoolWindow(
            self._pool, max(1, processes) * IN_FLIGHT_PER_PROCESS)

    def submit(self, feeds: Sequence[Feeds]) -> list[Scored]:
        """Queue one chunk (one feed dict per model); the outputs now due (of the oldest
        chunks, waiting for them while the window is full), in order."""
        return self._window.submit(_infer, list(feeds))

    def drain(self) -> Iterator[Scored]:
        """The outputs of the chunks still in flight, in order."""
        return self._window.drain()

    def close(self) -> None:
        """Stop the pool (pending chunks cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
