"""Free-text scrubbing: identifiers in notes become typed placeholders.

Three steps per column of texts, each over the whole column where it can:

1. Patterns (``activities.deid.patterns``: e-mail, URL, IP, SSN, phone,
   date, MRN-like ids, ages over 89, ZIP with state, street addresses), each
   replaced by ``[EMAIL]``, ``[URL]``, ... in Arrow compute (RE2, vectorised,
   case-insensitive; ``activities.deid.rewrites``: each only on the texts it can
   change); placeholders counted in one numpy pass
   (``columnar.count_marks``). A new pattern in ``patterns.PATTERNS`` is
   picked up as is.
2. Known values: every identifier value of *every* record of the dataset
   (``KeyIndex``, filled by a first pass over the input) is looked up however
   it is spaced or punctuated. ASCII texts, and texts that fold one character
   for one to ASCII (accents), all at once (``columnar.find_known``: tokens
   from the column's bytes, one dictionary lookup per distinct token run);
   the other texts one by one (``detect.find``: folded, the patterns run
   again on the folded copy when folding changed more than letters).
3. Names no column lists and identifiers a cue gives away (the rule table
   ``activities.deid.rules``: each rule's trigger matched over the column with
   RE2, then per text only the rules it triggers), after the known values are out;
   a text a pass changed is passed again (``scrub_rules``), so the residual check finds
   nothing in the output that the rules would take.

The spans are replaced in the original text. The result is identical to the
per-text engine this replaced (``bench/_deid_reference.py``;
``tests/activities/deid/test_differential.py``). The residual check
(``activities.residual_scan``) looks for the same things the same way: what
the scrubber removes is exactly what the check looks for.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import detect, rewrites, rules, rules_pass
from medpipe.activities.deid.columnar import (
    Hits,
    count_marks,
    find_known,
    fold_letters_column,
    replace,
)
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.deid.normalize import fold, folds_to_letters
from medpipe.activities.deid.patterns import CANDIDATE, PATTERNS
from medpipe.contracts.pseudonymize import Placeholder

_MARKS = {ph.value: detect.mark(ph) for _, _, ph in PATTERNS}


def placeholder(p: Placeholder) -> str:
    """The text that stands for a value of that type."""
    return detect.mark(p)


def scrub_patterns(col: pa.Array, counts: Counter[str]) -> pa.Array:
    """Replace every pattern match with its placeholder; count placeholders added."""
    if len(col) == 0 or col.null_count == len(col):
        return col
    if not pc.any(pc.match_substring_regex(col, CANDIDATE)).as_py():
        return col
    before = count_marks(col, _MARKS)
    col = rewrites.rewrite_column(col)  # pattern after pattern, each where it can change a text
    for v, n in count_marks(col, _MARKS).items():
        added = n - before[v]
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
    col = rules_pass.scrub_column(col, counts)  # registry rules first: they know whole forms
    col = scrub_patterns(col, counts)
    col = scrub_known(col, index, counts)
    return scrub_rules(col, counts)


#: Rule passes over a text at most (the first, then repeats while a pass changes it). A
#: text needs one more pass per word a chain of rules takes beside the last placeholder
#: (``[NAME] Dear Ms``: ``after-name`` takes one word a pass); bench notes need at most 3.
RULE_PASSES = 32


#: Characters either side of a placeholder a pass wrote that the next pass's triggers read.
NEAR = 40


def scrub_rules(col: pa.Array, counts: Counter[str]) -> pa.Array:
    """Replace what the context rules find (names, cued forms), until they find nothing.

    A pass reads each text as the patterns and known values left it, but the residual
    check reads the pass's output, where the pass's own placeholders stand: after
    ``PATIENT: [NAME], [NAME] C.`` became ``PATIENT: [NAME]``, ``after-name`` reads the
    next word as the name's other part. So the texts a pass changed get another pass (at
    most ``RULE_PASSES``), and the check finds in the output nothing the rules would
    take (the scrubber's output is a fixpoint of its rules; ``bench/deid_fixpoint.py``).
    A later pass runs on a text only the rules whose triggers match within ``NEAR``
    characters of a placeholder the pass before wrote (what is new to read is there; most
    texts a pass changed trigger no rule there). A text still changing after the last
    pass is left as it is: the check blocks it.
    """
    col, changed, wrote = _rule_pass(col, counts)
    for _ in range(RULE_PASSES - 1):
        if not changed.any():
            break
        rows = np.flatnonzero(changed)
        sub, again, wrote = _rule_pass(col.take(pa.array(rows)), counts,
                                       [wrote[r] for r in rows.tolist()])
        changed = np.zeros(len(col), dtype=bool)
        changed[rows[again]] = True
        if again.any():
            col = pc.replace_with_mask(col, pa.array(changed), sub.filter(pa.array(again)))
        wrote = dict(zip(rows[again].tolist(), [wrote[i] for i in np.flatnonzero(again)
                                                 .tolist()], strict=True))
    return col


def _rule_pass(col: pa.Array, counts: Counter[str],
               near: list[list[tuple[int, int]]] | None = None,
               ) -> tuple[pa.Array, np.ndarray, dict[int, list[tuple[int, int]]]]:
    """One pass of the context rules over a column: (the column, which texts changed,
    where in each changed text the pass wrote its placeholders).

    Each rule's trigger is matched over the whole column (``rules.active``,
    Arrow); only the texts some trigger selects become Python strings, and on
    each only the rules it triggers run. A text seen before in the column
    (templated, copied-forward notes) takes the first one's result and counts:
    the rules read the text alone. ``near``: for each text, the placeholders the
    pass before wrote; the triggers are then matched on the text around them only.
    """
    changed = np.zeros(len(col), dtype=bool)
    wrote: dict[int, list[tuple[int, int]]] = {}
    table = rules.table()
    act = rules.active(col if near is None else _around(col, near), table)
    rows = np.flatnonzero(act.any(axis=0))
    if len(rows) == 0:
        return col, changed, wrote
    texts = col.take(pa.array(rows)).to_pylist()
    keys = np.packbits(act[:, rows].T, axis=1)  # the rules of a text, as bytes
    rule_sets: dict[bytes, list[rules.AnyRule]] = {}  # texts trigger few distinct sets
    seen: dict[tuple[str, bytes], tuple[str, Counter[str], list[tuple[int, int]]]] = {}
    for i, t in enumerate(texts):
        key = keys[i].tobytes()
        done = seen.get((t, key))
        if done is None:
            which = rule_sets.get(key)
            if which is None:
                which = rule_sets[key] = [table[k] for k in np.flatnonzero(act[:, rows[i]])
                                          .tolist()]
            spans, added = detect.find(t, None, patterns=False, rules=which), Counter[str]()
            done = (detect.replace(t, spans, added) if spans else t, added, detect.written(spans))
            seen[(t, key)] = done
        if done[1]:
            texts[i] = done[0]
            counts.update(done[1])
            if done[0] != t:
                changed[rows[i]] = True
                wrote[int(rows[i])] = done[2]
    if changed.any():
        mask = np.zeros(len(col), dtype=bool)
        mask[rows] = True
        col = pc.replace_with_mask(col, pa.array(mask), pa.array(texts, type=col.type))
    return col, changed, wrote


def _around(col: pa.Array, near: list[list[tuple[int, int]]]) -> pa.Array:
    """Each text's stretches within ``NEAR`` characters of the given placeholders, joined
    by line breaks (more triggers may match across a joint: more rules run, none fewer)."""
    texts = col.to_pylist()
    out = []
    for t, at in zip(texts, near, strict=True):
        cuts: list[list[int]] = []
        for s, e in at:
            lo, hi = max(0, s - NEAR), min(len(t), e + NEAR)
            if cuts and lo <= cuts[-1][1]:
                cuts[-1][1] = max(cuts[-1][1], hi)
            else:
                cuts.append([lo, hi])
        out.append("\n".join(t[lo:hi] for lo, hi in cuts))
    return pa.array(out, pa.string())


def scrub_known(col: pa.Array, index: KeyIndex | None, counts: Counter[str]) -> pa.Array:
    """Replace known identifier values; fold and re-run the patterns on non-ASCII texts.

    ASCII texts (most notes), and texts that fold one character for one to
    ASCII letters (accents), are looked up all at once (``columnar``, Arrow
    and numpy); the others one by one after folding (``detect.find``), as
    before. Both give the spans ``detect.find`` gives.
    """
    known = index is not None and len(index) > 0
    valid = pc.is_valid(col)
    ascii_ = pc.and_(valid, pc.fill_null(pc.string_is_ascii(col), True))
    others = pc.indices_nonzero(pc.and_(valid, pc.invert(ascii_)))
    if not known and len(others) == 0:
        return col
    changed: dict[int, str] = {}
    finder = index.find if known and index is not None else None
    folded_rows: list[int] = []
    folded: list[str] = []
    originals: list[str] = []
    other_rows, other_texts = others.to_numpy(zero_copy_only=False), col.take(others)
    if finder is not None and len(other_rows):  # one letter for one (accents): column path
        ok, folded = fold_letters_column(other_texts)
        folded_rows = other_rows[ok].tolist()
        originals = other_texts.filter(pa.array(ok)).to_pylist()
        other_rows, other_texts = other_rows[~ok], other_texts.filter(pa.array(~ok))
    for i, t in zip(other_rows.tolist(), other_texts.to_pylist(), strict=True):
        letters = folds_to_letters(t)
        if finder is not None and letters:
            f, offsets = fold(t)
            if offsets is None and f.isascii():  # same positions: the column path applies
                folded_rows.append(i)
                folded.append(f)
                originals.append(t)
                continue
        spans = detect.find(t, finder, patterns=not letters, names=False)
        if spans:
            changed[i] = detect.replace(t, spans, counts)
    if known:
        assert index is not None
        plain = col.filter(ascii_)
        hits = find_known(pa.concat_arrays([plain.cast(pa.string()),
                                            pa.array(folded, pa.string())]), index)
        for ph, n in hits.counts().items():
            counts[ph.value] += n
        marks = [detect.mark(k) for k in hits.kinds]
        n_plain = len(plain)
        if len(hits.row) and hits.row[-1] >= n_plain:  # folded texts: replaced in the original
            tail = hits.row >= n_plain
            for r, spans in enumerate(Hits(hits.row[tail] - n_plain, hits.start[tail],
                                           hits.end[tail], hits.code[tail],
                                           hits.kinds).spans(len(folded))):
                if spans:
                    changed[folded_rows[r]] = detect.replace(originals[r], spans)
        first = int(np.searchsorted(hits.row, n_plain))
        head = Hits(hits.row[:first], hits.start[:first], hits.end[:first],
                    hits.code[:first], hits.kinds)
        if first:
            col = pc.replace_with_mask(col, ascii_, replace(plain, head, marks).cast(col.type))
    if changed:
        mask = np.zeros(len(col), dtype=bool)
        mask[list(changed)] = True
        col = pc.replace_with_mask(col, pa.array(mask),
                                   pa.array([changed[i] for i in sorted(changed)], col.type))
    return col


def scrub_text(text: str, index: KeyIndex | None, counts: Counter[str]) -> str:
    """Scrub one text until ``detect.find`` finds nothing (single values; the path the
    tests hold the column path to: FHIR strings are scrubbed as a column per batch).

    ``detect.find`` reads the text as it was; the residual check reads the output, with
    the placeholders in it: as in ``scrub_rules``, a changed text is read again (at most
    ``RULE_PASSES`` reads in all).
    """
    known = index.find if index is not None and len(index) else None
    for _ in range(RULE_PASSES):
        spans = detect.find(text, known)
        if not spans:
            break
        text = detect.replace(text, spans, counts)
    return text
