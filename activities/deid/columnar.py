"""Known identifier values over a whole column of texts, without a Python loop per text.

``index.find_runs`` looks one text up token by token in Python; on a chunk of
notes that loop was most of the scrubber's time. This module finds the *same*
spans for every ASCII text of a column at once:

* ``tokenize``: the column's bytes are lower-cased (Arrow) and split into
  tokens with numpy (where "is a letter or digit" flips), with each token's
  text, position, and whether the next token may extend a run (same text,
  at most ``MAX_SEP`` characters between, no line break);
* ``find_column``: each token run of width 1, 2, ... ``width`` is joined
  (Arrow) and looked up once per *distinct* run (``dictionary_encode``; a
  chunk repeats its words), only the runs that are still a key prefix
  growing to the next width; the longest key from each start is kept, left
  to right, exactly as ``find_runs`` keeps it;
* ``replace``: the column's bytes are cut at the hits only and joined with
  the marks; ``count_marks`` counts placeholders in one pass.

The lookup is a callable, so the scrubber (values in the clear, in process)
and the residual check (keyed digests) share it. Non-ASCII texts that do
not fold one for one to ASCII stay on the per-text path.
``tests/activities/deid/test_differential.py`` holds both paths equal.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import knownuse
from medpipe.activities.deid.index import ABBREVIATION, LINE_SPACE, MAX_SEP, KeyIndex, Span
from medpipe.activities.deid.normalize import fold_char
from medpipe.contracts.pseudonymize import Placeholder

_IS_TOKEN = np.zeros(256, dtype=bool)  # [a-z0-9] on lower-case ASCII: find_runs's token
_IS_TOKEN[list(b"0123456789abcdefghijklmnopqrstuvwxyz")] = True


def _buffers(texts: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(the texts as ``string``, start of each text in the bytes and the end, the bytes)."""
    arr = texts.cast(pa.string()) if texts.type != pa.string() else texts
    rows = len(arr)
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + rows + 1]
    base = int(offs[0])
    rel = (offs - base).astype(np.int64)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[base:base + int(rel[-1])] \
        if rel[-1] else np.zeros(0, dtype=np.uint8)
    return arr, rel, data


