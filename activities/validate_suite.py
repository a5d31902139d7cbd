"""The data suite of validate: expectations built once per schema, run by great-expectations.

``SuiteRunner`` gathers the columns the expectations read and runs them in few
large runs (``GX_BATCH_BYTES``: each run costs ~0.15 s whatever its size),
adding up counts only: great-expectations runs with ``partial_unexpected_count:
0`` so no failing value is ever copied into a report. The ephemeral GX context,
suite and validation definition a suite runs in (``SuiteEngine``) are built once
per suite and schema in a worker process and kept (``ENGINES``): a worker
validates release after release of one schema, and building them cost each
release ~0.07 s of the GIL (and the garbage a full collection then walks). The
report is the same: the counts are the runner's, the engine holds no state of a
run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from medpipe.contracts.validate import (
    CheckKind,
    CheckResult,
    ColumnRule,
    ColumnType,
    DataSuiteSpec,
)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0,
                 "include_unexpected_rows": False}
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


class SuiteEngine:
    """A suite's ephemeral GX context and validation definition (one schema's), used by
    one run at a time.

    Args:
        spec: the suite (the dataset's columns only).
        text_columns: the columns read as text.
    """

    def __init__(self, spec: DataSuiteSpec, text_columns: list[str]) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False)
        self.expectations = _expectations(spec, text_columns)
        source = self.context.data_sources.add_pandas("medpipe")
        batch = source.add_dataframe_asset("dataset").add_batch_definition_whole_dataframe("all")
        suite = self.context.suites.add(gx.ExpectationSuite(name="medpipe-suite"))
        for e in self.expectations:
            suite.add_expectation(e.gx)
        self.validation = self.context.validation_definitions.add(
            gx.ValidationDefinition(name="medpipe-validation", data=batch, suite=suite))

    def run(self, frame: pd.DataFrame) -> list[Any]:
        """Each expectation's GX result on ``frame``, in ``expectations``' order.

        The suite runs in GX's validator, the one ``ValidationDefinition.run`` runs it in,
        without that method's bookkeeping: it also stored every result in the context's
        results store, which for a kept engine grew by one result per run for the life of
        the worker (and serialising it was ~12 % of a run, ``bench/stagecost.py``'s "GX run").
        """
        from great_expectations.validator.v1_validator import Validator

        result = Validator(batch_definition=self.validation.batch_definition,
                           batch_parameters={"dataframe": frame},
                           result_format=RESULT_FORMAT).validate_expectation_suite(
            self.validation.suite)
        by_id = {r.expectation_config.id if r.expectation_config else None: r
                 for r in result.results}
        return [by_id[e.gx.id] for e in self.expectations]


class EngineCache:
    """Idle ``SuiteEngine``s by suite and schema, for the runs of one process.

    A run borrows an engine (a new one when every engine of its suite is busy: two
    validations at once never share a context) and gives it back. At most ``suites``
    suites are kept, the least recently used dropped first.
    """

    def __init__(self, suites: int = 8) -> None:
        self.suites = suites
        self._idle: OrderedDict[str, list[SuiteEngine]] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0  # engines built (a figure for tests and benches)

    @contextmanager
    def borrow(self, spec: DataSuiteSpec, text_columns: list[str]) -> Iterator[SuiteEngine]:
        """An engine of this suite, this run's alone until the block ends."""
        key = spec.model_dump_json() + "\x00" + "\x00".join(text_columns)
        with self._lock:
            idle = self._idle.get(key)
            engine = idle.pop() if idle else None
        if engine is None:
            engine = SuiteEngine(spec, text_columns)
            with self._lock:
                self.built += 1
        try:
            yield engine
        finally:
            with self._lock:
                self._idle.setdefault(key, []).append(engine)
                self._idle.move_to_end(key)
                while len(self._idle) > self.suites:
                    self._idle.popitem(last=False)


#: This process's engines (a worker's validations, release after release).
ENGINES = EngineCache()


@dataclass
class SuiteRunner:
    """Runs one suite over chunks of a dataset, in a kept ``SuiteEngine`` of its suite."""

    spec: DataSuiteSpec
    text_columns: list[str]
    engines: EngineCache = field(default=ENGINES, repr=False)
    expectations: list[_Expectation] = field(init=False)
    tallies: list[_Tally] = field(init=False)

    def __post_init__(self) -> None:
        with self.engines.borrow(self.spec, self.text_columns) as engine:
            self.expectations = engine.expectations  # what each check is (read only)
        self.tallies = [_Tally() for _ in self.expectations]
        self._gathered: list[pa.RecordBatch] = []
        self._gathered_bytes = 0

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
        with self.engines.borrow(self.spec, self.text_columns) as engine:
            results = engine.run(frame)
        for r, tally in zip(results, self.tallies, strict=True):
            tally.element_count += int(r.result.get("element_count", len(frame)) or 0)
            tally.unexpected_count += int(r.result.get("unexpected_count", 0) or 0)
            tally.success = tally.success and bool(r.success)

    def results(self) -> list[CheckResult]:
        """Aggregated checks (counts only)."""
        return [CheckResult(kind=e.kind, column=e.column, rule=e.rule, success=t.success,
                            element_count=t.element_count, unexpected_count=t.unexpected_count)
                for e, t in zip(self.expectations, self.tallies, strict=True)]


__all__ = ["ENGINES", "GX_BATCH_BYTES", "RESULT_FORMAT", "EngineCache", "SuiteEngine",
           "SuiteRunner", "infer_suite"]
