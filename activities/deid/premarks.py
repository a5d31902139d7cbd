"""A folded text with the patterns' identifiers already marked, for rules that read what
follows a date or an address.

The column path runs the patterns over the column before the rule table, so a rule there
reads ``[DATE]:40Z`` or ``[ADDRESS] NW``; ``detect.find`` (one text: single values, the
residual check's second look) runs the patterns and the rules on the same unmarked text.
A rule that reads the words after an identifier marks the text itself first, so both
paths find the same spans; a text that holds marks already (the column path) is read as
it is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from medpipe.activities.deid import patterns
from medpipe.contracts.pseudonymize import Placeholder


def marked(folded: str, mark: str) -> tuple[str, Callable[[int], int]]:
    """``folded`` with the identifiers of the patterns that write ``mark`` (``[DATE]``)
    replaced by it, and a map from an offset of that text outside a mark to the same place in
    ``folded``.

    Args:
        folded: a folded text.
        mark: the mark the caller reads (``[DATE]``): a text holding one already is
            returned as it is, with the identity map.
    """
    if mark in folded:
        return folded, _same
    spans = sorted(_find(folded, mark))
    parts: list[str] = []
    ends: list[int] = []  # end of each mark in the marked text
    shifts: list[int] = []  # what to add to an offset after that mark
    last = shift = length = 0
    for s, e, ph in spans:
        if s < last:  # inside the previous identifier: one mark covers both
            if e > last:
                shift += e - last
                shifts[-1] = shift
                last = e
            continue
        text = f"[{ph.value}]"
        parts += (folded[last:s], text)
        length += s - last + len(text)
        shift += (e - s) - len(text)
        ends.append(length)
        shifts.append(shift)
        last = e
    if not parts:
        return folded, _same
    parts.append(folded[last:])

    def back(offset: int) -> int:
        i = bisect_right(ends, offset)
        return offset + (shifts[i - 1] if i else 0)

    return "".join(parts), back


def _find(folded: str, mark: str) -> list[tuple[int, int, Placeholder]]:
    """The matches of the patterns that write ``mark`` (the others' are not read after)."""
    return [(*patterns.identifier_span(m, kept), ph)
            for (_, rx, ph), kept in zip(patterns.COMPILED, patterns.KEPT, strict=True)
            if f"[{ph.value}]" == mark for m in rx.finditer(folded)]


def _same(offset: int) -> int:
    return offset
