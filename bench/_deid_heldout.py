"""The second held-out template set of ``bench/deid.py`` (issue 12).

The first held-out set was looked at while the rules were improved, so it is
a "seen" set now. These forms were written *before* the rules were changed
for them, from a description of how clinical notes are written rather than
from the scrubber's misses:

* discharge summaries: header lines (``Patient: DOE, JANE``, ``Admission
  Date:``), attending and dictating clinicians with credentials, follow-up
  instructions with fax and phone numbers;
* nursing notes: timed entries, relatives at the bedside named in passing,
  hand-offs to other nurses, ages in shorthand (``92F``);
* referral letters: ``Re:`` lines, salutations, signatures, UK-style dates,
  full address blocks with unit numbers and PO boxes;
* telephone encounters: callers and call-back numbers with extensions,
  video-visit links and addresses, insurance and account numbers.

People no column lists (clinicians, relatives) come from Faker locales the
name dictionary was *not* built from, so they test the context cues more
than the dictionary. Filler sentences carry the usual false-positive traps:
fractions and scores (``3/4 tablet``, ``pain 4/10``), ``x1`` doses, eponyms
(``Graves disease``, ``St. John's wort``), ``May`` as a verb.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
#: Abbreviations as clinicians write them (``Sept.`` included).
MON_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tues", "Wed", "Thurs", "Fri", "Sat", "Sun")
#: Locales the name dictionary (``activities/deid/names.py``) was not built from.
OTHER_LOCALES = ("ro_RO", "hr_HR", "sk_SK", "lt_LT", "et_EE", "no_NO", "id_ID", "zu_ZA",
                 "en_US")
#: Real US cities, for transfers from places no column of the record holds.
CITIES = ("Dayton", "Toledo", "Fresno", "Tucson", "Omaha", "Wichita", "Spokane", "Boise",
          "Albany", "Savannah", "Lubbock", "Knoxville", "Des Moines", "Baton Rouge",
          "Grand Rapids", "Syracuse", "Chattanooga", "Fort Wayne", "Little Rock", "Reno",
          "Scranton", "Duluth", "Bakersfield", "Eugene", "Worcester", "Akron")
NUMBER_WORDS = ("ninety", "ninety-one", "ninety-two", "ninety-three", "ninety-four",
                "ninety-five", "ninety-six", "ninety-seven", "ninety-eight", "ninety-nine")

FILLER_NOTES = (
    "Tolerating regular diet; ambulating with walker, assist x1.",
    "Foley catheter removed this morning; voiding without difficulty.",
    "Take 1/2 tablet of lisinopril 10 mg daily, 3/4 tablet if BP over 140/90.",
    "Pain 4/10, improved with Tylenol 650 mg q6h PRN.",
    "History of Graves disease and Hodgkin lymphoma in remission.",
    "Grade 2/6 systolic murmur at the left sternal border.",
    "Vitals: T 98.6 F, HR 72, RR 16, SpO2 97% on RA.",
    "Labs: Na 138, K 4.1, Cr 1.02, WBC 7.8, Hgb 11.9.",
    "Lasix 40 mg IV x1 given with good urine output.",
    "May shower; no driving while taking oxycodone.",
    "St. John's wort stopped because of interactions.",
    "Ext. rotation of the right shoulder limited by pain.",
    "Seen by Physical Therapy; plan home with Home Health services.",
    "Cough x 3 days, fever to 101.2 F, no rigors.",
    "Fall precautions reviewed with teach-back.",
    "Transferred to 4 West for telemetry monitoring.",
)


def _digits(p: dict[str, str]) -> str:
    return "".join(c for c in p["phone"] if c.isdigit())


def _mailbox(name: str) -> str:
    """A name as it appears in an e-mail address (ASCII letters only)."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if c.isascii() and c.isalpha()).lower() or "x"


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1925, 2024), rng.randint(1, 12), rng.randint(1, 28)


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def _abbr(m: int, dot: bool) -> str:
    return MON_ABBR[m - 1] + ("." if dot and m != 5 else "")


def _d(f: Callable[[int, int, int], tuple[str, str]]) -> Form:
    """A date form from (year, month, day)."""
    return lambda r, p: f(*_date(r))


