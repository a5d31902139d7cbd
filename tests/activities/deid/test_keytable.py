"""The identifier index as keyed digests: same lookups and residual digests as strings."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from medpipe.activities.deid import keytable
from medpipe.activities.deid.index import KeyIndex, value_keys
from medpipe.activities.deid.keytable import DigestTable, ValueSet, digests, keyed_blob
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.residual import DigestSet, keyed_digest
from medpipe.contracts.pseudonymize import Placeholder

KEY = b"k" * 32


@pytest.mark.parametrize(("size", "person"), [(16, b""), (8, b"datesh"), (32, b"x")])
def test_keyed_blob_is_each_values_keyed_digest(size: int, person: bytes) -> None:
    values = ["", "a", "Anne-Marie O'Brien", "Téllez", "x" * 300] + [f"MRN{i}" for i in range(50)]
    want = b"".join(hashlib.blake2b(v.encode(), key=KEY, digest_size=size, person=person)
                    .digest() for v in values)
    assert keyed_blob(KEY, values, size, person) == want
    assert keyed_blob(KEY, [], size, person) == b""
    if size == 16 and not person:
        assert keyed_blob(KEY, values) == b"".join(keyed_digest(KEY, v) for v in values)


def test_residual_digests_equal_a_digest_set_built_from_the_strings() -> None:
    values = [("Anne-Marie O'Brien", Placeholder.NAME), ("123-45-6789", Placeholder.SSN),
              ("(555) 234-5678", Placeholder.PHONE)] + \
        [(f"MRN{i:07d}", Placeholder.MRN) for i in range(5000)]
    index = KeyIndex(KEY)
    index.BUFFER = 512  # many flushes and runs
    for v, kind in values:
        index.add_all([v], kind)
    keys, prefixes = set(), set()
    for v, kind in values:
        for run in value_keys(v, kind):
            keys.add("".join(run))
            prefixes.update("".join(run[:i + 1]) for i in range(len(run)))
            prefixes.add("".join(run))
    want = DigestSet(KEY, {keyed_digest(KEY, k) for k in keys},
                     {keyed_digest(KEY, p) for p in prefixes}, index.width, ["notes"])
    blob = RunState(format="csv", index=index).digest_blob(KEY, ["notes"])
    assert blob == want.to_bytes()
    assert b"obrien" not in blob and b"MRN0000001" not in blob
    assert len(index) == len(keys)


def test_a_key_keeps_its_first_placeholder_unless_one_is_a_name() -> None:
    index = KeyIndex(KEY)
    index.add_all(["Jordan"], Placeholder.ADDRESS)
    index.add_all(["Jordan"], Placeholder.ID)  # later, another kind: the first stays
    index.add_all(["Paris"], Placeholder.ADDRESS)
    assert index.lookup_runs(["jordan", "paris", "nobody"])[1] == \
        [Placeholder.ADDRESS, Placeholder.ADDRESS, None]
    index.add_all(["Paris"], Placeholder.NAME)  # a name wins, even after a flush
    assert index.find("met paris and jordan") == [(4, 9, Placeholder.NAME),
                                                  (14, 20, Placeholder.ADDRESS)]
    index.freeze()
    index.add_all(["Zed Quux"], Placeholder.NAME)  # frozen: the learn pass saw every value
    assert index.find("zed quux") == []


def test_runs_merge_and_every_digest_is_found_once() -> None:
    table = DigestTable()
    values = [f"v{i}" for i in range(20_000)]
    for lo in range(0, len(values), 1_000):
        hi, low = digests(KEY, values[lo:lo + 1_000])
        table.add(hi, low, np.full(len(hi), lo // 1_000, dtype=np.int64))
    hi, low = digests(KEY, values[:3_000])
    table.add(hi, low, np.zeros(len(hi), dtype=np.int64))  # already there: kept, not doubled
    assert len(table) == len(values)
    found, code = table.lookup(digests(KEY, values + ["absent"])[0])
    assert found[:-1].all() and not found[-1]
    assert code[:-1].tolist() == [i // 1_000 for i in range(len(values))]
    assert len(table.digest_bytes()) == 16 * len(values)


def test_contains_compares_all_128_bits_even_when_the_first_64_repeat() -> None:
    hi = np.array([5, 5, 5, 9], dtype=np.uint64)
    lo = np.array([1, 2, 7, 3], dtype=np.uint64)
    table = DigestTable.from_arrays(hi, lo, np.zeros(4, dtype=np.uint8))
    q_hi = np.array([5, 5, 5, 9, 9, 4, 10], dtype=np.uint64)
    q_lo = np.array([2, 3, 7, 3, 1, 1, 3], dtype=np.uint64)
    assert table.contains(q_hi, q_lo).tolist() == [True, False, True, True, False, False,
                                                   False]


@pytest.mark.parametrize("case", ["random", "two sorted runs", "shared hi", "one", "none"])
def test_a_run_is_ordered_as_lexsort_orders_it(case: str) -> None:
    rng = np.random.default_rng(7)
    hi = rng.integers(0, 2**63, 5_000, dtype=np.uint64)
    lo = rng.integers(0, 2**63, 5_000, dtype=np.uint64)
    if case == "two sorted runs":  # what a merge of two runs sorts
        hi[:3_000].sort()
        hi[3_000:].sort()
    elif case == "shared hi":  # 64-bit halves repeated (lo then decides), lo too
        hi = hi % np.uint64(40)
        lo[::2] = lo[1::2]
    elif case == "one":
        hi, lo = hi[:1], lo[:1]
    elif case == "none":
        hi, lo = hi[:0], lo[:0]
    want = np.lexsort((lo, hi))
    assert keytable._order(hi, lo).tolist() == want.tolist()
    run = keytable._sorted_run(hi, lo, np.arange(len(hi)))
    assert run.code.tolist() == want.tolist()


def test_a_digest_blob_out_of_order_or_repeated_gives_the_sorted_distinct_table() -> None:
    table = DigestTable()
    hi, lo = digests(KEY, [f"v{i}" for i in range(300)])
    table.add(hi, lo, np.zeros(len(hi), dtype=np.uint8))
    blob = table.digest_bytes()
    items = [blob[i:i + 16] for i in range(0, len(blob), 16)]
    shuffled = b"".join(items[::-1] + items[:7])
    again = DigestTable.from_digest_bytes(shuffled)
    assert again.digest_bytes() == blob and len(again) == 300
    assert again.contains(hi, lo).all()
    with pytest.raises(ValueError, match="multiple of 16"):
        DigestTable.from_digest_bytes(blob[:-1])


def test_value_set_counts_duplicates_within_and_across_batches() -> None:
    seen = ValueSet()
    assert seen.add(np.array([3, 1, 3, 2], dtype=np.uint64)) == 1
    assert seen.add(np.array([2, 4, 4, 5], dtype=np.uint64)) == 2
    for k in range(10):  # runs merge
        assert seen.add(np.arange(100 * k, 100 * k + 50, dtype=np.uint64)) == (5 if k == 0 else 0)
    assert seen.values().tolist() == sorted({1, 2, 3, 4, 5} | {v for k in range(10)
                                                               for v in range(100 * k,
                                                                              100 * k + 50)})


@pytest.mark.parametrize("case", ["random", "sorted runs", "repeats", "negative", "one",
                                  "none"])
def test_sorted_distinct_is_np_unique(case: str) -> None:
    rng = np.random.default_rng(3)
    values: np.ndarray = rng.integers(0, 2**63, 20_000, dtype=np.uint64)
    if case == "sorted runs":  # a held set and a new batch concatenated
        values = np.concatenate([np.sort(values[:15_000]), values[:5_000]])
    elif case == "repeats":
        values = values % np.uint64(97)
    elif case == "negative":
        values = rng.integers(-500, 500, 3_000, dtype=np.int64)
    elif case == "one":
        values = values[:1]
    elif case == "none":
        values = values[:0]
    got = keytable.sorted_distinct(values)
    assert got.dtype == values.dtype
    assert got.tolist() == np.unique(values).tolist()


def test_sorted_distinct_refuses_floats() -> None:
    with pytest.raises(TypeError, match="integers"):
        keytable.sorted_distinct(np.array([1.0, float("nan")]))


@pytest.mark.parametrize("upgrade", [None, 3])
def test_a_large_query_gets_the_answers_of_small_ones(upgrade: int | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Queries of ``_SORT_QUERIES`` digests or more are searched sorted: the answers, the
    codes kept and upgraded, and the table's contents are those of the query in its own
    order (every query small)."""
    rng = np.random.default_rng(11)
    values = [f"v{i}" for i in range(30_000)]
    batches = [(values[at:at + 9_000], rng.integers(0, 4, 9_000)) for at in (0, 6_000, 15_000,
                                                                             21_000)]
    probe_hi, probe_lo = digests(KEY, values[::-3] + ["absent", "also absent"])
    probe_lo = probe_lo.copy()
    probe_lo[::5] += np.uint64(1)  # the same first 64 bits, another digest

    def build() -> tuple[DigestTable, tuple[np.ndarray, np.ndarray], np.ndarray]:
        table = DigestTable()
        for vals, code in batches:
            hi, lo = digests(KEY, vals)
            table.add(hi, lo, code.astype(np.int64), upgrade)
        return table, table.lookup(probe_hi), table.contains(probe_hi, probe_lo)

    assert keytable._SORT_QUERIES <= 9_000  # these batches and probes take the sorted path
    sorted_table, sorted_found, sorted_contains = build()
    monkeypatch.setattr(keytable, "_SORT_QUERIES", 10**9)
    plain_table, plain_found, plain_contains = build()
    assert sorted_table.arrays()[0].tolist() == plain_table.arrays()[0].tolist()
    assert sorted_table.arrays()[2].tolist() == plain_table.arrays()[2].tolist()
    assert [a.tolist() for a in sorted_found] == [a.tolist() for a in plain_found]
    assert sorted_contains.tolist() == plain_contains.tolist()
    assert not plain_found[0][-1] and plain_found[0][:-2].all()
