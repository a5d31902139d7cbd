"""Issue 12's general forms (recall4): id-like digit-group runs, partial dates, non-ASCII
notes through the same rule table, ages over 89 only, towns by position, names after a
credential or a message, USPS suffix abbreviations.

Each form is generated (hypothesis) in its variants and must be gone from the scrubber's
output, by the column path and the one-text path alike; traps (lab values, doses, vitals,
times, versions, scores, counts, ICD/LOINC/NDC codes, ``in March``, ``may``) must survive.
"""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import dateparts, idruns, phone
from medpipe.activities.deid.forms import AGE_CUE_BEFORE, AGE_CUED
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.contracts.pseudonymize import Placeholder

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def both(text: str) -> tuple[str, str]:
    """The text scrubbed as a cell of a column and as one string."""
    col = scrub_column(pa.array([text]), None, Counter())
    return str(col[0].as_py()), scrub_text(text, None, Counter())


def gone(text: str, secret: str) -> None:
    for out in both(text):
        assert secret not in out, (text, out)


def kept(text: str) -> None:
    for out in both(text):
        assert out == text, (text, out)


# --------------------------------------------------------------------- id-like digit runs

_CUES = ("Member ID", "member id#", "Policy #", "policy no.", "Claim no.", "Acct", "account",
         "Device serial", "S/N", "Ref", "reference", "Auth", "Confirmation", "Card number on file",
         "Plate", "Group", "ID:", "Subscriber", "Order #", "Case")


def _run(draw: st.DrawFn, min_digits: int) -> str:
    sizes = draw(st.lists(st.integers(2, 5), min_size=2, max_size=4)
                 .filter(lambda s: sum(s) >= min_digits and max(s) >= 3
                         and tuple(s) != (3, 2, 4)))
    sep = draw(st.sampled_from((" ", "-", ".")))
    return sep.join("".join(draw(st.sampled_from("0123456789")) for _ in range(n))
                    for n in sizes)


@st.composite
def cued_runs(draw: st.DrawFn) -> tuple[str, str]:
    cue = draw(st.sampled_from(_CUES))
    run = _run(draw, 5)
    return f"{cue} {run} {draw(st.sampled_from(('on file.', 'given.', 'resubmitted', '')))}", run


@settings(max_examples=120, deadline=None)
@given(cued_runs())
@example(("Member ID 00 001 00 00 on file.", "00 001 00 00"))  # '001 00 00': dialled with 00
def test_cued_digit_runs_are_ids(case: tuple[str, str]) -> None:
    text, run = case
    for out in both(text):
        assert not any(g in out for g in run.replace("-", " ").replace(".", " ").split()
                       if len(g) >= 2), (text, out)


@st.composite
def bare_runs(draw: st.DrawFn) -> tuple[str, str]:
    sizes = draw(st.sampled_from(((4, 4, 2), (4, 4), (2, 4, 4), (5, 4), (4, 3, 3),
                                  (3, 4, 4), (4, 4, 4))))
    sep = draw(st.sampled_from((" ", ".")))
    run = sep.join(str(draw(st.integers(10 ** (n - 1), 10 ** n - 1))) for n in sizes)
    lead = draw(st.sampled_from(("Pt gave", "Number", "Wrote down", "Called back re")))
    return f"{lead} {run} yesterday.", run


@settings(max_examples=200, deadline=None)
@given(bare_runs())
def test_long_runs_without_cue_are_ids(case: tuple[str, str]) -> None:
    text, run = case
    spans = idruns.find(text) or phone.RULE.find(text)  # a valid national number: the phone's
    groups = re.split(r"[ .]", run)
    if all(len(g) == 4 and g[:2] in ("19", "20") for g in groups) or \
            all(len(g) == 4 and int(g[:2]) < 24 and int(g[2:]) < 60 for g in groups):
        return  # a series of years or clock times is a trap, tested below
    assert spans and spans[0][0] <= text.index(run) and spans[0][1] >= text.index(run) + len(run), \
        (text, spans)


def test_run_shapes_are_typed() -> None:
    """3-2-4 is an SSN; a year, month and day a date; after a chart cue an MRN; else an ID."""
    assert idruns.find("Pt gave 123 45 6789 at check-in")[0][2] is Placeholder.SSN
    assert idruns.find("Seen 2023 03 14 in clinic")[0][2] is Placeholder.DATE
    assert idruns.find("MRN 0012 3345 6")[0][2] is Placeholder.MRN
    assert idruns.find("chart 4471 2210 reviewed")[0][2] is Placeholder.MRN
    assert idruns.find("Member ID 8841 2210 77")[0][2] is Placeholder.ID


def test_rest_of_a_cut_run_joins_its_mark() -> None:
    gone("Claim no. 606 880 4648 57 resubmitted.", "57")
    gone("Ref 506.267.1466.62 given by the rep.", "62")
    gone("Claim no. 1234.5678.90 resubmitted.", "5678")
    kept_age = both("MR#: 1234567 90 year old male")
    assert all("[AGE>89]" in o for o in kept_age), kept_age


