"""Two blind template sets of ``bench/deid.py``: ``blind-dev`` and ``blind-test``.

Written before reading any rule of the scrubber (``activities/deid``,
``scrub.py``, ``residual_scan.py``) or the forms of the other sets, and
committed before the first run. ``blind-dev`` may be read while improving the
rules; ``blind-test`` never is (``bench/deid.py`` prints no misses for it), so
its figure stays an honest held-out figure even after the rules change.

Note styles named by no other set's docstring:

* ``blind-dev``: psychiatry progress notes, pharmacy / medication
  reconciliation, pediatric well-child visits, dental charting, ambulance run
  sheets;
* ``blind-test``: obstetric / labour and delivery notes, hospice and
  palliative notes, pathology reports, occupational-health letters,
  inter-hospital transfer summaries, ICU flowsheet comments, scanned-fax
  headers.

PHI is written as clinicians and clerks write it: upper, lower and mixed
case, "Lastname, Firstname", initials, nicknames, typos, dates in every order
and separator and partial dates, addresses with units and PO boxes, phones
and faxes in national and international forms. Other Safe Harbor unique
numbers (health plan, account, licence, device serial, vehicle plate,
accession, claim, prescription numbers) are labelled ``MRN``: the bench's
category for other unique ids (the scrubber's ``[ID]`` placeholder maps to
it). An employer (Safe Harbor lists employers with names) is labelled
``NAME``. Relatives, clinicians and employers come from Faker locales of
neither the other sets nor each other (dev and test differ), so no column
lists them. Each set's filler plants non-PHI traps: doses, lab values,
scores written like dates (``Apgars 8/9``, ``Snellen 20/40``), drug names and
eponyms that look like names, ranges and times.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DEV_LOCALES = ("en_GB", "en_AU", "pl_PL", "fi_FI", "tr_TR", "es_MX", "fil_PH", "vi_VN")
TEST_LOCALES = ("en_CA", "en_NZ", "en_IN", "cs_CZ", "sv_SE", "hu_HU", "da_DK", "pt_PT")
DEV_NICK = ("Bud", "Sissy", "Junior", "Buddy", "Dot", "Peggy", "Bobby", "Smitty", "Tex")
TEST_NICK = ("Sonny", "Chip", "Bunny", "Skip", "Patty", "Dutch", "Cookie", "Babe", "Sully")
DEV_CITIES = ("Bakersfield", "Lubbock", "Scranton", "Kalamazoo", "Yakima", "Pueblo", "Duluth",
              "Grand Rapids", "Cedar Rapids", "Fort Wayne", "Baton Rouge", "Las Cruces")
TEST_CITIES = ("Amarillo", "Bozeman", "Flagstaff", "Chattanooga", "Roanoke", "Sioux Falls",
               "Fargo", "Eau Claire", "St. Cloud", "Grand Junction", "Coeur d'Alene", "Laredo")
DEV_STREETS = ("Oak Ridge", "Maple Hollow", "Saddlebrook", "Lincoln", "Chestnut", "Willow Creek")
TEST_STREETS = ("Juniper", "Heron Bay", "Old Mill", "Tamarack", "Quarry", "Bellflower")
TRADES = ("Roofing", "Plumbing", "Logistics", "Dairy", "Auto Body", "Landscaping", "Tooling")
WEEKDAYS = ("Mon", "Tues", "Wed", "Thurs", "Fri", "Sat", "Sun")
TYPO_MONTHS = {1: "Janurary", 2: "Febuary", 4: "Apirl", 8: "Agust", 9: "Septmber",
               10: "Ocotber", 11: "Novmber", 12: "Decmber"}


#: Letters Unicode does not decompose, as a clerk types them without the mark.
_BARE = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ı": "i"})


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s.translate(_BARE))
                   if c.isascii() and (c.isalnum() or c in " -'"))


def _slug(s: str) -> str:
    """A name as it appears in an e-mail address or a URL: ASCII letters and digits."""
    return "".join(c for c in _fold(s).lower() if c.isalnum())


def _dmy(r: random.Random) -> tuple[int, int, int]:
    return r.randint(1931, 2025), r.randint(1, 12), r.randint(1, 28)


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def _mon(r: random.Random, m: int) -> str:
    """A month as people write it: full or short, any case, a dot or not."""
    full = MONTHS[m - 1]
    short = "Sept" if m == 9 and r.random() < 0.5 else full[:3]
    word = r.choice((full, short, short + "."))
    return r.choice((word, word.upper(), word.lower(), word))


def _digits(p: dict[str, str]) -> tuple[str, str, str]:
    d = "".join(c for c in p["phone"] if c.isdigit())[-10:]
    return d[:3], d[3:6], d[6:]


def _rand_phone(r: random.Random) -> tuple[str, str, str]:
    return str(r.randint(201, 989)), str(r.randint(201, 989)), f"{r.randint(0, 9999):04d}"


def _ssn(p: dict[str, str]) -> tuple[str, str, str]:
    a, b, c = p["ssn"].split("-")
    return a, b, c


def _mrn(p: dict[str, str]) -> str:
    return "".join(c for c in p["mrn"] if c.isdigit())


def _typo(r: random.Random, word: str) -> str:
    """A slip of the keyboard: two inner letters swapped, or one doubled or dropped."""
    if len(word) < 5 or not word.isalpha():  # a slip inside one word, not across a space
        return word + word[-1] if word[-1].isalpha() else word
    i = r.randint(1, len(word) - 3)
    kind = r.randrange(3)
    if kind == 0 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1:]


def _rid(r: random.Random, shape: str) -> str:
    """An id from a shape: ``A`` a capital, ``9`` a digit, anything else kept."""
    return "".join(r.choice(string.ascii_uppercase) if c == "A" else
                   str(r.randint(0, 9)) if c == "9" else c for c in shape)


def _case(r: random.Random, s: str) -> str:
    return r.choice((s, s, s.upper(), s.lower()))


def _age(r: random.Random) -> int:
    return r.randint(90, 106)


_WORDS = ("ninety", "ninety-one", "ninety-two", "ninety-three", "ninety-four", "ninety-five",
          "ninety-six", "ninety-seven", "ninety-eight", "ninety-nine")


def _unit(r: random.Random) -> str:
    return r.choice((f"Apt {r.randint(1, 40)}{r.choice('ABCD')}", f"Unit {r.randint(2, 300)}",
                     f"#{r.randint(100, 999)}", f"Ste {r.randint(100, 450)}",
                     f"Lot {r.randint(2, 80)}", f"Apt. {r.randint(1, 12)}"))


def _street(r: random.Random, names: tuple[str, ...]) -> str:
    suffix = r.choice(("Dr", "Drive", "Rd", "Road", "Ln", "Ct", "Way", "St.", "Ave", "Blvd"))
    return f"{r.randint(11, 9899)} {r.choice(('', 'N ', 'S ', 'W ', 'E '))}" \
           f"{r.choice(names)} {suffix}".replace("  ", " ")


# --------------------------------------------------------------------------- blind-dev
# psychiatry progress notes, pharmacy / med rec, well-child, dental, ambulance run sheets


def _dev_dates() -> list[Form]:
    def f(render: Callable[[random.Random, int, int, int], tuple[str, str]]) -> Form:
        return lambda r, p: render(r, *_dmy(r))

    return [
        f(lambda r, y, m, d: (v := f"{m:02}/{d:02}/{y}", f"Last fill {v}; refill due.")),
        f(lambda r, y, m, d: (v := f"{m}-{d}-{y % 100:02}", f"Seen {v} for med check.")),
        f(lambda r, y, m, d: (v := f"{d:02}.{m:02}.{y}", f"DOB:{v} (per mother).")),
        f(lambda r, y, m, d: (v := f"{_mon(r, m)} {d}", f"Next appt {v} @ 10:30 w/ therapist.")),
        f(lambda r, y, m, d: (v := f"{_ord(d)} of {MONTHS[m - 1]}, {y}",
                              f"Well-child check done the {v}.")),
        f(lambda r, y, m, d: (v := f"{y}-{m:02}-{d:02}", f"DTaP #4 given {v}, lot on file.")),
        f(lambda r, y, m, d: (v := f"{m:02}/{d:02}", f"Rx written {v} by covering MD.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1]} {y}", f"Last dental cleaning {v}.")),
        f(lambda r, y, m, d: (v := f"{y}{m:02}{d:02}", f"Call rec'd {v} 0214 hrs, dispatched.")),
        f(lambda r, y, m, d: (v := f"{d}-{MONTHS[m - 1][:3].upper()}-{y}",
                              f"Dispensed {v} qty 30.")),
        f(lambda r, y, m, d: (v := f"{TYPO_MONTHS.get(m, MONTHS[m - 1])} {d} {y}",
                              f"admitted to inpt psych {v}")),
        f(lambda r, y, m, d: (v := f"{m}/{max(d, 10)}",
                              f"{r.choice(WEEKDAYS)} {v} - pt no-showed.")),
        f(lambda r, y, m, d: (v := f"{m}/{d}/{y}", f"on scene {v} at 0300, pt ambulatory.")),
        f(lambda r, y, m, d: (v := f"{m:02}/{y}", f"Sealants placed {v}.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1].lower()} {_ord(d)}",
                              f"mom says last seizure was {v}.")),
    ]


DEV: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (v := f"{p['family'].upper()}, {p['given'].upper()}",
                      f"PT: {v}   DOB on file"),
        lambda r, p: (v := f"{p['family']}, {p['given']}", f"Med rec for {v} reviewed."),
        lambda r, p: (v := p["name"].lower(), f"pt {v} c/o trouble sleeping"),
        lambda r, p: (v := f"{p['given'][0]}. {p['family']}", f"Spoke with {v} re: copay."),
        lambda r, p: (v := p["family"], f"{r.choice(('Mr.', 'Ms.', 'Mrs', 'Mr'))} {v} calm "
                                        "and cooperative today."),
        lambda r, p: (v := r.choice(DEV_NICK), f'Pt goes by "{v}", likes dinosaurs.'),
        lambda r, p: (v := _typo(r, p["family"]), f"Patient {v} reports mood 6/10."),
        lambda r, p: (v := p["given"], f"{v} was tearful when discussing school."),
        lambda r, p: (v := p["bd_rel_g"], f"mother ({v}) at bedside, answers for pt"),
        lambda r, p: (v := f"{p['bd_rel_f'].upper()}, {p['bd_rel_g'].upper()}",
                      f"EC: {v} (dtr)"),
        lambda r, p: (v := f"{p['bd_rel_g']} {p['bd_rel_f']}", f"spoke w/ son {v} by phone."),
        lambda r, p: (v := p["bd_clin_f"], f"Dr {v} adjusted lithium."),
        lambda r, p: (v := f"{p['bd_clin_g']} {p['bd_clin_f']}", f"Verified by {v}, PharmD."),
        lambda r, p: (v := p["bd_clin_f"].lower(), f"per dr. {v}, hold sertraline"),
        lambda r, p: (v := f"{p['bd_clin_g'][0]}. {p['bd_clin_f']}",
                      f"Medic {v} / EMT-B crew of 2."),
        lambda r, p: (v := p["bd_clin_g"], f"Hygienist {v} did prophy."),
        lambda r, p: (v := f"{p['bd_emp_f']} {p['bd_trade']}",
                      f"Works nights at {v}, shift changes worsen sleep."),
        lambda r, p: (v := f"{p['family']}'s", f"{v} grandmother brings him to visits."),
    ],
    "DATE": _dev_dates(),
    "AGE": [
        lambda r, p: (v := str(_age(r)), f"{v} yo F, PMH depression, here for f/u."),
        lambda r, p: (v := f"{_age(r)}yo", f"{v} male found on floor by neighbor."),
        lambda r, p: (v := str(_age(r)), f"Pt is {v} y/o, lives alone."),
        lambda r, p: (v := str(_age(r)), f"{v}-year-old on 11 meds, review for Beers list."),
        lambda r, p: (v := str(_age(r)), f"Age: {v}"),
        lambda r, p: (v := r.choice(_WORDS), f"Great-grandmother is {v} and lives with them."),
        lambda r, p: (v := str(_age(r)), f"pt aged {v}, dentures upper/lower"),
        lambda r, p: (v := f"{_age(r)}{r.choice('MF')}", f"{v} fall, hip pain"),
        lambda r, p: (v := str(_age(r)), f"Turned {v} last month per daughter."),
    ],
    "PHONE": [
        lambda r, p: (v := "-".join(_digits(p)), f"Best # {v}."),
        lambda r, p: (v := ".".join(_digits(p)), f"cell {v} ok to leave msg"),
        lambda r, p: (v := "".join(_digits(p)), f"Callback:{v}"),
        lambda r, p: (v := f"1-{'-'.join(_digits(p))}", f"Home ph {v}."),
        lambda r, p: (v := "+1 " + " ".join(_digits(p)), f"Tel {v}"),
        lambda r, p: (v := "-".join(_digits(p)[1:]), f"mom's work # {v}"),
        lambda r, p: (v := "({}) {}-{}".format(*_rand_phone(r)),
                      f"Pharmacy fax ({v}) confirmed."),
        lambda r, p: (v := "{}/{}-{}".format(*_rand_phone(r)), f"Fax: {v}"),
        lambda r, p: (v := "{}-{}-{} x{}".format(*_rand_phone(r), r.randint(10, 999)),
                      f"Call prescriber office {v}."),
        lambda r, p: (v := f"+44 7{r.randint(100, 999)} {r.randint(100000, 999999)}",
                      f"Father abroad, reachable at {v}."),
        lambda r, p: (v := f"+63 9{r.randint(10, 99)} {r.randint(100, 999)} "
                           f"{r.randint(1000, 9999)}", f"Aunt in Manila {v}."),
    ],
    "EMAIL": [
        lambda r, p: (v := p["email"], f"Portal email {v} verified."),
        lambda r, p: (v := p["email"].upper(), f"EMAIL: {v}"),
        lambda r, p: (v := f"{_slug(p['bd_rel_g'])}.{_slug(p['bd_rel_f'])}"
                           f"{r.randint(1, 99)}@gmail.com", f"mom's email {v}"),
        lambda r, p: (v := p["email"], f"send receipt to <{v}>"),
        lambda r, p: (v := p["email"], f"Contact: mailto:{v}"),
        lambda r, p: (v := p["email"].split("@")[0],
                      f"pt writes her email as {v} at gmail dot com"),
        lambda r, p: (v := f"{_slug(p['bd_clin_f'])}.rx@" + r.choice(("cvs.com", "wal.net")),
                      f"Pharmacist email {v}."),
    ],
    "URL": [
        lambda r, p: (v := f"https://www.gofundme.com/f/help-{_slug(p['family'])}-family",
                      f"Family started {v} for dental costs."),
        lambda r, p: (v := f"facebook.com/{_slug(p['given'])}.{_slug(p['family'])}."
                           f"{r.randint(1, 99)}", f"Posts about meds at {v}"),
        lambda r, p: (v := f"www.caringbridge.org/visit/{_slug(p['family'])}{r.randint(1, 9)}",
                      f"Updates shared on {v}."),
        lambda r, p: (v := f"http://portal.stjudeped.org/pt/{_mrn(p)}", f"Growth chart: {v}"),
        lambda r, p: (v := f"instagram.com/{_slug(p['given'])}_{r.randint(10, 99)}",
                      f"Teen reports cyberbullying on {v}."),
        lambda r, p: (v := f"bit.ly/{_rid(r, 'A9AAA9A').lower()}",
                      f"Sent med list link {v} to pt."),
    ],
    "IP": [
        lambda r, p: (v := f"192.168.{r.randint(0, 255)}.{r.randint(2, 254)}",
                      f"Telepsych session from {v}, video ok."),
        lambda r, p: (v := f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 254)}",
                      f"eRx sent from workstation {v}."),
        lambda r, p: (v := f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(2, 254)}",
                      f"ePCR uploaded via {v}:8080"),
        lambda r, p: (v := "fe80::" + ":".join(f"{r.randint(1, 65535):x}" for _ in range(4)),
                      f"tablet IPv6 {v}"),
    ],
    "SSN": [
        lambda r, p: (v := p["ssn"], f"SSN {v} on Medicaid form."),
        lambda r, p: (v := " ".join(_ssn(p)), f"SS# {v}"),
        lambda r, p: (v := "".join(_ssn(p)), f"ssn:{v}"),
        lambda r, p: (v := _ssn(p)[2], f"Verified last 4 of SSN {v} at pickup."),
        lambda r, p: (v := ".".join(_ssn(p)), f"Soc Sec {v}"),
        lambda r, p: (v := p["ssn"], f"guarantor SSN-{v}"),
    ],
    "MRN": [
        lambda r, p: (v := _mrn(p), f"MRN {v}"),
        lambda r, p: (v := _mrn(p), f"mrn#{v} - chart reviewed"),
        lambda r, p: (v := _mrn(p), f"Med Rec # {v}"),
        lambda r, p: (v := _rid(r, "999999999"), f"Pt acct {v}, self-pay."),
        lambda r, p: (v := _rid(r, "AA999999A"), f"Medicaid ID {v} active."),
        lambda r, p: (v := _rid(r, "9999999"), f"Rx# {v} refilled x1."),
        lambda r, p: (v := _rid(r, "AAA999999999"), f"Member ID: {v} (Delta Dental)"),
        lambda r, p: (v := _rid(r, "A999-9999-9999"), f"Parent's DL {v} for controlled pickup."),
        lambda r, p: (v := _rid(r, "9AAA999"), f"MVC, pt's vehicle plate {v}."),
        lambda r, p: (v := _rid(r, "2024-0099999"), f"PCR # {v}"),
        lambda r, p: (v := _rid(r, "AA99999999"), f"Insulin pump S/N {v}"),
    ],
    "GEO": [
        lambda r, p: (v := p["street"], f"Lives at {v} with grandparents."),
        lambda r, p: (v := f"{p['street']} {_unit(r)}".upper(), f"ADDR: {v}"),
        lambda r, p: (v := _case(r, p["city"]), f"moved to {v} last yr"),
        lambda r, p: (v := f"{p['zip']}-{r.randint(1000, 9999)}", f"Zip {v}"),
        lambda r, p: (v := f"PO Box {r.randint(10, 9999)}", f"Mail to {v}, {p['state']}."),
        lambda r, p: (v := f"P.O. Box {r.randint(10, 999)}", f"Ship meds to {v}"),
        lambda r, p: (v := _street(r, DEV_STREETS), f"Pickup location: {v}, front porch."),
        lambda r, p: (v := f"{_street(r, DEV_STREETS)} {_unit(r)}".lower(),
                      f"resp to {v} for fall"),
        lambda r, p: (v := r.choice(DEV_CITIES), f"Transported from {v} ED."),
        lambda r, p: (v := r.choice(("Kern", "Lackawanna", "Yakima", "Kalamazoo")) + " County",
                      f"Lives in {v}, rural."),
        lambda r, p: (v := p["zip"], f"pharmacy near {v}"),
    ],
}

DEV_FILLER = (
    "PHQ-9 18, GAD-7 12; denies SI/HI. Continue sertraline 100 mg daily.",
    "Haldol 2 mg IM x1 given for agitation; Ativan 0.5 mg q6-8h prn.",
    "Lithium level 0.8, TSH 2.1; Abilify 5 mg at bedtime.",
    "Med rec: lisinopril 10 mg daily, Lasix 40 mg BID, Keppra 500 mg BID.",
    "NDC 0093-7146-56 substituted for brand; 30 tabs, 2 refills.",
    "Weight 14.2 kg (60th percentile), height 92 cm; Snellen 20/40 OU.",
    "Tanner stage 2; Denver II passed; MMR and varicella up to date.",
    "Tooth #14 MOD composite, #3 sealant; Frankl 3, no caries on #19.",
    "Medic 12 en route, ETA 6 min; GCS 14, BP 138/82, SpO2 94% on 2 L.",
    "No history of Parkinson disease, Bell's palsy or Graves disease.",
    "Pain 6/10, improved to 3/10 after ibuprofen 400 mg.",
    "Will follow up in 2-3 weeks; may call sooner if worse.",
    "Glucose 112 at 0745, repeat in 4 h; Narcan 4 mg IN given x1.",
    "Grace period on copay explained to mother.",
)


# --------------------------------------------------------------------------- blind-test
# OB / L&D, hospice, pathology, occupational health, transfers, ICU flowsheets, fax headers


def _test_dates() -> list[Form]:
    def f(render: Callable[[random.Random, int, int, int], tuple[str, str]]) -> Form:
        return lambda r, p: render(r, *_dmy(r))

    return [
        f(lambda r, y, m, d: (v := f"{m}/{d}/{y}", f"EDD {v} by 8 wk US.")),
        f(lambda r, y, m, d: (v := f"{d} {_mon(r, m)} {y}", f"LMP {v}, regular cycles.")),
        f(lambda r, y, m, d: (v := f"{m:02}/{d:02}/{y % 100:02}",
                              f"Collected: {v} 0815  Received: same")),
        f(lambda r, y, m, d: (v := f"{y}.{m:02}.{d:02}", f"Specimen accessioned {v}.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1]} {_ord(d)}", f"Date of injury: {v}.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1][:3].upper()} {d:02} {y}",
                              f"{v} 2:32PM  P.002/005")),
        f(lambda r, y, m, d: (v := f"{max(d, 13)}/{m:02}/{y}",
                              f"Transfer accepted on {v} by receiving team.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1]}, {y}", f"Elected hospice {v}.")),
        f(lambda r, y, m, d: (v := f"{m}/{max(d, 10)}", f"Death pronounced {v} at 0412.")),
        f(lambda r, y, m, d: (v := f"{d}{MONTHS[m - 1][:3]}{y}", f"DOD: {v}")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1]} {d}",
                              f"{r.choice(('Monday', 'Thursday', 'Friday'))}, {v}: "
                              "family meeting held.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1].lower()} {_ord(d)} {y}",
                              f"cleared to RTW {v}")),
        f(lambda r, y, m, d: (v := f"{m:02}-{max(d, 13)}", f"Lines changed on {v}.")),
        f(lambda r, y, m, d: (v := f"{TYPO_MONTHS.get(m, MONTHS[m - 1])} {_ord(d)}",
                              f"Induction scheduled {v}.")),
        f(lambda r, y, m, d: (v := f"{y}-{m:02}-{d:02}T{r.randint(0, 23):02}:{r.randint(0, 59):02}",
                              f"Event time {v} per monitor.")),
    ]


TEST: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (v := f"{p['family'].upper()}, {p['given'].upper()} "
                           f"{r.choice(string.ascii_uppercase)}", f"RE: {v}  DOB: see chart"),
        lambda r, p: (v := f"{p['family']} {p['given']}".upper(), f"PATIENT {v}"),
        lambda r, p: (v := p["family"], f"Baby Boy {v}, Apgars 8/9, to newborn nursery."),
        lambda r, p: (v := f"{p['bt_rel_g']} {p['bt_rel_f']}", f"FOB {v} present and supportive."),
        lambda r, p: (v := p["bt_rel_g"], f"husband {v} at bedside, updated on plan"),
        lambda r, p: (v := p["bt_clin_f"].lower(), f"discussed with dr {v} who accepts"),
        lambda r, p: (v := f"{p['bt_clin_f']}, {p['bt_clin_g']}",
                      f"Electronically signed: {v} MD, pathologist"),
        lambda r, p: (v := f"{p['bt_clin_g']} {p['bt_clin_f']}", f"Chaplain {v} visited."),
        lambda r, p: (v := f"{p['bt_clin_g'][0]}{p['bt_clin_f'][0]}",
                      f"RN {v} notified MD of MAP < 65."),
        lambda r, p: (v := p["bt_clin_f"].upper(), f"ATTN: DR {v}"),
        lambda r, p: (v := f"{p['bt_emp_f']} {p['bt_trade']}",
                      f"Employer: {v}; job involves lifting."),
        lambda r, p: (v := _typo(r, p["family"]), f"Mrs. {v} comfortable, no grimacing."),
        lambda r, p: (v := r.choice(TEST_NICK), f"Prefers to be called {v}."),
        lambda r, p: (v := p["given"].lower(), f"{v} resting, daughter at bedside"),
        lambda r, p: (v := f"{p['given'][0]}.{p['family']}", f"Letter to {v} re fitness."),
        lambda r, p: (v := f"{p['bt_rel_f']}, {p['bt_rel_g']}", f"Health care proxy: {v} (son)"),
    ],
    "DATE": _test_dates(),
    "AGE": [
        lambda r, p: (v := str(_age(r)), f"{v} y.o. G0 with hx of breast ca, hospice dx."),
        lambda r, p: (v := f"{_age(r)}-yr-old", f"{v} w/ end-stage CHF, PPS 30%."),
        lambda r, p: (v := str(_age(r)), f"pt {v}F DNR/DNI"),
        lambda r, p: (v := str(_age(r)), f"at age {v}, functional decline noted"),
        lambda r, p: (v := f"{_age(r)}y", f"Patient age: {v}"),
        lambda r, p: (v := str(_age(r)), f"{v} years of age, resection specimen."),
        lambda r, p: (v := r.choice(_WORDS), f"She is {v} years old."),
        lambda r, p: (v := str(_age(r)), f"AGE {v}  SEX F"),
        lambda r, p: (v := str(_age(r)), f"Mother of pt ({v}) also under hospice care."),
    ],
    "PHONE": [
        lambda r, p: (v := "+1 ({}) {}-{}".format(*_digits(p)), f"Contact {v}"),
        lambda r, p: (v := "{}-{}-{}".format(*_digits(p)), f"FROM: {v}  TO: 4-WEST"),
        lambda r, p: (v := "{} {}-{}".format(*_digits(p)), f"tel {v} (home)"),
        lambda r, p: (v := "(+1) {}{}{}".format(*_digits(p)), f"mobile {v}"),
        lambda r, p: (v := "{}.{}.{}".format(*_rand_phone(r)), f"Employer HR fax {v}"),
        lambda r, p: (v := "({}) {} {}".format(*_rand_phone(r)), f"Send records FAX {v}"),
        lambda r, p: (v := "{}-{}-{}".format(*_rand_phone(r)), f"Sending facility call-back "
                                                               f"{v} ext 4410"),
        lambda r, p: (v := f"+91 98{r.randint(100, 999)} {r.randint(10000, 99999)}",
                      f"Son in Pune, phone {v}."),
        lambda r, p: (v := f"+420 6{r.randint(10, 99)} {r.randint(100, 999)} "
                           f"{r.randint(100, 999)}", f"sister (Prague) {v}"),
        lambda r, p: (v := f"+46 70-{r.randint(100, 999)} {r.randint(10, 99)} "
                           f"{r.randint(10, 99)}", f"daughter Sweden {v}"),
        lambda r, p: (v := "{}-{}".format(*_digits(p)[1:]), f"ph# {v}"),
    ],
    "EMAIL": [
        lambda r, p: (v := p["email"], f"Results released to {v}."),
        lambda r, p: (v := p["email"].upper(), f"E-MAIL {v}"),
        lambda r, p: (v := p["email"].replace("@", "+portal@"), f"portal login {v}"),
        lambda r, p: (v := f"{_slug(p['bt_clin_g'])[:1]}.{_slug(p['bt_clin_f'])}@hr."
                           f"{_slug(p['bt_emp_f'])}.com",
                      f'From: "{p["bt_clin_f"]}" <{v}>'),
        lambda r, p: (v := f"{_slug(p['bt_rel_f'])}{r.randint(50, 99)}@hotmail.co.uk",
                      f"proxy email {v}."),
        lambda r, p: (v := p["email"], f"email:{v};"),
    ],
    "URL": [
        lambda r, p: (v := f"https://www.linkedin.com/in/{_slug(p['given'])}-"
                           f"{_slug(p['family'])}-{r.randint(100, 999)}",
                      f"Job history per {v}"),
        lambda r, p: (v := f"tiktok.com/@{_slug(p['family'])}{r.randint(1, 99)}",
                      f"Birth announced on {v}."),
        lambda r, p: (v := f"https://drive.google.com/file/d/{_rid(r, 'A9A9AA9A9A9A')}/view",
                      f"Outside path slides: {v}"),
        lambda r, p: (v := f"HTTP://WWW.{_slug(p['family']).upper()}FAMILY.COM", f"see {v}"),
        lambda r, p: (v := f"www.legacy.com/us/obituaries/name/{_slug(p['given'])}-"
                           f"{_slug(p['family'])}-obituary", f"Obituary at {v}."),
        lambda r, p: (v := f"https://pacs.mercyregional.org/viewer?acc={_mrn(p)}",
                      f"Images: {v}"),
    ],
    "IP": [
        lambda r, p: (v := f"203.0.113.{r.randint(2, 254)}", f"Fax server {v} logged."),
        lambda r, p: (v := "2001:db8:" + ":".join(f"{r.randint(1, 65535):x}" for _ in range(3))
                      + "::" + f"{r.randint(1, 65535):x}", f"monitor IPv6 {v}"),
        lambda r, p: (v := f"100.{r.randint(64, 127)}.{r.randint(0, 255)}.{r.randint(2, 254)}",
                      f"IP addr: {v}"),
        lambda r, p: (v := "2001:0DB8:" + ":".join(f"{r.randint(1, 65535):04X}" for _ in range(6)),
                      f"Transfer portal login from {v}."),
        lambda r, p: (v := f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 254)}",
                      f"pump at {v} alarmed"),
    ],
    "SSN": [
        lambda r, p: (v := p["ssn"], f"SSN: {v}"),
        lambda r, p: (v := "-".join(_ssn(p)), f"SOC SEC # {v}"),
        lambda r, p: (v := "{}-{} {}".format(*_ssn(p)), f"social {v} (claim form)"),
        lambda r, p: (v := _ssn(p)[2], f"SSN xxx-xx-{v}"),
        lambda r, p: (v := "".join(_ssn(p)), f"S.S.N. {v}"),
        lambda r, p: (v := p["ssn"], f"employee SSN {v} on WC form"),
    ],
    "MRN": [
        lambda r, p: (v := _mrn(p), f"MRN: {v}"),
        lambda r, p: (v := _rid(r, "S99-99999"), f"Accession # {v}"),
        lambda r, p: (v := _rid(r, "9999999999"), f"CSN {v}"),
        lambda r, p: (v := _rid(r, "WC99-999999"), f"Claim # {v}"),
        lambda r, p: (v := _rid(r, "E99999"), f"Employee ID {v}"),
        lambda r, p: (v := _rid(r, "AAA999999999"), f"Policy no. {v}"),
        lambda r, p: (v := _rid(r, "1AAAA99A99A999999"), f"VIN {v}, forklift incident"),
        lambda r, p: (v := _mrn(p), f"Hosp # {v} at sending facility"),
        lambda r, p: (v := _rid(r, "AAA99999A"), f"pacemaker serial {v}, interrogated"),
        lambda r, p: (v := _rid(r, "AA 999 999"), f"Forklift licence no. {v}"),
    ],
    "GEO": [
        lambda r, p: (v := p["street"], f"Home address {v}."),
        lambda r, p: (v := p["city"].upper(), f"SENDING FACILITY: MERCY REGIONAL, {v}"),
        lambda r, p: (v := p["city"], f"lives in {v} with husband"),
        lambda r, p: (v := p["zip"], f"zip {v}"),
        lambda r, p: (v := f"RR {r.randint(1, 9)} Box {r.randint(10, 300)}", f"Mail: {v}"),
        lambda r, p: (v := f"P O BOX {r.randint(10, 9999)}", f"REMIT TO {v}"),
        lambda r, p: (v := f"{r.randint(100, 4999)} W {_ord(r.randint(2, 99))} Ave",
                      f"Work site: {v}"),
        lambda r, p: (v := f"{_street(r, TEST_STREETS)} {_unit(r)}", f"Hospice at home: {v}"),
        lambda r, p: (v := r.choice(TEST_CITIES), f"Transfer from {v} Regional Medical "
                                                  "Center for higher level of care."),
        lambda r, p: (v := r.choice(("Gallatin", "Cass", "Hamilton", "Webb")) + " Co.",
                      f"Resident of {v}"),
        lambda r, p: (v := f"{p['street']}, Bldg {r.randint(1, 9)}", f"Injury at {v}."),
    ],
}

TEST_FILLER = (
    "G3P2012 at 38+2 weeks; Bishop score 8; GBS negative.",
    "Apgars 8/9; EBL 350 mL; Pitocin 2 mU/min, Rhogam given.",
    "PPS 30%, FAST 7c; morphine 2.5 mg SL q2h prn dyspnea.",
    "Gleason 4+3=7, grade group 3; Ki-67 20%; margins negative.",
    "Breslow 1.2 mm, Clark level IV; no Reed-Sternberg cells.",
    "Levophed 0.05 mcg/kg/min, MAP 65; RASS -2, CAM-ICU negative.",
    "FiO2 40%, PEEP 8; Foley to gravity; Swan-Ganz removed.",
    "Fit for modified duty: lifting limit 20 lb for 2-4 weeks.",
    "Audiogram 25 dB at 4000 Hz; FEV1/FVC 0.72; TB test 0 mm at 48-72 h.",
    "Page 2 of 5. CONFIDENTIAL: intended recipient only.",
    "Homan sign negative; Wells score 1; no Addison or Cushing features.",
    "Hgb 10.2, Plt 88, INR 1.4; K 3.9 at 0600.",
    "Will reassess at 1400; may titrate per protocol.",
    "ER/PR positive, HER2 2+ by IHC, FISH pending.",
)


def add_people(people: list[dict[str, str]], seed: int) -> None:
    """A relative, a clinician and an employer per identity for each blind set.

    ``bd_*`` fields (``blind-dev``) come from ``DEV_LOCALES`` and ``bt_*``
    (``blind-test``) from ``TEST_LOCALES``, each Faker with its own seed, so
    the other fields (and the other sets) stay what they were. Names keep
    their accents one time in three, as an EHR would hold them.
    """
    from faker import Faker

    rng = random.Random(seed * 409 + 5)
    for prefix, locales, salt in (("bd_", DEV_LOCALES, 11), ("bt_", TEST_LOCALES, 13)):
        f = Faker(list(locales))
        f.seed_instance(seed * 6151 + salt)

        def name(s: str) -> str:
            return s if rng.random() < 1 / 3 else (_fold(s) or "Ana")

        for p in people:
            p[prefix + "rel_g"], p[prefix + "rel_f"] = name(f.first_name()), name(f.last_name())
            p[prefix + "clin_g"], p[prefix + "clin_f"] = name(f.first_name()), \
                name(f.last_name())
            p[prefix + "emp_f"], p[prefix + "trade"] = name(f.last_name()), rng.choice(TRADES)
