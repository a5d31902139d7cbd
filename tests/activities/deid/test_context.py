"""Identifiers known by their context: names after cues, ages, bare dates, places.

Names are made of syllables no dictionary holds, so only the cue can find
them. The precision cases are the clinical values that look like
identifiers (doses, scores, temperatures, eponyms, services): they must come
out unchanged. The last test runs a note through the validate stage's
residual check (``residual_scan``), which shares the matcher.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid.names import dictionary
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.activities.residual_scan import ResidualTally, scan_batch

SYLLABLES = ("ka", "zu", "mi", "tro", "vel", "quen", "dor", "ix", "ba", "lo", "fen", "rud", "nok",
             "sha", "pel", "ty")


def scrubbed(text: str) -> tuple[str, str]:
    """The text scrubbed as a cell of a column (Arrow + Python) and as one string."""
    col = scrub_column(pa.array([text]), None, Counter())
    return str(col[0].as_py()), scrub_text(text, None, Counter())


@st.composite
def unknown_names(draw: st.DrawFn) -> str:
    """A capitalized made-up name the dictionary does not hold."""
    given, family = dictionary()
    name = "".join(draw(st.lists(st.sampled_from(SYLLABLES), min_size=2, max_size=4)))
    if name in given or name in family:
        name += "x"
    return name.capitalize()


CUED = (
    "Caller: {a} (daughter)",
    "Spoke with pt's son, {a}, who states she is eating less.",
    "Pt's wife ({a}) updated on plan.",
    "1400: Daughter {a} at bedside.",
    "{a}, her niece, will drive her home.",
    "Emergency contact: {a} {b} (sister)",
    "Yours sincerely,\n{a} {b}, MD",
    "Report given to {i}. {b}, RN.",
    "Attending: {a} {b}, MD",
    "Discussed with Dr {b} who agrees.",
    "Re: {a} {b}, referred for evaluation",
    "Patient: {B}, {A}",
    "Thank you for referring Mrs. {b} to our clinic.",
    "Neighbor {a} checks on her.",
    "Seen with nurse {a} today.",
    "Dear Dr. {b},",
    "Returned call to {a} {b}, left message.",
)


@settings(max_examples=200, deadline=None)
@given(template=st.sampled_from(CUED), a=unknown_names(), b=unknown_names())
def test_names_after_cues_are_removed_without_the_dictionary(template: str, a: str,
                                                             b: str) -> None:
    note = template.format(a=a, b=b, A=a.upper(), B=b.upper(), i=a[0])
    for out in scrubbed(note):
        assert a.lower() not in out.lower() or template.count("{a}") == 0, (note, out)
        if "{b}" in template or "{B}" in template:
            assert b.lower() not in out.lower(), (note, out)
        assert "[NAME]" in out


@pytest.mark.parametrize("note", [
    "Take 3/4 tablet of lisinopril, 1/2 tab if dizzy.",
    "Pain 4/10, improved with Tylenol.",
    "Grade 2/6 systolic murmur.",
    "Strength 5/5 in all extremities, reflexes 2/4 bilaterally.",
    "BP 128/82, HR 72.",
    "Fever to 101F overnight, T 99F this morning.",
    "Lasix 40 mg IV x1 given.",
    "May shower; may 2 tablets be taken.",
    "History of Graves disease and Hodgkin lymphoma.",
    "St. John's wort stopped.",
    "Seen by Physical Therapy; plan home with Home Health.",
    "Discussed with Cardiology and Social Work.",
    "Transferred to 4 West for telemetry.",
    "Level 1 Trauma Center, 6 Minute Walk test, 2 View Chest.",
    "Daughter at bedside. WIFE PRESENT.",
    "E. coli and S. Aureus grew.",
    "Hip fx s/p ORIF 2/2 mechanical fall.",
    "EF 55-60% with mild MR; wound 3 x 4 cm.",
])
def test_clinical_values_that_look_like_identifiers_are_kept(note: str) -> None:
    for out in scrubbed(note):
        assert out == note


@pytest.mark.parametrize(("note", "expected"), [
    ("Recheck 3/4.", "Recheck [DATE]."),
    ("Fell at home Tues 10/26.", "Fell at home [DATE]."),
    ("95M admitted with sepsis; 92F with CHF.",
     "[AGE>89] admitted with sepsis; [AGE>89] with CHF."),
    ("This pleasant ninety-three-year-old gentleman.",
     "This pleasant [AGE>89]-year-old gentleman."),
    ("A nonagenarian.", "A [AGE>89]."),
    ("Zip code 24270 on file.", "Zip code [ADDRESS] on file."),
    ("Transferred from Des Moines for care.", "Transferred from [ADDRESS] for care."),
    ("Lives in Fort Wayne with her son.", "Lives in [ADDRESS] with her son."),
    ("Address: Apt 4B, see chart.", "Address: [ADDRESS], see chart."),
    ("Medicare ID 1EG4-TE5-MK72.", "Medicare ID [MRN]."),
    ("Unit No: 680093", "Unit No: [MRN]"),
    ("Logged in from 10.0.3.7:3389.", "Logged in from [IP]."),
    ("Last echo 21-APR-23.", "Last echo [DATE]."),
    ("Medicaid # EA60290C", "Medicaid # [MRN]"),
    ("SURGEON: Agnes O Seanain, M.D.\nAmbulates 150 ft.",
     "SURGEON: [NAME], M.D.\nAmbulates 150 ft."),
    ("Pastor Rev. Mac an Deisigh visits.", "Pastor Rev. [NAME] visits."),
    ("Hi, this is Kazutro, her nephew.", "Hi, this is [NAME], her nephew."),
])
def test_context_forms(note: str, expected: str) -> None:
    for out in scrubbed(note):
        assert out == expected


def test_the_residual_check_finds_the_new_forms_and_passes_the_scrubbed_note() -> None:
    note = ("Caller: Kazutro (daughter) at (555) 201-3344 x23 about her 92F mother, "
            "seen Apr. 3rd, 2020 and 03-Apr-1950; lives at 8112 N. Jefferson Ct, Apt 4B.")
    before = ResidualTally()
    scan_batch(pa.record_batch({"notes": [note]}), None, before)
    assert before.found == 1
    assert {"NAME", "PHONE", "AGE>89", "DATE", "ADDRESS"} <= set(before.kinds["notes"])
    scrubbed_note = scrub_column(pa.array([note]), None, Counter())
    after = ResidualTally()
    scan_batch(pa.record_batch({"notes": scrubbed_note}), None, after)
    assert after.found == 0, after.summary()
    assert "Kazutro" not in str(scrubbed_note[0]) and "8112" not in str(scrubbed_note[0])
