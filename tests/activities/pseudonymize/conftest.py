"""Shared data for the pseudonymization tests: the sample cohort, written small."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from medpipe.workers.sample import make_cohort


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return make_cohort(patients=60, visits=3, seed=11).table


@pytest.fixture
def cohort_csv(tmp_path: Path, cohort: pa.Table) -> Path:
    path = tmp_path / "cohort.csv"
    pacsv.write_csv(cohort, path)
    return path
