"""Each rule's trigger selects every text the rule finds something in; the column path
equals the per-text one.

A trigger that missed a text its rule would find something in would make the
column path (``rules.active``: triggers over the column, then per text only
the rules triggered) lose that span. Every rule runs over the bench corpus (all
template sets, after patterns and known values, as the scrubber sees them) and
over generated texts of cue words, names, numbers, marks and whitespace of
every kind; whenever it finds a span, its trigger (RE2, Arrow) must match the
text. The differential tests (``test_differential.py``) hold the whole
scrubber to the reference.
"""

from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench._deid_corpus import SETS, make_identities, make_note
from medpipe.activities.deid import cues, detect, registry, rules
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize.scrub import (
    RULE_PASSES,
    scrub_known,
    scrub_patterns,
    scrub_rules,
)
from medpipe.contracts.pseudonymize import Placeholder


def triggered(texts: list[str]) -> dict[str, list[bool]]:
    col = pa.array(texts, pa.string())
    return {r.name: pc.fill_null(pc.match_substring_regex(col, "(?i)" + r.trigger), False)
            .to_pylist() for r in rules.table()}


def check(texts: list[str]) -> None:
    """Every text a rule finds a span in matches that rule's trigger (texts RE2 judges as
    ``re`` does: the column path runs every rule on the others, ``registry.re2_unsafe``)."""
    unsafe = registry.re2_unsafe(pa.array(texts, pa.string()))
    texts = [t for t, bad in zip(texts, unsafe, strict=True) if not bad]
    hit = triggered(texts)
    for rule in rules.table():
        for t, ok in zip(texts, hit[rule.name], strict=True):
            if not ok:
                assert rule.find(cues.Text(t)) == [], (rule.name, t)


@pytest.fixture(scope="module")
def scrubbed() -> list[str]:
    """Bench notes of every set after patterns and known values, as the rules see them."""
    rng = random.Random(5)
    people = make_identities(200, 5)
    sets = sorted(SETS)
    notes = [make_note(rng, people, sets[i % len(sets)], i).text for i in range(2100)]
    index = KeyIndex()
    for col, kind in (("name", Placeholder.NAME), ("street", Placeholder.ADDRESS),
                      ("city", Placeholder.ADDRESS), ("ssn", Placeholder.SSN)):
        index.add_all([p[col] for p in people], kind)
    counts: Counter[str] = Counter()
    col = scrub_known(scrub_patterns(pa.array(notes), counts), index, counts)
    return [t for t in col.to_pylist() if t is not None]


def test_triggers_cover_bench_corpus(scrubbed: list[str]) -> None:
    check(scrubbed)


def test_column_path_equals_every_rule(scrubbed: list[str]) -> None:
    """Only the triggered rules per text, over the column = every rule on every text, pass
    after pass until they find nothing (``scrub.RULE_PASSES``)."""
    texts = scrubbed + ["Dr van Berg seen", "daughter Mary (96)", "pt turned 95 today"]
    counts: Counter[str] = Counter()
    out = scrub_rules(pa.array(texts), counts)
    want: Counter[str] = Counter()
    for t, got in zip(texts, out.to_pylist(), strict=True):
        for _ in range(RULE_PASSES):
            spans = detect.find(t, None, patterns=False)
            if not spans:
                break
            t = detect.replace(t, spans, want)
        assert got == t
    assert counts == want


def test_relaxed_triggers_select_more(scrubbed: list[str]) -> None:
    """The column path reads each trigger relaxed (``rules.relaxed``): every text the
    trigger selects, the relaxed one selects too."""
    col = pa.array(scrubbed, pa.string())
    for r in rules.table():
        exact = pc.match_substring_regex(col, "(?i)" + r.trigger)
        loose = pc.match_substring_regex(col, "(?i)" + rules.relaxed(r.trigger))
        assert not pc.any(pc.and_(exact, pc.invert(loose))).as_py(), r.name


