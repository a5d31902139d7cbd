"""A fresh held-out template set of ``bench/deid.py`` (``fresh-11``), written for recall11
before any rule was changed for it, and committed before its first run.

Places first: ``sealed``'s GEO has been its weakest category for three rounds, so this set
writes the kinds of subdivision smaller than a state that a probe of the scrubber
(``bench/deid_places_probe.py``, docs/deid.md recall11) found least covered, in the habits
of writers none of the other sets' docstrings name: an EMS run sheet (agencies named after
their town, pick-up places, landmarks), an emergency-department triage note, a home-health
intake (directions to the house, the county programme, the school the child attends) and a
discharge summary dictated through speech recognition (lower case, no punctuation around
places). The forms:

* GEO: a town after a bare preposition with no verb cue (``came in from X by private
  vehicle``, ``en route to X``, ``two hours north of X``), as the writer types it and in
  lower case; a town before a civic agency or landmark (``X Fire Rescue``, ``X PD``,
  ``X Sheriff's Office``, ``X Middle School``, ``X Public Library``, ``X State Park``,
  ``X Senior Center``); ``Township``/``Twp``, ``Village of``, ``Borough of``; a county
  after ``from``; ``the X area`` and ``X-based``; a ZIP code with its word after it
  (``the 49855 zip code``); a Canadian postal code, alone and after a town and province
  (``in NS, B3H 4R2``); a census tract number; a house number and street in dictated
  lower case;
* NAME: an EMS crew (``Medic 12 crew: Given Family / Given Family``), a school nurse, a
  home-health aide by first name after ``HHA``;
* DATE: ``DOS`` with two-digit years, ``LKW`` (last known well) with a month and a day,
  a dictated ``on the ninth of june``.

What I decided for the doubtful forms, under 45 CFR 164.514(b)(2)(i):

* **GEO**: a town's name alone is the span, whatever follows it (``Fire Rescue``, ``PD``,
  ``Middle School``, ``area``, ``-based`` stay out: they name no place); ``Township`` /
  ``Twp`` and ``Village``/``Borough`` stay out as ``County`` does; a ZIP's word stays
  out; a Canadian postal code whole (both halves are its tokens), its province stays (as a
  state does); a census tract's number is a geocode (its word stays out); a street with its
  number whole;
* **NAME**: the role, the unit number and ``/`` stay out; each person is its own span;
* **DATE**: anything more specific than a year.

Towns come from Faker's ``en_GB`` and ``en_CA`` city providers and from made-up words of
three syllables (so a town's look is no help to half of them); people from ``fi_FI``,
``pl_PL``, ``tr_TR``, ``en_IN``, ``id_ID``, accents kept half of
the time. The filler holds traps that must survive: states and countries after the same
prepositions (``from West Virginia``, ``en route to New Mexico``, ``moved from Canada``),
eponyms and scales after a preposition (``placed in Trendelenburg``, ``in semi-Fowler
position``, ``18 on the Hamilton scale``, ``by Epworth``), languages and holidays
(``interpreter for Spanish``, ``home for Christmas``), ``St. John's wort``, ``Lyme
disease``, ``Medic 12`` and ``Engine 4`` (units without a town), units (``mmHg``, ``L/min``),
``the county fair``, ``zip-lock bag``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from bench._deid_recall6 import MONTHS, Form, _plain

LOCALES = ("fi_FI", "pl_PL", "tr_TR", "en_IN", "id_ID")
STATE_CODES = ("MI", "WI", "MN", "OH", "PA", "NY", "VT", "ME", "OR", "ID", "MT", "NC")
PROVINCES = ("NS", "ON", "QC", "MB", "BC", "AB", "NB", "SK")
DIRECTIONS = ("north", "south", "east", "west", "northeast", "southwest")
AGENCIES = ("Fire Rescue", "Fire Dept", "EMS", "PD", "Police", "Sheriff's Office",
            "Ambulance Service", "Volunteer Fire Company")
SCHOOLS = ("Middle School", "High School", "Elementary", "Public Library", "State Park",
           "Senior Center", "Community College", "Fairgrounds", "Rec Center")
STREETS = ("maple", "birch", "quarry", "mill", "church", "ridge", "orchard", "willow")
STREET_KINDS = ("street", "road", "avenue", "lane", "drive")
_SYL = ("ta", "vo", "ren", "kil", "mar", "su", "bel", "dor", "ni", "cas", "lo", "pin")

FILLER_R11 = (
    "Arrived via ALS, Medic 12; Engine 4 on scene first. BP 98/60 mmHg, SpO2 91 % on 4 L/min.",
    "Pt is from West Virginia originally; moved from Canada as a child.",
    "Family en route to New Mexico for the holidays, home for Christmas.",
    "Placed in Trendelenburg for the line, then in semi-Fowler position.",
    "Scored 18 on the Hamilton scale; sleepiness 14 by Epworth.",
    "Interpreter for Spanish used for the whole visit; daughter translated Tagalog.",
    "Hx of Lyme disease; St. John's wort and melatonin at home.",
    "Children attend school in the district; pt enjoys the county fair.",
    "Meds brought in a zip-lock bag; pill count correct.",
    "Trauma alert called at 1412; c-collar in place, backboard removed.",
    "home safety checklist reviewed no throw rugs grab bars in the bathroom",
    "Wound care supplies delivered by the agency; next visit in 3 days.",
    "Dx: CAP, RLL. Plan: ceftriaxone and azithro, recheck CXR in 6 wk.",
    "Pt ambulates with a walker; 2 steps to enter the house, rail on the left.",
)


def _town(r: random.Random, p: dict[str, str]) -> str:
    """A town: Faker's ``en_GB``/``en_CA`` one half of the time, a made-up word otherwise."""
    if r.random() < 0.5:
        return p["r11_town"]
    return "".join(r.choice(_SYL) for _ in range(r.choice((2, 3)))).capitalize()