@pytest.mark.parametrize("text", [
    "BP 120/80, HR 72, RR 16, T 98.6 F, SpO2 97% on RA.",
    "K 4.1, Na 138, Cr 1.2, BUN 22, glucose 104.",
    "Platelets 250 000/uL, WBC 11.2, Hgb 9.8.",
    "Na 138 140 142 over three days.",
    "Metoprolol 25 mg PO BID; warfarin 2.5 mg other days.",
    "Dx: ICD-10 I48.91 and Z79.01 on the claim.",
    "LOINC 6301-6 (INR) resulted at 14:30.",
    "NDC 0093-7146-56 dispensed, 30 tablets.",
    "Dispensed 0093-7146-56 today.",
    "PHQ-9 score 12, GAD-7 score 8; pain 3/10.",
    "Pump firmware v2.3.1 checked, alarms 0 of 3 cleared.",
    "Weight trend 2019 2020 2021 stable.",
    "Population 1 250 000 in the county survey.",
    "Drained 1 500 mL over 2 hours.",
    "INR 2.4, goal 2.0-3.0; dose unchanged.",
    "Reflexes 2 2 2 2 symmetric.",
    "Trop 0.03 0.04 0.05 flat.",
    "Room 412 bed 2, fall precautions.",
    "Coded on the claim. Platelets 250 000/uL today.",
    "Coded on the claim. BP 120/80, HR 72.",
    "Coded on the claim. PHQ-9 score 12.",
    "Coded on the claim. NDC 0093-7146-56 dispensed.",
    "Coded on the claim. She may take 1 to 2 tabs.",
])
def test_clinical_numbers_stay(text: str) -> None:
    kept(text)


@pytest.mark.parametrize("text", [
    "CPT 99213 99214 billed.", "Insulin given 0800 1200 1700 2100 per sliding scale.",
])
def test_codes_and_times_are_no_id_runs(text: str) -> None:
    """No run of this rule (the telephone rule, ``phone``, takes some of these as numbers
    valid in a national plan: not this rule's decision)."""
    assert idruns.find(text) == []


# --------------------------------------------------------------------------- partial dates

@st.composite
def partial_dates(draw: st.DrawFn) -> tuple[str, str]:
    m = draw(st.integers(1, 12))
    d = draw(st.integers(1, 28))
    full = MONTHS[m - 1]
    mon = draw(st.sampled_from((full, full[:3], full[:3] + ".", full.upper(), full[:3].upper()
                                ) + (("Sept", "Sept.") if m == 9 else ())))
    if mon.lower() == "may":
        mon = "May"
    ordinal = f"{d}{'th' if 10 < d < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"
    day = draw(st.sampled_from((str(d), f"{d:02d}", ordinal)))
    yy = f"{draw(st.integers(0, 99)):02d}"
    form = draw(st.sampled_from((
        f"{day} {mon}", f"{mon} {day}", f"{ordinal} of {mon}", f"the {ordinal} of {mon}",
        f"{mon} the {ordinal}", f"{d:02d}-{full[:3]}", f"{mon} {draw(st.integers(1931, 2025))}",
        f"{full[:3]} '{yy}", f"{day} {mon} {yy}", f"{mon} {day}, {yy}",
        f"{d:02d}{full[:3].upper()}")))
    lead = draw(st.sampled_from(("Next INR", "Held since", "Seen on", "Fall", "Lab drawn")))
    return f"{lead} {form}, stable.", form


@settings(max_examples=150, deadline=None)
@given(partial_dates())
def test_partial_dates_are_dates(case: tuple[str, str]) -> None:
    text, form = case
    for out in both(text):
        assert "[DATE]" in out, (text, out)
        left = [t for t in form.replace("'", " ").replace(",", " ").replace("-", " ").split()
                if t.isdigit() and len(t) == 2 and t in out.split()]
        assert not left, (text, out)


@pytest.mark.parametrize(("text", "secret"), [
    ("Wife reports fall on the 4th.", "4th"),
    ("Due the 21st at 9 am.", "21st"),
    ("Pump delivered on 25/12 by courier.", "25/12"),
    ("Dated 14/3, signed.", "14/3"),
])
def test_cued_partial_dates(text: str, secret: str) -> None:
    gone(text, secret)


@pytest.mark.parametrize("text", [
    "In March the family may visit more often.",
    "She may take 1 to 2 tabs q6h prn.",
    "Give on the 4th dose only.",
    "Fracture of the 3rd toe.",
    "The 2nd opinion was sought.",
    "Ratio 25/12 of the cohort.",
])
def test_date_traps_stay(text: str) -> None:
    kept(text)


def test_two_digit_year_not_a_dose() -> None:
    """``3 Mar 25 mg``: the day and month go, the dose stays."""
    for out in both("Given 3 Mar 25 mg at noon."):
        assert "25 mg" in out and "Mar" not in out, out
    assert dateparts.find("on Mar 3, 25 units") == []


