"""A pseudonymize shard's memory does not hold the dataset-wide index (issue 17).

Every shard scrubs with the learn pass's identifier index, which grows with the
dataset (keyed digests: ~17 bytes a key, several keys a patient; hundreds of MB at
10M rows). A shard used to join the stored index into one private copy (while
its decrypted pieces were still held) and then write it to a scratch file for
its pool: a fanned-out release of 2M rows peaked at 2 GiB on one worker. It now
decrypts the index into the scratch file and maps it, the worker and its pool
children sharing the page cache's pages.

Measured here: the traced peak (Python and numpy objects) of a shard of one chunk
of a cohort generated streaming, every row a new patient, at N and 4N rows. The
shard's own work is the same chunk in both; what grows with N is the index and the
vault the shard reads. The old shard grew by 260 bytes a patient of this cohort
(measured: 19.2 -> 26.7 MiB from 10k to 40k patients); with the mapped index, 155
(18.3 -> 22.8 MiB), what is left being the vault the shard loads.
"""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from pathlib import Path

import yaml

from medpipe.activities.ingest import IngestActivities
from medpipe.activities.pseudonymize.fanout import FanoutPseudonymizeActivities
from medpipe.contracts.fanout import PseudonymizeLearnInput, PseudonymizeShardInput
from medpipe.contracts.ingest import IngestInput, SourceSpec
from tests.activities.pseudonymize.test_bounded_memory import POLICY, cohort_csv
from tests.support import two_us_workers

CHUNK = 2_000
#: Bytes a one-chunk shard's traced peak may grow per patient of the dataset.
BUDGET_PER_PATIENT = 205


def shard_peak(root: Path, rows: int) -> int:
    """Traced peak bytes of shard 0 (the first chunk) of a ``rows``-row cohort (its own
    keys, stores and vault under ``root``)."""
    root.mkdir()
    keys, workers, vault_uri = two_us_workers(root)
    worker = workers[0]
    data = root / f"cohort-{rows}.csv"
    with data.open("wb") as f:
        for block in cohort_csv(rows):
            f.write(block)
    policy = root / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY.model_dump(mode="json")))
    rid = f"r-{uuid.uuid4().hex[:8]}"
    dataset = IngestActivities(worker).ingest(IngestInput(
        release_id=rid, keys=keys, sources=(SourceSpec(name="dataset",
                                                       uri=data.as_uri()),))).artifact("dataset")
    acts = FanoutPseudonymizeActivities(worker)
    learned = acts.learn(PseudonymizeLearnInput(
        release_id=rid, dataset=dataset, policy_uri=policy.as_uri(), keys=keys,
        vault_uri=vault_uri, chunk_rows=CHUNK))
    assert learned.patients == rows
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = acts.shard(PseudonymizeShardInput(
        release_id=rid, dataset=dataset, policy_uri=policy.as_uri(), keys=keys,
        vault_uri=vault_uri, index=learned.index, shard=0, first_chunk=0, chunks=1,
        chunk_rows=CHUNK, vault_version=learned.vault_version))
    top = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert out.counts.records == CHUNK
    return top


def test_a_shards_peak_does_not_grow_by_the_index(tmp_path: Path) -> None:
    small, large = 10_000, 40_000
    shard_peak(tmp_path / "warm", CHUNK)  # first-use imports
    peaks = [shard_peak(tmp_path / str(rows), rows) for rows in (small, large)]
    per_patient = (peaks[1] - peaks[0]) / (large - small)
    assert per_patient < BUDGET_PER_PATIENT, (
        f"a one-chunk shard's traced peak grew {per_patient:,.0f} bytes a patient from "
        f"{small:,} to {large:,} patients ({peaks[0] / 2**20:.1f} -> {peaks[1] / 2**20:.1f} "
        "MiB)")
