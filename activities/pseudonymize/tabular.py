"""Pseudonymize tabular record batches, column by column, vectorised per chunk.

Tokens: each chunk's distinct ids are mapped once through the tokenizer and
taken back per row. Date shifts: one offset per distinct patient, taken per
row as a numpy array. Generalization and pattern scrubbing: Arrow compute.
Only the per-text lookup of known identifiers and names is a Python loop.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid import safelist
from medpipe.activities.pseudonymize import dates, generalize
from medpipe.activities.pseudonymize.policy import check_columns
from medpipe.activities.pseudonymize.scrub import scrub_column
from medpipe.activities.pseudonymize.state import RunState
from medpipe.activities.pseudonymize.tokens import Tokenizer
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import (
    Action,
    FieldRule,
    GeneralizeKind,
    Placeholder,
    Policy,
    TextMode,
    TokenMode,
)

_GENERALIZE = {GeneralizeKind.ZIP3: generalize.zip3, GeneralizeKind.AGE: generalize.age,
               GeneralizeKind.YEAR: generalize.year,
               GeneralizeKind.BIRTH_YEAR: generalize.birth_year}


def string_columns(policy: Policy) -> list[str]:
    """Columns to read as text (ids keep leading zeros; dates/ZIPs are parsed here)."""
    return [n for n, r in policy.fields.items()
            if r.action in (Action.TOKEN, Action.DATE_SHIFT, Action.SCRUB, Action.DROP)
            or (r.action is Action.GENERALIZE and r.kind is not GeneralizeKind.AGE)]


def _as_text(col: pa.Array, where: str) -> pa.Array:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    if pa.types.is_integer(col.type) or pa.types.is_null(col.type):
        return pc.cast(col, pa.string())
    raise InvalidInput(f"{where}: expected identifiers (text or integers), the column is "
                       f"{col.type}")


def identifying(rule: FieldRule) -> bool:
    """Whether a column's values are looked up in notes: identifiers, every
    dropped column (a dropped street address or city must not stay in a note)
    and ZIP codes generalized to three digits (the five in a note are PHI)."""
    return rule.is_identifier or rule.action is Action.DROP or _zip(rule)


def _zip(rule: FieldRule) -> bool:
    return rule.action is Action.GENERALIZE and rule.kind is GeneralizeKind.ZIP3


def lookup_kind(rule: FieldRule) -> Placeholder:
    """The placeholder of a column's values found in notes (a ZIP code is an address)."""
    return Placeholder.ADDRESS if _zip(rule) and rule.placeholder is Placeholder.ID \
        else rule.placeholder


def learn(policy: Policy, batches: Iterable[pa.RecordBatch], state: RunState) -> None:
    """First pass: index every identifier column's values of the whole dataset.

    The notes of row 1 are then scrubbed of a patient who first appears in
    row 1,000,000 (no identifier survives because of where it sits).
    """
    if not any(r.action is Action.SCRUB for r in policy.fields.values()):
        return  # no free text: the values are indexed at the end, for the residual check
    idcols = [(n, r) for n, r in policy.fields.items() if identifying(r)]
    for batch in batches:
        for n, r in idcols:
            if n in batch.schema.names:
                state.add_identifiers(pc.unique(batch.column(n)), lookup_kind(r))


#: A batch's id columns already looked up: (column, token mode) -> (encoded, tokens).
_Seen = dict[tuple[str, TokenMode], tuple[pa.DictionaryArray, list[str]]]


