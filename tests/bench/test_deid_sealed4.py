"""The ``sealed-4`` template set: what is its own (the checks every blind set shares are in
``test_deid_sealed.py``).

A generator self-check only: it never runs the scrubber, so it reveals nothing about how
the set scores.
"""

from __future__ import annotations

import datetime
import random
import re

from bench import deid
from bench._deid_corpus import FILLERS, SETS, make_identities
from bench._deid_sealed4 import FILLER_SEALED4, SEALED4, add_people


def test_sealed4_is_this_module_and_sealed() -> None:
    assert SETS["sealed-4"] is SEALED4 and FILLERS["sealed-4"] is FILLER_SEALED4
    assert "sealed-4" not in deid.SEALED  # read in round deid12f, after its two recorded runs


def test_a_date_is_never_a_year_alone_and_a_sent_header_has_its_true_weekday() -> None:
    """Every DATE value holds more than a year (Safe Harbor keeps years); the e-mail
    ``Sent:`` header's weekday is the date's own, as a mail client writes it."""
    rng = random.Random(6)
    people = make_identities(30, 6)
    headers = 0
    for form in SEALED4["DATE"]:
        for p in people:
            value, sentence = form(rng, p)
            assert not re.fullmatch(r"'?\d{2}|\d{4}", value), value
            if sentence.startswith("Sent: "):
                headers += 1
                day = datetime.datetime.strptime(value, "%A, %d %B %Y")
                assert value.startswith(day.strftime("%A")), value
    assert headers == len(people)


def test_people_are_added_under_their_own_prefix_from_the_seed_alone() -> None:
    """``add_people`` adds only ``s4_`` keys and draws from its own seeded generators, so
    the other sets' people (and notes) stay what they were."""
    base = [{"given": "Ada", "family": "Okafor"} for _ in range(20)]
    add_people(base, 3)
    assert all(k.startswith("s4_") for p in base for k in p if k not in ("given", "family"))
    again = [{"given": "Ada", "family": "Okafor"} for _ in range(20)]
    random.seed(99)  # the global stream must not matter
    add_people(again, 3)
    assert again == base
    other = [{"given": "Ada", "family": "Okafor"} for _ in range(20)]
    add_people(other, 4)
    assert other != base
