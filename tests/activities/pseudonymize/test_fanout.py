"""A fanned-out pseudonymize (learn → shards on several workers → merge) writes the bytes
the one-activity run writes, in both token modes, and shards racing on the vault never
give one patient two tokens nor lose a token.

Vault tokens are random: as in ``test_parallel``, the runs compared start from the same
vault, so every token is the same and the second run mints none.
"""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from temporalio.exceptions import ApplicationError

from medpipe.activities.context import WorkerContext
from medpipe.activities.ingest import IngestActivities
from medpipe.activities.pseudonymize import default_policy
from medpipe.activities.pseudonymize.activity import PseudonymizeActivities, SealedVaultStore
from medpipe.activities.pseudonymize.fanout import FanoutPseudonymizeActivities
from medpipe.activities.pseudonymize.learnfanout import FanoutLearnActivities
from medpipe.activities.pseudonymize.run import Pseudonymizer, detect_format
from medpipe.activities.pseudonymize.shards import (
    FrozenVault,
    index_from_bytes,
    index_to_bytes,
)
from medpipe.activities.pseudonymize.tokens import Vault, _parse
from medpipe.activities.sealed import open_plain
from medpipe.activities.storage.base import open_store
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.errors import ErrorType, IntegrityError
from medpipe.contracts.fanout import (
    FanoutSettings,
    PseudonymizeLearnInput,
    PseudonymizeLearnMergeInput,
    PseudonymizeLearnResult,
    PseudonymizeLearnShardInput,
    PseudonymizeLearnShardResult,
    PseudonymizeMergeInput,
    PseudonymizeShardInput,
    PseudonymizeShardResult,
    ShardCounts,
    shard_ranges,
)
from medpipe.contracts.ingest import IngestInput, SourceSpec
from medpipe.contracts.pseudonymize import PseudonymizeInput, PseudonymizeResult
from medpipe.workers.sample import make_cohort
from tests.support import two_us_workers

CHUNK = 250  # rows per chunk: 2,100 rows make 9 chunks


@dataclass
class Rig:
    """Two workers (each its own store), a vault bucket and the customer's key."""

    root: Path
    keys: KeySettings
    workers: list[WorkerContext]
    vault_uri: str

    def ingest(self, path: Path) -> ArtifactRef:
        rid = f"r-{uuid.uuid4().hex[:8]}"
        res = IngestActivities(self.workers[0]).ingest(IngestInput(
            release_id=rid, keys=self.keys,
            sources=(SourceSpec(name="dataset", uri=path.as_uri()),)))
        return res.artifact("dataset")


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path, *two_us_workers(tmp_path))


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_cohort(patients=700, visits=3, seed=5).table


def write(table: pa.Table, path: Path) -> Path:
    if path.suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path, row_group_size=400)
    return path


def policy_file(rig: Rig, mode: str) -> str:
    doc = default_policy().model_dump(mode="json")
    doc["token_mode"] = mode
    path = rig.root / f"policy-{mode}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path.as_uri()


def learned_in_shards(rig: Rig, inp: PseudonymizeLearnInput,
                      shards: int) -> PseudonymizeLearnResult:
    """The learn pass fanned out: key on worker 0, learn shards alternating over both
    workers (concurrently), merge on worker 1."""
    acts = [FanoutLearnActivities(w) for w in rig.workers]
    key = acts[0].learn_key(inp).key

    def part(i: int) -> PseudonymizeLearnShardResult:
        return acts[i % 2].learn_shard(PseudonymizeLearnShardInput(
            **inp.model_dump(), digest_key=key, shard=i, shards=shards))

    with ThreadPoolExecutor(shards) as pool:
        parts = tuple(pool.map(part, range(shards)))
    return acts[1].learn_merge(PseudonymizeLearnMergeInput(**inp.model_dump(),
                                                           digest_key=key, parts=parts))


