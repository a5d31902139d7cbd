"""Validate's memory grows by the identifier digests' bytes, not by Python objects (issue 17).

The validate stage holds two things that grow with the dataset: the keyed
digests of every original identifier the pseudonymize stage replaced (a few a
patient) and the value hashes of the policy's ``unique`` columns (one a
distinct value). Everything else is per chunk. Measured here on a dataset
generated streaming, every row a new patient: the traced peak (Python and
numpy objects) of loading the digests and validating N and 4N rows. The old
``DigestSet`` (frozensets of ``bytes``, ~90 bytes a digest, plus the lists
``from_bytes`` built) and ``unique`` set (Python ints, ~70 bytes a row) grew
by 752 bytes a row of this dataset (measured: 19.9 MiB at 20k rows, 65.0 MiB at
80k); sorted arrays (16 bytes a digest, 8 a hash) by 211 (6.4 -> 19.1 MiB),
their merges' transient copies included, for 106 bytes of digests a row.
"""

from __future__ import annotations

import gc
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_pool import ResidualPool
from medpipe.activities.validate import validate_batches
from medpipe.contracts.pseudonymize import Placeholder
from medpipe.contracts.validate import ColumnRule, ColumnType, DataSuiteSpec

KEY = b"m" * 32
BLOCK = 8_192
SUITE = DataSuiteSpec(columns={
    "patient": ColumnRule(type=ColumnType.STRING),
    "visit": ColumnRule(unique=True),
    "notes": ColumnRule(type=ColumnType.STRING, free_text=True),
})
#: Peak bytes validate may add per row (every row a patient with three identifiers).
BUDGET_PER_ROW = 400


def originals(lo: int, hi: int) -> list[tuple[str, Placeholder]]:
    """Rows ``lo`` .. ``hi``'s original identifiers: record number, SSN, phone."""
    return [v for i in range(lo, hi) for v in (
        (f"MRN{i:09d}", Placeholder.MRN),
        (f"{100 + i % 800:03d}-{i % 97:02d}-{i % 9973:04d}", Placeholder.SSN),
        (f"(555) {200 + i % 700}-{i % 10000:04d}", Placeholder.PHONE))]


def digest_blob(rows: int) -> bytes:
    """What the pseudonymize stage hands over for ``rows`` patients (built streaming)."""
    index = KeyIndex(KEY)
    for lo in range(0, rows, BLOCK):
        for value, kind in originals(lo, min(rows, lo + BLOCK)):
            index.add(value, kind)
    return DigestSet.from_index(KEY, index).to_bytes()


def pseudonymized(rows: int) -> Iterator[pa.RecordBatch]:
    """A pseudonymized dataset of ``rows`` rows, ``BLOCK`` rows at a time (never whole)."""
    for lo in range(0, rows, BLOCK):
        ids = range(lo, min(rows, lo + BLOCK))
        yield pa.RecordBatch.from_pydict({
            "patient": [f"P-{i * 7919:016x}" for i in ids],
            "visit": list(ids),
            "notes": [f"[NAME] seen on [DATE], stable, HbA1c {5 + i % 4}.{i % 10}" for i in ids]})


def peak(rows: int) -> tuple[int, int]:
    """(traced peak bytes of loading the digests and validating ``rows`` rows, digest blob
    bytes)."""
    blob = digest_blob(rows)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    digests = DigestSet.from_bytes(KEY, blob)
    report = validate_batches(pseudonymized(rows), SUITE, digests, chunk_rows=BLOCK)
    top = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert report.rows == rows and report.failures == [], report.summary()
    return top, len(blob)


def test_validate_peak_grows_by_the_digests_not_by_objects_per_row() -> None:
    small, large = 20_000, 80_000
    peak(BLOCK)  # modules and great-expectations' context set up on first use are not the run's
    (p_small, b_small), (p_large, b_large) = peak(small), peak(large)
    per_row = (p_large - p_small) / (large - small)
    digest_per_row = (b_large - b_small) / (large - small)
    assert per_row < BUDGET_PER_ROW, (
        f"validate's traced peak grew {per_row:,.0f} bytes a row from {small:,} to {large:,} "
        f"rows ({p_small / 2**20:.1f} -> {p_large / 2**20:.1f} MiB); the digests are "
        f"{digest_per_row:,.0f} bytes a row")


def test_pool_children_share_one_digest_file_removed_with_the_pool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    digests = DigestSet.from_bytes(KEY, digest_blob(3 * BLOCK))
    rows = list(pseudonymized(3 * BLOCK))
    planted = rows[2].set_column(2, "notes", pa.array(
        [f"ref MRN{2 * BLOCK + i:09d}" if i % 1000 == 0 else "stable" for i in range(BLOCK)]))
    batches = [*rows[:2], planted]
    with ResidualPool(digests, processes=2, chunk_rows=BLOCK // 2) as pool:
        for b in batches:
            pool.add(b)
        assert len(list(tmp_path.glob("medpipe-digests-*/digests.bin"))) == 1
        pooled = pool.result()
    assert pool.pooled > 1
    assert list(tmp_path.glob("medpipe-digests-*")) == []  # the file went with the pool
    with ResidualPool(digests, processes=1) as alone:
        for b in batches:
            alone.add(b)
        assert alone.result() == pooled
    assert pooled.hits["notes"] == 9 and pooled.kinds["notes"]["ID"] == 9  # by digest
