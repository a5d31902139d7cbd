"""A fanned-out validate (shards on several workers → merge) writes the report the
one-activity run writes, CSV and Parquet, with identifiers planted in different shards
(counted, never copied), and refuses a range the dataset does not hold."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from temporalio.exceptions import ApplicationError

from medpipe.activities.context import WorkerContext
from medpipe.activities.datasets import TabularStream
from medpipe.activities.ingest import IngestActivities
from medpipe.activities.pseudonymize.activity import PseudonymizeActivities
from medpipe.activities.sealed import open_plain, store_sealed
from medpipe.activities.validate import ValidateActivities, ValidationPass, validate_batches
from medpipe.activities.validate_fanout import FanoutValidateActivities, row_range
from medpipe.activities.validate_parts import merge_parts
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.fanout import (
    ValidateMergeInput,
    ValidateShardInput,
    ValidateShardResult,
    row_ranges,
)
from medpipe.contracts.ingest import IngestInput, SourceSpec
from medpipe.contracts.pseudonymize import PseudonymizeInput, PseudonymizeResult
from medpipe.contracts.validate import (
    CheckKind,
    ColumnRule,
    ColumnType,
    DataSuiteSpec,
    ValidateInput,
    ValidateResult,
)
from medpipe.workers.sample import make_cohort
from tests.support import two_us_workers

RID = "r-val"  # one release: the digest key is bound to it
CHUNK = 250  # rows per chunk: 1,800 rows make 8 chunks
#: rows that get an original identifier back in their notes: in shards 1 and 3 of 3
PLANTED = (17, 1500)


@dataclass
class Rig:
    """Two workers (each its own store), the customer's key, a pseudonymized cohort."""

    root: Path
    keys: KeySettings
    workers: list[WorkerContext]
    raw: pa.Table
    pseudonymized: PseudonymizeResult


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    root = tmp_path_factory.mktemp("validate-fanout")
    keys, workers, vault_uri = two_us_workers(root)
    raw = make_cohort(patients=600, visits=3, seed=11).table
    pacsv.write_csv(raw, root / "cohort.csv")
    dataset = IngestActivities(workers[0]).ingest(IngestInput(
        release_id=RID, keys=keys,
        sources=(SourceSpec(name="dataset", uri=(root / "cohort.csv").as_uri()),))
    ).artifact("dataset")
    pseudo = PseudonymizeActivities(workers[0]).pseudonymize(PseudonymizeInput(
        release_id=RID, dataset=dataset, keys=keys, vault_uri=vault_uri))
    return Rig(root, keys, workers, raw, pseudo)


def planted(rig: Rig, suffix: str) -> ArtifactRef:
    """The pseudonymized cohort with an original MRN and name put back into two notes
    (rows in different shards), stored sealed as ``suffix``."""
    table = pacsv.read_csv(pa.BufferReader(b"".join(open_plain(rig.pseudonymized.dataset))))
    notes = table.column("notes").to_pylist()
    for row in PLANTED:
        notes[row] = (f"{notes[row]} Seen by {rig.raw.column('name')[row].as_py()}, "
                      f"chart {rig.raw.column('patient_id')[row].as_py()}.")
    table = table.set_column(table.schema.get_field_index("notes"), "notes",
                             pa.array(notes, pa.string()))
    sink = pa.BufferOutputStream()
    if suffix == ".csv":
        pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, sink, row_group_size=300)  # groups cut across shard ranges
    return store_sealed(rig.workers[0].store, f"releases/{RID}/planted-{uuid.uuid4().hex[:6]}"
                        f"{suffix}", [sink.getvalue().to_pybytes()], name="dataset",
                        release_id=RID, keys=rig.keys)


