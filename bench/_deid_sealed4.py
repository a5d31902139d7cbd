"""A fourth sealed held-out template set of ``bench/deid.py``: ``sealed-4`` (issue 12).

``sealed-3`` had its honest runs (91.0-93.3 % overall) and its misses are read to write
rules, so it stops being held out; this set takes its place. Written blind: before reading
any rule of the scrubber (``medpipe/activities/deid/``, ``activities/pseudonymize/scrub*``,
``activities/residual*``), ``docs/deid.md``, the README's de-identification sections, or
the forms and fillers of any other set (only their module docstrings, to pick other note
styles and writers' habits, and their ``add_people``, for the interface, were read; of
``bench/deid.py`` only its module docstring, ``SEALED`` and the scorer's ``score``,
``tokens`` and miss printers, ``LABEL_WORDS`` used unread by a token check; of the tests
only ``tests/bench/test_deid_sealed.py`` and ``test_deid_sealed2.py``'s test names and
first two tests). It was never run through the scrubber or ``bench/deid.py`` before it
was committed; ``bench/deid.py`` did not print its misses (``SEALED``) until round deid12f
read them, after its two recorded runs: it is held out no longer.

Note styles named by no other set's docstring:

* on-call pager and bleep logs (``PAGE 0214 from 5 North: …``, ``bleeped … x3``);
* e-mail threads pasted into the chart (``From:``/``Sent:``/``To:`` headers, ``On … wrote:``
  quote lines, ``X-Originating-IP`` header lines, signatures wrapped over two lines);
* adult-safeguarding / adult-protective-services referrals (alleged perpetrator, county
  APS, case numbers, SSN at referral);
* fertility / IVF clinic notes (partner, stimulation ranges, egg collection and transfer
  days written ``EC Sun 17/3`` and ``ET 22.iii``, cycle ids, embryo time-lapse links);
* memory-clinic and psychogeriatric assessments (informant, ``lives nr …``, Scottish CHI
  numbers, a what3words meeting point);
* dietetics and nutrition-support reviews (weights on a misspelt month, tube-feed regimens);
* teledermatology and clinical-photography records (image file names carrying a family
  name or a ``YYYYMMDD`` date, photo-share links);
* university student-health notes (halls of residence and room, student ids, roommates);
* patient-relations / complaints (PALS) logs (complainant, reference numbers);
* writers from Canada, Australia, Nigeria and the UK (health cards ``1234-567-890-AB``,
  Medicare ``2123 45670 1``, ``+234 (0)803 …`` and ``04xx xxx xxx`` mobiles, ``dd/mm/yy``,
  ``2025 MAR 04``, ``Mar-19``, unit-hyphen street numbers ``4-1120 Main St``, titles
  ``Chief``/``Alhaji``).

How PHI is written (one identifier per sentence, the span the identifier alone: title,
relation word, credential, ``Co.``/``County``, a state or province, an id's label word and a
file name's other parts stay out):

* NAME: a family name alone in capitals in a page, ``Dr A.K. Family``/``Prof`` with two
  initials, ``pt's dtr`` with a nickname, an e-mail signature with the name wrapped over a
  line break, ``From: Family, Given``, a relative's given name in lower case in a page, a
  partner's full name, ``Given FAMILY`` in a safeguarding referral, a family name in an
  image file name (accents folded, apostrophe dropped), the patient's given name as a
  possessive, ``bleeped Dr Family``, ``FAMILY Given`` in a handover, a roommate's given
  name, ``Mrs Family`` as a complainant, ``Chief``/``Alhaji`` before a relative's name;
* DATE: ``Weds 18th`` (weekday and ordinal, no month), ``22.iii`` (day and lower-case Roman
  month), an e-mail ``Sent: Tuesday, 4 March 2025`` (weekday true to the date, the time
  left out), ``On Thu 13 Mar 2025``, ``(Mar-19)`` after a procedure, ``Sun 17/3`` (day
  first, the weekday as the writer abbreviates it), a stimulation range with an en dash
  (``14–19/3``, ``14–19 mar``), ``1st wk of Feb``, a misspelt
  month (``Agust 14``), ``2025 MAR 04``, ``04/03/25`` day first, ``20250314`` in a file name,
  ``EDD 23 sept``, a page's ``[13-Mar 0214]`` (the time out);
* GEO: a town in a hospital's name (``Ward 4, Town General``), ``lives nr Town``, a
  Canadian unit-hyphen street address, a lower-case street with its unit after it, a
  neighbourhood, a county's APS, a hall of residence and its room, a what3words address,
  a ZIP after its state, an Australian suburb with its postcode, a street name without a
  number, a town in capitals in a page;
* AGE (over 89 only): ``F93`` (sex before age, glued), ``aet. 94y``, ``93y 4m``, ``her 92nd
  birthday``;
* PHONE: Australian mobiles, Nigerian numbers with ``(0)``, a US number with a dash or its
  brackets dropped, Icelandic ``+354`` numbers; EMAIL: a bare ``From:`` address, ``e:`` in a
  signature with capitals, a relative's address at a non-US provider; URL: photo-share,
  teledermatology-case and embryo-viewer links; IP: ``X-Originating-IP: [..]``, an IPv6
  ``Received: from [..]`` header, a pager app's login address; SSN: en-dashed (pasted from a
  word processor), one dash dropped, ``S.S.N.`` with spaces;
* MRN (the bench's category for other unique ids, 45 CFR 164.514(b)(2)(i)(R)): CHI, Ontario
  health card, Australian Medicare, IVF cycle, PALS reference, APS case, student and UK
  hospital numbers, the record's MRN with a space inside.

People come from Faker locales no other set's docstring names (``ha_NG``, ``en_NG``,
``is_IS``, ``sk_SK``, ``az_AZ``, ``sw``; the sets whose locale lists are not in their
docstrings were not read, so an overlap is possible), accents folded half of the time;
towns, streets and ZIPs from ``en_US`` and short lists. The filler plants non-PHI traps:
``r/v 2/52`` (two weeks), ``MoCA 22/30``, ``ACE-III 81``, doses and feed rates, ``AMH 14
pmol/L``, ``Day 5 blastocyst 4AA``, ICD-10 and CPT codes, eponyms (``Lewy``, ``Korsakoff``,
``Koebner``, ``Glogau``, ``Breslow``, ``Clark``), drugs (``Menopur``, ``Cetrotide``,
``Ovitrelle``), a hospital extension, a year alone, and words that are also names
(``ginger``, ``rosy``, ``ivy``, ``rusty``, ``will``). No word of this filler that no other
set's filler holds occurs in another set's planted spans (checked on the notes of seeds
1-10 before committing): the scorer drops filler words from every set's spans, so a new
filler word could have changed the other sets' figures.

Forms per category: NAME 16, DATE 14, GEO 12, MRN 8, AGE 4, PHONE 4, EMAIL 3, URL 3, SSN
3, IP 3 (70 in all; most write their value in one of two or three sentences); 32 filler
sentences.
"""

