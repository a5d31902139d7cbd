"""``KeyIndex.add_all``'s columnar path builds the index the per-value path builds.

The learn pass indexes SSNs, phones, e-mails and record numbers through
``deid.index.plain_runs`` (Arrow compute over a column's values) instead of
``value_keys`` value by value; the scrubber and the residual check read the
digests, so the two paths must give the same keys, prefixes, placeholders and
width, byte for byte, on whatever a column holds.
"""

from __future__ import annotations

import hashlib
from unittest import mock

import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import index as index_mod
from medpipe.activities.deid.index import KeyIndex, plain_runs, value_keys
from medpipe.contracts.pseudonymize import Placeholder

KEY = b"k" * 32
#: Letters, digits, apostrophes and dashes (ASCII and not), accents, spacing, punctuation.
ALPHABET = "aZ09 -'’‐.,@()/#_+:;éÑøß\t\x1c\u2003"
VALUES = st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=24),
                            st.integers(-10**6, 10**9)), max_size=40)
KINDS = st.sampled_from([Placeholder.SSN, Placeholder.PHONE, Placeholder.EMAIL,
                         Placeholder.MRN, Placeholder.NAME])


def _per_value(values: list[object], kinds: list[Placeholder]) -> KeyIndex:
    """The index ``add`` builds, value by value (the reference)."""
    index = KeyIndex(KEY)
    for kind in kinds:
        for s in dict.fromkeys(s for v in values if v is not None and (s := str(v).strip())):
            index.add(s, kind)
    return index


def _columnar(values: list[object], kinds: list[Placeholder], arrow: bool) -> KeyIndex:
    """The index ``add_all`` builds from a list or from an Arrow string column (as the
    learn pass passes it)."""
    index = KeyIndex(KEY)
    # small draws take Arrow too, cut in slices of 7 values (plain_runs' slicing)
    with mock.patch.object(index_mod, "_COLUMNAR_MIN", 0), \
            mock.patch.object(index_mod, "_SLICE", 7):
        for kind in kinds:
            index.add_all(pa.array([None if v is None else str(v) for v in values],
                                   pa.string()) if arrow else values, kind)
    return index


def _expected_digests(values: list[object], kinds: list[Placeholder]) -> tuple[bytes, bytes]:
    """The keys' and prefixes' digests, sorted, straight from ``value_keys`` (what
    ``digest_bytes`` must give, however the index digests them)."""
    runs = [r for kind in kinds for v in values if v is not None and (s := str(v).strip())
            for r in value_keys(s, kind)]
    keys = {"".join(r) for r in runs}
    prefixes = keys | {"".join(r[:i]) for r in runs for i in range(1, len(r) + 1)}

    def blob(strings: set[str]) -> bytes:
        return b"".join(sorted(hashlib.blake2b(s.encode(), key=KEY, digest_size=16).digest()
                               for s in strings))

    return blob(keys), blob(prefixes)


def _same(a: KeyIndex, b: KeyIndex) -> None:
    assert a.digest_bytes() == b.digest_bytes()
    assert a.width == b.width
    keys_a, keys_b = a.tables()[0], b.tables()[0]
    assert [c.tolist() for c in keys_a.arrays()] == [c.tolist() for c in keys_b.arrays()]


@settings(max_examples=150, deadline=None)
@given(VALUES, st.lists(KINDS, min_size=1, max_size=3), st.booleans())
@example(["O'Brien", "O’Brien", "Anne-Marie", "123-45-6789", "(611) 528-4784", "", "  ",
          None, "a.b@example.org", "12", "123", "1234", "--", "ab", "1 2 3 4 5 6 7 8",
          "José Núñez", "x", " \x1c12-34\t", "\x1f"], [Placeholder.SSN, Placeholder.NAME,
                                                      Placeholder.PHONE], True)
def test_columnar_add_all_is_the_per_value_index(values: list[object],
                                                 kinds: list[Placeholder], arrow: bool) -> None:
    columnar = _columnar(values, kinds, arrow)
    _same(columnar, _per_value(values, kinds))
    assert columnar.digest_bytes() == _expected_digests(values, kinds)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text("aZ09 -'.,@()/#_+:;\t", max_size=30), max_size=30),
       st.sampled_from([Placeholder.SSN, Placeholder.EMAIL, Placeholder.MRN]))
def test_plain_runs_are_value_keys(values: list[str], kind: Placeholder) -> None:
    keys, prefixes, width = plain_runs(pa.array(values, pa.string()))
    runs = [r for v in values for r in value_keys(v, kind)]
    assert keys == ["".join(r) for r in runs]
    assert set(prefixes) == {"".join(r[:i]) for r in runs for i in range(1, len(r) + 1)}
    assert width == max((len(r) for r in runs), default=0)
