"""Issue 12's general forms of deid12d (the forms ``sealed-2``'s misses were, read once it was
no longer held out): each form generated in its variants, with values and sentences of
these tests' own, must be gone from the scrubber's output by the column path and the
one-text path alike, and the residual check must find nothing left in the column path's
output (``clean``); the traps next to them must survive whole (``kept``).

Forms: an ordinal day, ``day of`` and its month (``dateruns``: ``this 14th day of March,
2024``); a lower-case name after a relation, set off by a comma (``peopleforms``: ``her
daughter olwen, asks``); a name after an operating-room role (``forms.ROLES``: ``circulator
OKAFOR``); a name before a master's degree and a licence or a genetic counsellor's
credential (``names``: ``K.Zemkrin, MS, CGC``); a name on a numbered or annotated signer's
line (``signforms``: ``Witness #2 (printed): Ann Lee``); a street named after a person
without a house number (``streetforms.PERSON_RULE``: ``on Clarence Station``). Traps: a day
of something else (``5th day of admission``), ``may`` as a verb; abbreviations and adverbs
after a relation (``daughter poa,``, ``wife aware,``); a role before a note word; ``MS`` as
multiple sclerosis; a language on an interpreter's line, a drug after ``Agent:``; stations,
parks and radiographs (``at Union Station``, ``on Memorial Park``, ``on Waters view``).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import dateruns, peopleforms, signforms, streetforms
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.safelist import vocabulary
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms5 import kept
from tests.activities.deid.test_general_forms7 import GIVEN, _ord, unknown
from tests.activities.deid.test_general_forms9 import clean

MONTHS = ("January", "February", "March", "April", "June", "July", "August", "September",
          "October", "November", "December")
SPOKEN = ("first", "second", "third", "fourth", "ninth", "twelfth", "twentieth",
          "twenty-first", "twenty second", "thirtieth")


def _case(text: str, how: int) -> str:
    return (text, text.lower(), text.upper())[how]


# ---------------------------------------------------------------------------------- dates

@settings(max_examples=80, deadline=None)
@given(
    st.one_of(st.integers(1, 31).map(_ord), st.sampled_from(SPOKEN)),
    st.sampled_from(MONTHS + ("May",)),
    st.integers(0, 2),
    st.sampled_from(("", ", {}", " {}", ", A.D. {}")),
    st.integers(1930, 2029),
    st.sampled_from(
        (
            "Sworn before me this {} at the clinic.",
            "Signed on the {}; copy to chart.",
            "Deed of trust dated this {}\nNotary seal affixed",
            "Consent renewed the {} (per HIM).",
        )
    ),
)
def test_ordinal_day_of_its_month(
    day: str, month: str, how: int, year_shape: str, year: int, template: str
) -> None:
    written = _case(f"{day} day of {month}", how)
    if month == "May" and how == 1 and not year_shape:
        written += ","  # lower-case "may" ends its clause (a verb otherwise: a trap below)
    text = template.format(written + year_shape.format(year))
    clean(text, day.split()[-1].split("-")[-1], month if how == 0 else _case(month, how))


def test_day_of_traps_stay() -> None:
    kept(
        "Rash on the 5th day of admission. Fever on the 3rd day of illness. The 2nd day of "
        "may be hard. Day 3 of chemo. The first day of the cycle went well. The 40th day "
        "of June is no day. Seen on the 4th day of life."
    )
    got = dateruns.find("Signed this 14th day of March, 2024; the 3rd day of fever.")
    assert got == [(12, 29, Placeholder.DATE)]  # the day to its month; not the fever


# ---------------------------------------------------------------- a relative in lower case

RELATIONS = ("daughter", "son", "wife", "husband", "mother", "sister", "brother", "partner",
             "granddaughter", "friend")


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(RELATIONS),
    st.one_of(st.sampled_from(GIVEN), unknown.map(str.lower)),
    st.sampled_from(("pt's ", "her ", "his ", "the patient's ", "")),
    st.sampled_from(
        (
            "Phone call: caller is {}, asks whether to give a second dose.",
            "Spoke by phone with {}, at bedside, who agrees.",
            "Update given to {}, then to the team.",
        )
    ),
)
def test_lower_case_name_after_a_relation_and_a_comma(
    relation: str, name: str, whose: str, template: str
) -> None:
    clean(template.format(f"{whose}{relation} {name.lower()}"), name.lower())


def test_relation_comma_traps_stay() -> None:
    kept(
        "Called her daughter poa, aware. Her daughter hcp, aware of plan. His wife aware, "
        "will call. Her son too, who lives nearby. Her mother ok, plans to visit. Her sister "
        "yesterday, and again today. Husband thx, ok. Called back, SSN confirmed. Her "
        "father home, doing well."
    )
    assert peopleforms.find("caller is her son vidar, asks") == [(18, 23, Placeholder.NAME)]


# ---------------------------------------------------------------- operating room staff

@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("circulator", "Circulator", "perfusionist", "anesthetist", "anaesthetist",
                     "CRNA")),
    unknown,
    st.booleans(),
    st.sampled_from(("Time-out done with {} at 0715.", "Sign-in: {} present.", "{}: counts ok")),
)
def test_name_after_an_operating_room_role(
    role: str, name: str, capitals: bool, template: str
) -> None:
    word = name.upper() if capitals else name
    clean(template.format(f"{role} {word}"), word)


def test_operating_room_traps_stay() -> None:
    kept("Circulator present at 0712. Circulator RN aware. Perfusionist on standby. "
         "CRNA at bedside for induction.")


# ------------------------------------------------------------- credentials after a name

@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from("ABDJKLMSV"),
    unknown,
    st.sampled_from((".", ". ")),
    st.sampled_from((", MS, CGC", ", CGC", ", MS, LCGC", ", MA, CCC-SLP", ", MS, RD",
                     ", MPH, CGC")),
    st.sampled_from(("Results given by {}, with consent.", "Counselled by {} today.",
                     "Letter signed {}\nEncl.")),
)
def test_name_before_a_degree_and_a_licence(
    initial: str, family: str, dot: str, credential: str, template: str
) -> None:
    clean(template.format(f"{initial}{dot}{family}{credential}"), family)


def test_credential_traps_stay() -> None:
    kept("Hx: lupus, MS, DM2. Dx MS, on ocrelizumab. Known MS, CGC referral placed. "
         "Seen for MS, RN to follow up.")


# --------------------------------------------------------------------- signature lines

@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("Witness", "WITNESS", "Agent", "Alternate agent", "Principal", "Notary",
                     "Guardian", "Proxy")),
    st.sampled_from(("#2", "1", "# 3", "No. 2", "#1 (printed)", "(print name)", "(printed)",
                     "2 (name)")),
    st.one_of(st.sampled_from(GIVEN).map(str.title), unknown),
    unknown,
    st.integers(0, 2),
    st.sampled_from(("{}, not related to the principal.", "{}\nSignature: ____", "{}; dated")),
)
def test_name_on_a_numbered_signers_line(
    signer: str, mark: str, first: str, last: str, how: int, template: str
) -> None:
    name = (f"{first} {last}", f"{last.upper()}, {first.upper()}", f"{first[0]}. {last}")[how]
    clean(template.format(f"{signer} {mark}: {name}"), last, *([first] if how < 2 else []))


def test_signature_traps_stay() -> None:
    kept(
        "Witness 2 (printed): Not present. Interpreter #1: Spanish. Agent: Haldol given. "
        "Witness #1: Same as above. Principal (printed): See attached."
    )
    assert signforms.find("Witness #2 (printed): Eivind Zemkrin, not related") == [
        (22, 36, Placeholder.NAME)
    ]


# --------------------------------------------------------- a street named after a person

#: Family names of the dictionary a street may be named after (no English word in any case).
FAMILY = sorted(f for f in dictionary()[1] if f.isalpha() and len(f) > 3
                and f not in vocabulary()[0])[:300]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(("on", "off", "along", "near", "at", "On")),
    st.one_of(st.sampled_from(GIVEN), st.sampled_from(FAMILY)),
    st.sampled_from(streetforms.PERSON_KINDS),
    st.sampled_from(("Choir meets in the hall {} weekly.", "Found down {}, by EMS.",
                     "Lives {}\nno stairs")),
)
def test_street_named_after_a_person(cue: str, name: str, kind: str, template: str) -> None:
    street = f"{name.title()} {kind.capitalize()}"
    clean(template.format(f"{cue} {street}"), street)


def test_person_street_traps_stay() -> None:
    kept(
        "Met at Union Station. Walks on Memorial Park paths. Fracture seen on Waters view. "
        "Rash on Graves disease flare. Foley on Friday. Lunch at Sinai Mount."
    )
    assert streetforms.find_named_after("hall on Clarence Station daily") == [
        (8, 24, Placeholder.ADDRESS)
    ]
