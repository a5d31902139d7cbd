"""Issue 12's general forms of recall7 (the forms ``fresh-7`` found missing): each form
generated in its variants must be gone from the scrubber's output by the column path and the
one-text path alike; the traps next to them must survive whole.

Forms: a holiday with its year, a weekday with an ordinal day, ``the 19th of may``; an
e-mail with ``(at)`` and a real host; UK postcodes and Indian PIN codes, streets named
before their number (``Calle``, ``Via``, ``-strasse``) with a postcode and a town, Latin
neighbourhood words, Indian house numbers with their locality and town, a unit before a
street (``Flat 2,``, ``4/27``), British and Australian street suffixes, rural grid addresses,
the road a home sits on, coordinates, towns abbreviated ``Ft.``/``Mt.``/``Pt.``, towns in
lower case in a sentence typed without capitals; a self-introduction, a sign-off, a name
between ``Pt`` and a verb, a header's name field in capitals, an aide after ``HHA``, several
initials before a family name; accession numbers and an age in an ``Age/Sex`` field. Traps:
``over Christmas``, ``sat 2nd row``, TNM stages, vitals and lab decimals, ``Via ED``,
``Pt. tolerated``, ``lives in assisted living``, ``this is new``, ``thanks again``,
``Patient Care Plan reviewed``, ``ICD-10``, ``Age/Sex: 45/F``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import vocabulary
from tests.activities.deid.test_general_forms5 import both, gone, kept, words

HOLIDAYS = ("Christmas", "Christmas Eve", "Thanksgiving", "Easter", "New Year's Eve",
            "Memorial Day", "Labor Day", "Halloween", "Mother's Day", "Fourth of July")
WEEKDAYS = ("monday", "Tuesday", "wednesday", "Thursday", "friday", "Saturday", "sunday")
#: Made-up words that are no English word either.
unknown = words.filter(lambda w: w.lower() not in vocabulary()[0]
                       and w.lower() not in vocabulary()[1])
#: Given names of the dictionary that are no English word, in lower case.
GIVEN = sorted(g for g in dictionary()[0] if g.isalpha() and len(g) > 3
               and g not in vocabulary()[0] and g not in vocabulary()[1])[:400]


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


# ---------------------------------------------------------------------------------- dates

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(HOLIDAYS), st.integers(1930, 2029), st.booleans(), st.booleans(),
       st.sampled_from(("Fell at her son's house over {}.", "{}: first seizure", "since {}")))
def test_holiday_with_a_year(holiday: str, y: int, of: bool, lower: bool, template: str) -> None:
    h = holiday.lower() if lower else holiday
    text = template.format(f"{h} of {y}" if of else f"{h} {y}")
    for out in both(text):
        assert h.split()[0] not in out and "[DATE]" in out, (text, out)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(WEEKDAYS), st.integers(1, 31), st.booleans(),
       st.sampled_from(("can i come in this {} instead", "Next visit {}.", "seen {}, better")))
def test_weekday_and_an_ordinal_day(day: str, d: int, the: bool, template: str) -> None:
    text = template.format(f"{day} the {_ord(d)}" if the else f"{day} {_ord(d)}")
    for out in both(text):
        assert day not in out and _ord(d) not in out, (text, out)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 31), st.sampled_from(("my last period was on the {} i think",
                                            "due the {}.")))
def test_ordinal_of_lower_case_may(d: int, template: str) -> None:
    gone(template.format(f"{_ord(d)} of may"), _ord(d), "may")


def test_date_traps_stay() -> None:
    kept("Home over Christmas with family. Sat 2nd row at church. may 2 tabs prn. "
         "Easter egg allergy test negative.")


# -------------------------------------------------------------------------------- e-mails

@settings(max_examples=40, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9._]{2,14}[a-z0-9]", fullmatch=True),
       st.sampled_from(("(at)", "[at]", " (at) ", "{at}")),
       st.sampled_from(("gmail.com", "yahoo.co.uk", "mail.example.org")))
def test_email_with_at_in_brackets(user: str, at: str, host: str) -> None:
    text = f"Email: {user}{at}{host}"
    for out in both(text):
        assert user not in out and "[EMAIL]" in out, (text, out)


# --------------------------------------------------------------------------------- places

UK_INWARD = "ABDEFGHJLNPQRSTUWXYZ"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("HG", "SW", "M", "B", "LS", "EH", "CF")), st.integers(1, 29),
       st.sampled_from(("", "A", "W")), st.integers(0, 9), st.sampled_from(UK_INWARD),
       st.sampled_from(UK_INWARD),
       st.sampled_from(("Postcode {}, registered with GP.", "Harrogate {}\n", "Addr: {}")))
def test_uk_postcode(area: str, district: int, sub: str, n: int, a: str, b: str,
                     template: str) -> None:
    code = f"{area}{district}{sub if district < 10 else ''} {n}{a}{b}"  # A9A, AA9A; AA99
    gone(template.format(code), code.split()[0], code.split()[1])


@settings(max_examples=30, deadline=None)
@given(st.integers(110001, 855999), st.sampled_from(("PIN {}", "Pin code: {}", "pincode {}")))
def test_indian_pin_code(pin: int, form: str) -> None:
    gone("Native place address " + form.format(pin) + ".", str(pin))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("Calle", "Avenida", "Av.", "Via", "Rue", "Rua", "Paseo", "Piazza")),
       st.sampled_from(("", "de la ", "del ", "dos ")), unknown, st.integers(1, 2999),
       st.booleans(), st.integers(10000, 99999), unknown)
def test_street_before_its_number(kind: str, particle: str, name: str, n: int, town: bool,
                                  post: int, place: str) -> None:
    address = f"{kind} {particle}{name} {n}" + (f", {post} {place}" if town else "")
    gone(f"Lives abroad half the year: {address}.", name, str(n),
         *((str(post), place) if town else ()))


@settings(max_examples=40, deadline=None)
@given(unknown, st.sampled_from(("strasse", "weg", "gracht", "straat", "gatan")),
       st.integers(1, 300))
def test_compound_street(stem: str, suffix: str, n: int) -> None:
    gone(f"Lives abroad half the year: {stem}{suffix} {n}, 10115 Berlin.",
         f"{stem}{suffix}", str(n))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Urb.", "Barrio", "Colonia", "Reparto")), unknown, unknown,
       unknown)
def test_neighbourhood_word(word: str, a: str, b: str, town: str) -> None:
    text = f"Domicilio: {word} {a} {b}, {town} PR"
    gone(text, a, b, town)
    for out in both(text):
        assert out.endswith(" PR"), (text, out)  # the state stays


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("H.No.", "H. No", "House No.", "Door No", "Plot No.")),
       st.lists(st.integers(1, 999), min_size=1, max_size=3), unknown, unknown)
def test_indian_house_number(cue: str, groups: list[int], locality: str, town: str) -> None:
    number = "-".join(map(str, groups))
    text = f"Permanent address {cue} {number}, {locality}, {town}, Telangana."
    gone(text, locality, town)
    for out in both(text):
        assert number not in out and out.endswith(", Telangana."), (text, out)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Flat", "Unit", "Apt")), st.integers(1, 40), st.integers(2, 300),
       unknown, st.sampled_from(("Road", "Crescent", "Close", "Parade", "Pde", "Rise")))
def test_unit_before_a_street(unit: str, u: int, n: int, name: str, suffix: str) -> None:
    for address in (f"{unit} {u}, {n} {name} {suffix}", f"{u}/{n} {name} {suffix}"):
        gone(f"Address (UK): {address}, Whitby", str(u), str(n), name)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from("NSEW"), st.integers(1000, 99999),
       st.sampled_from(("County Road K", "County Rd 12", "Cty Hwy JJ", "State Hwy 61",
                        "Hwy 29", "Farm Rd 1960")))
def test_rural_grid_address(way: str, n: int, road: str) -> None:
    gone(f"SN visit at {way}{n} {road}; dog on property.", f"{way}{n}", road.split()[-1])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Lives off", "lives on", "Farm on", "house at the end of")),
       st.sampled_from(("County Rd 12", "Hwy 61", "FM 1960", "CR 412", "State Route 9")))
def test_road_a_home_sits_on(cue: str, road: str) -> None:
    gone(f"{cue} {road}, long gravel drive.", road.split()[-1])


@settings(max_examples=40, deadline=None)
@given(unknown, st.sampled_from(("Rd", "Lane", "Trail")))
def test_named_road_a_home_sits_on(name: str, suffix: str) -> None:
    gone(f"Lives off Old {name} {suffix}, long gravel drive.", name)


@settings(max_examples=60, deadline=None)
@given(st.floats(-89.9, 89.9), st.floats(-179.9, 179.9), st.integers(4, 6),
       st.sampled_from(("EMS GPS {}, pt found in field.", "Location: {}", "coords {} per 911")))
def test_decimal_coordinates(lat: float, lon: float, places: int, template: str) -> None:
    a, b = f"{lat:.{places}f}", f"{lon:.{places}f}"
    gone(template.format(f"{a}, {b}"), a.lstrip("-"), b.lstrip("-"))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 89), st.integers(0, 59), st.integers(0, 59), st.integers(0, 179),
       st.integers(0, 59), st.sampled_from(("NW", "SE", "NE", "SW")))
def test_degree_coordinates(d: int, m: int, s: int, d2: int, m2: int, ways: str) -> None:
    text = f"Found at {d}°{m}'{s}\"{ways[0]} {d2}°{m2}'{ways[1]} by SAR."
    for out in both(text):
        assert "°" not in out and out.endswith(" by SAR."), (text, out)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("Ft.", "Mt.", "Pt.", "Fort", "Port", "Point")), unknown,
       st.sampled_from(("Pt. moved here from {} in spring.", "Transfer from {} ED for cath.")))
def test_abbreviated_town(prefix: str, town: str, template: str) -> None:
    gone(template.format(f"{prefix} {town}"), town)


@settings(max_examples=40, deadline=None)
@given(unknown, st.sampled_from(("", "grand ", "fond du ")),
       st.sampled_from(("i live out in {} so its a long drive", "we moved to {} last yr",
                        "my new adress is 45 oak st apt 3 {} please update")))
def test_lower_case_town_in_a_message(town: str, prefix: str, template: str) -> None:
    text = template.format(prefix + town.lower())
    gone(text, town.lower())


def test_place_traps_stay() -> None:
    kept("Staging T2 N0 M0. VS: T 37.8, HR 96, RR 18, INR 2.5, 3.0 on warfarin. Given 2 units "
         "Via ED. Pt. tolerated the visit; Pt. Patient reports less pain. lives in assisted "
         "living so family visits. i live in the country so. Snellen 20/40 OU. Box and Block "
         "test 42 R. Take 1 tab PO BID.")


# ---------------------------------------------------------------------------------- names

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(GIVEN), unknown, st.booleans(),
       st.sampled_from(("hi this is {} and i need a refill", "my name is {}, pt of dr x",
                        "Hello, this is {} calling about my meds")))
def test_self_introduction(g: str, family: str, with_family: bool, template: str) -> None:
    name = f"{g} {family.lower()}" if with_family else g
    gone(template.format(name), g, *((family.lower(),) if with_family else ()))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(GIVEN), st.booleans(),
       st.sampled_from(("ok thanks for the help, {}", "Thanks again - {}\nSent from phone",
                        "thank you so much, {}. Pain 4/10.")))
def test_sign_off(g: str, cap: bool, template: str) -> None:
    name = g.capitalize() if cap else g
    gone(template.format(name), name)


@settings(max_examples=40, deadline=None)
@given(st.lists(unknown, min_size=2, max_size=4),
       st.sampled_from(("arrives by EMS, c/o SOB.", "is a 45 yo male", "presents with CP")))
def test_name_between_pt_and_a_verb(parts: list[str], rest: str) -> None:
    gone(f"Pt {' '.join(parts)} {rest}", *parts)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(unknown.map(str.upper), st.just("[NAME]")), min_size=1, max_size=3),
       st.lists(unknown, min_size=1, max_size=2))
def test_name_field_in_capitals(families: list[str], givens: list[str]) -> None:
    # family names maybe replaced already (the record's own values, in the column path)
    name = f"{' '.join(families)}, {' '.join(givens).upper()}"
    gone(f"DISCHARGE SUMMARY\nPatient Name: {name}\nUnit: 5 North",
         *(w.upper() for w in givens), *(f for f in families if f != "[NAME]"))


@settings(max_examples=30, deadline=None)
@given(words, st.sampled_from(("HHA", "CHHA", "PCA")))
def test_aide_after_credential(name: str, cred: str) -> None:
    gone(f"{cred} {name} present for visit, assisted w/ bath.", name)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("ABDGKMNRSV"), min_size=2, max_size=3), unknown,
       st.sampled_from(("MD", "MBBS", "RN", "PharmD")))
def test_initials_before_a_family_name(initials: list[str], family: str, cred: str) -> None:
    text = f"Referred by {' '.join(i + '.' for i in initials)} {family}, {cred}."
    gone(text, family, *initials)


def test_name_traps_stay() -> None:
    kept("this is new for her. Thanks again. thank you. Patient Care Plan reviewed with "
         "family. Pt Education Material given. Name: ________ Dear reader, this letter "
         "summarises the admission.")


# ----------------------------------------------------------------------- report headers

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("RAD", "S", "SP", "CT", "MR", "CY")), st.integers(0, 99),
       st.integers(1000, 99999999), st.booleans(),
       st.sampled_from(("ACCESSION: {}", "Surgical pathology report {}, final.", "acc {}")))
def test_accession_number(prefix: str, y: int, serial: int, dash: bool, template: str) -> None:
    number = f"{prefix}{'-' if dash else ''}{y:02d}-{serial}"
    gone(template.format(number), number, str(serial))


@settings(max_examples=30, deadline=None)
@given(st.integers(90, 119), st.sampled_from(("Age/Sex", "AGE/SEX", "Age/Gender", "A/S")),
       st.sampled_from(("F", "M", "female")))
def test_age_in_an_age_sex_field(age: int, field: str, sex: str) -> None:
    text = f"{field}: {age}/{sex}   Bed: 12"
    for out in both(text):
        assert str(age) not in out and f"/{sex}" in out, (text, out)


@given(st.integers(18, 89))
def test_report_traps_stay(age: int) -> None:
    kept(f"Age/Sex: {age}/F. Dx ICD-10 I10, COVID-19 negative, HLA-B27 negative.")
