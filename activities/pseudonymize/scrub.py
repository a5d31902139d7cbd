"""Free-text scrubbing: identifiers in notes become typed placeholders.

Two passes over a column of texts:

1. Patterns (``activities.residual.SCRUB_PATTERNS``: e-mail, URL, IP, SSN,
   phone, date, MRN-like ids), each replaced by ``[EMAIL]``, ``[URL]``, ... in
   Arrow compute (RE2, vectorised over the whole chunk). The residual check
   in the validate stage uses the same expressions, so what the scrubber
   removes is exactly what the check looks for.
2. The record's own identifiers (the values of its identifier columns: ids,
   names and each part of a name) replaced by ``[ID]``/``[NAME]``/... on word
   boundaries, case-insensitively: a name or an internal id has no pattern,
   but the structured columns of the same record say what it is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.residual import SCRUB_PATTERNS
from medpipe.contracts.pseudonymize import Placeholder

_PLACEHOLDER = {label: f"[{label.upper()}]" for label in SCRUB_PATTERNS}
#: Texts without any of these cannot match any pattern (fast path).
_CANDIDATE = r"[0-9@]|[Ww][Ww][Ww]\.|://|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


def placeholder(p: Placeholder) -> str:
    """The text that stands for a value of that type."""
    return f"[{p.value}]"


def scrub_patterns(col: pa.Array, counts: Counter[str]) -> pa.Array:
    """Replace every pattern match with its placeholder; count placeholders added."""
    if len(col) == 0 or col.null_count == len(col):
        return col
    if not pc.any(pc.match_substring_regex(col, _CANDIDATE)).as_py():
        return col
    before = {label: pc.sum(pc.count_substring(col, ph)).as_py() or 0
              for label, ph in _PLACEHOLDER.items()}
    for label, pattern in SCRUB_PATTERNS.items():
        col = pc.replace_substring_regex(col, pattern, _PLACEHOLDER[label])
    for label, ph in _PLACEHOLDER.items():
        added = (pc.sum(pc.count_substring(col, ph)).as_py() or 0) - before[label]
        if added > 0:
            counts[label.upper()] += added
    return col


def name_parts(name: str) -> list[str]:
    """A full name and its words of two or more letters (each is identifying)."""
    parts = [p.strip(".,;:'\"()") for p in name.split()]
    return [name] + [p for p in parts if len(p) >= 2 and p != name]


def _replace_words(text: str, needle: str, mark: str) -> tuple[str, int]:
    """Replace whole-word, case-insensitive occurrences of ``needle``."""
    low, n = text.lower(), needle.lower()
    if len(low) != len(text) or len(n) != len(needle):  # case folding changed lengths
        pattern = r"(?<!\w)" + re.escape(needle) + r"(?!\w)"
        return re.subn(pattern, mark, text, flags=re.IGNORECASE)
    i = low.find(n)
    if i < 0:
        return text, 0
    parts: list[str] = []
    last = hits = 0
    size = len(n)
    while i >= 0:
        j = i + size
        if (i == 0 or not low[i - 1].isalnum()) and (j == len(low) or not low[j].isalnum()):
            parts.append(text[last:i])
            parts.append(mark)
            last, hits = j, hits + 1
            i = low.find(n, j)
        else:
            i = low.find(n, i + 1)
    if not hits:
        return text, 0
    parts.append(text[last:])
    return "".join(parts), hits


def scrub_known(text: str, needles: Sequence[tuple[str, str]], counts: Counter[str],
                ordered: bool = False) -> str:
    """Replace the record's own identifier values (longest first) in one text."""
    low = text.lower()
    for value, mark in (needles if ordered else sorted(needles, key=lambda vm: -len(vm[0]))):
        if len(value) < 2 or value.lower() not in low:
            continue  # fast path: no occurrence at all
        text, hits = _replace_words(text, value, mark)
        if hits:
            counts[mark[1:-1]] += hits
            low = text.lower()
    return text


def record_needles(values: Sequence[tuple[str | None, Placeholder]]) -> list[tuple[str, str]]:
    """(value, placeholder) pairs of one record; names contribute their parts too."""
    out: list[tuple[str, str]] = []
    for value, kind in values:
        if value is None:
            continue
        v = str(value).strip()
        if not v:
            continue
        mark = placeholder(kind)
        if kind is Placeholder.NAME:
            out.extend((p, mark) for p in name_parts(v))
        else:
            out.append((v, mark))
    return out


def scrub_column(col: pa.Array, identifiers: Sequence[tuple[Sequence[object], Placeholder]],
                 counts: Counter[str]) -> pa.Array:
    """Scrub a column of texts: patterns, then each row's own identifiers.

    Args:
        col: the texts (string array).
        identifiers: per identifier column, its values for the same rows and
            the placeholder its values get.
        counts: placeholder counts, updated.
    """
    col = scrub_patterns(col, counts)
    if not identifiers:
        return col
    texts = col.to_pylist()
    kinds = [k for _, k in identifiers]
    cache: dict[tuple[object, ...], list[tuple[str, str]]] = {}
    for i, row in enumerate(zip(*(v for v, _ in identifiers), strict=True)):
        t = texts[i]
        if t is None:
            continue
        needles = cache.get(row)
        if needles is None:  # rows of one patient share their identifiers
            needles = sorted(record_needles([(None if v is None else str(v), k)
                                             for v, k in zip(row, kinds, strict=True)]),
                             key=lambda vm: -len(vm[0]))
            needles = [(v.lower(), m) for v, m in needles if len(v) >= 2]
            if len(cache) > 100_000:
                cache.clear()
            cache[row] = needles
        if needles:
            texts[i] = scrub_known(t, needles, counts, ordered=True)
    # Then every identifier of the chunk's other records (a note naming another
    # patient of the same dataset): one word lookup per word, names first-longest
    # already handled above for the record itself.
    others: dict[str, str] = {}
    for needles in cache.values():
        for value, mark in needles:
            if _WORD.fullmatch(value):
                others.setdefault(value, mark)
    if others:
        for i, t in enumerate(texts):
            if t is not None:
                texts[i] = _scrub_words(t, others, counts)
    return pa.array(texts, type=col.type)


_WORD = re.compile(r"\w+")


def _scrub_words(text: str, marks: dict[str, str], counts: Counter[str]) -> str:
    """Replace whole words that are (lower-cased) keys of ``marks``."""
    if marks.keys().isdisjoint(_WORD.findall(text.lower())):
        return text  # the common case: nothing to replace, no per-word callback

    def sub(m: re.Match[str]) -> str:
        mark = marks.get(m.group().lower())
        if mark is None:
            return m.group()
        counts[mark[1:-1]] += 1
        return mark

    return _WORD.sub(sub, text)


def scrub_text(text: str, needles: Sequence[tuple[str, str]], counts: Counter[str]) -> str:
    """Scrub one text (FHIR narrative, single values)."""
    out = scrub_patterns(pa.array([text]), counts)[0].as_py()
    return scrub_known(out, needles, counts)
