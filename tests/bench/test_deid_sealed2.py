"""The ``sealed-2`` template set plants what it labels; its misses print since it was read
(round deid12d, after its two recorded runs: held out no longer).

A generator self-check only: it never runs the scrubber, so it reveals nothing about how
the set scores.
"""

from __future__ import annotations

from bench import deid
from bench._deid_corpus import FILLERS, SETS, make_identities
from bench._deid_sealed2 import FILLER_SEALED2, SEALED2


def test_sealed2_is_this_module() -> None:
    assert SETS["sealed-2"] is SEALED2 and FILLERS["sealed-2"] is FILLER_SEALED2
    assert "sealed-2" not in deid.SEALED  # read in deid12d: its misses print


def test_people_are_added_under_their_own_prefix() -> None:
    people = make_identities(16, 3)
    again = make_identities(16, 3)
    assert people == again  # seeded: the same people every time
    added = {k for k in people[0] if k.startswith("s2_")}
    assert {"s2_rel_g", "s2_doc_f", "s2_agent_f", "s2_wit_f", "s2_county"} <= added
    assert len({p["s2_doc_f"] for p in people}) > 8  # many clinicians, not one
