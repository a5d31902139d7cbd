"""Known values that are also words: the patient's name is found, the word is left.

A dataset whose patients are named May Walker, Grace Wells, Clark West or
Rose Foley: every way the bench's generators write a patient's own name
(capitalized, capitals, lower case at a sentence start, after a title or a
relation, as a phrase, reversed with a comma) must still be scrubbed, and the
word uses (``may need``, ``walker at bedside``, ``4 West``, ``Wells score``,
``Foley catheter``) must survive. The column path, the per-text path and the
residual check (keyed digests, no placeholder kinds) must find the same spans.
"""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import knownuse
from medpipe.activities.deid.columnar import find_column
from medpipe.activities.deid.detect import known_spans
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize.scrub import scrub_column
from medpipe.activities.residual import DigestSet, scan
from medpipe.contracts.pseudonymize import Placeholder

KEY = b"w" * 32
PEOPLE = [("May", "Walker"), ("Grace", "Wells"), ("Clark", "West"), ("Rose", "Foley"),
          ("Will", "Bishop"), ("Mark", "Floor"), ("Faye-Tara", "van der Brink"),
          ("Maria Luiza-Joao", "Vitor Pires")]  # longer than the indexed runs of 4 parts
FILLER = ["Stable overnight.", "HbA1c 7.2, BP 128/82.", "Denies chest pain.", "Plan:",
          "Follow up in 3 months.", "Discussed with Cardiology."]


def _index() -> KeyIndex:
    index = KeyIndex(KEY)
    index.add_all([f"{g} {f}" for g, f in PEOPLE], Placeholder.NAME)
    return index


#: Ways a patient's own name is written (the generators' forms and a few more).
NAME_FORMS = [
    lambda g, f: f"{g} {f} was seen today.", lambda g, f: f"{g.upper()} {f.upper()} SEEN.",
    lambda g, f: f"{g.lower()} agrees.", lambda g, f: f"{g.lower()} resting, daughter at bedside",
    lambda g, f: f"pt {g.lower()} {f.lower()} c/o trouble sleeping",
    lambda g, f: f"Mrs. {f} here.", lambda g, f: f"Seen by Dr. {f} today.",
    lambda g, f: f"per dr. {f.lower()}, hold sertraline", lambda g, f: f"Pt: {f}, {g}.",
    lambda g, f: f"Spoke with daughter {g}.", lambda g, f: f"Shares a room with {g} {f}.",
    lambda g, f: f"{g} is well.", lambda g, f: f"{f.upper()}'S wife present.",
    lambda g, f: f"discussed with dr {f.lower()} who accepts",
    lambda g, f: f"Caller: {g.lower()}", lambda g, f: f"Hi, this is {g}.",
    lambda g, f: f"{g} asked about warfarin.", lambda g, f: f"\n{g.lower()} {f.lower()}\n",
]
#: Word uses that must survive (in a note that uses capitals).
TRAPS = [("She may need a walker at bedside.", ["may", "walker"]),
         ("Transfer to 4 West for telemetry.", ["West"]),
         ("Wells score 4, low risk.", ["Wells"]), ("Foley catheter to gravity.", ["Foley"]),
         ("Pt found on floor by neighbor.", ["floor"]), ("Breslow 1.2 mm, Clark level IV.",
                                                         ["Clark"]),
         ("Ambulating with walker assist x1", ["walker"]), ("Family may visit at 1400.",
                                                          ["may"]),
         ("Pt again may need walker.", ["may", "walker"]), ("moved to 5 west.", ["west"])]


def _scrub(texts: list[str]) -> list[str]:
    return scrub_column(pa.array(texts, pa.string()), _index(), Counter()).to_pylist()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PEOPLE), st.sampled_from(NAME_FORMS),
       st.lists(st.sampled_from(FILLER), max_size=3), st.lists(st.sampled_from(FILLER),
                                                               max_size=3))
