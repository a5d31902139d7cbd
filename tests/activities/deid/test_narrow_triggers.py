"""The narrowed triggers (issues 17 and 12): tight on the notes that cost, still supersets.

``bench/deid_triggers.py`` showed triggers that select far more notes than their rule finds
something in (``date-parts``: every blood pressure ``121/80`` held its day/month cue
``21/8``). Each was narrowed to what its rule needs around the number or the word; each
must still select every text its rule finds something in, as the column path reads it
(``rules.active``: RE2, case-insensitive, relaxed) and as the exact trigger reads it.
Generated texts of the forms' pieces (cues, numbers, slashes, dashes, marks, whitespace of
every kind) are checked against the rule run on every text; ``MEDPIPE_HYPOTHESIS=explore``
draws them at random.
"""

from __future__ import annotations

import random
import re

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench._deid_corpus import SETS, make_identities, make_note
from medpipe.activities.deid import (
    dateparts,
    geo,
    headsample,
    idruns,
    monthtypos,
    patterns,
    peopleforms,
    phone,
    registry,
    rules,
    townforms,
)


def _table_rule(name: str) -> rules.AnyRule:
    return next(r for r in rules.table() if r.name == name)


def selected(name: str, texts: list[str]) -> list[bool]:
    """Which texts the column path gives the rule ``name`` to."""
    return rules.active(pa.array(texts, pa.string()), [_table_rule(name)])[0].tolist()


def covers(name: str, text: str, found: bool) -> None:
    """When the rule found something in ``text`` (one RE2 can judge), its trigger selects
    it: exact (as ``test_rules.check`` reads it) and relaxed (as ``rules.active`` does)."""
    col = pa.array([text], pa.string())
    if not found or registry.re2_unsafe(col)[0]:
        return
    exact = pc.match_substring_regex(col, "(?i)" + _table_rule(name).trigger)[0].as_py()
    assert exact and selected(name, [text]) == [True], (name, text)


def test_blood_pressure_is_no_date_cue() -> None:
    """A ratio inside a longer run of digits and slashes selects nothing; a cued day/month
    still does."""
    notes = ["BP 121/80 HR 72", "ratio 1:3, 121/80/70", "seen 3/4 at 2/3 strength",
             "hemoglobin 13/10 trend"]
    assert selected("date-parts", notes) == [False] * len(notes)
    assert selected("date-parts", ["seen on 25/12.", "dated 14/3", "due on 5-28"]) \
        == [True, True, True]


_DATE_PIECES = (
    "on", "seen", "due", "as of", "since", "for", "to", "the", "BP", "dated:", "appt",
    "121/80", "21/8", "25/12", "14/3", "13/09", "31/1", "3/4", "5-28", "11-3", "2-3", "12-31",
    "4th", "21st", "2nd", "3rd", "the 4th", "Mar", "March", "3", "19", "'19", "25", "[DATE]",
    "mg", "pm", "am", "at", "and", "dose", "/", "-", ".", ",", ":", ";", "1", "0", "a", "_",
    "\n", "\t", "\v", "  ", " ")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_DATE_PIECES), min_size=1, max_size=16),
       st.lists(st.sampled_from((" ", "", "\n", ", ", "\t", "  ", ": ", "/", "-", ".")),
                min_size=1, max_size=16))
@example(["on", "25/12"], [" ", ""])
@example(["seen", "14/3", "."], [" ", ""])
@example(["due", "on", "5-28", "pm"], [" "])
def test_date_parts_trigger_covers_generated(pieces: list[str], seps: list[str]) -> None:
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))
    covers("date-parts", text, bool(dateparts.find(text)))


def test_reference_note_is_not_sent_to_phone() -> None:
    """A raw reference-release note holds a phone, a date and an SSN the phone rule skips
    whole, and ``MRN0100000`` (no run: a letter before it): its trigger selects nothing."""
    note = ("Ann Lee seen on 2023-05-04; call (555) 234-5678 or ann.lee@example.org. HbA1c "
            "6.1, BP 121/80. SSN on file 123-45-6789, MRN0100000. LDL 120 BMI 27.5")
    assert not phone.RULE.find(note)
    col = pa.array([note, note.replace("(555) 234-5678", "020 7946 0958"),
                    note.replace("123-45-6789", "123-45-6789 12")], pa.string())
    assert registry.triggered(col)[:, 0].tolist() == [0, 1, 1]
    assert selected("phone", col.to_pylist()) == [False, True, True]


