"""The residual check over a whole pseudonymized dataset: CSV, Parquet, NDJSON or Bundle.

Every text is searched the way the scrubber searches it
(``activities.residual.scan``): free text for patterns, name cues and known
identifier values; other values (tokens, shifted dates, codes) for known
values only. FHIR strings are told apart by data type (``fhir_types``), as
the pseudonymizer does. The result is one check per column (tabular) or per
``Type.element`` (FHIR), with counts by placeholder type, never a value.
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
from medpipe.activities.deid.normalize import folds_to_letters
from medpipe.activities.deid.patterns import PATTERNS, re2
from medpipe.activities.pseudonymize import streams
from medpipe.activities.pseudonymize.fhir_types import string_type
from medpipe.activities.residual import DigestSet, scan
from medpipe.contracts.errors import IdentifiersFound
from medpipe.contracts.validate import CheckKind, CheckResult

_TAG = re.compile(r"<[^>]*>")
RULE = "no identifier left (patterns, names, original values)"


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


#: Every pattern in one RE2 alternation: one DFA pass tells which texts match any.
ANY_PATTERN = re2("|".join(f"(?:{p})" for _, p, _ in PATTERNS))


def scan_batch(batch: pa.RecordBatch, digests: DigestSet | None, tally: ResidualTally) -> None:
    """Check every text cell of a record batch.

    One pass per column for the patterns: a single RE2 alternation of all of
    them (DFA, vectorised) on the free-text cells; the pattern-by-pattern
    counts are then taken on the few cells it flags. Known values: one
    column-wise lookup (``DigestSet.find_column``) of the ASCII cells. The
    context rules (on the cells their triggers select, each cell with the
    rules it triggers: ``rules.active``) and folded non-ASCII text are checked
    per cell with ``detect.find``, as the scrubber does.
    """
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        valid = pc.is_valid(col)
        free = pc.and_(valid, pc.match_substring_regex(pc.utf8_trim_whitespace(col), " "))
        free = pc.fill_null(free, False)
        hit = np.zeros(len(col), dtype=bool)
        kinds: Counter[str] = Counter()
        flagged = pc.fill_null(pc.and_(free, pc.match_substring_regex(col, ANY_PATTERN)), False)
        if pc.any(flagged).as_py():
            rows = pc.indices_nonzero(flagged).to_numpy(zero_copy_only=False)
            sub = col.take(pa.array(rows))
            for _, pattern, ph in PATTERNS:
                mask = pc.fill_null(pc.match_substring_regex(sub, re2(pattern)), False) \
                    .to_numpy(zero_copy_only=False)
                if mask.any():
                    kinds[ph.value] += int(mask.sum())
                    hit[rows[mask]] = True
        ascii_ = pc.fill_null(pc.string_is_ascii(col), True)
        table = rules.table()
        act = rules.active(col, table, other_all=True)  # which context rules each cell triggers
        cue = pc.and_(free, pa.array(act.any(axis=0)))
        special = pc.fill_null(pc.or_(cue, pc.and_(free, pc.invert(ascii_))), False)
        finder = digests.find if digests is not None else None
        # per cell: name cues, and non-ASCII cells (folded first) when values are looked up
        one_by_one = special if digests is None else \
            pc.or_(special, pc.and_(valid, pc.invert(ascii_)))
        rows_1 = pc.indices_nonzero(pc.fill_null(one_by_one, False))
        special_np = special.to_numpy(zero_copy_only=False)
        seen: dict[tuple[str, bool], list[detect.Span]] = {}  # repeated cells: checked once
        for i, v in zip(rows_1.to_pylist(), col.take(rows_1).to_pylist(), strict=True):
            sp = bool(special_np[i])
            if (v, sp) in seen:
                spans = seen[(v, sp)]
            else:
                patterns = sp and not v.isascii() and not folds_to_letters(v)
                which = [table[k] for k in np.flatnonzero(act[:, i]).tolist()] if sp else None
                spans = seen[(v, sp)] = detect.find(v, finder, patterns=patterns, names=sp,
                                                    rules=which)
            if spans:
                hit[i] = True
                kinds.update(ph.value for _, _, ph in spans)
        if digests is not None and len(digests):
            plain = pc.and_(pc.and_(valid, ascii_), pc.invert(special))
            rows_2 = pc.indices_nonzero(plain).to_numpy(zero_copy_only=False)
            found = digests.find_column(col.take(pa.array(rows_2)))
            if len(found.row):
                hit[rows_2[found.row]] = True
                for ph, c in found.counts().items():
                    kinds[ph.value] += c
        if digests is not None and name in digests.safe_list:  # safe-list mode: no unsafe word
            unsafe, words = safelist.unsafe_rows(col)
            hit |= unsafe
            if words:
                kinds["unsafe word"] += words
        n = len(col) - col.null_count
        tally.values[name] += n
        tally.hits[name] += int(hit.sum())
        if kinds:
            tally.kinds.setdefault(name, Counter()).update(kinds)


def scan_fhir(doc: Any, digests: DigestSet | None, tally: ResidualTally,
              where: str = "", key: str = "") -> None:
    """Check every string of a FHIR resource or Bundle (free strings fully)."""
    if isinstance(doc, list):
        for d in doc:
            scan_fhir(d, digests, tally, where, key)
    elif isinstance(doc, dict):
        rtype = doc.get("resourceType")
        for k, v in doc.items():
            if rtype == "Bundle" and k == "entry":
                scan_fhir(v, digests, tally, "Bundle", k)
                continue
            at = f"{rtype}.{k}" if isinstance(rtype, str) and rtype != "Bundle" else where
            scan_fhir(v, digests, tally, at or k, k)
    elif isinstance(doc, str):
        if key == "div":  # narrative XHTML: its text, not its markup
            tally.add(where or key, _TAG.sub(" ", doc), digests, True)
        else:
            tally.add(where or key, doc, digests, string_type(key, doc) == "string")


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
    elif fmt == "bundle":
        scan_fhir(streams.json_document(chunks, source), digests, tally)
    else:
        for _, doc in streams.ndjson_lines(chunks, source):
            scan_fhir(doc, digests, tally)
    return tally
