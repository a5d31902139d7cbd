"""The residual check over a whole pseudonymized dataset: CSV, Parquet, NDJSON or Bundle.

Every text is searched the way the scrubber searches it
(``activities.residual.scan``): free text for patterns, name cues and known
identifier values; other values (tokens, shifted dates, codes) for known
values only. FHIR strings are told apart by data type (``fhir_types``), as
the pseudonymizer does. The result is one check per column (tabular) or per
``Type.element`` (FHIR), with counts by placeholder type, never a value.

Tabular columns are searched by column (``scan_texts``): one RE2 pass for
the patterns, one keyed-digest lookup per distinct token run, the context
rules only on the texts their triggers select, and a column of repeated
values once per distinct value; Python runs per text only for the context
rules and for non-ASCII text that does not fold one letter for one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import detect, rules, safelist
from medpipe.activities.deid.columnar import fold_letters_column
from medpipe.activities.deid.index import Span
from medpipe.activities.deid.normalize import folds_to_letters
from medpipe.activities.deid.patterns import PATTERNS, re2
from medpipe.activities.pseudonymize import streams
from medpipe.activities.pseudonymize.fhir_types import (
    age_over,
    attachment_text,
    complex_type,
    string_type,
)
from medpipe.activities.pseudonymize.generalize import AGE_CAP
from medpipe.activities.residual import DigestSet, scan
from medpipe.contracts.errors import IdentifiersFound
from medpipe.contracts.pseudonymize import Placeholder
from medpipe.contracts.validate import CheckKind, CheckResult

_TAG = re.compile(r"<[^>]*>")
RULE = "no identifier left (patterns, names, original values)"
#: The finding of an attachment whose content cannot be read as text: the scrubber drops
#: such content, so what is left of it was not scrubbed (fail closed).
UNREADABLE = "unreadable attachment"
#: The finding of a FHIR Age (``onsetAge``, a Quantity in years, ...) over 89 that is not
#: the one category "90 or older".
AGE_OVER = Placeholder.AGE.value


@dataclass
class ResidualTally:
    """Counts per location: values seen, values with a finding, findings by type."""

    values: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, where: str, value: object, digests: DigestSet | None, free_text: bool) -> None:
        """Check one value."""
        self.values[where] += 1
        found = scan(value, digests, free_text=free_text)
        if found:
            self.hits[where] += 1
            self.kinds.setdefault(where, Counter()).update(found)

    def summary(self) -> str:
        """Where identifiers were found, by type, with counts (never values)."""
        return "; ".join(
            f"{w}: {', '.join(f'{k} {c}' for k, c in sorted(self.kinds[w].items()))} "
            f"({self.hits[w]} of {self.values[w]} values)"
            for w in self.values if self.hits[w])

    def require_clean(self, source: str) -> None:
        """Raise ``IdentifiersFound`` (counts only) when anything was found."""
        if self.found:
            raise IdentifiersFound(f"{source}: identifiers left after pseudonymization — "
                                   f"{self.summary()}")

    @property
    def found(self) -> int:
        """Values with a finding, over all locations."""
        return sum(self.hits.values())

    def checks(self) -> list[CheckResult]:
        """One residual check per location (counts only)."""
        out = []
        for where, n in self.values.items():
            kinds = self.kinds.get(where)
            rule = RULE if not kinds else RULE + " — found: " + ", ".join(
                f"{k} {c}" for k, c in sorted(kinds.items()))
            out.append(CheckResult(kind=CheckKind.RESIDUAL_IDENTIFIER, column=where, rule=rule,
                                   success=self.hits[where] == 0, element_count=n,
                                   unexpected_count=self.hits[where]))
        return out


#: The patterns of values read off a scan (``patterns.scanned``: OCR'd digits, one stray
#: space; deid12h): their many branches grew the alternation's DFA (+18 % CPU on the bench's
#: notes), so they are matched apart, only in texts ``SCAN_GATE`` selects.
SCANNED = frozenset(("scan_ssn", "scan_phone", "scan_date"))
#: Every other pattern in one RE2 alternation: one DFA pass tells which texts match any.
ANY_PATTERN = re2("|".join(f"(?:{p})" for lb, p, _ in PATTERNS if lb not in SCANNED))
SCAN_PATTERN = re2("|".join(f"(?:{p})" for lb, p, _ in PATTERNS if lb in SCANNED))
#: A superset of the texts ``SCAN_PATTERN`` matches: an OCR letter beside a digit or beside
#: a separator beside a digit (a misread value holds a digit too), or a space between two
#: of a value's characters.
SCAN_GATE = re2(r"(?-i:[0-9][-/.() ]{0,2}[OolI]|[OolI][-/.() ]{0,2}[0-9])"
                r"|[0-9()/.-] [0-9()/.-]")

#: A column is checked once per distinct text when at most this share of its texts
#: are distinct (tokens, shifted dates and codes repeat; notes rarely do).
DISTINCT_SHARE = 0.5
DISTINCT_SAMPLE = 4096

#: White space of every kind Python's ``str.split`` splits on (RE2's ``\s`` lacks ``\v``, the
#: information separators and Unicode spaces): a text with any of it inside is free text and
#: gets the pattern checks. A note whose words are kept apart by tabs, line breaks or
#: ``\v`` alone is still a note.
INNER_SPACE = (r"[\t\n\v\f\r \x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}"
               r"\x{2029}\x{202f}\x{205f}\x{3000}]")


def scan_batch(batch: pa.RecordBatch, digests: DigestSet | None, tally: ResidualTally) -> None:
    """Check every text cell of a record batch (``scan_texts`` over each text column).

    A column whose texts repeat is checked once per distinct text, each
    finding counted as often as its text occurs (each cell's findings depend
    on its text alone). Safe-list columns also count their unsafe words
    (``deid.safelist``).
    """
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        texts, weight, of_row = _distinct(col)
        hit, kinds = scan_texts(texts, digests, weight)
        if of_row is not None:  # back to rows (a null row: -1, no finding)
            hit = np.append(hit, False)[of_row]
        if digests is not None and name in digests.safe_list:  # safe-list mode: no unsafe word
            unsafe, words = safelist.unsafe_rows(col)
            hit = hit | unsafe
            if words:
                kinds["unsafe word"] += words
        tally.values[name] += len(col) - col.null_count
        tally.hits[name] += int(hit.sum())
        if kinds:
            tally.kinds.setdefault(name, Counter()).update(kinds)


def _distinct(col: pa.Array) -> tuple[pa.Array, np.ndarray | None, np.ndarray | None]:
    """(texts to check, how often each occurs, which of them each row holds; -1: null).

    The column itself (no weights, no mapping) when most of its texts are distinct,
    told by its first ``DISTINCT_SAMPLE`` texts first (notes: no encoding of the column).
    """
    head = col.slice(0, DISTINCT_SAMPLE)
    if len(pc.unique(head)) > DISTINCT_SHARE * len(head):
        return col, None, None
    enc = pc.dictionary_encode(col)
    if len(enc.dictionary) > DISTINCT_SHARE * len(col):
        return col, None, None
    of_row = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return enc.dictionary, np.bincount(of_row[of_row >= 0], minlength=len(enc.dictionary)), \
        of_row


def _mask(arr: pa.Array | pa.ChunkedArray, null: bool = False) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, null).to_numpy(zero_copy_only=False), dtype=bool)


def scan_texts(col: pa.Array, digests: DigestSet | None,
               weight: np.ndarray | None = None, *,
               free: np.ndarray | None = None) -> tuple[np.ndarray, Counter[str]]:
    """Which texts of a column hold an identifier, and the findings by type (counts).

    Each text is searched as ``detect.find`` searches it, the work cut by
    column: free text (a space after trimming) against every pattern with one
    RE2 alternation (the pattern-by-pattern counts then on the few texts it
    flags); known values by one column-wise lookup (``DigestSet.find_column``)
    of the ASCII texts and of the non-ASCII ones that fold one letter for one
    (folded: the positions stay); the context rules per text, only on free
    texts and only the rules each one triggers (``rules.active``), their spans
    (those no pattern match overlaps: the patterns are counted already)
    merged with the text's known-value spans as ``detect.find`` merges them.
    Other non-ASCII texts go through ``detect.find`` whole.
    ``tests/activities/test_residual_columnar.py`` holds this equal to the per-text path.

    Args:
        col: texts (nulls skipped).
        digests: keyed digests of the original identifiers (None: patterns and rules only).
        weight: how many cells each text stands for (kinds are counted that many times).
        free: which texts are free text (default: those with white space inside, of
            any kind: ``INNER_SPACE``);
            FHIR passes none for its codes, ids and dates (known values only).

    Returns:
        (a mask of the texts with a finding, findings by placeholder type, weighted).
    """
    n = len(col)
    w = np.ones(n, dtype=np.int64) if weight is None else weight
    hit = np.zeros(n, dtype=bool)
    kinds: Counter[str] = Counter()
    valid = _mask(pc.is_valid(col))
    ascii_ = _mask(pc.string_is_ascii(col), True) & valid
    free = (_mask(pc.match_substring_regex(pc.utf8_trim_whitespace(col), INNER_SPACE))
            if free is None else free) & valid
    free_rows = np.flatnonzero(free)
    free_texts = col.take(pa.array(free_rows))
    flagged = np.zeros(len(free_rows), dtype=bool)
    if len(free_rows):  # Arrow compiles a pattern at each call, over no text too (this
        # alternation: ~5 ms; a column of tokens, codes or dates has no free text)
        flagged = _mask(pc.match_substring_regex(free_texts, ANY_PATTERN)).copy()
        gated = np.flatnonzero(~flagged & _mask(pc.match_substring_regex(free_texts,
                                                                         SCAN_GATE)))
        if len(gated):
            scanned = _mask(pc.match_substring_regex(free_texts.take(pa.array(gated)),
                                                     SCAN_PATTERN))
            flagged[gated[scanned]] = True
    if flagged.any():
        rows, sub = free_rows[flagged], free_texts.filter(pa.array(flagged))
        for _, pattern, ph in PATTERNS:
            m = _mask(pc.match_substring_regex(sub, re2(pattern)))
            if m.any():
                kinds[ph.value] += int(w[rows[m]].sum())
                hit[rows[m]] = True
    table = rules.table()
    act = rules.active(free_texts, table, other_all=True)  # (rules x free texts)
    cued = act.any(axis=0) | ~ascii_[free_rows]
    # the rules of each cued text: texts trigger few distinct sets of rules
    packed = np.ascontiguousarray(np.packbits(act[:, cued], axis=0).T)  # a key per text
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, set_of = np.unique(keys, return_index=True, return_inverse=True)
    rule_sets = [[table[k] for k in np.flatnonzero(act[:, np.flatnonzero(cued)[i]]).tolist()]
                 for i in first.tolist()]
    which = dict(zip(free_rows[cued].tolist(), [rule_sets[k] for k in set_of.ravel().tolist()],
                     strict=True))
    lookup = digests is not None and len(digests) > 0
    # the column path: ASCII texts, and non-ASCII ones that fold one letter for one
    other = np.flatnonzero(valid & ~ascii_)
    folded: dict[int, str] = {}
    if len(other) and (lookup or which):
        ok, texts = fold_letters_column(col.take(pa.array(other)))
        folded = dict(zip(other[ok].tolist(), texts, strict=True))
    known: dict[int, list[Span]] = {}
    if lookup:
        assert digests is not None
        rows = np.flatnonzero(ascii_)
        texts_ = col.take(pa.array(rows))
        if folded:
            rows = np.concatenate([rows, np.fromiter(folded, dtype=np.int64)])
            texts_ = pa.concat_arrays([texts_.cast(pa.string()),
                                       pa.array(list(folded.values()), pa.string())])
        found = digests.find_column(texts_)
        at = rows[found.row]
        hit[at] = True
        per_code = np.bincount(found.code, weights=w[at], minlength=len(found.kinds))
        for ph, c in zip(found.kinds, per_code.tolist(), strict=True):
            if c:
                kinds[ph.value] += int(c)
        ruled = np.fromiter(which, dtype=np.int64)
        for i in np.flatnonzero(np.isin(at, ruled)).tolist():  # merged with the rules below
            known.setdefault(int(at[i]), []).append(
                (int(found.start[i]), int(found.end[i]), found.kinds[found.code[i]]))
    finder = digests.find if digests is not None else None
    seen: dict[str, list[Span]] = {}
    texts_of = col.take(pa.array(sorted(which), type=pa.int64())).to_pylist() if which else []
    for r, text in zip(sorted(which), texts_of, strict=True):
        if r in folded or ascii_[r]:  # rules on the (folded) text, then merged with known
            t = folded.get(r, text)
            spans = seen.get(t)
            if spans is None:
                spans = seen[t] = detect.outside_patterns(
                    t, [sp for sp in rules.find(t, which[r]) if sp[1] > sp[0]])
            if not spans:
                continue
            mine = known.get(r, [])
            merged = detect.merge(spans + mine)
            for _, _, ph in mine:
                kinds[ph.value] -= int(w[r])
        else:
            merged = detect.find(text, finder, patterns=not folds_to_letters(text), names=True,
                                 rules=which[r], rules_outside_patterns=True)
            if not merged:
                continue
        hit[r] = True
        for _, _, ph in merged:
            kinds[ph.value] += int(w[r])
    if lookup:  # non-ASCII texts that do not fold one for one, not free: lookup
        rest = [int(r) for r in other.tolist() if r not in folded and r not in which]
        for r, text in zip(rest, col.take(pa.array(rest, type=pa.int64())).to_pylist(),
                           strict=True):
            spans = detect.find(text, finder, patterns=False, names=False)
            if spans:
                hit[r] = True
                for _, _, ph in spans:
                    kinds[ph.value] += int(w[r])
    return hit, +kinds


#: FHIR strings gathered before their column-wise checks (bounds their memory).
FHIR_GATHER = 65_536


class _Gathered:
    """FHIR strings per location, checked together, column by column.

    Free strings (FHIR ``string``, narrative text) of every location are checked as free
    text in one column (``scan_texts`` with ``free`` set: patterns, known values, context
    rules), and the few it finds something in are counted by type as
    ``scan(..., free_text=True)`` counts one string; the others (ids, codes, dates,
    references) by the known-value lookup alone (``free_text=False``), a column per
    location. A repeated text is checked once and counted as often as it occurs. A
    location is entered in the tally when first seen, so the report lists locations in
    the order the per-string walk did.
    """

    def __init__(self, digests: DigestSet | None, tally: ResidualTally) -> None:
        self.digests, self.tally = digests, tally
        self.texts: dict[tuple[str, bool], list[str]] = {}
        self.size = 0

    def add(self, where: str, text: str, free: bool) -> None:
        self.tally.values[where] += 0  # first seen here
        self.texts.setdefault((where, free), []).append(text)
        self.size += 1
        if self.size >= FHIR_GATHER:
            self.flush()

    def flush(self) -> None:
        free_where: list[str] = []  # every location's free strings: one column, one scan
        free_texts: list[str] = []
        for (where, free), texts in self.texts.items():
            self.tally.values[where] += len(texts)
            if free:
                free_where += [where] * len(texts)
                free_texts += texts
            elif self.digests is not None:  # else no known value to look up: nothing to do
                col, weight, _ = _distinct(pa.array(texts, pa.string()))
                hit, kinds = scan_texts(col, self.digests, weight,
                                        free=np.zeros(len(col), dtype=bool))
                hits = int(hit.sum()) if weight is None else int(hit @ weight)
                if hits:
                    self.tally.hits[where] += hits
                    self.tally.kinds.setdefault(where, Counter()).update(kinds)
        if free_texts:
            self._free(free_where, free_texts)
        self.texts, self.size = {}, 0

    def _free(self, where: list[str], texts: list[str]) -> None:
        """Free strings of every location as one column (the scan's fixed cost, a few ms
        of compiled patterns, once); the few it finds something in are read again one by
        one, counted by type as ``scan(..., free_text=True)`` counts a string."""
        col, weight, of_row = _distinct(pa.array(texts, pa.string()))
        hit, _ = scan_texts(col, self.digests, weight, free=np.ones(len(col), dtype=bool))
        if not hit.any():
            return
        found: dict[int, Counter[str]] = {}
        for r in np.flatnonzero(hit).tolist():
            found[r] = scan(col[r].as_py(), self.digests, free_text=True)
        rows = np.arange(len(texts)) if of_row is None else of_row
        for at, r in zip(where, rows.tolist(), strict=True):
            kinds = found.get(r)
            if kinds:
                self.tally.hits[at] += 1
                self.tally.kinds.setdefault(at, Counter()).update(kinds)


def scan_fhir(doc: Any, digests: DigestSet | None, tally: ResidualTally,
              where: str = "", key: str = "", gathered: _Gathered | None = None) -> None:
    """Check every string of a FHIR resource or Bundle (free strings fully).

    Given ``gathered``, every string is checked column-wise when it is flushed (the
    caller flushes it; free strings as free text), else one by one (``residual.scan``).
    An Attachment's ``data`` is read as the scrubber reads it: text content decoded and
    checked as free text; content that is not text is a finding (``UNREADABLE``); a
    ``Binary`` resource's ``data`` is read the same way. An Age
    over 89 years is a finding (``AGE_OVER``) unless it is the category ">= 90 years".
    """
    if isinstance(doc, list):
        for d in doc:
            scan_fhir(d, digests, tally, where, key, gathered)
    elif isinstance(doc, dict):
        rtype = doc.get("resourceType")
        if isinstance(doc.get("data"), str) and (rtype == "Binary" or
                                                  complex_type(key, doc) == "Attachment"):
            at = "Binary.data" if rtype == "Binary" else where or key
            _scan_attachment(attachment_text(doc), at, digests, tally, gathered)
            doc = {k: v for k, v in doc.items() if k != "data"}
        elif isinstance(doc.get("value"), int | float) and complex_type(key, doc) == "Age":
            at = where or key
            tally.values[at] += 1
            if age_over(AGE_CAP, key, doc):
                tally.hits[at] += 1
                tally.kinds.setdefault(at, Counter())[AGE_OVER] += 1
        for k, v in doc.items():
            if rtype == "Bundle" and k == "entry":
                scan_fhir(v, digests, tally, "Bundle", k, gathered)
                continue
            at = f"{rtype}.{k}" if isinstance(rtype, str) and rtype != "Bundle" else where
            scan_fhir(v, digests, tally, at or k, k, gathered)
    elif isinstance(doc, str):
        free = key == "div" or string_type(key, doc) == "string"
        text = _TAG.sub(" ", doc) if key == "div" else doc  # narrative XHTML: its text
        if gathered is not None:
            gathered.add(where or key, text, free)
        else:
            tally.add(where or key, text, digests, free)


def _scan_attachment(text: str | None, where: str, digests: DigestSet | None,
                     tally: ResidualTally, gathered: _Gathered | None) -> None:
    """An Attachment's data: its text checked as free text; none (``attachment_text``:
    not text, or not decodable) a finding."""
    if text is None:
        tally.values[where] += 1
        tally.hits[where] += 1
        tally.kinds.setdefault(where, Counter())[UNREADABLE] += 1
    elif gathered is not None:
        gathered.add(where, text, True)
    else:
        tally.add(where, text, digests, True)


def scan_dataset(chunks: Iterable[bytes], fmt: str, digests: DigestSet | None,
                 source: str = "dataset") -> ResidualTally:
    """Check a whole dataset given as byte chunks (decrypted on the fly by the caller)."""
    tally = ResidualTally()
    if fmt in ("csv", "parquet"):
        batches: Iterator[pa.RecordBatch] = (
            streams.csv_batches(chunks, source, []) if fmt == "csv"
            else streams.parquet_stream_batches(chunks, source))
        for batch in batches:
            scan_batch(batch, digests, tally)
    else:
        gathered = _Gathered(digests, tally)
        docs = [streams.json_document(chunks, source)] if fmt == "bundle" else \
            (doc for _, doc in streams.ndjson_lines(chunks, source))
        for doc in docs:
            scan_fhir(doc, digests, tally, gathered=gathered)
        gathered.flush()
    return tally
