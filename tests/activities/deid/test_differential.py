"""The column-wise scrubber gives exactly what the per-text scrubber gave: text and counts.

``reference_scrub`` is the scrubber from before the speed work (one RE2
replace per pattern, then a Python lookup per text). Both run over the
bench's labelled corpus (every tuned and held-out form, accents, curly
apostrophes, other patients named) and over generated texts (hypothesis)
mixing identifiers, their parts, punctuation, line breaks and non-ASCII
characters; outputs and placeholder counts must be identical.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import _deid_reference as reference_scrub
from bench._deid_corpus import make_identities, make_note
from medpipe.activities.deid.columnar import Hits, count_marks, find_column, replace, tokenize
from medpipe.activities.deid.detect import known_spans
from medpipe.activities.deid.index import KeyIndex, value_keys
from medpipe.activities.pseudonymize.scrub import scrub_column
from medpipe.activities.residual import DigestSet
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.test_residual_columnar import both as scan_both

COLUMNS = (("name", Placeholder.NAME), ("ssn", Placeholder.SSN), ("phone", Placeholder.PHONE),
           ("email", Placeholder.EMAIL), ("street", Placeholder.ADDRESS),
           ("city", Placeholder.ADDRESS), ("mrn", Placeholder.MRN))


def both(col: pa.Array, index: KeyIndex | None) -> None:
    """Scrub ``col`` both ways; the outputs and the counts must be equal."""
    old_counts: Counter[str] = Counter()
    new_counts: Counter[str] = Counter()
    old = reference_scrub.scrub_column(col, index, old_counts)
    new = scrub_column(col, index, new_counts)
    assert new.type == old.type
    for i, (a, b) in enumerate(zip(old.to_pylist(), new.to_pylist(), strict=True)):
        assert b == a, f"row {i} differs"
    assert new_counts == old_counts


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], KeyIndex]:
    rng = random.Random(7)
    people = make_identities(300, 7)
    notes = [make_note(rng, people, "held-out" if i % 3 == 0 else "tuned", i)
             for i in range(3000)]
    index = KeyIndex(b"k" * 32)
    for col, kind in COLUMNS:
        index.add_all([p[col] for p in people], kind)
    return [n.text for n in notes], index


def test_bench_corpus_identical(corpus: tuple[list[str], KeyIndex]) -> None:
    texts, index = corpus
    assert not all(t.isascii() for t in texts)  # both paths (ASCII and folded) are exercised
    col = pa.array(texts + [None, "", "   ", "\n"], pa.string())
    both(col, index)
    both(col.slice(5, 700), index)  # an array with an offset
    both(pa.array(texts[:500], pa.large_string()), index)


def test_bench_corpus_without_index(corpus: tuple[list[str], KeyIndex]) -> None:
    texts, _ = corpus
    both(pa.array(texts[:1000]), None)
    both(pa.array(texts[:1000]), KeyIndex())


def test_tokens_match_the_per_text_split() -> None:
    texts = ["Ab-cd  ef\n12x", "", "...", "end.", "a", "Zz9 ,, q", "x\ny z"]
    toks, parent, start, end, joins = tokenize(pa.array(texts))
    got = list(zip(parent.tolist(), start.tolist(), end.tolist(), toks.to_pylist(), strict=True))
    want = [(0, 0, 2, "ab"), (0, 3, 5, "cd"), (0, 7, 9, "ef"), (0, 10, 13, "12x"),
            (3, 0, 3, "end"), (4, 0, 1, "a"), (5, 0, 3, "zz9"), (5, 7, 8, "q"),
            (6, 0, 1, "x"), (6, 2, 3, "y"), (6, 4, 5, "z")]
    assert got == want
    # ab-cd joins, "cd  ef" (2 spaces) joins, "ef\n12x" does not, nor across texts
    assert joins.tolist() == [True, True, False, False, False, False, False, False,
                              False, True, False]


_ids = st.lists(st.text(alphabet="abcdeféøABC '-.019", min_size=2, max_size=14),
                min_size=1, max_size=6)
_glue = st.sampled_from([" ", "  ", ", ", " - ", "    ", " -- ", "\n", "", "'", "’", ".",
                         " ( ", "\t", "é", "ß", "ﬁ", " 123-45-6789 ", " Dr. ", " Mary Smith ",
                         "[NAME]"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ids, st.lists(st.lists(st.one_of(_glue, st.text(max_size=6)), max_size=12),
                      min_size=1, max_size=8), st.data())
def test_generated_texts_identical(ids: list[str], shapes: list[list[str]],
                                   data: st.DataObject) -> None:
    index = KeyIndex()
    for v in ids:
        index.add(v, data.draw(st.sampled_from([Placeholder.NAME, Placeholder.ID])))
    texts = []
    for parts in shapes:
        pieces = []
        for p in parts:
            pieces.append(p)
            pieces.append(data.draw(st.sampled_from(ids)).swapcase()
                          if data.draw(st.booleans()) else data.draw(st.sampled_from(ids)))
        texts.append("".join(pieces))
    both(pa.array(texts, pa.string()), index)


def test_column_finder_equals_per_text_finder(corpus: tuple[list[str], KeyIndex]) -> None:
    texts, index = corpus
    plain = [t for t in texts if t.isascii()]
    hits = find_column(pa.array(plain), index.lookup_runs, index.width)
    # the per-text finder: the index's runs, minus one-token values used as words
    assert hits.spans(len(plain)) == [known_spans(t, index.find) for t in plain]
    assert any(known_spans(t, index.find) != index.find(t.lower()) for t in plain)
    small = find_column(pa.array(plain), index.lookup_runs, index.width,
                        block=7)  # texts taken 7 at a time: the same spans
    assert small.spans(len(plain)) == hits.spans(len(plain))
    assert sum(hits.counts().values()) == len(hits.row) > 0
    assert pc.sum(pc.utf8_length(pa.array(plain))).as_py() > 0


def test_residual_scan_identical(corpus: tuple[list[str], KeyIndex]) -> None:
    texts, index = corpus
    digests = DigestSet.from_index(b"k" * 32, index)
    keys = sorted({"".join(run) for p in make_identities(300, 7) for col, kind in COLUMNS
                   for run in value_keys(p[col], kind)
                   if "".join(run).isascii()})  # values alone: only the lookup finds them
    scrubbed = scrub_column(pa.array(texts), index, Counter())
    leaky = [t if i % 5 else t.replace(".", " and Ada Okafor.", 1) for i, t in enumerate(texts)]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(texts + [None]), pa.concat_arrays([scrubbed, pa.array(["é x"])]),
         pa.array(leaky + ["tok_1234"]), pa.array(list(range(len(texts) + 1))),
         pa.array([keys[i % len(keys)] if i % 3 else f"tok{i}" for i in range(len(texts) + 1)])],
        names=["raw", "scrubbed", "leaky", "n", "ids"])
    assert scan_both(batch, digests).hits["ids"] > 0  # values alone are found (the lookup)
    scan_both(pa.RecordBatch.from_arrays([c.cast(pa.large_string()) if pa.types.is_string(c.type)
                                        else c for c in batch.columns], names=batch.schema.names)
            .slice(3), digests)
    scan_both(batch, None)
    scan_both(batch, DigestSet.from_values(b"k" * 32, []))



@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(
    ["[NAME]", "[DATE]", "[", "]", "NAME", "[NAM", "E]", "x", "é", " ", "[[DATE]]", "[AGE]",
     "[ADDRESS]", "[AD", "[A"]),
    max_size=8).map("".join)), max_size=12))
def test_mark_counts_equal_count_substring(texts: list[str | None]) -> None:
    marks = {"NAME": "[NAME]", "DATE": "[DATE]", "URL": "[URL]", "AGE": "[AGE]",
             "ADDRESS": "[ADDRESS]"}
    col = pa.array(texts, pa.string())
    want = {k: (pc.sum(pc.count_substring(col, m)).as_py() or 0) for k, m in marks.items()}
    assert count_marks(col, marks) == want
    assert count_marks(col.slice(1), marks) == {
        k: (pc.sum(pc.count_substring(col.slice(1), m)).as_py() or 0) for k, m in marks.items()}


@st.composite
def _texts_and_hits(draw: st.DrawFn) -> tuple[list[str], Hits]:
    """ASCII texts and non-overlapping spans in them, sorted by text then start."""
    texts = draw(st.lists(st.text(alphabet="ab [].\n", max_size=12), min_size=1, max_size=8))
    rows, starts, ends, codes = [], [], [], []
    for r, t in enumerate(texts):
        cuts = sorted(set(draw(st.lists(st.integers(0, len(t)), max_size=6))))
        for s, e in zip(cuts[0::2], cuts[1::2], strict=False):  # non-empty, apart
            rows.append(r)
            starts.append(s)
            ends.append(e)
            codes.append(draw(st.integers(0, 1)))
    z = np.array
    return texts, Hits(z(rows, np.int64), z(starts, np.int64), z(ends, np.int64),
                       z(codes, np.int64), [Placeholder.NAME, Placeholder.DATE])


@settings(max_examples=150, deadline=None)
@given(_texts_and_hits(), st.booleans())
def test_replace_splices_each_hit(case: tuple[list[str], Hits], sliced: bool) -> None:
    """``replace`` (Arrow: the bytes cut into stretches, the hits' replaced, joined again)
    equals splicing each text in Python, on a sliced column too (an offset into its bytes)."""
    texts, hits = case
    marks = ["[NAME]", "[DATE]"]
    want = list(texts)
    for r, s, e, c in reversed(list(zip(hits.row.tolist(), hits.start.tolist(),
                                        hits.end.tolist(), hits.code.tolist(), strict=True))):
        want[r] = want[r][:s] + marks[c] + want[r][e:]
    col = pa.array(["zz", *texts]).slice(1) if sliced else pa.array(texts)
    assert replace(col, hits, marks).to_pylist() == want


def test_mark_split_across_two_texts_is_not_counted() -> None:
    assert count_marks(pa.array(["a [NA", "ME] b", "[NAME]"]), {"NAME": "[NAME]"}) == {"NAME": 1}
