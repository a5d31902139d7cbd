"""The ``sealed-3`` template set plants what it labels; its misses print since it was read
(round deid12e, after its two recorded runs: held out no longer).

A generator self-check only: it never runs the scrubber, so it reveals nothing about how
the set scores.
"""

from __future__ import annotations

import random
import re

from bench import deid
from bench._deid_corpus import FILLERS, SETS, make_identities
from bench._deid_sealed3 import FILLER_SEALED3, SEALED3


def test_sealed3_is_this_module() -> None:
    assert SETS["sealed-3"] is SEALED3 and FILLERS["sealed-3"] is FILLER_SEALED3
    assert "sealed-3" not in deid.SEALED  # read in deid12e: its misses print


def test_a_value_is_found_where_it_is_planted() -> None:
    """The corpus finds a span as the first occurrence after the previous one: the value
    must not occur earlier in its own sentence."""
    rng = random.Random(17)
    people = make_identities(60, 17)
    for cat, forms in SEALED3.items():
        for form in forms:
            for p in people:
                for _ in range(3):
                    value, sentence = form(rng, p)
                    assert sentence.find(value) == sentence.rfind(value), \
                        (cat, value, sentence)


def test_numeric_dates_without_a_year_have_a_day_over_12() -> None:
    """``14/3`` or ``3/14`` is a date; ``4/10`` and ``3/6`` in the filler are scores."""
    rng = random.Random(19)
    people = make_identities(20, 19)
    for form in SEALED3["DATE"]:
        for p in people:
            value, _ = form(rng, p)
            short = re.fullmatch(r"(?:[A-Z][a-z]+ )?(\d{1,2})/(\d{1,2})", value)
            if short:
                assert max(int(short[1]), int(short[2])) > 12, value


def test_people_are_added_under_their_own_prefix() -> None:
    people = make_identities(16, 3)
    again = make_identities(16, 3)
    assert people == again  # seeded: the same people every time
    added = {k for k in people[0] if k.startswith("s3_")}
    assert {"s3_rel_g", "s3_doc_f", "s3_staff_f", "s3_typo", "s3_county", "s3_serial"} <= added
    assert len({p["s3_doc_f"] for p in people}) > 8  # many clinicians, not one
    assert all(p["s3_typo"] != p["family"] for p in people)
