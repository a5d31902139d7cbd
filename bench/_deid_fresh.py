"""A third, untouched template set of ``bench/deid.py``: the honest held-out figure.

The second set (``_deid_heldout``) was written before the rules were changed,
but its misses were then read while the rules were improved, so it is no
longer held out either. This set was written after the rules were finished,
from note styles none of the other sets imitates, and committed before it was
ever run; its figures are reported as they came out the first time:

* emergency department triage notes (arrival, chief complaint, contacts);
* operative reports (surgeon, assistant and anesthesiologist lines);
* social work and home health visit notes (living situation, landlord,
  pastor, caregivers, resources);
* radiology reports (comparison dates, accession numbers, read-backs);
* patient portal messages (From/Sent headers, a relative writing in).

Relatives and clinicians come from Faker locales used by neither the name
dictionary nor the other sets. The filler carries its own traps: ``2/2`` for
"secondary to", ``EF 55-60%``, ``3 x 4 cm``, ``Meals on Wheels``, ``NEXUS``.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
LOCALES = ("az_AZ", "en_KE", "en_NG", "ha_NG", "ig_NG", "is_IS", "lv_LV", "sl_SI", "sw",
           "tw_GH", "uz_UZ", "en_PK", "ga_IE")
RELATIONS = ("grandson", "granddaughter", "son", "daughter", "nephew", "sister", "husband")

FILLER_FRESH = (
    "Hip fx s/p ORIF 2/2 mechanical fall.",
    "EF 55-60% with mild MR and moderate AS.",
    "Ambulates 150 ft with RW and standby assist.",
    "Wound 3 x 4 cm, 100% granulation, no odor.",
    "Meals on Wheels referral placed.",
    "C-collar cleared by NEXUS criteria.",
    "No acute intracranial hemorrhage or mass effect.",
    "Vancomycin 1 g IV q12h, trough before 4th dose.",
    "Sodium 128, repeat BMP in AM.",
    "Rhythm: NSR with occasional PACs.",
    "Ensure 1 can TID between meals.",
    "Follow-up with Ortho in 2 wks for suture removal.",
)


def _plain(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s)
                   if c.isascii() and (c.isalnum() or c in " -'"))


def _dmy(r: random.Random) -> tuple[int, int, int]:
    return r.randint(1920, 2025), r.randint(1, 12), r.randint(1, 28)


def _g(p: dict[str, str]) -> str:
    return "".join(c for c in p["phone"] if c.isdigit())


def _house(r: random.Random) -> str:
    street = r.choice(("Elmwood", "Grant", "Birch Hill", "Kingston", "Front"))
    return (f"{r.randint(2, 4999)} {street}"
            f" {r.choice(('Avenue', 'Ave', 'Street', 'St', 'Road', 'Blvd', 'Circle', 'Lane'))}")


FRESH: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (p["f_rel"], f"BIBA from home, accompanied by {p['f_relation']} "
                                  f"{p['f_rel']}."),
        lambda r, p: (f"{p['f_clin_g']} {p['f_clin_f']}",
                      f"SURGEON: {p['f_clin_g']} {p['f_clin_f']}, M.D."),
        lambda r, p: (p["f_other_f"], f"ASSISTANT: {p['f_other_g'][0]}. {p['f_other_f']}, PA-C"),
        lambda r, p: (p["f_clin_f"], f"ANESTHESIOLOGIST: Dr. {p['f_clin_f']}"),
        lambda r, p: (p["name"], f"The patient, {p['name']}, was brought to the operating room."),
        lambda r, p: (p["f_rel"], f"SW met with pt and her {p['f_relation']}, {p['f_rel']}, at "
                                  f"bedside."),
        lambda r, p: (p["f_other_f"], f"Pt's landlord, Mr. {p['f_other_f']}, has a key."),
        lambda r, p: (p["f_other_f"], f"Pastor Rev. {p['f_other_f']} visits weekly."),
        lambda r, p: (p["f_clin_f"], f"Findings discussed with Dr. {p['f_clin_f']} by telephone."),
        lambda r, p: (p["given"], f"Hi Doctor, this is {p['given']}."),
        lambda r, p: (f"{p['f_rel']}, {p['family']}", f"this is {p['f_rel']}, {p['family']}'s "
                                                      f"{p['f_relation']}"),
        lambda r, p: (p["name"], f"From: {p['name']}"),
        lambda r, p: (f"{p['f_rel']} {p['family']}", f"Contact: {p['f_rel']} {p['family']} - "
                                                     f"{p['f_relation']}"),
    ],
    "GEO": [
        lambda r, p: (lambda h: (f"{h}, {p['city']}", f"Lives alone in a walk-up at {h}, "
                                                      f"{p['city']}."))(_house(r)),
        lambda r, p: (lambda h: (h, f"Arrived via EMS from {h}."))(_house(r)),
        lambda r, p: (lambda h, u: (f"{h} {u}", f"Visit at pt's residence, {h} {u}."))(
            _house(r), f"Apt {r.randint(1, 30)}{r.choice('ABCD')}"),
        lambda r, p: (p["city"], f"Family drove up from {p['city']} this morning."),
        lambda r, p: (lambda c: (c, f"Recently moved here from {c}."))(
            r.choice(("Cleveland", "Memphis", "Louisville", "Tulsa", "Raleigh", "Providence",
                      "Anchorage", "Sacramento", "El Paso", "Pittsburgh"))),
    ],
    "DATE": [
        lambda r, p: (lambda y, m, d: (f"{m:02d}/{d:02d}/{y}", f"Triage {m:02d}/{d:02d}/{y} @ "
                                                               f"2315"))(*_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"{m}/{d}/{y}", f"DOB {m}/{d}/{y}"))(*_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"{m:02d}/{d:02d}/{y}", f"DATE OF OPERATION: "
                                                               f"{m:02d}/{d:02d}/{y}"))(*_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"{MONTHS[m - 1][:3]} {d}, {y}",
                                       f"COMPARISON: CT chest dated {MONTHS[m - 1][:3]} {d}, "
                                       f"{y}."))(*_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"{m}/{d}/{y % 100:02d}", f"Read back at 14:32 on "
                                                                 f"{m}/{d}/{y % 100:02d}."))(
            *_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"Monday, {MONTHS[m - 1]} {d}, {y}",
                                       f"Sent: Monday, {MONTHS[m - 1]} {d}, {y} 9:14 AM"))(
            *_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"Thurs {m}/{d}", f"Next visit scheduled Thurs {m}/{d}."))(
            *_dmy(r)),
        lambda r, p: (lambda y, m, d: (f"{d}-{MONTHS[m - 1][:3].upper()}-{y % 100:02d}",
                                       f"Last echo {d}-{MONTHS[m - 1][:3].upper()}-"
                                       f"{y % 100:02d}."))(*_dmy(r)),
    ],
    "PHONE": [
        lambda r, p: (p["phone"], f"Contact: daughter - cell {p['phone']}"),
        lambda r, p: (lambda g, x: (f"{g[:3]}-{g[3:6]}-{g[6:]} ext {x}",
                                    f"Called pharmacy at {g[:3]}-{g[3:6]}-{g[6:]} ext {x}."))(
            _g(p), r.randint(10, 999)),
        lambda r, p: (lambda g: (f"{g[:3]}.{g[3:6]}.{g[6:]}", f"You can reach me at "
                                                              f"{g[:3]}.{g[3:6]}.{g[6:]} "
                                                              f"after 5."))(_g(p)),
        lambda r, p: (lambda g: (f"1 ({g[:3]}) {g[3:6]}-{g[6:]}", f"Meals on Wheels tel "
                                                                  f"1 ({g[:3]}) {g[3:6]}-"
                                                                  f"{g[6:]}."))(_g(p)),
    ],
    "EMAIL": [
        lambda r, p: (p["email"], f"From: <{p['email']}>"),
    ],
    "MRN": [
        lambda r, p: (lambda n: (n, f"Accession #: {n}"))(str(r.randint(10_000_000, 99_999_999))),
        lambda r, p: (lambda n: (n, f"Medicaid # {n}"))(
            f"{r.choice('ABCDEFGH')}{r.choice('ABCDEFGH')}{r.randint(10000, 99999)}"
            f"{r.choice('ABCDEFGH')}"),
        lambda r, p: (p["mrn"][3:], f"MR#: {p['mrn'][3:]}"),
    ],
    "SSN": [lambda r, p: (p["ssn"], f"SSN {p['ssn']} verified with pt.")],
    "URL": [lambda r, p: (lambda u: (u, f"Reply via {u}"))(
        f"https://mychart.example.org/messages/{r.randint(100000, 999999)}")],
    "IP": [lambda r, p: (lambda a: (a, f"Message sent from IP {a}"))(
        f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}")],
    "AGE": [
        lambda r, p: (lambda a: (f"{a}yo", f"Pt is a {a}yo female, fall at home."))(
            r.randint(90, 103)),
        lambda r, p: (lambda a: (f"{a} year old", f"{a} year old male s/p fall."))(
            r.randint(90, 103)),
        lambda r, p: (lambda a: (f"{a} y.o.", f"CC: weakness in {a} y.o. woman."))(
            r.randint(90, 103)),
    ],
}


def add_people(people: list[dict[str, str]], seed: int) -> None:
    """A relative, a clinician and another person per identity, from ``LOCALES``."""
    from faker import Faker

    f = Faker(list(LOCALES))
    f.seed_instance(seed * 104729 + 3)
    rng = random.Random(seed * 31 + 7)
    for p in people:
        p["f_rel"] = _plain(f.first_name()) or "Ama"
        p["f_relation"] = rng.choice(RELATIONS)
        p["f_clin_g"], p["f_clin_f"] = _plain(f.first_name()) or "Kofi", \
            _plain(f.last_name()) or "Mensah"
        p["f_other_g"], p["f_other_f"] = _plain(f.first_name()) or "Nkem", \
            _plain(f.last_name()) or "Okoro"