from __future__ import annotations

import datetime
import random
import string
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

#: Faker locales no other set's docstring names.
LOCALES = ("ha_NG", "en_NG", "is_IS", "sk_SK", "az_AZ", "sw")
RELATIONS = ("dtr", "son", "wife", "hsb", "niece", "nephew", "grandson", "gdtr", "partner",
             "sis", "bro", "carer")
NICKS = ("Bisi", "Tunde", "Siggi", "Gugga", "Kiki", "Jo", "Dayo", "Lalo", "Funmi", "Bara",
         "Zuzka", "Nonno")
TOWNS = ("Kalispell", "Bemidji", "Tupelo", "Paducah", "Muskogee", "Ottumwa", "Nacogdoches",
         "Hattiesburg", "Yakima", "Oshkosh", "Dothan", "Ashford", "Kettering", "Ballarat",
         "Kamloops", "Nanaimo", "Toowoomba", "Kidderminster")
HOODS = ("Flatbush", "Roxbury", "Anacostia", "Germantown", "Little Haiti", "Bushwick",
         "Overtown", "Brixton", "Fitzroy", "Dorchester", "Corktown", "Cabbagetown")
COUNTIES = ("Hennepin", "Maricopa", "Allegheny", "Tarrant", "Pima", "Washoe", "Spokane",
            "Lackawanna", "Sangamon", "Yavapai", "Kanawha", "Onondaga")
