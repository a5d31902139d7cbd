"""Issue 12's general forms of deid12 (the place forms six seeds of ``sealed`` missed most):
each form generated in its variants must be gone from the scrubber's output by the column
path and the one-text path alike, and the residual check must find nothing left in the
column path's output (``clean``); the traps next to them must survive whole (``kept``).

Forms (``unitstreets``): a street of any kind before its unit, a unit number alone after
``Unit``, a street after a word that sends or fetches something there. Traps: wards and
ambulances (``Unit 4 West``, ``Unit 7``), blood and insulin units (``unit 2 of 2``, ``100
unit per mL``, ``2 units PRBC``), counts after the same cues (``sent to 2 labs``, ``Pick-up:
2 bags of saline``, ``Sent to 3 West``, ``Sent to 3 outside hospitals``), a dispense count
(``tab #30``).

Forms (``monthtypos``): a misspelled month with the day first, with its year, or alone with
a bare day. Traps: a given name or an English word before a number (``Marc 3``, ``Judy
4``), ordinals before words (``2nd dose``), months spelled right in no date.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import monthtypos, unitstreets
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms5 import kept
from tests.activities.deid.test_general_forms7 import GIVEN, unknown
from tests.activities.deid.test_general_forms9 import clean

#: USPS street kinds on no list of the address patterns (``grammar.STREET_SUFFIX`` leaves
#: them out: mostly something else in notes).
KINDS = (
    "Wall",
    "Keys",
    "Falls",
    "Station",
    "Camp",
    "Lights",
    "Mission",
    "Union",
    "Walk",
    "Rue",
    "Loaf",
    "Dam",
    "Curve",
    "Extensions",
    "Radial",
    "Port",
    "Points",
    "Fields",
)
UNITS = ("Apt. 367", "Suite 340", "apt 4B", "Unit 12", "Ste #4", "SUITE 455")


def _case(text: str, how: int) -> str:
    return (text, text.lower(), text.upper())[how]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 99999),
    st.one_of(unknown, st.sampled_from(GIVEN).map(str.title)),
    st.sampled_from(KINDS),
    st.sampled_from(UNITS),
    st.integers(0, 2),
    st.sampled_from(
        (
            "Transport pick-up: {} (ring bell twice).",
            "Home visit at {} today.",
            "Address on file {}.",
            "{} | phone on file",
        )
    ),
)
def test_street_of_any_kind_before_its_unit(
    n: int, word: str, kind: str, unit: str, how: int, template: str
) -> None:
    street = _case(f"{n} {word} {kind}", how)
    clean(template.format(f"{street} {unit}"), str(n), word, kind)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(100, 99999),
    st.sampled_from(("", "#", "No. ", "# ")),
    st.sampled_from(
        ("Same building, Unit {}, buzzer broken.", "lives in unit {} now", "UNIT {}; elevator out")
    ),
)
def test_unit_number_alone(n: int, mark: str, template: str) -> None:
    clean(template.format(f"{mark}{n}"), str(n))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 99999),
    st.one_of(unknown, st.sampled_from(GIVEN).map(str.title)),
    st.sampled_from(KINDS),
    st.integers(0, 2),
    st.sampled_from(
        (
            "Transport pick-up: {} (ring bell twice).",
            "Letter sent to {}, return receipt requested.",
            "Meds mailed to {}.",
            "Home health to see pt at {}",
            "drop-off at {};",
        )
    ),
)
def test_street_after_a_word_that_sends_there(
    n: int, word: str, kind: str, how: int, template: str
) -> None:
    street = _case(f"{n} {word} {kind}", how)
    clean(template.format(street), str(n), word, kind)


def test_unit_and_count_traps_stay() -> None:
    kept(
        "Moved to Bed 12 on Unit 4 West overnight. Unit 7 on scene, crew of two. "
        "Transfused unit 2 of 2. Insulin 100 unit per mL. 2 units PRBC given. "
        "Unit 250 mL bolus. Increase to 2 tabs daily. Sent to 2 labs. "
        "Pick-up: 2 bags of saline. Sent to 3 West today. Lisinopril 10 mg tab #30. "
        "Drop-off at 1400 hours. Seen 3 times, twice in clinic. Sent to 3 outside "
        "hospitals. Records mailed to 2 other addresses."
    )


def test_each_form_alone() -> None:
    """The finder's own spans: the number and the street (not the cue), the unit's number
    (not its word)."""
    text = "Pick-up: 12 Oak Falls (bell). Same building, Unit 642, broken. 3 Elm Wall Apt 2"
    got = [text[s:e] for s, e, ph in unitstreets.find(text) if ph is Placeholder.ADDRESS]
    assert sorted(got) == sorted(["12 Oak Falls", "642", "3 Elm Wall Apt 2"])
    assert unitstreets.find("Sent to 2 more labs. Unit 4 West. 10 mg tab #30.") == []


# ------------------------------------------------------------------------------ month typos


def _typo(month: str, k: int) -> str:
    """``month`` with one edit at ``k``: a letter doubled, dropped or swapped with the next
    (the first letter kept, as ``forms.near_month`` asks)."""
    k = 1 + k % (len(month) - 2)
    return (
        month[:k] + month[k] + month[k:],
        month[:k] + month[k + 1 :],
        month[:k] + month[k + 1] + month[k] + month[k + 2 :],
    )[k % 3]


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(MONTHS),
    st.integers(0, 20),
    st.integers(1, 28),
    st.integers(1931, 2025),
    st.integers(0, 2),
    st.sampled_from(
        (
            "{d} {m} {y}",
            "the {o} of {m}",
            "{o} {m}",
            "{d}-{m}-{yy}",
            "{m} {y}",
            "{m} {d}",
            "{o} {m}, {y}",
        )
    ),
    st.sampled_from(
        (
            "Chaplain visit {}, 20 minutes.",
            "Date of event: {} approx 2215.",
            "Screen date {} - inclusion criteria met.",
            "DOB: {}",
        )
    ),
)
def test_misspelled_month_in_every_shape(
    month: str, k: int, d: int, y: int, how: int, shape: str, template: str
) -> None:
    typo = _case(_typo(month, k), how)
    o = f"{d}{'th' if 10 < d < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"
    date = shape.format(d=d, m=typo, y=y, yy=f"{y % 100:02d}", o=o)
    if shape == "{m} {d}" and not monthtypos.find(date):
        return  # a typo that is an English word or a given name needs more than a bare day
    clean(template.format(date), typo)


def test_month_typo_traps_stay() -> None:
    kept(
        "Marc 3 visits. Judy 4 calls. 2nd dose given. Took 3 days in 2019. "
        "Given 5 mg daily. the 5th of many. Seen 2 Marches ago. Apgar 8 and 9."
    )
