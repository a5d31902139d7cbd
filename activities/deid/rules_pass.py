"""The registry's rules over a column of texts, before the hand-written patterns.

The vectorised pattern pass (``patterns``) replaces what it recognises and
can cut a form it only half knows: ``020 7946 0958`` becomes ``[PHONE]
0958`` (a seven-digit local number, then a group left over), ``fe80::1%eth0``
becomes ``[IP]%eth0``. The registry's rules (``registry``) know these forms
whole, so the scrubber runs them first, on the texts their triggers select
(one RE2 pass over the column per rule, the runs a rule skips whole left out:
no trigger is searched again per text), and the patterns then see what is left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import detect, marks, registry
from medpipe.activities.deid.normalize import fold, to_original


def spans(text: str, which: Sequence[int] | None = None) -> list[detect.Span]:
    """Spans the registry's rules find in ``text`` (original coordinates, merged).

    ``which``: the text's row of ``registry.triggered``, when the column pass has it.
    """
    folded, offsets = fold(text)
    found = marks.found(folded, [sp for sp in registry.find(folded, which) if sp[1] > sp[0]])
    if not found:
        return []
    return detect.merge([(*to_original(s, e, offsets, len(text)), ph)
                         for s, e, ph in detect.merge(found)])


def selected(col: pa.Array) -> np.ndarray:
    """The texts some registry rule may find something in (a boolean mask).

    Each rule's trigger over the column (``registry.triggered``: runs a rule skips whole
    left out), and every text RE2 cannot judge as ``re`` does (``registry.re2_unsafe``:
    not ASCII, or a ``\\v`` or separator that ``re``'s ``\\s`` takes and RE2's does not).
    """
    return np.asarray(registry.triggered(col).any(axis=1), dtype=bool)


def scrub_column(col: pa.Array, counts: Counter[str]) -> pa.Array:
    """Replace what the registry's rules find in a column of texts; count placeholders."""
    if len(col) == 0 or col.null_count == len(col):
        return col
    triggered = registry.triggered(col)  # each rule's trigger over the column, not per text
    rows = np.flatnonzero(triggered.any(axis=1))
    if not len(rows):
        return col
    which = triggered[rows]
    texts = col.take(pa.array(rows)).to_pylist()
    changed: dict[int, str] = {}
    seen: dict[str, tuple[str, Counter[str]]] = {}  # a repeated text is looked at once
    for i, (r, t) in enumerate(zip(rows.tolist(), texts, strict=True)):
        done = seen.get(t)
        if done is None:
            found, added = spans(t, which[i].tolist()), Counter[str]()
            done = seen[t] = (detect.replace(t, found, added) if found else t, added)
        if done[1]:
            changed[r] = done[0]
            counts.update(done[1])
    if not changed:
        return col
    mask = np.zeros(len(col), dtype=bool)
    mask[list(changed)] = True
    return pc.replace_with_mask(col, pa.array(mask),
                                pa.array([changed[i] for i in sorted(changed)], col.type))