HALLS = ("Laurel", "Eastgate", "Birchwood", "Founders", "Riverside", "Oakmont", "Hillcrest",
         "Kingsley")
SUBURBS = ("Coburg", "Footscray", "Marrickville", "Fremantle", "Glenelg", "Sunnybank",
           "Inala", "Dandenong", "Parramatta", "Brunswick East")
W3W = ("filled", "count", "soap", "lamp", "brave", "orchid", "tiles", "mallet", "crisp",
       "banner", "otter", "plank", "velvet", "sprout", "hinge", "pebble")
DOMAINS = ("yahoo.co.uk", "btinternet.com", "bigpond.com", "outlook.com.au", "gmail.com",
           "simnet.is", "rogers.com")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
#: Months as a hurried typist misspells them.
MISSPELT = ("Janaury", "Feburary", "Marhc", "Apirl", "Mya", "Juen", "Juyl", "Agust",
            "Septmeber", "Ocotber", "Novmber", "Decmber")
ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")
WEEKDAYS = ("Mon", "Tues", "Weds", "Thurs", "Fri", "Sat", "Sun")


def _fold(s: str) -> str:
    """``s`` without accents (the corpus's ``_plain``; imported here: the corpus imports us)."""
    from bench._deid_corpus import _plain

    return _plain(s)


def _ord(n: int) -> str:
    from bench._deid_corpus import _ord as corpus_ord

    return corpus_ord(n)


def _say(rng: random.Random, value: str, *templates: str) -> tuple[str, str]:
    """``value`` and one of ``templates`` with ``{v}`` replaced by it."""
    return value, rng.choice(templates).replace("{v}", value)


def _day(rng: random.Random) -> datetime.date:
    """A date whose day is over 12, so day-first and month-first readings never agree and no
    filler score (``22/30``, ``2/52``) holds a day-month of it."""
    return datetime.date(rng.randint(2015, 2026), rng.randint(1, 12), rng.randint(13, 28))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _clean_family(p: dict[str, str]) -> str:
    """The family name as a file name holds it: accents folded, apostrophe and spaces gone."""
    return _fold(p["family"]).replace("'", "").replace(" ", "")


def add_people(out: list[dict[str, str]], seed: int) -> None:
    """Add this set's relatives, clinicians, staff, nicknames, places and numbers.

    Keys are prefixed ``s4_`` so they clash with no other set's additions. Every Faker and
    the ``Random`` here are this function's own, seeded from ``seed`` alone, so the other
    sets' people and notes stay what they were.
    """
    from faker import Faker

    fakers = [Faker(loc) for loc in LOCALES]
    for i, f in enumerate(fakers):
        f.seed_instance(seed * 4003 + 600 + i)
    us = Faker("en_US")
    us.seed_instance(seed * 4003 + 599)
    rng = random.Random(seed * 4003 + 598)

    def person(k: int) -> tuple[str, str]:
        """A given and a family name of ``fakers[k]``, folded to ASCII half of the time,
        each of at least 3 letters (a shorter value would be found inside other words)."""
        f = fakers[k]
        while True:
            g, fam = f.first_name().strip(), f.last_name().strip()
            if rng.random() < 0.5:
                g, fam = _fold(g), _fold(fam)
            if len(g) >= 3 and len(fam) >= 3:
                return g, fam

    n = len(fakers)
    for i, p in enumerate(out):
        rel_g, rel_f = person(i % n)
        doc_g, doc_f = person((i + 1) % n)
        staff_g, staff_f = person((i + 3) % n)
        user = "".join(c for c in f"{_fold(rel_g)}.{_fold(rel_f)}".lower()
                       if c in string.ascii_lowercase + ".")
        p.update({
            "s4_rel_g": rel_g, "s4_rel_f": rel_f, "s4_relation": rng.choice(RELATIONS),
            "s4_doc_g": doc_g, "s4_doc_f": doc_f,
            "s4_staff_g": staff_g, "s4_staff_f": staff_f,
            "s4_nick": rng.choice(NICKS),
            "s4_site": us.city(),
            "s4_near": rng.choice(TOWNS) if rng.random() < 0.5 else us.city(),
            "s4_hood": rng.choice(HOODS), "s4_county": rng.choice(COUNTIES),
            "s4_street": f"{us.building_number()} {us.street_name()}",
            "s4_street_name": us.street_name(),
            "s4_unit": str(rng.randint(2, 48)),
            "s4_hall": f"{rng.choice(HALLS)} Hall rm {rng.randint(101, 460)}",
            "s4_w3w": "///" + ".".join(rng.sample(W3W, 3)),
            "s4_suburb": f"{rng.choice(SUBURBS)} {rng.randint(2000, 7999)}",
            "s4_rel_email": f"{user}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}",
            "s4_ip4": us.ipv4_public(), "s4_ip6": us.ipv6(),
        })


