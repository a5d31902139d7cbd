"""Free-text scrubbing, and properties: no input identifier survives."""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities.pseudonymize import Vault, default_policy, pseudonymize_file
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.activities.residual import RESIDUAL_PATTERNS, DigestSet
from medpipe.contracts.pseudonymize import Placeholder


def test_every_placeholder_type() -> None:
    text = ("Mail ada@x.org, see https://h.example/p?id=7, host 10.1.2.3, SSN 123-45-6789, "
            "call +1 (617) 555-0100, seen 2023-04-05 and March 3, 2022, MRN: 00123456, "
            "Ada Okafor and Okafor again; ref Q-7781")
    counts: Counter[str] = Counter()
    out = scrub_text(text, [("Ada Okafor", "[NAME]"), ("Ada", "[NAME]"), ("Okafor", "[NAME]"),
                            ("Q-7781", "[ID]")], counts)
    assert out == ("Mail [EMAIL], see [URL] host [IP], SSN [SSN], call [PHONE], seen [DATE] "
                   "and [DATE], [MRN], [NAME] and [NAME] again; ref [ID]")
    assert counts == Counter(EMAIL=1, URL=1, IP=1, SSN=1, PHONE=1, DATE=2, MRN=1, NAME=2, ID=1)


def test_names_only_on_word_boundaries_and_case_insensitive() -> None:
    col = pa.array(["ADA went to Adana with ada.", None, "nothing here"])
    counts: Counter[str] = Counter()
    out = scrub_column(col, [(["Ada", "Ada", "Ada"], Placeholder.NAME)], counts)
    assert out.to_pylist() == ["[NAME] went to Adana with [NAME].", None, "nothing here"]


_words = st.text(alphabet=string.ascii_letters + string.digits + " .,;:-/()@+", max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(_words, min_size=1, max_size=6))
def test_scrubbed_text_never_matches_a_residual_pattern(parts: list[str]) -> None:
    text = " ".join(parts)
    out = scrub_text(text, [], Counter())
    for pattern in RESIDUAL_PATTERNS.values():
        assert not re.search(pattern, out), (pattern, out)


#: Words the output legitimately contains (placeholders, fixed note text, column values).
_COMMON = {"name", "ssn", "mrn", "phone", "email", "date", "wrote", "train", "example", "org"}
_name = st.text(alphabet=string.ascii_letters, min_size=3, max_size=10).filter(
    lambda n: n.lower() not in _COMMON)
_ssn = st.from_regex(r"[0-9]{3}-[0-9]{2}-[0-9]{4}", fullmatch=True)
_mrn = st.from_regex(r"MRN[0-9]{7}", fullmatch=True)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_mrn, _name, _name, _ssn, st.text(max_size=30)), min_size=1,
                max_size=8, unique_by=lambda r: r[0]))
def test_pseudonymized_output_contains_no_input_identifier(tmp_path: Path, rows) -> None:
    table = pa.table({
        "patient_id": [r[0] for r in rows], "name": [f"{r[1]} {r[2]}" for r in rows],
        "ssn": [r[3] for r in rows], "phone": ["(617) 555-0100"] * len(rows),
        "email": [f"{r[1]}@example.org" for r in rows], "zip": ["02139"] * len(rows),
        "birth_date": ["1960-01-01"] * len(rows), "encounter_date": ["2023-01-01"] * len(rows),
        "age": [60] * len(rows), "hba1c": [6.0] * len(rows), "ldl": [100.0] * len(rows),
        "sbp": [120.0] * len(rows), "bmi": [25.0] * len(rows),
        "notes": [f"{r[1]} {r[2]} ({r[0]}) ssn {r[3]} wrote: {r[4]} / {r[2].upper()}"
                  for r in rows],
        "label": [0] * len(rows), "split": ["train"] * len(rows)})
    src, dst = tmp_path / "p.csv", tmp_path / "p.out.csv"
    pacsv.write_csv(table, src)
    pseudonymize_file(src, dst, default_policy(), vault=Vault.in_memory())
    out = pacsv.read_csv(dst, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    key = b"k" * 32
    digests = DigestSet.from_values(key, [v for r in rows for v in (r[0], r[1], r[2], r[3])])
    for name in out.column_names:
        values = out.column(name).to_pylist()
        assert not digests.rows_matching(values).any(), name
