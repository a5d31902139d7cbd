"""Issue 12: the residual check finds nothing in the scrubber's own output (a fixpoint).

The validate stage re-reads scrubbed notes with the scrubber's rules and blocks the release
on any finding; a finding the scrubber did not act on blocks a release with nothing to fix.
Held here, for notes of every template set of ``bench/deid.py`` (fixed seed) and for
generated notes that put words beside placeholders: the check's column path
(``residual_scan.scan_texts``) and its one-text path (``residual.scan``) find nothing in
the output, and scrubbing the output again changes nothing (column ``scrub_column`` and
one-text ``scrub_text``). The other side: a placeholder is never a finding
(``marks.found``), and a real identifier beside one still is (the check is not blind).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench._deid_corpus import SETS, make_identities, make_note
from bench.deid import table
from bench.deid_fixpoint import run
from medpipe.activities.deid import marks
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.activities.residual import DigestSet, scan
from medpipe.activities.residual_scan import scan_texts
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms7 import unknown

NOTES_PER_SET = 6


def _fixpoint(outputs: list[str], digests: DigestSet | None) -> None:
    """Neither path of the residual check finds anything in ``outputs``."""
    hit, kinds = scan_texts(pa.array(outputs, pa.string()), digests)
    flagged = [o for o, h in zip(outputs, hit.tolist(), strict=True) if h]
    assert not flagged and not kinds, (kinds, flagged[:3])
    for out in outputs:
        assert scan(out, digests, free_text=True) == Counter(), out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str], object]:
    """(notes, the pipeline's outputs, the run) for a few notes of every template set."""
    sets = list(SETS)
    rng = random.Random(12)
    people = make_identities(100, 12)
    notes = [make_note(rng, people, sets[i % len(sets)], i)
             for i in range(NOTES_PER_SET * len(sets))]
    outputs, p, _ = run(table(notes), Path(tmp_path_factory.mktemp("fixpoint")))
    return [n.text for n in notes], outputs, p


def test_the_check_finds_nothing_in_the_pipelines_output(
        corpus: tuple[list[str], list[str], object]) -> None:
    _, outputs, p = corpus
    _fixpoint(outputs, p.identifier_digests())  # type: ignore[attr-defined]


def test_scrubbing_the_output_again_changes_nothing(
        corpus: tuple[list[str], list[str], object]) -> None:
    _, outputs, p = corpus
    col = pa.array(outputs, pa.string())
    assert scrub_column(col, p.index, Counter()).to_pylist() == outputs  # type: ignore[attr-defined]
    for out in outputs:
        assert scrub_text(out, p.index, Counter()) == out  # type: ignore[attr-defined]


def test_the_one_text_scrubber_reaches_its_fixpoint_too(
        corpus: tuple[list[str], list[str], object]) -> None:
    notes, _, p = corpus
    outs = [scrub_text(n, p.index, Counter()) for n in notes]  # type: ignore[attr-defined]
    _fixpoint(outs, p.identifier_digests())  # type: ignore[attr-defined]
    assert [scrub_text(o, p.index, Counter()) for o in outs] == outs  # type: ignore[attr-defined]


#: Pieces of notes that put words beside placeholders: cues the rules read, placeholders,
#: ordinary and clinical words, county kinds, punctuation.
PIECES = ("[NAME]", "[ADDRESS]", "[DATE]", "[ID]", "[PHONE]", "[AGE>89]", "this is",
          "Dear Ms", "Hi Dr.", "Works nights at", "Referred by", "Longtime", "Postcode",
          "medicaid through", "co", "cty", "dhs", "Dressing", "recs", "COA", "in", "spring",
          "PATIENT:", "Shares a room with", "lives in", "Born in", "'s daughter", ",", ".",
          "\n", "Apgar 8/9", "spoke with", "-- ", "Mr.", "granddaughter")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(PIECES), unknown, unknown.map(str.lower)),
                min_size=2, max_size=10))
@example(["[NAME]", "Dear Ms", "Dear Ms"])  # after-name takes one word a pass: 4 passes
def test_generated_notes_reach_a_fixpoint(pieces: list[str]) -> None:
    text = " ".join(pieces)
    col = scrub_column(pa.array([text]), None, Counter())
    out = str(col[0].as_py())
    _fixpoint([out], None)
    assert str(scrub_column(col, None, Counter())[0].as_py()) == out
    one = scrub_text(text, None, Counter())
    _fixpoint([one], None)
    assert scrub_text(one, None, Counter()) == one


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(list(SETS)), st.integers(0, 2**32 - 1))
def test_generated_notes_of_every_set_reach_a_fixpoint(template_set: str, seed: int) -> None:
    people = make_identities(100, 3)
    text = make_note(random.Random(seed), people, template_set, seed % 100).text
    out = str(scrub_column(pa.array([text]), None, Counter())[0].as_py())
    _fixpoint([out], None)
    one = scrub_text(text, None, Counter())
    _fixpoint([one], None)


# ------------------------------------------------------------- placeholders, both sides

@pytest.mark.parametrize("text", [
    "this is [NAME], [NAME]'s daughter", "Hi Doctor, this is [NAME].",
    "Works nights at [NAME], shift changes worsen sleep.", "Employer: [NAME]; lifting.",
    "Dear Ms [NAME],\nYour appointment is confirmed.", "Hi Dr. [NAME], thanks.",
    "medicaid through [ADDRESS] co dhs, case worker assigned",
    "Locum covering for [NAME]-[NAME] this month.",
])
def test_a_placeholder_is_no_finding(text: str) -> None:
    assert scan(text, None, free_text=True) == Counter(), text
    assert scrub_text(text, None, Counter()) == text


@pytest.mark.parametrize(("text", "kind"), [
    ("Discussed with Mrs. [NAME] Heeb (caregiver).", "NAME"),  # a name cut in two
    ("Seen with [NAME] Ochab today.", "NAME"),
    ("Claim no. [PHONE] 57 on file.", "ID"),  # the groups a pattern left beside its mark
    ("Home visit to [ADDRESS] NW, dog in the yard.", "ADDRESS"),  # a street's quadrant
])
def test_an_identifier_beside_a_placeholder_is_still_found(text: str, kind: str) -> None:
    assert scan(text, None, free_text=True)[kind] >= 1, text
    hit, kinds = scan_texts(pa.array([text]), None)
    assert hit.all() and kinds[kind] >= 1, (text, kinds)


def test_a_known_value_beside_a_placeholder_is_still_found() -> None:
    ds = DigestSet.from_values(b"k" * 32, ["Smith"], Placeholder.NAME)
    text = "Family meeting with [NAME] Smith and the team."
    assert sum(scan(text, ds, free_text=True).values()) >= 1
    hit, _ = scan_texts(pa.array([text]), ds)
    assert hit.all()


@pytest.mark.parametrize(("text", "span", "kept"), [
    ("this is [NAME] now", (8, 14), False),
    ("[NAME], [NAME] x", (0, 14), False),
    ("[NAME]-[NAME]", (0, 13), False),
    ("ok [AGE>89] yo", (3, 11), False),
    ("see [NAME] Heeb", (4, 15), True),
    ("see [NAME] Heeb", (11, 15), True),
    ("a NAME] b", (2, 7), True),  # no placeholder: a word
    ("x [ADDRESS] 4", (2, 13), True),
])
def test_marks_found(text: str, span: tuple[int, int], kept: bool) -> None:
    spans = [(span[0], span[1], Placeholder.NAME)]
    assert (marks.found(text, spans) == spans) is kept