@pytest.mark.parametrize(("pattern", "want"), [
    (r"a{1,3}b{0,2}c{2}", r"a{1,}b{0,}c{2}"),
    (r"(?:x\s{1,3}){1,3}", r"(?:x\s{1,}){1,}"),
    (r"\{1,2}x{1,2}", r"\{1,2}x{1,}"),  # an escaped brace is a character
    (r"\\{1,2}", r"\\{1,}"),  # an escaped backslash, then a repetition
    (r"[{1,2}]y{1,2}", r"[{1,2}]y{1,}"),  # braces in a class are members
    (r"[]{1,2}]", r"[]{1,2}]"),
    (r"[^]{1,2}]", r"[^]{1,2}]"),
    (r"[[:digit:]{1,2}]z{0,9}", r"[[:digit:]{1,2}]z{0,}"),
])
def test_relaxed(pattern: str, want: str) -> None:
    assert rules.relaxed(pattern) == want


_PIECES = (
    "Dr", "dr.", "DR", "Nurse", "seen by", "per", "son", "daughter", "(daughter)", ", her son",
    "Caller:", "Patient:", "Patient", "pt", "spoke with", ", MD", ", RN", "RN", "MD", "Mary",
    "Smith", "MARY", "SMITH", "J.", "van", "de la", "Hygienist", "Medic", "reports", "goes by",
    "known as", "works nights at", "job at", "Kern", "County", "Co.", "[NAME]", "[ADDRESS]",
    "[ID]", "-8438", "Apt", "#12", "suite 200", "zip code", "24270", "from", "lives in",
    "Boston", "Des Moines", "3/4", "03-15", "10-12", "92F", "104 M", "(96)", "Mother of pt",
    "turned", "is now", "95", "ninety-six", "one hundred", "Febuary", "9", "3rd", "1934", "last 4",
    "of SSN", "ending in", "1234", "xxx-xx-", "DL", "plate", "7VUX335", "no.", "WJ 941 467",
    "5992", "s", "maple hollow", "ct", "street", "EC:", "SKROBEK, FERINAZ", "signed:",
    "Novak, Jana", "JK", "notified", "Regional Medical Center", "Eau Claire", "x/", "9",
    "Unit", "642", "no.", "pick-up", "drop-off from", "sent to", "see pt at", "Wall", "Ste",
    "Auugust", "AUGSUT", "Noovember", "the 6th of", "Maarch", "-64", "1977",
    "SSN", "ss#", "social security no.", "verified", "checked:", "123456789", "123 45 6789",
    "***-**-", "6789", "(SSN)", "as last four of", "drawn", "ADMIT DATE:", "dob", "since",
    "8/57", "10/51", "3/52", "12th", "may", "12", "MOB", "fob", "PAULETTE", "paulette",
    "initials", "J.S.", "JS", "East", "WEST", "4",
    "14th", "twenty-first", "day of", "March", "may,", "[DATE]", "wife", "olwen,", "vidar",
    "circulator", "CRNA", "OKAFOR", "K.Zemkrin", "MS", "CGC", "MA, CCC-SLP", "Witness", "#2",
    "(printed)", "Agent 1:", "Eivind", "Zemkrin", "on", "near", "Clarence", "Station", "Lopez",
    "Meadow",
    "Thurs", "Weds", "14/11", "26th", "w/c", "13/3", "14/06", "at", "02:10", "0210", "of the",
    "22nd", "22sept", "SN", "PJN130265H", "Device", "aid s/n", "Under Dr", "A.", "BRIEDIS",
    "Reviewed by", "interrogated by", "Handed over to", "Lin/Koc", "Goma", "OTIENO", "|", "nr",
    "Ludlow", "Colemanville",
    ",", ".", ":", "(", ")", "'", "-", "/", "#", "\n", "\t", "\v", "\x1c", "  ", " ")


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=24),
       st.lists(st.sampled_from((" ", "", "\n", ", ", "\t", "  ", ": ")), min_size=1,
                max_size=24))
def test_triggers_cover_generated(pieces: list[str], seps: list[str]) -> None:
    check(["".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))])


def test_texts_re2_cannot_judge_reach_every_rule() -> None:
    """``geo`` finds a place after ``from\v`` that its trigger (RE2: ``\\s`` without
    ``\v``) does not select: the column path must run every rule on such a text."""
    text = "from \x0b Eau Claire "
    assert rules.find(text, [r for r in rules.table() if r.name == "geo"])
    assert not triggered([text])["geo"][0]
    assert rules.active(pa.array([text], pa.string())).all()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="AaBbDdJMrsSnoOt .,:()'-/#[]\n\t\v0123456789", max_size=60))
def test_triggers_cover_random_text(text: str) -> None:
    check([text])
