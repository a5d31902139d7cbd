"""The ``sealed`` template set plants what it labels, and its misses are never printed.

A generator self-check only: it never runs the scrubber, so it reveals nothing
about how the sealed set scores.
"""

from __future__ import annotations

import random

import pytest

from bench import deid
from bench._deid_corpus import FILLERS, SETS, make_identities, make_note
from bench._deid_sealed import SEALED, SEALED_FILLER

CATEGORIES = {"NAME", "DATE", "AGE", "GEO", "PHONE", "EMAIL", "URL", "IP", "SSN", "MRN"}


def test_sealed_is_registered_and_never_printed() -> None:
    assert SETS["sealed"] is SEALED
    assert FILLERS["sealed"] is SEALED_FILLER
    assert "sealed" in deid.SEALED  # blind-test was unsealed once its first figure was taken
    assert set(SEALED) == CATEGORIES


@pytest.mark.parametrize("template_set", ["sealed", "sealed-2"])
def test_every_span_is_in_its_note_in_order(template_set: str) -> None:
    """Both sealed sets: every planted span is in its note, in order, every category."""
    rng = random.Random(5)
    people = make_identities(120, 5)
    seen: set[str] = set()
    for i in range(1500):
        note = make_note(rng, people, template_set, i)
        assert note.template_set == template_set
        at = 0
        for span in note.spans:
            assert span.category in CATEGORIES
            assert span.text.strip() == span.text and span.text, span
            found = note.text.find(span.text, at)
            assert found >= 0, (span, note.text)
            assert note.text[found:found + len(span.text)] == span.text
            at = found + len(span.text)
            seen.add(span.category)
    assert seen == CATEGORIES


def test_every_form_plants_its_value() -> None:
    rng = random.Random(9)
    people = make_identities(40, 9)
    for cat, forms in SEALED.items():
        for form in forms:
            for p in people:
                value, sentence = form(rng, p)
                assert value and value in sentence, (cat, value, sentence)
                assert "{}" not in sentence, (cat, sentence)


def test_the_scorer_fails_a_leaked_sealed_span_without_printing_it() -> None:
    rng = random.Random(3)
    people = make_identities(100, 3)
    note = make_note(rng, people, "sealed", 0)
    recall, _, misses = deid.score([note], [note.text])
    assert sum(c for c, _ in recall.values()) < sum(n for _, n in recall.values())
    assert misses == []
