"""Issue 12's general forms of deid12f (the forms ``sealed-4``'s misses were, read once it was
no longer held out): each form generated in its variants, with values and sentences of
these tests' own, must be gone from the scrubber's output by the column path and the
one-text path alike, and the residual check must find nothing left in the column path's
output (``clean``); the traps next to them must survive whole (``kept``).

Forms: months after an age over 89, an ordinal birthday of 90 or more, a sex glued to an
age where a clause opens (``ageforms``); a date in digits inside a file name, a day and a
Roman month without a year, a range of days in one month (``dateshapes``), a part of a
month written ``wk`` (``dateruns``); a what3words address, a room in a residence hall, an
Australian town and postcode by its state, a Canadian unit-civic address (``placeshapes``),
a town after ``o/s`` (``geo``, ``townshapes``); a case reference with a year, a health
card's version code (``refshapes``); a name after a community's or a faith's title
(``titlenames``); a lower-case name after a relation and before what the person does, a
name in brackets after a relation, a lower-case given and family name after a clinician's
act and before a role (``relnames``); a name with a schwa (``normalize``). Traps: plain
English words and note words in the positions each rule reads.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import (
    ageforms,
    dateshapes,
    placeshapes,
    refshapes,
    relnames,
    titlenames,
)
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms5 import kept
from tests.activities.deid.test_general_forms7 import GIVEN, _ord, unknown
from tests.activities.deid.test_general_forms9 import clean
from tests.activities.deid.test_general_forms12e import NAMES

ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec",
          "January", "October")


# ------------------------------------------------------------------------------------ ages

@settings(max_examples=60, deadline=None)
@given(
    st.integers(90, 115),
    st.integers(1, 11),
    st.sampled_from(("y ", "y", " y ", "yr ")),
    st.sampled_from(("m", "mo", "mths", " months")),
    st.sampled_from(("Pt is {} today.", "{} old, frail.", "Referral: lady of {},\nlives alone.")),
)
def test_months_after_an_age_over_89(age: int, months: int, y: str, unit: str,
                                     template: str) -> None:
    value = f"{months}{unit}"
    clean(template.format(f"{age}{y}{value}"), str(age), value.strip())


@settings(max_examples=40, deadline=None)
@given(
    st.integers(90, 112),
    st.sampled_from(("Cake for her {} birthday on the ward.", "Celebrated his {} bday.",
                     "Wants to reach their {}.", "Grandchildren came for her {}, lovely.")),
)
def test_an_ordinal_birthday_of_90_or_more(age: int, template: str) -> None:
    clean(template.format(_ord(age)), _ord(age))


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from("MF"),
    st.integers(90, 112),
    st.sampled_from(("{}, fall at home, ?#NOF.", "Side room 3: {} for bloods.",
                     "Next on the list. {} with CAP.", "Bed 12 | {}, awaiting OT")),
)
def test_a_sex_glued_to_an_age_where_a_clause_opens(sex: str, age: int, template: str) -> None:
    clean(template.format(f"{sex}{age}"), str(age))


def test_age_traps_stay() -> None:
    kept(
        "Her 95th percentile for weight. The 90th centile. His 100th admission this year. "
        "Her 85th birthday next week. Dx: F90, ADHD. F90 ADHD combined type. Codes F90, "
        "F32.1 noted. M91.1 on the film. Lady of 89y 4m. On the 92nd day of treatment."
    )
    got = ageforms.find("Age 97y 4m. M93, for OT. Her 98th birthday.")
    assert got == [(4, 10, Placeholder.AGE), (29, 33, Placeholder.AGE),
                   (13, 15, Placeholder.AGE)]


# ----------------------------------------------------------------------------------- dates

@settings(max_examples=40, deadline=None)
@given(
    st.integers(1950, 2035),
    st.integers(1, 12),
    st.integers(1, 28),
    st.sampled_from(("Photo saved as wound_{}_heel.png.", "Upload: IMG_{}_0915.jpg",
                     "ECG file ecg-{}-a.pdf attached.")),
)
def test_a_date_inside_a_file_name(y: int, m: int, d: int, template: str) -> None:
    value = f"{y}{m:02d}{d:02d}"
    clean(template.format(value), value)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 28),
    st.integers(1, 12),
    st.sampled_from((".", "/", "-")),
    st.booleans(),
    st.sampled_from(("Smear taken {}, result awaited.", "Implant removed {}; no issues.",
                     "Next scan {}\nbring the card.")),
)
def test_a_day_and_a_roman_month_without_a_year(d: int, m: int, sep: str, upper: bool,
                                               template: str) -> None:
    roman = ROMAN[m - 1].upper() if upper else ROMAN[m - 1]
    value = f"{d}{sep}{roman}"
    clean(template.format(value), value)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 20),
    st.integers(1, 10),
    st.sampled_from((1, 2, 3, 4, 5, 6, 8, 9, 10, 11)),
    st.sampled_from(("-", "\u2013", " - ")),
    st.sampled_from(("On leave {}; cover arranged.", "Inpatient {} at the county site.",
                     "Camp {}, meds packed.")),
)
def test_a_range_of_days_in_one_month(first: int, more: int, month: int, dash: str,
                                      template: str) -> None:
    last = max(first + more, 13)
    value = f"{first}{dash}{last}/{month}"
    clean(template.format(value), f"{first}", f"{last}/{month}")


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(("1st", "2nd", "3rd", "4th", "last", "first", "final")),
    st.sampled_from(MONTHS),
    st.sampled_from(("Symptoms began {}.", "Off work since the {}, per wife.")),
)
def test_a_week_of_a_month_written_wk(which: str, month: str, template: str) -> None:
    clean(template.format(f"{which} wk of {month}"), month)


def test_date_traps_stay() -> None:
    kept(
        "IMG_12345678.jpg attached. See section 3.ii of the policy. Para 2.iv applies. "
        "Table 1.iii lists them. On day 3. X-Originating-IP header stripped. "
        "Take 2-3/4 tabs. Dose 15-20/5 mg."
    )
    kept("1.ii) check obs\n2.iv) chase bloods")
    got = dateshapes.find("Biopsy 20.viii; scan_20240229_1.png; away 17-22/8.")
    assert got == [(21, 29, Placeholder.DATE), (7, 14, Placeholder.DATE),
                   (42, 49, Placeholder.DATE)]


# ---------------------------------------------------------------------------------- places

_W3W = st.from_regex(r"[a-z]{3,8}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(
    _W3W, _W3W, _W3W,
    st.sampled_from(("Crew to meet at ///{} by the barn.", "Found at ///{}, alert.",
                     "w3w: {} (lay-by)", "what3words {} - rear gate")),
)
def test_a_what3words_address(a: str, b: str, c: str, template: str) -> None:
    value = f"{a}.{b}.{c}"
    clean(template.format(value), value)


@settings(max_examples=40, deadline=None)
@given(
    NAMES,
    st.sampled_from(("Hall", "Halls", "Lodge", "Residence")),
    st.sampled_from(("rm", "Room", "flat", "Rm.")),
    st.from_regex(r"[1-9][0-9]{1,2}[A-C]?", fullmatch=True),
    st.sampled_from(("Lives in {} with two others.", "RA found her in {}, drowsy.")),
)
def test_a_room_in_a_residence_hall(hall: str, kind: str, room_word: str, room: str,
                                    template: str) -> None:
    clean(template.format(f"{hall} {kind} {room_word} {room}"), hall, room)


@settings(max_examples=40, deadline=None)
@given(
    NAMES,
    st.integers(800, 7999),
    st.sampled_from(("NSW", "VIC", "QLD", "TAS", "WA", "SA")),
    st.sampled_from(("{town} {code}, {state}", "{town} {code} ({state})",
                     "{town} {state} {code}")),
    st.sampled_from(("Card address {}.", "Moved to {} in spring.", "Home: {}\nGP there.")),
)
def test_an_australian_town_and_postcode_by_its_state(town: str, code: int, state: str,
                                                      shape: str, template: str) -> None:
    value = shape.format(town=town, code=f"{code:04d}", state=state)
    clean(template.format(value), town, f"{code:04d}")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 99),
    st.integers(100, 99999),
    NAMES,
    st.booleans(),
    st.sampled_from(("lane", "Crescent", "view", "walks", "Drive", "forges", "rd")),
    st.sampled_from(("OT visit at {}; ring first.", "Card address: {}", "Moved to {}, Unit B.")),
)
def test_a_canadian_unit_civic_address(unit: int, civic: int, street: str, lower: bool,
                                       kind: str, template: str) -> None:
    name = street.lower() if lower else street
    value = f"{unit}-{civic} {name} {kind}"
    clean(template.format(value), f"{unit}-{civic}", name)


@settings(max_examples=30, deadline=None)
@given(unknown.map(lambda w: w + "side"),
       st.sampled_from(("Lives alone o/s {}.", "Farm o/s {}, 3 miles out.")))
def test_a_town_shaped_word_after_o_s(town: str, template: str) -> None:
    clean(template.format(town), town)


def test_place_traps_stay() -> None:
    kept(
        "See file:///usr.local.bin for the log. Teaching in Lecture Hall rm 2 at noon. "
        "Meeting in Town Hall room 4. Main Hall, room 3. Hb 1234 SA node. Hb 1234, SA node. "
        "About 20-300 min walk. Rounds 10-120 am run. Bloods o/s Monday. Referral o/s "
        "Pharmacy. e.g. a.m. doses."
    )
    got = placeshapes.find("At ///tall.green.kite; Oakhurst Hall rm 12; Inala QLD 4077.")
    assert got == [(3, 21, Placeholder.ADDRESS), (23, 42, Placeholder.ADDRESS),
                   (54, 58, Placeholder.ADDRESS), (44, 49, Placeholder.ADDRESS)]


# --------------------------------------------------------------------------------- numbers

@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(("PALS", "INC", "DATIX", "SG", "CMP", "LEGAL")),
    st.sampled_from(("/", "-")),
    st.integers(1998, 2030),
    st.from_regex(r"[0-9]{3,7}", fullmatch=True),
    st.sampled_from(("Complaint ref {}, closed.", "Incident {} raised.", "Case: {}\nowner: me")),
)
def test_a_case_reference_with_a_year(letters: str, sep: str, year: int, serial: str,
                                      template: str) -> None:
    value = f"{letters}{sep}{year}{sep}{serial}"
    clean(template.format(value), serial)


@settings(max_examples=40, deadline=None)
@given(
    st.from_regex(r"[0-9]{4}-[0-9]{3}-[0-9]{3}", fullmatch=True),
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    st.sampled_from(("Health card {} seen.", "HCN: {}\nexpired.", "Card no {}, valid.")),
)
def test_a_health_cards_version_code(number: str, code: str, template: str) -> None:
    clean(template.format(f"{number}-{code}"), number, code)


def test_number_traps_stay() -> None:
    kept("Per BTS/2017 guidance. ICD-10 coded. NICE NG/2019 followed. Call 911-OK.")
    assert refshapes.find("Ref PALS/2024/7702.") == [(4, 18, Placeholder.MRN)]


# ----------------------------------------------------------------------------------- names

@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("Chief", "Elder", "Alhaji", "Pastor", "Imam", "Sheikh", "Deacon")),
    NAMES,
    st.one_of(st.none(), NAMES),
    st.sampled_from(("Family spokesman is {}.", "{} (uncle) attended.", "Met with {}, agreed.")),
)
def test_a_name_after_a_community_title(title: str, first: str, second: str | None,
                                        template: str) -> None:
    who = first if second is None else f"{first} {second}"
    clean(template.format(f"{title} {who}"), first, *(() if second is None else (second,)))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("son", "dtr", "gdtr", "sis", "bro", "hsb", "carer", "flatmate", "nephew")),
    NAMES.map(str.lower),
    st.sampled_from(("at bedside now", "wants a call", "on the way in", "rang at 10",
                     "is driving up")),
)
def test_a_lower_case_name_after_a_relation(relation: str, name: str, does: str) -> None:
    clean(f"Pager: {relation} {name} {does}.", name)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(("Flatmate", "Friend", "Housemate", "neighbour")),
    st.one_of(NAMES, st.sampled_from(GIVEN).map(str.capitalize)),
    st.sampled_from(("{} says she is eating.", "Found by {} at 8am.")),
)
def test_a_name_in_brackets_after_a_relation(relation: str, name: str, template: str) -> None:
    clean(template.format(f"{relation} ({name})"), name)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(("seen by", "reviewed by", "d/w")),
    st.sampled_from(GIVEN),
    NAMES.map(str.lower),
    st.sampled_from(("{} (liaison psychiatry) today.", "{}, ward pharmacist.")),
)
def test_a_lower_case_name_after_a_clinicians_act(cue: str, first: str, family: str,
                                                  template: str) -> None:
    clean(template.format(f"{cue} {first} {family}"), first, family)


@settings(max_examples=30, deadline=None)
@given(NAMES, st.sampled_from(("D/w Dr {} on call.", "Letter from Mr {}, surgeon.")))
def test_a_name_with_a_schwa(name: str, template: str) -> None:
    value = name[:2] + "\u0259" + name[3:] if len(name) > 3 else name + "\u0259"
    clean(template.format(value), value)


def test_name_traps_stay() -> None:
    kept(
        "Chief Complaint: cough. Elder Abuse Team informed. Pastor visited. Chief Nurse "
        "aware. Rabbi available on request. Elder Care referral."
    )
    kept(
        "son unwell at home. dtr pls call. sis rn at work. Partner (NOK) aware. Son (eldest) "
        "here. seen by physio (ortho) and reviewed by the team, ok. Friend (Pharmacy) rang."
    )
    assert titlenames.find("Elder Hope Qaxu attended.") == [(6, 15, Placeholder.NAME)]
    assert relnames.find("gdtr bjartmor wants a call") == [(5, 13, Placeholder.NAME)]
