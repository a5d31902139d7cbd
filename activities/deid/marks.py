"""Placeholders in a text: what the scrubber writes over an identifier is never one itself.

The scrubber writes ``[NAME]``, ``[ADDRESS]``, ``[DATE]``, … (``detect.mark``) and the
residual check reads that output with the same rules. A rule that reads a capitalized run,
a run before a relation or after ``this is`` took the placeholder itself for a name
(``this is [NAME]``, ``Works nights at [NAME]``, ``Dear Ms [NAME],``): the check then
blocked a release over a text with nothing left in it. ``found`` is the one place where a
rule's span is judged against the placeholders: a span made only of placeholders (and the
spaces and punctuation between them) finds nothing. A span that holds a placeholder and a
word (``[NAME] Heeb``, ``Claim no. [PHONE] 57``) is a finding, whole: the word beside a
placeholder may be the rest of the identifier the scrubber cut, and the check must see it.

``rules.find`` (every context rule, both paths of the scrubber and of the residual check)
and ``rules_pass.spans`` (the registry's rules before the patterns) apply it.
"""

from __future__ import annotations

import re

from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Every placeholder the scrubber writes, as written (upper case).
MARKS: tuple[str, ...] = tuple(f"[{p.value}]" for p in Placeholder)
PLACEHOLDER = re.compile("|".join(re.escape(m) for m in MARKS))
#: A character that holds part of an identifier (a letter or a digit).
_WORD = re.compile(r"[^\W_]")


def found(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` without those that cover no letter or digit outside a placeholder.

    Args:
        text: the (folded) text the spans index.
        spans: a rule's spans in ``text``.
    """
    if not spans or "[" not in text:
        return spans
    return [sp for sp in spans if _holds_word(text, sp[0], sp[1])]


def _holds_word(text: str, s: int, e: int) -> bool:
    """Whether ``text[s:e]`` has a letter or digit that no placeholder covers."""
    piece = text[max(0, s - 9):e + 9]  # a placeholder cut by the span's edge is still one
    cut = s - max(0, s - 9)
    at = cut
    for m in PLACEHOLDER.finditer(piece):
        if m.end() <= cut:
            continue
        if m.start() >= cut + (e - s):
            break
        if _WORD.search(piece, at, max(at, m.start())):
            return True
        at = max(at, m.end())
    return _WORD.search(piece, at, cut + (e - s)) is not None
