"""The ``sealed`` template set plants what it labels, and its misses are never printed.

A generator self-check only: it never runs the scrubber, so it reveals nothing
about how the sealed set scores.
"""

from __future__ import annotations

import random
import re

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


#: Every blind set (written without reading the rules): the generator checks below hold for
#: each; a set's own file checks what is its own.
BLIND_SETS = ["sealed", "sealed-2", "sealed-3", "sealed-4", "sealed-5", "sealed-6"]
#: The blind sets whose misses are still never printed (``sealed-2`` was read in deid12d;
#: ``sealed-3`` in round deid12e, after its two recorded runs; ``sealed-4``: read in round
#: deid12f, after its two recorded runs; ``sealed-5``: read in deid12h after its recorded
#: runs; held out no longer).
SEALED_SETS = ["sealed", "sealed-6"]


def test_the_sealed_sets_are_the_unread_ones() -> None:
    assert deid.SEALED == frozenset(SEALED_SETS)


@pytest.mark.parametrize("template_set", BLIND_SETS)
def test_registered_with_every_category_and_enough_forms(template_set: str) -> None:
    """Six forms or more for the categories written most ways, two or more for every other."""
    assert template_set in FILLERS
    forms = SETS[template_set]
    assert set(forms) == CATEGORIES
    for cat in CATEGORIES:
        assert len(forms[cat]) >= (6 if cat in ("NAME", "DATE", "GEO") else 2), cat


@pytest.mark.parametrize("template_set", BLIND_SETS)
def test_every_span_is_in_its_note_in_order(template_set: str) -> None:
    """Every planted span is in its note, in order, and every category is planted."""
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


@pytest.mark.parametrize("template_set", BLIND_SETS)
def test_every_form_plants_its_value(template_set: str) -> None:
    """Each form's value is in its sentence (the span test checks it is planted stripped)."""
    rng = random.Random(9)
    people = make_identities(40, 9)
    for cat, forms in SETS[template_set].items():
        for form in forms:
            for p in people:
                value, sentence = form(rng, p)
                assert value and value in sentence, (cat, value, sentence)
                assert "{}" not in sentence and "{" not in value, (cat, sentence)


@pytest.mark.parametrize("template_set", BLIND_SETS)
def test_the_scorer_fails_a_leaked_span_and_prints_it_only_once_read(template_set: str) -> None:
    """A note left as written fails; a sealed set's misses are never printed, a read set's
    are, every one."""
    rng = random.Random(3)
    people = make_identities(100, 3)
    note = make_note(rng, people, template_set, 0)
    recall, _, misses = deid.score([note], [note.text])
    leaked = sum(n for _, n in recall.values()) - sum(c for c, _ in recall.values())
    assert leaked > 0
    if template_set in SEALED_SETS:
        assert misses == []
    else:
        assert len(misses) == leaked and {m[0] for m in misses} == {template_set}


#: ``sealed`` predates this check and fails it (a house number ``500`` its GEO plants is also
#: in a dose of its filler); it is left as recorded, since a new filler would change its
#: figures.
@pytest.mark.parametrize("template_set", [s for s in BLIND_SETS if s != "sealed"])
def test_no_filler_sentence_holds_a_planted_value(template_set: str) -> None:
    """A value found as a word in the filler would be located there, not where it was planted.

    Names are left out: a given name that is also a word (``frank``, ``ivy``) is one of a
    filler's traps on purpose.
    """
    rng = random.Random(11)
    people = make_identities(60, 11)
    filler = FILLERS[template_set]
    for cat in sorted(CATEGORIES - {"NAME"}):
        for form in SETS[template_set][cat]:
            for p in people:
                value, _ = form(rng, p)
                word = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")
                assert not [f for f in filler if word.search(f)], (cat, value)


@pytest.mark.parametrize("template_set", BLIND_SETS)
def test_ages_are_over_89(template_set: str) -> None:
    """Safe Harbor removes ages over 89 only: a younger age planted as PHI would be scored as
    a miss the scrubber is right to leave."""
    rng = random.Random(13)
    people = make_identities(20, 13)
    for form in SETS[template_set]["AGE"]:
        for p in people:
            value, _ = form(rng, p)
            digits = re.search(r"\d+", value)
            assert int(digits.group()) > 89 if digits else value.lower().startswith(
                ("ninety", "one hundred")), value