def tokenize(texts: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lower-case tokens of every text, straight from the column's bytes (numpy).

    Returns (tokens, text of each token, start and end in its text, whether
    the next token may extend a run ending at this one: same text, at most
    ``MAX_SEP`` characters between, no line break).
    """
    arr, rel, data = _buffers(pc.ascii_lower(texts))
    rows = len(arr)
    tok = _IS_TOKEN[data]
    padded = np.zeros(len(data) + 2, dtype=bool)
    padded[1:-1] = tok
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[0::2], edges[1::2]  # a token starts and ends where tok flips
    inner = rel[1:-1]
    inner = inner[(inner > 0) & (inner < len(data))]
    cut = inner[tok[inner - 1] & tok[inner]]  # a token never runs across two texts
    if len(cut):  # a cut is inside a token: never equal to a start or an end (no sort needed)
        starts = np.insert(starts, np.searchsorted(starts, cut), cut)
        ends = np.insert(ends, np.searchsorted(ends, cut), cut)
    tok_offsets = np.zeros(len(starts) + 1, dtype=np.int32)
    np.cumsum((ends - starts).astype(np.int32), out=tok_offsets[1:])
    toks = pa.StringArray.from_buffers(len(starts), pa.py_buffer(tok_offsets),
                                       pa.py_buffer(data[tok]))
    per_row = np.diff(np.searchsorted(starts, rel))
    parent = np.repeat(np.arange(rows, dtype=np.int64), per_row)
    joins = np.zeros(len(starts), dtype=bool)
    if len(starts) > 1:
        gap_from, gap_to = ends[:-1], starts[1:]
        joins[:-1] = (parent[1:] == parent[:-1]) & (gap_to - gap_from <= MAX_SEP)
        breaks = data == 10  # the bytes already here: no Arrow pass over the texts for it
        if breaks.any():  # no line break between
            lines = np.zeros(len(data) + 1, dtype=np.int32)  # line breaks before each byte
            np.cumsum(breaks, out=lines[1:])
            joins[:-1] &= lines[gap_from] == lines[gap_to]
        _stop_at_sentence_ends(data, toks, starts, joins)
    row0 = rel[parent]
    return toks, parent, starts - row0, ends - row0, joins

_IS_STOP = np.zeros(256, dtype=bool)  # a stop that may end a sentence (index.sentence_end)
_IS_STOP[list(b".!?")] = True
_IS_LINE_SPACE = np.zeros(256, dtype=bool)
_IS_LINE_SPACE[list(LINE_SPACE.encode())] = True
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[list(b"0123456789")] = True
_ABBREVIATION = f"^(?:{ABBREVIATION.pattern})$"


def _stop_at_sentence_ends(data: np.ndarray, toks: pa.Array, starts: np.ndarray,
                           joins: np.ndarray) -> None:
    """Clears ``joins`` where the gap after a token ends a sentence (``index.sentence_end``,
    the rule ``find_runs`` reads text by text), for every gap of the column at once.

    Each stop byte is charged to the token before it: a joined gap is at most ``MAX_SEP``
    bytes, so a dot's next byte, if it is in the gap, is before the next token's start.
    """
    at = np.flatnonzero(_IS_STOP[data])
    if len(at) == 0:
        return
    k = np.searchsorted(starts, at, side="right") - 1  # the token before each stop
    ok = (k >= 0) & (k + 1 < len(starts))
    at, k = at[ok], k[ok]
    ok = joins[k]
    at, k = at[ok], k[ok]
    if len(k) == 0:
        return
    end = data[at] != ord(".")  # "!" or "?"
    dot = np.flatnonzero(~end)
    nxt = at[dot] + 1  # before the next token's start: never past the data's end
    spaced = (nxt < starts[k[dot] + 1]) & _IS_LINE_SPACE[data[nxt]]
    spaced &= ~_IS_DIGIT[data[starts[k[dot] + 1]]]
    dot = dot[spaced]
    if len(dot):
        word = toks.take(pa.array(k[dot]))
        abbreviated = pc.match_substring_regex(word, _ABBREVIATION).to_numpy(
            zero_copy_only=False)
        end[dot[~abbreviated]] = True
    joins[k[end]] = False


#: Looks distinct joined token runs up: (is a key prefix, placeholder or None) for each.
RunLookup = Callable[[list[str]], tuple[list[bool], list[Placeholder | None]]]


def key_lookup(keys: dict[str, Placeholder], prefixes: Collection[str]) -> RunLookup:
    """The lookup of a ``KeyIndex`` (values in the clear, in this process)."""
    def lookup(runs: list[str]) -> tuple[list[bool], list[Placeholder | None]]:
        return [r in prefixes for r in runs], [keys.get(r) for r in runs]
    return lookup


class _Lookup:
    """Runs looked up once per distinct run (a chunk repeats its words)."""

    def __init__(self, lookup: RunLookup) -> None:
        self.lookup = lookup
        self.kinds: list[Placeholder] = []
        self._code: dict[Placeholder, int] = {}

    def __call__(self, runs: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(is a prefix, placeholder code or -1) for each run."""
        enc = pc.dictionary_encode(runs)
        prefix, kinds = self.lookup(enc.dictionary.to_pylist())
        codes = [-1 if k is None else self._code.setdefault(k, len(self._code)) for k in kinds]
        self.kinds = list(self._code)
        idx = enc.indices.to_numpy(zero_copy_only=False)
        return (np.asarray(prefix, dtype=bool)[idx] if len(prefix) else np.zeros(0, bool),
                np.asarray(codes, dtype=np.int64)[idx] if len(codes) else np.zeros(0, np.int64))


@dataclass
class Hits:
    """Spans found in a column: text index, start, end (in that text), placeholder code.

    Sorted by text then start, never overlapping within a text; ``kinds[code]``
    is the placeholder of a code.
    """

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    code: np.ndarray
    kinds: list[Placeholder]

    @classmethod
    def empty(cls) -> Hits:
        """No span anywhere."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, [])

    def spans(self, rows: int) -> list[list[Span]]:
        """The spans of each of ``rows`` texts, as ``index.find_runs`` returns them."""
        out: list[list[Span]] = [[] for _ in range(rows)]
        for r, s, e, c in zip(self.row.tolist(), self.start.tolist(), self.end.tolist(),
                              self.code.tolist(), strict=True):
            out[r].append((s, e, self.kinds[c]))
        return out

    def counts(self) -> dict[Placeholder, int]:
        """Spans per placeholder."""
        n = np.bincount(self.code, minlength=len(self.kinds))
        return {k: int(c) for k, c in zip(self.kinds, n, strict=True) if c}


def find_known(texts: pa.Array, index: KeyIndex) -> Hits:
    """``index.find`` over a column of ASCII texts (no nulls), all at once."""
    return find_column(texts, index.lookup_runs, index.width)


#: Texts looked up together: bounds the per-token arrays (~100 bytes per token).
BLOCK_ROWS = 16_384


def find_column(texts: pa.Array, lookup: RunLookup, width: int,
                block: int = BLOCK_ROWS) -> Hits:
    """Spans of known values in the texts of ``texts`` (ASCII, no nulls).

    The spans of each text equal ``index.find_runs`` on it (longest run first,
    left to right). Texts are taken ``block`` at a time (bounded memory).
    """
    parts = [(lo, _find_block(texts.slice(lo, block), lookup, width))
             for lo in range(0, len(texts), block)]
    parts = [(lo, h) for lo, h in parts if len(h.row)]
    if not parts:
        return Hits.empty()
    kinds: list[Placeholder] = []
    for _, h in parts:
        kinds += [k for k in h.kinds if k not in kinds]
    recode = [np.array([kinds.index(k) for k in h.kinds] or [0], dtype=np.int64)
              for _, h in parts]
    return Hits(np.concatenate([h.row + lo for lo, h in parts]),
                np.concatenate([h.start for _, h in parts]),
                np.concatenate([h.end for _, h in parts]),
                np.concatenate([r[h.code] for r, (_, h) in zip(recode, parts, strict=True)]),
                kinds)


def _find_block(texts: pa.Array, lookup: RunLookup, width: int) -> Hits:
    if len(texts) == 0:
        return Hits.empty()
    look = _Lookup(lookup)
    toks, parent, start, end, joins = tokenize(texts)
    n = len(toks)
    if n == 0:
        return Hits.empty()
    alive, codes = look(toks)
    if not alive.any():
        return Hits.empty()
    best_len = np.zeros(n, dtype=np.int64)
    best_code = np.full(n, -1, dtype=np.int64)
    cand = np.flatnonzero(alive)
    runs = toks.take(pa.array(cand))
    codes = codes[cand]
    w = 1
    while True:
        hit = codes >= 0
        best_len[cand[hit]] = w
        best_code[cand[hit]] = codes[hit]
        if w >= width:
            break
        nxt = cand + w
        ok = nxt < n
        ok[ok] = joins[nxt[ok] - 1]
        if not ok.any():
            break
        cand, runs = cand[ok], runs.filter(pa.array(ok))
        runs = pc.binary_join_element_wise(runs, toks.take(pa.array(cand + w)), "")
        w += 1
        keep, codes = look(runs)
        if not keep.any():
            break
        cand, runs, codes = cand[keep], runs.filter(pa.array(keep)), codes[keep]
    found = _select(np.flatnonzero(best_len), parent, best_len)
    found = found[~_word_use(texts, toks, found, best_len, parent, start, end, joins)]
    stop = found + best_len[found]
    return Hits(parent[found], start[found], end[stop - 1], best_code[found], look.kinds)


def _word_use(texts: pa.Array, toks: pa.Array, found: np.ndarray, best_len: np.ndarray,
              parent: np.ndarray, start: np.ndarray, end: np.ndarray,
              joins: np.ndarray) -> np.ndarray:
    """Which runs kept are one token used as a word there (``knownuse.word_use``).

    A run joined to the run before or after it (the next token, as a run would
    grow: a name longer than its indexed runs, "van den Bosch"; in one sentence) is
    never one.
    Only the other one-token runs whose token may be a word
    (``knownuse.candidates``, one Arrow ``is_in``) are read in Python, on their
    text as written (case kept).
    """
    out = np.zeros(len(found), dtype=bool)
    stop = found + best_len[found]
    after = np.zeros(len(found), dtype=bool)  # the next run starts at the next token
    after[:-1] = (stop[:-1] == found[1:]) & joins[found[1:] - 1]  # never a sentence's end
    before = np.zeros(len(found), dtype=bool)
    before[1:] = after[:-1]
    single = best_len[found] == 1
    # Spanish function words alone, one token or a run of them, joined to no run but such
    # words (deid12h): few runs open with one, read in Python
    lead = pc.is_in(toks.take(pa.array(found)), value_set=_value_set(knownuse.FUNCTION_WORDS)) \
        .to_numpy(zero_copy_only=False) if len(found) else np.zeros(0, dtype=bool)
    name_after = after & ~np.append(lead[1:], False)
    name_before = before & ~np.insert(lead[:-1], 0, False) if len(found) else before
    for i in np.flatnonzero(lead & ~name_after & ~name_before).tolist():
        k = int(found[i])
        text = texts[int(parent[k])].as_py()
        out[i] = knownuse.function_use(text, int(start[k]), int(end[int(stop[i]) - 1]))
    _region_use(texts, toks, found, np.flatnonzero(single & (after | before)), parent, start,
                end, out)
    one = np.flatnonzero(single & ~after & ~before & ~out)
    if len(one) == 0:
        return out
    at = found[one]
    maybe = pc.is_in(toks.take(pa.array(at)), value_set=_value_set(knownuse.candidates())) \
        .to_numpy(zero_copy_only=False)
    maybe |= _next_to(toks, parent, at, 1, _value_set(knownuse.NEXT_WORDS))
    maybe |= _next_to(toks, parent, at, -1, _value_set(knownuse.PREVIOUS_WORDS))
    one = one[maybe]
    capitals: dict[int, bool] = {}
    for i in one.tolist():
        k = int(found[i])
        r = int(parent[k])
        text = texts[r].as_py()
        if r not in capitals:
            capitals[r] = knownuse.has_capitals(text)
        out[i] = knownuse.word_use(text, int(start[k]), int(end[k]), capitals[r])
    return out


def _region_use(texts: pa.Array, toks: pa.Array, found: np.ndarray, joined: np.ndarray,
                parent: np.ndarray, start: np.ndarray, end: np.ndarray, out: np.ndarray) -> None:
    """Sets ``out`` for the one-token runs ``joined`` (next to another run) that are a
    region's word there (``knownuse.region_use``)."""
    if len(joined) == 0:
        return
    regions = _value_set(knownuse.region_words())
    joined = joined[pc.is_in(toks.take(pa.array(found[joined])), value_set=regions)
                    .to_numpy(zero_copy_only=False)]
    for i in joined.tolist():
        k = int(found[i])
        out[i] = knownuse.region_use(texts[int(parent[k])].as_py(), int(start[k]), int(end[k]))


def _next_to(toks: pa.Array, parent: np.ndarray, at: np.ndarray, step: int,
             words: pa.Array) -> np.ndarray:
    """Whether the token ``step`` away from each token ``at`` (same text) is one of
    ``words``: a term's head after a value, "st" before it (``knownuse``'s rules 4, 5)."""
    near = at + step
    ok = (near >= 0) & (near < len(toks))
    ok[ok] = parent[near[ok]] == parent[at[ok]]
    if not ok.any():
        return ok
    ok[ok] = pc.is_in(toks.take(pa.array(near[ok])), value_set=words) \
        .to_numpy(zero_copy_only=False)
    return ok


@lru_cache(maxsize=8)
def _value_set(words: frozenset[str]) -> pa.Array:
    """``words`` as the Arrow array ``pc.is_in`` takes, built once per word set
    (``knownuse``'s sets are built once, and a frozenset keeps its hash)."""
    return pa.array(sorted(words), pa.string())


def _select(found: np.ndarray, parent: np.ndarray, best_len: np.ndarray) -> np.ndarray:
    """Keep runs left to right, skipping one that starts inside the run kept before.

    Vectorised when no run starts inside an earlier one of its text (the
    common case); a Python loop over the candidates otherwise.
    """
    if len(found) < 2:
        return found
    stop = found + best_len[found]
    row = parent[found]
    same = row[1:] == row[:-1]
    if not (same & (found[1:] < np.maximum.accumulate(stop)[:-1])).any():
        return found
    keep = []
    done_row, done = -1, 0
    for k, r, st in zip(found.tolist(), row.tolist(), stop.tolist(), strict=True):
        if r == done_row and k < done:
            continue
        keep.append(k)
        done_row, done = r, st
    return np.asarray(keep, dtype=np.int64)


def replace(texts: pa.Array, hits: Hits, marks: Sequence[str]) -> pa.Array:
    """``texts`` with each hit replaced by ``marks[code]`` (texts without hits unchanged).

    The column's bytes are cut, without a copy, into one string per stretch (a text's
    bytes before its first hit, each hit, between two hits, after the last: a text
    without hits is one stretch), the hits' stretches replaced by their marks and each
    text's stretches joined again, in Arrow (``replace_with_mask``, ``binary_join``): no
    Python per hit (a list of the pieces joined in Python cost 0.10 CPU-s on the
    reference release's 100k notes, ~600k pieces).
    """
    if len(hits.row) == 0:
        return texts
    arr, rel, data = _buffers(texts)
    rows, k = len(arr), len(hits.row)
    mark_len = np.array([len(m.encode()) for m in marks], dtype=np.int64)
    if rel[-1] + int((mark_len[hits.code] - (hits.end - hits.start)).sum()) >= 2**31:
        return _replace_large(arr, rel, data, hits, marks)
    before = np.searchsorted(hits.row, np.arange(rows + 1))  # hits in the texts before
    cuts = np.empty(rows + 1 + 2 * k, dtype=np.int32)
    first = np.arange(rows + 1) + 2 * before  # where each text's first stretch starts
    cuts[first] = rel
    at = hits.row + 2 * np.arange(k) + 1  # the hit's stretch
    cuts[at] = rel[hits.row] + hits.start
    cuts[at + 1] = rel[hits.row] + hits.end
    pieces = pa.StringArray.from_buffers(len(cuts) - 1, pa.py_buffer(cuts),
                                         pa.py_buffer(data))
    is_hit = np.zeros(len(cuts) - 1, dtype=bool)
    is_hit[at] = True
    new = pa.array(list(marks), pa.string()).take(pa.array(hits.code))
    pieces = pc.replace_with_mask(pieces, pa.array(is_hit), new)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(first.astype(np.int32)), pieces),
                            "")
    return joined


