"""Form families the blind-test template set showed missing, and false positives mended.

One parametrized case per family (general grammar: compact and ISO dates with
a time, month-day with a dash, rural-route boxes, ``age: 95y``, an age in
parentheses after its person, ``Last, First`` after a signature header,
initials after a credential, a city before the hospital it names, ids
written in spaced groups), property tests over generated values, and traps
that must stay untouched (drug codes, pain scores, ranges of quantities).
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def scrubbed(text: str) -> tuple[str, str]:
    """The text scrubbed as a cell of a column (Arrow + Python) and as one string."""
    col = scrub_column(pa.array([text]), None, Counter())
    return str(col[0].as_py()), scrub_text(text, None, Counter())


@pytest.mark.parametrize(("text", "secret", "mark"), [
    ("DOD: 5Mar2020", "5Mar2020", "[DATE]"),
    ("Event time 2021-03-05T14:22 per monitor.", "03-05", "[DATE]"),
    ("Lines changed on 03-15.", "03-15", "[DATE]"),
    ("Mail: RR 3 Box 120", "120", "[ADDRESS]"),
    ("Patient age: 95y", "95", "[AGE>89]"),
    ("Mother of pt (96) also under hospice care.", "96", "[AGE>89]"),
    ("Electronically signed: Novak, Jana MD, pathologist", "Novak", "[NAME]"),
    ("Health care proxy: O'Donnell, Sharon (son)", "Donnell", "[NAME]"),
    ("RN JK notified MD of MAP < 65.", "JK", "[NAME]"),
    ("ATTN: DR HALLBERG", "HALLBERG", "[NAME]"),
    ("FOB Tomas Dvorak present and supportive.", "Dvorak", "[NAME]"),
    ("Transfer from Eau Claire Regional Medical Center for care.", "Claire", "[ADDRESS]"),
    ("Forklift licence no. WJ 941 467", "941", "[ID]"),
])
def test_blind_test_families_are_replaced(text: str, secret: str, mark: str) -> None:
    for out in scrubbed(text):
        assert secret not in out, out
        assert mark in out, out


@pytest.mark.parametrize("text", [
    "NDC 0093-7146-56 substituted for brand; 30 tabs, 2 refills.",
    "Pain 6/10, improved to 3/10 after ibuprofen 400 mg.",
    "Fit for modified duty: lifting limit 20 lb for 2-4 weeks.",
    "Recheck in 10-12 weeks.",
    "Apgars 8/9; EBL 350 mL; Pitocin 2 mU/min, Rhogam given.",
    "Audiogram 25 dB at 4000 Hz; TB test 0 mm at 48-72 h.",
    "RN IV started, MD PO meds held.",
    "Gleason 4+3=7, grade group 3; Ki-67 20%; margins negative.",
])
def test_clinical_values_stay(text: str) -> None:
    for out in scrubbed(text):
        assert out == text


def test_a_date_out_of_ten_without_a_score_word_stays_a_date() -> None:
    for out in scrubbed("Death pronounced 3/10 at 0412."):
        assert "3/10" not in out and "[DATE]" in out, out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 28), st.sampled_from(MONTHS), st.integers(1931, 2025),
       st.booleans())
def test_compact_day_month_year(day: int, month: str, year: int, upper: bool) -> None:
    v = f"{day}{month.upper() if upper else month}{year}"
    for out in scrubbed(f"DOD: {v} per chart"):
        assert v not in out and "[DATE]" in out, out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 31))
def test_month_day_with_a_dash(month: int, day: int) -> None:
    v = f"{month:02}-{day:02}"
    for out in scrubbed(f"Lines changed on {v}."):
        assert v not in out and "[DATE]" in out, out


@settings(max_examples=40, deadline=None)
@given(st.integers(90, 119), st.sampled_from(["Mother of pt", "husband", "Pt", "sister"]))
def test_age_in_parentheses_after_its_person(age: int, person: str) -> None:
    for out in scrubbed(f"{person} ({age}) also seen."):
        assert f"({age})" not in out and "[AGE>89]" in out, out


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["Electronically signed:", "Health care proxy:", "Signed by"]),
       st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True),
       st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True))
def test_last_first_after_a_signature_header(header: str, last: str, first: str) -> None:
    for out in scrubbed(f"{header} {last}, {first} MD"):
        assert last not in out and first not in out, out


@settings(max_examples=40, deadline=None)
@given(st.from_regex(r"[A-Z]{2} [0-9]{3} [0-9]{3}", fullmatch=True))
@example("DX 123 456")  # found by this search: "dx" was read as a code system's name
def test_ids_in_spaced_groups(ident: str) -> None:
    for out in scrubbed(f"Forklift licence no. {ident} on file"):
        assert ident.split()[1] not in out and "[ID]" in out, out