class TabularJob:
    """Applies a tabular policy to successive batches of one dataset."""

    def __init__(self, policy: Policy, tokenizers: dict[TokenMode, Tokenizer],
                 state: RunState, source: str) -> None:
        self.policy = policy
        self.tokenizers = tokenizers
        self.state = state
        self.source = source
        self._checked = False

    def _looked_up(self, name: str, col: pa.Array, mode: TokenMode, where: str,
                   seen: _Seen) -> tuple[pa.DictionaryArray, list[str]]:
        """(the column dictionary-encoded, its distinct values' tokens), once per column and
        token mode in a batch: the patient id keys the date shifts and is a token column
        too, and a second lookup would only find the tokens the first one minted."""
        if (name, mode) not in seen:
            enc = pc.dictionary_encode(_as_text(col, where))
            seen[(name, mode)] = enc, self.tokenizers[mode].tokens(enc.dictionary.to_pylist())
        return seen[(name, mode)]

    def _tokens(self, name: str, col: pa.Array, rule: FieldRule, where: str,
                seen: _Seen) -> pa.Array:
        """The tokens per row of an id column."""
        enc, toks = self._looked_up(name, col, rule.mode or self.policy.token_mode, where, seen)
        return pc.take(pa.array(toks, pa.string()), enc.indices)

    def _offsets(self, batch: pa.RecordBatch, row0: int, seen: _Seen) -> np.ndarray:
        """Per-row date-shift offsets, keyed by the patient's token."""
        name = self.policy.patient_id
        assert name is not None
        where = f"{self.source}, column {name!r}"
        col = _as_text(batch.column(name), where)
        if col.null_count:
            bad = generalize.first_bad(pc.is_valid(col))
            raise InvalidInput(f"{where}, row {row0 + bad + 1}: no patient id, so its dates "
                               "cannot be shifted")
        rule = self.policy.fields[name]
        mode = (rule.mode or self.policy.token_mode) if rule.action is Action.TOKEN else \
            self.policy.token_mode
        enc, toks = self._looked_up(name, col, mode, where, seen)
        per_patient = self.tokenizers[mode].offset_days(toks, self.policy.date_shift_days)
        return per_patient[enc.indices.to_numpy(zero_copy_only=False)]

    def process(self, batch: pa.RecordBatch, row0: int) -> pa.RecordBatch:
        """Pseudonymize one batch whose first row is data row ``row0`` (0-based)."""
        if not self._checked:
            check_columns(self.policy, batch.schema.names, self.source)
            self._checked = True
        fields = self.policy.fields
        offsets = None
        seen: _Seen = {}
        if any(r.action is Action.DATE_SHIFT for r in fields.values()):
            offsets = self._offsets(batch, row0, seen)
        if self.policy.patient_id:
            self.state.patients.update_column(batch.column(self.policy.patient_id))
        idcols = [(n, r) for n, r in fields.items() if identifying(r)]
        scrubs = any(r.action is Action.SCRUB for r in fields.values())
        add = self.state.add_identifiers if scrubs else self.state.defer_identifiers
        if not (scrubs and self.state.index.frozen):  # a complete index takes no adds
            for n, r in idcols:
                add(pc.unique(batch.column(n)).to_pylist(), lookup_kind(r))
        names, arrays = [], []
        for name in batch.schema.names:
            rule = fields[name]
            col = batch.column(name)
            where = f"{self.source}, column {name!r}"
            nonnull = len(col) - col.null_count
            if rule.action is Action.DROP:
                self.state.count(name, rule.action, nonnull, nonnull)
                continue
            if rule.action is Action.KEEP:
                out, changed = col, 0
            elif rule.action is Action.TOKEN:
                out = self._tokens(name, col, rule, where, seen)
                changed = nonnull
            elif rule.action is Action.DATE_SHIFT:
                assert offsets is not None
                out = dates.shift(col, offsets, where, row0)
                changed = nonnull
            elif rule.action is Action.GENERALIZE:
                assert rule.kind is not None
                out = _GENERALIZE[rule.kind](col, where, row0)
                changed = _changed(col, out, rule.kind)
            else:  # SCRUB
                text = _as_text(col, where)
                out = scrub_column(text, self.state.index, self.state.placeholders)
                if self.policy.text_mode_of(rule) is TextMode.SAFE_LIST:  # then the safe list
                    out = safelist.redact_column(out, self.state.placeholders)
                changed = int(pc.sum(pc.fill_null(pc.not_equal(text, out), False)).as_py() or 0)
            self.state.count(name, rule.action, nonnull, changed)
            names.append(name)
            arrays.append(out)
        self.state.records += batch.num_rows
        return pa.RecordBatch.from_arrays(arrays, names=names)


def _changed(before: pa.Array, after: pa.Array, kind: GeneralizeKind) -> int:
    if kind is GeneralizeKind.AGE:
        if pa.types.is_integer(before.type) or pa.types.is_floating(before.type):
            return int(pc.sum(pc.fill_null(pc.greater(before, generalize.AGE_CAP),
                                           False)).as_py() or 0)
        return int(pc.sum(pc.fill_null(pc.equal(after, "90+"), False)).as_py() or 0)
    return len(before) - before.null_count
