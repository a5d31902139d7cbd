"""Which resource of an NDJSON export a ``urn:uuid:`` reference names.

A Bundle names its resources by ``fullUrl``, a bulk export (NDJSON) by ``Type/id``. Exports
made by flattening Synthea-style transaction Bundles into NDJSON keep the Bundles'
``urn:uuid:<uuid>`` references and give each resource the UUID of its old ``fullUrl`` as
its id. No ``fullUrl`` is left to resolve such a reference, so it used to be tokenized as
an opaque URN: it named nothing in the output, and a Condition's dates moved by another
offset than its Patient's.

The learn pass (``fhir.learn_fhir``) records the type of every top-level resource whose id
is a UUID; the walk then writes ``urn:uuid:<id>`` as the relative reference ``Type/<token>``
of that resource, which resolves in the output as the Bulk Data format wants it. A UUID
names one resource, so the lookup is unambiguous; one that is the id of resources of two
types stays unresolved (an opaque URN, as before). The ids are held as in-process 64-bit
hashes beside a type code, sorted once (~10 bytes a resource), never as strings; the set
never leaves the process.
"""

from __future__ import annotations

import re
from array import array

import numpy as np

#: An RFC 4122 UUID as ``urn:uuid:`` carries it (either case; matched as written).
UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
PREFIX = "urn:uuid:"
_AMBIGUOUS = 0xFFFF


class UuidTypes:
    """The resource type of every recorded id that is a UUID (``add``, then ``type_of``)."""

    def __init__(self) -> None:
        self._hashes = array("q")
        self._codes = array("H")
        self._names: list[str] = []
        self._code_of: dict[str, int] = {}
        self._table: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, rtype: str, rid: object) -> None:
        """Record one resource (ids that are not UUIDs are not recorded)."""
        if not isinstance(rid, str) or not UUID.fullmatch(rid):
            return
        code = self._code_of.get(rtype)
        if code is None:
            code = self._code_of[rtype] = len(self._names)
            self._names.append(rtype)
        self._hashes.append(hash(rid))
        self._codes.append(code)
        self._table = None

    def type_of(self, uuid: str) -> str | None:
        """The type of the one resource whose id is ``uuid`` (None: none, or several types)."""
        if not self._hashes:
            return None
        hashes, codes = self._sorted()
        h = hash(uuid)
        i = int(np.searchsorted(hashes, h))
        if i == len(hashes) or int(hashes[i]) != h:
            return None
        code = int(codes[i])
        return None if code == _AMBIGUOUS else self._names[code]

    def reference_type(self, ref: str) -> str | None:
        """The type a ``urn:uuid:`` reference names (None: another form, or unknown)."""
        if not ref.startswith(PREFIX) or not self._hashes:
            return None
        return self.type_of(ref[len(PREFIX):])

    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Hashes sorted and unique, each with its type code (``_AMBIGUOUS`` where one id
        came with two types)."""
        if self._table is None:
            # copies: a view would keep the arrays from growing on a later ``add``
            hashes = np.frombuffer(self._hashes, dtype=np.int64).copy()
            codes = np.frombuffer(self._codes, dtype=np.uint16).copy()
            order = np.lexsort((codes, hashes))
            hashes, codes = hashes[order], codes[order]
            first = np.ones(len(hashes), dtype=bool)
            first[1:] = hashes[1:] != hashes[:-1]
            starts = np.flatnonzero(first)
            # a run of one hash mixes types when its last code differs from its first
            ends = np.append(starts[1:], len(hashes)) - 1
            mixed = codes[starts] != codes[ends]
            out = codes[starts].copy()
            out[mixed] = _AMBIGUOUS
            self._table = (hashes[starts].copy(), out)
        return self._table
