"""The fast place rule gives exactly the spans the previous one gave.

``bench._geo_ref`` is ``activities/deid/geo.py`` verbatim from before the
speed work. Both run over the bench corpus (every template set but the sealed
one, folded as the scrubber folds, before and after the patterns) and over
generated texts (hypothesis) built from place cues in every case, places of
one to four words, English-word places, regions, counties, particles, note
words, punctuation and whitespace of every kind; the span lists must be
equal, in order.
"""

from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import _geo_ref as reference
from bench._deid_corpus import SETS, make_identities, make_note
from medpipe.activities.deid import geo
from medpipe.activities.deid.normalize import fold
from medpipe.activities.pseudonymize.scrub import scrub_patterns


def same(folded: str) -> None:
    assert geo.RULE.find(folded) == reference.RULE.find(folded), folded


@pytest.mark.parametrize("template_set", sorted(s for s in SETS if s != "sealed"))
def test_bench_corpus_identical(template_set: str) -> None:
    rng = random.Random(13)
    people = make_identities(200, 13)
    notes = [make_note(rng, people, template_set, i).text for i in range(1200)]
    after = scrub_patterns(pa.array(notes), Counter()).to_pylist()
    for text in notes + after:
        same(fold(text)[0])


_PIECES = (
    "in", "In", "IN", "from", "From", "to", "near", "outside", "around", "visiting", "via",
    "toward", "towards", "relocated to", "native of", "resident of", "Resident Of",
    "outskirts of", "suburb of", "city of", "town of", "area of", "born in", "lives in",
    "moved to", "Moved To", "of", "x-in", "/in", "Tucson", "TUCSON", "Fort Wayne", "Des Moines",
    "Leeds", "Lyon", "Reading", "Mobile", "Bath", "Kern", "Kern County", "Cass Co.", "Parish",
    "Borough", "County", "Stratford upon Avon", "Stratford-upon-Avon", "Lake Theodorefurt",
    "Kaka Kazu", "Dr Lee", "Medical", "Center", "March", "Ward", "Clinic", "Sacramento",
    "AZ", "Az", "Arizona", "England", "France", "CA 95814", "Indiana", "In", "Me", "Ok",
    "UK", "USA", "US", "New York", "New", "York", "Washington", "Georgia", "Paris",
    "San Jose", "La Paz", "de", "la", "upon", "St.", "Mt.", "[ADDRESS]", "[NAME]", "Mary",
    "Smith", "O'Neill", "A.", "J", ",", ", ", ",  ", ".", ":", ";", "(", ")", "'", "-", "/",
    "\n", "\t", "  ", "   ", "    ", " ", "\u00a0", "é", "9")


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=24),
       st.lists(st.sampled_from((" ", "", "\n", ", ", "\t", "  ", ",", "   ")), min_size=1,
                max_size=24))
def test_generated_identical(pieces: list[str], seps: list[str]) -> None:
    same("".join(p + seps[i % len(seps)] for i, p in enumerate(pieces)))


@pytest.mark.parametrize("text", ("in   \nTucson ", "in \n\nTucson", "in\n\n\n\nTucson",
                                  "in    Tucson", "in  \n Tucson", "moved to   \nLeeds"))
def test_cue_then_a_line_break_identical(text: str) -> None:
    """Found by the search above: a cue, up to three blanks, then a line break (the
    reference's ``$`` matches before a final newline) is a cue to both."""
    same(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="AaCcFfIiKkLlNnOoTtUuZz .,:()'-/\n\t\u00a0", max_size=60))
def test_random_text_identical(text: str) -> None:
    same(text)


_GAPS = ("", " ", "  ", "   ", "    ", "\t", "\n", " \n ", ",", ", ", ",  ", ",   ", ". ", ": ")


@pytest.mark.parametrize("cue", ("in", "In", "moved to", "resident of", "x/in", "-in", "via"))
def test_cue_gaps_identical(cue: str) -> None:
    """Every gap between a cue and a place, and between a place and its region."""
    for before in ("", "a ", "x", "Mr ", "(", "\n"):
        for gap in _GAPS:
            for place in ("Tucson", "Fort Wayne", "Reading", "Kern County", "Lake Tucson"):
                for region in ("AZ", "Arizona", "England", "In", "Medical"):
                    same(f"{before}{cue}{gap}{place}{gap}{region}")
                    same(f"{before}{place}{gap}{region} {cue}{gap}{place}.")


def test_gazetteer_read_as_before() -> None:
    """The faster reading of ``gazetteer.txt`` gives the same places, regions and words."""
    new, old = geo.gazetteer(), reference.gazetteer()
    assert (new.places, new.regions, new.words) == (old.places, old.regions, old.words)
