"""The patterns' rewrites over a column of texts, each only on the texts it can change.

``scrub.scrub_patterns`` replaces each pattern's matches with its mark, pattern after
pattern, with Arrow's ``replace_substring_regex`` (RE2): every pass copies and rebuilds
every text of the column, and a pattern with label groups (``\\1[MRN]``) makes RE2 compute
the groups of every match. On the reference release's notes (100k) that was 0.9-1.1
CPU-s, of which ``mrn`` 0.27-0.31 (groups) and six patterns no note matches 0.30. The
result here is the same column, with less work, on two grounds:

* A run of patterns (``SEGMENTS``) is matched first as one alternation over the column
  as it enters the run: a text none of them matches is left unchanged by the first (no
  match, no rewrite), so the second sees it as it was and does not match either, and so
  on; only the texts the alternation selects are rewritten (``filter``, then scattered
  back with ``replace_with_mask``). Runs are chosen by measurement: the alternation of
  ``email_spelled``, ``url`` and ``ip``, or of ``age``, ``zip`` and ``address``, costs one
  pass of one of them (~0.03 CPU-s a 100k column; varied notes too), where the first
  patterns together make RE2's DFA grow (1.4 s on 20k bench notes); a pattern alone is
  rewritten over the whole column (its own match first would cost a pass on the notes
  that all hold it).
* A pattern with kept groups (``patterns.kept_groups``: labels and units) whose groups
  cost RE2 much (``SPLIT``) is rewritten with its groups only on the texts where one of
  its branches that hold a group matches (``label_selector``); on the others no group
  can take part in a match, so every rewrite ``\\1\\2[MRN]`` writes the mark alone,
  which the pattern without groups (``plain``: the same matches) and the mark alone
  write without RE2 computing submatches. ``mrn`` on the reference notes 0.21-0.27 ->
  0.07 CPU-s.

``tests/activities/deid/test_rewrites.py`` holds ``rewrite_column`` equal to the plain
pattern-after-pattern loop (``rewrite_each``) on generated texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import detect
from medpipe.activities.deid.patterns import (
    GROUP_TOKEN,
    PATTERNS,
    kept_groups,
    re2,
    rewrite,
    ungrouped,
)

#: Consecutive patterns matched first as one alternation (by label; every other pattern
#: stands alone). Only neighbours: a run's alternation must be read on the column as the
#: patterns before it left it.
SEGMENTS: tuple[tuple[str, ...], ...] = (
    ("email_spelled", "url", "ip"),
    ("scan_ssn", "scan_phone", "scan_date"),
    ("age", "zip", "address"),
)


#: Patterns whose groups are rewritten apart (by label): those whose groups cost RE2 much
#: per match. ``mrn`` (a long alternation of labels: 0.21 CPU-s with groups, 0.07 without on
#: the reference notes); ``ssn``'s groups cost little (0.06 against 0.055), so its selector
#: pass would cost more than it saves.
SPLIT = ("mrn",)


@dataclass(frozen=True)
class Step:
    """One pattern's rewrite: with its groups where a label may be, plainly elsewhere."""

    pattern: str  #: RE2, case-insensitive (``patterns.re2``)
    replacement: str  #: ``\\1[MRN]``: the kept groups and the mark (``patterns.rewrite``)
    plain: str  #: the pattern without capturing groups (the same matches)
    mark: str  #: what the plain rewrite writes
    labels: str | None  #: matched by every text where a group can take part; None: no groups
    split: bool = False  #: the groups rewritten apart where the sample says it pays (``SPLIT``)


def branches(pattern: str) -> list[tuple[str, bool]]:
    """The top-level alternatives of ``pattern``, each with whether it holds a capturing
    group.

    Raises ``ValueError`` where flags are set inline (``(?i)``: they would reach past the
    branch that sets them).
    """
    depth, start, capture = 0, 0, False
    out: list[tuple[str, bool]] = []
    for m in GROUP_TOKEN.finditer(pattern):
        tok = m.group()
        if tok == "|" and depth == 0:
            out.append((pattern[start:m.start()], capture))
            start, capture = m.end(), False
        elif tok == ")":
            depth -= 1
        elif tok.startswith("("):
            if tok != "(" and tok.endswith(")"):
                raise ValueError(f"flags set inline: {tok}")
            depth += 1
            capture |= tok == "(" or tok.startswith("(?P<")
    out.append((pattern[start:], capture))
    return out


def label_selector(pattern: str) -> str | None:
    """An RE2 pattern every text holds where a capturing group of ``pattern`` takes part
    in a match, with the same flags (None: ``pattern`` has no group).

    The alternation of the pattern's top-level branches that hold a group (``branches``),
    without groups: a match is one branch's, and where a group takes part that branch
    matches there, alone, with the same text around it for ``\\b``.
    """
    held = [ungrouped(b) for b, capture in branches(pattern) if capture]
    return re2("|".join(f"(?:{b})" for b in held)) if held else None


