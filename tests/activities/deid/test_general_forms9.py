"""Issue 12's general forms of recall9 (the forms ``fresh-9`` found missing): each form
generated in its variants must be gone from the scrubber's output by the column path and the
one-text path alike, and the residual check (which reads the output with the same rules)
must find nothing left in the column path's output; the traps next to them must survive
whole.

Forms: a timestamp's time joined to its date, the end of a range, a part of a month, lower-
case ``may`` with a spoken ordinal; a birthplace or home town, a town's residents, a lower-
case town with a direction, a county abbreviated, an HL7 town, a street's quadrant, a town's
line under an address, a ZIP after its word; lists of people, staff by role in lower case,
a family by its name, a nickname in parentheses, particles, a self-introduction, a sign-off
run into the next words, lower-case names after ``spoke with`` or a relation (``nelson``).
Traps: ``Dia de los Muertos``, ``van der Waals forces``, ``Jan 3 10:30``, ``the 3rd to the
5th rib`` is not a date range of days but stays out of the forms, ``end of the week``, ``a
Texas native``, ``Present: pt and daughter``, ``the family``, ``charge nurse aware``.
"""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import dateruns, peopleforms, premarks, townforms
from medpipe.activities.pseudonymize.scrub import scrub_column
from medpipe.activities.residual import scan
from tests.activities.deid.test_general_forms5 import both, gone, kept
from tests.activities.deid.test_general_forms7 import GIVEN, unknown

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
STATES = ("MI", "WI", "MN", "TX", "WY", "NV", "ME", "PA", "ok", "wi", "mn")
SPOKEN = ("first", "second", "third", "fourth", "ninth", "twelfth", "twentieth",
          "twenty second", "twenty-third", "thirtieth")
ROLES = ("charge nurse", "cna", "rn", "lpn", "scribe", "aide", "chaplain", "case manager")
RELATIONS = ("son", "daughter", "wife", "husband", "sister", "brother", "niece", "grandson")


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def clean(text: str, *secrets: str) -> None:
    """Gone from both paths, and the residual check finds nothing in the column's output."""
    gone(text, *secrets)
    out = str(scrub_column(pa.array([text]), None, Counter())[0].as_py())
    assert scan(out, None, free_text=True) == Counter(), (text, out)


lower_unknown = unknown.map(str.lower)


# ---------------------------------------------------------------------------------- dates

@settings(max_examples=20, deadline=None)
@given(st.integers(1935, 2029), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
       st.integers(0, 59), st.integers(0, 59), st.sampled_from(("Z", "", ".123Z", "-05:00")),
       st.booleans())
def test_timestamp_time_joined_to_its_date(y: int, m: int, d: int, hh: int, mm: int, ss: int,
                                           zone: str, iso: bool) -> None:
    time = f"{hh:02d}:{mm:02d}:{ss:02d}{zone}"
    stamp = f"{y}-{m:02d}-{d:02d}T{time}" if iso else f"{m:02d}/{d:02d}/{y} {time}"
    clean(f"[{stamp}] INFO ADT^A03 sent to registry", f"{mm:02d}:{ss:02d}")


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(MONTHS), st.integers(1, 20), st.integers(1, 8),
       st.sampled_from(("through", "to", "thru", "until", "-")), st.booleans())
def test_end_of_a_range(month: str, d: int, n: int, word: str, ordinal_start: bool) -> None:
    end = _ord(d + n)
    start = f"the {_ord(d)}" if ordinal_start else f"{month} {_ord(d)}"
    joint = "-" if word == "-" else f" {word} "
    clean(f"Home O2 paused from {start}{joint}the {end} while in the hospital.", end,
          _ord(d))


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(MONTHS), st.sampled_from(("end of", "beginning of", "first week of",
                                                 "last week of", "mid-", "middle of")),
       st.booleans())
def test_part_of_a_month(month: str, part: str, lower: bool) -> None:
    m = month.lower() if lower else month
    phrase = f"{part}{m}" if part.endswith("-") else f"{part} {m}"
    clean(f"wound healed by {phrase} per daughter", m)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(SPOKEN), st.booleans(), st.sampled_from(("on", "by", "since")))
def test_lower_case_may_with_a_spoken_ordinal(day: str, the: bool, cue: str) -> None:
    date = f"may the {day}" if the else f"may {day}"
    clean(f"she fell {cue} {date} and did not go to the er", day.split()[-1].split("-")[-1])


