"""The validate stage's engine: great-expectations suites and residual identifiers."""

from __future__ import annotations

import json
import threading

import pyarrow as pa
import pytest

from medpipe.activities import validate
from medpipe.activities.residual import DigestSet
from medpipe.activities.validate import csv_batches, validate_batches
from medpipe.contracts.pseudonymize import Placeholder
from medpipe.contracts.validate import CheckKind, ColumnRule, ColumnType, DataSuiteSpec

KEY = b"k" * 32

SUITE = DataSuiteSpec(columns={
    "patient": ColumnRule(type=ColumnType.STRING, nullable=False, regex=r"^P-[0-9a-f]{16}$"),
    "age": ColumnRule(type=ColumnType.INTEGER, nullable=False, min=0, max=90),
    "sex": ColumnRule(allowed=("F", "M", "U")),
    "visit": ColumnRule(unique=True),
    "notes": ColumnRule(type=ColumnType.STRING, free_text=True),
})


def table(rows: list[dict[str, object]]) -> list[pa.RecordBatch]:
    return pa.Table.from_pylist(rows).to_batches()


def clean_rows(n: int = 50) -> list[dict[str, object]]:
    return [{"patient": f"P-{i:016x}", "age": 20 + i % 60, "sex": "FMU"[i % 3], "visit": i,
             "notes": f"[NAME] seen on [DATE], stable, HbA1c {5 + i % 4}.1"} for i in range(n)]


def test_a_clean_dataset_passes_every_check() -> None:
    report = validate_batches(iter(table(clean_rows())), SUITE,
                              DigestSet.from_values(KEY, ["Ada Okafor", "MRN0100001"]))
    assert report.rows == 50
    assert report.failures == [], report.summary()
    kinds = {c.kind for c in report.checks}
    assert kinds == {CheckKind.SCHEMA, CheckKind.DATA, CheckKind.RESIDUAL_IDENTIFIER}


def test_a_planted_ssn_blocks_with_column_and_count_but_no_value() -> None:
    rows = clean_rows()
    rows[7]["notes"] = "call back re SSN 123-45-6789"
    report = validate_batches(iter(table(rows)), SUITE, None)
    failed = report.residual_failures
    assert [(c.column, c.rule.endswith("found: SSN 1"), c.unexpected_count) for c in failed] == [
        ("notes", True, 1)]
    assert "123-45-6789" not in report.model_dump_json()
    assert "found: SSN 1 (1 of 50 rows)" in report.summary()


def test_an_original_identifier_surviving_anywhere_is_found_by_digest() -> None:
    rows = clean_rows()
    rows[3]["notes"] = "discussed with ada okafor today"
    rows[5]["notes"] = "discussed with OKAFOR, Ada today"
    rows[9]["notes"] = "ref mrn 0100001"
    digests = DigestSet.from_values(KEY, ["Ada Okafor", "MRN0100001"], Placeholder.NAME)
    report = validate_batches(iter(table(rows)), SUITE, digests)
    failed = report.residual_failures
    assert [(c.column, c.unexpected_count) for c in failed] == [("notes", 3)]
    dumped = report.model_dump_json().lower()
    assert "okafor" not in dumped and "mrn0100001" not in dumped


def test_data_rules_count_violations() -> None:
    rows = clean_rows()
    rows[0]["age"] = 130
    rows[1]["sex"] = "X"
    rows[2]["visit"] = 3
    rows[4]["patient"] = "not-a-token"
    report = validate_batches(iter(table(rows)), SUITE, None)
    got = {(c.column, c.rule): c.unexpected_count for c in report.failures}
    assert got == {("age", "between 0 and 90"): 1, ("sex", "in 3 allowed values"): 1,
                   ("visit", "unique"): 1, ("patient", "matches its format"): 1}


def test_unexpected_and_missing_columns_are_schema_failures() -> None:
    rows = [{k: v for k, v in r.items() if k != "sex"} | {"ssn": "x"} for r in clean_rows(5)]
    report = validate_batches(iter(table(rows)), SUITE, None)
    got = {(c.column, c.rule) for c in report.failures}
    assert ("sex", "column present") in got and ("ssn", "column expected by policy") in got


def test_counts_aggregate_over_chunks() -> None:
    rows = clean_rows(90)
    rows[5]["age"] = -1
    rows[80]["age"] = -2
    batches = pa.Table.from_pylist(rows).to_batches(max_chunksize=30)
    report = validate_batches(iter(batches), SUITE, None)
    age = next(c for c in report.failures if c.column == "age")
    assert (age.element_count, age.unexpected_count) == (90, 2)


def test_csv_reader_rejects_garbage_clearly() -> None:
    from medpipe.contracts.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not readable CSV"):
        list(csv_batches(iter([b"a,b\n1,2,3,4\n\x00\x01"])))


def test_report_is_plain_json() -> None:
    report = validate_batches(iter(table(clean_rows(5))), SUITE, None)
    assert json.loads(report.model_dump_json())["rows"] == 5


