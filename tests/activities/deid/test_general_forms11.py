"""Issue 12's general forms of recall11 (the place forms a probe and ``fresh-11`` found
missing): each form generated in its variants must be gone from the scrubber's output by the
column path and the one-text path alike, and the residual check must find nothing left in
the column path's output (``clean``); the traps next to them must survive whole (``kept``).

Forms: a town-shaped word after a bare preposition, in any case, and one (or a prefix and a
word) before a state or ``resident`` (``townshapes``); a town before a civic agency, school,
park, store or municipal word, after ``Village of``, before ``area``/``-based``, and a
county in lower case (``civicforms``); a ZIP before its word, a Canadian postal code, a
census tract (``postforms``); a place after a verb of motion (``motionforms``); a
lower-case street in full after a home's verb (``homestreets``); people listed after an EMS
crew's header (``peopleforms``). Traps: states and countries after the same words
(``from West Virginia``, ``en route to New Mexico``, ``West Virginia, WV``, ``North
Carolina resident``), eponyms and scales (``placed in Trendelenburg``, ``Stanford type
A``, ``18 on the Hamilton scale``, ``Parkinson PD``), runs of English words before a kind
(``Central High School``, ``the waiting area``), ``the next
county``, ``GI tract``, ``2 court dates``, ``switched to Eliquis``, ``Crew: stable``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import english
from medpipe.activities.deid.words import NOT_NAMES
from tests.activities.deid.test_general_forms5 import kept
from tests.activities.deid.test_general_forms7 import GIVEN, unknown
from tests.activities.deid.test_general_forms9 import clean, lower_unknown

SUFFIXES = ("ton", "ville", "burgh", "borough", "chester", "field", "ford", "haven", "mouth",
            "port", "shire", "stad", "furt", "side", "view", "land", "bury", "fort")
PREFIXES = ("", "", "North ", "Port ", "Lake ", "New ", "East ")
STATES = ("KS", "MN", "OR", "TN", "Kansas", "Oregon", "West Virginia", "New Mexico")
KINDS = ("EMS", "Fire Rescue", "Fire Dept", "PD", "Police", "Sheriff's Office",
         "Middle School", "High School", "Elementary", "Public Library", "State Park",
         "Senior Center", "Walmart", "Township", "Twp", "Village", "Rescue Squad")
#: Family names of the dictionary that are also English words (``smith``, ``fields``): a
#: county named after one in lower case is no word the other rules would take.
FAMILY_WORDS = sorted(f for f in dictionary()[1] if f.isalpha() and f in english()
                      and f not in NOT_NAMES and f not in ("small", "north", "south", "east",
                                                           "west", "lower", "upper"))[:300]
#: A made-up town whose last word has a toponymic suffix (``Varomiville``).
shaped = st.tuples(unknown, st.sampled_from(SUFFIXES)).map(lambda t: t[0] + t[1])


# ----------------------------------------------------------------------------- town-shapes

@settings(max_examples=40, deadline=None)
@given(shaped, st.sampled_from(PREFIXES), st.booleans(),
       st.sampled_from(("Pt came in from {} by private vehicle.", "Lives two miles outside {}.",
                        "Family is near {} now.", "Farm is an hour north of {}, gravel road.",
                        "patient is from {} originally")))
def test_town_shaped_word_after_a_bare_preposition(town: str, prefix: str, lower: bool,
                                                   template: str) -> None:
    name = f"{prefix}{town}"
    name = name.lower() if lower else name
    clean(template.format(name), name.split()[-1])


@settings(max_examples=30, deadline=None)
@given(st.one_of(shaped, st.tuples(st.sampled_from(PREFIXES[2:]), unknown).map("".join)),
       st.sampled_from(STATES), st.sampled_from(("{}, {}", "{} {}", "{} resident", "{} native")))
def test_town_before_a_state_or_resident(town: str, state: str, template: str) -> None:
    text = template.format(town, state) if "{}, {}" in template or "{} {}" == template \
        else template.format(town)
    clean(f"{text}. Seen today.", town.split()[-1])


# ----------------------------------------------------------------------------- civic-forms

@settings(max_examples=40, deadline=None)
@given(unknown, st.sampled_from(PREFIXES), st.sampled_from(KINDS),
       st.sampled_from(("Transported by {} after a MVC.", "Son teaches at {}; he will call.",
                        "Picked up outside the {}, sitting on the curb.")))
def test_town_before_a_civic_kind(town: str, prefix: str, kind: str, template: str) -> None:
    clean(template.format(f"{prefix}{town} {kind}"), town)


@settings(max_examples=30, deadline=None)
@given(unknown, st.sampled_from(("the Village of {} has no pharmacy.", "Town of {} clerk.",
                                 "No family in the {} area.", "Sees a {}-based cardiologist.",
                                 "Resident of the Borough of {} per the face sheet.")))
def test_town_by_its_municipal_word_or_area(town: str, template: str) -> None:
    clean(template.format(town), town)


@settings(max_examples=30, deadline=None)
@given(st.one_of(lower_unknown, st.sampled_from(GIVEN), st.sampled_from(FAMILY_WORDS)),
       st.sampled_from(("the {} county health dept called", "jail in {} county",
                        "moved from {} parish")))
def test_county_in_lower_case(name: str, template: str) -> None:
    clean(template.format(name), name)


# ------------------------------------------------------------------------------ post-forms

@settings(max_examples=30, deadline=None)
@given(st.integers(10000, 99899), st.booleans(),
       st.sampled_from(("Lives in the {} zip code, rural.", "the {} zip", "Mostly the {} area.",
                        "{} postal code on file")))
def test_zip_before_its_word(z: int, plus4: bool, template: str) -> None:
    value = f"{z}-{z % 9000 + 1000}" if plus4 and "area" not in template else str(z)
    clean(template.format(value), str(z))


_LETTERS = "ABCEGHJKLMNPRSTVXY"


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(_LETTERS), st.integers(0, 9), st.sampled_from(_LETTERS),
       st.integers(0, 9), st.sampled_from(_LETTERS), st.integers(0, 9),
       st.sampled_from(("Home postal code {} {}.", "Winter address in NS, {}-{}, on file.",
                        "postal code: {}{}")))
def test_canadian_postal_code(a: str, b: int, c: str, d: int, e: str, f: int,
                              template: str) -> None:
    first, second = f"{a}{b}{c}", f"{d}{e}{f}"
    clean(template.format(first, second), first + second if "{}{}" in template else first)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 9999), st.integers(1, 99),
       st.sampled_from(("Home is in census tract {}, a food desert.", "tract # {} flagged",
                        "block group {} of the survey")))
def test_census_tract(n: int, frac: int, template: str) -> None:
    value = f"{n}.{frac:02d}" if "tract" in template else str(n)
    clean(template.format(value), value)


# ---------------------------------------------------------------------------- motion-forms

@settings(max_examples=40, deadline=None)
@given(unknown, st.booleans(),
       st.sampled_from(("Pt came in from {} by private vehicle.", "Diverted en route to {}.",
                        "patient was brought in from {} by her son", "Flew back to {} today.",
                        "Driving home from {} when the pain started.")))
def test_place_after_a_verb_of_motion(town: str, lower: bool, template: str) -> None:
    name = town.lower() if lower else town
    clean(template.format(name), name)


# ---------------------------------------------------------------------------- home-streets

@settings(max_examples=30, deadline=None)
@given(st.integers(2, 99999), st.sampled_from(("church", "old mill", "birch", "quarry")),
       st.sampled_from(("street", "road", "avenue", "lane", "drive", "court", "way")),
       st.sampled_from(("she lives at {} with her husband", "address is {} per the son",
                        "moved to {} last month", "address: {}")))
def test_lower_case_street_after_a_home_verb(n: int, street: str, kind: str,
                                             template: str) -> None:
    clean(template.format(f"{n} {street} {kind}"), str(n))


# ----------------------------------------------------------------------------------- traps

def test_place_traps_stay() -> None:
    kept("Pt is from West Virginia originally; moved from Canada as a child. "
         "Family en route to New Mexico. Placed in Trendelenburg for the line. "
         "Stanford type A dissection. Scored 18 on the Hamilton scale. Hx of Parkinson PD. "
         "Seen at Central High School by the nurse today. "
         "Waits in the waiting area. Moved to the next county over. "
         "Switched to Eliquis. GI tract intact. Has 2 court dates. Crew: stable. "
         "North Carolina resident. Address WV, West Virginia.")


# ------------------------------------------------------------------------------ crew lists

#: Headers of an EMS run sheet that list its crew.
CREW_HEADS = ("Medic 12 crew:", "Crew:", "On scene:", "Responders:", "crew members:")


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(GIVEN), unknown, st.sampled_from(CREW_HEADS))
def test_names_after_a_crew_header(given_name: str, family: str, head: str) -> None:
    """Each crew member's name is gone, the role after ``/`` aside."""
    clean(f"{head} {given_name.title()} {family} / paramedic.", family)