def _skipped(text: str) -> list[tuple[int, int]]:
    """The spans one pass of ``trigger_skip`` replaces (RE2's ``$``: the text's end)."""
    pattern = re.compile(phone.TRIGGER_SKIP.replace("$", r"\Z"), re.IGNORECASE)
    return [(m.end(1), m.start(2)) for m in pattern.finditer(text)]


_PHONE_PIECES = (
    "555", "234", "5678", "(555)", "+1", "1", "2023", "05", "04", "12", "1960", "123", "45",
    "6789", "020", "7946", "0958", "0", "7", "-", ".", "/", " ", "  ", "    ", ",", ":", "(",
    ")", "+", "_", "#", "x", "MRN", "ext", "call", "on", "\n", "\t", "[PHONE]")


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PHONE_PIECES), min_size=1, max_size=20))
@example(["2023-05-04", "    ", "5551234567"])
@example(["x", " ", "555-234-5678", " ", "y", " ", "2023-05-04", " ", "z"])
@example(["(555) 234-5678", ", ", "12"])
@example(["2023-05-04", "(", "5551234567"])
@example(["1", "-", "1", "-", "5678"])
def test_phone_skip_leaves_every_run_find_reads(pieces: list[str]) -> None:
    """Every span ``trigger_skip`` replaces is a whole run ``_windows`` skips (or digits no
    run holds); so whenever ``find`` would look at a run (``_windows``), the column paths
    still select the text."""
    text = "".join(pieces)
    runs = {m.span(): m.group() for m in phone._RUN.finditer(text)}
    for s, e in _skipped(text):
        if (s, e) in runs:  # a whole run _windows skips
            assert phone._NOT_PHONE.fullmatch(runs[s, e]) or phone._KNOWN.fullmatch(runs[s, e])
        else:  # or digits no run holds (too few: "1-1-5678")
            assert not any(rs < e and s < re_ for rs, re_ in runs), (text, text[s:e])
    col = pa.array([text], pa.string())
    if phone._windows(text) and not registry.re2_unsafe(col)[0]:
        assert registry.triggered(col)[0, 0] == 1, text
        assert selected("phone", [text]) == [True], text
    covers("phone", text, bool(phone.RULE.find(text)))


def _rewritten_hits(texts: list[str], pattern: str) -> list[bool]:
    """The trigger after every skipped span is rewritten (``SKIP_REWRITE``, twice), on every
    text: what ``registry.hits`` selected before it blanked the spans first."""
    col = pa.array(texts, pa.string())
    for _ in range(2):
        col = pc.replace_substring_regex(col, "(?i)" + phone.TRIGGER_SKIP, registry.SKIP_REWRITE)
    raw = pc.match_substring_regex(pa.array(texts, pa.string()), pattern).to_pylist()
    return [bool(r and m) for r, m in zip(raw, pc.match_substring_regex(col, pattern)
                                           .to_pylist(), strict=True)]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_PHONE_PIECES), min_size=1, max_size=20),
                min_size=1, max_size=6))
@example([["2023-05-04", "    ", "5551234567"]])
@example([["(555) 234-5678", " ", "x", "5551234567"], ["555-1234", "\n", "555-1234"]])
@example([["555", " ", "234", "-", "5678", "    ", "(", "555", ")", " ", "234", "-", "5678"]])
@example([["123", "-", "45", "-", "6789", "(", "5551234567"]])
def test_blanked_spans_select_what_rewritten_ones_do(texts: list[list[str]]) -> None:
    """``hits`` blanks the skipped spans (context and all) to a line break first, then
    rewrites only the texts the trigger still matches: it selects exactly what rewriting
    every text selects, for the exact trigger and the relaxed one; blanking alone selects
    a superset."""
    notes = ["".join(t) for t in texts]
    col = pa.array(notes, pa.string())
    for pattern in ("(?i:" + phone.TRIGGER + ")", "(?i)" + rules.relaxed(phone.TRIGGER)):
        want = _rewritten_hits(notes, pattern)
        assert registry.hits(col, phone.RULE, pattern).tolist() == want, notes
        blank = pc.match_substring_regex(registry.blanked(col, phone.TRIGGER_SKIP), pattern)
        assert all(b or not w for b, w in zip(blank.to_pylist(), want, strict=True)), notes


