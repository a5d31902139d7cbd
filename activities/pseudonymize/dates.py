"""Per-patient date shifting, vectorised on Arrow arrays.

Every date of one patient moves by the same number of days (intervals, and
so durations and ages at an event, are kept); offsets differ across patients
and stay within the policy's window. Text dates keep their form: the date
part of ``YYYY-MM-DD[Thh:mm:ss±zz]`` moves and the time part is left as is.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.contracts.errors import InvalidInput

_ISO = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
_DAY_NS = 86_400 * 10**9


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _first_false(mask: pa.Array) -> int:
    bad = pc.indices_nonzero(pc.invert(pc.fill_null(mask, True)))
    return int(bad[0].as_py())


def _text_days(col: pa.Array, where: str, row0: int) -> pa.Array:
    """The date part of ISO text values as date32, refusing anything else."""
    col = pc.utf8_trim_whitespace(col)
    ok = pc.match_substring_regex(col, _ISO)
    if not pc.all(pc.fill_null(ok, True)).as_py():
        raise InvalidInput(f"{where}, row {row0 + _first_false(ok) + 1}: not an ISO date "
                           "(YYYY-MM-DD[Thh:mm:ss])")
    try:
        return pc.cast(pc.utf8_slice_codeunits(col, 0, 10), pa.date32())
    except pa.ArrowInvalid:
        raise InvalidInput(f"{where}: a value is not a calendar date") from None


def as_dates(col: pa.Array, where: str, row0: int) -> pa.Array:
    """A date32/timestamp array from dates, timestamps or ISO text."""
    if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
        return col
    if _is_text(col.type):
        return _text_days(col, where, row0)
    raise InvalidInput(f"{where}: expected dates, the column is {col.type}")


def shift(col: pa.Array, offsets: np.ndarray, where: str, row0: int) -> pa.Array:
    """Move each value by its row's offset in days (same type out as in)."""
    if pa.types.is_date32(col.type) or pa.types.is_date64(col.type):
        days = pc.cast(pc.cast(col, pa.date32()), pa.int32())
        moved = pc.add(days, pa.array(offsets.astype(np.int32)))
        return pc.cast(pc.cast(moved, pa.date32()), col.type)
    if pa.types.is_timestamp(col.type):
        unit = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[col.type.unit]
        raw = pc.cast(col, pa.int64())
        moved = pc.add(raw, pa.array(offsets.astype(np.int64) * 86_400 * unit))
        return pc.cast(moved, col.type)
    if _is_text(col.type):
        col = pc.utf8_trim_whitespace(col)
        days = _text_days(col, where, row0)
        moved = shift(days, offsets, where, row0)
        return pc.binary_join_element_wise(pc.cast(moved, pa.string()),
                                           pc.utf8_slice_codeunits(col, 10), "")
    raise InvalidInput(f"{where}: date_shift needs dates, the column is {col.type}")
