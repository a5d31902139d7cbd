"""Issue 12's general forms of deid12c (the forms the lead chose from the general classes
``sealed``'s and ``sealed-2``'s docstrings name): each form generated in its variants must be
gone from the scrubber's output by the column path and the one-text path alike, and the
residual check must find nothing left in the column path's output (``clean``); the traps
next to them must survive whole (``kept``).

Forms: an SSN with its cue in every written form (``ssnforms``: a word of checking between,
the cue after, the last four); a month and a two-digit year after a date's cue and ``may``
after its day (``cueddates``); a name after an abbreviated relation in capitals or any case
(``kinforms``: ``MOB PAULETTE``); initials after ``initials`` (``initialforms``); the
compass word of a town whose name part a known value replaced (``compassplaces``). Traps:
``last 4 doses``, ``MRN 123456789``, lab values, phone extensions, ``ss 1000 units``;
acuities, pressures, counts and scores (``VA 6/36``, ``IOP 16/18``, ``BP 120/80``, ``TOF
4/4``, ``4/5 strength``, ``Epworth 14/24``, ``since 3/52``); ``may`` as a verb; ``MOB
AWARE``, ``sis ok``; ``initial CT``, ``initials RN``; a ward (``Unit 3 East``).
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import compassplaces, cueddates, initialforms, kinforms, ssnforms
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text
from medpipe.activities.residual import scan
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms5 import both, kept
from tests.activities.deid.test_general_forms7 import GIVEN
from tests.activities.deid.test_general_forms9 import clean


def _case(text: str, how: int) -> str:
    return (text, text.lower(), text.upper())[how]


# ------------------------------------------------------------------------------------ SSN

CUES = (
    "SSN",
    "ssn",
    "SSN#",
    "ss#",
    "SS #",
    "social security no.",
    "Social Security Number",
    "soc sec",
    "S.S.N.",
)
BETWEEN = (
    "",
    " verified",
    " confirmed:",
    " checked -",
    " on file",
    " verified as",
    " (confirmed)",
    " # verified",
)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(CUES),
    st.sampled_from(BETWEEN),
    st.integers(1, 899_999_999),
    st.sampled_from(("{}", "{:09d}", "dashed", "spaced")),
    st.sampled_from(
        (
            "Identity: {} with pt.",
            "{}\nDOB on file.",
            "Called pt; {}.",
            "Registration - {}, insurance pending",
        )
    ),
)
def test_ssn_with_a_cue_before(cue: str, between: str, n: int, shape: str, template: str) -> None:
    digits = f"{n:09d}"
    number = {
        "dashed": f"{digits[:3]}-{digits[3:5]}-{digits[5:]}",
        "spaced": f"{digits[:3]} {digits[3:5]} {digits[5:]}",
    }.get(shape, digits)
    clean(template.format(f"{cue}{between} {number}"), digits[5:], digits[:3])


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(("SSN", "ssn", "SSN#", "social security", "Soc Sec", "S.S.N.")),
    st.sampled_from(
        (
            "last 4:",
            "last four",
            "ending in",
            "verified",
            "checked:",
            "confirmed last 4",
            "",
            "#",
            "xxx-xx-",
            "***-**-",
            "XXX XX ",
        )
    ),
    st.integers(0, 9999),
    st.sampled_from(("Verified {} at check-in.", "{} per daughter", "ID check: {}; ok")),
)
def test_ssn_last_four_after_a_cue(cue: str, between: str, n: int, template: str) -> None:
    four = f"{n:04d}"
    glue = "" if between.endswith(("-", " ")) and between.strip("xX*- ") == "" else " "
    clean(template.format(f"{cue} {between}{glue}{four}".replace("  ", " ")), four)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 999_999_999),
    st.booleans(),
    st.sampled_from(
        (
            "{} (SSN) confirmed.",
            "{} - SSN, verified",
            "{} is her SSN",
            "{} (last 4 of SSN) confirmed",
            "{} is the pt's social security number",
            "verified {} as last four of SSN",
        )
    ),
)
def test_ssn_with_the_cue_after(n: int, four: bool, template: str) -> None:
    digits = f"{n:09d}"
    number = digits[5:] if four or "last" in template else digits
    clean(template.format(number), number)


def test_ssn_traps_stay() -> None:
    kept(
        "Gave last 4 doses at home. K 4.1, Na 138, Cr 1.02. "
        "Call ext 6789 for the unit. Insulin ss 1000 units max. Social hx 2019 quit. "
        "SSN on file, K 4.1 today. SSN verified, BP 120/80. Paged x6789 twice."
    )
    for out in both("MRN 123456789 on the band; SSN verified."):  # an MRN stays an MRN
        assert out == "MRN [MRN] on the band; SSN verified.", out


def test_ssn_spans_are_the_number() -> None:
    text = "SSN verified 123456789. ssn xxx-xx-6789. 6789 (SSN) ok. SSN checked: 1234"
    got = [text[s:e] for s, e, ph in ssnforms.find(text) if ph is Placeholder.SSN]
    assert got == ["123456789", "6789", "1234", "6789"]
    assert ssnforms.find("last 4 doses; MRN 123456789; ext 6789; ss 1000; 2345 mg") == []


# ---------------------------------------------------------------------------------- dates

DATE_CUES = (
    "drawn",
    "ADMIT DATE:",
    "dob",
    "DOB:",
    "since",
    "Collected",
    "dated",
    "seen on",
    "last seen",
    "Discharged",
    "onset",
    "diagnosed in",
    "d.o.b.",
)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(DATE_CUES),
    st.integers(1, 12),
    st.integers(0, 99),
    st.booleans(),
    st.sampled_from(("Labs {} reviewed.", "{}; stable", "CBC {}, normal", "{}\nPlan:")),
)
def test_month_and_two_digit_year_after_a_date_cue(
    cue: str, month: int, year: int, padded: bool, template: str
) -> None:
    if year == 52 and cue.split()[-1].lower() in ("since", "on", "seen"):
        year = 51  # "since 3/52" is three weeks (a trap below); "seen on" ends in "on"
    date = f"{month:02d}/{year:02d}" if padded else f"{month}/{year:02d}"
    clean(template.format(f"{cue} {date}"), date)


def test_month_year_traps_stay() -> None:
    kept(
        "VA 6/36 OU. IOP 16/18. BP 120/80. TOF 4/4. 4/5 strength. Epworth 14/24. "
        "Pain 7/10. Symptoms since 3/52, worse at night. On 10/40 mg daily. "
        "Since 2/10 pain improved. Apgars 8/9. dob 13/47 is no date. Hb 12/34 (ratio)"
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 28),
    st.booleans(),
    st.integers(0, 2),
    st.sampled_from(
        (
            "seen on {} for follow up",
            "{}: fall at home",
            "due {}, then repeat",
            "returns {} at 9",
            "since {} and after",
        )
    ),
)
def test_may_after_its_day(d: int, of: bool, how: int, template: str) -> None:
    o = f"{d}{'th' if 10 < d < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"
    date = _case(f"the {o} of may" if of else f"{o} may", how)
    clean(template.format(date), "may", o)


def test_may_as_a_verb_stays() -> None:
    kept(
        "The 2nd may be given at noon. Her 3rd may need a taper. Patients aged 12 may "
        "take it. You may 12 mg daily. The 1st may cause nausea. on 3 may be late."
    )
    got = cueddates.find("seen on 12th may for follow up; on 12 may.")
    assert [t for t in got] == [(8, 16, Placeholder.DATE), (35, 41, Placeholder.DATE)]


# ---------------------------------------------------------------------- names after a kin

KIN = ("MOB", "FOB", "mob", "Fob", "MGM", "PGF", "Dtr", "SIS", "bro")


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(KIN),
    st.sampled_from(GIVEN),
    st.integers(0, 2),
    st.sampled_from((" ", ": ", " (", "  ")),
    st.sampled_from(
        (
            "NICU update given to {} at bedside.",
            "{} called for update",
            "Discussed plan with {}; agrees",
        )
    ),
)
def test_name_after_an_abbreviated_relation_any_case(
    kin: str, name: str, how: int, sep: str, template: str
) -> None:
    word = _case(name.title(), how)
    clean(template.format(f"{kin}{sep}{word}{')' if sep == ' (' else ''}"), word)


def test_kin_traps_stay() -> None:
    kept(
        "MOB AWARE of plan. FOB at bedside. sis ok with plan. Mob with PT twice. "
        "MOB UPDATED. Bro in law present. mob mobilized well."
    )
    assert kinforms.ABBR_RULE.find("MOB PAULETTE ROSS visited") == [(4, 17, Placeholder.NAME)]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        (
            "subject initials",
            "Subject Initials:",
            "pt initials:",
            "Patient initials are",
            "initials",
            "INITIALS =",
        )
    ),
    st.from_regex(r"[A-Z]{2,3}", fullmatch=True),
    st.sampled_from(("", ".", "-")),
    st.sampled_from(("Consent signed; {} confirmed.", "{}\nVisit 3", "Label: {}, tube 2")),
)
def test_initials_after_their_cue(cue: str, letters: str, sep: str, template: str) -> None:
    written = sep.join(letters) + (sep if sep == "." else "")
    if not initialforms.find(f"{cue} {written}"):
        return  # letters a list holds ("RN", "MD", "OK"): a trap below
    clean(template.format(f"{cue} {written}"), written.rstrip("."))


def test_initials_traps_stay() -> None:
    kept(
        "Initial CT negative. Initials and date required. Initial BP 140/90. initials on "
        "each page. Nurse initials RN"
    )


# ------------------------------------------------------------------------ compass places

KEY = b"c" * 32


def _scrubbed(text: str, index: KeyIndex) -> tuple[str, str]:
    column = str(scrub_column(pa.array([text], pa.string()), index, Counter())[0].as_py())
    return column, scrub_text(text, index, Counter())


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(GIVEN),
    st.sampled_from(("East", "WEST", "North", "Southwest")),
    st.sampled_from(
        (
            "Letter sent to 82157 Horton Camp, {}, WI.",
            "Lives in {} with wife.",
            "Michael from {} called.",
            "{}, OH 44101",
            "Pick-up: 4905 mary station, {} (ring bell)",
        )
    ),
)
def test_compass_word_of_a_town_whose_name_a_known_value_took(
    name: str, compass: str, template: str
) -> None:
    index = KeyIndex(KEY)
    index.add_all([f"{name.title()} Okonkwo"], Placeholder.NAME)
    town = f"{compass} {name.title() if compass[1].islower() else name.upper()}"
    text = template.format(town)
    for out in _scrubbed(text, index):
        assert compass not in out and name.lower() not in out.lower(), (text, out)
    column = _scrubbed(text, index)[0]
    assert scan(column, index, free_text=True) == Counter(), (text, column)


def test_compass_traps_stay() -> None:
    kept(
        "Moved to Unit 3 East overnight. West Nile negative. Pain radiates east. "
        "North wing closed. 4 West nurses aware."
    )
    assert compassplaces.find("Report to 4 West [NAME] RN; lives in East [NAME].") == [
        (37, 48, Placeholder.ADDRESS)
    ]
