"""A fresh held-out template set of ``bench/deid.py`` (``fresh-4``), written for issue 12's
general forms before any of them was implemented, and committed before its first run.

Note styles none of the other sets imitates, chosen for the forms the scrubber is weakest
on (id-like runs of digit groups, partial dates, non-ASCII names, ages, addresses without a
cue):

* insurance and billing calls (member, group, policy and claim numbers in spaced or dotted
  digit groups, with and without a label);
* anticoagulation clinic notes (next INR in partial dates: ``3 Mar``, ``Jan. 12``,
  ``the 4th``, ``12-Mar``, ``Mar '19``, ``4/7`` after a date cue);
* durable medical equipment and device checks (serial numbers, device ids);
* hospice and palliative visits (ages in prose, relatives with accented names);
* home infusion delivery notes (addresses with USPS suffix abbreviations, units, PO boxes).

Relatives and clinicians come from Faker locales used by no set written before this one
that I read (``es_AR``, ``es_CL``, ``fr_CA``, ``mt_MT``, ``lb_LU``, ``bs_BA``, ``yo_NG``,
``de_AT``), accents kept half of the time. The filler is full of traps that must survive:
vitals (``120/80``), lab values, doses, times, versions, scores, counts, ICD-10, LOINC
and NDC codes, ``in March``, ``may``.

One label fixed after its first runs (stop 23): ``Billings, SD`` was labelled whole, so
the kept state counted as a miss. 45 CFR 164.514(b)(2)(i)(B) removes "all geographic
subdivisions smaller than a State"; the state itself may stay, so the town alone is
labelled now. The note texts are unchanged.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
LOCALES = ("es_AR", "es_CL", "fr_CA", "mt_MT", "lb_LU", "bs_BA", "yo_NG", "de_AT")
RELATIONS = ("niece", "son", "daughter", "wife", "husband", "brother", "granddaughter")
CITIES = ("Boise", "Billings", "Gainesville", "Macon", "Lafayette", "Fort Collins",
          "Sioux City", "Reno", "Bend", "Dothan")
STREETS = ("Cedar Knoll", "Ashford", "Pinecrest", "Hawthorne", "Sugar Maple", "Ironwood",
           "Bayview", "Larkspur")
SUFFIXES = ("Ter", "Ter.", "Pkwy", "Cir", "Blvd.", "Hwy", "Trl", "Xing", "Cv", "Pl", "Sq",
            "Aly", "Lndg", "Mnr", "Holw", "Bnd", "Cyn", "Crk", "Hts", "Vw", "Way")

FILLER_R4 = (
    "BP 120/80, HR 72, RR 16, T 98.6 F, SpO2 97% on RA.",
    "K 4.1, Na 138, Cr 1.2, BUN 22, glucose 104.",
    "Platelets 250 000/uL, WBC 11.2, Hgb 9.8.",
    "Metoprolol 25 mg PO BID; warfarin 5 mg on M/W/F, 2.5 mg other days.",
    "Dx: ICD-10 I48.91 and Z79.01 on the claim.",
    "LOINC 6301-6 (INR) resulted at 14:30.",
    "NDC 0093-7146-56 dispensed, 30 tablets.",
    "PHQ-9 score 12, GAD-7 score 8; pain 3/10.",
    "Pump firmware v2.3.1 checked, alarms 0 of 3 cleared.",
    "In March the family may visit more often.",
    "She may take 1 to 2 tabs q6h prn.",
    "Wound 2 x 3 cm, drained 15 mL.",
    "Vision 20/40 OU, GCS 15, Braden 16.",
    "INR 2.4, goal 2.0-3.0; dose unchanged.",
    "Room 412 bed 2, fall precautions.",
)


def _plain(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s)
                   if c.isascii() and (c.isalnum() or c in " -'"))


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def _mon(r: random.Random, m: int) -> str:
    full = MONTHS[m - 1]
    short = "Sept" if m == 9 and r.random() < 0.3 else full[:3]
    return r.choice((full, short, short + ".", short.upper(), full.lower()))


def _groups(r: random.Random, sizes: tuple[int, ...], sep: str) -> str:
    return sep.join("".join(str(r.randint(0, 9)) for _ in range(n)) for n in sizes)


def _idrun(r: random.Random) -> str:
    sizes = r.choice(((4, 4, 2), (3, 3, 3), (3, 3, 4, 2), (4, 4), (2, 4, 4), (4, 3, 3),
                      (3, 4, 4), (5, 4)))
    return _groups(r, sizes, r.choice((" ", "-", ".", " ")))


def _street(r: random.Random) -> str:
    return f"{r.randint(12, 9876)} {r.choice(('', 'N ', 'SW ', 'E '))}{r.choice(STREETS)} " \
           f"{r.choice(SUFFIXES)}"


def _dmy(r: random.Random) -> tuple[int, int, int]:
    return r.randint(1930, 2025), r.randint(1, 12), r.randint(1, 28)


def _dates() -> list[Form]:
    def f(render: Callable[[random.Random, int, int, int], tuple[str, str]]) -> Form:
        return lambda r, p: render(r, *_dmy(r))

    return [
        f(lambda r, y, m, d: (v := f"{d} {_mon(r, m)}", f"Next INR {v}, same dose.")),
        f(lambda r, y, m, d: (v := f"{_mon(r, m)} {d}", f"Held warfarin since {v} for EGD.")),
        f(lambda r, y, m, d: (v := f"{_mon(r, m)} {_ord(d)}", f"Pt says bleeding began {v}.")),
        f(lambda r, y, m, d: (v := f"{_ord(d)} of {MONTHS[m - 1]}",
                              f"Wife reports fall on the {v}.")),
        f(lambda r, y, m, d: (v := f"{d:02d}-{MONTHS[m - 1][:3]}",
                              f"Lab drawn {v}, INR 3.1.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1][:3]} '{y % 100:02d}",
                              f"On apixaban since {v}.")),
        f(lambda r, y, m, d: (v := f"{m}/{d}", f"Pump delivered on {v} by courier.")),
        f(lambda r, y, m, d: (v := f"{_mon(r, m)} {y}", f"Hospice enrollment {v}.")),
        f(lambda r, y, m, d: (v := f"{d}.{m}.{y % 100:02d}", f"Device implanted {v}.")),
        f(lambda r, y, m, d: (v := f"{MONTHS[m - 1]} {d}", f"Claim for service {v} denied.")),
        f(lambda r, y, m, d: (v := f"{d} {MONTHS[m - 1][:3]} {y}", f"DOS {v}.")),
        f(lambda r, y, m, d: (v := f"{m}/{d}/{y % 100:02d}", f"Eff {v} per member services.")),
    ]


R4: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (v := f"{p['r4_rel_g']} {p['r4_rel_f']}",
                      f"Chaperone {v} present for exam."),
        lambda r, p: (v := p["r4_rel_g"], f"{p['r4_relation'].capitalize()} {v} is the main "
                                          "caregiver."),
        lambda r, p: (v := f"{p['r4_rel_g']} {p['r4_rel_f']}",
                      f"{v} ({p['r4_relation']}) signed the hospice consent."),
        lambda r, p: (v := p["r4_clin_f"], f"INR called to Dr. {v} at 16:05."),
        lambda r, p: (v := f"{p['r4_clin_g']} {p['r4_clin_f']}",
                      f"Handed off to {v}, RN, at shift change."),
        lambda r, p: (v := p["r4_clin_f"], f"Infusion RN {v} placed the PICC dressing."),
        lambda r, p: (v := p["name"], f"Called member {v} to verify benefits."),
        lambda r, p: (v := f"{p['family']}, {p['given']}", f"Subscriber: {v}"),
        lambda r, p: (v := p["r4_rel_g"], f"Left voicemail for {v} re: delivery window."),
        lambda r, p: (v := p["given"], f"{v} asked about stopping warfarin before dental work."),
    ],
    "GEO": [
        lambda r, p: (v := _street(r), f"Delivered to {v}."),
        lambda r, p: (v := f"{_street(r)} {r.choice(('Apt', 'Unit', 'Suite', 'Ste'))} "
                           f"{r.randint(1, 450)}", f"Ship to: {v}"),
        lambda r, p: (v := f"PO Box {r.randint(10, 99999)}", f"Mail statements to {v}."),
        lambda r, p: (v := f"P.O. Box {r.randint(10, 9999)}", f"Remit: {v}"),
        lambda r, p: (v := r.choice(CITIES), f"Patient lives in {v} with her {p['r4_relation']}."),
        # the town alone is the identifier: Safe Harbor keeps the state (see the docstring)
        lambda r, p: (v := r.choice(CITIES), f"Hospice agency based in {v}, {p['state']}."),
        lambda r, p: (v := f"{_street(r)}, {p['city']}", f"Home visit at {v}."),
    ],
    "DATE": _dates(),
    "MRN": [
        lambda r, p: (v := _idrun(r), f"Member ID {v}, group on card."),
        lambda r, p: (v := _idrun(r), f"Policy # {v} active."),
        lambda r, p: (v := _idrun(r), f"Claim no. {v} resubmitted."),
        lambda r, p: (v := _idrun(r), f"Device serial {v} logged."),
        lambda r, p: (v := _idrun(r), f"Ref {v} given by the rep."),
        lambda r, p: (v := _idrun(r), f"Auth {v} valid for 10 visits."),
        lambda r, p: (v := _groups(r, (4, 4, 4), " "), f"Card number on file {v}."),
        lambda r, p: (v := _groups(r, (3, 3, 3), "."), f"Confirmation {v} sent."),
    ],
    "PHONE": [
        lambda r, p: (v := " ".join(("".join(c for c in p["phone"] if c.isdigit())[i:j])
                                    for i, j in ((0, 3), (3, 6), (6, 10))),
                      f"Member services {v}."),
        lambda r, p: (v := f"({r.randint(201, 989)}){r.randint(201, 989)} "
                           f"{r.randint(1000, 9999)}", f"Courier {v}"),
    ],
    "SSN": [
        lambda r, p: (v := p["ssn"].replace("-", " "), f"SS# {v} on the claim."),
        lambda r, p: (v := p["ssn"].replace("-", ""), f"Social Security No. {v}."),
    ],
    "AGE": [
        lambda r, p: (v := str(r.randint(90, 104)), f"Patient is {v} years of age."),
        lambda r, p: (v := f"age {r.randint(90, 104)}", f"Hospice at {v}, comfort care."),
        lambda r, p: (v := str(r.randint(90, 104)), f"She turned {v} in hospice."),
        lambda r, p: (v := f"{r.randint(90, 104)} yr old", f"A {v} widow, lives alone."),
    ],
    "EMAIL": [lambda r, p: (v := p["email"], f"EOB e-mailed to {v}.")],
}


def add_people(people: list[dict[str, str]], seed: int) -> None:
    """A relative and a clinician per identity (``r4_*``), accents kept half of the time."""
    from faker import Faker

    f = Faker(list(LOCALES))
    f.seed_instance(seed * 7919 + 41)
    rng = random.Random(seed * 97 + 13)

    def name(s: str) -> str:
        return s if rng.random() < 0.5 else (_plain(s) or "Ana")

    for p in people:
        p["r4_rel_g"], p["r4_rel_f"] = name(f.first_name()), name(f.last_name())
        p["r4_clin_g"], p["r4_clin_f"] = name(f.first_name()), name(f.last_name())
        p["r4_relation"] = rng.choice(RELATIONS)
