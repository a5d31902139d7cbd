"""Generalization of quasi-identifiers (HIPAA Safe Harbor), vectorised on Arrow arrays.

* ``zip3``: the first three ZIP digits, and ``000`` for the three-digit areas
  of 20,000 people or fewer (list shipped in ``zip3_restricted.txt``).
* ``age``: ages over 89 are aggregated. A text column gets ``90+``; a numeric
  column keeps its type (models read ages as numbers) and is top-coded at 90,
  meaning "90 or older".
* ``year``: a date becomes its year.
* ``birth_year``: a birth date becomes its year, top-coded like ages: for
  people over 89 today it is the year of someone who is 90 now, meaning "90
  or older" (a true year of birth would undo the age top-coding: a
  95-year-old "born in 1929"). The column stays an integer without nulls.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.pseudonymize.dates import as_dates
from medpipe.contracts.errors import InvalidInput

AGE_CAP = 89
_ZIP = r"^[0-9]{5}(-?[0-9]{4})?$"


@cache
def restricted_zip3() -> frozenset[str]:
    """Three-digit ZIP prefixes that must be reported as ``000``."""
    package = resources.files("medpipe.activities.pseudonymize")
    text = package.joinpath("zip3_restricted.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def first_bad(valid: pa.Array) -> int:
    """Index of the first false (non-null) entry of a boolean mask."""
    bad = pc.indices_nonzero(pc.invert(pc.fill_null(valid, True)))
    return int(bad[0].as_py())


def zip3(col: pa.Array, where: str, row0: int) -> pa.Array:
    """ZIP (5 digits or ZIP+4; integers are zero-padded) → 3-digit area or ``000``."""
    if pa.types.is_integer(col.type):
        col = pc.utf8_lpad(pc.cast(col, pa.string()), 5, "0")
    elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise InvalidInput(f"{where}: zip3 needs ZIP codes, the column is {col.type}")
    col = pc.utf8_trim_whitespace(col)
    ok = pc.match_substring_regex(col, _ZIP)
    if not pc.all(pc.fill_null(ok, True)).as_py():
        raise InvalidInput(f"{where}, row {row0 + first_bad(ok) + 1}: not a ZIP code "
                           "(5 digits or ZIP+4)")
    prefix = pc.utf8_slice_codeunits(col, 0, 3)
    small = pc.is_in(prefix, value_set=pa.array(sorted(restricted_zip3())))
    return pc.if_else(small, pa.scalar("000"), prefix)


def age(col: pa.Array, where: str, row0: int) -> pa.Array:
    """Ages over 89 → ``90+`` (text) or 90 (numbers, same type)."""
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return pc.if_else(pc.greater(col, AGE_CAP), pa.scalar(AGE_CAP + 1, col.type), col)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise InvalidInput(f"{where}: age needs numbers, the column is {col.type}")
    trimmed = pc.utf8_trim_whitespace(col)
    ok = pc.match_substring_regex(trimmed, r"^[0-9]{1,3}(\.[0-9]+)?$|^90\+$")
    if not pc.all(pc.fill_null(ok, True)).as_py():
        raise InvalidInput(f"{where}, row {row0 + first_bad(ok) + 1}: not an age in years")
    over = pc.or_(pc.equal(trimmed, "90+"),
                  pc.greater(pc.cast(pc.replace_substring(trimmed, "+", ""), pa.float64()),
                             AGE_CAP))
    return pc.if_else(over, pa.scalar("90+"), trimmed)


def year(col: pa.Array, where: str, row0: int) -> pa.Array:
    """Dates (or ISO date strings) → their year (int32)."""
    return pc.cast(pc.year(as_dates(col, where, row0)), pa.int32())


def over_89(birth_year: int, today: date | None = None) -> bool:
    """Whether someone born that year may be over 89 now (conservative: the year only)."""
    return (today or date.today()).year - birth_year > AGE_CAP


def birth_year(col: pa.Array, where: str, row0: int) -> pa.Array:
    """Birth dates → their year (int32), top-coded at "90 or older" (Safe Harbor)."""
    years = pc.cast(pc.year(as_dates(col, where, row0)), pa.int32())
    cap = date.today().year - AGE_CAP - 1
    return pc.if_else(pc.less(years, cap), pa.scalar(cap, pa.int32()), years)