def test_ungrouped_keeps_classes_and_escapes() -> None:
    """Only capturing groups change: ``(`` in a class or escaped, and ``(?``, stay."""
    assert patterns.ungrouped(r"(a|\()[(x](?:b)(?i:c)") == r"(?:a|\()[(x](?:b)(?i:c)"
    assert re.compile(patterns.ungrouped(phone.TRIGGER_SKIP)).groups == 0


_PEOPLE_PIECES = (
    "Present", "Attendees", "cc", "present at the family meeting", ":", "[NAME]", "Ann",
    "Kowalczyk", "O'Neil", "Daughter", "and", "&", ",", ";", "(", ")", "(Bob)", "Robert",
    "Lindqvist", "this is", "doctor", "dr", "Dr", "nurse", "ana", "lindqvist", "dictating",
    "calling", "from the", "spoke with", "talked to", "met with", "nelson", "daughter", "on",
    "today", "about", ".", "her son", "is", "was", "zu", "van der", "al-", "-", "--", "Emilia",
    "cna", "okafor", "the", "family", "Okafors", "é", "\n", "\t", "\v", "  ", " ")
_TOWN_PIECES = (
    "Born in", "Hometown:", "raised in", "Dahlonega", "McCook", "a", "Tomah", "native",
    "resident", "lives near", "moved to", "east", "n.", "thomasview", "pattersonville", "co",
    "cty", "county", "^", "^^", "MARQUETTE", "Marquette", "MI", "mi", "49855", "[ADDRESS]",
    "12 Oak St", "123 main st", "baraboo", "wi", "WI", "NW", "SE", "zip is", "zipcode",
    "postal code:", "49855-1234", ",", ".", "\n", "\t", "\v", "  ", " ")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PEOPLE_PIECES), min_size=1, max_size=16),
       st.lists(st.sampled_from((" ", "", "\n", ", ", "\t", "  ", ": ")), min_size=1,
                max_size=16))
@example(["Present", ":", "[NAME]", ",", "[NAME]", "and", "Ann", "Kowalczyk"], [" ", ""])
@example(["[NAME]", ",", "Ann", "Kowalczyk"], ["", " "])
@example(["Robert", "(Bob)", "Lindqvist"], [" "])
@example(["[NAME]", "(Bob)", "[NAME]"], [" "])
@example(["this is", "dr", "[NAME]", "ana", "dictating"], [" "])
@example(["spoke with", "nelson", "today"], [" "])
def test_people_forms_trigger_covers_generated(pieces: list[str], seps: list[str]) -> None:
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))
    covers("people-forms", text, bool(peopleforms.find(text)))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOWN_PIECES), min_size=1, max_size=16),
       st.lists(st.sampled_from((" ", "", "\n", ", ", "\t", "  ", "^")), min_size=1,
                max_size=16))
@example(["12 Oak St", "^", "MARQUETTE", "^", "MI", "^", "49855"], [""])
@example(["[ADDRESS]", "^^", "Marquette", "^"], [""])
@example(["123 main st", "\n", "baraboo", "wi", "49855"], ["", "", " "])
@example(["[ADDRESS]", "\n", "baraboo", ",", "WI"], ["", "", "", " "])
@example(["thomasview", "co", "Born in"], [" ", ""])
def test_town_forms_trigger_covers_generated(pieces: list[str], seps: list[str]) -> None:
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))
    covers("town-forms", text, bool(townforms.find(text)))


