"""The learn pass on a pool builds the one pass's index exactly (``learnpool``).

The one pass and the pool run under one digest key, so their digest tables are
compared entry by entry, placeholder codes included: a value met in several
identifier columns (an MRN that is also a phone number's digits, a name that is
also a street) keeps the placeholder the one pass gives it (the first met, by
batch then column; ``NAME`` wins), however the columns are cut into pieces.
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from medpipe.activities.deid import keytable
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize import learnpool
from medpipe.activities.pseudonymize.learnpool import learn_on_pool, pieces
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tabular import learn
from medpipe.contracts.pseudonymize import FieldRule, Policy

KEY = b"learn-pool-test-key".ljust(32, b".")

POLICY = Policy(patient_id="mrn", fields={
    "mrn": FieldRule(action="token", placeholder="MRN"),
    "name": FieldRule(action="drop", identifier=True, placeholder="NAME"),
    "street": FieldRule(action="drop", identifier=True, placeholder="ADDRESS"),
    "phone": FieldRule(action="drop", identifier=True, placeholder="PHONE"),
    "zip": FieldRule(action="generalize", kind="zip3"),
    "notes": FieldRule(action="scrub"),
})


def batches(seed: int, count: int, rows: int) -> list[pa.RecordBatch]:
    """Batches whose identifier columns share values across columns and batches."""
    rng = random.Random(seed)
    words = ["anne", "may", "west", "rose", "lee", "park", "hill", "grace"]
    numbers = [str(rng.randint(10_000, 10_400)) for _ in range(300)]

    def word() -> str:
        return " ".join(rng.choice(words).title() for _ in range(rng.randint(1, 3)))

    out = []
    for _ in range(count):
        out.append(pa.record_batch({
            "mrn": [rng.choice(numbers) for _ in range(rows)],
            "name": [word() if rng.random() > 0.05 else None for _ in range(rows)],
            "street": [f"{rng.choice(numbers)} {word()} St" if rng.random() > 0.5 else word()
                       for _ in range(rows)],
            "phone": [rng.choice(numbers) + str(rng.randint(10, 99)) for _ in range(rows)],
            "zip": [rng.choice(numbers) for _ in range(rows)],
            "notes": ["seen today"] * rows,
        }))
    return out


def tables(index: KeyIndex) -> list[np.ndarray]:
    keys, prefixes = index.tables()
    return [*keys.arrays(), *prefixes.arrays()[:2]]


@pytest.mark.parametrize(("seed", "processes", "min_piece", "ratio"),
                         [(0, 2, 16, 0.0), (1, 3, 7, 0.5), (2, 2, 1_000_000, 1e9),
                          (3, 4, 1, 0.5)])
def test_the_pool_builds_the_one_pass_index(seed: int, processes: int, min_piece: int,
                                            ratio: float,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learnpool, "MIN_PIECE", min_piece)  # columns cut in pieces, or not
    # tables merged as each comes (0), as they grow (0.5), or only at the end
    monkeypatch.setattr(keytable, "_MERGE_RATIO", ratio)
    data = batches(seed, count=4, rows=300)
    one = RunState(format="csv", index=KeyIndex(KEY))
    learn(POLICY, data, one)
    one.index.freeze()
    pooled = learn_on_pool(POLICY, iter(data), KEY, processes)
    assert pooled.frozen and pooled.width == one.index.width
    for a, b in zip(tables(pooled), tables(one.index), strict=True):
        np.testing.assert_array_equal(a, b)
    # the codes are not all one placeholder: precedence was exercised
    assert len(set(tables(one.index)[2].tolist())) > 2


def test_pieces_cut_a_column_evenly_and_keep_small_ones_whole() -> None:
    values = pa.array([str(i) for i in range(10_000)])
    cut = pieces(values, 3)
    assert len(cut) == 3 and sum(len(p) for p in cut) == 10_000
    assert max(len(p) for p in cut) - min(len(p) for p in cut) <= 1
    assert pa.concat_arrays(cut).equals(values)
    assert len(pieces(values.slice(0, 100), 3)) == 1
    assert pieces(values.slice(0, 0), 2)[0].to_pylist() == []