def test_date_traps_stay() -> None:
    kept("Therapist came at 10:30 and again at 3:30 pm. Results by end of the week. She may "
         "first need a walker. You may second the motion. Smoker since 2019.")


# ----------------------------------------------------------------------------------- places

@settings(max_examples=20, deadline=None)
@given(unknown, st.sampled_from(("Born in {}", "Hometown: {}", "Place of birth: {}",
                                 "Raised in {}", "Commutes from {}, WI", "Drove down from {}")))
def test_birthplace_or_home_town(town: str, template: str) -> None:
    clean(template.format(town) + " and works part time.", town)


@settings(max_examples=20, deadline=None)
@given(unknown, st.sampled_from(("Lifelong", "A", "Former")),
       st.sampled_from(("resident", "native")), st.sampled_from(("", "North ", "Port ")))
def test_a_towns_resident(town: str, lead: str, kind: str, prefix: str) -> None:
    clean(f"{lead} {prefix}{town} {kind}, here with her son.", town)


@settings(max_examples=20, deadline=None)
@given(lower_unknown, st.sampled_from(("north", "east", "w.", "new", "port", "lake")),
       st.sampled_from(("lives near {}", "moved to {} last spring", "family lives in {} mi")))
def test_lower_case_town_with_a_direction(word: str, prefix: str, template: str) -> None:
    clean(template.format(f"{prefix} {word}") + " and visits", word)


@settings(max_examples=20, deadline=None)
@given(lower_unknown, st.sampled_from(("co", "co.", "cty", "county")),
       st.sampled_from(("lives in {}, has medicaid", "medicaid case open in {}, since may",
                        "medicaid through {} dhs, case worker assigned")))
def test_county_abbreviated(name: str, kind: str, template: str) -> None:
    clean(template.format(f"{name} {kind}"), name)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 9999), unknown, st.sampled_from(("RD", "AVE", "ST", "LN")), unknown,
       st.sampled_from(("", "NORTH ")), st.sampled_from(STATES[:8]))
def test_hl7_town(n: int, street: str, suffix: str, town: str, prefix: str, state: str) -> None:
    clean(f"PID-11 {n} W {street.upper()} {suffix}^^{prefix}{town.upper()}^{state}^^USA",
          town.upper())


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(("PID-11", "NK1-4", "GT1-5", "PID-11.1")), st.integers(2, 9999), unknown,
       st.sampled_from(("RD", "AVE", "ST", "LN")), st.sampled_from(("", "W ", "NORTH ")))
def test_hl7_field_before_a_street_stays(field: str, n: int, street: str, suffix: str,
                                         direction: str) -> None:
    """The field's number is no house number (``PID-11 4521 W MAPLE RD``): the street goes,
    the field's name and number stay, on both paths and in the check's eyes."""
    text = f"{field} {n} {direction}{street.upper()} {suffix}^^"
    for out in both(text):
        assert out.startswith(f"{field} [ADDRESS]"), (text, out)
    clean(text, street.upper())


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 9999), unknown, st.sampled_from(("Ave", "St", "Rd", "Dr")),
       st.sampled_from(("NE", "NW", "SE", "SW")))
def test_quadrant_after_a_street(n: int, street: str, suffix: str, quadrant: str) -> None:
    clean(f"Home visit made to {n} S {street} {suffix} {quadrant}, dog in the yard.", quadrant)


@settings(max_examples=20, deadline=None)
@given(st.integers(10, 9999), lower_unknown, st.sampled_from(("ave", "st", "ct", "dr")),
       lower_unknown, st.sampled_from(STATES), st.booleans())
def test_town_line_under_an_address(n: int, street: str, suffix: str, town: str, state: str,
                                    zip_: bool) -> None:
    tail = " 49855" if zip_ else ""
    clean(f"new address:\n{n} e {street} {suffix}\n{town} {state}{tail}\nplease update chart",
          town)


@settings(max_examples=20, deadline=None)
@given(st.integers(10000, 99899), st.sampled_from(("zip is", "zipcode", "postal code:",
                                                   "Zip code =")))
def test_zip_after_its_word(z: int, word: str) -> None:
    clean(f"{word} {z} per the insurance card", str(z))