def test_a_patients_own_name_is_still_found(person: tuple[str, str], form: object,
                                            before: list[str], after: list[str]) -> None:
    g, f = person
    sentence = form(g, f)  # type: ignore[operator]
    text = " ".join([*before, sentence, *after])
    out = _scrub([text])[0]
    said = set(re.findall(r"[a-z]+", sentence.lower()))
    kept = set(re.findall(r"[a-z]+", out.lower().replace("[name]", " ")))
    left = [w for w in re.split(r"[ -]", f"{g} {f}".lower()) if w in said and w in kept]
    assert not left, f"{left} left in {out!r}"
    ds = DigestSet.from_index(KEY, _index())
    assert sum(scan(text, ds, free_text=False).values()) > 0  # the residual check sees it


@pytest.mark.parametrize(("trap", "words"), TRAPS)
@pytest.mark.parametrize("lead", ["", "Seen today. ", "BP 120/80. "])
def test_word_uses_survive(trap: str, words: list[str], lead: str) -> None:
    out = _scrub([lead + trap])[0]
    for w in words:
        assert w in out, f"{w!r} removed from {out!r}"
    ds = DigestSet.from_index(KEY, _index())
    assert scan(lead + trap, ds, free_text=False) == Counter()


@pytest.mark.parametrize("text", [
    "she may need a walker at bedside.",  # a note without capitals: case tells nothing
    "Dr. Walker saw her; daughter May at bedside.",  # after a title / relation: a name
    "May need walker",  # a capital at a sentence start: a name as well as a word
    "Transfer to West.",  # no number before: a name
    "Mr Wells score",  # after a title, even before a head noun
    "Next appt may 27 at 10:30.",  # a month before a number: a date, kept
    "Seen 3 may, stable.",
])
def test_names_in_ambiguous_places_are_taken(text: str) -> None:
    spans = known_spans(text, _index().find)
    assert spans, f"nothing found in {text!r}"


_word = st.sampled_from(["may", "May", "MAY", "walker", "Walker", "west", "West", "wells",
                         "Wells", "clark", "foley", "Foley", "grace", "floor", "Floor", "will",
                         "bishop", "mark", "rose", "May Walker", "may walker", "Clark West"])
_glue = st.sampled_from([" ", ". ", "\n", ", ", " 4 ", " 12 ", " need ", " score ", " level ",
                         " catheter", "'s disease", " Dr. ", " daughter ", " spoke with ",
                         " moved to ", "Plan: ", " [NAME] ", " at bedside", "x", "3rd ", "-",
                         " she ", " BP ", "\t"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(_word, _glue), max_size=14), min_size=1, max_size=10))
# a lower-case town cut out of a longer word left the rest ("May") a word of its own
@example(shapes=[[" moved to ", "clark", "May"]])
def test_column_per_text_and_residual_find_the_same(shapes: list[list[str]]) -> None:
    texts = ["".join(parts) for parts in shapes]
    index = _index()
    ds = DigestSet.from_index(KEY, index)
    col = pa.array(texts, pa.string())
    column = find_column(col, index.lookup_runs, index.width).spans(len(texts))
    per_text = [known_spans(t, index.find) for t in texts]
    assert column == per_text
    digested = ds.find_column(col).spans(len(texts))
    assert [[(s, e) for s, e, _ in sp] for sp in digested] == \
        [[(s, e) for s, e, _ in sp] for sp in per_text]
    assert [[(s, e) for s, e, _ in known_spans(t, ds.find)] for t in texts] == \
        [[(s, e) for s, e, _ in sp] for sp in per_text]
    # what the scrubber leaves, the residual check passes; what it removes is gone
    for t, out in zip(texts, _scrub(texts), strict=True):
        assert scan(out, ds, free_text=False) == Counter(), (t, out)


def test_word_use_reads_only_one_token_candidates() -> None:
    assert not knownuse.word_use("x walker2 y", 2, 9)  # not a word of the vocabulary
    assert not knownuse.word_use("Pt saw okafor today", 7, 13)  # not a word at all
    assert knownuse.word_use("Pt may need it", 3, 6)
    assert not knownuse.word_use("pt may need it", 3, 6)  # no capitals in the text
    assert knownuse.word_use("pt may need it", 3, 6, capitals=True)