def fanned_out(rig: Rig, dataset: ArtifactRef, policy_uri: str | None, shards: int,
               release_id: str | None = None,
               learn_shards: int = 0) -> tuple[PseudonymizeResult, PseudonymizeLearnResult]:
    """Learn on worker 0 (or in ``learn_shards`` learn shards), shards alternating over
    both workers (concurrently), merge on 1."""
    rid = release_id or f"r-{uuid.uuid4().hex[:8]}"
    acts = [FanoutPseudonymizeActivities(w) for w in rig.workers]
    learn_input = PseudonymizeLearnInput(
        release_id=rid, dataset=dataset, policy_uri=policy_uri, keys=rig.keys,
        vault_uri=rig.vault_uri, chunk_rows=CHUNK)
    learned = learned_in_shards(rig, learn_input, learn_shards) if learn_shards \
        else acts[0].learn(learn_input)
    ranges = shard_ranges(learned.chunks, shards)

    def shard(i: int) -> PseudonymizeShardResult:
        first, count = ranges[i]
        return acts[i % 2].shard(PseudonymizeShardInput(
            release_id=rid, dataset=dataset, policy_uri=policy_uri, keys=rig.keys,
            vault_uri=rig.vault_uri, index=learned.index, shard=i, first_chunk=first,
            chunks=count, chunk_rows=CHUNK, vault_version=learned.vault_version))

    with ThreadPoolExecutor(len(ranges)) as pool:
        results = tuple(pool.map(shard, range(len(ranges))))
    merged = acts[1].merge(PseudonymizeMergeInput(
        release_id=rid, dataset=dataset, keys=rig.keys, learned=learned, shards=results))
    return merged, learned


def one_activity(rig: Rig, dataset: ArtifactRef, policy_uri: str | None) -> bytes:
    """What the one-activity stage writes, with the fan-out's chunk size (Parquet row
    groups are chunks); for CSV the activity itself (the chunk size changes no byte)."""
    rid = f"r-{uuid.uuid4().hex[:8]}"
    if dataset.key.endswith(".csv"):
        res = PseudonymizeActivities(rig.workers[0]).pseudonymize(PseudonymizeInput(
            release_id=rid, dataset=dataset, policy_uri=policy_uri, keys=rig.keys,
            vault_uri=rig.vault_uri))
        return b"".join(open_plain(res.dataset))
    from medpipe.activities.pseudonymize.activity import load_policy_from
    fmt = detect_format(dataset.key)
    policy = load_policy_from(policy_uri, fmt, rig.workers[0])
    store = SealedVaultStore(open_store(rig.vault_uri), rig.keys)
    run = Pseudonymizer(policy, Vault(store.load, store.save), store.hmac_key(),
                        source=dataset.name, chunk_rows=CHUNK)
    run.learn(open_plain(dataset), fmt)
    return b"".join(run.stream(open_plain(dataset), fmt))


@pytest.mark.parametrize("learn_shards", [0, 3])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("mode", ["vault", "hmac"])
def test_fanned_out_equals_one_activity(rig: Rig, table: pa.Table, suffix: str,
                                        mode: str, learn_shards: int) -> None:
    dataset = rig.ingest(write(table, rig.root / f"cohort{suffix}"))
    policy_uri = policy_file(rig, mode)
    patients = len(set(table.column("patient_id").to_pylist()))
    first, learned = fanned_out(rig, dataset, policy_uri, shards=4, learn_shards=learn_shards)
    assert learned.chunks == 9 and learned.rows == table.num_rows
    assert first.report.records == table.num_rows and first.report.patients == patients
    assert first.report.new_tokens == (patients if mode == "vault" else 0)
    assert first.report.placeholders["NAME"] > 0
    # the one-activity run on the vault the fan-out left: the same bytes, no new token
    single = one_activity(rig, dataset, policy_uri)
    assert hashlib.sha256(single).hexdigest() == first.dataset.content_sha256
    marker = b"ph_" if mode == "hmac" else b"pt_"
    assert marker in single and table.column("patient_id")[0].as_py().encode() not in single
    # fanned out again, other shard counts, the learn pass the other way (one activity /
    # learn shards): same bytes, and the same report as a rerun
    again, _ = fanned_out(rig, dataset, policy_uri, shards=3,
                          learn_shards=0 if learn_shards else 2)
    assert again.dataset.content_sha256 == first.dataset.content_sha256
    assert again.report == first.report.model_copy(update={"new_tokens": 0})


