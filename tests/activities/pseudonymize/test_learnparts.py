"""The learn pass cut in learn shards gives the one learn pass's index, patients and token
order exactly, whatever the number of shards (``learnparts``).

The one pass and the parts run under one fixed digest key here, so their digest tables
can be compared entry by entry (codes included); vault tokens are random, so the vaults
are compared by the order their identifiers were minted in.
"""

from __future__ import annotations

import dataclasses
import io
import random

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities import csvblocks
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize import default_policy, learnpool, parallel, streams
from medpipe.activities.pseudonymize.learnparts import (
    LearnPart,
    Ranked,
    RankedTables,
    check_cover,
    learn_part,
    merge_in_ranges,
    merge_parts,
    merge_ranked,
    merged_index,
    part_bytes,
    part_from_bytes,
)
from medpipe.activities.pseudonymize.learnpool import PooledBatchIndex, batch_index
from medpipe.activities.pseudonymize.run import Pseudonymizer
from medpipe.activities.pseudonymize.shards import dataset_batches
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tokens import Vault, _parse
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.pseudonymize import Placeholder, Policy
from medpipe.workers.sample import make_cohort

KEY = b"learn-parts-test-key".ljust(32, b".")
CHUNK = 250


def tables(index: KeyIndex) -> list[np.ndarray]:
    keys, prefixes = index.tables()
    return [*keys.arrays(), *prefixes.arrays()[:2]]


@pytest.mark.parametrize("seed", range(6))
def test_ranked_merge_keeps_the_placeholder_the_one_index_keeps(seed: int) -> None:
    """Values met under several placeholders in several batches (numbers as an MRN, an
    SSN, a ZIP; words as names and not): merged from per-batch indexes in any shard
    split, each key keeps the code one index fed batch by batch keeps (the first, NAME
    wins)."""
    rng = random.Random(seed)
    pool = [str(rng.randint(1000, 1030)) for _ in range(20)] + \
        [rng.choice(["anne", "may", "west", "rose", "lee"]) + " " +
         rng.choice(["walker", "wells", "clark", "obrien"]) for _ in range(20)]
    kinds = [Placeholder.MRN, Placeholder.SSN, Placeholder.ADDRESS, Placeholder.NAME]
    batches = [[(rng.sample(pool, 8), rng.choice(kinds)) for _ in range(3)]
               for _ in range(9)]
    one = KeyIndex(KEY)
    per_batch = []
    for k, batch in enumerate(batches):
        part = KeyIndex(KEY)
        for values, kind in batch:
            one.add_all(values, kind)
            part.add_all(values, kind)
        key_table, prefix_table = part.tables()
        per_batch.append((Ranked.of(key_table, k), Ranked.of(prefix_table, k)))
    name = list(Placeholder).index(Placeholder.NAME)
    for shards in (1, 2, 4):
        shard_parts = [(merge_ranked([b[0] for b in per_batch[i::shards]], name),
                        merge_ranked([b[1] for b in per_batch[i::shards]]))
                       for i in range(shards)]
        keys = merge_ranked([p[0] for p in shard_parts], name)
        prefixes = merge_ranked([p[1] for p in shard_parts])
        merged = KeyIndex.from_tables(KEY, one.width, keys.table(), prefixes.table())
        for a, b in zip(tables(merged), tables(one), strict=True):
            assert np.array_equal(a, b)


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return make_cohort(patients=700, visits=3, seed=11).table


def data(table: pa.Table, fmt: str) -> list[bytes]:
    sink = io.BytesIO()
    if fmt == "csv":
        pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, sink, row_group_size=400)
    blob = sink.getvalue()
    return [blob[i:i + 50_000] for i in range(0, len(blob), 50_000)]


def one_pass(chunks: list[bytes], fmt: str,
             policy: Policy | None = None) -> tuple[KeyIndex, RunState, Vault]:
    """The one learn activity's index (``Pseudonymizer.learn``) and token pass (premap in
    row order), under ``KEY``, on a fresh vault."""
    policy = policy or default_policy()
    vault = Vault.in_memory()
    run = Pseudonymizer(policy, vault, source="d", chunk_rows=CHUNK, digest_key=KEY)
    run.learn(iter(chunks), fmt)
    state = RunState(format=fmt, index=run.index)
    for batch in dataset_batches(iter(chunks), fmt, policy, "d", CHUNK):
        state.patients.update(str(v) for v in batch.column("patient_id").to_pylist())
        parallel.premap(policy, run.tokenizers, batch, "d")
    return run.index, state, vault


def minted(vault: Vault) -> list[str]:
    """The vault's identifiers in the order their tokens were minted."""
    _, pairs = _parse(vault.to_bytes())
    return pairs.column("id").to_pylist()


