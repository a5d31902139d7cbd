"""A cohort of any size for the benchmarks, written chunk by chunk (never held in memory).

The chunks come from ``workers.sample.make_cohort`` with one seed each; their
patient identifiers are renumbered per chunk (``MRN0…`` → ``MRN<k>…`` in the
identifier column and in the notes), so every chunk holds other patients and
the release's learn pass indexes ``rows / visits`` distinct patients.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's medpipe, not an installed one)
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from medpipe.workers.sample import make_cohort, write_sample

#: Patients per generated chunk (x visits rows): memory stays at one chunk.
CHUNK_PATIENTS = 20_000


def vary_notes(table: pa.Table) -> pa.Table:
    """The notes quote the row's LDL and BMI too, so scrubbed notes differ as real ones do.

    The sample's notes quote two measurements: scrubbed, a 131k-row chunk holds ~9k
    distinct texts, and the scrubber looks at a repeated text once — the bench would
    measure that reuse, not the scrubber.
    """
    extra = pc.binary_join_element_wise(
        " LDL", pc.cast(pc.cast(table["ldl"], pa.int64()), pa.string()), "BMI",
        pc.cast(table["bmi"], pa.string()), " ")
    i = table.schema.get_field_index("notes")
    return table.set_column(i, "notes", pc.binary_join_element_wise(table["notes"], extra, ""))


def _chunk(k: int, patients: int, visits: int) -> pa.Table:
    table = vary_notes(make_cohort(patients, visits, seed=1000 + k).table)
    for name in ("patient_id", "notes"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pc.replace_substring(table[name], "MRN0",
                                                               f"MRN{k + 1}"))
    return table


def write_big_sample(out_dir: Path, rows: int, *, visits: int = 3,
                     hidden: int = 1100, processes: int = 1) -> dict[str, Path]:
    """``write_sample``'s model files plus ``cohort-<rows>.csv`` of exactly ``rows`` rows.

    ``processes`` > 1 generates chunks in that many child processes (at most two chunks
    each in flight, written in order: the same file, sooner).

    Returns the paths, with ``dataset`` naming the big CSV.
    """
    paths = write_sample(out_dir, patients=CHUNK_PATIENTS, visits=visits, hidden=hidden)
    big = out_dir / f"cohort-{rows}.csv"
    written = 0
    with pacsv.CSVWriter(big, _chunk(0, 1, visits).schema) as out, \
            _chunks(visits, processes) as tables:
        for table in tables:
            if written >= rows:
                break
            table = table.slice(0, min(table.num_rows, rows - written))
            out.write_table(table)
            written += table.num_rows
    return {**paths, "dataset": big}


@contextlib.contextmanager
def _chunks(visits: int, processes: int) -> Iterator[Iterator[pa.Table]]:
    """Chunks 0, 1, … in order (endless), from a pool when ``processes`` > 1 (what is
    still in flight when the caller stops is cancelled)."""
    if processes <= 1:
        yield (_chunk(k, CHUNK_PATIENTS, visits) for k in itertools.count())
        return
    with concurrent.futures.ProcessPoolExecutor(processes) as pool:
        def ordered() -> Iterator[pa.Table]:
            pending: collections.deque[concurrent.futures.Future[pa.Table]] = \
                collections.deque()
            for k in itertools.count():
                pending.append(pool.submit(_chunk, k, CHUNK_PATIENTS, visits))
                if len(pending) >= 2 * processes:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

        try:
            yield ordered()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
