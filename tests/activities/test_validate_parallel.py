"""Validate on several processes writes the report a sequential run writes.

The residual-identifier check runs over chunks in a process pool
(``activities.residual_pool``); great-expectations runs in the parent over
gathered batches. On real pseudonymized output (CSV and Parquet) with
identifiers planted in several chunks, sequential and parallel runs must give
the same report: same counts per column and type, same verdict, and no
identifier value in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities import memfile, validate, validate_suite
from medpipe.activities.datasets import TabularStream
from medpipe.activities.pseudonymize import Vault, default_policy
from medpipe.activities.pseudonymize.run import Pseudonymizer, pseudonymize_file
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_pool import ResidualPool
from medpipe.activities.residual_scan import ResidualTally, scan_batch
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.validate import (
    CheckKind,
    ColumnRule,
    ColumnType,
    DataSuiteSpec,
    ValidationReport,
)
from medpipe.workers.sample import make_cohort
from tests.memfiles import batch_files

KEY = b"d" * 32
CHUNK = 128  # rows per pool chunk: the output spans many chunks, several in flight
#: rows whose notes get an original identifier back, spread over many chunks
PLANTED = (3, 130, 700, 1290, 2050)


@pytest.fixture(scope="module")
def pseudonymized(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, DigestSet,
                                                                      pa.Table]:
    """A pseudonymized cohort with identifiers planted back, its digests, the original."""
    original = make_cohort(patients=700, visits=3, seed=11).table
    tmp = tmp_path_factory.mktemp("pseudo")
    src = tmp / "cohort.parquet"
    pq.write_table(original, src)
    run = Pseudonymizer(default_policy(), Vault.in_memory(), source=src.name, digest_key=KEY)
    pseudonymize_file(src, tmp / "out.parquet", default_policy(), run=run)
    out = pq.read_table(tmp / "out.parquet")
    notes = out.column("notes").to_pylist()
    for i, row in enumerate(PLANTED):
        leak = [f"SSN {original['ssn'][row]}", f"call {original['phone'][row]}",
                f"mail {original['email'][row]}", f"seen with {original['name'][row]}",
                f"ref {original['patient_id'][row]}"][i]
        notes[row] = f"{notes[row]} {leak}"
    out = out.set_column(out.schema.get_field_index("notes"), "notes", pa.array(notes))
    return out, run.identifier_digests(KEY), original


@pytest.fixture(params=["csv", "parquet"])
def output_file(request: pytest.FixtureRequest, pseudonymized: tuple[pa.Table, DigestSet,
                                                                      pa.Table],
                tmp_path: Path) -> Path:
    table = pseudonymized[0]
    path = tmp_path / f"pseudonymized.{request.param}"
    if request.param == "csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path, row_group_size=500)
    return path


def validate_file(path: Path, digests: DigestSet, processes: int) -> ValidationReport:
    """The activity's own read path for the format, then ``validate_batches``."""
    data = path.read_bytes()
    chunks = (data[i:i + (1 << 14)] for i in range(0, len(data), 1 << 14))
    if path.suffix == ".csv":
        return validate.validate_batches(validate.csv_batches(chunks), None, digests,
                                         processes=processes, chunk_rows=CHUNK)
    with TabularStream(chunks, "parquet", rows=validate.CHUNK_ROWS) as data:
        return validate.validate_batches(data.batches(), None, digests, processes=processes,
                                         chunk_rows=CHUNK)


def test_parallel_report_equals_sequential(output_file: Path, pseudonymized: tuple[
        pa.Table, DigestSet, pa.Table]) -> None:
    _, digests, original = pseudonymized
    seq = validate_file(output_file, digests, 1)
    for processes in (2, 3):
        par = validate_file(output_file, digests, processes)
        assert par.model_dump_json() == seq.model_dump_json()
    notes = next(c for c in seq.residual_failures if c.column == "notes")
    assert notes.unexpected_count >= len(PLANTED)  # every planted row blocks the release
    assert all(k in notes.rule for k in ("SSN", "PHONE", "EMAIL"))
    assert seq.rows == original.num_rows
    dumped = seq.model_dump_json()
    for row in PLANTED:
        for col in ("ssn", "phone", "email", "name", "patient_id"):
            assert str(original[col][row]) not in dumped


def test_a_clean_output_passes_in_parallel_too(pseudonymized: tuple[pa.Table, DigestSet,
                                                                     pa.Table],
                                               tmp_path: Path) -> None:
    table, digests, _ = pseudonymized
    planted = set(PLANTED)
    clean = table.filter(pa.array([i not in planted for i in range(table.num_rows)]))
    path = tmp_path / "clean.parquet"
    pq.write_table(clean, path, row_group_size=500)
    seq, par = validate_file(path, digests, 1), validate_file(path, digests, 2)
    assert par == seq
    assert seq.residual_failures == [], seq.summary()


