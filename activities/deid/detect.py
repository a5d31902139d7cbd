"""Find identifiers in one text: patterns, known values and names, merged.

``find`` folds the text once (``normalize.fold``), runs the patterns, the
name cues and a known-value lookup on the folded copy, merges overlapping
spans and maps them back to the original text. ``replace`` puts the
placeholders in. The scrubber and the residual check both call ``find``: what
one removes is what the other looks for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from medpipe.activities.deid import knownuse
from medpipe.activities.deid import rules as rule_table
from medpipe.activities.deid.index import MAX_SEP, Span, sentence_end, tokens
from medpipe.activities.deid.normalize import fold, lower, to_original
from medpipe.activities.deid.patterns import find as pattern_spans
from medpipe.contracts.pseudonymize import Placeholder

#: Looks known identifier values up in a folded, lower-case text.
KnownFinder = Callable[[str], list[Span]]


def mark(p: Placeholder) -> str:
    """The text that stands for a value of that type (``[NAME]``)."""
    return f"[{p.value}]"


def merge(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans: overlapping ones become their union (first kind wins)."""
    out: list[Span] = []
    for s, e, ph in sorted(spans, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1][1]:
            ps, pe, pph = out[-1]
            out[-1] = (ps, max(pe, e), pph)
        else:
            out.append((s, e, ph))
    return out


def outside_patterns(folded: str, spans: list[Span]) -> list[Span]:
    """The spans no pattern match overlaps.

    The residual check counts pattern matches in a vectorised pass of its
    own and the context rules' findings per text; a rule that also knows a
    pattern's form (an SSN by its digit groups) must not count the same
    identifier twice.
    """
    if not spans:
        return spans
    taken = [(s, e) for s, e, _ in pattern_spans(folded)]
    if not taken:
        return spans
    return [sp for sp in spans if not any(s < sp[1] and sp[0] < e for s, e in taken)]


def known_spans(folded: str, known: KnownFinder) -> list[Span]:
    """The known values ``known`` finds in a folded text, but for a one-token value used
    as a word there (``knownuse.word_use``: "she may need a walker" when May Walker is a
    patient); ``columnar.find_column`` drops the same spans."""
    spans = known(lower(folded))
    if not spans:
        return spans
    capitals: bool | None = None
    out = []
    words = [all(w in knownuse.FUNCTION_WORDS for w in folded[s:e].lower().split())
             for s, e, _ in spans]
    for i, (s, e, ph) in enumerate(spans):
        before = bool(i and _joined(folded, spans[i - 1], spans[i]))
        after = i + 1 < len(spans) and _joined(folded, spans[i], spans[i + 1])
        joined = before or after
        # Spanish function words alone, or joined to such words only (deid12h)
        if words[i] and not (before and not words[i - 1]) \
                and not (after and not words[i + 1]) and knownuse.function_use(folded, s, e):
            continue
        if folded[s:e].isalpha():  # one token (two are kept apart by a separator)
            if joined:
                if knownuse.region_use(folded, s, e):
                    continue
            else:
                if capitals is None:
                    capitals = knownuse.has_capitals(folded)
                if knownuse.word_use(folded, s, e, capitals):
                    continue
        out.append((s, e, ph))
    return out


def _joined(folded: str, left: Span, right: Span) -> bool:
    """Whether the spans ``left`` and ``right`` hold next tokens as a run of
    ``index.find_runs`` grows (a name longer than its indexed runs): a short gap on one
    line that ends no sentence (``index.sentence_end``: "Virginia. Parkinson's disease" is
    two mentions, each read alone; "St. John" is one)."""
    gap = folded[left[1]:right[0]]
    if len(gap) > MAX_SEP or "\n" in gap or any(c.isalnum() for c in gap):
        return False
    word, following = lower(folded[left[0]:left[1]]), lower(folded[right[0]:right[1]])
    return not sentence_end(tokens(word)[-1], lower(gap), tokens(following)[0])


def find(text: str, known: KnownFinder | None = None, *, patterns: bool = True,
         names: bool = True, rules: Sequence[rule_table.AnyRule] | None = None,
         rules_outside_patterns: bool = False) -> list[Span]:
    """Identifier spans in ``text`` (original coordinates), merged and sorted.

    ``rules``: the context rules to run when ``names`` (default: the whole
    table); the column path passes the rules whose trigger the text holds.
    ``rules_outside_patterns``: keep only the rules' spans no pattern match
    overlaps (the residual check, which counts pattern matches separately).
    """
    folded, offsets = fold(text)
    found: list[Span] = []
    if patterns:
        found += pattern_spans(folded)
    if names:
        ruled = rule_table.find(folded, rules)
        found += outside_patterns(folded, ruled) if rules_outside_patterns else ruled
    if known is not None:
        found += known_spans(folded, known)
    found = [sp for sp in found if sp[1] > sp[0]]
    if not found:
        return []
    merged = merge(found)
    if offsets is None:
        return merged
    return merge([(*to_original(s, e, offsets, len(text)), ph) for s, e, ph in merged])


def replace(text: str, spans: list[Span], counts: Counter[str] | None = None) -> str:
    """``text`` with each span replaced by its placeholder (spans from ``find``)."""
    parts: list[str] = []
    last = 0
    for s, e, ph in spans:
        parts.append(text[last:s])
        parts.append(mark(ph))
        last = e
        if counts is not None:
            counts[ph.value] += 1
    parts.append(text[last:])
    return "".join(parts)


def written(spans: list[Span]) -> list[tuple[int, int]]:
    """Where ``replace`` writes the placeholders of ``spans`` in its output (start, end):
    each span's start moved by what the marks before it added or took away."""
    out, shift = [], 0
    for s, e, ph in spans:
        n = len(mark(ph))
        out.append((s + shift, s + shift + n))
        shift += n - (e - s)
    return out
