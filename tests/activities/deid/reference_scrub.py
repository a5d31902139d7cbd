"""The scrubber as it was before the column-wise engine: the reference of the differential test.

A verbatim copy of ``scrub_patterns``/``scrub_column`` from before the
speed work (one RE2 replace per pattern over the whole column, then a
per-text Python lookup of known values and names). Kept here, in the tests
only, so that ``test_differential`` can hold the fast engine to the same
output, span for span and placeholder for placeholder.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import detect
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.deid.names import CANDIDATE as NAME_CANDIDATE
from medpipe.activities.deid.normalize import folds_to_letters
from medpipe.activities.deid.patterns import CANDIDATE, PATTERNS, re2

_MARKS = {ph.value: detect.mark(ph) for _, _, ph in PATTERNS}


def scrub_patterns(col: pa.Array, counts: Counter[str]) -> pa.Array:
    """Replace every pattern match with its placeholder; count placeholders added."""
    if len(col) == 0 or col.null_count == len(col):
        return col
    if not pc.any(pc.match_substring_regex(col, CANDIDATE)).as_py():
        return col
    bracket = pc.any(pc.match_substring(col, "[")).as_py()
    before = {v: (pc.sum(pc.count_substring(col, m)).as_py() or 0) if bracket else 0
              for v, m in _MARKS.items()}
    for _, pattern, ph in PATTERNS:
        col = pc.replace_substring_regex(col, re2(pattern), detect.mark(ph))
    for v, m in _MARKS.items():
        added = (pc.sum(pc.count_substring(col, m)).as_py() or 0) - before[v]
        if added > 0:
            counts[v] += added
    return col


def scrub_column(col: pa.Array, index: KeyIndex | None, counts: Counter[str]) -> pa.Array:
    """Scrub a column of texts: patterns, then known values and names per text.

    Args:
        col: the texts (string array).
        index: identifier values of every record of the dataset.
        counts: placeholder counts, updated.
    """
    col = scrub_patterns(col, counts)
    known = index.find if index is not None and len(index) else None
    texts = col.to_pylist()
    if known is not None or not pc.all(pc.fill_null(pc.string_is_ascii(col), True)).as_py():
        for i, t in enumerate(texts):
            if t is None:
                continue
            patterns = not t.isascii() and not folds_to_letters(t)
            spans = detect.find(t, known, patterns=patterns, names=False)
            if spans:
                texts[i] = detect.replace(t, spans, counts)
        col = pa.array(texts, type=col.type)
    # names no column lists, on what is left (vectorised prefilter: few texts qualify)
    maybe = pc.fill_null(pc.match_substring_regex(col, NAME_CANDIDATE), False)
    if pc.any(maybe).as_py():
        texts = col.to_pylist()
        for i in pc.indices_nonzero(maybe).to_pylist():
            spans = detect.find(texts[i], None, patterns=False)
            if spans:
                texts[i] = detect.replace(texts[i], spans, counts)
        col = pa.array(texts, type=col.type)
    return col
