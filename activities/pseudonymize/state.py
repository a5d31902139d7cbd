"""What a run accumulates: counts for the report, and the identifiers it replaced.

Counts only leave through ``report()``. The identifiers are held as keyed
digests only: in a ``KeyIndex`` (every patient's values, looked up in every
note), whose digests are the residual check's (``digest_blob``), and the
distinct patients as 64-bit digests (``Patients``), so a run's memory grows
by ~50 bytes per patient, not by Python strings.
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.deid.keytable import digests as keyed_digests
from medpipe.activities.deid.keytable import sorted_distinct
from medpipe.activities.residual import DigestSet
from medpipe.contracts.pseudonymize import (
    Action,
    FieldReport,
    Placeholder,
    PseudonymizeReport,
    TokenMode,
)

#: Deferred identifier values held before they are digested into the index.
DEFER_VALUES = 100_000


class Patients:
    """Distinct patients as 64-bit keyed digests (a count, never a list of ids).

    Args:
        key: the digest key (the run's index key).
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._seen = np.zeros(0, dtype=np.uint64)
        self._new: list[np.ndarray] = []
        self._pending = 0

    def __len__(self) -> int:
        self._compact()
        return len(self._seen)

    def add(self, patient: str) -> None:
        """Add one patient id."""
        self.update([patient])

    def update(self, ids: Iterable[str]) -> None:
        """Add patient ids (strings)."""
        self.add_digests(keyed_digests(self._key, ["patient\x00" + i for i in ids])[0])

    def update_column(self, col: pa.Array | pa.ChunkedArray) -> None:
        """Add the patients of a patient-id column (its distinct values as text, nulls
        skipped)."""
        self.update([str(v) for v in pc.unique(col).to_pylist() if v is not None])

    def add_digests(self, hi: np.ndarray) -> None:
        """Add patients already digested (a pool child's, under the same key)."""
        if len(hi):
            self._new.append(hi)
            self._pending += len(hi)
            if self._pending > max(1 << 16, len(self._seen) // 2):
                self._compact()

    def digests(self) -> np.ndarray:
        """The distinct digests (sorted)."""
        self._compact()
        return self._seen

    def _compact(self) -> None:
        if self._new:
            self._seen = sorted_distinct(np.concatenate([self._seen, *self._new]))
            self._new, self._pending = [], 0


@dataclass
class RunState:
    """Counters and collected identifiers of one pseudonymization run."""

    format: str
    records: int = 0
    values: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    actions: dict[str, Action] = field(default_factory=dict)
    placeholders: Counter[str] = field(default_factory=Counter)
    index: KeyIndex = field(default_factory=KeyIndex)
    patients: Patients = field(init=False)

    def __post_init__(self) -> None:
        self.patients = Patients(self.index.key)

    def count(self, name: str, action: Action, values: int, changed: int) -> None:
        """Add one column's/element's figures."""
        self.actions.setdefault(name, action)
        self.values[name] += values
        self.changed[name] += changed

    pending: dict[Placeholder, set[str]] = field(default_factory=dict)

    def add_identifiers(self, values: list[object] | pa.Array, kind: Placeholder) -> None:
        """Remember original identifier values (names also by their parts); an Arrow column
        is indexed in Arrow (``KeyIndex.add_all``)."""
        self.index.add_all(values, kind)

    def defer_identifiers(self, values: list[object], kind: Placeholder) -> None:
        """Remember values to index only when asked (no free text to scrub meanwhile);
        digested into the index in batches, so memory stays bounded."""
        self.pending.setdefault(kind, set()).update(
            s for v in values if v is not None and (s := str(v).strip()))
        if sum(len(v) for v in self.pending.values()) > DEFER_VALUES:
            self.flush()

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
        columns scrubbed in safe-list mode (``Policy.safe_list_fields``).

        ``key`` must be the index's key (``KeyIndex(key)``): the digests are the index's.
        Small runs only: a ``DigestSet`` holds Python objects; ``digest_blob`` does not.
        """
        return DigestSet.from_bytes(key, self.digest_blob(key, safe_list))

    def digest_blob(self, key: bytes, safe_list: Iterable[str] = ()) -> bytes:
        """``digests(key, safe_list).to_bytes()``, straight from the index's arrays."""
        return b"".join(self.digest_parts(key, safe_list))

    def digest_parts(self, key: bytes, safe_list: Iterable[str] = ()) -> Iterator[bytes]:
        """``digest_blob`` in pieces (a few MB of extra memory, whatever the index's size).

        Raises:
            ValueError: ``key`` is not the index's digest key.
        """
        self.flush()
        if key != self.index.key:
            raise ValueError("the identifier index was digested under another key: create "
                             "the run with this digest key")
        keys, prefixes = self.index.tables()
        n, m, width = len(keys), len(prefixes), self.index.width
        cols = sorted(frozenset(safe_list))
        yield (b"MPD3" + struct.pack(">BII", width, n, m) if cols
               else b"MPD2" + struct.pack(">BI", width, n))
        yield from keys.digest_parts()
        yield from prefixes.digest_parts()
        if cols:
            yield json.dumps(cols).encode()
