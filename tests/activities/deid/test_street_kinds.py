"""The street kinds and post-office boxes written once (``grammar.STREET_KINDS``,
``grammar.PO_BOX``): every rule built from them reads each of them, in its own form, and
the rules that read a box read every spelling of it."""

from __future__ import annotations

import re

import pytest

from medpipe.activities.deid import forms, grammar, homestreets, mailforms, streetforms
from tests.activities.deid.test_general_forms9 import clean

FULL = [kind[0] for kind in grammar.STREET_KINDS]
SHORT = [short for _, *abbr in grammar.STREET_KINDS for short in abbr]
BOXES = (
    "P.O. Box",
    "PO Box",
    "POB",
    "Post Office Box",
    "PO BX",
    "p.o. box #",
    "P.O. Drawer",
    "Post Office Drawer",
    "PO  Box",
)


@pytest.mark.parametrize("kind", FULL + SHORT)
def test_every_kind_is_a_suffix_of_the_numbered_grammar(kind: str) -> None:
    """A kind read without a number is read with one too (the grammar's list is the wide one)."""
    assert re.fullmatch(grammar.STREET_SUFFIX, kind, re.IGNORECASE)


@pytest.mark.parametrize("kind", FULL)
def test_every_kind_written_out_is_read_by_each_rule(kind: str) -> None:
    cap = kind.capitalize()
    assert streetforms.find(f"staying at the shelter on Quarry {cap} now") != []
    assert homestreets.find(f"she lives at 2276 old mill {kind} with her son") != []
    assert forms.LOWER_ADDRESS.search(f"2276 old mill {kind} apt 4") is not None


@pytest.mark.parametrize("short", SHORT)
def test_every_abbreviation_is_read_after_a_place_cue(short: str) -> None:
    assert streetforms.find(f"staying at the shelter on Quarry {short.capitalize()}. now") != []


def test_a_loop_after_a_place_cue_is_a_street() -> None:
    """``Loop``, which the lower-case rules always read, is read after a place cue too."""
    clean("Staying at the shelter on Tallowick Loop since Friday.", "Tallowick")


@pytest.mark.parametrize("box", BOXES)
def test_every_spelling_of_a_box_is_an_address_to_both_rules(box: str) -> None:
    text = f"Mailing address is {box} 4417 (no home delivery)."
    assert re.search(grammar.ADDRESS, text, re.IGNORECASE) is not None
    assert [text[a:b] for a, b, _ in mailforms.find(text)] == [f"{box} 4417"]


def test_a_box_over_two_lines_is_the_grammars_only() -> None:
    """``mailforms`` reads a box on one line (its words are a box's ``[ \\t]`` apart)."""
    text = "Mailing address: PO\nBox 4417"
    assert re.search(grammar.ADDRESS, text, re.IGNORECASE) is not None
    assert mailforms.find(text) == []