def _street(r: random.Random) -> str:
    names = ("Oak", "Maple", "Washington", "Lincoln", "Cedar", "Highland", "Sunset", "Park",
             "Church", "Mill", "Jefferson", "Walnut", "Riverside", "Forest")
    suffixes = ("St", "St.", "Street", "Ave", "Ave.", "Avenue", "Rd", "Road", "Dr", "Dr.",
                "Drive", "Ln", "Lane", "Blvd", "Ct", "Court", "Way", "Pl", "Place", "Terr")
    pre = r.choice(("", "", "N. ", "S ", "East ", "W. "))
    return f"{r.randint(1, 9999)} {pre}{r.choice(names)} {r.choice(suffixes)}"


def _unit(r: random.Random) -> str:
    return r.choice(("Apt", "Apt.", "Unit", "Suite", "Ste", "#", "Fl", "Rm")) + " " + \
        f"{r.randint(1, 40)}{r.choice(('', '', 'A', 'C'))}"


def _ext(r: random.Random) -> str:
    return r.choice(("ext. ", "ext ", "x", "x ", "#", "Ext ")) + str(r.randint(2, 9999))


HELD_OUT_2: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (f"{p['family'].upper()}, {p['given'].upper()}",
                      f"Patient: {p['family'].upper()}, {p['given'].upper()}"),
        lambda r, p: (p["name"], f"Re: {p['name']}, referred for evaluation"),
        lambda r, p: (p["family"], f"Thank you for referring {r.choice(('Mr.', 'Mrs.', 'Ms'))} "
                                   f"{p['family']} to our clinic."),
        lambda r, p: (f"{p['clin_given']} {p['clin_family']}",
                      f"Yours sincerely,\n{p['clin_given']} {p['clin_family']}, MD"),
        lambda r, p: (f"{p['clin_given']} {p['clin_family']}",
                      f"Attending: {p['clin_given']} {p['clin_family']}, MD"),
        lambda r, p: (f"{p['clin_given'][0]}. {p['clin_family']}",
                      f"Report given to {p['clin_given'][0]}. {p['clin_family']}, RN."),
        lambda r, p: (p["clin_family"], f"Discussed with Dr {p['clin_family']} who agrees."),
        lambda r, p: (p["rel_given"], f"Spoke with pt's son, {p['rel_given']}, who states she "
                                      f"is eating less."),
        lambda r, p: (p["rel_given"], f"Caller: {p['rel_given']} (daughter)"),
        lambda r, p: (p["rel_given"], f"Pt's wife ({p['rel_given']}) updated on plan."),
        lambda r, p: (p["rel_given"], f"1400: Daughter {p['rel_given']} at bedside."),
        lambda r, p: (p["rel_given"], f"{p['rel_given']}, her niece, will drive her home."),
        lambda r, p: (f"{p['rel_given']} {p['rel_family']}",
                      f"Emergency contact: {p['rel_given']} {p['rel_family']} (sister)"),
    ],
    "GEO": [
        lambda r, p: (f"{p['street']}, {p['city']}, {p['state']} {p['zip']}",
                      f"Discharged to home: {p['street']}, {p['city']}, {p['state']} "
                      f"{p['zip']}."),
        lambda r, p: (p["city"], f"Lives in {p['city']} with her son."),
        lambda r, p: (lambda s, u: (f"{s}, {u}", f"New address {s}, {u}."))(_street(r), _unit(r)),
        lambda r, p: (lambda s: (s, f"Home health to visit at {s}."))(_street(r)),
        lambda r, p: (lambda n: (f"PO Box {n}", f"Mail to PO Box {n}, {p['state']}."))(
            r.randint(10, 99999)),
        lambda r, p: (lambda c: (c, f"Transferred from {c} for higher level of care."))(
            r.choice(CITIES)),
        lambda r, p: (p["zip"], f"Zip code {p['zip']} on file."),
        lambda r, p: (lambda s: (f"{s}\n{p['city']}", f"{s}\n{p['city']}, {p['state']}"))(
            _street(r)),
    ],
    "DATE": [
        _d(lambda y, m, d: (f"{m:02d}/{d:02d}/{y}", f"Admission Date: {m:02d}/{d:02d}/{y}")),
        _d(lambda y, m, d: (f"{m}/{d}/{y % 100:02d}",
                            f"Discharge Date: {m}/{d}/{y % 100:02d}")),
        _d(lambda y, m, d: (f"{d} {_abbr(m, False)} {y}", f"Letter dated {d} "
                                                         f"{_abbr(m, False)} {y}.")),
        _d(lambda y, m, d: (f"{_ord(d)} {MONTHS[m - 1]} {y}", f"Clinic on {_ord(d)} "
                                                              f"{MONTHS[m - 1]} {y}.")),
        _d(lambda y, m, d: (f"{MONTHS[m - 1]} {_ord(d)} {y}", f"Seen {MONTHS[m - 1]} "
                                                              f"{_ord(d)} {y} in clinic.")),
        _d(lambda y, m, d: (f"{m}/{d}/{y}", f"Telephone encounter {m}/{d}/{y} "
                                            f"{r_time(y, m, d)}")),
        _d(lambda y, m, d: (f"{_abbr(m, False)}-{d:02d}-{y}", f"Last seen "
                                                             f"{_abbr(m, False)}-{d:02d}-{y}.")),
        _d(lambda y, m, d: (f"{d + 12 if d < 17 else d:02d}/{m:02d}/{y}",
                            f"DOB {d + 12 if d < 17 else d:02d}/{m:02d}/{y}")),
        _d(lambda y, m, d: (f"{WEEKDAYS[(y + m + d) % 7]} {m}/{d}",
                            f"Fell at home {WEEKDAYS[(y + m + d) % 7]} {m}/{d}.")),
        _d(lambda y, m, d: (f"{MONTHS[m - 1]} of {y}", f"Diagnosed in {MONTHS[m - 1]} of {y}.")),
        _d(lambda y, m, d: (f"{_abbr(m, True)} {d}, {y}", f"Last colonoscopy {_abbr(m, True)} "
                                                          f"{d}, {y}.")),
        _d(lambda y, m, d: (f"{y}{m:02d}{d:02d}", f"Specimen collected {y}{m:02d}{d:02d} "
                                                  f"0815.")),
        _d(lambda y, m, d: (f"{m}-{d}-{y}", f"Surgery {m}-{d}-{y} without complication.")),
    ],
    "PHONE": [
        lambda r, p: (lambda g: (f"{g[:3]} {g[3:6]} {g[6:]}", f"Call back number: {g[:3]} "
                                                              f"{g[3:6]} {g[6:]}"))(_digits(p)),
        lambda r, p: (lambda g: (f"({g[:3]}) {g[3:6]}-{g[6:]}", f"Fax records to ({g[:3]}) "
                                                                f"{g[3:6]}-{g[6:]}."))(_digits(p)),
        lambda r, p: (lambda g, x: (f"{g[:3]}-{g[3:6]}-{g[6:]} {x}", f"Office: {g[:3]}-{g[3:6]}-"
                                                                     f"{g[6:]} {x}"))(
            _digits(p), _ext(r)),
        lambda r, p: (lambda g, x: (f"{p['phone']} {x}", f"Returned call to {p['phone']} {x}, "
                                                         f"left message."))(_digits(p), _ext(r)),
        lambda r, p: (lambda g: (f"+1 ({g[:3]}) {g[3:6]}-{g[6:]}", f"Cell +1 ({g[:3]}) "
                                                                   f"{g[3:6]}-{g[6:]}"))(_digits(p)),
        lambda r, p: (lambda n: (n, f"Son in France: {n}."))(
            f"+33 {r.randint(1, 9)} {r.randint(10, 99)} {r.randint(10, 99)} "
            f"{r.randint(10, 99)} {r.randint(10, 99)}"),
        lambda r, p: (lambda n: (n, f"Daughter in London, tel {n}"))(
            f"0044 20 {r.randint(1000, 9999)} {r.randint(1000, 9999)}"),
        lambda r, p: (lambda g: (f"{g[:3]}/{g[3:6]}-{g[6:]}", f"Pharmacy {g[:3]}/{g[3:6]}-"
                                                              f"{g[6:]}"))(_digits(p)),
    ],
    "EMAIL": [
        lambda r, p: (p["email"], f"E-mail: <{p['email']}>"),
        lambda r, p: (lambda e: (e, f"Daughter's email {e} for portal proxy."))(
            f"{_mailbox(p['rel_given'])}.{_mailbox(p['family'])}{r.randint(1, 99)}@gmail.com"),
        lambda r, p: (p["email"], f"mailto:{p['email']}"),
    ],
    "SSN": [
        lambda r, p: (p["ssn"], f"SS# {p['ssn']}"),
        lambda r, p: (p["ssn"].replace("-", ""), f"Social Security No.: "
                                                 f"{p['ssn'].replace('-', '')}"),
        lambda r, p: (p["ssn"], f"Verified identity, SSN: {p['ssn']}."),
    ],
    "MRN": [
        lambda r, p: (p["mrn"][3:], f"MRN: {p['mrn'][3:]}"),
        lambda r, p: (p["mrn"][3:], f"Med Rec #: {p['mrn'][3:]}"),
        lambda r, p: (p["mrn"][4:], f"Unit No: {p['mrn'][4:]}"),
        lambda r, p: (p["mrn"][3:], f"Hospital No. {p['mrn'][3:]}"),
        lambda r, p: (lambda m: (m, f"Medicare ID {m}"))(
            f"{r.randint(1, 9)}{r.choice('ACDEFGHJK')}{r.choice('ACDEFGHJK')}{r.randint(0, 9)}-"
            f"{r.choice('ACDEFGHJK')}{r.choice('ACDEFGHJK')}{r.randint(0, 9)}-"
            f"{r.choice('ACDEFGHJK')}{r.choice('ACDEFGHJK')}{r.randint(10, 99)}"),
        lambda r, p: (lambda m: (m, f"Insurance ID: {m}"))(
            f"{r.choice(('XYZ', 'BCB', 'UHC'))}{r.randint(100000000, 999999999)}"),
        lambda r, p: (lambda m: (m, f"Acct #{m}"))(str(r.randint(10_000_000, 99_999_999))),
    ],
    "URL": [
        lambda r, p: (lambda u: (u, f"Video visit link: {u}"))(
            f"https://www.telehealth.example.com/join?id={r.randint(10_000, 99_999)}"),
        lambda r, p: (lambda u: (u, f"Joined via {u}"))(f"zoom.us/j/{r.randint(10**9, 10**10)}"),
        lambda r, p: (lambda u: (u, f"Photos uploaded to {u}"))(
            f"portal.stmarys.org/upload/{r.randint(1000, 99999)}"),
    ],
    "IP": [
        lambda r, p: (lambda a: (a, f"Logged in from {a}."))(
            f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"),
        lambda r, p: ("2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                      "Device 2001:0db8:85a3:0000:0000:8a2e:0370:7334 registered."),
        lambda r, p: (lambda a: (a, f"Remote desktop {a} used."))(
            f"10.0.{r.randint(0, 255)}.{r.randint(1, 254)}:3389"),
    ],
    "AGE": [
        lambda r, p: (lambda a: (f"{a} yo F", f"{a} yo F with CHF."))(r.randint(90, 104)),
        lambda r, p: (lambda a: (f"{a} y.o.", f"Pt is a {a} y.o. woman."))(r.randint(90, 104)),
        lambda r, p: (lambda a: (f"{a} years", f"She is {a} years of age."))(
            r.randint(90, 104)),
        lambda r, p: (lambda w: (f"{w}-year-old", f"This pleasant {w}-year-old gentleman."))(
            r.choice(NUMBER_WORDS)),
        lambda r, p: (lambda a: (f"{a}M", f"{a}M admitted with sepsis."))(r.randint(90, 104)),
        lambda r, p: (lambda a: (f"{a}-yr-old", f"A {a}-yr-old man."))(r.randint(90, 104)),
    ],
}


def r_time(y: int, m: int, d: int) -> str:
    """A clock time for a telephone encounter header (derived, not PHI)."""
    return f"{(y + d) % 12 + 1}:{(m * 7) % 60:02d} {'AM' if d % 2 else 'PM'}"


def add_people(people: list[dict[str, str]], seed: int) -> None:
    """Give each identity a clinician and a relative from ``OTHER_LOCALES``.

    A separate Faker (own seed) so the other fields, and the tuned and seen
    sets, stay what they were.
    """
    from faker import Faker

    f = Faker(list(OTHER_LOCALES))
    f.seed_instance(seed * 7919 + 17)
    for p in people:
        p["clin_given"], p["clin_family"] = f.first_name(), f.last_name()
        p["rel_given"], p["rel_family"] = f.first_name(), f.last_name()
