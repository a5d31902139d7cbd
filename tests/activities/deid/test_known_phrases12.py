"""Known values inside a phrase that names no one: the phrase stays, the patient goes.

Patients named Virginia Hamilton, John Parkinson, Carolina Christmas,
Salvador Turner and Ann West: every note of the dataset is looked up for "virginia",
"hamilton", "john", "christmas"... (``knownuse``). "West Virginia" and "North
Carolina" (states), "El Salvador" (a country), "Hamilton scale" (a rating
scale), "St. John's wort" (a herb), "Christmas disease" and "Parkinson's
disease" must survive; the same names written as a person's ("Virginia
Hamilton", "Mr. Hamilton", "Hamilton, Virginia", "daughter Carolina") must go,
in the same note. Both scrub paths (column ``scrub_column``, one text
``scrub_text``) and both residual paths (``scan_texts``, ``scan``) are held to it,
and the known-value spans of the column and per-text finders must be equal.
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
from medpipe.activities.deid.index import KeyIndex, sentence_end
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.activities.residual import DigestSet, scan
from medpipe.activities.residual_scan import scan_texts
from medpipe.contracts.pseudonymize import Placeholder

KEY = b"p" * 32
PEOPLE = [("Virginia", "Hamilton"), ("John", "Parkinson"), ("Carolina", "Christmas"),
          ("Salvador", "Turner"), ("Ann", "West")]
#: Phrases that name no one although they hold a patient's name (each kept verbatim).
TRAPS = ["Is from West Virginia originally.", "Moved from North Carolina in 2019.",
         "Family in El Salvador.", "Scored 14 on the Hamilton scale.",
         "Takes St. John's wort daily.", "Parkinson's disease, stable on carbidopa.",
         "Factor IX deficiency (Christmas disease).", "Hamilton score 18 today.",
         "HAMILTON SCALE 22.", "lives in west virginia, works nights."]
#: Ways a patient's own name is written.
NAME_FORMS = [
    lambda g, f: f"{g} {f} was seen today.", lambda g, f: f"Mr. {f} called back.",
    lambda g, f: f"{f}, {g} called back.", lambda g, f: f"Spoke with daughter {g}.",
    lambda g, f: f"{g} asked about warfarin.", lambda g, f: f"Seen by Dr. {f} today.",
    lambda g, f: f"{f.upper()}, {g.upper()}.", lambda g, f: f"Pt: {f}, {g}.",
    lambda g, f: f"Mrs. {f} scale reviewed.", lambda g, f: f"{g} {f}. West is home.",
]
FILLER = ["Stable overnight.", "BP 128/82.", "Denies chest pain.", "Plan:", "Seen today."]


def _index() -> KeyIndex:
    index = KeyIndex(KEY)
    index.add_all([f"{g} {f}" for g, f in PEOPLE], Placeholder.NAME)
    return index


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower().replace("[name]", " ")
                          .replace("[address]", " ")))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PEOPLE), st.sampled_from(NAME_FORMS), st.sampled_from(TRAPS),
       st.booleans(), st.lists(st.sampled_from(FILLER), max_size=2))
@example(person=("Virginia", "Hamilton"), form=NAME_FORMS[2], trap=TRAPS[0], first=True,
         filler=[])
def test_trap_stays_and_the_name_goes(person: tuple[str, str], form: object, trap: str,
                                      first: bool, filler: list[str]) -> None:
    g, f = person
    sentence = form(g, f)  # type: ignore[operator]
    parts = [trap, *filler, sentence] if first else [sentence, *filler, trap]
    text = " ".join(parts)
    index = _index()
    column = scrub_column(pa.array([text], pa.string()), index, Counter()).to_pylist()[0]
    one = scrub_text(text, index, Counter())
    name = {w.lower() for w in (g, f)}
    for out in (column, one):
        assert trap in out, f"{trap!r} changed in {out!r}"
        left = name & _words(sentence) & _words(out.replace(trap, " "))
        assert not left, f"{left} left in {out!r}"
    ds = DigestSet.from_index(KEY, index)
    assert sum(scan(text, ds, free_text=False).values()) > 0
    assert scan(trap, ds, free_text=True) == Counter()  # the trap alone: nothing to find
    for out in (column, one):  # the scrubbed note passes both residual paths
        assert scan(out, ds, free_text=True) == Counter(), out
        hit, _ = scan_texts(pa.array([out], pa.string()), ds)
        assert not bool(hit[0]), out


_word = st.sampled_from(["West", "John West", "Virginia", "virginia", "VIRGINIA", "Hamilton",
                         "hamilton", "North", "Carolina", "El", "Salvador", "John", "Christmas",
                         "Turner", "Parkinson", "St.", "St", "Saint", "Virginia Hamilton"])
_glue = st.sampled_from([" ", ". ", "\n", ", ", "'s", "'s ", " scale", " score ", " position",
                         " disease", " wort", " from ", " Dr. ", " Mr ", " daughter ",
                         " in ", " City", " Beach", " 4 ", "-", "\t", " of ", " the ", "? ",
                         "! ", ".  ", ". 4", ".", " Mt. ", " J. "])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(_word, _glue), max_size=12), min_size=1, max_size=8))
@example(shapes=[["St.", " ", "John", "'s", " wort"], [" from ", "West", " ", "Virginia"],
                 ["Hamilton", " scale"], ["Dr. ", "Hamilton", " scale"]])
def test_column_and_per_text_spans_agree(shapes: list[list[str]]) -> None:
    texts = ["".join(p) for p in shapes]
    index = _index()
    col = pa.array(texts, pa.string())
    column = find_column(col, index.lookup_runs, index.width).spans(len(texts))
    per_text = [known_spans(t, index.find) for t in texts]
    assert column == per_text
    ds = DigestSet.from_index(KEY, index)
    digested = ds.find_column(col).spans(len(texts))
    assert [[(s, e) for s, e, _ in sp] for sp in digested] == \
        [[(s, e) for s, e, _ in sp] for sp in per_text]


def test_each_rule_and_where_it_yields() -> None:
    word = knownuse.word_use
    assert word("Scored on the Hamilton scale.", 14, 22)  # rule 4: a term's head after it
    assert not word("Hamilton's scale was 9.", 0, 8)  # a non-eponym's possessive: the person's
    assert not word("Dr Hamilton scale", 3, 11)  # a name cue first
    assert word("place in Trendelenburg position", 9, 22)  # a place cue does not make it one
    assert word("Takes St. John's wort", 10, 14)  # rule 5
    assert not word("Main St. John visits", 9, 13)  # no possessive: a street, then a name
    assert word("is from West Virginia.", 13, 21)  # rule 6, after a place cue too
    assert word("is from West Virginia.", 8, 12)
    assert not word("is from Virginia.", 8, 16)  # a one-word state may be the person
    assert not word("lives in Virginia City", 9, 17)  # a city: an identifier
    assert not word("Dr. West Virginia", 4, 8)  # a name cue
    assert "west virginia" in knownuse.regions() and "virginia" not in knownuse.regions()
    assert knownuse.region_use("from West Virginia", 5, 9)  # next to another value too
    assert not knownuse.region_use("Virginia West was seen", 9, 13)


def test_run_across_a_sentence_end() -> None:
    """Found by the explore run of ``test_trap_stays_and_the_name_goes``: the given name
    ends a sentence and the next opens with the family name of a term ("Hamilton score").
    A run no longer grows over a sentence's end (``index.sentence_end``), in either path:
    the two tokens are two mentions, each read alone."""
    text = "Spoke with daughter Virginia. Hamilton score 18 today."
    for out in _both(text):
        assert out == "Spoke with daughter [NAME]. Hamilton score 18 today.", out


def _both(text: str, index: KeyIndex | None = None) -> list[str]:
    """``text`` scrubbed by the column path and by the one-text path."""
    index = index or _index()
    return [scrub_column(pa.array([text], pa.string()), index, Counter()).to_pylist()[0],
            scrub_text(text, index, Counter())]


@pytest.mark.parametrize(("text", "left"), [
    # an abbreviation's dot: the run grows over it, the whole name is one hit
    ("Seen by Dr. Virginia Hamilton.", "Seen by Dr. [NAME]."),
    ("Family: Ann St. John, Mary St. Clair.", "Family: [NAME], [NAME]."),
    # a real end: each side read alone, each still removed where it is a name
    ("Called Hamilton. Virginia answered.", "Called [NAME]. [NAME] answered."),
    ("Is it Virginia? Hamilton said yes.", "Is it [NAME]? [NAME] said yes."),
    ("Saw Virginia! Hamilton score 9.", "Saw [NAME]! Hamilton score 9."),
    # a number after a dot goes on what the dot cut
    ("Spoke with Virginia. 18 today.", "Spoke with [NAME]. 18 today."),
])
def test_sentence_end_against_abbreviation(text: str, left: str) -> None:
    index = _index()
    index.add_all(["Ann St. John", "Mary St. Clair"], Placeholder.NAME)
    for out in _both(text, index):
        assert out == left, out


def test_runs_grow_over_an_abbreviation_not_a_sentence_end() -> None:
    """The known-value spans themselves, both paths: one run over an abbreviation's dot (a
    title, an initial, a saint, a mount), two over a sentence's end."""
    index = _index()
    index.add_all(["Virginia J. Hamilton", "Ann St. John"], Placeholder.NAME)
    index.add_all(["1 Mt. Sinai Rd"], Placeholder.ADDRESS)
    texts = ["Dr. Virginia J. Hamilton saw Ann St. John at 1 Mt. Sinai Rd.",
             "Daughter Virginia. Hamilton seen. Ann? St John.",
             "virginia.  hamilton; virginia. j. hamilton"]
    want = [["Virginia J. Hamilton", "Ann St. John", "1 Mt. Sinai Rd"],
            ["Virginia", "Hamilton", "Ann", "St John"],
            ["virginia", "hamilton", "virginia", "j. hamilton"]]
    col = pa.array(texts, pa.string())
    column = find_column(col, index.lookup_runs, index.width).spans(len(texts))
    per_text = [index.find(t.lower()) for t in texts]
    assert column == per_text
    assert [[t[s:e] for s, e, _ in sp] for t, sp in zip(texts, per_text, strict=True)] == want


def test_sentence_end_rule() -> None:
    assert sentence_end("virginia", ". ", "hamilton")
    assert sentence_end("virginia", ".  ", "hamilton")
    assert sentence_end("ok", "? ", "hamilton") and sentence_end("ok", "!", "hamilton")
    for word in ("st", "dr", "mt", "mrs", "j", "blvd"):  # abbreviations: no end
        assert not sentence_end(word, ". ", "john"), word
    assert not sentence_end("smith", ".", "example")  # no space after the dot
    assert not sentence_end("apt", ". ", "4")  # a number goes on
    assert sentence_end("4", ". ", "hamilton")  # a number is no abbreviation
    assert not sentence_end("virginia", ", ", "hamilton")