def _replace_large(arr: pa.Array, rel: np.ndarray, data: np.ndarray, hits: Hits,
                   marks: Sequence[str]) -> pa.Array:
    """``replace`` for a result of 2 GiB or more (``large_string``): the bytes cut at the
    hits and joined with the marks in Python."""
    rows = len(arr)
    mark_bytes = [m.encode() for m in marks]
    mark_len = np.array([len(m) for m in mark_bytes], dtype=np.int64)
    s = rel[hits.row] + hits.start
    e = rel[hits.row] + hits.end
    grow = np.bincount(hits.row, weights=mark_len[hits.code] - (e - s), minlength=rows)
    offsets = rel.copy()
    offsets[1:] += np.cumsum(grow).astype(np.int64)
    raw = data.tobytes()
    cuts_from = [0, *e.tolist()]
    cuts_to = [*s.tolist(), len(raw)]
    pieces: list[bytes] = []
    for a, b, c in zip(cuts_from, cuts_to, [*hits.code.tolist(), -1], strict=True):
        pieces.append(raw[a:b])
        if c >= 0:
            pieces.append(mark_bytes[c])
    return pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets),
                                            pa.py_buffer(b"".join(pieces)))


def count_marks(texts: pa.Array, marks: dict[str, str]) -> dict[str, int]:
    """How many times each mark (``[EMAIL]``...) occurs in the texts, in one pass.

    Equal to summing ``count_substring`` per mark (a mark starts with ``[``
    and holds no other, so occurrences never overlap): the ``[`` are found
    once, and each mark is compared at those positions only, first by the letter after
    the ``[`` (one comparison over every ``[`` per mark), then the rest of it on the
    positions that letter leaves.
    """
    if any(not m.startswith("[") or "[" in m[1:] for m in marks.values()):
        raise ValueError("marks must look like [NAME]")
    if texts.null_count:
        texts = pc.fill_null(texts, "")
    _, rel, data = _buffers(texts)
    at = np.flatnonzero(data == ord("["))
    out = dict.fromkeys(marks, 0)
    if len(at) == 0:
        return out
    end = len(data)
    first = data[np.minimum(at + 1, end - 1)]  # the letter after each "[" (never a "[")
    for key, mark in marks.items():
        m = np.frombuffer(mark.encode(), dtype=np.uint8)
        cand = at[first == m[1]] if len(m) > 1 else at  # marks differ in their first letters
        cand = cand[cand + len(m) <= end]
        for k in range(2, len(m)):
            cand = cand[data[cand + k] == m[k]]
        if len(cand):  # a mark never runs across texts
            cand = cand[cand + len(m) <= rel[np.searchsorted(rel, cand, side="right")]]
        out[key] = len(cand)
    return out


