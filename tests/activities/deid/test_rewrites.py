"""The patterns' rewrites narrowed (``rewrites``) give the column the plain loop gives.

``rewrite_column`` runs a run of patterns only on the texts their alternation selects and
a pattern's groups only on the texts its label selector takes; ``rewrite_each`` rewrites
every text with every pattern, groups and all. Texts are drawn from the pieces the
patterns read (labels, units, numbers, addresses, e-mails, URLs, marks) and each way of
running (narrowed or not, split or not, and as the sample chooses) is held equal to the
loop. ``MEDPIPE_HYPOTHESIS=explore`` draws at random.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import rewrites
from medpipe.activities.deid.patterns import PATTERNS, kept_groups

PIECES = [
    "MRN", "MRN:", "MRN0100042", "mrn 0100042", "Med Rec #", "Unit No:", "Medicaid #",
    "Acct", "chart", "member id", "case #", "E84021523", "AB-12345", "1EG4-TE5-MK72",
    "SSN", "SSN:", "ssn#", "social security no", "123-45-6789", "123 45 6789", "123456789",
    "age", "Age:", "aged", "92", "101", "-year-old", " yo", " y/o", "ninety-two", " years old",
    "her 90s", "centenarian", "PID-11", "4521 W Maple Rd", "12 Oak St", "Apt 4", "CA 94110",
    "MA, 02139-1234", "jsmith@gmail.com", "j smith at gmail dot com", "jsmith(at)aol.com",
    "www.example.org/a'b", "https://x.io/p", "10.0.0.1", "fe80::1", "(415) 555-0134",
    "+44 20 7946 0958", "03/14/2024", "March 3, 2024", "[MRN]", "[SSN]", "[DATE]", "[AGE]",
    "[EMAIL]", "[PHONE]", "[ADDRESS]", "seen", "on", "file", "years", "BP 121/80", "LDL 64",
]
SEPS = [" ", " ", ", ", ": ", "\n", "-", "#", ". ", ""]


@st.composite
def texts(draw: st.DrawFn) -> str:
    """A note of pieces the patterns read, joined by what stands between them."""
    parts = draw(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPS)),
                          min_size=1, max_size=12))
    return "".join(p + s for p, s in parts)


def each_way(col: pa.Array) -> list[pa.Array]:
    """The column rewritten by runs, every combination of narrowing and splitting, and as
    ``rewrite_column`` chooses."""
    out = [rewrites.rewrite_column(col)]
    for narrow in (False, True):
        for split in (False, True):
            c = col
            for run, union in rewrites.runs():
                c = rewrites.rewrite_run(c, run, union, narrow, split)
            out.append(c)
    return out


@given(st.lists(texts(), min_size=1, max_size=12))
@example(["MRN: 0100042, MRN0100043"])
@example(["SSN on file 123-45-6789, MRN0100042"])
@example(["age 92 yo, PID-11 4521 W Maple Rd^^"])
@example(["jsmith at gmail dot com seen 92 years old"])
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_narrowed_rewrites_give_the_plain_loops_column(notes: list[str]) -> None:
    col = pa.array([*notes, None])
    want = rewrites.rewrite_each(col)
    for got in each_way(col):
        assert got.equals(want), (notes, got.to_pylist(), want.to_pylist())


@given(st.lists(texts(), min_size=1, max_size=6), st.integers(0, 1023))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=25)
def test_a_column_the_sample_decides_for(notes: list[str], shift: int) -> None:
    """Columns of ``MIN_ROWS`` texts or more: the sample picks the way (the same column)."""
    rows = [notes[(i + shift) % len(notes)] for i in range(rewrites.MIN_ROWS)]
    col = pa.array(rows)
    assert rewrites.rewrite_column(col).equals(rewrites.rewrite_each(col))


def test_few_labels_in_a_large_column_split_and_narrow() -> None:
    """The reference notes' shape: every note an id without a label, none an age or an
    address; both ways of cutting the work are taken and the column is the same."""
    col = pa.array([f"Seen on 03/14/2024. SSN on file 123-45-{i:04d}, MRN{100000 + i}"
                    for i in range(2000)])
    steps = {PATTERNS[i][0]: s for i, s in enumerate(s for run, _ in rewrites.runs()
                                                     for s in run)}
    assert rewrites._few(col, steps["mrn"].labels or "", rewrites.LABEL_SHARE)
    tail = next(u for run, u in rewrites.runs() if u is not None and len(run) == 3
                and run[0] is steps["age"])
    assert rewrites._few(col, tail, rewrites.RUN_SHARE)
    assert rewrites.rewrite_column(col).equals(rewrites.rewrite_each(col))
    assert rewrites.rewrite_column(col)[0].as_py() == "Seen on [DATE]. SSN on file [SSN], [MRN]"


def test_every_pattern_with_groups_has_a_label_selector() -> None:
    for _, run in enumerate(rewrites.runs()):
        for step in run[0]:
            plain = re.compile(step.plain[4:], re.IGNORECASE)
            assert plain.groups == 0
    for label, pattern, _ in PATTERNS:
        has = any(kept_groups(re.compile(pattern, re.IGNORECASE)))
        assert (rewrites.label_selector(pattern) is not None) == has, label


def test_branches_and_the_label_selector() -> None:
    assert rewrites.branches(r"a(?P<x>b|c)|d[|(]|(?:e|f)(g)") == [
        ("a(?P<x>b|c)", True), ("d[|(]", False), ("(?:e|f)(g)", True)]
    assert rewrites.branches(r"\|(?-i:[A-Z])") == [(r"\|(?-i:[A-Z])", False)]
    assert rewrites.label_selector(r"ab(?:c)|d") is None
    assert rewrites.label_selector(r"(?P<l>ssn:?\s)[0-9]{9}|[0-9]{3}") == \
        r"(?i)(?:(?:ssn:?\s)[0-9]{9})"
    with pytest.raises(ValueError):
        rewrites.branches(r"(?i)a(b)")


def test_a_label_word_without_its_number_takes_the_plain_rewrite() -> None:
    """``SSN on file 123-45-6789``: the label branch needs the number right after it."""
    steps = dict(zip([lb for lb, _, _ in PATTERNS],
                     [s for run, _ in rewrites.runs() for s in run], strict=True))
    col = pa.array(["SSN on file 123-45-6789", "SSN: 123-45-6789", "age 92 yo"])
    sel = pa.compute.match_substring_regex(col, steps["ssn"].labels).to_pylist()
    assert sel == [False, True, False]


def test_runs_are_neighbours_in_pattern_order() -> None:
    labels = [label for label, _, _ in PATTERNS]
    assert [len(run) for run, _ in rewrites.runs()] == [
        3 if lb in ("email_spelled", "scan_ssn", "age") else 1
        for lb in labels if lb not in ("url", "ip", "scan_phone", "scan_date", "zip", "address")]
    for seg in rewrites.SEGMENTS:
        i = labels.index(seg[0])
        assert tuple(labels[i:i + len(seg)]) == seg