def _postal(r: random.Random) -> str:
    letters = "ABCEGHJKLMNPRSTVXY"
    return (f"{r.choice(letters)}{r.randint(0, 9)}{r.choice(letters)} "
            f"{r.randint(0, 9)}{r.choice(letters)}{r.randint(0, 9)}")


def _geo() -> list[Form]:
    return [
        lambda r, p: (v := _town(r, p),
                      f"Pt came in from {v} by private vehicle, ambulatory at triage."),
        lambda r, p: (v := _town(r, p),
                      f"Diverted en route to {v}; ETA 14 min, pt stable."),
        lambda r, p: (v := _town(r, p),
                      f"Farm is about two hours {r.choice(DIRECTIONS)} of {v}, gravel road."),
        lambda r, p: (v := _town(r, p),
                      f"Transported by {v} {r.choice(AGENCIES)} after a MVC on the highway."),
        lambda r, p: (v := _town(r, p),
                      f"Son is a teacher at {v} {r.choice(SCHOOLS)}; he will bring her in."),
        lambda r, p: (v := _town(r, p),
                      r.choice((f"Lives in {v} Township on a dairy farm.",
                                f"Address is in {v} Twp; mail goes to the PO.",
                                f"Moved to the Village of {v} last spring.",
                                f"Resident of the Borough of {v} per the face sheet."))),
        lambda r, p: (v := p["r11_county"],
                      f"Deputy from {v} County stayed with the pt until transfer."),
        lambda r, p: (v := _town(r, p),
                      r.choice((f"No dialysis unit in the {v} area, drives 40 min.",
                                f"Sees a {v}-based cardiologist twice a year."))),
        lambda r, p: (v := f"{r.randint(10000, 99899)}",
                      f"Lives in the {v} zip code, eligible for the rural program."),
        lambda r, p: (v := _postal(r),
                      r.choice((f"Canadian snowbird; home postal code {v}.",
                                f"Winter address in {r.choice(PROVINCES)}, {v}, on file."))),
        lambda r, p: (v := f"{r.randint(1, 9999)}.{r.randint(1, 99):02d}",
                      f"Home is in census tract {v}, flagged as a food desert."),
        lambda r, p: (v := _town(r, p).lower(),
                      f"patient was brought in from {v} by her son she lives alone"),
        lambda r, p: (v := f"{r.randint(2, 9899)} {r.choice(STREETS)} "
                           f"{r.choice(STREET_KINDS)}",
                      f"she lives at {v} with her husband since the fall"),
        lambda r, p: (v := _town(r, p),
                      f"Picked up outside the {v} Walmart, found sitting on the curb."),
        lambda r, p: (v := p["r11_town"],
                      f"Snowbird, winters near {v}, {r.choice(STATE_CODES)}; back in May."),
    ]


def _dates() -> list[Form]:
    def f(render: Callable[[random.Random, int, int, int], tuple[str, str]]) -> Form:
        return lambda r, p: render(r, r.randint(1940, 2025), r.randint(1, 12), r.randint(1, 28))

    return [
        f(lambda r, y, m, d: (v := f"{m:02d}-{d:02d}-{y % 100:02d}",
                              f"DOS {v} | Unit 7 | crew of two")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1][:3]} {d}",
                              f"LKW {v} @ 2200 per the husband.")),
        f(lambda r, y, m, d: (v := f"the {('first', 'ninth', 'twelfth', 'third')[d % 4]} of "
                                   f"{MONTHS[m - 1].lower()}",
                              f"she was last admitted on {v} for the same thing")),
    ]


def _names() -> list[Form]:
    return [
        lambda r, p: (v := f"{p['r11_crew_g']} {p['r11_crew_f']}",
                      f"Medic {r.randint(1, 30)} crew: {v} / paramedic."),
        lambda r, p: (v := p["r11_aide_g"],
                      f"HHA {v} comes MWF for bathing, reliable."),
        lambda r, p: (v := f"{p['r11_crew_g']} {p['r11_crew_f']}",
                      f"School nurse {v} called about the seizure at recess."),
    ]


R11: dict[str, list[Form]] = {"GEO": _geo(), "DATE": _dates(), "NAME": _names()}


def add_people(people: list[dict[str, str]], seed: int) -> None:
    """Per identity (``r11_*``): a town (Faker ``en_GB`` or ``en_CA``), a county (an
    ``en_GB`` family name), an EMS crew member and a home-health aide (``LOCALES``),
    accents kept half of the time."""
    from faker import Faker

    f = Faker(list(LOCALES))
    f.seed_instance(seed * 6007 + 13)
    towns = [Faker("en_GB"), Faker("en_CA")]
    for i, t in enumerate(towns):
        t.seed_instance(seed * 31 + 7 + i)
    rng = random.Random(seed * 211 + 5)

    def name(s: str) -> str:
        return s if rng.random() < 0.5 else (_plain(s) or "Aino")

    for p in people:
        p["r11_town"] = rng.choice(towns).city()
        p["r11_county"] = towns[0].last_name()
        p["r11_crew_g"], p["r11_crew_f"] = name(f.first_name()), name(f.last_name())
        p["r11_aide_g"] = name(f.first_name())