def check_parts_give_the_one_pass(chunks: list[bytes], fmt: str, table: pa.Table,
                                  policy: Policy, counts: tuple[int, ...]) -> None:
    """Learn parts of each shard count in ``counts``, merged, give the one pass's index
    (codes included), patients and vault mint order."""
    index, state, vault = one_pass(chunks, fmt, policy)
    expected = minted(vault)
    assert len(expected) == len(set(table.column("patient_id").to_pylist()))
    for shards in counts:
        parts = [part_from_bytes(b"".join(part_bytes(learn_part(
            iter(chunks), fmt, policy, "d", CHUNK, KEY, i, shards))))
            for i in range(shards)]
        rows, count = check_cover(parts)
        assert rows == table.num_rows and count == -(-table.num_rows // CHUNK)
        merged = merged_index(KEY, parts)
        assert merged.width == index.width
        for a, b in zip(tables(merged), tables(index), strict=True):
            assert np.array_equal(a, b)
        patients = RunState(format=fmt, index=merged).patients
        patients.add_digests(np.concatenate([p.patients for p in parts]))
        assert np.array_equal(patients.digests(), state.patients.digests())
        fresh = Vault.in_memory()
        for ids in merge_parts(KEY, parts).vault_batches(100):  # several asks: same order
            fresh.tokens(ids)
        assert minted(fresh) == expected and fresh.new_tokens == len(expected)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_parts_give_the_one_pass_index_patients_and_token_order(cohort: pa.Table,
                                                                fmt: str) -> None:
    check_parts_give_the_one_pass(data(cohort, fmt), fmt, cohort, default_policy(),
                                  (1, 2, 3, 5))


@pytest.mark.parametrize(("fmt", "behind"), [("csv", False), ("parquet", False),
                                             ("csv", True)])
def test_a_learn_shard_indexing_on_child_processes_stores_the_same_part(
        cohort: pa.Table, fmt: str, behind: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A learn shard with two cores indexes its learn batches on a pool
    (``learnpool.batch_index``): its stored part is byte for byte the one it stores
    indexing in its thread, for one shard and for each of two; also when the pool is
    behind and the thread indexes batches itself (``behind``: a window of none, so the
    first batch goes to the pool and every later one is indexed in the thread)."""
    monkeypatch.setattr(streams, "CSV_BLOCK", 40_000)  # several learn batches
    monkeypatch.setattr(csvblocks, "PARSE_BLOCK", 40_000)
    if behind:
        monkeypatch.setattr(learnpool, "IN_FLIGHT_PER_PROCESS", 0)
    chunks = data(cohort, fmt)
    for shards in (1, 2):
        for i in range(shards):
            here = b"".join(part_bytes(learn_part(iter(chunks), fmt, default_policy(), "d",
                                                  CHUNK, KEY, i, shards)))
            with batch_index(KEY, 2) as index:
                assert isinstance(index, PooledBatchIndex)
                pooled = b"".join(part_bytes(learn_part(
                    iter(chunks), fmt, default_policy(), "d", CHUNK, KEY, i, shards,
                    index)))
                assert index.pool is not None  # it did index on the pool
                if behind:
                    assert index.by_thread > 0
            assert pooled == here
            assert index.pool is None  # stopped with the shard


def test_a_learn_shard_of_one_batch_starts_no_pool(cohort: pa.Table) -> None:
    """A shard with a single learn batch indexes it in its thread: no process started
    for a small dataset, and the same part."""
    chunks = data(cohort.slice(0, CHUNK), "csv")
    here = b"".join(part_bytes(learn_part(iter(chunks), "csv", default_policy(), "d",
                                          CHUNK, KEY, 0, 1)))
    with batch_index(KEY, 2) as index:
        assert isinstance(index, PooledBatchIndex)
        part = learn_part(iter(chunks), "csv", default_policy(), "d", CHUNK, KEY, 0, 1,
                          index)
        assert index.pool is None and part.batches == 1
    assert b"".join(part_bytes(part)) == here


def test_a_failed_learn_shard_stops_its_pool(cohort: pa.Table,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard that fails mid-read (its dataset ends in bytes that are no CSV row)
    raises, and its pool is stopped on the way out."""
    monkeypatch.setattr(streams, "CSV_BLOCK", 40_000)
    monkeypatch.setattr(csvblocks, "PARSE_BLOCK", 40_000)
    chunks = [*data(cohort, "csv"), b'\n"unclosed,quote\n']
    with pytest.raises(InvalidInput), batch_index(KEY, 2) as index:
        try:
            learn_part(iter(chunks), "csv", default_policy(), "d", CHUNK, KEY, 0, 1, index)
        finally:
            started = index.pool is not None
    assert started and index.pool is None


def wide(table: pa.Table) -> tuple[pa.Table, Policy]:
    """The cohort with 24 more columns the learn does not read (numbers with gaps, text
    with commas and quotes, a second note, more dates), placed between the policy's, and
    its policy."""
    rng = np.random.default_rng(5)
    n = table.num_rows
    policy = default_policy().model_dump(mode="json")
    rules: dict[str, dict[str, str]] = policy["fields"]
    for i in range(24):
        name = f"extra_{i:02d}"
        kind = i % 4
        if kind == 0:
            col = pa.array(rng.integers(0, 10_000, n), mask=rng.random(n) < 0.1)
            rule = {"action": "keep"}
        elif kind == 1:
            col = pa.array(np.round(rng.normal(50, 9, n), 2))
            rule = {"action": "keep"}
        elif kind == 2:
            col = pa.array([f'w{v}, "q{v % 7}" x' for v in rng.integers(0, 999, n)])
            rule = {"action": "scrub"} if i == 2 else {"action": "keep"}
        else:
            col = table.column("encounter_date")
            rule = {"action": "date_shift"}
        table = table.add_column((i * 5) % table.num_columns, name, col)
        rules[name] = rule
    return table, Policy.model_validate({**policy, "fields": rules})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_wide_dataset_learned_from_its_identifier_columns_only_gives_the_one_pass(
        cohort: pa.Table, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The learn shards convert only the columns the learn reads: with many others
    around them, and the CSV read in small blocks (learn batches of several blocks, cut
    across chunks), the parts still give the one pass's index, patients and tokens."""
    monkeypatch.setattr(streams, "CSV_BLOCK", 40_000)
    monkeypatch.setattr(csvblocks, "PARSE_BLOCK", 40_000)  # the blocks after the first
    table, policy = wide(cohort)
    chunks = data(table, fmt)
    if fmt == "csv":
        assert len(list(streams.csv_batches(iter(chunks), "d", [], 1))) > 20  # blocks
    check_parts_give_the_one_pass(chunks, fmt, table, policy, (1, 2, 3))


def test_a_learn_shard_does_not_convert_a_column_it_does_not_read(
        cohort: pa.Table, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept column whose values turn to text after the first block: a learn shard
    (which never reads it) learns the dataset; the shards that pseudonymize it, reading
    every column, refuse it (fail closed, one stage later)."""
    monkeypatch.setattr(streams, "CSV_BLOCK", 40_000)
    ldl = cohort.column("ldl").to_pylist()
    late = [str(v) if i < 1000 else "high" for i, v in enumerate(ldl)]
    table = cohort.set_column(cohort.schema.get_field_index("ldl"), "ldl", pa.array(late))
    chunks = data(table, "csv")
    part = learn_part(iter(chunks), "csv", default_policy(), "d", CHUNK, KEY, 0, 1)
    assert part.rows == table.num_rows
    with pytest.raises(InvalidInput, match="column 'ldl': a value of another type"):
        list(dataset_batches(iter(chunks), "csv", default_policy(), "d", CHUNK))


def test_merge_refuses_missing_reordered_or_miscut_parts(cohort: pa.Table) -> None:
    chunks = data(cohort, "csv")

    def part(i: int, shards: int) -> LearnPart:
        return learn_part(iter(chunks), "csv", default_policy(), "d", CHUNK, KEY, i, shards)

    a, b, c = (part(i, 3) for i in range(3))
    with pytest.raises(InvalidInput, match="every learn shard once, in order"):
        check_cover([a, c, b])
    with pytest.raises(InvalidInput, match="every learn shard once, in order"):
        check_cover([a, b])  # one missing
    with pytest.raises(IntegrityError, match=r"learn shard \d holds \d+ chunks of 10"):
        # a part claiming a chunk more than its share (as one of a changed dataset would)
        check_cover([a, dataclasses.replace(b, chunks=b.chunks + 1), c])
    assert check_cover([a, b, c])[0] == cohort.num_rows


def test_a_part_that_is_not_one_is_refused(cohort: pa.Table) -> None:
    blob = b"".join(part_bytes(learn_part(iter(data(cohort, "csv")), "csv", default_policy(),
                                          "d", CHUNK, KEY, 0, 2)))
    with pytest.raises(IntegrityError, match="not a medpipe-learn-part"):
        part_from_bytes(b"MPKI2" + blob[5:])
    with pytest.raises(IntegrityError, match="not a medpipe-learn-part"):
        part_from_bytes(blob[:100])  # truncated


def test_a_dataset_without_its_policy_columns_is_refused_by_every_learn_shard(
        cohort: pa.Table) -> None:
    chunks = data(cohort.drop_columns(["patient_id"]), "csv")
    for i in range(2):
        with pytest.raises(InvalidInput, match="patient_id"):
            learn_part(iter(chunks), "csv", default_policy(), "d", CHUNK, KEY, i, 2)


def test_ranked_merge_orders_keys_sharing_their_first_64_bits() -> None:
    """Two keys with one ``hi`` (a 64-bit collision) in several parts: each kept once,
    sorted by ``lo``, with its lowest rank's code (NAME wins)."""
    u8, name = np.uint64, list(Placeholder).index(Placeholder.NAME)

    def ranked(rows: list[tuple[int, int, int, int]]) -> Ranked:
        hi, lo, code, rank = zip(*rows, strict=True)
        return Ranked(np.array(hi, u8), np.array(lo, u8), np.array(code, np.uint8),
                      np.array(rank, np.uint32))

    a = ranked([(1, 1, 2, 0), (5, 9, 3, 0), (7, 1, 2, 0)])
    b = ranked([(5, 2, 4, 1), (5, 9, 6, 1), (8, 0, 1, 1)])
    c = ranked([(5, 2, 3, 2), (7, 1, name, 2)])
    out = merge_ranked([c, b, a], name)  # part order does not matter: the rank does
    assert out.hi.tolist() == [1, 5, 5, 7, 8] and out.lo.tolist() == [1, 2, 9, 1, 0]
    assert out.code.tolist() == [2, 4, 3, name, 1] and out.rank.tolist() == [0, 1, 0, 0, 1]


@pytest.mark.parametrize("seed", range(3))
def test_a_merge_in_ranges_is_the_merge_of_the_whole(seed: int) -> None:
    """Parts whose digests crowd the range edges, repeat across parts (other codes, other
    ranks) and share 64 bits: merged range by range, the union of the whole."""
    rng = np.random.default_rng(seed)
    edge = 1 << 62  # a range edge for 4 ranges (and for 2, 8, 64)
    hi = np.concatenate([rng.integers(0, 1 << 63, 300, dtype=np.uint64),
                         np.uint64(edge) + rng.integers(-3, 3, 60).astype(np.int64).astype(
                             np.uint64),
                         np.full(20, np.uint64(edge - 1))])
    lo = rng.integers(0, 4, len(hi), dtype=np.uint64)
    name = list(Placeholder).index(Placeholder.NAME)
    parts = []
    for rank in range(3):
        take = rng.random(len(hi)) < 0.6
        h, low = hi[take], lo[take]
        first = np.unique(np.stack([h, low]), axis=1, return_index=True)[1]
        order = np.lexsort((low[first], h[first]))
        h, low = h[first][order], low[first][order]
        parts.append(Ranked(h, low, rng.integers(0, 8, len(h)).astype(np.uint8),
                            np.full(len(h), rank, dtype=np.uint32)))
    whole = merge_ranked(parts, name)
    for ranges in (1, 2, 4, 7, 64):
        out = merge_in_ranges(parts, name, ranges)
        for a in ("hi", "lo", "code", "rank"):
            assert np.array_equal(getattr(out, a), getattr(whole, a)), (ranges, a)


def test_ranked_tables_merged_as_they_grow_give_the_merge_of_all() -> None:
    """Tables added one by one (sizes from 1 to thousands; digests repeated across them
    under other codes and ranks; NAME among the codes) are held merged as they grow: few
    at a time, and their union is ``merge_ranked`` of them all."""
    rng = np.random.default_rng(5)
    name = list(Placeholder).index(Placeholder.NAME)
    pool = np.unique(rng.integers(0, 1 << 63, 6_000, dtype=np.uint64))

    def ranked(rank: int) -> tuple[Ranked, Ranked]:
        out = []
        for size in (int(rng.integers(1, 40)) if rank % 3 else int(rng.integers(100, 2_000)),
                     int(rng.integers(1, 400))):
            hi = np.sort(rng.choice(pool, size, replace=False))
            out.append(Ranked(hi, hi ^ np.uint64(7), rng.integers(0, 9, size).astype(np.uint8),
                              np.full(size, rank, dtype=np.uint32)))
        return out[0], out[1]

    added = [ranked(rank) for rank in range(120)]
    tables = RankedTables()
    held = 0
    for keys, prefixes in added:
        tables.add_ranked(keys, prefixes, 1)
        held = max(held, len(tables.keys), len(tables.prefixes))
    keys, prefixes = tables.merged()
    for got, want in ((keys, merge_ranked([k for k, _ in added], name)),
                      (prefixes, merge_ranked([p for _, p in added]))):
        for a in ("hi", "lo", "code", "rank"):
            assert np.array_equal(getattr(got, a), getattr(want, a)), a
    assert 1 < held <= 14  # merged along the way (~log2 of the entries), not all at the end
    assert (keys.code == name).any() and len(set(keys.rank.tolist())) > 20