def fanned_out(rig: Rig, dataset: ArtifactRef, shards: int,
               suite: DataSuiteSpec | None = None) -> ValidateResult:
    """Shards alternating over both workers (concurrently), merge on worker 1."""
    rows = rig.pseudonymized.report.records
    ranges = row_ranges(rows, CHUNK, shards)
    acts = [FanoutValidateActivities(ValidateActivities(w)) for w in rig.workers]

    def shard(i: int) -> ValidateShardResult:
        first, count = ranges[i]
        return acts[i % 2].shard(ValidateShardInput(
            release_id=RID, dataset=dataset, suite=suite, keys=rig.keys,
            identifier_digests=rig.pseudonymized.identifier_digests, shard=i,
            first_row=first, rows=count))

    with ThreadPoolExecutor(len(ranges)) as pool:
        parts = tuple(pool.map(shard, range(len(ranges))))
    assert all(p.part.encryption is not None for p in parts)  # sealed like any artifact
    return acts[1].merge(ValidateMergeInput(release_id=RID, dataset=dataset, rows=rows,
                                            shards=parts))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fanned_out_report_equals_the_one_activity_report(rig: Rig, suffix: str) -> None:
    dataset = planted(rig, suffix)
    single = ValidateActivities(rig.workers[0]).validate(ValidateInput(
        release_id=RID, dataset=dataset,
        identifier_digests=rig.pseudonymized.identifier_digests))
    fanned = fanned_out(rig, dataset, shards=3)
    assert b"".join(open_plain(fanned.report)) == b"".join(open_plain(single.report))
    assert fanned.model_dump(exclude={"ran_on", "report"}) == \
        single.model_dump(exclude={"ran_on", "report"})
    assert fanned.report.key == single.report.key  # named by its digest; merged on worker 1
    assert fanned.rows == rig.raw.num_rows and fanned.residual_failed == 1
    assert "notes: " in fanned.summary and f"(2 of {rig.raw.num_rows} rows)" in fanned.summary
    # counts, never values: no planted identifier in the report nor in any stored part
    values = [rig.raw.column(c)[r].as_py() for r in PLANTED for c in ("name", "patient_id")]
    report = b"".join(open_plain(fanned.report)).decode()
    assert not any(v in report for v in values)
    for f in rig.root.rglob("part-*.json"):
        data = f.read_bytes()
        assert not any(v.encode() in data for v in values) and b"residual" not in data


def test_unique_columns_count_duplicates_across_shards(rig: Rig) -> None:
    """A policy suite with a ``unique`` column: duplicates inside a shard and across
    shards both count, as in one pass over the whole dataset."""
    table = pa.table({"visit": [i % 700 for i in range(1800)],  # 1,100 repeats, most across
                      "age": [20 + i % 60 for i in range(1800)],
                      "notes": [f"visit note {i}" for i in range(1800)]})
    suite = DataSuiteSpec(columns={
        "visit": ColumnRule(type=ColumnType.INTEGER, nullable=False, unique=True),
        "age": ColumnRule(type=ColumnType.INTEGER, min=0, max=70),
        "notes": ColumnRule(type=ColumnType.STRING, free_text=True)})
    batches = table.to_batches(max_chunksize=CHUNK)
    whole = validate_batches(iter(batches), suite, None)
    parts = []
    for first, count in row_ranges(table.num_rows, CHUNK, 3):
        with ValidationPass(suite, None) as run:
            for b in row_range(iter(batches), first, count):
                run.add(b)
            parts.append(run.part(hashes=True))
    assert merge_parts(parts) == whole
    got = {(c.column, c.rule): c.unexpected_count for c in whole.failures}
    assert got == {("visit", "unique"): 1100, ("age", "between 0 and 70"): 1800 // 60 * 9}
    assert [c.kind for c in whole.checks].count(CheckKind.RESIDUAL_IDENTIFIER) == 1


def test_parquet_shards_skip_the_row_groups_before_their_range(rig: Rig) -> None:
    table = pa.table({"n": list(range(1000))})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=128)
    with TabularStream(iter([sink.getvalue().to_pybytes()]), "parquet", rows=100) as data:
        got = pa.Table.from_batches(list(row_range(data.batches(skip_rows=500), 500, 260,
                                                   lambda: data.skipped)))
        assert data.skipped == 384  # three whole groups never read
    assert got.column("n").to_pylist() == list(range(500, 760))


def test_a_range_beyond_the_dataset_is_refused(rig: Rig) -> None:
    dataset = planted(rig, ".csv")
    act = FanoutValidateActivities(ValidateActivities(rig.workers[0]))
    with pytest.raises(ApplicationError) as e:
        act.shard(ValidateShardInput(release_id=RID, dataset=dataset, keys=rig.keys,
                                     shard=0, first_row=1700, rows=500))
    assert e.value.type == ErrorType.INVALID_INPUT and e.value.non_retryable
    assert "fewer rows than shard range 1700+500" in str(e.value)
