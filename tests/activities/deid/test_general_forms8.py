"""Issue 12's general forms of recall8 (the forms ``fresh-8`` found missing): each form
generated in its variants must be gone from the scrubber's output by the column path and the
one-text path alike; the traps next to them must survive whole.

Forms: a season with a two-digit year, an ISO date with its time, a spelled ordinal of
lower-case ``may``, a month-day with a dash after a date cue, an ordinal after a scheduling
cue; crossings of streets and routes, a town after an address and ``in``, towns by a place
prefix or a feature word after a cue, lower-case counties, a ZIP alone on a line of an
address block; a name after a dash on its own line or under a valediction, a signature, a
possessive before a relation, nicknames in quotes, name words after a lower-case title, a
salutation with particles, a lower-case name after ``patient``, Spanish titles and
particles, Gaelic names with initials, a relative's lower-case given name. Traps: ``on 2-3
L``, ``from 2-3 pm``, ``the 3rd floor``, ``3rd and 4th digits``, ``from New York``, ``near
the falls``, ``Mount Sinai``, ``O Negative``, ``Signed orders``, ``Dear colleague``,
``Parkinson's disease``, ``patient education``, ``-- Follow up``.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import letterforms
from medpipe.activities.residual import scan
from tests.activities.deid.test_general_forms5 import both, gone, kept
from tests.activities.deid.test_general_forms7 import GIVEN, unknown

SEASONS = ("spring", "summer", "autumn", "winter", "Summer", "Winter")
FEATURES = ("falls", "city", "springs", "grove", "rapids", "land", "island", "hill", "ridge",
            "plains", "heights", "creek", "junction")
PREFIXES = ("St.", "Saint", "Fort", "Ft.", "Mount", "Mt.", "Port", "New", "North", "Lake")
SUFFIXES = ("St", "Ave", "Rd", "Dr", "Blvd", "Ln")
ROUTES = ("Hwy 9", "Route 30", "State Route 4", "US-20", "County Rd 7", "Rt 1")
RELATIONS = ("son", "daughter", "wife", "husband", "granddaughter", "nephew", "partner")
CREDENTIALS = ("MD", "DO", "NP", "RN", "MSW", "LCSW", "PA-C")


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def lower_unknown() -> st.SearchStrategy[str]:
    return unknown.map(str.lower)


# ---------------------------------------------------------------------------------- dates

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SEASONS), st.integers(0, 99), st.booleans(),
       st.sampled_from(("Last flare was {}, none since.", "stroke in {} with weakness")))
def test_season_with_a_two_digit_year(season: str, yy: int, of: bool, template: str) -> None:
    text = template.format(f"{season} of '{yy:02d}" if of else f"{season} '{yy:02d}")
    gone(text, season, f"'{yy:02d}")


@settings(max_examples=40, deadline=None)
@given(st.integers(1935, 2029), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
       st.integers(0, 59), st.booleans())
def test_iso_date_with_its_time(y: int, m: int, d: int, hh: int, mm: int, secs: bool) -> None:
    t = f"{hh:02d}:{mm:02d}" + (":00" if secs else "")
    gone(f"Specimen received {y}-{m:02d}-{d:02d} {t} by courier.", f"{y}-{m:02d}-{d:02d}", t)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(("first", "fourth", "twelfth", "twentieth", "twenty-first")))
def test_spelled_ordinal_of_lower_case_may(day: str) -> None:
    gone(f"dictated she was seen on the {day} of may by her pcp", day, "may")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 31),
       st.sampled_from(("ready on {}", "pharmacy says it will be ready on {}.", "due by {}, ok",
                        "refill on {} and then stop", "ready on {} pm")))
def test_month_day_with_a_dash_after_a_cue(m: int, d: int, template: str) -> None:
    if template.endswith("pm") and d <= 12:
        d += 12
    gone(template.format(f"{m}-{d}"), f"{m}-{d}")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 31), st.sampled_from(("Appointment rescheduled to the {} because of snow.",
                                            "Booked for the {}.", "moved to the {} at 9")))
def test_ordinal_after_a_scheduling_cue(d: int, template: str) -> None:
    gone(template.format(_ord(d)), _ord(d))


def test_date_traps_stay() -> None:
    kept("Wean O2 on 2-3 L NC. Nap from 2-3 pm. Take on 1-2 tabs prn. Referred to the 3rd "
         "floor for the 2nd time. Numbness of the 3rd and 4th digits; grade 3/4 toxicity.")


# ----------------------------------------------------------------------------------- places

@settings(max_examples=40, deadline=None)
@given(unknown, st.sampled_from(SUFFIXES), unknown, st.sampled_from(SUFFIXES),
       st.sampled_from(("&", "and", "at")))
def test_crossing_of_named_streets(a: str, sa: str, b: str, sb: str, join: str) -> None:
    gone(f"MVC at {a} {sa} {join} {b} {sb}, restrained driver.", a, b)


@settings(max_examples=40, deadline=None)
@given(unknown, st.integers(1, 99), st.sampled_from(ROUTES), st.sampled_from(ROUTES))
def test_crossing_of_a_numbered_street_or_routes(a: str, n: int, r1: str, r2: str) -> None:
    gone(f"Bus stop at {a}/{_ord(n)} is where she waits.", a, _ord(n))
    gone(f"Pickup at the intersection of {r1} and {r2}, unit on scene.", r1, r2)


@settings(max_examples=40, deadline=None)
@given(st.integers(10, 9999), st.sampled_from(("elm", "oak", "larch")),
       st.sampled_from(("street", "avenue", "drive")), st.integers(1, 40), lower_unknown(),
       lower_unknown())
def test_town_after_an_address_and_in(n: int, w: str, suffix: str, apt: int, t1: str,
                                      t2: str) -> None:
    gone(f"she lives at {n} {w} {suffix} apartment {apt} in {t1} {t2} with her daughter",
         t1, t2)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(PREFIXES), unknown,
       st.sampled_from(("Drives in from {} every week.", "Records from the {} clinic, no reply.",
                        "grew up near {} and moved")))
def test_town_with_a_place_prefix(prefix: str, word: str, template: str) -> None:
    gone(template.format(f"{prefix} {word}"), word)


@settings(max_examples=40, deadline=None)
@given(lower_unknown(), st.sampled_from(FEATURES), st.booleans(),
       st.sampled_from(("grew up near {} and moved", "lives on a farm outside {} with no one",
                        "moved here from {} last year")))
def test_town_by_its_feature_word(word: str, feature: str, cap: bool, template: str) -> None:
    town = f"{word} {feature}".title() if cap else f"{word} {feature}"
    gone(template.format(town), town.split()[0])


@settings(max_examples=30, deadline=None)
@given(lower_unknown(), st.sampled_from(("county", "parish", "borough")))
def test_lower_case_county(word: str, kind: str) -> None:
    gone(f"family is from {word} {kind} originally", word)


@settings(max_examples=30, deadline=None)
@given(st.integers(10, 9999), unknown, st.sampled_from(SUFFIXES), unknown,
       st.integers(10000, 99999), st.booleans())
def test_zip_alone_on_a_line_of_an_address_block(n: int, street: str, suffix: str, town: str,
                                                 z: int, plus4: bool) -> None:
    code = f"{z}-1234" if plus4 else f"{z}"
    gone(f"Mailing address:\n{n} {street} {suffix}\nNorth {town}\n{code}\nPhone on file.",
         town, code)


def test_place_traps_stay() -> None:
    kept("Numbness of the 3rd and 4th digits. Slept near the falls. Lives in her city. "
         "Mount Sinai protocol for the taper. New York Heart Association class II; North "
         "American blastomycosis ruled out. Blood type O Negative. BP 128/82 at rest.")


# ------------------------------------------------------------------------------------ names

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GIVEN))
def test_name_after_a_dash_on_its_own_line(name: str) -> None:
    gone(f"Plan discussed with the family.\n-- {name.title()}\nCC: chart", name.title())


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Best,", "Kind regards,", "Thanks,", "Sincerely,", "Take care,")),
       unknown, unknown)
def test_name_under_a_valediction(word: str, first: str, last: str) -> None:
    gone(f"Please call with questions.\n{word}\n{first} {last}\nInternal Medicine", first, last)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("KM", "JA", "MD", "ML")), st.sampled_from(("mac", "mc", "o'", "")),
       lower_unknown(), st.sampled_from(CREDENTIALS))
def test_signature(initials: str, particle: str, family: str, cred: str) -> None:
    name = f"{particle}{family}" if particle in ("mc", "o'", "") else f"mac {family}"
    text = f"Signed: {initials} {name} {cred}"
    for out in both(text):
        assert family not in out and out.endswith(cred), (text, out)


@settings(max_examples=40, deadline=None)
@given(unknown, st.booleans(), unknown, st.sampled_from(RELATIONS))
def test_possessive_before_a_relation(a: str, double: bool, b: str, relation: str) -> None:
    name = f"{a}-{b}" if double else a
    gone(f"{name}'s {relation} is the health care proxy.", a)


@settings(max_examples=40, deadline=None)
@given(unknown, st.sampled_from(GIVEN), unknown, st.sampled_from(("'", '"')))
def test_nicknames_in_quotes(nick: str, first: str, last: str, q: str) -> None:
    gone(f"Everyone calls him {q}{nick}{q} and he prefers it.", nick)
    gone(f"Pt {first.title()} {q}{nick}{q} {last} is well known here.", first.title(), nick,
         last)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GIVEN), st.sampled_from(("mac an ", "mac ", "o'", "")), lower_unknown())
def test_name_words_after_a_lower_case_title(first: str, particle: str, family: str) -> None:
    gone(f"dictated by dr {first} {particle}{family} and not yet reviewed", first, family)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Dear Ms", "Hi Dr.", "Dear Dr")), st.sampled_from(("Nic", "Mac", "O")),
       st.sampled_from(("", "Giolla ", "an ")), unknown)
def test_salutation_with_particles(opening: str, particle: str, middle: str, word: str) -> None:
    gone(f"{opening} {particle} {middle}{word},\nYour appointment is confirmed.", word)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GIVEN), st.lists(lower_unknown(), min_size=1, max_size=3),
       st.sampled_from(("seen today for follow up", "is here with her son", "was seen")))
def test_lower_case_name_after_patient(first: str, rest: list[str], tail: str) -> None:
    gone(f"patient {first} {' '.join(rest)} {tail}", first, *rest)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Sra.", "Sr.", "Dona")), unknown, unknown,
       st.sampled_from(("y", "de", "del")))
def test_spanish_title_and_particles(title: str, a: str, b: str, link: str) -> None:
    gone(f"{title} {a} {link} {b} refuses blood products.", a, b)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GIVEN), st.sampled_from(("de la", "de los", "del", "y")), unknown)
def test_name_joined_by_particles(first: str, link: str, last: str) -> None:
    gone(f"Interpreter present for {first.title()} {link} {last} throughout.", first.title(),
         last)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("L. L.", "X. F.", "M.H.", "")), st.sampled_from(("O", "Mac", "Ni")),
       st.sampled_from(("", "Giolla ")), unknown)
def test_gaelic_name_with_initials(initials: str, particle: str, middle: str, word: str) -> None:
    gone(f"Case reviewed with {initials} {particle} {middle}{word} on the phone.".replace(
        "  ", " "), word)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(RELATIONS), st.sampled_from(GIVEN + ["heather", "tracy", "amy"]),
       st.sampled_from(("is staying with her this week", "drove him in", "called back")))
def test_relative_with_a_lower_case_given_name(relation: str, name: str, tail: str) -> None:
    gone(f"{relation} {name} {tail}", name)


def test_name_traps_stay() -> None:
    kept("Signed orders faxed back to the agency. Dear colleague letters go out. Best practice "
         "advisory fired. He is the son of a farmer. Parkinson's disease is stable. The "
         "patient's daughter called. patient education was provided. her son is staying.\n"
         "-- Follow up in 2 weeks\nThanks,\nThe Cardiology Team")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(("back", "rose", "grant", "bill", "brown", "martin", "will", "hope")),
       st.sampled_from(("called {} back", "told {} the", "{} from the chair", "asked {} twice")))
def test_english_words_after_a_replaced_name_stay(word: str, template: str) -> None:
    """A lower-case dictionary name that is also an English word, alone after a replaced name
    (``called [NAME] back``), is the sentence's word: the residual check, which reads the
    output with the same rules, must find nothing there."""
    text = template.replace("{}", "[NAME] " + word, 1)
    assert letterforms.find(text) == [], text
    assert scan(text, None, free_text=True) == Counter(), text
