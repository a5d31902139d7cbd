"""The scrubber and the residual scan as they were before the column-wise engine.

Verbatim copies of ``scrub_patterns``/``scrub_column`` (one RE2 replace per
pattern over the whole column, then a per-text Python lookup of known
values and names) and of ``residual_scan.scan_batch`` (one RE2 match per
pattern, then a per-text lookup of every value) from before the speed
work. ``tests/activities/deid/test_differential.py`` holds the fast engine
to the same output, span for span and count for count, and
``bench/deid_speed.py`` prints both speeds from one run. Not used by the
product. Since the fixpoint (issue 12) the rules run on a text until they find
nothing, as the scrubber's passes do (``scrub.RULE_PASSES``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import (
    dateruns,
    detect,
    letterforms,
    peopleforms,
    proseplaces,
    rules_pass,
    townforms,
)
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.deid.names import CANDIDATE as _NAME_CANDIDATE
from medpipe.activities.deid.normalize import folds_to_letters
from medpipe.activities.deid.patterns import CANDIDATE, PATTERNS, re2, rewrite
from medpipe.activities.pseudonymize.scrub import RULE_PASSES
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_scan import INNER_SPACE, ResidualTally

_MARKS = {ph.value: detect.mark(ph) for _, _, ph in PATTERNS}
#: The name prefilter, and the texts recall8's and recall9's rule modules select: their forms
#: need no name cue the prefilter knows (``Nina-Fenne van Noordeloos``, ``-- Tom``, ``near
#: cedar falls``, ``Hometown: McCook``, ``end of february``).
NAME_CANDIDATE = _NAME_CANDIDATE + "".join(
    f"|(?i:{r.trigger})" for r in (proseplaces.RULE, letterforms.RULE, dateruns.RULE,
                                   townforms.RULE, peopleforms.RULE))


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
        col = pc.replace_substring_regex(col, re2(pattern), rewrite(pattern, detect.mark(ph)))
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
    col = rules_pass.scrub_column(col, counts)  # the registry's rules (added since), first
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
    # non-ASCII texts: the rules read the folded copy, which the prefilter does not see, so
    # every one is looked at (since recall4: "América Téllez" escaped the prefilter)
    maybe = pc.or_(maybe, pc.invert(pc.fill_null(pc.string_is_ascii(col), True)))
    if pc.any(maybe).as_py():
        texts = col.to_pylist()
        for i in pc.indices_nonzero(maybe).to_pylist():
            for _ in range(RULE_PASSES):  # until the rules find nothing (the check's view)
                spans = detect.find(texts[i], None, patterns=False)
                if not spans:
                    break
                texts[i] = detect.replace(texts[i], spans, counts)
        col = pa.array(texts, type=col.type)
    return col


def scan_batch(batch: pa.RecordBatch, digests: DigestSet | None, tally: ResidualTally) -> None:
    """Check every text cell of a record batch.

    The patterns run vectorised (RE2, the scrubber's own pass) on the free-text
    cells; names (on the cells the scrubber's prefilter selects), folded
    non-ASCII text and known values are checked per cell, by the same code.
    """
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        valid = pc.is_valid(col)
        # free text: white space of any kind inside (stop 23; a plain space before)
        free = pc.and_(valid, pc.match_substring_regex(pc.utf8_trim_whitespace(col),
                                                       INNER_SPACE))
        free = pc.fill_null(free, False)
        hit = np.zeros(len(col), dtype=bool)
        kinds: Counter[str] = Counter()
        for _, pattern, ph in PATTERNS:
            m = pc.fill_null(pc.and_(free, pc.match_substring_regex(col, re2(pattern))), False)
            mask = m.to_numpy(zero_copy_only=False)
            if mask.any():
                kinds[ph.value] += int(mask.sum())
                hit |= mask
        texts = col.to_pylist()
        cue = pc.fill_null(pc.and_(free, pc.match_substring_regex(col, NAME_CANDIDATE)), False)
        special = pc.or_(cue, pc.and_(free, pc.invert(pc.string_is_ascii(col))))
        special_rows = set(pc.indices_nonzero(pc.fill_null(special, False)).to_pylist())
        for i, v in enumerate(texts):
            if v is None:
                continue
            patterns = i in special_rows and not v.isascii() and not folds_to_letters(v)
            spans = detect.find(v, digests.find if digests is not None else None,
                                patterns=patterns, names=i in special_rows,
                                rules_outside_patterns=True)  # patterns counted above
            if spans:
                hit[i] = True
                kinds.update(ph.value for _, _, ph in spans)
        n = len(col) - col.null_count
        tally.values[name] += n
        tally.hits[name] += int(hit.sum())
        if kinds:
            tally.kinds.setdefault(name, Counter()).update(kinds)
