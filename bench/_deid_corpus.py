"""The labelled corpus of ``bench/deid.py``: identities and notes with planted PHI.

Each note is clinical filler interleaved with PHI slots; a slot writes one
identifier of the record (or a person no column lists) in one of several
forms, and records its span and Safe Harbor category. Template sets:
``tuned`` (``TUNED``: the forms the scrubber was written against), ``seen``
(``HELD_OUT``: written apart as a held-out set, then looked at while the
rules were improved, so no longer held out) and ``held-out``
(``bench._deid_heldout.HELD_OUT_2``: clinical note styles, written before the
rules were changed for them, then read while improving them) and ``fresh``
(``bench._deid_fresh.FRESH``: other note styles, written after the rules and
committed before the first run; the honest held-out figure until it was
tuned on) and ``blind-dev`` / ``blind-test`` (``bench._deid_blind``: written
blind, before reading any rule; dev may be read while tuning, test never is)
and ``sealed`` (``bench._deid_sealed.SEALED``: a third blind set, other note
styles, its misses never printed) and ``fresh-4`` (``bench._deid_recall4.R4``: the general
forms of recall4, written before they were implemented and committed before the first run)
and ``fresh-5`` (``bench._deid_recall5.R5``: another author's habits, written for recall5
before any rule was changed for it and committed before its first run) and ``fresh-6``
(``bench._deid_recall6.R6``: yet another author's habits, written for recall6 the same way)
and ``fresh-7`` (``bench._deid_recall7.R7``: letters, report headers, portal messages and
foreign formats, written for recall7 the same way) and ``fresh-8`` (``bench._deid_recall8.R8``:
GEO, DATE and NAME in run-on prose, correspondence and scheduling notes, written for recall8
the same way) and ``fresh-9`` (``bench._deid_recall9.R9``: places, dates and names as speech
recognition, a locum trained in Europe and an interface engine write them, written for
recall9 the same way) and ``fresh-10`` (``bench._deid_recall10.R10``: places, names and
dates as a ward's handover, a referral letter from abroad, a portal message typed on a phone
and a social-work note write them, written for recall10 the same way) and ``fresh-11``
(``bench._deid_recall11.R11``: places first, as an EMS run sheet, a triage note, a
home-health intake and a dictated discharge summary write them, written for recall11 the
same way) and ``sealed-2`` (``bench._deid_sealed2.SEALED2``: a fourth blind set, written
after ``sealed`` was read, of anaesthesia records, genetic counselling, poison-control
calls, sleep-lab reports, advance directives, release-of-information logs, contact
tracing and transplant coordination; committed before its first run, its misses never
printed until it was read in deid12d, after its two recorded runs) and ``sealed-3``
(``bench._deid_sealed3.SEALED3``: a fifth blind set, written after ``sealed-2``'s misses
were read, of bed-management huddles, blood-bank records, immunisation
and travel clinics, audiology, correctional health, mortuary and medical-examiner
referrals, device remote monitoring and patient-transport bookings; committed before its
first run; its misses never printed until it was read in deid12e, after its two recorded
runs) and ``sealed-4``
(``bench._deid_sealed4.SEALED4``: a sixth blind set, written while ``sealed-3``'s misses
were read, of on-call pager logs, e-mail threads pasted into the chart, adult-safeguarding
referrals, fertility clinics, memory clinics, dietetics, teledermatology, student health
and complaints logs, by Canadian, Australian, Nigerian and UK writers; committed before
its first run; its misses never printed until it was read in deid12f, after its two
recorded runs) and ``sealed-5`` (``bench._deid_sealed5.SEALED5``: a
seventh blind set, written while ``sealed-4``'s misses were read, of endoscopy checklists,
opioid-treatment dosing logs, rapid-response calls, PICC-team notes, lactation and
street-medicine notes, valuables logs, OCR'd scanned referrals and Spanish-English notes of a
border hospital, by Irish, South African, Indian, Filipino and New Zealand writers; committed
before its first run; read in deid12h after its recorded runs; held out no longer) and
``sealed-6`` (``bench._deid_sealed6.SEALED6``: an eighth blind set, written while
``sealed-5``'s misses were read, of military and veterans' health records, fit-to-fly
assessments, hyperbaric dive logs, radiation-oncology records, sports-concussion notes,
prosthetics clinics and adverse-drug-event reports, with HTML and RTF remnants pasted in, by
Korean, Malay, Somali, Haitian, Vietnamese and Dutch writers and families; committed before its
first run, its misses never printed).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import (
    _deid_blind,
    _deid_fresh,
    _deid_recall4,
    _deid_recall5,
    _deid_recall6,
    _deid_recall7,
    _deid_recall8,
    _deid_recall9,
    _deid_recall10,
    _deid_recall11,
    _deid_sealed,
    _deid_sealed2,
    _deid_sealed3,
    _deid_sealed4,
    _deid_sealed5,
    _deid_sealed6,
)
from bench._deid_heldout import FILLER_NOTES, HELD_OUT_2, add_people

LOCALES = ("en_US", "en_IE", "fr_FR", "es_ES", "de_DE", "it_IT", "pt_BR", "nl_NL")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
FILLER = (
    "Patient reports feeling better since the last visit.",
    "HbA1c 7.2, BP 128/82, weight stable; metformin 500 mg twice daily.",
    "Type 2 diabetes with mild neuropathy; no history of Parkinson disease.",
    "Follow up in 3 months with fasting labs and a foot exam.",
    "Denies chest pain, dyspnea or palpitations. Appetite good.",
    "Take 2 tablets by mouth at night; reduce if dizzy.",
    "Grace period for the prescription refill explained.",
    "Mild edema of both ankles, improved with elevation.",
    "Discussed diet, exercise and smoking cessation at length.",
    "Eye exam due next year; referral placed to ophthalmology.",
)


@dataclass
class Span:
    """One planted identifier: where, what and which category."""

    text: str
    category: str


@dataclass
class Note:
    """A note, its planted spans, its record and its template set."""

    text: str
    identity: dict[str, str]
    template_set: str
    spans: list[Span] = field(default_factory=list)


def _plain(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _syllable_name(rng: random.Random) -> str:
    """A made-up name no dictionary holds (held-out: tests the cues alone)."""
    parts = ["ka", "zu", "mi", "tro", "vel", "quen", "dor", "ix", "ba", "lo", "fen", "rud"]
    return "".join(rng.choice(parts) for _ in range(3)).capitalize()


def make_identities(n: int, seed: int) -> list[dict[str, str]]:
    """``n`` identities from Faker over eight locales, US addresses."""
    from faker import Faker

    fakers = [Faker(loc) for loc in LOCALES]
    us = Faker("en_US")
    for i, f in enumerate(fakers):
        f.seed_instance(seed * 100 + i)
    us.seed_instance(seed)
    out: list[dict[str, str]] = []
    for i in range(n):
        f = fakers[i % len(fakers)]
        given, family = f.first_name(), f.last_name()
        if i % 11 == 0:
            family = f"O'{family}" if "'" not in family else family
        if i % 13 == 0:
            given = f"{given}-{f.first_name()}"
        out.append({
            "given": given, "family": family, "name": f"{given} {family}",
            "mrn": f"MRN{us.random_number(7, True)}", "ssn": us.ssn(),
            "phone": us.numerify("(###) ###-####"), "email": us.email(),
            "street": us.street_address(), "city": us.city(), "zip": us.zipcode(),
            "state": us.state_abbr(), "doctor": us.last_name(),
            "relative": f.first_name(), "other_person": _syllable_name(us.random)})
    add_people(out, seed)
    _deid_fresh.add_people(out, seed)
    _deid_blind.add_people(out, seed)
    _deid_sealed.add_people(out, seed)
    _deid_recall4.add_people(out, seed)
    _deid_recall5.add_people(out, seed)
    _deid_recall6.add_people(out, seed)
    _deid_recall7.add_people(out, seed)
    _deid_recall8.add_people(out, seed)
    _deid_recall9.add_people(out, seed)
    _deid_recall10.add_people(out, seed)
    _deid_recall11.add_people(out, seed)
    _deid_sealed2.add_people(out, seed)
    _deid_sealed3.add_people(out, seed)
    _deid_sealed4.add_people(out, seed)
    _deid_sealed5.add_people(out, seed)
    _deid_sealed6.add_people(out, seed)
    return out


Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1950, 2024), rng.randint(1, 12), rng.randint(1, 28)


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


TUNED: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (p["name"], f"{p['name']} was seen today."),
        lambda r, p: (p["name"].upper(), f"{p['name'].upper()} was seen today."),
        lambda r, p: (p["family"], f"Spoke with {p['family']} about the plan."),
        lambda r, p: (p["given"].lower(), f"{p['given'].lower()} agrees."),
        lambda r, p: (_plain(p["name"]), f"Seen with {_plain(p['name'])}."),
        lambda r, p: (p["family"].replace("'", "’"), f"Mrs {p['family'].replace(chr(39), '’')} "
                                                     f"called."),
        lambda r, p: (p["family"].replace("'", ""),
                      f"Note for {p['family'].replace(chr(39), '')}."),
        lambda r, p: (p["given"].replace("-", " "),
                      f"{p['given'].replace('-', ' ')} is well."),
        lambda r, p: (p["doctor"], f"Seen by Dr. {p['doctor']} in clinic."),
        lambda r, p: (p["relative"], f"His daughter {p['relative']} drove him."),
    ],
    "GEO": [
        lambda r, p: (p["street"], f"Lives at {p['street']}."),
        lambda r, p: (p["city"], f"Moved to {p['city']} last year."),
        lambda r, p: (f"{p['state']} {p['zip']}", f"Mail to {p['state']} {p['zip']}."),
    ],
    "DATE": [
        lambda r, p: (lambda y, m, d: (f"{y}-{m:02d}-{d:02d}", f"Admitted {y}-{m:02d}-{d:02d}."))(
            *_date(r)),
        lambda r, p: (lambda y, m, d: (f"{m}/{d}/{y}", f"Seen {m}/{d}/{y}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{MONTHS[m - 1]} {d}, {y}", f"On {MONTHS[m - 1]} {d}, "
                                                                    f"{y} labs drawn."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{d} {MONTHS[m - 1].upper()} {y}", f"Since {d} "
                                       f"{MONTHS[m - 1].upper()} {y} stable."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{MONTHS[m - 1]} {_ord(d)}", f"Back on {MONTHS[m - 1]} "
                                       f"{_ord(d)}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{MONTHS[m - 1].lower()} {y}", f"Worse since "
                                       f"{MONTHS[m - 1].lower()} {y}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{m}/{d}", f"Recheck {m}/{d}."))(*_date(r)),
    ],
    "PHONE": [
        lambda r, p: (p["phone"], f"Call {p['phone']} if worse."),
        lambda r, p: (p["phone"][6:], f"Local number {p['phone'][6:]} works."),
        lambda r, p: ("+44 20 7946 0958", "Daughter abroad: +44 20 7946 0958."),
        lambda r, p: ("+1" + "".join(c for c in p["phone"] if c.isdigit()),
                      f"Text +1{''.join(c for c in p['phone'] if c.isdigit())}."),
    ],
    "EMAIL": [lambda r, p: (p["email"], f"Results sent to {p['email']}.")],
    "SSN": [
        lambda r, p: (p["ssn"], f"SSN {p['ssn']} on file."),
        lambda r, p: (p["ssn"].replace("-", " "), f"SSN {p['ssn'].replace('-', ' ')} on file."),
        lambda r, p: (p["ssn"].replace("-", "."), f"Social {p['ssn'].replace('-', '.')} given."),
    ],
    "MRN": [
        lambda r, p: (p["mrn"], f"Chart {p['mrn']} reviewed."),
        lambda r, p: (f"mrn {p['mrn'][3:]}", f"Ref mrn {p['mrn'][3:]}."),
        lambda r, p: (f"Mrn#{p['mrn'][3:]}", f"Ref Mrn#{p['mrn'][3:]}."),
        lambda r, p: (f"medical record number {p['mrn'][3:]}", f"Per medical record number "
                                                                f"{p['mrn'][3:]}."),
        lambda r, p: (f"pt id {p['mrn'][5:]}", f"Use pt id {p['mrn'][5:]}."),
    ],
    "URL": [
        lambda r, p: ("https://portal.example.org/p/8812", "See https://portal.example.org/p/8812."),
        lambda r, p: ("mychart.example.com/u/4471", "Uploaded to mychart.example.com/u/4471 ."),
    ],
    "IP": [
        lambda r, p: ("10.20.30.40", "Device at 10.20.30.40 paired."),
        lambda r, p: ("fe80::1ff:fe23:4567:890a", "Monitor fe80::1ff:fe23:4567:890a online."),
    ],
    "AGE": [
        lambda r, p: (lambda a: (f"{a}-year-old", f"A {a}-year-old seen."))(r.randint(90, 104)),
        lambda r, p: (lambda a: (f"{a} yo", f"{a} yo with falls."))(r.randint(90, 104)),
    ],
}

HELD_OUT: dict[str, list[Form]] = {
    "NAME": [
        lambda r, p: (f"{p['family']}, {p['given']}", f"Pt: {p['family']}, {p['given']}."),
        lambda r, p: (f"{p['given'][0]}. {p['family']}", f"Signed {p['given'][0]}. "
                                                         f"{p['family']}."),
        lambda r, p: (p["family"].upper(), f"{p['family'].upper()}'S wife present."),
        lambda r, p: (p["doctor"].upper(), f"PER DR {p['doctor'].upper()} OK."),
        lambda r, p: (p["other_person"], f"Neighbor {p['other_person']} checks on her."),
        lambda r, p: (p["other_person"], f"Seen with nurse {p['other_person']}."),
    ],
    "GEO": [
        lambda r, p: (f"Apt 4B, {p['street']}", f"Address: Apt 4B, {p['street']}."),
        lambda r, p: (p["city"].upper(), f"FROM {p['city'].upper()}."),
    ],
    "DATE": [
        lambda r, p: (lambda y, m, d: (f"{d:02d}-{MONTHS[m - 1][:3]}-{y}",
                                       f"DOB {d:02d}-{MONTHS[m - 1][:3]}-{y}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{MONTHS[m - 1][:3]}. {_ord(d)}, {y}",
                                       f"Seen {MONTHS[m - 1][:3]}. {_ord(d)}, {y}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"the {_ord(d)} of {MONTHS[m - 1]}",
                                       f"Due the {_ord(d)} of {MONTHS[m - 1]}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{d}.{m}.{y}", f"Surgery {d}.{m}.{y}."))(*_date(r)),
        lambda r, p: (lambda y, m, d: (f"{y}/{m}/{d}", f"Since {y}/{m}/{d}."))(*_date(r)),
    ],
    "PHONE": [
        lambda r, p: (lambda dg: (f"{dg[:3]}.{dg[3:6]}.{dg[6:]}",
                                  f"Tel {dg[:3]}.{dg[3:6]}.{dg[6:]}."))(
            "".join(c for c in p["phone"] if c.isdigit())),
        lambda r, p: (lambda dg: (f"1-{dg[:3]}-{dg[3:6]}-{dg[6:]}",
                                  f"Cell 1-{dg[:3]}-{dg[3:6]}-{dg[6:]}."))(
            "".join(c for c in p["phone"] if c.isdigit())),
        lambda r, p: (lambda dg: (f"({dg[:3]}){dg[3:6]}-{dg[6:]} x23",
                                  f"Office ({dg[:3]}){dg[3:6]}-{dg[6:]} x23."))(
            "".join(c for c in p["phone"] if c.isdigit())),
    ],
    "EMAIL": [lambda r, p: (p["email"].upper(), f"EMAIL {p['email'].upper()} CONFIRMED.")],
    "SSN": [
        lambda r, p: (p["ssn"].replace("-", ""), f"SSN#{p['ssn'].replace('-', '')}."),
        lambda r, p: (p["ssn"], f"soc sec: {p['ssn']}."),
    ],
    "MRN": [
        lambda r, p: (f"MR# {p['mrn'][3:]}", f"See MR# {p['mrn'][3:]}."),
        lambda r, p: (f"acct no. {p['mrn'][4:]}", f"Billing acct no. {p['mrn'][4:]}."),
    ],
    "URL": [lambda r, p: ("http://10.1.2.3:8080/notes", "Notes at http://10.1.2.3:8080/notes.")],
    "IP": [lambda r, p: ("2001:db8::7", "Gateway 2001:db8::7 logged.")],
    "AGE": [
        lambda r, p: (lambda a: (f"{a} y/o", f"{a} y/o female."))(r.randint(90, 104)),
        lambda r, p: (lambda a: (f"age: {a}", f"Age: {a}."))(r.randint(90, 104)),
        lambda r, p: ("in her 90s", "Active, in her 90s."),
    ],
}


#: Template sets by name, in the order the bench prints them.
SETS: dict[str, dict[str, list[Form]]] = {"tuned": TUNED, "seen": HELD_OUT,
                                          "held-out": HELD_OUT_2, "fresh": _deid_fresh.FRESH,
                                          "blind-dev": _deid_blind.DEV,
                                          "blind-test": _deid_blind.TEST,
                                          "fresh-4": _deid_recall4.R4,
                                          "fresh-5": _deid_recall5.R5,
                                          "fresh-6": _deid_recall6.R6,
                                          "fresh-7": _deid_recall7.R7,
                                          "fresh-8": _deid_recall8.R8,
                                          "fresh-9": _deid_recall9.R9,
                                          "fresh-10": _deid_recall10.R10,
                                          "fresh-11": _deid_recall11.R11,
                                          "sealed": _deid_sealed.SEALED,
                                          "sealed-2": _deid_sealed2.SEALED2,
                                          "sealed-3": _deid_sealed3.SEALED3,
                                          "sealed-4": _deid_sealed4.SEALED4,
                                          "sealed-5": _deid_sealed5.SEALED5,
                                          "sealed-6": _deid_sealed6.SEALED6}
#: Filler sentences of each set (the others use ``FILLER``).
FILLERS: dict[str, tuple[str, ...]] = {"held-out": FILLER_NOTES,
                                       "fresh": _deid_fresh.FILLER_FRESH,
                                       "blind-dev": _deid_blind.DEV_FILLER,
                                       "blind-test": _deid_blind.TEST_FILLER,
                                       "fresh-4": _deid_recall4.FILLER_R4,
                                       "fresh-5": _deid_recall5.FILLER_R5,
                                       "fresh-6": _deid_recall6.FILLER_R6,
                                       "fresh-7": _deid_recall7.FILLER_R7,
                                       "fresh-8": _deid_recall8.FILLER_R8,
                                       "fresh-9": _deid_recall9.FILLER_R9,
                                       "fresh-10": _deid_recall10.FILLER_R10,
                                       "fresh-11": _deid_recall11.FILLER_R11,
                                       "sealed": _deid_sealed.SEALED_FILLER,
                                       "sealed-2": _deid_sealed2.FILLER_SEALED2,
                                       "sealed-3": _deid_sealed3.FILLER_SEALED3,
                                       "sealed-4": _deid_sealed4.FILLER_SEALED4,
                                       "sealed-5": _deid_sealed5.FILLER_SEALED5,
                                       "sealed-6": _deid_sealed6.FILLER_SEALED6}


def make_note(rng: random.Random, people: list[dict[str, str]], template_set: str,
              owner: int) -> Note:
    """One note of ``people[owner % len(people)]``: filler and 4-7 PHI slots.

    Every identity owns notes (callers make at least ``len(people)`` notes), so
    "another patient" named in a note is a patient of the same dataset.
    """
    forms = SETS[template_set]
    filler = FILLERS.get(template_set, FILLER)
    p = people[owner % len(people)]
    note = Note(text="", identity=p, template_set=template_set)
    parts: list[str] = []
    for _ in range(rng.randint(4, 7)):
        if rng.random() < 0.6:
            parts.append(rng.choice(filler))
        cat = rng.choice(sorted(forms))
        value, sentence = rng.choice(forms[cat])(rng, p)
        if rng.random() < 0.15:  # another patient of the dataset, named in this note
            other: dict[str, Any] = rng.choice(people)
            value, sentence = other["name"], f"Shares a room with {other['name']}."
            cat = "NAME"
        parts.append(sentence)
        note.spans.append(Span(value, cat))
    note.text = ("\n" if template_set in FILLERS and rng.random() < 0.5 else " ").join(parts)
    return note


def deal_notes(people: list[dict[str, str]], sets: list[str], per_set: int, seed: int,
               stream: str = "labelled", cover: bool = True) -> list[Note]:
    """``per_set`` notes of each template set, each set drawn from its own random stream.

    A set's notes (their owners, forms and values) depend only on ``seed``,
    ``stream`` and the set's name: adding, removing or reordering sets leaves
    every other set's notes, and so its figures, as they were. (One shared
    stream re-dealt every set whenever a set was added, so a round's gain on a
    set it did not touch was partly a new draw.) Notes are interleaved set by
    set. With ``cover``, every identity is a record of the dataset: an
    identity no note fell to gets one row with an empty note, so "another
    patient" named in a note is always a patient of the same dataset, as
    ``make_note`` promises (a throughput corpus, which scores nothing, leaves
    them out).
    """
    dealt: list[list[Note]] = []
    for name in sets:
        rng = random.Random(f"{stream}:{seed}:{name}")
        dealt.append([make_note(rng, people, name, rng.randrange(len(people)))
                      for _ in range(per_set)])
    notes = [batch[k] for k in range(per_set) for batch in dealt]
    if not cover:
        return notes
    owners = {id(n.identity) for n in notes}
    notes.extend(Note(text="", identity=p, template_set=sets[0])
                 for p in people if id(p) not in owners)
    return notes