def test_report_equals_the_one_activity_report(rig: Rig, table: pa.Table) -> None:
    dataset = rig.ingest(write(table, rig.root / "cohort.csv"))
    fanned_out(rig, dataset, None, shards=2)  # every token assigned
    single = PseudonymizeActivities(rig.workers[0]).pseudonymize(PseudonymizeInput(
        release_id="r-single", dataset=dataset, keys=rig.keys, vault_uri=rig.vault_uri))
    merged, _ = fanned_out(rig, dataset, None, shards=4, release_id="r-fanned")
    assert merged.report == single.report and merged.report.new_tokens == 0
    assert merged.policy_sha256 == single.policy_sha256
    assert merged.dataset.content_sha256 == single.dataset.content_sha256


@pytest.mark.parametrize("learn_shards", [0, 2])
def test_shards_racing_on_the_vault_keep_one_token_per_patient(rig: Rig, table: pa.Table,
                                                               learn_shards: int) -> None:
    """Two releases over overlapping cohorts, each fanned out, all at once: every
    learn pass that loses the vault's conditional write retries (as the workflow's
    runner does), no token is lost, and a patient in both has one token in both."""
    half = table.num_rows // 2
    a = rig.ingest(write(table.slice(0, half + 600), rig.root / "a.csv"))
    b = rig.ingest(write(table.slice(half - 600), rig.root / "b.csv"))
    conflicts = []

    def release(dataset: ArtifactRef, rid: str) -> PseudonymizeResult:
        for _ in range(20):
            try:
                return fanned_out(rig, dataset, None, shards=4, release_id=rid,
                                  learn_shards=learn_shards)[0]
            except ApplicationError as e:  # the vault moved on: run again on its new version
                assert e.type == ErrorType.TRANSIENT and not e.non_retryable
                conflicts.append(e)
        raise AssertionError("never got the vault")

    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(release, [a, b, a, b], ["ra", "rb", "ra2", "rb2"]))
    outs = [pacsv.read_csv(pa.BufferReader(b"".join(open_plain(r.dataset))),
                           convert_options=pacsv.ConvertOptions(
                               column_types={"patient_id": pa.string()}))
            for r in runs]
    store = SealedVaultStore(open_store(rig.vault_uri), rig.keys)
    _, pairs = _parse(store.load() or b"")
    by_id = dict(zip(pairs.column("id").to_pylist(), pairs.column("token").to_pylist(),
                     strict=True))
    ids = set(table.column("patient_id").to_pylist())
    assert ids <= set(by_id) and len(set(by_id.values())) == len(by_id)  # none lost, unique
    assert sum(r.report.new_tokens for r in runs) == len(ids)  # each minted exactly once
    expected = {by_id[i] for i in ids}
    for out in outs:
        assert set(out.column("patient_id").to_pylist()) <= expected
    # the same rows of both releases (the overlap) carry the same tokens
    overlap_a = outs[0].slice(half - 600, 1200).column("patient_id").to_pylist()
    overlap_b = outs[1].slice(0, 1200).column("patient_id").to_pylist()
    assert overlap_a == overlap_b
    assert outs[0].equals(outs[2]) and outs[1].equals(outs[3])


def test_a_bad_row_is_refused_by_its_shard_as_by_the_one_activity_run(
        rig: Rig, table: pa.Table) -> None:
    ids = table.column("patient_id").to_pylist()
    ids[CHUNK * 5 + 7] = None  # no patient id in the sixth chunk: its dates cannot shift
    bad = table.set_column(table.schema.get_field_index("patient_id"), "patient_id",
                           pa.array(ids, pa.string()))
    dataset = rig.ingest(write(bad, rig.root / "bad.csv"))
    with pytest.raises(ApplicationError) as single:
        PseudonymizeActivities(rig.workers[0]).pseudonymize(PseudonymizeInput(
            release_id="r-1", dataset=dataset, keys=rig.keys, vault_uri=rig.vault_uri))
    with pytest.raises(ApplicationError) as fanned:
        fanned_out(rig, dataset, None, shards=3)  # chunks 3-5 hold it
    assert str(fanned.value) == str(single.value) and f"row {CHUNK * 5 + 8}" in str(single.value)
    assert fanned.value.non_retryable and fanned.value.type == single.value.type
    stored = [f.name for f in (rig.root / "bucket-azure").rglob("*") if f.is_file()]
    assert not any(n.startswith("bad") for n in stored)  # no merged output