# --- NAME -------------------------------------------------------------------------------

def _n_page_caps(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["family"].upper(),
                "PAGE 0214 from 5 North: {v} in bed 9 sats 88% on 2L, pls r/v.",
                "Bleep from ward: {v} (bay 3) has pulled the NG out again.",
                "Night SHO paged re {v} - BM 2.9, given glucogel, recheck in 15 min.")


def _n_initials_title(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s4_doc_g'][0]}.{rng.choice('ABDEJKMOST')}. {p['s4_doc_f']}"
    return _say(rng, v, "Seen jointly with Dr {v} (consultant psychogeriatrician).",
                "Letter to follow from Prof {v}, Reproductive Medicine.",
                "Dermoscopy images reviewed remotely by Dr {v}.")


def _n_relation_nick(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    rel = p["s4_relation"]
    return _say(rng, p["s4_nick"], f"pt's {rel} {{v}} is main carer, visits daily.",
                f"Spoke to {rel} {{v}} on the phone, happy with plan.",
                f"Collateral from {rel} {{v}}: more muddled since the move.")


def _n_signature_wrapped(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    g, f = p["s4_staff_g"], p["s4_staff_f"]
    cut = max(2, len(f) // 2)
    v = rng.choice((f"{g}\n{f}", f"{g} {f[:cut]}-\n{f[cut:]}"))
    return _say(rng, v, "Many thanks,\n{v}\nSpecialist Dietitian, Nutrition Support Team",
                "Kind regards\n\n{v}\nFertility Nurse Specialist",
                "Best wishes,\n{v}\nClinical Photographer, Medical Illustration")


def _n_from_header(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"{p['s4_staff_f']}, {p['s4_staff_g']}",
                "From: {v} (Memory Assessment Service)",
                "To: {v}; Ward 7 Nurses",
                "Cc: {v} (Safeguarding Lead)")


def _n_page_relative_lower(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    rel = p["s4_relation"]
    return _say(rng, p["s4_rel_g"].lower(),
                f"pager msg: {rel} {{v}} on the way in, eta 40 min",
                f"fyi {rel} {{v}} wants a call back re DNACPR",
                f"{rel} {{v}} at bedside, aware of plan")


def _n_partner(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"{p['s4_rel_g']} {p['s4_rel_f']}",
                "Partner: {v}, attended for semen analysis.",
                "Consent forms countersigned by partner {v}.",
                "Male partner {v} - SA normal parameters.")


def _n_safeguarding(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    rel = p["s4_relation"]
    return _say(rng, f"{p['s4_rel_g']} {p['s4_rel_f'].upper()}",
                f"Alleged perpetrator: {{v}} ({rel}, lives with pt).",
                "Concerns raised re {v}, who holds her bank card and PIN.",
                "Pt does not want {v} told of the referral.")


def _n_image_file(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    fam = _clean_family(p)
    v = rng.choice((fam.upper(), fam))
    return _say(rng, v, "Image uploaded: {v}_L_shin_01.jpg (dermatoscope, polarised).",
                "Photos saved as {v}-back-mole-03.png to the clinical drive.")


def _n_possessive_given(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["given"], "{v}'s mum says she has hardly eaten this week.",
                "{v}'s roommate found her in the bathroom.")


def _n_bleeped(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_doc_f"], "Bleeped Dr {v} x3, no answer; escalated to reg.",
                "D/w Dr {v} on call, happy to hold off abx.")


def _n_handover_caps_first(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"{p['family'].upper()} {p['given']}",
                "Handover - {v} - awaiting TTOs then home with POC.",
                "Board round: {v}, medically fit, awaiting NH bed.")


def _n_roommate(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_rel_g"], "Roommate {v} brought her in after the party.",
                "Flatmate ({v}) says she has not left her room in days.")


def _n_complainant(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_rel_f"], "Complainant: Mrs {v} (daughter-in-law), re cold food.",
                "PALS rang Mr {v} back; apology given for the lost hearing aid.")


def _n_honorific(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    title = rng.choice(("Chief", "Alhaji", "Elder", "Pastor"))
    return _say(rng, f"{p['s4_rel_g']} {p['s4_rel_f']}",
                f"{title} {{v}} (pt's father-in-law) attended the family meeting.",
                f"Family spokesman is {title} {{v}}.")


def _n_doc_full_lower(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"{p['s4_doc_g']} {p['s4_doc_f']}".lower(),
                "seen by {v} (psychiatry liaison) on the ward",
                "emb: {v}, 2 oocytes MII injected")


# --- DATE -------------------------------------------------------------------------------

def _d_weekday_ordinal(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{rng.choice(WEEKDAYS)} {_ord(rng.randint(13, 28))}"
    return _say(rng, v, "R/v {v} in memory clinic with informant.",
                "Weighed again {v}, no change.", "Bloods booked for {v} am.")


def _d_roman(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{d.day}.{ROMAN[d.month - 1]}", "ET planned {v}, single blast.",
                "Biopsy taken {v}, histology awaited.")


def _d_sent_header(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    v = f"{d.strftime('%A')}, {d.day} {MONTHS[d.month - 1]} {d.year}"
    return _say(rng, v, "Sent: {v} 09:14", "Sent: {v} 17:52\nSubject: RE: weight loss")


def _d_quote_line(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    v = f"{d.strftime('%a')} {d.day} {MONTHS[d.month - 1][:3]} {d.year}"
    return _say(rng, v, "On {v}, at 14:02, the ward clerk wrote:",
                "> On {v} the GP surgery wrote:")


def _d_procedure_month_year(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    v = f"{MONTHS[d.month - 1][:3]}-{d.year % 100:02d}"
    return _say(rng, v, "PMH: s/p CABG ({v}), AF on apixaban.",
                "Previous IVF cycle cancelled ({v}) for poor response.",
                "Last MoCA ({v}) was 24.")


def _d_weekday_day_first(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{WEEKDAYS[d.weekday()]} {d.day}/{d.month}", "EC {v}, 11 follicles > 14 mm.",
                "Next dressing change {v} by practice nurse.")


def _d_stim_range(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    a, m = rng.randint(13, 20), rng.randint(1, 12)
    end = rng.choice((str(m), MONTHS[m - 1][:3].lower()))
    v = f"{a}\u2013{a + rng.randint(5, 8)}{'/' if end.isdigit() else ' '}{end}"
    return _say(rng, v, "Stims {v}, trigger 36 h before EC.",
                "Away {v}, so no appts that week.")


def _d_week_of_month(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{rng.choice(('1st', '2nd', '3rd', 'last'))} wk of {MONTHS[rng.randint(0, 11)][:3]}"
    return _say(rng, v, "LMP approx {v}, cycles irregular.",
                "Started losing weight {v}, per dtr.")


def _d_misspelt_month(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{MISSPELT[d.month - 1]} {d.day}",
                "Last weight on the scales was {v} (62.4 kg).",
                "PEG placed {v}, site clean.")


def _d_canadian(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{d.year} {MONTHS[d.month - 1][:3].upper()} {d.day:02d}",
                "Date of referral: {v}", "Card renewal date {v} per pt.")


def _d_day_first_short_year(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",
                "Referral letter dated {v} received today.",
                "Incident occurred {v} per the daughter.")


def _d_file_date(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, d.strftime("%Y%m%d"), "Image: derm_{v}_back_03.jpg",
                "Attached scan IMG_{v}_0931.jpg shows the lesion.")


def _d_edd(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    mon = MONTHS[d.month - 1][:4 if d.month == 9 else 3].lower()
    return _say(rng, f"{d.day} {mon}", "G1P0, EDD {v} by dating scan.",
                "Next cycle expected ~{v}.")


def _d_page_stamp(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{d.day}-{MONTHS[d.month - 1][:3]}",
                "[{v} 0214] 5N: pt agitated, pulling at lines",
                "[{v} 2347] ED: bed request for pt")


# --- GEO --------------------------------------------------------------------------------

def _g_hospital_town(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_site"], "Repatriated to Wren ward, {v} Community Hospital.",
                "Came from Ward 4, {v} General, for the PEG.",
                "Transfer accepted by {v} Memorial for rehab.")


def _g_lives_near(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_near"], "Lives nr {v} with her son, no stairs.",
                "Widowed, lives alone o/s {v}.", "Farm 10 min from {v}, drives.")


def _g_unit_hyphen(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s4_unit']}-{p['s4_street']}"
    return _say(rng, rng.choice((v, v.lower())), "Home visit at {v}; back door, dog.",
                "Health card address: {v}")


def _g_lower_street_unit(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s4_street'].lower()} unit {p['s4_unit']}"
    return _say(rng, v, "new addr per pt {v}", "pls send appt to {v} not the old one")


def _g_neighbourhood(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_hood"], "Grew up in {v}, moved in with her son last year.",
                "Walks to the pharmacy in {v} daily.")


def _g_county_aps(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_county"], "Referral faxed to {v} Co. APS intake.",
                "{v} County Adult Protective Services accepted the case.")


def _g_hall(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_hall"], "Lives on campus, {v}.",
                "Welfare check requested at {v} by the RA.")


def _g_what3words(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_w3w"], "Meeting point for the crew: {v}",
                "Pt gave location as {v} (field gate).")


def _g_zip_after_state(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["zip"], f"Mail to {p['state']} {{v}} only, not the PO box.",
                f"ZIP on the claim is {p['state']} {{v}}.")


def _g_suburb_postcode(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_suburb"], "Moved to {v} (VIC) last yr, new GP there.",
                "Medicare address still {v}, NSW.")


def _g_street_name(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_street_name"], "she's in the yellow house on {v}, past the church",
                "Found wandering on {v} by a neighbour.")


def _g_page_town_caps(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_near"].upper(), "PAGE: wife driving from {v}, ETA 1h.",
                "PT TO GO BACK TO {v} ONCE FIT.")


# --- AGE --------------------------------------------------------------------------------

def _a_sex_age(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{rng.choice('FM')}{rng.randint(90, 104)}"
    return _say(rng, v, "{v}, NOF # L, post-op delirium.", "Bay 2: {v} for POC assessment.")


def _a_aetat(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{rng.randint(90, 104)}y"
    aet = rng.choice(("aet.", "aet", "Aet."))
    return _say(rng, v, f"{aet} {{v}}, pigmented lesion R cheek.",
                f"Woman {aet} {{v}} referred with weight loss.")


def _a_years_months(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{rng.randint(90, 104)}y {rng.randint(1, 11)}m"
    return _say(rng, v, "Age {v} at assessment.", "{v} old, lives alone.")


def _a_birthday(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _ord(rng.randint(90, 104))
    return _say(rng, v, "Keen to be home for her {v} birthday.",
                "Family planning a party for his {v}.")


# --- PHONE ------------------------------------------------------------------------------

def _p_au_mobile(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"04{_digits(rng, 2)} {_digits(rng, 3)} {_digits(rng, 3)}"
    return _say(rng, v, "Dtr's mob {v} (in Australia), happy to be called any time.",
                "Best contact {v}, text first.")


def _p_nigeria(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"+234 (0){rng.choice(('803', '805', '806', '813', '703'))} {_digits(rng, 3)} " \
        f"{_digits(rng, 4)}"
    return _say(rng, v, "Husband in Nigeria on {v}, WhatsApp only.",
                "NOK overseas: {v}.")


def _p_dash_dropped(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = "".join(c for c in p["phone"] if c.isdigit())
    v = f"{d[:3]}-{d[3:]}" if rng.random() < 0.5 else f"{d[:3]} {d[3:6]}-{d[6:]}"
    return _say(rng, v, "Callback # {v} (home).", "pls ring pt on {v} with results")


def _p_iceland(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"+354 {rng.choice('5678')}{_digits(rng, 2)} {_digits(rng, 4)}"
    return _say(rng, v, "Sister in Iceland, tel {v}.", "M: {v}")


# --- EMAIL ------------------------------------------------------------------------------

def _e_from(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["email"], "From: {v}\nTo: Nutrition Support Team",
                "Reply-To: {v}")


def _e_signature_caps(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    user, host = p["email"].split("@", 1)
    v = f"{user[:1].upper()}{user[1:]}@{host[:1].upper()}{host[1:]}"
    return _say(rng, v, "e: {v} | m: via switchboard", "Pt emailed photos from {v} today.")


def _e_relative(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_rel_email"], "Son prefers email: {v}",
                "Forwarded from {v} (partner) with the scan report.")


# --- URL --------------------------------------------------------------------------------

def _u_photos(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    code = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(12))
    return _say(rng, f"https://photos.app.goo.gl/{code}", "Pt shared {v} with rash photos.",
                "Photos: {v}")


def _u_teledx(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"teledx.example.net/case/{rng.choice('ABCDK')}{_digits(rng, 2)}-{_digits(rng, 4)}"
    return _say(rng, v, "Store-and-forward case {v} answered.", "See {v} for the images.")


def _u_embryo(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"https://embryoview.example.com/pt/{_digits(rng, 6)}?cycle={rng.randint(1, 4)}"
    return _say(rng, v, "Time-lapse shared with couple: {v}", "Link sent: {v}")


# --- IP ---------------------------------------------------------------------------------

def _i_originating(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_ip4"], "X-Originating-IP: [{v}]")


def _i_received_v6(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_ip6"], "Received: from [{v}] by mail relay")


def _i_pager_login(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["s4_ip4"], "Carer app login from {v} flagged by IT.",
                "Pt's home hub at {v} offline for 3 days.")


# --- SSN --------------------------------------------------------------------------------

def _s_en_dash(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["ssn"].replace("-", "\u2013"), "SSN {v} given at referral.",
                "Soc sec no. {v} (from the benefits letter).")


def _s_dash_dropped(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    s = p["ssn"]
    return _say(rng, f"{s[:3]}-{s[4:6]}{s[7:]}", "SSN: {v} per APS form.",
                "ss# {v}")


def _s_dotted_label(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, p["ssn"].replace("-", " "), "S.S.N. {v} checked against ID.",
                "S.S.N.: {v}")


# --- MRN --------------------------------------------------------------------------------

def _m_chi(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(rng)
    return _say(rng, f"{d.day:02d}{d.month:02d}{d.year % 100:02d}{_digits(rng, 4)}",
                "CHI {v} (from Scotland, temp resident).", "CHI no: {v}")


def _m_ohip(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_digits(rng, 4)}-{_digits(rng, 3)}-{_digits(rng, 3)}-" \
        f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}"
    return _say(rng, v, "OHIP {v}, visiting from Ontario.", "Health card: {v}")


def _m_medicare_au(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{rng.randint(2, 6)}{_digits(rng, 3)} {_digits(rng, 5)} {rng.randint(1, 9)}"
    return _say(rng, v, "Medicare {v}, card seen.", "Aus Medicare no. {v}")


def _m_ivf_cycle(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"IVF-{rng.randint(15, 26)}-{_digits(rng, 4)}",
                "Cycle {v}: 6 eggs, 4 MII.", "HFEA form for cycle {v} signed.")


def _m_pals_ref(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"PALS/{rng.randint(2019, 2026)}/{_digits(rng, 4)}",
                "Our ref: {v}", "Complaint logged as {v}, acknowledged in 3 working days.")


def _m_aps_case(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"{rng.choice(('APS', 'AP'))}{_digits(rng, 7)}",
                "APS intake case # {v}.", "Case {v} opened by the county.")


def _m_student(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    return _say(rng, f"S{_digits(rng, 7)}", "Student ID {v}, 2nd yr engineering.",
                "Univ. no. {v}")


def _m_spaced_mrn(rng: random.Random, p: dict[str, str]) -> tuple[str, str]:
    digits = p["mrn"][3:]
    return _say(rng, f"{digits[:3]} {digits[3:]}", "Hosp no. {v} on the wristband.",
                "Please quote {v} on all correspondence.")


SEALED4: dict[str, list[Form]] = {
    "NAME": [_n_page_caps, _n_initials_title, _n_relation_nick, _n_signature_wrapped,
             _n_from_header, _n_page_relative_lower, _n_partner, _n_safeguarding,
             _n_image_file, _n_possessive_given, _n_bleeped, _n_handover_caps_first,
             _n_roommate, _n_complainant, _n_honorific, _n_doc_full_lower],
    "DATE": [_d_weekday_ordinal, _d_roman, _d_sent_header, _d_quote_line,
             _d_procedure_month_year, _d_weekday_day_first, _d_stim_range, _d_week_of_month,
             _d_misspelt_month, _d_canadian, _d_day_first_short_year, _d_file_date, _d_edd,
             _d_page_stamp],
    "GEO": [_g_hospital_town, _g_lives_near, _g_unit_hyphen, _g_lower_street_unit,
            _g_neighbourhood, _g_county_aps, _g_hall, _g_what3words, _g_zip_after_state,
            _g_suburb_postcode, _g_street_name, _g_page_town_caps],
    "AGE": [_a_sex_age, _a_aetat, _a_years_months, _a_birthday],
    "PHONE": [_p_au_mobile, _p_nigeria, _p_dash_dropped, _p_iceland],
    "EMAIL": [_e_from, _e_signature_caps, _e_relative],
    "URL": [_u_photos, _u_teledx, _u_embryo],
    "IP": [_i_originating, _i_received_v6, _i_pager_login],
    "SSN": [_s_en_dash, _s_dash_dropped, _s_dotted_label],
    "MRN": [_m_chi, _m_ohip, _m_medicare_au, _m_ivf_cycle, _m_pals_ref, _m_aps_case,
            _m_student, _m_spaced_mrn],
}

#: Non-PHI sentences of this set's notes, with traps that must survive the scrubber.
FILLER_SEALED4: tuple[str, ...] = (
    "Donepezil 5 mg nocte, increase to 10 mg if tolerated; r/v 2/52.",
    "MoCA 22/30 (recall and clock weakest), ACE-III 81.",
    "Features in keeping with Lewy body dementia; no hx suggestive of Korsakoff.",
    "Osmolite 1.2 at 65 ml/h for 20 h via PEG, flush 50 ml water 4-hourly.",
    "MUST score 2, BMI 16.4, weight down 4.1 kg in 3 months.",
    "AMH 14 pmol/L, antral follicle count 11, FSH 7.2 IU/L on day 3.",
    "Menopur 150 IU daily from day 2, Cetrotide added on day 6, Ovitrelle trigger.",
    "Day 5 blastocyst 4AA transferred, 2 frozen (4BB, 3BC).",
    "Koebner phenomenon noted; dermographism absent.",
    "Glogau type III photoageing, Breslow 0.6 mm, Clark level II.",
    "Ginger hair, rosy cheeks; no poison ivy exposure recently.",
    "Lens implant in situ, red reflex present.",
    "Titanium ring removed before the scan; rusty nail injury was 5 years ago.",
    "ICD-10 G30.1 and R63.4 coded; CPT 11102 for the biopsy.",
    "Switchboard: ask for ext 2281, Memory Service admin line.",
    "Paged overnight, reviewed 16 min later, NEWS2 of 5.",
    "Informant present for the whole assessment.",
    "Safeguarding concern raised via the online form; no immediate risk today.",
    "Mental capacity assessment for finances: lacks capacity at this time.",
    "Tube feed regimen reviewed with the nursing team; refeeding bloods daily x3.",
    "Phosphate 0.6, Mg 0.71, K 3.4 - replace per protocol.",
    "Patient consented verbally for clinical photography; images on the secure server.",
    "Dermatoscope images attached; ABCDE criteria not met.",
    "Complaint acknowledged within 3 working days as per policy.",
    "Student living in halls, first year away from home.",
    "Sertraline 50 mg od, r/v 4/52; counselling offered via the wellbeing service.",
    "Fresh embryo transfer under ultrasound guidance, uncomplicated.",
    "Vitamin D 32 nmol/L, started colecalciferol 20,000 units weekly x 7.",
    "Eating 1/4 of meals, Ensure Compact BD prescribed.",
    "Bleep numbers listed in the on-call handbook (2019 edition).",
    "No fevers, rigors or night sweats; bowels open daily.",
    "Will need a repeat MMSE in 6 months; DVLA advised.",
)
