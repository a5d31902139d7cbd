"""Contracts of the validate stage: the data suite, its report, and the verdict.

Reports carry counts and rule descriptions only, never cell values: they are
written to history, to object storage and to evidence packs.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.placement import RanOn


class ColumnType(StrEnum):
    """Logical column types a suite can require."""

    INTEGER = "integer"
    FLOAT = "float"
    STRING = "string"
    DATE = "date"
    ANY = "any"


class ColumnRule(BaseModel):
    """Expectations on one column."""

    model_config = ConfigDict(frozen=True)

    type: ColumnType = ColumnType.ANY
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    unique: bool = False
    regex: str | None = Field(default=None, description="values must match (e.g. token format)")
    free_text: bool = False


class DataSuiteSpec(BaseModel):
    """The data suite of a dataset: one rule per expected column."""

    model_config = ConfigDict(frozen=True)

    columns: dict[str, ColumnRule]
    allow_extra_columns: bool = False


class CheckKind(StrEnum):
    """Families of checks in a validation report."""

    SCHEMA = "schema"
    DATA = "data"
    RESIDUAL_IDENTIFIER = "residual-identifier"


class CheckResult(BaseModel):
    """One expectation's outcome: counts, never values."""

    model_config = ConfigDict(frozen=True)

    kind: CheckKind
    column: str | None
    rule: str
    success: bool
    element_count: int = 0
    unexpected_count: int = 0


class ValidationReport(BaseModel):
    """Everything the validate stage checked, and what failed."""

    model_config = ConfigDict(frozen=True)

    rows: int
    checks: tuple[CheckResult, ...]
    engine: str = "great-expectations"

    @property
    def failures(self) -> list[CheckResult]:
        """Checks that failed."""
        return [c for c in self.checks if not c.success]

    @property
    def residual_failures(self) -> list[CheckResult]:
        """Failed residual-identifier checks (these block a release)."""
        return [c for c in self.failures if c.kind is CheckKind.RESIDUAL_IDENTIFIER]

    def summary(self) -> str:
        """One line per failure: which column, which rule, how many rows."""
        return "; ".join(f"{c.column or '*'}: {c.rule} ({c.unexpected_count} of "
                         f"{c.element_count} rows)" for c in self.failures)


class ValidateInput(BaseModel):
    """Validate a (pseudonymized) dataset against its suite."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    dataset: ArtifactRef
    suite: DataSuiteSpec | None = None
    identifier_digests: ArtifactRef | None = None


class ValidateResult(BaseModel):
    """The report's location and digest, and the figures for history."""

    model_config = ConfigDict(frozen=True)

    report: ArtifactRef
    rows: int
    checks: int
    failed: int
    residual_failed: int = 0
    summary: str = Field(default="", description="failed checks: column, rule, row counts")
    ran_on: RanOn
