"""Validate: data expectations (great-expectations) and residual identifiers.

The suite comes from the release's policy (``DataSuiteSpec``) or, when the
policy names none, is inferred from the dataset's schema. Every text is then checked for
residual identifiers exactly as the scrubber looks for them
(``activities.residual_scan``: patterns, name cues and the keyed digests of
every original identifier, however it is written). CSV, Parquet, FHIR NDJSON
and Bundles are read; FHIR has the residual checks only (its structure was
checked by the pseudonymizer). Results are aggregated over streamed chunks
(constant memory) and reported as counts only: great-expectations runs with
``partial_unexpected_count: 0`` so no failing value is ever copied into a
report.

Tabular data uses the cores the worker's budget gives: the residual check runs
over chunks in a process pool (``activities.residual_pool``), while the suite,
built once per dataset schema, runs here over the columns it reads, gathered
into few large runs (``GX_BATCH_BYTES``) because each run has a fixed cost.
The report does not depend on the number of processes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from temporalio import activity

from medpipe.activities.boundary import translate_errors
from medpipe.activities.chunkio import ChunkReader
from medpipe.activities.context import WorkerContext
from medpipe.activities.datasets import TabularStream, tabular_format
from medpipe.activities.digestkey import open_digest_key
from medpipe.activities.progress import heartbeat, heartbeating, keeps_alive
from medpipe.activities.pseudonymize.run import detect_format
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_pool import POOL_CHUNK_ROWS, ResidualPool
from medpipe.activities.residual_scan import scan_dataset
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.names import ActivityName
from medpipe.contracts.validate import (
    CheckKind,
    CheckResult,
    ColumnRule,
    ColumnType,
    DataSuiteSpec,
    ValidateInput,
    ValidateResult,
    ValidationReport,
)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)
log = logging.getLogger("medpipe.validate")

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0,
                 "include_unexpected_rows": False}
CHUNK_ROWS = 250_000
#: Arrow bytes of the suite's columns gathered before one great-expectations run: a run
#: costs ~0.15 s whatever its size (measured), so it sees as many rows as this allows.
GX_BATCH_BYTES = 64 << 20


def infer_suite(schema: pa.Schema) -> DataSuiteSpec:
    """A conservative suite from a schema: types and non-null numeric columns."""
    rules: dict[str, ColumnRule] = {}
    for f in schema:
        if pa.types.is_integer(f.type):
            rules[f.name] = ColumnRule(type=ColumnType.INTEGER, nullable=False)
        elif pa.types.is_floating(f.type):
            rules[f.name] = ColumnRule(type=ColumnType.FLOAT, nullable=False)
        else:
            rules[f.name] = ColumnRule(type=ColumnType.STRING, free_text=True)
    return DataSuiteSpec(columns=rules)


@dataclass
class _Expectation:
    kind: CheckKind
    column: str | None
    rule: str
    gx: Any


def _expectations(spec: DataSuiteSpec, text_columns: list[str]) -> list[_Expectation]:
    import great_expectations.expectations as gxe

    out: list[_Expectation] = []
    for name, r in spec.columns.items():
        if not r.nullable:
            out.append(_Expectation(CheckKind.DATA, name, "not null",
                                    gxe.ExpectColumnValuesToNotBeNull(column=name)))
        if r.type in (ColumnType.INTEGER, ColumnType.FLOAT):
            kinds = ["int", "int64", "Int64"] if r.type is ColumnType.INTEGER else \
                ["float", "float64", "int64", "Float64"]
            out.append(_Expectation(CheckKind.SCHEMA, name, f"type {r.type.value}",
                                    gxe.ExpectColumnValuesToBeInTypeList(column=name,
                                                                         type_list=kinds)))
        if r.min is not None or r.max is not None:
            out.append(_Expectation(CheckKind.DATA, name, _range_rule(r.min, r.max),
                                    gxe.ExpectColumnValuesToBeBetween(
                                        column=name, min_value=r.min, max_value=r.max)))
        if r.allowed is not None:
            out.append(_Expectation(CheckKind.DATA, name, f"in {len(r.allowed)} allowed values",
                                    gxe.ExpectColumnValuesToBeInSet(column=name,
                                                                    value_set=list(r.allowed))))
        if r.regex:
            out.append(_Expectation(CheckKind.DATA, name, "matches its format",
                                    gxe.ExpectColumnValuesToMatchRegex(column=name,
                                                                       regex=r.regex)))
    return out


def _range_rule(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo:g} and {hi:g}"
    return f"at least {lo:g}" if lo is not None else f"at most {hi:g}"


@dataclass
class _Tally:
    element_count: int = 0
    unexpected_count: int = 0
    success: bool = True


@dataclass
class SuiteRunner:
    """Runs one suite over chunks of a dataset with an ephemeral GX context."""

    spec: DataSuiteSpec
    text_columns: list[str]
    expectations: list[_Expectation] = field(init=False)
    tallies: list[_Tally] = field(init=False)

    def __post_init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False)
        self.expectations = _expectations(self.spec, self.text_columns)
        self.tallies = [_Tally() for _ in self.expectations]
        self._gathered: list[pa.RecordBatch] = []
        self._gathered_bytes = 0
        source = self.context.data_sources.add_pandas("medpipe")
        batch = source.add_dataframe_asset("dataset").add_batch_definition_whole_dataframe("all")
        suite = self.context.suites.add(gx.ExpectationSuite(name="medpipe-suite"))
        for e in self.expectations:
            suite.add_expectation(e.gx)
        self.validation = self.context.validation_definitions.add(
            gx.ValidationDefinition(name="medpipe-validation", data=batch, suite=suite))

    @property
    def columns(self) -> list[str]:
        """The columns the expectations read (the only ones converted for GX)."""
        return list(dict.fromkeys(e.column for e in self.expectations if e.column))

    def add(self, batch: pa.RecordBatch, max_bytes: int | None = None) -> None:
        """Gather a batch's suite columns; validate them once ``max_bytes`` are gathered
        (default ``GX_BATCH_BYTES``)."""
        if not self.expectations:
            return
        narrow = batch.select(self.columns)
        self._gathered.append(narrow)
        self._gathered_bytes += narrow.nbytes
        if self._gathered_bytes >= (GX_BATCH_BYTES if max_bytes is None else max_bytes):
            self.flush()

    def flush(self) -> None:
        """Validate what ``add`` gathered (call once more after the last batch)."""
        if self._gathered:
            frame = pa.Table.from_batches(self._gathered).to_pandas()
            self._gathered, self._gathered_bytes = [], 0
            self.run_chunk(frame)

    def run_chunk(self, frame: pd.DataFrame) -> None:
        """Validate one chunk and add its counts."""
        if not self.expectations:
            return
        result = self.validation.run(batch_parameters={"dataframe": frame},
                                     result_format=RESULT_FORMAT)
        by_id = {r.expectation_config.id if r.expectation_config else None: r
                 for r in result.results}
        for e, tally in zip(self.expectations, self.tallies, strict=True):
            r = by_id[e.gx.id]
            tally.element_count += int(r.result.get("element_count", len(frame)) or 0)
            tally.unexpected_count += int(r.result.get("unexpected_count", 0) or 0)
            tally.success = tally.success and bool(r.success)

    def results(self) -> list[CheckResult]:
        """Aggregated checks (counts only)."""
        return [CheckResult(kind=e.kind, column=e.column, rule=e.rule, success=t.success,
                            element_count=t.element_count, unexpected_count=t.unexpected_count)
                for e, t in zip(self.expectations, self.tallies, strict=True)]


def csv_batches(chunks: Iterator[bytes], rows: int = CHUNK_ROWS) -> Iterator[pa.RecordBatch]:
    """Stream a CSV as record batches of about ``rows`` rows."""
    try:
        reader = pacsv.open_csv(io.BufferedReader(ChunkReader(chunks), 1 << 20),
                                read_options=pacsv.ReadOptions(block_size=16 << 20))
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


def validate_batches(batches: Iterator[pa.RecordBatch], spec: DataSuiteSpec | None,
                     digests: DigestSet | None, *, processes: int = 1,
                     chunk_rows: int = POOL_CHUNK_ROWS) -> ValidationReport:
    """Run the suite and the residual-identifier checks over streamed batches.

    The suite runs here, over as many rows at once as ``GX_BATCH_BYTES`` allows; the
    residual check runs on ``processes`` processes (``activities.residual_pool``: 1 =
    this thread) in chunks of ``chunk_rows``. The report depends on neither.
    """
    runner: SuiteRunner | None = None
    schema_checks: list[CheckResult] = []
    rows = 0
    unique_seen: dict[str, set[int]] = {}
    unique_dupes: dict[str, int] = {}
    with ResidualPool(digests, processes, chunk_rows) as residual:
        for batch in batches:
            if runner is None:
                spec = spec or infer_suite(batch.schema)
                schema_checks = _schema_checks(spec, batch.schema)
                text_cols = [f.name for f in batch.schema
                             if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
                             and f.name in spec.columns]
                present = DataSuiteSpec(columns={k: v for k, v in spec.columns.items()
                                                 if k in batch.schema.names})
                runner = SuiteRunner(spec=present, text_columns=text_cols)
                unique_seen = {n: set() for n, r in spec.columns.items()
                               if r.unique and n in batch.schema.names}
                unique_dupes = {n: 0 for n, r in spec.columns.items() if r.unique}
            residual.add(batch)  # first: the pool works while the suite runs here
            runner.add(batch)
            rows += batch.num_rows
            for name, seen in unique_seen.items():
                hashes = pd.util.hash_pandas_object(batch.column(name).to_pandas(), index=False)
                before = len(seen)
                seen.update(hashes.tolist())  # a value already seen adds nothing: a duplicate
                unique_dupes[name] += len(hashes) - (len(seen) - before)
            heartbeat(f"validate: {rows} rows")
        if runner is None:
            raise InvalidInput("dataset has no rows to validate")
        runner.flush()
        tally = residual.result()
    checks = schema_checks + runner.results()
    checks += [CheckResult(kind=CheckKind.DATA, column=n, rule="unique", success=d == 0,
                           element_count=rows, unexpected_count=d)
               for n, d in unique_dupes.items()]
    checks += tally.checks()
    return ValidationReport(rows=rows, checks=tuple(checks))


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


def _preload_gx(done: threading.Event) -> None:
    try:
        import great_expectations  # noqa: F401  (its import alone takes seconds)
    finally:
        done.set()


class ValidateActivities:
    """The validate stage bound to one worker context.

    great-expectations takes seconds to import: the first activity imports
    it on a helper thread and heartbeats while it waits (a silent import
    would look like a dead worker and trigger a failover).
    """

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self._gx_ready = threading.Event()
        self._gx_started = threading.Lock()
        self._gx_thread: threading.Thread | None = None

    def _wait_for_gx(self) -> None:
        with self._gx_started:
            if self._gx_thread is None:
                self._gx_thread = threading.Thread(target=_preload_gx, args=(self._gx_ready,),
                                                   daemon=True, name="medpipe-gx-import")
                self._gx_thread.start()
        while not self._gx_ready.wait(0.5):
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
        self._wait_for_gx()
        digests = None
        if inp.identifier_digests is not None:
            ref = inp.identifier_digests
            enc = ref.encryption
            key, body = open_digest_key(b"".join(open_plain(ref)),
                                        enc.key_uri if enc else "", inp.release_id)
            digests = DigestSet.from_bytes(key, body)
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
        body = report.model_dump_json(indent=2).encode()
        ref = store_sealed(self.ctx.store, f"releases/{inp.release_id}/reports/validate-"
                           f"{hashlib.sha256(body).hexdigest()[:12]}.json", [body],
                           name="validation-report", release_id=inp.release_id,
                           keys=KeySettings())
        queue = activity.info().task_queue if activity.in_activity() else ""
        return ValidateResult(report=ref, rows=report.rows, checks=len(report.checks),
                              failed=len(report.failures),
                              residual_failed=len(report.residual_failures),
                              summary=report.summary()[:2000],
                              ran_on=self.ctx.ran_on(task_queue=queue))
