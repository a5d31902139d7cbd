"""Free-text scrubbing: every form the issue listed, and properties over generated identities."""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize import Vault, default_policy, pseudonymize_file
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.activities.residual import RESIDUAL_PATTERNS, DigestSet, scan
from medpipe.contracts.pseudonymize import Placeholder


def index(*pairs: tuple[str, Placeholder]) -> KeyIndex:
    ix = KeyIndex()
    for v, p in pairs:
        ix.add(v, p)
    return ix


def test_every_placeholder_type() -> None:
    text = ("Mail ada@x.org, see https://h.example/p?id=7, host 10.1.2.3, SSN 123-45-6789, "
            "call +1 (617) 555-0100, seen 2023-04-05 and March 3, 2022, MRN: 00123456, "
            "Ada Okafor and Okafor again; ref Q-7781")
    counts: Counter[str] = Counter()
    out = scrub_text(text, index(("Ada Okafor", Placeholder.NAME), ("Q-7781", Placeholder.ID)),
                     counts)
    assert out == ("Mail [EMAIL], see [URL] host [IP], SSN [SSN], call [PHONE], seen [DATE] "
                   "and [DATE], MRN: [MRN], [NAME] and [NAME] again; ref [ID]")
    assert counts == Counter(EMAIL=1, URL=1, IP=1, SSN=1, PHONE=1, DATE=2, MRN=1, NAME=2, ID=1)


#: Each free-text form the issue found surviving: (record identifiers, note, what must go).
IDENTITY = index(("Anne-Marie O'Brien", Placeholder.NAME), ("José Núñez", Placeholder.NAME),
                 ("Zelda Quigley", Placeholder.NAME), ("12 Elm Street", Placeholder.ADDRESS),
                 ("Springfield", Placeholder.ADDRESS))
CASES = [
    ("curly apostrophe", "Seen: O’Brien today", "O’Brien"),
    ("apostrophe dropped", "Seen: OBrien today", "OBrien"),
    ("apostrophe as space", "Seen: O Brien today", "Brien"),
    ("hyphen as space", "Anne Marie was seen", "Anne Marie"),
    ("hyphen dropped", "AnneMarie was seen", "AnneMarie"),
    ("accents folded", "Jose Nunez was seen", "Nunez"),
    ("upper case", "JOSÉ NÚÑEZ WAS SEEN", "NÚÑEZ"),
    ("other patient multi-word", "met zelda quigley in the hall", "quigley"),
    ("ssn spaces", "ssn 123 45 6789", "6789"),
    ("ssn dots", "ssn 123.45.6789", "6789"),
    ("phone 7 digits", "call 555-1234 later", "555-1234"),
    ("phone international", "call +44 20 7946 0958 later", "7946"),
    ("phone e164", "call +15551234567 later", "5551234567"),
    ("date upper", "on MARCH 3, 2024 we", "MARCH 3"),
    ("date lower", "on march 3, 2024 we", "march 3"),
    ("date day first", "on 3 March 2024 we", "3 March"),
    ("date december", "on 25 December 2023 we", "25 December"),
    ("date ordinal", "on March 3rd we", "3rd"),
    ("date month year", "since March 2024 we", "March 2024"),
    ("date short", "on 3/4 we", "3/4"),
    ("mrn lower", "mrn 12345 noted", "12345"),
    ("mrn hash", "Mrn#12345 noted", "12345"),
    ("mrn words", "medical record number 123456 noted", "123456"),
    ("pt id", "pt id 123456 noted", "123456"),
    ("url without scheme", "see portal.example.org/patients/77 now", "example"),
    ("ipv6", "from fe80::1ff:fe23:4567:890a now", "fe23"),
    ("ipv6 short", "from 2001:db8::1 now", "db8"),
    ("age over 89", "A 94-year-old man", "94"),
    ("age yo", "94 yo female", "94"),
    ("street from a dropped column", "lives at 12 Elm Street with wife", "Elm"),
    ("city from a dropped column", "moved to Springfield last year", "Springfield"),
    ("title", "seen by Dr. Jones today", "Jones"),
    ("relative", "his daughter Mary visited", "Mary"),
    ("dictionary pair", "called Maria Garcia back", "Garcia"),
]


@pytest.mark.parametrize(("name", "note", "secret"), CASES, ids=[c[0] for c in CASES])
def test_listed_free_text_forms_are_scrubbed(name: str, note: str, secret: str) -> None:
    out = scrub_text(note, IDENTITY, Counter())
    assert secret.lower() not in out.lower(), out
    assert not scan(out, None, free_text=True), out  # the residual check agrees


def test_names_only_on_word_boundaries_and_case_insensitive() -> None:
    # "went to Adana" would be a place (Adana, Turkey, is in the gazetteer): "saw" is no cue
    col = pa.array(["ADA saw Adana with ada.", None, "nothing here"])
    counts: Counter[str] = Counter()
    out = scrub_column(col, index(("Ada", Placeholder.NAME)), counts)
    assert out.to_pylist() == ["[NAME] saw Adana with [NAME].", None, "nothing here"]