def fold_letters_column(texts: pa.Array) -> tuple[np.ndarray, list[str]]:
    """The non-ASCII texts that fold one letter for one to ASCII, folded, all at once.

    A text qualifies when each of its non-ASCII characters folds to one ASCII
    letter (``é`` → ``e``; not ``ß``, ``’``, ``ø``): ``fold`` then gives the
    same positions and ``folds_to_letters`` holds, so the text can join the
    ASCII texts on the column path. The other texts are told apart by one RE2
    pass (a class of the characters that do not qualify, over the column) and
    the qualifying ones folded by one ``str.replace`` per distinct character
    over their concatenation (one character for one: the cut points stay).

    Args:
        texts: non-ASCII texts, no nulls.

    Returns:
        (a boolean mask of the texts that qualify, those texts folded, in order).
    """
    rows = texts.to_pylist()
    chars = {c for c in set("".join(rows)) if c >= "\x80"}
    good = {c: f for c in chars if len(f := fold_char(c)) == 1 and f.isascii() and f.isalpha()}
    bad = chars - good.keys()
    if bad:
        cls = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(bad)) + "]"
        ok = np.logical_not(pc.fill_null(pc.match_substring_regex(texts, cls), True)
                            .to_numpy(zero_copy_only=False))
    else:
        ok = np.ones(len(rows), dtype=bool)
    picked = [t for t, k in zip(rows, ok.tolist(), strict=True) if k]
    whole = "".join(picked)
    for c, f in good.items():
        if c in whole:
            whole = whole.replace(c, f)
    out, at = [], 0
    for t in picked:
        out.append(whole[at:at + len(t)])
        at += len(t)
    return ok, out
