"""The identifier index as keyed digests: same lookups and residual digests as strings."""

from __future__ import annotations

import numpy as np

from medpipe.activities.deid.index import KeyIndex, value_keys
from medpipe.activities.deid.keytable import DigestTable, digests
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.residual import DigestSet, keyed_digest
from medpipe.contracts.pseudonymize import Placeholder

KEY = b"k" * 32


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