@lru_cache(maxsize=1)
def runs() -> tuple[tuple[tuple[Step, ...], str | None], ...]:
    """The patterns' steps in ``PATTERNS`` order, cut into ``SEGMENTS``' runs: (the run's
    steps, their alternation; None for a pattern alone)."""
    labels = [label for label, _, _ in PATTERNS]
    out: list[tuple[tuple[Step, ...], str | None]] = []
    i = 0
    while i < len(PATTERNS):
        seg = next((s for s in SEGMENTS if tuple(labels[i:i + len(s)]) == s), (labels[i],))
        part = PATTERNS[i:i + len(seg)]
        union = re2("|".join(f"(?:{ungrouped(p)})" for _, p, _ in part)) if len(seg) > 1 \
            else None
        out.append((tuple(_step(p, detect.mark(ph), lb in SPLIT) for lb, p, ph in part), union))
        i += len(seg)
    return tuple(out)


def _step(pattern: str, mark: str, split: bool) -> Step:
    has_groups = any(kept_groups(re.compile(pattern, re.IGNORECASE)))
    return Step(re2(pattern), rewrite(pattern, mark), re2(ungrouped(pattern)), mark,
                label_selector(pattern) if has_groups else None, split and has_groups)


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


#: How many of a column's first texts tell which way a step runs (the way changes the
#: work, never the result); columns under ``MIN_ROWS`` texts run every step whole.
SAMPLE = 64
MIN_ROWS = 1024
#: A run is narrowed by its alternation first where it selects at most this share of the
#: sample: otherwise the alternation is a pass that leaves most texts to rewrite anyway.
RUN_SHARE = 0.5
#: A pattern's groups are rewritten apart where its label selector takes at most this share
#: of the sample: the selector and the plain rewrite are two passes where the rewrite with
#: groups was one, and they pay only where most matches would compute groups for nothing
#: (``mrn`` on the reference notes: 0 %; on ``bench/deid.py``'s notes 31 %, where the
#: split cost 0.08 CPU-s against 0.05 whole per 20k notes).
LABEL_SHARE = 0.125


def _few(col: pa.Array, pattern: str, share: float) -> bool:
    """Whether ``pattern`` selects at most ``share`` of the column's first texts (a column
    under ``MIN_ROWS`` texts: never)."""
    if len(col) < MIN_ROWS:
        return False
    head = col.slice(0, SAMPLE)
    return int(_mask(pc.match_substring_regex(head, pattern)).sum()) <= share * len(head)


def rewrite_one(col: pa.Array, step: Step, split: bool) -> pa.Array:
    """One pattern's matches replaced in every text of ``col`` (its groups kept).

    ``split``: the groups only on the texts the label selector takes, the plain rewrite on
    the others (the same column).
    """
    if step.labels is None or not split:
        return pc.replace_substring_regex(col, step.pattern, step.replacement)
    sel = _mask(pc.match_substring_regex(col, step.labels))
    if sel.all():
        return pc.replace_substring_regex(col, step.pattern, step.replacement)
    out = pc.replace_substring_regex(col, step.plain, step.mark)
    if sel.any():
        keep = pa.array(sel)
        out = pc.replace_with_mask(out, keep, pc.replace_substring_regex(
            col.filter(keep), step.pattern, step.replacement))
    return out


def rewrite_run(col: pa.Array, run: tuple[Step, ...], union: str | None, narrow: bool,
                split: bool | None = None) -> pa.Array:
    """A run's rewrites, one after the other, over ``col``.

    ``narrow``: only on the texts ``union`` (the run's alternation) selects, scattered
    back; ``split``: each step's groups apart (``rewrite_one``; None: where its selector
    takes few of the sample).
    """
    def each(sub: pa.Array) -> pa.Array:
        for step in run:
            apart = split if split is not None else (
                step.split and step.labels is not None and _few(sub, step.labels, LABEL_SHARE))
            sub = rewrite_one(sub, step, apart)
        return sub

    if union is None or not narrow:
        return each(col)
    sel = _mask(pc.match_substring_regex(col, union))
    if not sel.any():
        return col
    if sel.all():
        return each(col)
    keep = pa.array(sel)
    return pc.replace_with_mask(col, keep, each(col.filter(keep)))


def rewrite_column(col: pa.Array) -> pa.Array:
    """Every pattern's matches replaced by its mark, pattern after pattern (``PATTERNS``):
    the column ``rewrite_each`` gives, a run of ``SEGMENTS`` only on the texts it can
    change and a pattern's groups only where they can take part, each where the column's
    first texts say it pays."""
    for run, union in runs():
        col = rewrite_run(col, run, union,
                          union is not None and _few(col, union, RUN_SHARE))
    return col


def rewrite_each(col: pa.Array) -> pa.Array:
    """The reference: each pattern's rewrite with its groups over the whole column."""
    for _, pattern, ph in PATTERNS:
        col = pc.replace_substring_regex(col, re2(pattern), rewrite(pattern, detect.mark(ph)))
    return col
