"""The fast name finder gives exactly the spans the previous one gave.

``bench._names_ref`` is the engine of ``names``/``cues``/``context`` verbatim
from before the speed work (the rules imported from the product); the
product runs the rule table (``rules.find`` over ``rules.RULES``). Both run
over the bench corpus (all four template sets, folded as the scrubber folds)
and over generated texts (hypothesis) built from cue words, names, initials,
credentials, punctuation and line breaks; the span lists must be equal, in
order.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench._deid_corpus import SETS, make_identities, make_note
from bench._names_ref import names as reference
from medpipe.activities.deid import rules
from medpipe.activities.deid.normalize import fold


def same(text: str) -> None:
    folded = fold(text)[0]
    assert rules.find(folded, rules.RULES) == reference.find_names(folded), folded


@pytest.mark.parametrize("template_set", sorted(SETS))
def test_bench_corpus_identical(template_set: str) -> None:
    rng = random.Random(11)
    people = make_identities(200, 11)
    for i in range(1500):
        same(make_note(rng, people, template_set, i).text)


_PIECES = (
    "Dr", "Dr.", "dr", "DR", "Mrs", "Nurse", "seen by", "Seen By", "attending", "per", "cc",
    "son", "Daughter", "wife (", "pt's daughter,", "her niece", "(daughter)", ", her son",
    "Caller:", "Patient:", "Re:", "PATIENT:", "Name:", "spoke with", "Spoke With",
    "Yours sincerely,", "c/o", "i'm", "this is", ", MD", ", RN", " M.D.", ", PA-C", "MD",
    "Mary", "Smith", "MARY", "SMITH", "J.", "J", "O'Brien", "Anne-Marie", "van", "de la",
    "Kazutro", "Physical", "Therapy", "Cardiology", "WIFE", "PRESENT", "Grace", "Jones",
    "[NAME]", "Des Moines", "Fort Wayne", "from", "lives in", "transferred from", "Boston",
    "zip code", "24270", "Apt 4B", "suite 200", "3/4", "2/2", "tablet", "pain", "92F",
    "104 M", "temp", "Mon", "x/Mary", "DOE, JANE", "Udeh, M.D.", ",", ".", ":", "(", ")",
    "\n", "  ", "\t", " ", "'", "-", "/", "a", "the", "and", "É", "ñ")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=30),
       st.lists(st.sampled_from((" ", "", "\n", ", ")), min_size=1, max_size=30))
def test_generated_identical(pieces: list[str], seps: list[str]) -> None:
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))
    same(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="AaBbDdJMrsSn .,:()'-/\n\t0123456789[]", max_size=80))
def test_random_text_identical(text: str) -> None:
    same(text)


_GAPS = ("", " ", "  ", ": ", ":  ", ", ", " (", ".", ". ", ":\n", "\n", " \t", ",  (  ",
         ":     ", ":      ", ":       ", " " * 6, " " * 7, "\t" * 6, ", ; ", " 9 ", "/")
_BEFORE = ("", "a", "x/", "9", "'", "-", " ", "é", ".", "(", "c/o", "Mr")
_CUES = ("Dr", "dr.", "seen by", "daughter", "Caller", "Patient", "spoke with", "from",
         "lives in", "pt's daughter", "x/y", "word")
_AFTER = ("Mary Smith", "MARY SMITH", "J. Smith", "Boston", "Des Moines", "Steve (daughter)",
          "Alica Donovan, MD", "Mary [NAME]", "[NAME] Felipe", "[NAME], Smith", "DOE, JANE",
          "Kazutro agreed", "Physical Therapy")


@pytest.mark.parametrize("before", _BEFORE)
def test_cue_gaps_identical(before: str) -> None:
    """Every gap length and kind between a cue and a run, every character before a word."""
    for cue in _CUES:
        for gap in _GAPS:
            for after in _AFTER:
                same(f"{before}{cue}{gap}{after}")
                same(f"{before}{after}{gap}{cue}")
