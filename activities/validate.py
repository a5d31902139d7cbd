"""Validate: data expectations (great-expectations) and residual identifiers.

The suite (``activities.validate_suite``) comes from the release's policy
(``DataSuiteSpec``) or, when the policy names none, is inferred from the
dataset's schema. Every text is then checked for residual identifiers exactly
as the scrubber looks for them (``activities.residual_scan``: patterns, name
cues and the keyed digests of every original identifier, however it is
written). CSV, Parquet, FHIR NDJSON and Bundles are read; FHIR has the
residual checks only (its structure was checked by the pseudonymizer).
Results are aggregated over streamed chunks (constant memory) and reported as
counts only: great-expectations runs with ``partial_unexpected_count: 0`` so
no failing value is ever copied into a report. A run ends with a mergeable
part (``activities.validate_parts``): a fanned-out validate
(``activities.validate_fanout``) merges one per shard into the same report.

Tabular data uses the cores the worker's budget gives: the residual check runs
over chunks in a process pool (``activities.residual_pool``), while the suite,
built once per dataset schema, runs here over the columns it reads, gathered
into few large runs (``GX_BATCH_BYTES``) because each run has a fixed cost.
The report does not depend on the number of processes.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.csvblocks import CsvBlocks
from medpipe.activities.datasets import TabularStream, tabular_format
from medpipe.activities.deid.keytable import ValueSet
from medpipe.activities.digestkey import open_digest_key
from medpipe.activities.progress import heartbeat, heartbeating, keeps_alive
from medpipe.activities.pseudonymize.run import detect_format
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_pool import POOL_CHUNK_ROWS, ResidualPool
from medpipe.activities.residual_scan import scan_dataset
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.serial_imports import import_serially
from medpipe.activities.validate_parts import (
    UniquePart,
    ValidatePart,
    merge_parts,
    pack_hashes,
    residual_of,
)
from medpipe.activities.validate_suite import SuiteRunner, infer_suite
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.names import ActivityName
from medpipe.contracts.validate import (
    CheckKind,
    CheckResult,
    DataSuiteSpec,
    ValidateInput,
    ValidateResult,
    ValidationReport,
)

log = logging.getLogger("medpipe.validate")

CHUNK_ROWS = 250_000
#: Bytes of the CSV's first block, whose rows set the column types (``csvblocks``).
FIRST_BLOCK = 16 << 20


def csv_batches(chunks: Iterator[bytes], rows: int = CHUNK_ROWS) -> Iterator[pa.RecordBatch]:
    """Stream a CSV as record batches of about ``rows`` rows."""
    try:
        reader = CsvBlocks(chunks, FIRST_BLOCK)
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            if count >= rows:
                yield from pa.Table.from_batches(pending).combine_chunks().to_batches()
                pending, count = [], 0
        if pending:
            yield from pa.Table.from_batches(pending).combine_chunks().to_batches()
    except pa.ArrowInvalid as e:
        raise InvalidInput(f"dataset is not readable CSV: {str(e)[:200]}") from e


class ValidationPass:
    """The suite, ``unique`` and residual checks over batches given in order.

    Use as a context manager: ``add`` each batch, then ``part``. The suite runs
    here, over as many rows at once as ``GX_BATCH_BYTES`` allows; the residual
    check on ``processes`` processes (``activities.residual_pool``: 1 = this thread)
    in chunks of ``chunk_rows``. The part's counts depend on neither.
    """

    def __init__(self, spec: DataSuiteSpec | None, digests: DigestSet | None, *,
                 processes: int = 1, chunk_rows: int = POOL_CHUNK_ROWS) -> None:
        self.spec = spec
        self.rows = 0
        self.runner: SuiteRunner | None = None
        self.schema_checks: list[CheckResult] = []
        self.unique_seen: dict[str, ValueSet] = {}
        self.unique_dupes: dict[str, int] = {}
        self.residual = ResidualPool(digests, processes, chunk_rows)

    def _start(self, schema: pa.Schema) -> SuiteRunner:
        spec = self.spec = self.spec or infer_suite(schema)
        self.schema_checks = _schema_checks(spec, schema)
        text_cols = [f.name for f in schema
                     if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
                     and f.name in spec.columns]
        present = DataSuiteSpec(columns={k: v for k, v in spec.columns.items()
                                         if k in schema.names})
        # 8 bytes a distinct value (sorted runs), not a Python set of ints (~70)
        self.unique_seen = {n: ValueSet() for n, r in spec.columns.items()
                            if r.unique and n in schema.names}
        self.unique_dupes = {n: 0 for n, r in spec.columns.items() if r.unique}
        return SuiteRunner(spec=present, text_columns=text_cols)

    def add(self, batch: pa.RecordBatch) -> None:
        """Check one batch (the residual pool works while the suite runs here)."""
        if self.runner is None:
            self.runner = self._start(batch.schema)
        self.residual.add(batch)
        self.runner.add(batch)
        self.rows += batch.num_rows
        for name, seen in self.unique_seen.items():
            hashes = pd.util.hash_pandas_object(batch.column(name).to_pandas(), index=False)
            # a value already seen (here or in an earlier batch) is a duplicate
            self.unique_dupes[name] += seen.add(hashes.to_numpy(dtype=np.uint64))

    def part(self, *, hashes: bool = False) -> ValidatePart:
        """The counts so far (``hashes``: with the ``unique`` columns' value hashes, for a
        merge with other parts).

        Raises:
            InvalidInput: no batch had rows.
        """
        if self.runner is None:
            raise InvalidInput("dataset has no rows to validate")
        self.runner.flush()
        unique = {n: UniquePart(dupes=d, hashes=pack_hashes(self.unique_seen[n].values()
                                                            if n in self.unique_seen else ())
                                if hashes else None)
                  for n, d in self.unique_dupes.items()}
        return ValidatePart.model_validate({
            "rows": self.rows, "schema_checks": self.schema_checks,
            "suite_checks": self.runner.results(), "unique": unique,
            **residual_of(self.residual.result())})

    def __enter__(self) -> ValidationPass:
        return self

    def __exit__(self, *exc: object) -> None:
        self.residual.close()


def validate_batches(batches: Iterator[pa.RecordBatch], spec: DataSuiteSpec | None,
                     digests: DigestSet | None, *, processes: int = 1,
                     chunk_rows: int = POOL_CHUNK_ROWS) -> ValidationReport:
    """Run the suite and the residual-identifier checks over streamed batches
    (``ValidationPass``; the report depends on neither ``processes`` nor ``chunk_rows``)."""
    with ValidationPass(spec, digests, processes=processes, chunk_rows=chunk_rows) as run:
        for batch in batches:
            run.add(batch)
            heartbeat(f"validate: {run.rows} rows")
        part = run.part()
    return merge_parts([part])


def validate_fhir(chunks: Iterator[bytes], fmt: str,
                  digests: DigestSet | None) -> ValidationReport:
    """Residual checks over FHIR output (NDJSON or a Bundle), per ``Type.element``."""
    resources = 0

    def counted(cs: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal resources
        for c in cs:
            resources += c.count(b'"resourceType"')
            yield c

    tally = scan_dataset(counted(chunks), fmt, digests)
    if not tally.values:
        raise InvalidInput("dataset has no FHIR text to validate")
    return ValidationReport(rows=resources, checks=tuple(tally.checks()),
                            engine="medpipe-residual")


def _schema_checks(spec: DataSuiteSpec, schema: pa.Schema) -> list[CheckResult]:
    names = set(schema.names)
    checks = [CheckResult(kind=CheckKind.SCHEMA, column=c, rule="column present",
                          success=c in names) for c in spec.columns]
    if not spec.allow_extra_columns:
        extra = sorted(names - set(spec.columns))
        checks += [CheckResult(kind=CheckKind.SCHEMA, column=c, rule="column expected by policy",
                               success=False) for c in extra]
    return checks


def _when_idle(idle: Callable[[], bool]) -> None:
    """Return once ``idle()`` has held for ``GX_IDLE_S`` (polled every 0.1 s), or as soon as
    a validate needs the import (``_GX_NEEDED``)."""
    since: float | None = None
    while not _GX_NEEDED.is_set():
        now = time.monotonic()
        if not idle():
            since = None
        elif since is None:
            since = now
        elif now - since >= GX_IDLE_S:
            return
        _GX_NEEDED.wait(0.1)


def _preload_gx(done: threading.Event, idle: Callable[[], bool] | None = None) -> None:
    """Import great-expectations (first waiting for ``idle``, when given: ``_when_idle``),
    then take what the process holds out of the cyclic collector's full scans
    (``gc.freeze``).

    The import leaves ~400k objects for the life of the process, and every full
    collection walked them all: 0.25-0.3 s of the GIL each, landing in whichever stage
    allocated at that moment (measured: most of the 0.44 s ``bench/stagecost.py``
    charged to "GX context + suite", whose own work is ~0.07 s; 0.005 s a collection
    once frozen). Frozen objects are still freed by reference counting; only a cycle
    alive at this moment and dropped later stays until the process ends.
    """
    try:
        if idle is not None:
            _when_idle(idle)
        # jsonschema first, whole, under the lock a deploy thread's SBOM check takes too
        import_serially("jsonschema.validators")
        import great_expectations  # noqa: F401  (its import alone takes seconds)

        gc.collect()  # the import's own garbage, once, on this helper thread
        gc.freeze()
        log.info("great-expectations imported; %d objects frozen out of the collector",
                 gc.get_freeze_count())
    finally:
        done.set()


#: One great-expectations import per process, whichever activity asks first: several
#: workers of one process (tests, the dev stack) and concurrent shards share it.
_GX_READY = threading.Event()
_GX_STARTED = threading.Lock()
_GX_THREAD: list[threading.Thread] = []
#: Set by a validate waiting for the import: the import starts now, idle or not.
_GX_NEEDED = threading.Event()
#: Seconds a worker runs no data stage before it imports great-expectations unasked: long
#: enough that a worker handed work as it starts (a release waiting for it, the local
#: stack's first release) imports in its first validate as before, instead of during
#: its first stages (measured with 1 s: a fresh worker's first release took 29-39 s
#: instead of 10-25 s, its pseudonymize sharing the GIL with the import).
GX_IDLE_S = 30.0


def start_gx_import(idle: Callable[[], bool] | None = None) -> None:
    """Start importing great-expectations on a helper thread, once per process (later
    calls do nothing); ``ValidateActivities.wait_for_gx`` waits for it.

    A worker calls it as it starts polling (``workers.worker.run_worker``), with ``idle``
    saying whether it runs no data stage: the import then runs while the worker waits
    for work, instead of inside its first validate, which took 6-14 s of a loaded
    machine's wall time for it (``bench/orchestration.py``, first release of fresh
    workers) against 2-3 s for the next ones. It waits until the worker has been idle for
    ``GX_IDLE_S``, or until a validate needs it: a stage handed to a fresh worker at once
    would otherwise share the worker's GIL with the import (a first pseudonymize took 10-12
    s instead of 6-7), and the worker processes of one machine their cores.
    """
    with _GX_STARTED:
        if not _GX_THREAD:
            thread = threading.Thread(target=_preload_gx, args=(_GX_READY, idle),
                                      daemon=True, name="medpipe-gx-import")
            thread.start()
            _GX_THREAD.append(thread)


class ValidateActivities:
    """The validate stage bound to one worker context.

    great-expectations takes seconds to import: a worker starts importing it on a
    helper thread as it starts (``start_gx_import``; otherwise the first activity of the
    process does), and every validate activity heartbeats while it waits (a silent
    import would look like a dead worker and trigger a failover).
    """

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx

    def wait_for_gx(self) -> None:
        """Return once great-expectations is imported (starting the import if the worker
        has not yet, or it waits for the worker to be idle), heartbeating meanwhile."""
        _GX_NEEDED.set()
        start_gx_import()
        while not _GX_READY.wait(0.5):
            if activity.in_activity():
                activity.heartbeat("loading great-expectations")

    @activity.defn(name=ActivityName.VALIDATE)
    @translate_errors
    @keeps_alive("validate")
    def validate(self, inp: ValidateInput) -> ValidateResult:
        """Run data expectations and residual-identifier checks; store the counts-only report.

        The verdict is the workflow's: the result says how many checks failed
        (and which column, which rule, how many rows) so that history shows it.
        """
        self.wait_for_gx()
        digests = load_digests(inp)
        fmt = detect_format(inp.dataset.key)
        chunks = heartbeating(open_plain(inp.dataset), "validate")
        if fmt in ("ndjson", "bundle"):
            report = validate_fhir(chunks, fmt, digests)
        else:
            # the residual check's chunks on this many processes (1: this thread)
            with self.ctx.cores.take() as cores:
                if tabular_format(inp.dataset.key) == "parquet":
                    with TabularStream(chunks, "parquet", rows=CHUNK_ROWS) as data:
                        report = validate_batches(data.batches(), inp.suite, digests,
                                                  processes=cores)
                else:
                    report = validate_batches(csv_batches(chunks), inp.suite, digests,
                                              processes=cores)
        return store_report(self.ctx, inp.release_id, report)


def load_digests(inp: ValidateInput) -> DigestSet | None:
    """The keyed digests of the original identifiers the release's pseudonymize left
    (None when it named none): the residual check looks every value up in them."""
    if inp.identifier_digests is None:
        return None
    ref = inp.identifier_digests
    enc = ref.encryption
    key, body = open_digest_key(b"".join(open_plain(ref)), enc.key_uri if enc else "",
                                inp.release_id)
    return DigestSet.from_bytes(key, body)  # into arrays: 16 bytes a digest


def store_report(ctx: WorkerContext, release_id: str, report: ValidationReport) -> ValidateResult:
    """Store the counts-only report (named by its digest) and return the stage's result."""
    body = report.model_dump_json(indent=2).encode()
    ref = store_sealed(ctx.store, f"releases/{release_id}/reports/validate-"
                       f"{hashlib.sha256(body).hexdigest()[:12]}.json", [body],
                       name="validation-report", release_id=release_id, keys=KeySettings())
    queue = activity.info().task_queue if activity.in_activity() else ""
    return ValidateResult(report=ref, rows=report.rows, checks=len(report.checks),
                          failed=len(report.failures),
                          residual_failed=len(report.residual_failures),
                          summary=report.summary()[:2000], ran_on=ctx.ran_on(task_queue=queue))
