"""What a run accumulates: counts for the report, and the identifiers it replaced.

Counts only leave through ``report()``. The identifier values stay in this
process, in a ``KeyIndex`` (every patient's values, looked up in every
note); the caller digests its keys (``identifier_digests``) for the residual
check of the validate stage and drops them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from medpipe.activities.deid.index import KeyIndex
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
    index: KeyIndex = field(default_factory=KeyIndex)

    def count(self, name: str, action: Action, values: int, changed: int) -> None:
        """Add one column's/element's figures."""
        self.actions.setdefault(name, action)
        self.values[name] += values
        self.changed[name] += changed

    pending: dict[Placeholder, set[str]] = field(default_factory=dict)

    def add_identifiers(self, values: list[object], kind: Placeholder) -> None:
        """Remember original identifier values (names also by their parts)."""
        self.index.add_all(values, kind)

    def defer_identifiers(self, values: list[object], kind: Placeholder) -> None:
        """Remember values to index only when asked (no free text to scrub meanwhile)."""
        self.pending.setdefault(kind, set()).update(
            s for v in values if v is not None and (s := str(v).strip()))

    def flush(self) -> None:
        """Index the deferred values."""
        for kind, values in self.pending.items():
            self.index.add_all(values, kind)
        self.pending.clear()

    def report(self, new_tokens: int, modes: set[TokenMode]) -> PseudonymizeReport:
        """The counts-only report."""
        fields = tuple(FieldReport(field=n, action=a, values=self.values[n],
                                   changed=self.changed[n]) for n, a in self.actions.items())
        return PseudonymizeReport(format=self.format, records=self.records, fields=fields,
                                  placeholders=dict(sorted(self.placeholders.items())),
                                  patients=len(self.patients), new_tokens=new_tokens,
                                  token_modes=tuple(sorted(modes)))

    def digests(self, key: bytes, safe_list: Iterable[str] = ()) -> DigestSet:
        """Keyed digests of every replaced identifier (for the residual check), with the
        columns scrubbed in safe-list mode (``Policy.safe_list_fields``)."""
        self.flush()
        digests = DigestSet.from_index(key, self.index)
        digests.safe_list = frozenset(safe_list)
        return digests