# ------------------------------------------------------------------------- non-ASCII notes

@pytest.mark.parametrize(("text", "secret"), [
    ("América Téllez agreed to the plan.", "Téllez"),
    ("Chaperone América Téllez present for exam.", "Téllez"),
    ("Céline Moreau, RN, notified.", "Moreau"),
    ("Infusion RN Lamoureux placed the PICC; ça va.", "Lamoureux"),
])
def test_non_ascii_notes_meet_every_rule(text: str, secret: str) -> None:
    gone(text, secret)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("Chaperone", "Hygienist", "Left voicemail for", "Spoke with")),
       st.sampled_from(("América Téllez", "Zoë Brontë", "Łukasz Wróbel", "Dóra Kővári")),
       st.sampled_from(("present.", "re: refill", "agreed.")))
def test_accents_do_not_hide_a_cued_name(cue: str, name: str, tail: str) -> None:
    text = f"{cue} {name} {tail}"
    col, one = both(text)
    assert col == one and "[NAME]" in col, (text, col, one)


# ---------------------------------------------------------------------------- ages > 89

@pytest.mark.parametrize("age", [str(a) for a in range(10, 20)] + ["900", "915"])
def test_age_cued_takes_no_teenager(age: str) -> None:
    text = f"she is {age} today"
    assert not [m for m in AGE_CUED.finditer(text)
                if AGE_CUE_BEFORE.search(text, 0, m.start())]
    kept(text)


@pytest.mark.parametrize("age", [str(a) for a in range(90, 120)])
def test_age_cued_takes_ninety_and_over(age: str) -> None:
    gone(f"she is {age} today", age)


# ----------------------------------------------------------------- towns, streets, names

_SUFFIXES = ("Ter", "Pkwy", "Cir", "Blvd.", "Hwy", "Trl", "Xing", "Cv", "Pl", "Sq", "Aly",
             "Lndg", "Mnr", "Holw", "Bnd", "Cyn", "Crk", "Hts", "Vw", "Way", "Rdg", "Knl",
             "Mdws", "Frst", "Gln", "Grv", "Shr", "Spgs", "Xrd", "Gtwy", "Rnch", "Brk")


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 99999), st.sampled_from(("", "N ", "SW ", "E ")),
       st.sampled_from(("Cedar Knoll", "Ashford", "Pinecrest", "Sugar Maple", "Ironwood")),
       st.sampled_from(_SUFFIXES),
       st.sampled_from(("", " Apt 4", " Unit 12", " Ste 210", ", Pruittside", ", Lake Dean")))
def test_usps_abbreviations_and_towns(num: int, direction: str, street: str, suffix: str,
                                      rest: str) -> None:
    addr = f"{num} {direction}{street} {suffix}{rest}"
    for out in both(f"Delivered to {addr}."):
        for word in (street.split()[0], suffix.rstrip("."), *rest.replace(",", " ").split()):
            assert word not in out.split() and word + "." not in out.split(), (addr, out)


@pytest.mark.parametrize(("text", "secret", "stays"), [
    ("Hospice agency based in Dothan, OH.", "Dothan", "OH"),
    ("Moved from Port Ellen, NY last year.", "Ellen", "NY"),
    ("Home visit at 5257 Cedar Knoll Bnd, Pruittside.", "Pruittside", "visit"),
    ("Lives at 12 Oak St, Indiana.", "Oak", "Indiana"),
])
def test_towns_by_position(text: str, secret: str, stays: str) -> None:
    for out in both(text):
        assert secret not in out and stays in out, out


@pytest.mark.parametrize(("text", "secret"), [
    ("Left voicemail for Bastian re: delivery window.", "Bastian"),
    ("VM left for Luis Ortega, will call back.", "Ortega"),
    ("Infusion RN Lamoureux placed the PICC dressing.", "Lamoureux"),
    ("Handed to NP Okafor reviewed labs.", "Okafor"),
])
def test_names_after_a_message_or_credential(text: str, secret: str) -> None:
    gone(text, secret)


@pytest.mark.parametrize("text", [
    "XR chest 2 Views obtained.", "s/p 2 Carpal Tunnel releases.", "Hx 3 Recent Falls.",
    "Seen in Clinic, MD office aware.", "RN Supervisor notified of fall.",
    "PA Chest xray obtained.", "RT Shoulder pain worse.", "Left message for Pharmacy re: refill.",
    "Lives at home, Alone most days.",
])
def test_place_and_name_traps_stay(text: str) -> None:
    kept(text)


def test_an_ssn_and_a_count_after_it_stay_apart() -> None:
    """The patterns' SSN is whole: a count after it is no rest of a cut run, on the column
    path as on the one-text path (hypothesis found ' 123-45-6789 1.' -> ' [ID].')."""
    for out in both("SSN 123-45-6789 1 on file; ref 123-45-6789-12."):
        head, _, tail = out.partition("; ref ")
        assert head == "SSN [SSN] 1 on file", out
        assert not any(c.isdigit() for c in tail), out  # a run the SSN is part of goes whole