def test_scrubbed_lists_and_messages_are_not_selected() -> None:
    """What the scrubber leaves of a list, a self-introduction or a message (replaced
    names, fields of marks) and a parenthesis after a name select neither rule; the forms
    themselves do."""
    scrubbed = ["Present: [NAME], [NAME] and [NAME].", "[NAME], [NAME] and [NAME] agreed",
                "[NAME] (see below)", "this is [NAME] calling.",
                "spoke with daughter yesterday"]
    assert selected("people-forms", scrubbed) == [False] * len(scrubbed)
    assert selected("people-forms", ["Present: [NAME], Ann Kowalczyk.",
                                     "Robert (Bob) Lindqvist", "this is ana lindqvist calling",
                                     "spoke with nelson today"]) == [True] * 4
    assert selected("town-forms", ["PID|1||[ID]^^^[ADDRESS]^^[ADDRESS]", "[ADDRESS]\n[ADDRESS]",
                                   "[ADDRESS]\n[ADDRESS] 49855"]) == [False] * 3
    assert selected("town-forms", ["PID|1||123 Oak St^^MARQUETTE^MI^49855",
                                   "12 Oak St\nbaraboo wi 53913"]) == [True, True]


def test_short_triggers_first_as_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column whose first texts hold no short trigger matches their alternation first,
    then each short trigger on what it selects: the same matrix as one pass per trigger."""
    plain = "[NAME] seen on [DATE]; call [PHONE] or [EMAIL]. HbA1c 6.{}, BP 121/80. LDL {}"
    forms = ["Dr Ann Lee seen 3/4 in Boston", "zip 49855", "Apt 4, [ADDRESS]", "pt is 95 F",
             "daughter Mary (96)", "seen on 25/12.", "[NAME] ([NAME]) [NAME]", "ninety-two",
             "\x0bfrom Tucson", "Tomé, Leeds, England"]
    texts = [plain.format(i % 10, i) for i in range(1200)]
    for k, f in enumerate(forms):
        texts[100 + 97 * k] = f
    col = pa.array(texts, pa.string())
    assert not headsample.selects_most(registry.folded(col), rules._union(tuple(
        r.trigger for r in rules.table() if rules._short(r))), rules.SHORT_SHARE)
    got = rules.active(col)
    monkeypatch.setattr(headsample, "MIN_ROWS", 10 ** 9)  # one pass per trigger
    want = rules.active(col)
    assert (got == want).all()
    assert want[:, [100 + 97 * k for k in range(len(forms))]].any(axis=0).all()


def test_long_trigger_groups_first_as_one_pass_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column of templated notes with bench notes of every set among them: every group of
    ``rules.GROUPS`` (and the short triggers) is matched first as one alternation, then
    each trigger on what its group selects; the same matrix as one pass per trigger."""
    rng = random.Random(3)
    people = make_identities(60, 3)
    notes = [make_note(rng, people, s, i).text for i, s in enumerate(sorted(SETS) * 6)]
    plain = "[NAME] seen on [DATE]; call [PHONE] or [EMAIL]. HbA1c 6.{}, BP 121/80. LDL {}"
    texts = [plain.format(i % 10, i) for i in range(2400)]
    at = [7 + 2400 // len(notes) * k for k in range(len(notes))]
    for k, note in zip(at, notes, strict=True):
        texts[k] = note
    col = pa.array(texts, pa.string())
    table = rules.table()
    groups = rules._groups(tuple((r.name, rules._short(r)) for r in table))
    assert {table[i].name for g in groups[1:] for i in g} == \
        {n for g in rules.GROUPS for n in g}  # every group's rules are in the table
    for k, g in enumerate(groups):
        assert not headsample.selects_most(registry.folded(col), rules._union(tuple(
            table[i].trigger for i in g)), rules.SHORT_SHARE if k == 0 else rules.LONG_SHARE)
    got = rules.active(col)
    monkeypatch.setattr(headsample, "MIN_ROWS", 10 ** 9)  # one pass per trigger
    want = rules.active(col)
    assert (got == want).all()
    for g in groups:  # each group selected some note
        assert want[list(g)][:, at].any()


_GEO_PIECES = (
    "Tucson", "Fort Wayne", "Leeds", "Lyon", "Reading", "Mobile", "St. Louis", "Kern",
    "TUCSON", "AZ", "Az", "Az.", "Az..", "AZ.", "az", "USA", "Usa", "Usa.", "U.S.", "UK", "IN",
    "In", "Arizona", "ARIZONA", "arizona", "Ariz.", "Arizona's", "New York", "NEW YORK",
    "New york", "England", "France", "Indiana", "Cabo Verde", "County", "Co.", "in", "from",
    "moved to", "native of", "NEAR", "o/s", "born in", "Stable", "HbA1c", "the", "Dr",
    "[NAME]", "[ADDRESS]", "85701", "x")


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_GEO_PIECES), min_size=1, max_size=10),
       st.lists(st.sampled_from((" ", "", ",", ", ", ",  ", ",\n", "\n", "   \n", "    ",
                                 ".", "., ", "\t", "'", "\v")), min_size=1, max_size=10))
