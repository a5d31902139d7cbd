"""The activities of a fanned-out validate stage: shard and merge.

* **shard** (one per range of rows, on every compliant worker): reads the
  pseudonymized dataset from its top (same column types as the one-activity
  run; Parquet row groups before the range are not read), runs the suite and
  the residual-identifier check (``activities.validate.ValidationPass``: the
  one-activity run's code, on this worker's cores) over its rows, and stores its
  counts sealed as a part (``activities.validate_parts``) under a key named by
  its range, so a shard run again after a failover writes the same object.
* **merge** (one worker): the parts, in order, into the report a one-activity
  run writes (``merge_parts``), stored and returned as that run returns it.

great-expectations runs in every shard over its own rows (each run costs
~0.15 s fixed; running it once in the merge would read the whole dataset again
on one worker, the serial part fan-out removes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.datasets import TabularStream, tabular_format
from medpipe.activities.progress import heartbeat, heartbeating, keeps_alive
from medpipe.activities.pseudonymize.run import detect_format
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.validate import (
    CHUNK_ROWS,
    ValidateActivities,
    ValidationPass,
    csv_batches,
    load_digests,
    store_report,
)
from medpipe.activities.validate_parts import ValidatePart, merge_parts
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.fanout import ValidateMergeInput, ValidateShardInput, ValidateShardResult
from medpipe.contracts.names import ActivityName
from medpipe.contracts.validate import ValidateResult


def row_range(batches: Iterator[pa.RecordBatch], first_row: int, rows: int,
              start: Callable[[], int] = lambda: 0) -> Iterator[pa.RecordBatch]:
    """Rows ``first_row`` .. ``first_row + rows - 1`` of ``batches`` (zero-copy slices);
    stops reading after the last one. ``start()``: the data row of the first batch, asked
    once it is read (a reader that skipped leading row groups knows it then).

    Raises:
        InvalidInput: the dataset has fewer rows than the range.
    """
    end = first_row + rows
    pos: int | None = None
    for batch in batches:
        if pos is None:
            pos = start()
        lo, hi = max(pos, first_row), min(pos + batch.num_rows, end)
        if hi > lo:
            yield batch.slice(lo - pos, hi - lo)
        pos += batch.num_rows
        if pos >= end:
            return
    raise InvalidInput(f"the dataset has fewer rows than shard range {first_row}+{rows} "
                       "(it changed since it was pseudonymized?)")


def shard_batches(chunks: Iterator[bytes], key: str, first_row: int,
                  rows: int) -> Iterator[pa.RecordBatch]:
    """A shard's rows, read as the one-activity validate reads the whole dataset."""
    if tabular_format(key) == "parquet":
        with TabularStream(chunks, "parquet", rows=CHUNK_ROWS) as data:
            yield from row_range(data.batches(skip_rows=first_row), first_row, rows,
                                 lambda: data.skipped)
    else:
        yield from row_range(csv_batches(chunks), first_row, rows)


def _queue() -> str:
    return activity.info().task_queue if activity.in_activity() else ""


class FanoutValidateActivities:
    """Shard and merge activities, sharing a worker's ``ValidateActivities`` (its context
    and its one great-expectations import)."""

    def __init__(self, validate: ValidateActivities) -> None:
        self.validate = validate
        self.ctx = validate.ctx

    @activity.defn(name=ActivityName.VALIDATE_SHARD)
    @translate_errors
    @keeps_alive("validate: shard")
    def shard(self, inp: ValidateShardInput) -> ValidateShardResult:
        """Validate rows ``first_row`` .. of the dataset into a sealed part (counts only)."""
        fmt = detect_format(inp.dataset.key)
        if fmt not in ("csv", "parquet"):
            raise InvalidInput(f"{inp.dataset.name}: a {fmt} dataset does not fan out "
                               "(CSV and Parquet do)")
        self.validate.wait_for_gx()
        digests = load_digests(inp)
        label = f"validate shard {inp.shard} (rows {inp.first_row}+{inp.rows})"
        chunks = heartbeating(open_plain(inp.dataset), label)
        with self.ctx.cores.take() as cores, \
                ValidationPass(inp.suite, digests, processes=cores) as run:
            for batch in shard_batches(chunks, inp.dataset.key, inp.first_row, inp.rows):
                run.add(batch)
                heartbeat(f"{label}: {run.rows} rows")
            part = run.part(hashes=True)
        if part.rows != inp.rows:
            raise IntegrityError(f"shard {inp.shard} read {part.rows} rows, not {inp.rows}")
        key = (f"releases/{inp.release_id}/validated/fanout/part-{inp.first_row:012d}-"
               f"{inp.rows:012d}.json")
        ref = store_sealed(self.ctx.store, key, [part.model_dump_json().encode()],
                           name=f"validate-shard-{inp.shard}", release_id=inp.release_id,
                           keys=inp.keys)
        return ValidateShardResult(shard=inp.shard, part=ref, rows=part.rows,
                                   ran_on=self.ctx.ran_on(task_queue=_queue()))

    @activity.defn(name=ActivityName.VALIDATE_MERGE)
    @translate_errors
    @keeps_alive("validate: merge")
    def merge(self, inp: ValidateMergeInput) -> ValidateResult:
        """The parts, in order, into the stage's report (stored) and result."""
        order = [s.shard for s in inp.shards]
        if order != list(range(len(order))):
            raise InvalidInput(f"merge needs every shard once, in order (got {order})")
        parts = []
        for s in inp.shards:
            heartbeat(f"validate merge: shard {s.shard} of {len(inp.shards)}")
            parts.append(ValidatePart.from_bytes(b"".join(open_plain(s.part)), s.part.uri))
        rows = sum(p.rows for p in parts)
        if rows != inp.rows:
            raise IntegrityError(f"the shards hold {rows} rows, the dataset {inp.rows}")
        return store_report(self.ctx, inp.release_id, merge_parts(parts))


__all__ = ["FanoutValidateActivities", "row_range", "shard_batches"]
