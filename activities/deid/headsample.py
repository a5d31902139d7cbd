"""A column's first texts tell whether an alternation of triggers pays before the triggers.

``rules.active`` (the rule table's groups of triggers) and ``registry.triggered`` (the
registry's rules without a skip) match an alternation of several triggers over a column
first, then each trigger only over the texts the alternation selects, where the column's
first texts mostly hold none of them: on templated notes one pass instead of one per
trigger; on varied notes, where most texts hold one, the alternation would only add its
own pass. The choice changes the work, never the result.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: How many of a column's first texts tell whether an alternation pays. Compiling an
#: alternation and building its first DFA states costs ~7-9 ms (``bench/deid.py``'s notes),
#: so columns under ``MIN_ROWS`` texts are matched one trigger at a time.
SAMPLE = 64
MIN_ROWS = 1024


def selects_most(judged: pa.Array, union: str, share: float) -> bool:
    """Whether ``union`` selects more than ``share`` of the column's first ``SAMPLE`` texts."""
    return sample_hits(judged, union) > share * min(len(judged), SAMPLE)


def sample_hits(judged: pa.Array, union: str) -> int:
    """How many of the column's first ``SAMPLE`` texts ``union`` selects (each sample
    compiles its alternation once more: Arrow compiles a pattern per call)."""
    head = judged.slice(0, SAMPLE)
    return int(pc.sum(pc.fill_null(pc.match_substring_regex(head, union), False)).as_py() or 0)


__all__ = ["MIN_ROWS", "SAMPLE", "sample_hits", "selects_most"]