@example(["Tucson", "AZ"], [", "])
@example(["Tucson", "Az.."], [", "])
@example(["Tucson", "Usa."], [","])
@example(["Lyon", "France"], ["., "])
@example(["Fort Wayne", "Indiana"], [",  "])
@example(["x", "New York"], [", "])
@example(["in", "Tucson"], ["   \n"])
def test_geo_trigger_covers_generated(pieces: list[str], seps: list[str]) -> None:
    """Runs of places, cues and states or countries (codes in capitals, in title case
    with the full stops ``_region_codes`` drops, names in any case, names of several
    words) with every kind of comma and whitespace between: wherever the rule finds a
    place, its trigger selects the text, as RE2 reads it over a column and as ``re``
    reads it per text (a ``\\v`` or a non-ASCII text)."""
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))
    found = bool(geo.RULE.find(text))
    covers("geo", text, found)
    if found:
        assert re.search(geo.TRIGGER, text, re.IGNORECASE), text


def test_a_comma_before_a_capital_is_no_geo_trigger() -> None:
    """A comma before a capital that starts no state or country selects nothing (it was
    the trigger's second branch: every note with ``Stable, HbA1c`` went to the rule);
    one before a state or country still does, as do a cue and a capital."""
    plain = ["[NAME] seen [DATE]. Stable, HbA1c 6.7 trending down, LDL 191; follow up in "
             "three months.", "Alert, Oriented x3, Smith, Az", "Dear Dr Lee, Thank you"]
    assert selected("geo", plain) == [False] * len(plain)
    places = ["Tucson, AZ 85701", "Lyon, France", "Lyon., France", "Tucson, Usa.",
              "lives with son, New York", "moved to Leeds", "in   \nTucson"]
    assert selected("geo", places) == [True] * len(places)
    assert all(re.search(geo.TRIGGER, t, re.IGNORECASE) for t in places)


def _misspelled(rng: random.Random, month: str, edits: int) -> str:
    """``month`` with ``edits`` random edits (insert, delete, substitute, swap neighbours)
    that keep its first letter, in a random case."""
    word = month
    for _ in range(edits):
        i = rng.randrange(1, len(word) + 1)
        c = rng.choice("abcdefghijklmnopqrstuvwxyz")
        op = rng.choice("isdt")
        if op == "i":
            word = word[:i] + c + word[i:]
        elif op == "s" and i < len(word):
            word = word[:i] + c + word[i + 1:]
        elif op == "d" and i < len(word) and len(word) > 3:
            word = word[:i] + word[i + 1:]
        elif op == "t" and i < len(word) - 1:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return rng.choice((word, word.upper(), word.title(), word.lower()))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from(
    ("january", "february", "march", "april", "june", "july", "august", "september",
     "october", "november", "december")), st.integers(1, 2),
       st.sampled_from(("{m} {d}", "{m}. {d}", "{m} {y}", "{m}, {y}", "{d} {m} {y}",
                        "{o} {m}", "the {o} of {m}", "{d}-{m}-{yy}", "{d}\t{m}, {y}")),
       st.sampled_from(("", " ", "seen ", "x", "3", "(", "\u0131", "on\n", "-")))
@example(random.Random(0), "march", 1, "{m} {d}", "seen ")
def test_month_typos_trigger_covers_generated(rng: random.Random, month: str, edits: int,
                                              shape: str, before: str) -> None:
    """A month with one or two edits (case and first letter kept as the rule reads them),
    in every shape of a date the rule takes, after any character: wherever the rule finds
    a date, its trigger selects the text (RE2 over a column, and ``re`` per text)."""
    d = rng.randint(1, 31)
    y = rng.randint(1900, 2099)
    text = before + shape.format(m=_misspelled(rng, month, edits), d=d, y=y,
                                 yy=f"{y % 100:02d}", o=f"{d}th") + " reviewed"
    found = bool(monthtypos.find(text))
    covers("month-typos", text, found)
    if found:
        assert re.search(monthtypos.TRIGGER, text, re.IGNORECASE), text


