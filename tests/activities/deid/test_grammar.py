"""Dates, telephone numbers and street addresses, generated from their grammar.

Each test writes an identifier in a form drawn at random from the grammar the
issue lists (orders, month spellings, ordinals, separators, prefixes,
extensions, suffixes, units) inside a sentence, scrubs it through the real
scrubber (Arrow/RE2 pass and Python pass) and asserts that exactly the
identifier became one placeholder: nothing of it survives, nothing around it
is taken.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tues", "Wed", "Thursday", "Fri", "Sat.", "Sunday,")


def scrubbed(text: str) -> tuple[str, str]:
    """The text scrubbed both ways: one cell through Arrow, and as one FHIR string."""
    col = scrub_column(pa.array([text]), None, Counter())
    return str(col[0].as_py()), scrub_text(text, None, Counter())


def _ordinal(d: int) -> str:
    return f"{d}{'th' if 10 < d < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


@st.composite
def spelled_dates(draw: st.DrawFn) -> str:
    m = draw(st.integers(1, 12))
    d = draw(st.integers(1, 28))
    y = draw(st.integers(1900, 2099))
    month = draw(st.sampled_from((MONTHS[m - 1], ABBR[m - 1], ABBR[m - 1] + ".")))
    month = draw(st.sampled_from((month, month.upper(), month.lower())))
    if month.lower() == "may.":
        month = month[:-1]
    day = draw(st.sampled_from((str(d), f"{d:02d}", _ordinal(d))))
    year = draw(st.sampled_from((str(y), f"'{y % 100:02d}")))
    sep = draw(st.sampled_from((" ", "-", "/", ".", ", ", " of ")))
    order = draw(st.sampled_from(("mdy", "dmy", "md", "dm", "my", "ymd")))
    if order == "ymd":
        return f"{y}-{month.rstrip('.')}-{d:02d}"
    if order in ("dm", "dmy") and sep == ", ":
        sep = " "
    if order in ("dm", "md") and month.lower().startswith("may"):
        month = "May"  # "may 3" without a year is a verb; capitalized it is the month
    if order == "md" and sep in ("-", "/", ".", " of "):
        sep = " "  # "March/3" and "March of 3" are not how days are written
    if order == "my":
        return f"{month}{' of ' if sep == ' of ' else ' '}{year}"
    parts = {"mdy": (month, day, year), "dmy": (day, month, year), "md": (month, day),
             "dm": (day, month)}[order]
    if order == "dm" and sep == " of ":
        return f"the {day} of {month}"
    text = sep.join(parts) if sep != " of " else " ".join(parts)
    weekday = draw(st.sampled_from(("",) * 3 + WEEKDAYS))
    return f"{weekday} {text}".strip()


@st.composite
def numeric_dates(draw: st.DrawFn) -> str:
    m, d, y = draw(st.integers(1, 12)), draw(st.integers(1, 28)), draw(st.integers(1900, 2099))
    sep = draw(st.sampled_from("-/."))
    year = draw(st.sampled_from((str(y), f"{y % 100:02d}")))
    text = draw(st.sampled_from((f"{m}{sep}{d}{sep}{year}", f"{m:02d}{sep}{d:02d}{sep}{year}",
                                 f"{d}{sep}{m}{sep}{year}", f"{y}{sep}{m:02d}{sep}{d:02d}",
                                 f"{y}{m:02d}{d:02d}", f"{m}/{d}")))
    if text == "2/2":  # clinical shorthand for "secondary to" (docs/deid.md), not a date
        text = "2/3"
    weekday = draw(st.sampled_from(("",) * 3 + WEEKDAYS))
    return f"{weekday} {text}".strip()


@settings(max_examples=300, deadline=None)
@given(date=st.one_of(spelled_dates(), numeric_dates()))
def test_any_date_form_is_one_placeholder(date: str) -> None:
    for out in scrubbed(f"Seen {date} in clinic."):
        assert out == "Seen [DATE] in clinic.", (date, out)


@st.composite
def phones(draw: st.DrawFn) -> str:
    a = draw(st.integers(200, 999))
    b = draw(st.integers(200, 999))
    c = draw(st.integers(0, 9999))
    core = draw(st.sampled_from((f"({a}) {b}-{c:04d}", f"({a}){b}-{c:04d}", f"{a}-{b}-{c:04d}",
                                 f"{a}.{b}.{c:04d}", f"{a} {b} {c:04d}", f"{a}/{b}-{c:04d}",
                                 f"1-{a}-{b}-{c:04d}", f"+1 ({a}) {b}-{c:04d}",
                                 f"+1{a}{b}{c:04d}", f"{b}-{c:04d}")))
    international = draw(st.lists(st.integers(1, 9999), min_size=3, max_size=4))
    cc = draw(st.integers(2, 99))
    intl = draw(st.sampled_from(("+", "00"))) + f"{cc} " + " ".join(map(str, international))
    number = draw(st.sampled_from((core, core, intl)))
    ext = draw(st.sampled_from(("", "", " x23", " x 8176", " ext. 4", " ext 2104", " #5188",
                                " extension 12", "x9")))
    return number + ext


@settings(max_examples=300, deadline=None)
@given(phone=phones())
def test_any_phone_form_with_extension_is_one_placeholder(phone: str) -> None:
    for out in scrubbed(f"Call {phone} if worse."):
        assert out == "Call [PHONE] if worse.", (phone, out)


STREET_WORDS = ("Oak", "Maple", "Washington", "Martin Luther King", "5th", "Old Mill",
                "Highland", "St. Charles", "Cedar Hollow", "MLK")
SUFFIXES = ("Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Boulevard", "Blvd",
            "Lane", "Ln", "Drive", "Dr", "Dr.", "Court", "Ct", "Place", "Pl", "Terrace", "Terr",
            "Circle", "Cir", "Parkway", "Pkwy", "Highway", "Hwy", "Way", "Trail", "Plaza", "Square")
UNITS = ("", "", ", Apt 4B", " Apt. 12", ", Suite 200", " Unit 3", " #7", ", Fl 2", " Ste 110")


@st.composite
def addresses(draw: st.DrawFn) -> str:
    number = draw(st.integers(1, 99999))
    direction = draw(st.sampled_from(("", "", "N. ", "S ", "East ", "NW ")))
    street = draw(st.sampled_from(STREET_WORDS))
    suffix = draw(st.sampled_from(SUFFIXES))
    unit = draw(st.sampled_from(UNITS))
    return f"{number} {direction}{street} {suffix}{unit}"


@settings(max_examples=300, deadline=None)
@given(address=addresses())
def test_any_street_address_with_unit_is_one_placeholder(address: str) -> None:
    for out in scrubbed(f"Lives at {address} with her son."):
        assert out == "Lives at [ADDRESS] with her son.", (address, out)


@given(box=st.integers(1, 999_999), unit=st.sampled_from(("Apt 4B", "Suite 200", "Ste. 12")))
@settings(max_examples=50, deadline=None)
def test_po_boxes_and_units_alone(box: int, unit: str) -> None:
    for out in scrubbed(f"Mail to PO Box {box} or P.O. Box {box}; {unit}, same building."):
        assert out == "Mail to [ADDRESS] or [ADDRESS]; [ADDRESS], same building.", out
