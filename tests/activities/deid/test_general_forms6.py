"""Issue 12's general forms of recall6 (the forms ``fresh-6`` found missing): each form
generated in its variants must be gone from the scrubber's output by the column path and the
one-text path alike; the traps next to them must survive whole.

Forms: a season or a quarter with its year, a part of a month (``mid-March``), a range of
two month/day pairs in one month, an ISO year-month; an apostrophe inside a URL's path;
towns in a facility's name, before ``-based``, after a direction, after a verb of living or
moving (capitalized, or in lower case when the gazetteer knows them), a house number and a
street without suffix after a home cue, intersections, a town and a ZIP after a colon, a
town after a street and a semicolon; ``LAST, I`` after a role header, initials before a
credential, an initial and a family name, user names, quoted nicknames, particles after a
title, a word hyphenated to a name, a lower-case given name after a relation. Traps:
``q2h``, ``fall precautions``, strength scores ``4/5-5/5``, ``Evidence-based``,
``Cardiac Rehab``, ``north of baseline``, organisms written ``C. Diff``, ``BP, HR``,
``ROM, PT``, ``user error``, ``son is coming``.
"""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid.safelist import vocabulary
from tests.activities.deid.test_general_forms5 import MONTHS, both, gone, kept, words

SEASONS = ("spring", "summer", "fall", "autumn", "winter", "Summer", "WINTER")
KINDS = ("General", "Memorial", "Regional Medical Center", "Community Hospital", "Dialysis",
         "Rehab", "Urgent Care", "Clinic")
CREDS = ("RN", "DPT", "OTR/L", "LCSW", "CCRC", "NP", "PA-C", "MD", "RD", "PT")
#: Made-up words that are no English word either (a single English word before a facility
#: word, ``Mercy General``, stays unless the gazetteer knows it as a place).
towns = words.filter(lambda w: w.lower() not in vocabulary()[0])
RELATIONS = ("son", "daughter", "niece", "wife", "brother", "roommate")


# ---------------------------------------------------------------------------------- dates

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SEASONS), st.booleans(), st.integers(1930, 2029),
       st.sampled_from(("Started HD in the {}.", "Last hospitalized {}", "{}: first visit")))
def test_season_with_a_year(season: str, of: bool, y: int, template: str) -> None:
    text = template.format(f"{season} of {y}" if of else f"{season} {y}")
    for out in both(text):
        assert season not in out and "[DATE]" in out, (text, out)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1930, 2029), st.sampled_from((" ", "-", "/", " of ")),
       st.booleans())
def test_quarter_with_a_year(q: int, y: int, sep: str, year_first: bool) -> None:
    date = f"{y}{sep.strip() or ' '}Q{q}" if year_first and sep != " of " else f"Q{q}{sep}{y}"
    gone(f"Enrolled {date}, arm B.", f"Q{q}")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("mid", "early", "late")), st.sampled_from(("-", " ")),
       st.sampled_from(MONTHS))
def test_part_of_a_month(part: str, sep: str, month: str) -> None:
    text = f"Expect d/c to SNF {part}{sep}{month}."
    for out in both(text):
        assert month not in out and out.endswith("."), (text, out)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 27), st.integers(1, 4), st.sampled_from(("-", " - ")))
def test_range_in_one_month(m: int, d: int, n: int, sep: str) -> None:
    gone(f"Inpatient {m}/{d}{sep}{m}/{d + n} for CHF exac.", f"{m}/{d}", f"{m}/{d + n}",
         str(d + n))


@settings(max_examples=40, deadline=None)
@given(st.integers(1930, 2029), st.integers(1, 12))
def test_iso_year_month(y: int, m: int) -> None:
    gone(f"Screening visit {y}-{m:02d}; eligible.", f"{y}-{m:02d}")


@given(st.sampled_from(("q2h", "q4h", "Q2H")), st.integers(1, 5))
def test_date_traps_stay(q: str, n: int) -> None:
    kept(f"Neuro checks {q}, turn {q}; fall precautions; spring-loaded cane; strength "
         f"{n}/5 throughout; had a fall in March.")


# --------------------------------------------------------------------------------- places

@settings(max_examples=60, deadline=None)
@given(towns, st.sampled_from(("", "Fort ", "New ", "St. ", "Mount ", "North ")),
       st.sampled_from(KINDS),
       st.sampled_from(("Transferred from {} on HD.", "Dialyzes at the {} unit MWF.",
                        "Seen at {} last week.")))
def test_town_in_a_facility_name(town: str, prefix: str, kind: str, template: str) -> None:
    text = template.format(f"{prefix}{town} {kind}")
    gone(text, town)
    for out in both(text):
        assert kind.split()[-1] in out, (text, out)


@settings(max_examples=40, deadline=None)
@given(towns, st.sampled_from(("", "Lake ", "Port ")))
def test_town_before_based(town: str, prefix: str) -> None:
    gone(f"{prefix}{town}-based daughter manages meds.", town)


@settings(max_examples=40, deadline=None)
@given(towns, st.integers(2, 90), st.sampled_from(("north", "south", "east", "west",
                                                    "northeast", "SW")))
def test_town_after_a_direction(town: str, n: int, way: str) -> None:
    text = f"Farm {n} mi {way} of {town}."
    gone(text, town)
    for out in both(text):
        assert out.endswith("."), (text, out)