def test_the_pool_runs_chunks_in_children_and_merges_in_order(
        pseudonymized: tuple[pa.Table, DigestSet, pa.Table]) -> None:
    table, digests, _ = pseudonymized
    batches = table.to_batches(max_chunksize=700)
    sequential = ResidualTally()
    for b in batches:
        scan_batch(b, digests, sequential)
    with ResidualPool(digests, 2, chunk_rows=CHUNK) as pool:
        for b in batches:
            pool.add(b)
        parallel = pool.result()
    # all in children but the last, which the caller's thread checks while they finish
    assert pool.pooled == sum(-(-b.num_rows // CHUNK) for b in batches) - 1
    assert list(parallel.values.items()) == list(sequential.values.items())
    assert parallel.hits == sequential.hits and parallel.kinds == sequential.kinds
    assert parallel.found >= len(PLANTED)
    assert not batch_files()  # the chunks' memory files closed as their counts came


def test_chunks_pickled_where_there_are_no_memory_files_give_the_same_counts(
        pseudonymized: tuple[pa.Table, DigestSet, pa.Table],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Off Linux (no memfd or /proc) each chunk travels pickled in its handle."""
    table, digests, _ = pseudonymized
    batches = table.to_batches(max_chunksize=700)
    sequential = ResidualTally()
    for b in batches:
        scan_batch(b, digests, sequential)
    monkeypatch.setattr(memfile, "available", lambda: False)
    with ResidualPool(digests, 2, chunk_rows=CHUNK) as pool:
        for b in batches:
            pool.add(b)
        assert pool._sent and all(f.handle.inline is not None for f in pool._sent)
        parallel = pool.result()
    assert list(parallel.values.items()) == list(sequential.values.items())
    assert parallel.hits == sequential.hits and parallel.kinds == sequential.kinds


def test_one_chunk_needs_no_pool(pseudonymized: tuple[pa.Table, DigestSet, pa.Table]) -> None:
    table, digests, _ = pseudonymized
    with ResidualPool(digests, 2, chunk_rows=table.num_rows) as pool:
        pool.add(table.combine_chunks().to_batches()[0])
        tally = pool.result()
    assert pool.pooled == 0 and tally.found >= len(PLANTED)


SUITE = DataSuiteSpec(columns={
    "patient": ColumnRule(type=ColumnType.STRING, nullable=False, regex=r"^P-[0-9a-f]{4}$"),
    "age": ColumnRule(type=ColumnType.INTEGER, nullable=False, min=0, max=90),
    "visit": ColumnRule(unique=True),
    "notes": ColumnRule(type=ColumnType.STRING, free_text=True),
}, allow_extra_columns=True)


def suite_rows(n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"patient": f"P-{i:04x}", "age": 20 + i % 60, "visit": i, "notes": "[NAME] stable"}
        for i in range(n)]
    rows[7]["age"], rows[450]["age"], rows[901]["patient"] = 130, -3, "MRN0001"
    rows[600]["visit"] = 5
    rows[333]["notes"] = "call 617-555-0100"
    return rows


def test_suite_counts_do_not_depend_on_how_batches_are_gathered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    batches = pa.Table.from_pylist(suite_rows(1000)).to_batches(max_chunksize=100)
    whole = validate.validate_batches(iter(batches), SUITE, None, processes=2, chunk_rows=64)
    monkeypatch.setattr(validate_suite, "GX_BATCH_BYTES", 1)  # one great-expectations run per batch
    each = validate.validate_batches(iter(batches), SUITE, None, processes=1)
    assert each == whole
    got = {(c.column, c.rule): c.unexpected_count for c in whole.failures}
    assert got[("age", "between 0 and 90")] == 2 and got[("visit", "unique")] == 1
    assert got[("patient", "matches its format")] == 1
    assert [c.unexpected_count for c in whole.failures
            if c.kind is CheckKind.RESIDUAL_IDENTIFIER] == [1]


def test_a_bad_chunk_mid_stream_fails_the_same_way(
        pseudonymized: tuple[pa.Table, DigestSet, pa.Table]) -> None:
    table, digests, _ = pseudonymized

    def broken() -> Iterator[pa.RecordBatch]:
        yield from table.to_batches(max_chunksize=300)[:3]
        raise InvalidInput("dataset is not readable parquet: truncated")

    messages = []
    for processes in (1, 2):
        with pytest.raises(InvalidInput) as err:
            validate.validate_batches(broken(), None, digests, processes=processes,
                                      chunk_rows=CHUNK)
        messages.append(str(err.value))
    assert messages[0] == messages[1] == "dataset is not readable parquet: truncated"
    assert not batch_files()  # the chunks in flight when it failed: their files closed too
