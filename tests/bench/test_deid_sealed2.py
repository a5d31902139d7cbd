"""The ``sealed-2`` template set plants what it labels; its misses print since it was read
(round deid12d, after its two recorded runs: held out no longer).

A generator self-check only: it never runs the scrubber, so it reveals nothing about how
the set scores.
"""

from __future__ import annotations

import random
import re

from bench import deid
from bench._deid_corpus import FILLERS, SETS, make_identities, make_note
from bench._deid_sealed2 import FILLER_SEALED2, SEALED2

CATEGORIES = {"NAME", "DATE", "AGE", "GEO", "PHONE", "EMAIL", "URL", "IP", "SSN", "MRN"}


def test_sealed2_is_this_module() -> None:
    assert SETS["sealed-2"] is SEALED2 and FILLERS["sealed-2"] is FILLER_SEALED2
    assert "sealed-2" not in deid.SEALED  # read in deid12d: its misses print


def test_no_filler_sentence_holds_a_planted_value() -> None:
    """A value found as a word in the filler would be located there, not where it was planted.

    Names are left out: a given name that is also a word (``frank``, ``will``) is one of the
    filler's traps on purpose.
    """
    rng = random.Random(11)
    people = make_identities(60, 11)
    for cat in sorted(CATEGORIES - {"NAME"}):
        for form in SEALED2[cat]:
            for p in people:
                value, _ = form(rng, p)
                word = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")
                assert not [f for f in FILLER_SEALED2 if word.search(f)], (cat, value)


def test_ages_are_over_89() -> None:
    rng = random.Random(13)
    people = make_identities(20, 13)
    for form in SEALED2["AGE"]:
        for p in people:
            value, _ = form(rng, p)
            digits = "".join(c for c in value if c.isdigit())
            assert int(digits) > 89 if digits else value.startswith(("ninety", "one hundred"))


def test_people_are_added_under_their_own_prefix() -> None:
    people = make_identities(16, 3)
    again = make_identities(16, 3)
    assert people == again  # seeded: the same people every time
    added = {k for k in people[0] if k.startswith("s2_")}
    assert {"s2_rel_g", "s2_doc_f", "s2_agent_f", "s2_wit_f", "s2_county"} <= added
    assert len({p["s2_doc_f"] for p in people}) > 8  # many clinicians, not one


def test_the_scorer_fails_a_leaked_sealed2_span_and_prints_it() -> None:
    rng = random.Random(3)
    people = make_identities(100, 3)
    note = make_note(rng, people, "sealed-2", 0)
    recall, _, misses = deid.score([note], [note.text])
    leaked = sum(n for _, n in recall.values()) - sum(c for c, _ in recall.values())
    assert leaked > 0
    assert len(misses) == leaked and {m[0] for m in misses} == {"sealed-2"}  # read since deid12d
