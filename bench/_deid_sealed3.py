"""A third sealed held-out template set of ``bench/deid.py``: ``sealed-3`` (issue 12).

``sealed-2`` had its one honest run (92.6-94.3 % overall) and its misses are read to write
rules, so it stops being held out; this set takes its place. Written blind: before reading
any rule of the scrubber (``medpipe/activities/deid/``, ``activities/pseudonymize/scrub*``,
``activities/residual*``), ``docs/deid.md``, the README's de-identification sections, or
the forms and fillers of any other set (only their module docstrings, to pick other note
styles and writers' habits, and their ``add_people``, for the interface, were read; a
grep for ``sealed-2``'s import lines also showed its constants' lines, its locales,
relation words and nicknames, and its helpers' names, none of its forms or filler). It
was never run through the scrubber or ``bench/deid.py`` before it was committed;
``bench/deid.py`` never printed its misses (``SEALED``) until it was read in round deid12e,
after its two recorded runs: held out no longer since.

Note styles named by no other set's docstring:

* bed-management and patient-flow huddles (bed boards, outliers, hospital sites named
  after their towns, repatriations, ``MFFD``/``POC``/``EDD`` shorthand);
* blood-bank and transfusion-laboratory records (sample rejections for a misspelt name,
  band ids, antibody work-ups signed with a scientist's initials);
* immunisation and travel-clinic records (vaccine history by month and year, registry
  ids);
* audiology and hearing-aid fitting reports (aid serial numbers);
* correctional-health intake and sick-call notes (booking numbers, county detention
  centres, ``I/M`` shorthand, SS# at intake);
* bereavement-office, mortuary and medical-examiner referral records (time of death,
  informant, funeral services named after their town, obituary links);
* pacemaker and ICD remote-monitoring clinic notes (device serials, base stations' home
  IP addresses, stored episodes with day-first dates);
* non-emergency patient-transport bookings made by clerks (pick-up addresses in lower
  case, destinations in capitals, call-back numbers).

Writers' habits, as handovers and clerks write them: a family name alone in capitals
(``KRUMINS``), a title with an initial (``Mrs K.``), ``pt's dtr Solvita``, a given name
with the family initial (``Alma K.``), a scientist's initials (``S.K. (BMS)``), a
consultant as ``S. DZENIS``, an e-mail-like signature line (``Given FAMILY | Bed Manager |
Patient Flow``), nicknames (``known as Tommo``), ``NOK: Given Family (dtr)``, an informant
as ``FAMILY, Given``, two clinicians joined by ``/``, a family name misspelt on a sample
tube, a lower-case family name in a transport booking; dates as ``Tues 4th``, ``w/c 14/3``
(day first), ``D/C'd 3/15``, ranges ``3-5 Jan``, ``17th Feb`` and ``17jan`` with no year,
dotted two-digit years (``04.11.38``), ``the 14th``, ``JUN 3 1931``, ``Sat 23/11``, a
vaccine's ``11/2019``, a stored episode's ``14/03`` before its time; places as a hospital
site named after its town (``the Leborough site``), ``lives nr Ludlow``, ``from the Bronx``,
``Cuyahoga Co.``, ``OH 44102``, ZIP+4, a pick-up street in lower case, ``DEST: TOWN`` in
capitals, a street name without a number, a town in a funeral service's name; phones as
``(555) 123-4567``, spaced digits, ``+1 555-123-4567``; e-mails built from names;
obituary, fundraiser and device-portal URLs; a base station's public IPv4 and IPv6;
SSNs dashed, undashed and spaced; other unique numbers (booking, hearing-aid and device
serial, blood-bank band, immunisation-registry, medical-examiner case, hospital number)
labelled ``MRN``, the bench's category for other unique ids; ages over 89 as ``93M``,
``93 yrs``, ``93-yr-old`` and in words. Forms per category: NAME 14, DATE 13, GEO 11,
MRN 7, AGE 4, PHONE 3, EMAIL 3, URL 3, SSN 3, IP 2 (63 in all; many write their value in
one of two or three sentences); 32 filler sentences.

What I decided for the doubtful forms, under 45 CFR 164.514(b)(2)(i):

* **NAME**: the title, relation word, role and credential stay out of the span; an
  initial with a title (``K.`` of ``Mrs K.``) is the patient's name (initials are derived
  from it); ``Given F.`` whole; two scientists' initials before ``(BMS)`` are a name (as
  ``fresh-6`` decided for initials before a credential); a misspelt family name on a
  tube still names the patient; two names joined by ``/`` are one span.
* **DATE**: anything more specific than a year ((C)); a weekday with a day of the month
  whole; a range whole; a month with its year; a numeric month/day or day/month without
  a year always has its day over 12, so no filler score or dose holds it; a time of day
  stays out of the span.
* **GEO**: a town alone (``site``, ``Co.``, ``Funeral Services``, a state stay out); a
  hospital site named after its town is the town (it places the patient as ``fresh-6``'s
  facility towns do); a borough or neighbourhood without ``the``; a ZIP without its state;
  ZIP+4 whole; a street with its number whole; a street name without a number is a
  street.
* **AGE**: only over 89; a sex letter glued to an age (``93M``) is in the span (one
  token).

People come from Faker locales none of the other sets' docstrings name (``lv_LV``,
``sk_SK``, ``az_AZ``, ``sw``, and the romanized names of ``ja_JP`` and ``zh_TW``; the sets
whose locale lists are not in their docstrings were not read, so an overlap with them is
possible), accents kept half of the time; towns, streets, ZIP+4 and IP addresses from
``en_US``, plus short lists of real US towns that share a name with a country or a
foreign city (``Lima``, ``Cairo``, ``Warsaw``), real counties and real boroughs and
neighbourhoods. The filler plants non-PHI traps: doses and drips, lab values, antibody
and antigen names that are family names (``Kell``, ``Duffy``, ``Kidd``), eponyms
(``Coombs``, ``Weber``, ``Rinne``, ``Holter``, ``Stokes-Adams``, ``Cheyne-Stokes``,
``Korsakoff``), a city inside a device maker's name (``Boston Scientific``) and a
protocol's (``Milwaukee protocol``), scores (``CIWA 12``, ``COWS 9``, ``GCS 15``,
``pain 4/10``, ``Clinical Frailty Scale 6``, ``3/6 murmur``), ICD-10 and CPT codes,
vaccine lot numbers, a hearing-aid battery size, times (``0800``, ``1400``), a year
alone, ranges of working days, and words that are also given names (``amber``, ``rose``,
``jack``, ``penny``, ``ivy``, ``ruby``, ``holly``, ``sunny``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench._deid_corpus import Form

Person = dict[str, str]

#: Faker locales of this set's people (named by no other set's docstring).
LOCALES = ("lv_LV", "sk_SK", "az_AZ", "sw")
#: Locales whose romanized names this set uses (their plain names are in other scripts).
ROMANIZED = ("ja_JP", "zh_TW")
RELATIONS = ("dtr", "son", "wife", "hubby", "sis", "bro", "niece", "gdtr", "stepson",
             "partner")
NICKS = ("Tommo", "Bev", "Mags", "Kaz", "Trish", "Shaz", "Gaz", "Babs", "Ronnie", "Stevo",
         "Jonno", "Dazza", "Bunty", "Queenie", "Sully", "Smudge")
#: Real US towns that share a name with a country or a foreign city, and plain ones.
TOWNS = ("Ashford", "Ludlow", "Cairo", "Lebanon", "Athens", "Troy", "Canton", "Warsaw",
         "Lima", "Florence", "Sparta", "Moscow", "Peru", "Bellows Falls", "Hazard", "Mexico")
#: Real counties with their state.
COUNTIES = (("Cuyahoga", "OH"), ("Maricopa", "AZ"), ("Hennepin", "MN"), ("Allegheny", "PA"),
            ("Tarrant", "TX"), ("Pima", "AZ"), ("Kanawha", "WV"), ("Dane", "WI"),
            ("Onondaga", "NY"), ("Bexar", "TX"), ("Multnomah", "OR"), ("Jefferson", "KY"),
            ("Sangamon", "IL"), ("Yakima", "WA"), ("Saginaw", "MI"), ("Cumberland", "NC"))
#: Real boroughs and neighbourhoods, with the article some take.
HOODS = (("the ", "Bronx"), ("", "Flatbush"), ("", "Dorchester"), ("", "Pilsen"),
         ("", "Anacostia"), ("", "Mattapan"), ("", "Canarsie"), ("the ", "Lower Ninth Ward"),
         ("", "Overtown"), ("", "Watts"), ("", "Hialeah"), ("", "Germantown"),
         ("", "Spanish Harlem"), ("", "Bushwick"), ("the ", "North End"))
WEEKDAYS = ("Mon", "Tues", "Weds", "Thurs", "Fri", "Sat", "Sun")
MONTHS3 = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov",
           "Dec")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
TENS_WORDS = {90: "ninety", 100: "one hundred"}
ONES = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Letters a ``_plain`` fold leaves as they are (no decomposition), spelt as a clerk would.
_AZ_FOLD = str.maketrans({"ə": "a", "Ə": "A", "ı": "i", "İ": "I"})


def _fold(s: str) -> str:
    """``s`` in ASCII letters, as a US registration system holds a foreign name."""
    from bench._deid_corpus import _plain  # here, not at the top: the corpus imports us

    return _plain(s.translate(_AZ_FOLD))


def _nth(d: int) -> str:
    from bench._deid_corpus import _ord  # here, not at the top: the corpus imports us

    return _ord(d)


def _day(r: random.Random) -> int:
    """A day over 12: a numeric date without a year then reads as no score or dose."""
    return r.randint(13, 28)


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _age(r: random.Random) -> int:
    return r.randint(90, 106)


def _age_words(a: int) -> str:
    tens = 100 if a >= 100 else 90
    rest = a - tens
    return TENS_WORDS[tens] + (("-" if tens == 90 else " and ") + ONES[rest] if rest else "")


def _pick(r: random.Random, *sentences: str) -> str:
    """One of a form's sentences: the same value, written in another clerk's words."""
    return r.choice(sentences)


def _letters(s: str) -> str:
    """``s`` folded to lower-case ASCII letters, as an e-mail address or a URL spells it."""
    return "".join(c for c in _fold(s).lower() if c.isalpha())


def _login(given: str, family: str) -> str:
    """An e-mail's local part from a name: the given name's initial and the family name."""
    return f"{_letters(given)[:1]}{_letters(family)}"


def _slug(*words: str) -> str:
    return "-".join(_letters(w) for w in words)


def _initial(family: str) -> str:
    """A family name's initial as a clerk writes it (``O'Brien`` -> ``B``, ``de Vries`` ->
    ``D``)."""
    return (family[2:3] if family.startswith("O'") and len(family) > 2 else family[:1]).upper()


# --- NAME -------------------------------------------------------------------------------

def _name_board(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["family"].upper()
    return v, _pick(r, f"Bay 3 bed 4 {v} - MFFD, awaiting POC from social work.",
                    f"{v} outlying on surgical floor, medics to review before noon.",
                    f"Side room needed for {v} (C. diff +ve), swap with bed 11.")


def _name_title_initial(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_initial(p['family'])}."
    title = r.choice(("Mrs", "Mr", "Ms", "Miss"))
    return v, _pick(r, f"{title} {v} very anxious overnight, settled with reassurance.",
                    f"Handover: {title} {v} for repat once bed confirmed.")


def _name_relative_given(r: random.Random, p: Person) -> tuple[str, str]:
    v, rel = p["s3_rel_g"], p["s3_relation"]
    return v, _pick(r, f"pt's {rel} {v} rang for update, aware of plan.",
                    f"Spoke to {rel} {v} re: transport home, happy to collect.")


def _name_consultant(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{p['s3_doc_g'][:1]}. {p['s3_doc_f'].upper()}"
    return v, _pick(r, f"Under Dr {v} (cardiology), PPM check due.",
                    f"Cons: {v}. Happy for step-down.")


def _name_bms_initials(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_fold(p['s3_staff_g'])[:1]}.{_fold(p['s3_staff_f'])[:1]}.".upper()
    return v, _pick(r, f"Antibody ID checked {v} (BMS), 2 units crossmatched.",
                    f"Panel reviewed - {v} (BMS) - refer to reference lab.")


def _name_signature(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{p['s3_staff_g']} {p['s3_staff_f'].upper()}"
    return v, _pick(r, f"{v} | Bed Manager | Patient Flow",
                    f"Regards, {v} | Bereavement Office")


def _name_nick(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_nick"]
    return v, _pick(r, f"Known as {v} on the unit, responds to it.",
                    f"Likes to be called {v}; family agree.")


def _name_nok(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{p['s3_rel_g']} {p['s3_rel_f']}"
    return v, f"NOK: {v} ({p['s3_relation']})."


def _name_informant(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{p['s3_rel_f'].upper()}, {p['s3_rel_g']}"
    return v, f"Informant: {v} - {p['s3_relation']}, present at death."


def _name_typo(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_typo"]
    return v, _pick(r, f"Sample rejected - surname on tube read {v}, band correct.",
                    f"G&S tube labelled {v}; recollect, 2 identifiers.")


def _name_lower_family(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["family"].lower()
    return v, f"pls ask for mr/mrs {v} at the front desk, crew to ring bell."


def _name_staff_given(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_staff_g"]
    return v, _pick(r, f"Handed over to {v} (night site manager) at 2000.",
                    f"Escalated to {v} in patient flow, no beds on site.")


def _name_pair(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{p['s3_doc_f']}/{p['s3_staff_f']}"
    return v, f"Device interrogated by {v}, no changes made."


def _name_given_initial(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{p['given']} {_initial(p['family'])}."
    return v, _pick(r, f"I/M {v} seen at sick call, c/o toothache.",
                    f"{v} asked for her hearing aid batteries again.")


# --- DATE -------------------------------------------------------------------------------

def _date_weekday_nth(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.choice(WEEKDAYS)} {_nth(r.randint(1, 28))}"
    return v, _pick(r, f"EDD {v}, needs POC before then.",
                    f"Medically fit since {v}, escalated at huddle.")


def _date_week_commencing(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_day(r)}/{r.randint(1, 12)}"
    return v, f"Repat to base hospital planned w/c {v}."


def _date_dcd(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.randint(1, 12)}/{_day(r)}"
    return v, _pick(r, f"D/C'd {v} on apixaban, readmitted with melaena.",
                    f"Aid fitted, then D/C'd {v} from audiology follow-up.")


def _date_range(r: random.Random, p: Person) -> tuple[str, str]:
    a = r.randint(1, 24)
    v = f"{a}-{a + r.randint(1, 4)} {r.choice(MONTHS3)}"
    return v, _pick(r, f"Away {v} so remote check moved to the following wk.",
                    f"Held on the unit {v} pending court.")


def _date_day_month(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_nth(r.randint(1, 28))} {r.choice(MONTHS3)}"
    return v, _pick(r, f"Last transfusion {v}, Hb drifting since.",
                    f"Hep B #2 given {v}, #3 due in 5 months.")


def _date_dotted(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.randint(1, 28):02d}.{r.randint(1, 12):02d}.{r.randint(20, 59)}"
    return v, f"Tube label DOB {v} does not match the request form."


def _date_the_nth(r: random.Random, p: Person) -> tuple[str, str]:
    v = _nth(r.randint(1, 28))
    return v, _pick(r, f"Died in the early hours of the {v}; ME informed.",
                    f"Bloods again on the {v} before the hearing.")


def _date_us_full(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.randint(1, 12)}/{r.randint(1, 28)}/{r.randint(2015, 2025)}"
    return v, f"Pronounced 0342 on {v} by night RN, family informed."


def _date_month_year(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.randint(1, 12)}/{r.randint(2005, 2024)}"
    return v, _pick(r, f"Tdap {v}, PPSV23 not given.",
                    f"Yellow fever vaccine {v} per card.")


def _date_weekday_daymonth(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.choice(WEEKDAYS)} {_day(r)}/{r.randint(1, 12)}"
    return v, f"Adm {v} via ED, outlier since."


def _date_glued(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.randint(1, 28)}{r.choice(MONTHS3).lower()}"
    return v, f"bloods due {v} with next level."


def _date_caps_month_first(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{r.choice(MONTHS)[:3].upper()} {r.randint(1, 28)} {r.randint(1920, 1935)}"
    return v, f"Date of birth (per band): {v}."


def _date_episode(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_day(r):02d}/{r.randint(1, 12):02d}"
    return v, f"VF episode stored {v} at 02:10, 1 shock, successful."


# --- GEO --------------------------------------------------------------------------------

def _geo_site(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_site"]
    return v, _pick(r, f"Moved to ward 7 at the {v} site overnight (outlier).",
                    f"Repat to {v} Community Hospital once bed confirmed.")


def _geo_near(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_near"]
    return v, _pick(r, f"Lives nr {v} with wife, 2 steps to front door.",
                    f"Came from the jail in {v} yesterday.",
                    f"Crew to allow 90 min, lives out past {v}.")


def _geo_zip(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["zip"]
    return v, f"Home ZIP for transport eligibility: {p['state']} {v}."


def _geo_county(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_county"]
    return v, _pick(r, f"Transferred from {v} Co. Detention Ctr after 3 days.",
                    f"Death reported to the {v} County ME.")


def _geo_hood(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_hood"]
    return v, f"Originally from {p['s3_hood_the']}{v}, moved in with family."


def _geo_street(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_street"]
    return v, f"P/U addr: {v}, ring bell twice."


def _geo_street_lower(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_street"].lower()
    return v, f"pick up from {v} side door, w/c user."


def _geo_funeral(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_city"]
    return v, f"Released to {v} Funeral Services at 1530."


def _geo_dest_caps(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["city"].upper()
    return v, f"DEST: {v} (pt's home), stretcher, 1 crew."


def _geo_street_name(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_street_name"]
    return v, f"Returning to the group home on {v}."


def _geo_zip4(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_zip4"]
    return v, f"Mail the monitor kit to home, zip {v}."


# --- PHONE, EMAIL, URL, IP, SSN, MRN, AGE ------------------------------------------------

def _phone_nok(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_phone"]
    return v, f"NOK mob {v}."


def _phone_spaced(r: random.Random, p: Person) -> tuple[str, str]:
    d = _digits(p["s3_phone"])
    v = f"{d[:3]} {d[3:6]} {d[6:]}"
    return v, f"Ring {p['s3_relation']} on {v} after 5pm."


def _phone_plus1(r: random.Random, p: Person) -> tuple[str, str]:
    d = _digits(p["phone"])
    v = f"+1 {d[:3]}-{d[3:6]}-{d[6:]}"
    return v, f"Call-back for crew: {v}."


def _email_staff(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_login(p['s3_doc_g'], p['s3_doc_f'])}@{_letters(p['s3_site'])}health.org"
    return v, f"Results to {v}, copy to ward."


def _email_relative(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_letters(p['s3_rel_g'])}.{_letters(p['s3_rel_f'])}{p['s3_nn']}@gmail.com"
    return v, f"{p['s3_relation'].capitalize()} emailed from {v} asking for the death cert."


def _email_signature(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_login(p['s3_staff_g'], p['s3_staff_f'])}@patientflow.org"
    return v, f"Bed Manager <{v}>"


def _url_obituary(r: random.Random, p: Person) -> tuple[str, str]:
    home = f"www.{_letters(p['s3_city'])}funeralservices.com"
    v = f"{home}/obituaries/{_slug(p['given'], p['family'])}"
    return v, f"Obituary posted: {v}"


def _url_fundraiser(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"gofundme.com/f/{_slug(p['given'], p['family'])}-medical-bills"
    return v, f"Dtr asked us to share {v} with staff; declined."


def _url_portal(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"https://remote.cardiolink.example/patients/{p['s3_serial']}"
    return v, f"Transmission at {v} reviewed."


def _ip_v4(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_ip4"]
    return v, _pick(r, f"Base station last seen from {v} (home broadband).",
                    f"Monitor checks in from ip={v} nightly.")


def _ip_v6(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_ip6"]
    return v, f"Transmitter address {v} registered to the pt."


def _ssn_dashed(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["ssn"]
    return v, f"Intake: SS# {v} verified vs ID."


def _ssn_undashed(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["ssn"].replace("-", "")
    return v, f"Decedent SSN: {v}."


def _ssn_spaced(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["ssn"].replace("-", " ")
    return v, f"ssn {v} per pt, no card."


def _mrn_booking(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_booking"]
    return v, f"Booking # {v}, housing unit C."


def _mrn_aid_serial(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_aid"]
    return v, f"R aid s/n {v}, L aid to follow."


def _mrn_band(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_band"]
    return v, f"Transfusion band ID {v} on R wrist."


def _mrn_registry(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_iis"]
    return v, f"State IIS ID {v}, record merged."


def _mrn_me_case(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_me"]
    return v, f"ME case {v} - released, no PM."


def _mrn_hosp(r: random.Random, p: Person) -> tuple[str, str]:
    d = p["mrn"][3:]
    v = f"{d[:3]}-{d[3:]}"
    return v, f"Hosp no {v} on the bed board."


def _mrn_device(r: random.Random, p: Person) -> tuple[str, str]:
    v = p["s3_serial"]
    return v, f"Device SN {v}, MRI conditional."


def _age_board(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_age(r)}{r.choice('MF')}"
    return v, f"Side rm 2 - {v}, delirium, 1:1 needed."


def _age_yrs(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_age(r)} yrs"
    return v, f"Age at death: {v}."


def _age_words_form(r: random.Random, p: Person) -> tuple[str, str]:
    v = _age_words(_age(r))
    return v, f"She is {v} and still lives alone."


def _age_yr_old(r: random.Random, p: Person) -> tuple[str, str]:
    v = f"{_age(r)}-yr-old"
    return v, f"Fitting for a {v}, manages aids herself."


SEALED3: dict[str, list[Form]] = {
    "NAME": [_name_board, _name_title_initial, _name_relative_given, _name_consultant,
             _name_bms_initials, _name_signature, _name_nick, _name_nok, _name_informant,
             _name_typo, _name_lower_family, _name_staff_given, _name_pair,
             _name_given_initial],
    "DATE": [_date_weekday_nth, _date_week_commencing, _date_dcd, _date_range,
             _date_day_month, _date_dotted, _date_the_nth, _date_us_full, _date_month_year,
             _date_weekday_daymonth, _date_glued, _date_caps_month_first, _date_episode],
    "GEO": [_geo_site, _geo_near, _geo_zip, _geo_county, _geo_hood, _geo_street,
            _geo_street_lower, _geo_funeral, _geo_dest_caps, _geo_street_name, _geo_zip4],
    "PHONE": [_phone_nok, _phone_spaced, _phone_plus1],
    "EMAIL": [_email_staff, _email_relative, _email_signature],
    "URL": [_url_obituary, _url_fundraiser, _url_portal],
    "IP": [_ip_v4, _ip_v6],
    "SSN": [_ssn_dashed, _ssn_undashed, _ssn_spaced],
    "MRN": [_mrn_booking, _mrn_aid_serial, _mrn_band, _mrn_registry, _mrn_me_case, _mrn_hosp,
            _mrn_device],
    "AGE": [_age_board, _age_yrs, _age_words_form, _age_yr_old],
}

#: Non-PHI sentences of this set's note styles, with traps that must survive.
FILLER_SEALED3: tuple[str, ...] = (
    "Bed state at 0800 huddle: 3 side rooms, 2 escalation beds open, OPEL 3.",
    "Awaiting TTOs from pharmacy; transport booked for 1400, stretcher plus one.",
    "Group and save valid 72 h; antibody screen negative, 2 units O neg issued.",
    "Kell negative units requested; anti-E and anti-c identified on the panel.",
    "Duffy and Kidd typing sent to the reference lab, DAT (Coombs) negative.",
    "Hb 7.9 g/dL, plt 142, INR 1.3; transfuse 1 unit over 2 h and recheck.",
    "Audiogram: moderate sensorineural loss, PTA 48 dB right and 52 dB left.",
    "Weber lateralises left, Rinne positive bilaterally; tympanometry type A.",
    "RIC aids fitted, dome 8 mm, battery size 312, gain at 70 % of target.",
    "Shingrix dose 2 of 2 given IM left deltoid 0.5 mL, lot 4Y7JK, no reaction.",
    "Typhoid and hep A offered for travel; malaria prophylaxis with atovaquone-proguanil.",
    "RV threshold 0.75 V at 0.4 ms, impedance 520 ohms, battery 8.5 years.",
    "Mode DDDR 60-130, AP 12 %, VP 98 %; no AHREs since the last check.",
    "Boston Scientific generator, MRI conditional; Holter not needed.",
    "History of Stokes-Adams attacks before the PPM; Cheyne-Stokes breathing at night.",
    "CIWA 12, COWS 9; methadone 40 mg verified with the OTP before the next dose.",
    "QuantiFERON negative; suicide watch stepped down to 15 min checks.",
    "Cause of death 1a hypoxic brain injury, 1b cardiac arrest, 2 COPD.",
    "Cremation form completed; no implanted devices remain after explant.",
    "Not reportable: no injury, no surgery in the last 30 days, under GP care.",
    "Wheelchair transport with oxygen 2 L/min; dialysis runs three times a week.",
    "Bed board flags amber, rose to red at 1100 after two admissions.",
    "Jack the bed to hip height and use the slide sheet for transfers.",
    "Not a penny of co-pay owed for the loaner aid.",
    "Ivy leaf cough syrup stopped; ruby-coloured urine resolved with fluids.",
    "Holly berries ingested by grandchild last year, no harm; sunny disposition today.",
    "Korsakoff syndrome query, thiamine 100 mg TDS started.",
    "Milwaukee protocol discussed in the rabies training, not relevant here.",
    "GCS 15, 3/6 systolic murmur, pain 4/10, Clinical Frailty Scale 6.",
    "ICD-10 Z95.0, CPT 93294 for the remote interrogation, billed this way since 2019.",
    "Results in 5-7 working days; repeat sample if haemolysed.",
    "Fall risk high; bed rails down, low bed, call bell in reach.",
)


def add_people(out: list[dict[str, str]], seed: int) -> None:
    """Add this set's relatives, clinicians, staff, nicknames, places and device numbers.

    Keys are prefixed ``s3_`` so they clash with no other set's additions. Every Faker and
    the ``Random`` here are this function's own, seeded from ``seed`` alone, so the other
    sets' people and notes stay what they were.
    """
    from faker import Faker

    fakers = [Faker(loc) for loc in LOCALES + ROMANIZED]
    for i, f in enumerate(fakers):
        f.seed_instance(seed * 3001 + 500 + i)
    us = Faker("en_US")
    us.seed_instance(seed * 3001 + 499)
    rng = random.Random(seed * 3001 + 498)

    def person(k: int) -> tuple[str, str]:
        """A given and a family name of ``fakers[k]``, folded to ASCII half of the time,
        each of at least 3 letters (a shorter value would be found inside other words)."""
        f = fakers[k]
        while True:
            if k >= len(LOCALES):
                g, fam = f.first_romanized_name().title(), f.last_romanized_name().title()
            else:
                g, fam = f.first_name(), f.last_name()
            g, fam = g.strip(), fam.strip()  # some locales' names end in a space
            if rng.random() < 0.5:
                g, fam = _fold(g), _fold(fam)
            if len(g) >= 3 and len(fam) >= 3:
                return g, fam

    n = len(fakers)
    for i, p in enumerate(out):
        rel_g, rel_f = person(i % n)
        doc_g, doc_f = person((i + 2) % n)
        staff_g, staff_f = person((i + 4) % n)
        article, hood = rng.choice(HOODS)
        town = rng.choice(TOWNS) if rng.random() < 0.5 else us.city()
        p.update({
            "s3_rel_g": rel_g, "s3_rel_f": rel_f, "s3_relation": rng.choice(RELATIONS),
            "s3_doc_g": doc_g, "s3_doc_f": doc_f,
            "s3_staff_g": staff_g, "s3_staff_f": staff_f,
            "s3_nick": rng.choice(NICKS),
            "s3_typo": _typo(rng, p["family"]),
            "s3_site": us.city(), "s3_near": town,
            "s3_hood_the": article, "s3_hood": hood,
            "s3_county": rng.choice(COUNTIES)[0],
            "s3_street": us.street_address(), "s3_street_name": us.street_name(),
            "s3_city": us.city(), "s3_zip4": us.zipcode_plus4(),
            "s3_phone": us.numerify("(###) ###-####"), "s3_nn": str(rng.randint(10, 99)),
            "s3_ip4": us.ipv4_public(), "s3_ip6": us.ipv6(),
            "s3_booking": f"{rng.randint(18, 25)}-{rng.randint(0, 999999):06d}",
            "s3_aid": f"{rng.randint(1900, 2499)}{rng.choice('ABCH')}{rng.randint(0, 9999):04d}",
            "s3_band": f"{rng.choice(('BB', 'TX', 'BL'))}{rng.randint(100000, 999999)}",
            "s3_iis": f"{rng.randint(10**11, 10**12 - 1)}",
            "s3_me": f"ME{rng.randint(2015, 2025)}-{rng.randint(0, 9999):04d}",
            "s3_serial": f"{rng.choice(('PJN', 'RNB', 'BLK', 'SRL'))}{rng.randint(100000, 999999)}"
                         f"{rng.choice('SGHR')}",
        })


def _typo(rng: random.Random, family: str) -> str:
    """``family`` as a clerk misspelt it on a tube: two letters swapped or one dropped.

    Always differs from ``family`` and keeps at least three letters; a name too short to
    misspell keeps one extra letter doubled instead.
    """
    s = _fold(family)
    inner = [k for k in range(1, len(s) - 2) if s[k].islower() and s[k + 1].islower()
             and s[k] != s[k + 1]]
    if inner and rng.random() < 0.5:
        k = rng.choice(inner)
        return s[:k] + s[k + 1] + s[k] + s[k + 2:]
    if len(s) > 4:
        k = rng.randrange(1, len(s) - 1)
        if s[k].islower():
            return s[:k] + s[k + 1:]
    k = len(s) - 1
    return s[:k] + s[k] + s[k:]