def test_words_before_numbers_are_no_month_typos_trigger() -> None:
    """A word before a number that opens as no misspelled month does (doses, saturations,
    durations: clinical prose) selects nothing; misspelled months in dates still do."""
    prose = ["dose 5 mg daily", "sats 94 % on room air", "about 3 weeks ago",
             "warfarin 5 mg", "seen 2 days ago, follow up in 3 months"]
    assert selected("month-typos", prose) == [False] * len(prose)
    dates = ["seen Marhc 5", "on 3rd Auggust", "the 6th of Maarch", "Noovember 1977",
             "AUGSUT 28", "25-Jaunary-64"]
    assert selected("month-typos", dates) == [True] * len(dates)


_RUN_PIECES = (
    " ", "  ", ".", "-", "/", ":", ",", "\n", "\t", "x", "a", "member id", "Member ID #",
    "MRN", "chart", "claim no.", "policy", "ndc", "cpt", "weight", "temp", "from", "mg", "%",
    "years", "[MRN]", "[ID]", "[PHONE]", "[DATE]", "[IP]", "[SSN]", "\u0131")


_RUN_CUES = ("", "member id ", "Member ID #", "MRN ", "chart: ", "claim no. ", "policy ",
             "ndc ", "weight ", "x", "a ", "(")


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_RUN_PIECES), max_size=5), st.sampled_from(_RUN_CUES),
       st.lists(st.integers(1, 7), min_size=1, max_size=5),
       st.sampled_from((" ", "  ", "   ", ".", "-", "/", ",")), st.randoms(use_true_random=False),
       st.lists(st.sampled_from(_RUN_PIECES), max_size=5))
@example([], "Member ID ", [4, 1], ".", random.Random(0), [])
@example([], "MRN ", [1, 1, 3], " ", random.Random(0), [])
@example([], "MRN ", [3, 2], "  ", random.Random(0), [])
@example(["claim no.", " ", "[PHONE]"], "", [2], " ", random.Random(0), [])
@example(["[SSN]", "."], "", [2], " ", random.Random(0), [])
@example([], "", [3], " ", random.Random(0), [" ", "[PHONE]"])
def test_id_runs_trigger_covers_generated(before: list[str], cue: str, groups: list[int],
                                          sep: str, rng: random.Random,
                                          after: list[str]) -> None:
    """Runs of digit groups of every length with one separator (and with others around
    them), beside cues, units and marks: wherever the rule finds an id, its trigger selects
    the text (RE2 over a column, and ``re`` per text)."""
    run = sep.join("".join(rng.choice("0123456789") for _ in range(n)) for n in groups)
    text = "".join(before) + cue + run + "".join(after)
    found = bool(idruns.find(text))
    covers("id-runs", text, found)
    if found:
        assert re.search(idruns.TRIGGER, text, re.IGNORECASE), text


def test_a_decimal_is_no_id_runs_trigger() -> None:
    """A number with a decimal (3+1 digits: ``weight 101.3``, ``temp 100.4``) or groups of
    fewer than 5 digits select nothing; runs the rule keeps still do."""
    plain = ["[NAME] seen [DATE]. LDL 125, weight 101.3; follow up", "temp 100.4 F",
             "12 34 5", "1 2 3 4", "BP 120/80", "v2.3.1"]
    assert selected("id-runs", plain) == [False] * len(plain)
    runs = ["Member ID 123.45", "Pt gave 123 45 6789", "Seen 2023 03 14", "MRN 0012 3345 6",
            "acct 1-2345", "Claim no. [PHONE] 57", "id 12-345"]
    assert selected("id-runs", runs) == [True] * len(runs)
    assert all(idruns.find(t) for t in runs)
    # short: its pass is shared with the other short triggers' (``rules.active``)
    assert rules._short(_table_rule("id-runs"))
