"""A validation's counts as a mergeable part: one per run, or one per shard of a fan-out.

The one-activity validate and every shard of a fanned-out one end with a
``ValidatePart`` (counts only, plus, for a shard, the digests of its values
in ``unique`` columns); ``merge_parts`` turns parts, in dataset order, into
the ``ValidationReport``. So a fanned-out validate gives the report the
one-activity run gives by construction, not by imitation:

* schema checks depend on the schema only (every shard reads the dataset from
  its top, so all parts carry the same ones: the first part's are kept);
* suite checks add up (element and unexpected counts summed, success if every
  part succeeded), as the one-activity run already adds up its
  great-expectations runs;
* residual counts add up per column, first-seen order kept (parts merged in order);
* ``unique`` columns: duplicates inside each part, plus those across parts
  (distinct values of each part minus the distinct values of all), from the
  parts' sorted 64-bit value hashes (a stored part is sealed like any artifact).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from medpipe.activities.deid.keytable import sorted_distinct
from medpipe.activities.residual_scan import ResidualTally
from medpipe.contracts.errors import IntegrityError, InvalidInput
from medpipe.contracts.validate import CheckKind, CheckResult, ValidationReport

PART_FORMAT = "medpipe-validate-part/1"


class UniquePart(BaseModel):
    """One ``unique`` column in one part.

    Attributes:
        dupes: values equal to an earlier value of the same part.
        hashes: the part's distinct value hashes (sorted uint64, base64); only a
            shard's part carries them (a lone part needs no cross-part count).
    """

    model_config = ConfigDict(frozen=True)

    dupes: int = 0
    hashes: str | None = None


class ValidatePart(BaseModel):
    """What one run or one shard counted (never a value)."""

    model_config = ConfigDict(frozen=True)

    format: str = PART_FORMAT
    rows: int
    schema_checks: tuple[CheckResult, ...] = ()
    suite_checks: tuple[CheckResult, ...] = ()
    unique: dict[str, UniquePart] = Field(default_factory=dict)
    residual_values: dict[str, int] = Field(default_factory=dict)
    residual_hits: dict[str, int] = Field(default_factory=dict)
    residual_kinds: dict[str, dict[str, int]] = Field(default_factory=dict)

    @classmethod
    def from_bytes(cls, blob: bytes, where: str) -> ValidatePart:
        """A stored part (a shard's output).

        Raises:
            IntegrityError: not a part of this format (a version mismatch: the sealed
                object's tag verified).
        """
        try:
            part = cls.model_validate_json(blob)
        except ValueError:
            raise IntegrityError(f"{where} is not a {PART_FORMAT} document") from None
        if part.format != PART_FORMAT:
            raise IntegrityError(f"{where} is a {part.format} document, not {PART_FORMAT}")
        return part


def pack_hashes(values: Iterable[int] | np.ndarray) -> str:
    """Distinct 64-bit hashes, sorted, as base64 (how a shard's part carries them)."""
    arr = sorted_distinct(np.asarray(values if isinstance(values, np.ndarray)
                                     else np.fromiter(values, dtype=np.uint64),
                                     dtype=np.uint64))
    return base64.b64encode(arr.tobytes()).decode("ascii")


def _unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.uint64)


def residual_of(tally: ResidualTally) -> dict[str, object]:
    """A tally's counts as a part's fields (insertion order kept)."""
    return {"residual_values": dict(tally.values), "residual_hits": dict(tally.hits),
            "residual_kinds": {w: dict(k) for w, k in tally.kinds.items()}}


def _same_rules(parts: Sequence[ValidatePart]) -> None:
    first = [(c.kind, c.column, c.rule) for c in parts[0].suite_checks]
    for p in parts[1:]:
        if [(c.kind, c.column, c.rule) for c in p.suite_checks] != first:
            raise IntegrityError("the shards ran different suites (the dataset's schema "
                                 "differs between them)")


def _suite(parts: Sequence[ValidatePart]) -> list[CheckResult]:
    _same_rules(parts)
    out = []
    for i, c in enumerate(parts[0].suite_checks):
        each = [p.suite_checks[i] for p in parts]
        out.append(c.model_copy(update={
            "success": all(e.success for e in each),
            "element_count": sum(e.element_count for e in each),
            "unexpected_count": sum(e.unexpected_count for e in each)}))
    return out


def _unique(parts: Sequence[ValidatePart], rows: int) -> list[CheckResult]:
    out = []
    for name in parts[0].unique:
        cols = [p.unique.get(name, UniquePart()) for p in parts]
        dupes = sum(c.dupes for c in cols)
        if len(parts) > 1:
            if any(c.hashes is None for c in cols):
                raise IntegrityError(f"a shard's part has no value hashes for unique column "
                                     f"{name!r}")
            each = [_unpack(c.hashes or "") for c in cols]
            dupes += sum(len(h) for h in each) - len(sorted_distinct(np.concatenate(each)))
        out.append(CheckResult(kind=CheckKind.DATA, column=name, rule="unique",
                               success=dupes == 0, element_count=rows, unexpected_count=dupes))
    return out


def merge_parts(parts: Sequence[ValidatePart]) -> ValidationReport:
    """The report of parts given in dataset order (one part: the one-activity run's).

    Raises:
        InvalidInput: no rows at all.
        IntegrityError: the parts ran different suites.
    """
    rows = sum(p.rows for p in parts)
    if not parts or rows == 0:
        raise InvalidInput("dataset has no rows to validate")
    tally = ResidualTally()
    for p in parts:
        tally.values.update(p.residual_values)
        tally.hits.update(p.residual_hits)
        for where, kinds in p.residual_kinds.items():
            tally.kinds.setdefault(where, Counter()).update(kinds)
    checks = [*parts[0].schema_checks, *_suite(parts), *_unique(parts, rows), *tally.checks()]
    return ValidationReport(rows=rows, checks=tuple(checks))


__all__ = ["PART_FORMAT", "UniquePart", "ValidatePart", "merge_parts", "pack_hashes",
           "residual_of"]