_words = st.text(alphabet=string.ascii_letters + string.digits + " .,;:-/()@+", max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(_words, min_size=1, max_size=6))
def test_scrubbed_text_never_matches_a_residual_pattern(parts: list[str]) -> None:
    text = " ".join(parts)
    out = scrub_text(text, None, Counter())
    for pattern in RESIDUAL_PATTERNS.values():
        assert not re.search(pattern, out), (pattern, out)


# -- generated identities quoted in notes in varied forms --------------------------------

_letters = "abcdefghijklmnopqrstuvwxyzéñüøçáíó"
_word = st.text(alphabet=_letters, min_size=3, max_size=9).map(str.capitalize).filter(
    lambda w: w.lower() not in {"name", "ssn", "mrn", "the", "and", "was", "seen", "with",
                                "wrote", "date", "train", "phone", "email", "age", "call"})
_part = st.one_of(_word, st.builds(lambda a, b: f"{a}-{b}", _word, _word),
                  st.builds(lambda a, b: f"{a[0]}'{b}", _word, _word))
_full = st.one_of(st.builds(lambda g, f: f"{g} {f}", _part, _part),
                  st.builds(lambda g, m, f: f"{g} {m} {f}", _part, _part, _part))


def _forms(name: str) -> list[str]:
    """Ways a note writes a name: as is, upper, lower, without accents/apostrophes/hyphens,
    curly apostrophes, parts alone."""
    import unicodedata
    plain = "".join(c for c in unicodedata.normalize("NFKD", name)
                    if not unicodedata.combining(c))
    parts = re.split(r"[\s]", name)
    return [name, name.upper(), name.lower(), plain, name.replace("'", "’"),
            name.replace("'", ""), name.replace("-", " "), name.replace("-", ""), *parts]


@settings(max_examples=60, deadline=None)
@given(st.lists(_full, min_size=1, max_size=5, unique=True), st.data())
def test_generated_names_never_survive_in_any_form(names: list[str], data: st.DataObject
                                                   ) -> None:
    ix = index(*((n, Placeholder.NAME) for n in names))
    notes = []
    for _ in range(6):
        who = data.draw(st.sampled_from(names))
        form = data.draw(st.sampled_from(_forms(who)))
        lead = data.draw(st.sampled_from(["", "Pt ", "Seen with ", "(", "Note: "]))
        tail = data.draw(st.sampled_from(["", ".", " today", ", stable", "'s wife", ")"]))
        notes.append(f"{lead}{form}{tail}")
    key = b"k" * 32
    digests = DigestSet.from_values(key, names, Placeholder.NAME)
    out = scrub_column(pa.array(notes), ix, Counter()).to_pylist()
    for before, after in zip(notes, out, strict=True):
        assert not scan(after, digests, free_text=True), (before, after)
        for n in names:
            for piece in re.split(r"[\s'-]", n):
                if len(piece) >= 3:
                    assert not re.search(rf"(?i)\b{re.escape(piece)}\b", after), (before, after)


#: Words the output legitimately contains (placeholders, fixed note text, column values).
_COMMON = {"name", "ssn", "mrn", "phone", "email", "date", "wrote", "train", "example", "org"}
_name = st.text(alphabet=string.ascii_letters, min_size=3, max_size=10).filter(
    lambda n: n.lower() not in _COMMON)
_ssn = st.from_regex(r"[0-9]{3}-[0-9]{2}-[0-9]{4}", fullmatch=True)
_mrn = st.from_regex(r"MRN[0-9]{7}", fullmatch=True)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_mrn, _name, _name, _ssn, st.text(max_size=30)), min_size=2,
                max_size=8, unique_by=lambda r: r[0]))
def test_pseudonymized_output_contains_no_input_identifier(tmp_path: Path, rows) -> None:
    n = len(rows)
    table = pa.table({
        "patient_id": [r[0] for r in rows], "name": [f"{r[1]} {r[2]}" for r in rows],
        "ssn": [r[3] for r in rows], "phone": ["(617) 555-0100"] * n,
        "email": [f"{r[1]}@example.org" for r in rows], "zip": ["02139"] * n,
        "birth_date": ["1960-01-01"] * n, "encounter_date": ["2023-01-01"] * n,
        "age": [60] * n, "hba1c": [6.0] * n, "ldl": [100.0] * n,
        "sbp": [120.0] * n, "bmi": [25.0] * n,
        # each note also names the *next* patient (a later row): found by the first pass
        "notes": [f"{r[1]} {r[2]} ({r[0]}) ssn {r[3].replace('-', ' ')} wrote: {r[4]} / "
                  f"{r[2].upper()}; met {rows[(i + 1) % n][1]} {rows[(i + 1) % n][2]}"
                  for i, r in enumerate(rows)],
        "label": [0] * n, "split": ["train"] * n})
    src, dst = tmp_path / "p.csv", tmp_path / "p.out.csv"
    pacsv.write_csv(table, src)
    pseudonymize_file(src, dst, default_policy(), vault=Vault.in_memory())
    out = pacsv.read_csv(dst, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    key = b"k" * 32
    digests = DigestSet.from_values(key, [v for r in rows for v in (r[0], r[1], r[2], r[3])])
    for name in out.column_names:
        values = out.column(name).to_pylist()
        assert not digests.rows_matching(values).any(), name