@pytest.mark.parametrize("free_text", [True, False])
def test_residual_digests_cover_what_the_one_activity_run_covers(
        rig: Rig, table: pa.Table, free_text: bool) -> None:
    """The learn pass digests every replaced identifier (with or without notes to scrub):
    the residual check finds as many of them in the raw dataset as with the one-activity
    run's digests."""
    from medpipe.activities.validate import ValidateActivities
    from medpipe.contracts.validate import ValidateInput
    doc = default_policy().model_dump(mode="json")
    if not free_text:
        for rule in doc["fields"].values():
            if rule["action"] == "scrub":
                rule.update(action="drop")
    policy = rig.root / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    dataset = rig.ingest(write(table, rig.root / "cohort.csv"))
    merged, _ = fanned_out(rig, dataset, policy.as_uri(), shards=3, release_id="r-f")
    single = PseudonymizeActivities(rig.workers[0]).pseudonymize(PseudonymizeInput(
        release_id="r-1", dataset=dataset, policy_uri=policy.as_uri(), keys=rig.keys,
        vault_uri=rig.vault_uri))
    validate = ValidateActivities(rig.workers[0]).validate
    found = [validate(ValidateInput(release_id=r, dataset=dataset,
                                    identifier_digests=digests)).residual_failed
             for r, digests in (("r-1", single.identifier_digests),
                                ("r-f", merged.identifier_digests))]
    assert found[0] == found[1] > 0
    clean = validate(ValidateInput(release_id="r-f", dataset=merged.dataset,
                                   identifier_digests=merged.identifier_digests))
    assert clean.residual_failed == 0


def test_a_shard_never_mints_a_token(rig: Rig, table: pa.Table) -> None:
    dataset = rig.ingest(write(table, rig.root / "cohort.csv"))
    _, learned = fanned_out(rig, dataset, None, shards=2)
    store = SealedVaultStore(open_store(rig.vault_uri), rig.keys)
    frozen = FrozenVault(store.load)
    known = table.column("patient_id")[0].as_py()
    assert frozen.tokens([str(known)])[0].startswith("pt_")
    with pytest.raises(IntegrityError, match="no token"):
        frozen.tokens(["someone the learn pass never saw"])
    frozen.commit()  # nothing minted: nothing to save
    # a shard given a vault version newer than the store's refuses to run
    shard = FanoutPseudonymizeActivities(rig.workers[0]).shard
    with pytest.raises(ApplicationError, match="older than the learn pass"):
        shard(PseudonymizeShardInput(
            release_id="r", dataset=dataset, keys=rig.keys, vault_uri=rig.vault_uri,
            index=learned.index, shard=0, first_chunk=0, chunks=1, chunk_rows=CHUNK,
            vault_version=learned.vault_version + 1))


def test_a_shard_run_again_writes_the_same_object(rig: Rig, table: pa.Table) -> None:
    dataset = rig.ingest(write(table, rig.root / "cohort.csv"))
    _, learned = fanned_out(rig, dataset, None, shards=2, release_id="r-again")
    inp = PseudonymizeShardInput(
        release_id="r-again", dataset=dataset, keys=rig.keys, vault_uri=rig.vault_uri,
        index=learned.index, shard=1, first_chunk=4, chunks=5, chunk_rows=CHUNK,
        vault_version=learned.vault_version)
    act = FanoutPseudonymizeActivities(rig.workers[0])
    first, second = act.shard(inp), act.shard(inp)  # e.g. after its worker was lost
    assert first.output == second.output and first.counts == second.counts
    assert first.counts.records == table.num_rows - 4 * CHUNK
    # the index's digest key is bound to its release: another release's shard cannot use it
    with pytest.raises(ApplicationError, match="does not unwrap"):
        act.shard(inp.model_copy(update={"release_id": "r-other"}))


