"""What a run accumulates: counts for the report, and the identifiers it replaced.

Counts only leave through ``report()``. The identifier values stay in this
process: the caller digests them (``identifier_digests``) for the residual
check of the validate stage and drops them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from medpipe.activities.pseudonymize.scrub import name_parts
from medpipe.activities.residual import DigestSet
from medpipe.contracts.pseudonymize import (
    Action,
    FieldReport,
    Placeholder,
    PseudonymizeReport,
    TokenMode,
)


@dataclass
class RunState:
    """Counters and collected identifiers of one pseudonymization run."""

    format: str
    records: int = 0
    values: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    actions: dict[str, Action] = field(default_factory=dict)
    placeholders: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)

    def count(self, name: str, action: Action, values: int, changed: int) -> None:
        """Add one column's/element's figures."""
        self.actions.setdefault(name, action)
        self.values[name] += values
        self.changed[name] += changed

    def add_identifiers(self, values: list[object], kind: Placeholder) -> None:
        """Remember original identifier values (names also by their parts)."""
        for v in values:
            if v is None:
                continue
            s = str(v).strip()
            if not s:
                continue
            if kind is Placeholder.NAME:
                self.identifiers.update(name_parts(s))
            else:
                self.identifiers.add(s)

    def report(self, new_tokens: int, modes: set[TokenMode]) -> PseudonymizeReport:
        """The counts-only report."""
        fields = tuple(FieldReport(field=n, action=a, values=self.values[n],
                                   changed=self.changed[n]) for n, a in self.actions.items())
        return PseudonymizeReport(format=self.format, records=self.records, fields=fields,
                                  placeholders=dict(sorted(self.placeholders.items())),
                                  patients=len(self.patients), new_tokens=new_tokens,
                                  token_modes=tuple(sorted(modes)))

    def digests(self, key: bytes) -> DigestSet:
        """Keyed digests of every replaced identifier (for the residual check)."""
        return DigestSet.from_values(key, self.identifiers)
