"""A sealed held-out template set of ``bench/deid.py``: ``sealed``.

Written blind: before reading any rule of the scrubber (``activities/deid``,
``scrub.py``, ``residual_scan.py``) or the forms and fillers of the other
sets, and committed before its first run. ``bench/deid.py`` never prints its
misses (``SEALED``), so its figure stays an honest held-out figure for as
long as nobody reads its output notes while tuning. Its GEO, DATE and NAME
misses of seeds 1-6 were read in deid12 (issue 12, at the lead's request;
docs/deid.md): since then it is no longer held out.

Note styles named by no other set's docstring:

* nephrology / haemodialysis run sheets and oncology infusion-chair notes;
* wound-care and ostomy notes, speech-language therapy sessions;
* ophthalmology clinic notes, research-study screening and consent logs;
* billing / coding queries to physicians, incident (safety event) reports;
* chaplaincy visits, interpreter-service notes, NICU family updates;
* dictated letters with ``cc:`` lists and address blocks.

PHI is written as people write it: upper, lower and mixed case, "Lastname,
Firstname", initials, nicknames, typos inside a word, dates in every order
and separator and partial dates (month names misspelt too), ages over 89 in
digits and words, addresses with units, PO boxes, cities, counties and
ZIP+4, phones and faxes with extensions and international prefixes, e-mail
addresses (one spelled out), URLs with and without scheme, IPv4 and IPv6,
full and partial SSNs. Other Safe Harbor unique numbers (account, health
plan, Medicare, licence, device serial, vehicle plate, study subject, claim)
are labelled ``MRN``, the bench's category for other unique ids. Relatives,
clinicians, coordinators and interpreters come from Faker locales none of the
other sets imports, so no column lists them. The filler plants non-PHI
traps: doses, lab values, scores (``pain 3/10``, ``IOP 16/18``), NDC and CPT
codes, eponyms and drug names, times and ranges, words that are also given
names (``grace``, ``bill``, ``mark``).

First run (this set on main at 86b9694, ``bench/deid.py`` defaults, 4,000
notes, seed 1), recall: AGE 100.00 %, DATE 94.62 %, EMAIL 99.63 %, GEO
75.53 %, IP 78.41 %, MRN 90.94 %, NAME 92.26 %, PHONE 93.39 %, SSN 96.68 %,
URL 99.65 %; 92.09 % overall. The scorer counts a span with no distinctive
token as caught: about 14 % of this set's AGE and DATE spans (ages such as
``97`` and partial dates such as ``3/14`` whose tokens occur in some set's
filler), so those two figures are upper bounds.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
#: Locales of relatives/clinicians (none of them used by the other sets).
LOCALES = ("yo_NG", "fr_CA", "de_AT", "es_CO", "nl_BE", "de_CH", "es_AR", "en_PH")
CITIES = ("Cuyahoga Falls", "Walla Walla", "Eau Claire", "Coeur d'Alene", "Sioux City",
          "Bowling Green", "Lake Havasu City", "Winston-Salem", "Grand Forks", "Ann Arbor",
          "Poughkeepsie", "Kalamazoo", "Chillicothe", "Tuscaloosa")
COUNTIES = ("Lorain", "Hennepin", "Maricopa", "Multnomah", "Pima", "Buncombe", "Cabarrus",
            "Kanawha", "Yakima", "Tippecanoe", "Washtenaw", "Ouachita")
NICKS = ("Bud", "Sissy", "Kiki", "Bubba", "Dee Dee", "Tink", "Junebug", "Sonny", "Pookie",
         "Boo", "Lulu", "Chip")
RELATIONS = ("husband", "wife", "daughter", "son", "niece", "grandson", "sister", "partner",
             "neighbor", "stepmother", "brother-in-law", "goddaughter")
WORDS = ("ninety", "ninety-one", "ninety-two", "ninety-three", "ninety-four", "ninety-five",
         "ninety-six", "ninety-seven", "ninety-eight", "ninety-nine", "one hundred",
         "one hundred and one", "one hundred two")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "comcast.net",
           "protonmail.com", "hotmail.co.uk")


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _slug(s: str) -> str:
    return "".join(c for c in _fold(s).lower() if c.isalnum())


def _case(r: random.Random, s: str) -> str:
    return r.choice((s, s, s.upper(), s.lower()))


def _typo(r: random.Random, w: str) -> str:
    """A typo inside the word: two inner letters swapped, or one doubled or dropped."""
    if len(w) < 5 or not w.isalpha():
        return w
    i = r.randint(1, len(w) - 3)
    kind = r.randrange(3)
    if kind == 0 and w[i] != w[i + 1]:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if kind == 1:
        return w[:i] + w[i] + w[i:]
    return w[:i] + w[i + 1:]


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.digits) for _ in range(n))


def _letters(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.ascii_letters) for _ in range(n))


def _us_phone(r: random.Random) -> str:
    return f"({r.randint(201, 989)}) {_digits(r, 3)}-{_digits(r, 4)}"


def _month(r: random.Random, m: int) -> str:
    """Month name as written: full, 3-letter with or without dot, any case, or misspelt."""
    full = MONTHS[m - 1]
    k = r.randrange(6)
    if k == 0:
        return full[:3] + "."
    if k == 1:
        return full[:3].upper()
    if k == 2:
        return _typo(r, full) if len(full) >= 5 else full.lower()
    return _case(r, full)


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def _date(r: random.Random) -> str:
    """A full or partial date in one of many orders and separators."""
    y, m, d = r.randint(1931, 2025), r.randint(1, 12), r.randint(1, 28)
    mon, yy = _month(r, m), y % 100
    forms = (f"{m}/{d}/{y}", f"{m:02d}/{d:02d}/{y}", f"{m}-{d}-{yy:02d}", f"{d}.{m:02d}.{y}",
             f"{y}-{m:02d}-{d:02d}", f"{y}{m:02d}{d:02d}", f"{d} {mon} {y}", f"{mon} {d}, {y}",
             f"{mon} {_ord(d)} {y}", f"{d:02d}-{MONTHS[m - 1][:3].upper()}-{y}", f"{mon} {d}",
             f"{mon} {y}", f"{m}/{d}", f"the {_ord(d)} of {mon}", f"{mon} '{yy:02d}",
             f"{d}/{m}/{y}", f"{y}/{m:02d}/{d:02d}", f"{m:02d}.{d:02d}.{yy:02d}",
             f"{_ord(d)} {mon}", f"{m}/{yy:02d}", f"{d}-{mon}-{yy:02d}")
    return r.choice(forms)


def _age(r: random.Random) -> str:
    n = r.randint(90, 106)
    return r.choice((f"{n}", f"{n}", f"{n}yo", r.choice(WORDS)))


def _phone(r: random.Random, p: dict[str, str]) -> str:
    d = p["phone"] if r.random() < 0.4 else _us_phone(r)
    a, b, c = d[1:4], d[6:9], d[10:14]
    base = r.choice((d, f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"1-{a}-{b}-{c}",
                     f"+1 ({a}) {b}-{c}", f"{a}{b}{c}", f"{b}-{c}", f"+1.{a}.{b}.{c}"))
    intl = (f"+44 20 7946 {_digits(r, 4)}",
            f"+48 22 {_digits(r, 3)} {_digits(r, 2)} {_digits(r, 2)}",
            f"+353 1 {_digits(r, 3)} {_digits(r, 4)}", f"+52 55 {_digits(r, 4)} {_digits(r, 4)}",
            f"011 49 30 {_digits(r, 8)}", f"+234 803 {_digits(r, 3)} {_digits(r, 4)}")
    if r.random() < 0.2:
        return r.choice(intl)
    return base + r.choice(("", "", "", f" x{_digits(r, 4)}", f" x{_digits(r, 3)}"))


def _street(r: random.Random, p: dict[str, str]) -> str:
    s = p["street"] if r.random() < 0.5 else p["s_street"]
    return _case(r, s)


def _ssn(r: random.Random, p: dict[str, str]) -> str:
    s = p["ssn"] if r.random() < 0.6 else f"{r.randint(100, 665)}-{_digits(r, 2)}-{_digits(r, 4)}"
    a, b, c = s[:3], s[4:6], s[7:]
    return r.choice((s, f"{a} {b} {c}", f"{a}{b}{c}", f"{a}.{b}.{c}", f"{a}-{b}{c}"))


def _f(value: str, text: str) -> tuple[str, str]:
    """(value, text with ``{}`` replaced by the value): the value is the planted span."""
    return value, text.replace("{}", value)


def _rel(p: dict[str, str]) -> str:
    return f"{p['s_rel_given']} {p['s_rel_family']}"


def _doc(p: dict[str, str]) -> str:
    return f"{p['s_doc_given']} {p['s_doc_family']}"


SEALED: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: _f(f"{p['family'].upper()}, {p['given'].upper()}",
                        "HEMODIALYSIS RUN SHEET   PT: {}   CHAIR 7"),
        lambda r, p: _f(f"{p['family']}, {p['given']}", "Infusion chair 12 - {} - C3D1 FOLFOX."),
        lambda r, p: _f(f"{p['given'][0]}{p['family'][0]}",
                        "Screening log row 14: subject initials {}, eligible pending labs."),
        lambda r, p: _f(_rel(p), f"Ostomy teaching done with pt's {r.choice(RELATIONS)}, {{}}, "
                        "who emptied the pouch x2 independently."),
        lambda r, p: _f(p["s_rel_given"], f"SLP: {r.choice(RELATIONS)} {{}} reports word-finding "
                        "is worse in the evenings."),
        lambda r, p: _f(p["s_doc_family"], "Dilated fundus exam today; Dr {} to review the OCT."),
        lambda r, p: _f(f"{p['s_doc_given']} {p['s_doc_family']}",
                        "Dictated but not read by: {}, MD"),
        lambda r, p: _f(f"{p['s_doc_family']}, {p['s_doc_given'][0]}.", "cc: {} (nephrology)"),
        lambda r, p: _f(_rel(p), f"Chaplain sat with the {r.choice(RELATIONS)} ({{}}) and "
                        "offered prayer; pt's faith community notified."),
        lambda r, p: _f(p["s_interp"], "Interpreter: {} (ID on file), via video, 38 min."),
        lambda r, p: _f(p["s_rel_given"].upper(), "NICU update given to MOB {} at bedside, "
                        "questions answered."),
        lambda r, p: _f(f"{p['s_doc_given']} {_typo(r, p['s_doc_family'])}",
                        "Pt found on floor by RN {} at 0340; no injury noted."),
        lambda r, p: _f(_typo(r, p["family"]), "Left message for pt {} re: denied claim."),
        lambda r, p: _f(p["name"].lower(), "spoke w/ {} re: consent form v3.2"),
        lambda r, p: _f(f'{p["given"]} "{p["s_nick"]}" {p["family"]}',
                        "Wound care visit: {} , sacral wound stage 3."),
        lambda r, p: _f(p["s_nick"], "Pt prefers to be called {} per family."),
        lambda r, p: _f(p["s_doc_family"], "CDI query to Dr. {}: please clarify AKI vs ATN."),
        lambda r, p: _f(f"{p['s_coord_given']} {p['s_coord_family']}",
                        "Consent obtained by study coordinator {}, CRC."),
        lambda r, p: _f(p["family"], r.choice(("Ms.", "Mr", "MRS")) + " {} arrived 15 min "
                        "late for chair time."),
        lambda r, p: _f(_typo(r, p["given"]), "{} reports less cramping this run."),
        lambda r, p: _f(f"{p['family'].upper()} {p['given'].upper()}", "PT NAME: {}"),
        lambda r, p: _f(p["family"], "{}'s grandson will drive her home."),
        lambda r, p: _f(f"{p['s_rel_family']}, {p['s_rel_given']}",
                        "Emergency contact: {} (sister)"),
        lambda r, p: _f(f"{p['s_doc_given'][0]}. {p['s_doc_family']}", "Seen with {}, fellow."),
    ],
    "DATE": [
        lambda r, p: _f(_date(r), "Last Kt/V 1.4 drawn {}."),
        lambda r, p: _f(_date(r), "Next infusion scheduled {} (labs day prior)."),
        lambda r, p: _f(_date(r), "DOB: {}"),
        lambda r, p: _f(_date(r), "Date of event: {} approx 2215."),
        lambda r, p: _f(_date(r), "Screen date {} - inclusion criteria met."),
        lambda r, p: _f(_date(r), "DOS {}, CPT 90935 billed."),
        lambda r, p: _f(_date(r), "Wound first noted {} per daughter."),
        lambda r, p: _f(_date(r), "Baby born {} at 26+3 weeks GA."),
        lambda r, p: _f(_date(r), "s/p phaco OD {}, doing well."),
        lambda r, p: _f(_date(r), "RE: your referral of {}"),
        lambda r, p: _f(_date(r), "Chaplain visit {}, 20 minutes."),
        lambda r, p: _f(_date(r), "interpreter booked for {} at 0900"),
        lambda r, p: _f(_date(r).upper(), "ADMIT DATE: {}"),
        lambda r, p: _f(_date(r), "Fistula created {}, cannulated since."),
    ],
    "AGE": [
        lambda r, p: _f(_age(r), "{} y/o F on HD MWF via L AVF."),
        lambda r, p: _f(_age(r), "Patient is a {} year old man seen for low vision."),
        lambda r, p: _f(_age(r), "Age: {}"),
        lambda r, p: _f(r.choice(WORDS), "This {}-year-old widow asked for the sacrament."),
        lambda r, p: _f(str(r.randint(90, 106)), "aged {}, excluded (age limit 85)."),
        lambda r, p: _f(r.choice(WORDS).capitalize(), "{} years young, per pt."),
        lambda r, p: _f(f"{r.randint(90, 106)}yo", "{} M, fall from chair, Morse 45."),
        lambda r, p: _f(str(r.randint(90, 106)), "Turned {} last week; family celebrated."),
    ],
    "GEO": [
        lambda r, p: _f(_street(r, p), "Transport pick-up: {} (ring bell twice)."),
        lambda r, p: _f(f"{_street(r, p)} #{r.randint(1, 40)}{r.choice('ABCDEF')}",
                        "Home health to see pt at {}"),
        lambda r, p: _f(str(r.randint(100, 9999)), "Mail statements to P.O. Box {} per pt."),
        lambda r, p: _f(str(r.randint(100, 9999)), "MAILING ADDR: PO BOX {}"),
        lambda r, p: _f(r.choice(CITIES), "Lives alone in {}, no stairs."),
        lambda r, p: _f(p["city"], "Moving to {} next month to be near family."),
        lambda r, p: _f(r.choice(COUNTIES), "{} County transport van declined pick-up."),
        lambda r, p: _f(p["zip"], "zip {} per registration"),
        lambda r, p: _f(f"{p['zip']}-{_digits(r, 4)}", "Billing address ZIP: {}"),
        lambda r, p: _f(str(r.randint(100, 900)), "Same building, Unit {}, buzzer broken."),
        lambda r, p: _f(f"{p['s_street']}, {p['s_city']}",
                        "Letter sent to {}, return receipt requested."),
        lambda r, p: _f(p["street"].lower(), "address confirmed as {}"),
    ],
    "PHONE": [
        lambda r, p: _f(_phone(r, p), "Call-back number: {}"),
        lambda r, p: _f(_phone(r, p), "Fax: {} (attn coding)"),
        lambda r, p: _f(_phone(r, p), "Daughter can be reached at {} after 5 pm."),
        lambda r, p: _f(_phone(r, p), "Pager/cell {} for the on-call fellow."),
        lambda r, p: _f(_phone(r, p), "Tel {}"),
        lambda r, p: _f(_phone(r, p), "NICU parents' contact: {}"),
        lambda r, p: _f(_phone(r, p), "pls call pt @ {} to reschedule"),
    ],
    "EMAIL": [
        lambda r, p: _f(p["email"], "Portal enrolled, e-mail {}"),
        lambda r, p: _f(f"{_slug(p['s_rel_given'])}.{_slug(p['s_rel_family'])}@{r.choice(DOMAINS)}",
                        "Family asked updates be sent to {}."),
        lambda r, p: _f(p["email"].upper(), "EMAIL: {}"),
        lambda r, p: _f(f"{_slug(p['given'])}{_slug(p['family'])}+study@{r.choice(DOMAINS)}",
                        "Study contact: {}"),
        lambda r, p: _f(f"{_slug(p['family'])}{r.randint(1, 99)} at "
                        f"{r.choice(DOMAINS).split('.')[0]} dot com",
                        "pt spelled out email as {}"),
        lambda r, p: _f(f"{_slug(p['s_doc_family'])}.{p['s_doc_given'][0].lower()}@uhhs.org",
                        "Reply to coding query: {}"),
    ],
    "URL": [
        lambda r, p: _f(f"www.caringbridge.org/visit/{_slug(p['family'])}{_slug(p['given'])}",
                        "Family posts updates at {}"),
        lambda r, p: _f(f"https://www.gofundme.com/f/{_slug(p['given'])}-{_slug(p['family'])}"
                        "-kidney-fund", "Fundraiser link shared by son: {}"),
        lambda r, p: _f(f"facebook.com/{_slug(p['s_rel_given'])}.{_slug(p['s_rel_family'])}"
                        f"{r.randint(1, 99)}", "Mother's profile {} (photo of baby)."),
        lambda r, p: _f(f"http://portal.northcoastrenal.org/pt/{_digits(r, 6)}",
                        "Run sheet uploaded: {}"),
        lambda r, p: _f(f"HTTPS://TELEHEALTH.EXAMPLE.ORG/ROOM/{_slug(p['family']).upper()}",
                        "VIDEO VISIT LINK {}"),
        lambda r, p: _f(f"bit.ly/{_letters(r, 7)}",
                        "Survey sent via {}"),
    ],
    "IP": [
        lambda r, p: _f(f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
                        "Pump telemetry from {} lost at 0412."),
        lambda r, p: _f(f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}."
                        f"{r.randint(1, 254)}", "Portal login from IP {} flagged."),
        lambda r, p: _f(f"2001:db8:{r.randint(1, 0xffff):x}::{r.randint(1, 0xffff):x}",
                        "home monitor address {}"),
        lambda r, p: _f(":".join(f"{r.randint(0, 0xffff):04x}" for _ in range(8)),
                        "Device IPv6 {} registered."),
        lambda r, p: _f(f"fe80::{r.randint(1, 0xffff):x}:{r.randint(1, 0xffff):x}%eth0",
                        "link-local {}"),
    ],
    "SSN": [
        lambda r, p: _f(_ssn(r, p), "SSN: {}"),
        lambda r, p: _f(_ssn(r, p), "ss# {} on the claim form"),
        lambda r, p: _f(p["ssn"][-4:], "Verified identity with last 4 of SSN {}."),
        lambda r, p: _f(p["ssn"][-4:], "Soc Sec XXX-XX-{}"),
        lambda r, p: _f(_ssn(r, p), "social security number {} given by daughter"),
    ],
    "MRN": [
        lambda r, p: _f(p["mrn"], "Run sheet {}"),
        lambda r, p: _f(p["mrn"][3:], "mrn: {}"),
        lambda r, p: _f(f"00{p['mrn'][3:]}", "Med Rec # {}"),
        lambda r, p: _f(_digits(r, 11), "Acct# {}"),
        lambda r, p: _f(_digits(r, 10), "Billing query re HAR {}."),
        lambda r, p: _f(f"W{_digits(r, 4)} {_digits(r, 5)}", "Member ID: {}"),
        lambda r, p: _f(f"{r.randint(1, 9)}EG{r.randint(1, 9)}-TE{r.randint(1, 9)}"
                        f"-MK{_digits(r, 2)}",
                        "Medicare MBI {}"),
        lambda r, p: _f(f"{r.choice('ABDS')}{_digits(r, 3)}-{_digits(r, 4)}-{_digits(r, 4)}",
                        "Driver's lic. {}"),
        lambda r, p: _f(f"PX{_digits(r, 4)}A{_digits(r, 4)}", "Implant serial no. {}"),
        lambda r, p: _f(f"{r.randint(1, 9)}{_letters(r, 3).upper()}{_digits(r, 3)}",
                        "Car in lot, plate {}, hazard lights on."),
        lambda r, p: _f(f"NEPH-{r.randint(20, 25)}-{_digits(r, 4)}", "Study ID {} assigned."),
        lambda r, p: _f(f"{_digits(r, 4)}A{_digits(r, 7)}", "Claim #{} denied (CO-97)."),
        lambda r, p: _f(f"{_digits(r, 4)}-{_digits(r, 2)}-{_digits(r, 4)}",
                        "Dialysis machine swapped; pt's home cycler SN {}."),
    ],
}

SEALED_FILLER = (
    "Heparin 1,000 units bolus then 500 units/hr; dry weight 71.5 kg, UF goal 2.8 L.",
    "K 5.8, Hgb 9.7, phos 6.1; Venofer 200 mg IV given, Sensipar continued.",
    "BP 148/82 pre, 126/70 post; blood flow 400 mL/min.",
    "Cisplatin 75 mg/m2 over 1 h, Zofran 8 mg pre-med, Neulasta on-body injector applied.",
    "Pain 3/10 at start of chair time, 1/10 at end.",
    "IOP 16/18 mmHg, VA 20/30 OD and 20/60 OS; Goldmann applanation.",
    "Wound bed 80% granulation, 20% slough; 3.2 x 2.5 x 0.4 cm, Braden 14.",
    "Aquacel and Mepilex border applied; undermining at 12 o'clock.",
    "MBS: penetration-aspiration scale 3 on thin liquids; recommend IDDSI level 4.",
    "CPT 99214 with modifier 25; ICD-10 N18.6 and Z99.2 documented.",
    "NDC 0409-4888-02 scanned; lot and expiry checked by two RNs.",
    "Hickman line flushed; Tenckhoff catheter exit site clean.",
    "FiO2 30% on CPAP +6, TcB 11.2, PMA 32+4 weeks.",
    "Morse fall score 45; bed alarm on; SBAR given at 0700-0730 handoff.",
    "Said grace with family before meals; prayer and blessing offered.",
    "Reviewed the bill with pt; balance of $245.10 on the statement.",
    "Mark wound margins at each visit; BP rose to 160s during run.",
    "Parkinson disease, remote Bell's palsy and a Baker cyst R knee in history.",
    "Tylenol 650 mg q6h prn, max 3 g in 24 h; dose range 8-10 mg.",
    "Consent form version 3.2, protocol amendment 4, IRB approved.",
    "Interpreter used for entire encounter; teach-back done.",
    "Will follow up after next cycle; may hold if ANC < 1.5.",
)


def add_people(out: list[dict[str, str]], seed: int) -> None:
    """Add this set's relatives, clinicians, coordinators, interpreters and nicknames.

    Keys are prefixed ``s_`` so they clash with no other set's additions.
    """
    from faker import Faker

    fakers = [Faker(loc) for loc in LOCALES]
    for i, f in enumerate(fakers):
        f.seed_instance(seed * 1000 + 700 + i)
    us = Faker("en_US")
    us.seed_instance(seed * 1000 + 799)
    rng = random.Random(seed * 1000 + 798)
    for i, p in enumerate(out):
        rel, doc = fakers[i % len(fakers)], fakers[(i + 3) % len(fakers)]
        coord, interp = fakers[(i + 5) % len(fakers)], fakers[(i + 6) % len(fakers)]
        p.update({
            "s_rel_given": rel.first_name(), "s_rel_family": rel.last_name(),
            "s_doc_given": doc.first_name(), "s_doc_family": doc.last_name(),
            "s_coord_given": coord.first_name(), "s_coord_family": coord.last_name(),
            "s_interp": f"{interp.first_name()} {interp.last_name()}",
            "s_nick": rng.choice(NICKS), "s_street": us.street_address(), "s_city": us.city()})