def test_merge_refuses_missing_or_reordered_shards(rig: Rig, table: pa.Table) -> None:
    dataset = rig.ingest(write(table, rig.root / "cohort.csv"))
    merged, learned = fanned_out(rig, dataset, None, shards=1)
    act = FanoutPseudonymizeActivities(rig.workers[0])
    fake = PseudonymizeShardResult(shard=1, output=merged.dataset, counts=ShardCounts(),
                                   ran_on=merged.ran_on)
    with pytest.raises(ApplicationError, match="every shard once, in order"):
        act.merge(PseudonymizeMergeInput(release_id="r", dataset=dataset, keys=rig.keys,
                                         learned=learned, shards=(fake,)))
    empty = fake.model_copy(update={"shard": 0})  # a shard whose rows went missing
    with pytest.raises(ApplicationError, match="the shards hold 0 rows"):
        act.merge(PseudonymizeMergeInput(release_id="r2", dataset=dataset, keys=rig.keys,
                                         learned=learned, shards=(empty,)))


def test_learn_refuses_without_a_key_to_seal_the_index(rig: Rig, table: pa.Table) -> None:
    dataset = rig.ingest(write(table, rig.root / "cohort.csv"))
    with pytest.raises(ApplicationError, match="key provider") as err:
        FanoutPseudonymizeActivities(rig.workers[0]).learn(PseudonymizeLearnInput(
            release_id="r", dataset=dataset, keys=KeySettings(), vault_uri=rig.vault_uri))
    assert err.value.non_retryable
    assert not list((rig.root / "bucket-aws").rglob("*fanout*"))


def test_index_roundtrip_keeps_every_key() -> None:
    from medpipe.activities.deid.index import KeyIndex
    from medpipe.contracts.pseudonymize import Placeholder
    index = KeyIndex(b"k" * 32)
    index.add_all(["Anne-Marie O'Brien", "Zoë Ñúñez"], Placeholder.NAME)
    index.add_all(["123-45-6789"], Placeholder.SSN)
    blob = index_to_bytes(index)
    assert b"obrien" not in blob and b"6789" not in blob  # digests only
    back = index_from_bytes(blob, index.key)
    assert back.digest_bytes() == index.digest_bytes() and len(back) == len(index) == 10
    assert back.width == index.width
    text = "seen by anne marie obrien, ssn 123 45 6789"
    assert back.find(text) == index.find(text) and back.find(text)
    with pytest.raises(IntegrityError, match="not a medpipe-key-index"):
        index_from_bytes(b'{"format": "other"}', index.key)
    with pytest.raises(IntegrityError, match="not a medpipe-key-index"):
        index_from_bytes(blob[:-1], index.key)  # truncated


def test_shard_ranges_cover_every_chunk_once_in_order() -> None:
    for chunks in range(1, 30):
        for shards in range(1, 12):
            ranges = shard_ranges(chunks, shards)
            assert len(ranges) == min(chunks, shards)
            flat = [c for first, n in ranges for c in range(first, first + n)]
            assert flat == list(range(chunks))
            sizes = [n for _, n in ranges]
            assert max(sizes) - min(sizes) <= 1


def test_settings_fan_out_only_big_tabular_datasets() -> None:
    def ref(key: str, size: int) -> ArtifactRef:
        return ArtifactRef(name="dataset", bucket_uri="file:///b", key=key, sha256="0" * 64,
                           size=size)
    s = FanoutSettings(min_bytes=1000)
    assert s.applies(ref("r/x.csv", 1000)) and s.applies(ref("r/x.parquet", 5000))
    assert not s.applies(ref("r/x.csv", 999))
    assert not s.applies(ref("r/x.ndjson", 10**9))  # FHIR runs as one activity
    assert not FanoutSettings(min_bytes=0).applies(ref("r/x.csv", 10**9))
    assert FanoutSettings().min_bytes == 256 << 20
