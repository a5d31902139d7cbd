"""Issue 12's general forms of recall10 (the forms ``fresh-10`` found missing): each form
generated in its variants must be gone from the scrubber's output by the column path and the
one-text path alike, and the residual check must find nothing left in the column path's
output (``clean``); the traps next to them must survive whole (``kept``).

Forms: post-office boxes and rural routes (``mailforms``); streets without a number after a
place cue and intersections (``streetforms``); a town before a state written out or between
a street's mark and a state (``stateforms``); neighbourhoods by their word and lower-case
towns after a strong cue (``hoodforms``); names after abbreviated relations, in a bed
table's cell, listed after a name, and a lower-case sign-off after a thanks line
(``kinforms``); a month with a cardinal day in words and a typed weekday before a date
(``spokendates``). Traps: ``RR 18`` (a respiratory rate), ``PO`` (by mouth), ``Route 9``,
``Box 3 of the form``, ``Unit 4 West``, ``on Ward Rounds``, ``Cardiology, Iowa City``,
``grew up in poverty``, ``the waiting area``, ``| CHF, DM |``, ``Daughter at
bedside``, ``thanks\\nplease call``, ``she may two-step``, ``march twelve miles``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.activities.deid.test_general_forms5 import kept
from tests.activities.deid.test_general_forms7 import GIVEN, unknown
from tests.activities.deid.test_general_forms9 import clean, lower_unknown

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
CARDINALS = ("one", "two", "five", "nine", "ten", "eleven", "twelve", "fifteen", "eighteen",
             "twenty", "twenty one", "twenty-three", "twenty eight", "thirty", "thirty one")
STATES = ("Iowa", "Nebraska", "West Virginia", "New Mexico", "North Dakota", "Tennessee",
          "OREGON", "South Carolina")
KINDS = ("Street", "St", "Ave", "Road", "Blvd", "Circle", "Trail", "Lane", "Pkwy", "Way")


# ----------------------------------------------------------------------------------- places

@settings(max_examples=30, deadline=None)
@given(st.sampled_from(("P.O. Box {}", "PO Box {}", "POB {}", "Post Office Box {}",
                        "PO BX {}", "p.o. box #{}", "P.O. Drawer {}")), st.integers(2, 99999),
       st.sampled_from(("Mailing address is {} (no home delivery).", "send to {}, thanks")))
def test_post_office_box(box: str, n: int, template: str) -> None:
    clean(template.format(box.format(n)), str(n))


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(("Rural Route {}", "RR#{}", "R.R. {}", "rural route {} box 88",
                        "HC {} Box 12", "Rt. {} Box 14", "RR {} Box 7")), st.integers(1, 99))
def test_rural_route(route: str, n: int) -> None:
    text = route.format(n)
    clean(f"Home is off {text}; long gravel drive.", text.split()[-1] if "Box" in text
          or "box" in text else str(n))


@settings(max_examples=30, deadline=None)
@given(unknown, st.sampled_from(KINDS), st.sampled_from(("Labs drawn at the clinic on {}.",
                                                        "Staying at the shelter on {} now.",
                                                        "lives off {}, no car")))
def test_street_without_a_number(name: str, kind: str, template: str) -> None:
    clean(template.format(f"{name} {kind}"), name)


@settings(max_examples=20, deadline=None)
@given(unknown, unknown, st.sampled_from(("", " St", " Ave")), st.sampled_from(("and", "&")))
def test_intersection(a: str, b: str, kind: str, joint: str) -> None:
    clean(f"Found down at the corner of {a}{kind} {joint} {b} by EMS.", a, b)


@settings(max_examples=30, deadline=None)
@given(unknown, st.sampled_from(("", "Port ", "North ", "Lake ")), st.sampled_from(STATES),
       st.sampled_from(("Spent the winter in {}, {}.", "Just got back from {} {} today.",
                        "Address on file [ADDRESS] {} {} verified.")))
def test_town_before_a_state_written_out(town: str, prefix: str, state: str,
                                         template: str) -> None:
    clean(template.format(f"{prefix}{town}", state), town)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 9999), unknown, unknown, st.sampled_from(("", " APT 3C", " #210")),
       st.sampled_from(("OR", "KS", "TN")), st.sampled_from(("", "SOUTH ")))
def test_town_after_a_street_before_a_state_code(n: int, street: str, town: str, unit: str,
                                                 state: str, prefix: str) -> None:
    clean(f"ADDR: {n} {street.upper()} DRIVE{unit}, {prefix}{town.upper()}, {state} - "
          "CONFIRMED", town.upper())


@settings(max_examples=20, deadline=None)
@given(unknown, st.sampled_from(("neighborhood", "neighbourhood", "district", "section")))
def test_neighbourhood_by_its_word(name: str, word: str) -> None:
    clean(f"Stays with her aunt in the {name} {word}.", name)


@settings(max_examples=30, deadline=None)
@given(lower_unknown, st.sampled_from(("", "lake ", "port ", "north ")),
       st.sampled_from(("grew up in {}, moved back", "hi im at my sisters in {} til fri",
                        "born and raised in {} and", "staying at her moms in {} for now")))
def test_lower_case_town_after_a_strong_cue(town: str, prefix: str, template: str) -> None:
    clean(template.format(f"{prefix}{town}"), town)


def test_place_traps_stay() -> None:
    kept("A: RR 18, SpO2 96 % on RA. Lasix 40 mg PO daily. Take Route 9 home. Box 3 of the "
         "form left blank. Moved to Bed 12 on Unit 4 West. Seen on call today. "
         "She grew up in poverty and was raised in foster care. Sit in the waiting area. "
         "Referred to Cardiology, Iowa City campus. Seen on Ward Rounds.")


# ------------------------------------------------------------------------------------ names

@settings(max_examples=30, deadline=None)
@given(st.sampled_from(("Dtr", "dtr", "Dau", "Hsb", "Sis", "Bro", "Gdtr", "Gson", "Wf",
                        "Stepdtr", "Neph")), unknown)
def test_name_after_an_abbreviated_relation(kin: str, name: str) -> None:
    clean(f"{kin} {name} at bedside overnight, aware of plan.", name)


@settings(max_examples=30, deadline=None)
@given(unknown, st.sampled_from(GIVEN), st.booleans(), st.integers(1, 40))
def test_bed_table_name_cell(family: str, given_name: str, upper: bool, bed: int) -> None:
    fam = family.upper() if upper else family
    clean(f"Bed {bed} | {fam}, {given_name.title()} | 81F | CHF exac | DNR", family.upper()
          if upper else family)


@settings(max_examples=20, deadline=None)
@given(unknown, st.sampled_from(GIVEN), unknown, st.sampled_from(("/", "&", ";")))
def test_name_listed_after_a_name(first: str, given_name: str, family: str, sep: str) -> None:
    clean(f"cc: Dr {first} {sep} {given_name.title()} {family}\nEncl: discharge summary",
          family)


@settings(max_examples=20, deadline=None)
@given(lower_unknown, st.sampled_from(("ok thank u for calling back", "thx so much",
                                       "thanks again", "cheers, see you")),
       st.sampled_from(("", " see u tues")))
def test_lower_case_sign_off_after_thanks(name: str, thanks: str, tail: str) -> None:
    clean(f"{thanks}\n{name}{tail}", name)


def test_name_traps_stay() -> None:
    kept("Daughter at bedside, husband updated. Bed 4 | CHF, DM | stable |\n"
         "Attending [NAME] / team B. thanks\nplease call back tomorrow\n"
         "cc: PCP and chart\nEncl: discharge summary")


# ------------------------------------------------------------------------------------ dates

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(MONTHS), st.sampled_from(CARDINALS), st.booleans(),
       st.sampled_from(("follow up on {} per the patient", "seen {} at home",
                        "she fell on {} and did not go to the er")))
def test_month_with_a_cardinal_day(month: str, day: str, the: bool, template: str) -> None:
    if month in ("may", "march") and " on {}" not in template:
        template = "she fell on {} at home"
    date = f"{month} the {day}" if the else f"{month} {day}"
    clean(template.format(date), day.split()[-1].split("-")[-1])


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(("mon", "tues", "weds", "thurs", "fri", "Weds.", "THURS")),
       st.integers(1, 12), st.integers(1, 28))
def test_typed_weekday_before_a_date(day: str, m: int, d: int) -> None:
    clean(f"can i come in {day} {m}/{d} in the afternoon instead", day.rstrip("."))


def test_date_traps_stay() -> None:
    kept("She may two-step at the party. Walked march twelve miles for charity. "
         "Took august ten tablets of it. Sat in the chair.")
