"""Contracts of the pseudonymize stage: the policy and the report.

The policy says, per tabular column or FHIR element path, what happens to it.
It fails closed: a column or element the policy does not name is refused, so
a new identifier column added upstream can never slip through unnoticed.

The report carries counts only (never values): it goes to history, object
storage and evidence packs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.placement import RanOn


class Action(StrEnum):
    """What happens to one column or element."""

    TOKEN = "token"
    DATE_SHIFT = "date_shift"
    GENERALIZE = "generalize"
    SCRUB = "scrub"
    DROP = "drop"
    KEEP = "keep"


class TokenMode(StrEnum):
    """How tokens are made.

    ``vault``: random tokens, the identifier↔token map kept in an encrypted
    vault (not derived from the identifier: HIPAA 45 CFR 164.514(c)).
    ``hmac``: keyed HMAC-SHA256, for linkage under Expert Determination.
    """

    VAULT = "vault"
    HMAC = "hmac"


class GeneralizeKind(StrEnum):
    """Generalizations of quasi-identifiers (HIPAA Safe Harbor rules)."""

    ZIP3 = "zip3"
    AGE = "age"
    YEAR = "year"
    BIRTH_YEAR = "birth_year"


class Placeholder(StrEnum):
    """Typed placeholders that replace identifiers in free text (``[SSN]``...)."""

    SSN = "SSN"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    MRN = "MRN"
    URL = "URL"
    IP = "IP"
    DATE = "DATE"
    NAME = "NAME"
    ID = "ID"
    ADDRESS = "ADDRESS"
    AGE = "AGE>89"
    #: a word the safe-list mode removed because it is not on the safe list (any kind)
    REDACTED = "REDACTED"


class TextMode(StrEnum):
    """How a ``scrub`` column's free text is de-identified.

    ``grammar`` (default): identifiers found by patterns, known values, name
    cues and dictionaries are replaced; every other word stays.
    ``safe-list``: the grammar first, then every word not on the shipped safe
    list (common English minus names and places, clinical vocabulary, safe
    number forms) becomes ``[REDACTED]`` (``activities.deid.safelist``).
    """

    GRAMMAR = "grammar"
    SAFE_LIST = "safe-list"


#: FHIR data types a policy gives rules for (``Policy.types``).
FHIR_TYPES = ("HumanName", "Address", "ContactPoint", "Identifier", "Reference", "date",
              "Attachment", "Narrative", "Annotation", "Age", "string")


class FieldRule(BaseModel):
    """The action for one column (tabular) or element path (FHIR).

    Attributes:
        action: what to do with the values.
        mode: token mode for ``token`` (default: the policy's ``token_mode``).
        kind: generalization for ``generalize``.
        identifier: the values identify the patient: they are scrubbed from the
            same record's free text and digested for the residual check.
            Default: true for ``token``, false otherwise.
        placeholder: how this column's values are marked when found in free text.
        text_mode: ``scrub`` only: ``grammar`` or ``safe-list`` (default: the
            policy's ``text_mode``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    mode: TokenMode | None = None
    kind: GeneralizeKind | None = None
    identifier: bool | None = None
    placeholder: Placeholder = Placeholder.ID
    text_mode: TextMode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldRule:
        if self.text_mode is not None and self.action is not Action.SCRUB:
            raise ValueError(f"text_mode applies to scrub only, not {self.action.value}")
        if self.action is Action.GENERALIZE and self.kind is None:
            raise ValueError("generalize needs a kind (zip3, age, year or birth_year)")
        if self.action is not Action.GENERALIZE and self.kind is not None:
            raise ValueError(f"kind applies to generalize only, not {self.action.value}")
        if self.action is not Action.TOKEN and self.mode is not None:
            raise ValueError(f"mode applies to token only, not {self.action.value}")
        return self

    @property
    def is_identifier(self) -> bool:
        """Whether the values identify the patient (explicit, or implied by ``token``)."""
        return self.identifier if self.identifier is not None else self.action is Action.TOKEN


class Policy(BaseModel):
    """A pseudonymization policy for one kind of dataset.

    Attributes:
        format: ``tabular`` (CSV/Parquet columns) or ``fhir`` (element paths
            ``Type.element``, ``*.element`` for every resource type).
        patient_id: tabular: the column naming the patient, whose token keys
            the date shift (required when any column is date-shifted).
        token_mode: default token mode.
        date_shift_days: dates move by a per-patient offset in
            [-date_shift_days, +date_shift_days], never 0.
        fields: the rule per column or element path (FHIR: overrides ``types``).
        types: FHIR only: the rule per data type (``HumanName``, ``Address``,
            ``ContactPoint``, ``Identifier``, ``Reference``, ``date``,
            ``Attachment``, ``Narrative``, ``Annotation``, ``string``), applied
            wherever the type occurs in any resource. When given, every one of
            them needs a rule (fail closed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["tabular", "fhir"] = "tabular"
    patient_id: str | None = None
    token_mode: TokenMode = TokenMode.VAULT
    date_shift_days: int = Field(default=180, ge=1, le=3650)
    fields: dict[str, FieldRule]
    types: dict[str, FieldRule] = Field(default_factory=dict)
    text_mode: TextMode = TextMode.GRAMMAR

    @model_validator(mode="after")
    def _patient_key(self) -> Policy:
        if self.format == "fhir" and (self.text_mode is not TextMode.GRAMMAR
                                     or self.safe_list_fields()):
            raise ValueError("text_mode safe-list applies to tabular policies only (FHIR "
                             "free strings are scrubbed in grammar mode)")
        if self.types:
            if self.format != "fhir":
                raise ValueError("types apply to FHIR policies only")
            unknown = sorted(set(self.types) - set(FHIR_TYPES))
            missing = [t for t in FHIR_TYPES if t not in self.types]
            if unknown:
                raise ValueError(f"unknown FHIR data types: {', '.join(unknown)}")
            if missing:
                raise ValueError(f"types needs a rule for every data type; missing: "
                                 f"{', '.join(missing)}")
        if self.format == "tabular":
            shifts = any(r.action is Action.DATE_SHIFT for r in self.fields.values())
            if shifts and not self.patient_id:
                raise ValueError("date_shift needs patient_id: the column naming the patient")
            if self.patient_id and self.patient_id not in self.fields:
                raise ValueError(f"patient_id column {self.patient_id!r} has no rule in fields")
        return self

    def text_mode_of(self, rule: FieldRule) -> TextMode:
        """The text mode of a ``scrub`` rule (its own, else the policy's)."""
        return rule.text_mode or self.text_mode

    def safe_list_fields(self) -> list[str]:
        """The ``scrub`` columns (or paths) in ``safe-list`` mode."""
        rules = [*self.fields.items(), *self.types.items()]
        return [n for n, r in rules
                if r.action is Action.SCRUB and self.text_mode_of(r) is TextMode.SAFE_LIST]

    def modes(self) -> set[TokenMode]:
        """Token modes the policy uses."""
        return {r.mode or self.token_mode for r in self.fields.values()
                if r.action is Action.TOKEN}


class FieldReport(BaseModel):
    """What one rule did: counts only."""

    model_config = ConfigDict(frozen=True)

    field: str
    action: Action
    values: int = Field(default=0, description="non-null values seen")
    changed: int = Field(default=0, description="values replaced, shifted, generalized or dropped")


class PseudonymizeReport(BaseModel):
    """Everything the pseudonymize stage did, as counts (never values)."""

    model_config = ConfigDict(frozen=True)

    format: str
    records: int = Field(description="rows (tabular) or resources (FHIR)")
    fields: tuple[FieldReport, ...] = ()
    placeholders: dict[str, int] = Field(default_factory=dict)
    patients: int = 0
    new_tokens: int = 0
    token_modes: tuple[TokenMode, ...] = ()

    def field(self, name: str) -> FieldReport:
        """The report of one column/path (KeyError when the policy has no such rule)."""
        for f in self.fields:
            if f.field == name:
                return f
        raise KeyError(name)


class PseudonymizeInput(BaseModel):
    """Replace identifiers in the ingested dataset before anything else reads it.

    Attributes:
        policy_uri: the policy (YAML; ``file://`` or ``https://``); None = the default.
        vault_uri: bucket of the token vault (identifiers: home jurisdiction only).
    """

    model_config = ConfigDict(frozen=True)

    release_id: str
    dataset: ArtifactRef
    policy_uri: str | None = None
    keys: KeySettings = KeySettings()
    vault_uri: str


class PseudonymizeResult(BaseModel):
    """The pseudonymized dataset, the report (counts only) and the residual-check digests."""

    model_config = ConfigDict(frozen=True)

    dataset: ArtifactRef
    report: PseudonymizeReport
    report_ref: ArtifactRef
    policy_sha256: str
    identifier_digests: ArtifactRef
    ran_on: RanOn