@settings(max_examples=40, deadline=None)
@given(towns, st.sampled_from(("Family lives near {}, an hour away.", "moving to {} in May",
                               "Daughter moved to {} last year.")))
def test_town_after_living_or_moving(town: str, template: str) -> None:
    gone(template.format(town), town)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(("kokomo", "chillicothe", "mount vernon", "tupelo", "wenatchee")),
       st.sampled_from(("moving to {} next month", "lives in {} w/ wife", "family near {}")))
def test_lower_case_town_the_gazetteer_knows(town: str, template: str) -> None:
    gone(template.format(town), *town.split())


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 99999), words, st.sampled_from(("Home at {}, 2nd floor.",
                                                      "lives at {} with son", "Addr: {}")))
def test_house_number_and_street_without_suffix(n: int, street: str, template: str) -> None:
    gone(template.format(f"{n} {street}"), street, str(n))


@settings(max_examples=40, deadline=None)
@given(words, st.sampled_from(("1st", "5th", "42nd", "Main", "Elm")),
       st.sampled_from(("and", "&", "/")))
def test_intersection(a: str, b: str, join: str) -> None:
    gone(f"Found down at the corner of {a} {join} {b} by EMS.", a, b)


@settings(max_examples=40, deadline=None)
@given(towns, st.integers(10000, 99999), st.sampled_from(("Mailing: {}", "Town:  {}\n")))
def test_town_and_zip_after_a_colon(town: str, z: int, template: str) -> None:
    gone(template.format(f"{town} {z}"), town, str(z))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 9999), words, st.sampled_from(("Dr", "Ave", "Road")), words)
def test_town_after_a_street_and_a_semicolon(n: int, street: str, suffix: str,
                                             town: str) -> None:
    text = f"Addr: {n} {street} {suffix}; {town}; OH"
    gone(text, town, street)
    for out in both(text):
        assert out.endswith("; OH"), (text, out)  # the state stays


def test_place_traps_stay() -> None:
    kept("Evidence-based care; Home-based PT. Seen at the Cardiac Rehab center. Pt to Home "
         "Health. Family in to visit. Moving to Assisted Living next week. Pain north of "
         "baseline. Hx Lyme disease, Rocky Mountain spotted fever titers sent.")


# ---------------------------------------------------------------------------------- names

@settings(max_examples=40, deadline=None)
@given(words, st.sampled_from("ABCDEJKLMN"), st.sampled_from(("REFERRING MD", "PCP",
                                                              "Attending", "Signed by")))
def test_last_initial_after_a_role_header(family: str, initial: str, role: str) -> None:
    gone(f"{role}: {family.upper()}, {initial}", family.upper())


@settings(max_examples=40, deadline=None)
@given(st.text("ABCDEFGHJKLMNPRSTW", min_size=2, max_size=3), st.sampled_from(CREDS),
       st.sampled_from(("Note cosigned - {}", "{}\nnext", "Reviewed by {}.")))
def test_initials_before_a_credential(initials: str, cred: str, template: str) -> None:
    # initials spelled like the credential (RD, RD) cannot be told apart in the output
    assume(initials not in re.findall(r"[A-Za-z]+", cred))
    gone(template.format(f"{initials}, {cred}"), initials)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from("ABCDEJKLMN"), words, st.sampled_from(CREDS),
       st.sampled_from(("Co-treated with {} today.", "Pt tolerated session well.\n{}, {}",
                        "Session with {} ({})")))
def test_initial_and_family_name(initial: str, family: str, cred: str, template: str) -> None:
    gone(template.format(f"{initial}. {family}", cred), family)


@settings(max_examples=40, deadline=None)
@given(st.from_regex(r"[a-z]{1,2}[a-z]{4,9}[0-9]{0,2}", fullmatch=True),
       st.sampled_from(("Order entered by user {} at 0742.", "login: {}", "username {}")))
def test_user_names(user: str, template: str) -> None:
    if user in vocabulary()[0]:  # an English word after "user" stays ("user error")
        return
    gone(template.format(user), user)


@settings(max_examples=40, deadline=None)
@given(words, st.sampled_from(("Butch", "Moose", "Birdie", "Duke", "Peaches")), words)
def test_quoted_nickname_inside_a_name(given_name: str, nick: str, family: str) -> None:
    gone(f'{given_name} "{nick}" {family} in chair 6.', nick)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Dr", "Mrs.", "Ms", "Mr.")),
       st.sampled_from(("de la", "van der", "van", "von", "De", "di")), words)
def test_particle_after_a_title(title: str, particle: str, family: str) -> None:
    gone(f"Discussed with {title} {particle} {family} today.", family)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(RELATIONS), st.sampled_from(("jakob", "jane", "sacha", "mehmet", "grace")),
       st.sampled_from(("coming", "called", "is", "will")))
def test_lower_case_given_name_after_a_relation(relation: str, name: str, verb: str) -> None:
    # names the dictionary holds (``stefaan`` is not in it: a known miss, said in the report)
    gone(f"{relation} {name} {verb} at 3 to learn transfers", name)


def test_name_traps_stay() -> None:
    kept("Findings: CKD, A fib; BP, HR stable. Reviewed ROM, PT to follow. Culture: C. Diff "
         "positive, E. Coli, S. Aureus. User error; login failed. son is coming at 3. wife "
         "will call. Protocol v3.2 (PT) seen. Parkinson gait; Foley removed; Bell's palsy.")