def test_place_traps_stay() -> None:
    kept("A Texas native, here with her son. Born in March. Lives near the "
         "lake. Moved to new onset afib clinic. etoh co-ingestion denied. Hwy 12 is icy. "
         "New York Heart Association class II.")


# ------------------------------------------------------------------------------------ names

@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(GIVEN), unknown), min_size=2, max_size=4),
       st.sampled_from(("Present at the family meeting:", "Attendees:", "cc:", "Present:")))
def test_list_of_people(people: list[tuple[str, str]], header: str) -> None:
    items = [f"{g.title()} {f}" for g, f in people]
    listed = ", ".join(items[:-1]) + " and " + items[-1]
    clean(f"{header} {listed}.", *(f for _, f in people))


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(ROLES), lower_unknown)
def test_staff_by_role_in_lower_case(role: str, name: str) -> None:
    clean(f"{role} {name} notified of the fall at 0300", name)


@settings(max_examples=20, deadline=None)
@given(unknown, st.sampled_from(("family", "household", "kids")))
def test_family_by_its_name(name: str, kind: str) -> None:
    clean(f"Met with the {name} {kind} about goals of care.", name)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(GIVEN), unknown, unknown, st.booleans())
def test_nickname_in_parentheses(first: str, nick: str, family: str, van: bool) -> None:
    last = f"Van {family}" if van else family
    clean(f"Patient {first.title()} ({nick}) {last} seen at home today.", nick, family)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(("Mr.", "Dr.", "Mrs")), st.sampled_from(GIVEN),
       st.sampled_from(("van der", "ter", "zu", "bin", "abu", "al-", "dos", "von")), unknown,
       st.booleans())
def test_particles(title: str, first: str, particle: str, family: str, titled: bool) -> None:
    name = f"{particle}{family}" if particle.endswith("-") else f"{particle} {family}"
    lead = title if titled else first.title()
    clean(f"Locum covering for {lead} {name} this month.", family)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(GIVEN), lower_unknown, st.sampled_from(("doctor ", "dr ")),
       st.sampled_from(("dictating a home visit note", "calling from the clinic")))
def test_self_introduction(first: str, family: str, title: str, tail: str) -> None:
    clean(f"this is {title}{first} {family} {tail}", first, family)


@settings(max_examples=20, deadline=None)
@given(unknown, st.booleans())
def test_sign_off_run_into_the_next_words(name: str, newline: bool) -> None:
    lead = "Plan discussed.\n-- " if newline else "Plan discussed -- "
    clean(f"{lead}{name} dictated by voice, not proofread", name)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(("nelson", "wall", "slater", "nova", "jan-erik")), lower_unknown,
       st.sampled_from(RELATIONS))
def test_lower_case_name_after_a_relation_or_spoke_with(name: str, other: str,
                                                        relation: str) -> None:
    clean(f"her {relation} {name} is the one who fills the pill box", name)
    clean(f"spoke with {other} on the phone, she will bring the meds list", other)


def test_name_traps_stay() -> None:
    kept("Family plans to celebrate Dia de los Muertos at home. Discussed van der Waals forces "
         "with the spacer. Present: pt and daughter. cc: file. Met with the family about "
         "goals of care. charge nurse aware of the fall. her son is the one who helps. spoke "
         "with pharmacy about the refill. -- Follow up in 2 weeks. this is a good plan with "
         "the team.")


# ------------------------------------------------------------------------------ the helper

@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="ab 0123456789/-:T", max_size=40))
def test_premarks_map_back_to_the_unmarked_text(tail: str) -> None:
    """An offset of the marked text outside a mark maps to the same character of the text."""
    folded = f"seen 2024-03-04T10:22 and 12 Elm St then {tail}"
    text, back = premarks.marked(folded, "[DATE]")
    i = 0
    while i < len(text):
        if re.match(r"\[[A-Z>0-9]+\]", text[i:]):
            i = text.index("]", i) + 1
            continue
        assert folded[back(i)] == text[i], (folded, text, i)
        i += 1


def test_the_modules_find_nothing_in_their_traps() -> None:
    traps = ("Dia de los Muertos", "van der Waals forces", "Jan 3 10:30", "a Texas native",
             "charge nurse aware", "the family")
    for rule in (dateruns, townforms, peopleforms):
        for t in traps:
            assert rule.find(t) == [], (rule.__name__, t)