def test_fhir_output_is_checked_by_type() -> None:
    from medpipe.activities.validate import validate_fhir

    digests = DigestSet.from_values(KEY, ["Ada Okafor"], Placeholder.NAME)
    clean = (b'{"resourceType":"Observation","id":"o1","effectiveDateTime":"2023-01-05",'
             b'"note":[{"text":"[NAME] stable"}],"code":{"coding":[{"code":"12345678"}]}}\n')
    report = validate_fhir(iter([clean]), "ndjson", digests)
    assert report.failures == [] and report.rows == 1
    leaked = clean.replace(b"[NAME] stable", b"Okafor, Ada called 555-0100")
    report = validate_fhir(iter([leaked]), "ndjson", digests)
    assert [(c.column, c.unexpected_count) for c in report.residual_failures] == [
        ("Observation.note", 1)]
    assert "okafor" not in report.model_dump_json().lower()


def test_an_identifier_both_a_pattern_and_a_rule_know_is_counted_once() -> None:
    """An SSN is the SSN pattern's and the id-runs rule's (digit groups 3-2-4): one finding."""
    rows = clean_rows()
    rows[4]["notes"] = "SSN 123-45-6789 confirmed"
    rows[9]["notes"] = "see 987-65-4320 again"
    report = validate_batches(iter(table(rows)), SUITE, None)
    (check,) = report.residual_failures
    assert check.unexpected_count == 2
    assert check.rule.endswith("found: SSN 2")


def test_a_kept_suite_engine_gives_each_run_its_own_counts() -> None:
    """A worker keeps one GX context per suite and schema (``validate_suite.ENGINES``):
    the second validation of a schema builds none, and its report is the one a fresh
    engine gives (no count carried over from the first run)."""
    from medpipe.activities import validate_suite

    engines = validate_suite.EngineCache()
    bad = clean_rows()
    bad[4]["age"] = 130
    runs = []
    for rows in (bad, clean_rows(), bad):
        runner = validate_suite.SuiteRunner(spec=SUITE, text_columns=["patient", "sex", "notes"],
                                            engines=engines)
        for b in table(rows):
            runner.add(b)
        runner.flush()
        runs.append(runner.results())
    assert engines.built == 1
    assert runs[0] == runs[2] != runs[1]
    fresh = validate_suite.SuiteRunner(spec=SUITE, text_columns=["patient", "sex", "notes"],
                                       engines=validate_suite.EngineCache())
    for b in table(bad):
        fresh.add(b)
    fresh.flush()
    assert fresh.results() == runs[0]
    assert [c.unexpected_count for c in runs[0] if c.rule == "between 0 and 90"] == [1]


def test_a_kept_suite_engine_keeps_no_result_of_its_runs() -> None:
    """A kept engine lives as long as the worker: its GX context must not hold a result per
    run (``ValidationDefinition.run`` stored each one in the context's results store)."""
    from medpipe.activities import validate_suite

    engines = validate_suite.EngineCache()
    bad = clean_rows()
    bad[7]["sex"] = "X"
    for _ in range(3):
        runner = validate_suite.SuiteRunner(spec=SUITE, text_columns=["patient", "sex", "notes"],
                                            engines=engines)
        for b in table(bad):
            runner.add(b)
        runner.flush()
        assert [c.unexpected_count for c in runner.results()
                if c.rule == "in 3 allowed values"] == [1]
    with engines.borrow(SUITE, ["patient", "sex", "notes"]) as engine:
        assert engine.context.validation_results_store.list_keys() == []
    assert engines.built == 1


def test_two_runs_at_once_never_share_a_suite_engine() -> None:
    from medpipe.activities import validate_suite

    engines = validate_suite.EngineCache()
    with engines.borrow(SUITE, ["notes"]) as a, engines.borrow(SUITE, ["notes"]) as b:
        assert a is not b
    with engines.borrow(SUITE, ["notes"]) as c:
        assert c in (a, b)
    assert engines.built == 2


def test_a_workers_own_import_of_great_expectations_waits_for_it_to_be_idle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``start_gx_import(idle=...)`` (a worker's start) imports only once the worker has
    run no data stage for ``GX_IDLE_S``, or as soon as a validate needs it: a stage handed
    to a fresh worker at once must not share its GIL with the import."""
    monkeypatch.setattr(validate, "GX_IDLE_S", 0.5)
    busy, done = threading.Event(), threading.Event()
    needed = validate._GX_NEEDED.is_set()  # an earlier validate of this process set it
    validate._GX_NEEDED.clear()

    def wait() -> None:
        validate._when_idle(lambda: not busy.is_set())
        done.set()

    try:
        busy.set()
        threading.Thread(target=wait, daemon=True).start()
        assert not done.wait(1.0)  # a stage runs: no import yet
        busy.clear()
        assert not done.wait(0.3)  # idle, but not for GX_IDLE_S yet
        assert done.wait(5.0)  # idle long enough: import
        busy.set()
        done.clear()
        threading.Thread(target=wait, daemon=True).start()
        assert not done.wait(0.3)
        validate._GX_NEEDED.set()  # what wait_for_gx does: busy or not, import now
        assert done.wait(1.0)
    finally:
        if not needed:
            validate._GX_NEEDED.clear()
