"""Issue 12's general forms of deid12e (the forms ``sealed-3``'s misses were, read once it was
no longer held out): each form generated in its variants, with values and sentences of
these tests' own, must be gone from the scrubber's output by the column path and the
one-text path alike, and the residual check must find nothing left in the column path's
output (``clean``); the traps next to them must survive whole (``kept``).

Forms: a day and a month or an ordinal day after a weekday, after a week's cue, before a
clock time, after ``of the``/``on the`` where the clause ends, and a day glued to ``sept``
(``dayforms``, ``grammar``); an id after a noun and ``SN``/``serial`` (``forms``); a title
inside a run of capitals and an initial before a family name in capitals (``names``); a
name after a clinician's act and ``by``, or ``handed over to`` (``names``); a sign-off,
a given name and a family name in capitals alone on its line (``signforms``); a place after
``nr`` (``geo``, ``townshapes``). Traps: ranks, scores, pressures and ratios with a time
after them; ``of the 5th metatarsal``; ``sat 2nd row``; ``w/c user``; ``Device SN
checked``; ``per Dr K. NAD``; services and drugs after ``by``; a drug and an abbreviation
on their own line; ``Nr 5``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import dayforms, signforms
from medpipe.activities.deid.words import other_word
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms5 import both, kept
from tests.activities.deid.test_general_forms7 import GIVEN, _ord, unknown
from tests.activities.deid.test_general_forms9 import clean

WEEKDAYS = ("Mon", "Tue", "Tues", "Wed", "Weds", "Thu", "Thur", "Thurs", "Fri", "Sat", "Sun",
            "Monday", "Wednesday", "Sat.", "THURS", "fri")
#: Made-up names on no word list (``other_word``: what the new name rules ask of a word).
NAMES = unknown.filter(other_word)


def _dm(day: int, month: int, first: bool, padded: bool) -> str:
    d, m = (f"{day:02d}", f"{month:02d}") if padded else (str(day), str(month))
    return f"{d}/{m}" if first else f"{m}/{d}"


# ---------------------------------------------------------------------------------- dates

@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(WEEKDAYS),
    st.integers(1, 28),
    st.integers(1, 12),
    st.booleans(),
    st.sampled_from(
        (
            "Admitted {} via ED, outlier since.",
            "Expected discharge {}, needs OT first.",
            "Clinic moved to {} at the satellite site.",
            "Rpt bloods {}\nthen review.",
        )
    ),
)
def test_a_weekday_and_a_day_and_month(wd: str, day: int, month: int, first: bool,
                                       template: str) -> None:
    value = _dm(day, month, first, False)
    clean(template.format(f"{wd} {value}"), value, wd.rstrip("."))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(WEEKDAYS),
    st.integers(1, 31),
    st.sampled_from(
        (
            "Fit for discharge since {}, awaiting package.",
            "TCI {} for the list.",
            "Home visit booked {} at 10:00.",
            "Review {}; bring the diary.",
        )
    ),
)
def test_a_weekday_and_an_ordinal_day(wd: str, day: int, template: str) -> None:
    clean(template.format(f"{wd} {_ord(day)}"), _ord(day), wd.rstrip("."))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("w/c", "W/C", "w/b", "w/e", "wk of", "week commencing", "Week ending",
                     "week of")),
    st.integers(1, 28),
    st.integers(1, 12),
    st.booleans(),
    st.sampled_from(("Clinic slot {}.", "Return to work planned {}, phased.", "Rota: {}\n")),
)
def test_a_week_cue_and_a_day(cue: str, day: int, month: int, first: bool,
                              template: str) -> None:
    value = _dm(day, month, first, False)
    clean(template.format(f"{cue} {value}"), value)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 28),
    st.integers(1, 12),
    st.booleans(),
    st.sampled_from(("at {:02d}:{:02d}", "{:02d}:{:02d}", "@ {:02d}{:02d}", "at {:02d}.{:02d}")),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(("AF episode logged {}, 40 s.", "Fall on the ward {}; no injury.",
                     "Last seizure {} per carer.")),
)
def test_a_day_and_month_before_a_clock_time(day: int, month: int, padded: bool, clock: str,
                                             hh: int, mm: int, template: str) -> None:
    if not padded and day <= 12:
        day += 12  # unpadded, a day and month must have a part over 12 (a score's otherwise)
    value = _dm(day, month, True, padded)
    clean(template.format(f"{value} {clock.format(hh, mm)}"), value)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 31),
    st.sampled_from(
        (
            "Passed away in the night of the {}; family aware.",
            "Rpt echo on the {} before the MDT.",
            "Wound check booked for the morning of the {}.",
            "Stitches out on the {} at the practice.",
        )
    ),
)
def test_of_the_or_on_the_and_an_ordinal_where_the_clause_ends(day: int,
                                                                template: str) -> None:
    clean(template.format(_ord(day)), _ord(day))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 30), st.sampled_from(("sept", "Sept", "SEPT")),
       st.sampled_from(("Flu jab due {} at the GP.", "INR again {}, then weekly.")))
def test_a_day_glued_to_sept(day: int, month: str, template: str) -> None:
    clean(template.format(f"{day}{month}"), f"{day}{month}")


def test_date_traps_stay() -> None:
    kept(
        "Fracture at the base of the 5th metatarsal. Injury of the 4th and 5th toes. "
        "Amputation of the 2nd, 3rd toes. Succeeded on the 2nd attempt. Ranked 3rd in the 5th "
        "percentile. pain 4/10 at 14:00. GCS 13/15 at 02:00. BP 120/80 at 10:00. "
        "sat 2nd row at the game. Sun 1st degree burn. Sat 94% RA. w/c user, w/c 2 steps. "
        "Mon 3/4 tabs daily. Dose 2 of 3 at 10:00."
    )
    got = dayforms.find("Adm Thurs 14/11 via ED; died in the early hours of the 6th; ok")
    assert got == [(4, 15, Placeholder.DATE), (55, 58, Placeholder.DATE)]


# ------------------------------------------------------------------------------ serials

@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("Device", "Pump", "Implant", "Generator", "Aid")),
    st.sampled_from(("SN", "sn", "S/N", "serial", "Serial #", "SN:")),
    st.from_regex(r"[A-Z]{2,3}[0-9]{5,7}[A-Z]?", fullmatch=True),
    st.sampled_from(("{}, MRI conditional.", "{} logged at check.", "R {}\nL to follow")),
)
def test_an_id_after_a_noun_and_a_serial_word(noun: str, word: str, serial: str,
                                              template: str) -> None:
    clean(template.format(f"{noun} {word} {serial}"), serial)


def test_serial_traps_stay() -> None:
    kept("Device SN checked, MRI conditional. Pump serial on the label. Paid no fee today.")


# ---------------------------------------------------------------------------------- names

@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("Dr", "Dr.", "Mrs", "Prof")),
    st.from_regex(r"[A-Z]\.", fullmatch=True),
    NAMES,
    st.sampled_from(("Under {} (renal), review due.", "Ask {} about the dose.",
                     "Booked Under {} for Tuesday.")),
)
def test_a_title_inside_a_run_and_an_initial_before_capitals(title: str, initial: str,
                                                            family: str,
                                                            template: str) -> None:
    clean(template.format(f"{title} {initial} {family.upper()}"), family.upper())


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("Reviewed by", "checked by", "Pacemaker interrogated by",
                     "Procedure performed by", "Assessed by", "Handed over to")),
    NAMES,
    st.one_of(st.none(), NAMES),
    st.sampled_from(("{}, no changes.", "{} (night lead) at 2000.", "{}\nPlan as above.")),
)
def test_a_name_after_a_clinicians_act(cue: str, first: str, second: str | None,
                                       template: str) -> None:
    who = first if second is None else f"{first}/{second}"
    clean(template.format(f"{cue} {who}"), first, *(() if second is None else (second,)))


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(NAMES, st.sampled_from(GIVEN).map(str.capitalize)),
    NAMES.map(str.upper),
    st.sampled_from(("Thanks.\n{}\nWard Clerk", "Bed found on 4B. {} | Site Lead | Flow",
                     "{}")),
)
def test_a_sign_off(given_name: str, family: str, template: str) -> None:
    clean(template.format(f"{given_name} {family}"), given_name, family)


def test_name_traps_stay() -> None:
    kept(
        "Reviewed by Cardiology. Checked by Pharmacy, ok. Performed by Interventional "
        "Radiology. Checked by RN x2. Reviewed by ID. Handed over to Night team at 2000. "
        "Handed over to ICU. Called back, SSN on file."
    )
    kept("Plan:\nTazocin STAT\nBed MANAGER\nDischarge TTO\nEliquis DOAC")
    for out in both("Per Dr K. NAD."):  # an initial is a name; a note's abbreviation is not
        assert out == "Per Dr [NAME] NAD.", out
    got = signforms.find("Transfer done.\nUna OKAFOR-BELL | Bed Manager")
    assert got == [(15, 30, Placeholder.NAME)]


# ---------------------------------------------------------------------------------- places

@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(("Ludlow", "Tucson", "Leeds", "Dayton")),
    st.sampled_from(("Lives nr {} with her son.", "Farm nr {}, 3 miles out.")),
)
def test_a_place_after_nr(place: str, template: str) -> None:
    clean(template.format(place), place)


@settings(max_examples=40, deadline=None)
@given(unknown.map(lambda w: w + "ville"),
       st.sampled_from(("Lives nr {} with her son.", "Moved nr {} in May.")))
def test_a_town_shaped_word_after_nr(town: str, template: str) -> None:
    clean(template.format(town), town)


def test_nr_traps_stay() -> None:
    kept("Nr 5 on the list. Results nr normal. Lives nr Results desk.")
