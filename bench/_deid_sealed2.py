"""A second sealed held-out template set of ``bench/deid.py``: ``sealed-2`` (issue 12).

``sealed`` was read while rules were written (deid12), so it no longer gives an honest
held-out figure. This set replaces it as the held-out one. Written blind: before reading
any rule of the scrubber (``medpipe/activities/deid/``, ``activities/pseudonymize/scrub*``,
``activities/residual*``), ``docs/deid.md``, the README's de-identification sections, or
the forms and fillers of any other set (only their module docstrings, to pick other note
styles, and their ``add_people``, for the interface, were read). It was never run through
the scrubber or ``bench/deid.py`` before it was committed; ``bench/deid.py`` printed none
of its misses until it was read in round deid12d, after its two recorded runs (held out no
longer since).

Note styles named by no other set's docstring:

* anaesthesia pre-operative assessments and intra-operative records (airway, NPO times,
  the anaesthetist, CRNA and circulator, sign-in);
* genetic counselling notes (pedigrees in capitals, relatives by relation and name,
  cascade testing, lab portals and accession numbers);
* poison-control centre call records (caller, callback number, where the exposure
  happened, case numbers);
* sleep-laboratory reports and CPAP compliance downloads (night-of ranges, modem IP
  addresses, cloud links, device serials);
* advance-directive, health-care proxy and POLST paperwork (agents, witnesses, notary's
  county, "this 14th day of March" dates);
* health-information-management release-of-information logs (requesters, faxes, mailing
  addresses, identity checks by SSN);
* infection-prevention contact tracing and transplant-coordinator notes (places visited,
  exposure windows, living donors, registry ids, lodging near the centre).

PHI is written as clerks and clinicians write it: ``FAMILY, GIVEN`` headers, lower-case
names typed during a phone call, an initial glued to a family name (``J.Novak``),
witness names with a transposed-letter typo, possessives, nicknames in quotes; dates as
``m/d/yy``, compact ``YYYYMMDD``, ``YYYY.MM.DD``, ``MM/YYYY``, a sleep study's night
range (``3/14-3/15``), ``the 14th day of March, 2024``, misspelt months (``Febuary``),
month and year in prose; addresses with units in capitals and lower case, a street name
without a number, a street and its town on one line, a county of a notary, ZIP and
ZIP+4; phones with a slash after the area code, dashes, a seven-digit local number;
e-mails built from names, one spelled ``(at)``/``(dot)``; URLs with and without scheme;
IPv4 with a port after it and IPv6 unique-local; full, undashed and last-four SSNs; other
unique numbers (anaesthesia record, poison-centre case, UNOS id, health-plan member id,
CPAP serial, genetics accession, release request) labelled ``MRN``, the bench's category
for other unique ids; ages over 89 glued (``93yo``), with ``y.o.``/``years`` and in words.

What I decided for the doubtful forms, under 45 CFR 164.514(b)(2)(i): the span is the
identifier alone (a title, credential, relation word, ``County``, a state, an id's label
word stay out); a county's name, a street name without a number and a town are GEO; a
street and its town run together are one span; a date range of one night is one span; a
month with its year is DATE, a year alone is not (the filler keeps ``AASM 2017``); the
last four digits of an SSN are SSN; ages are only ever over 89. A month/day without a
year always has a day over 10, so no filler score (``4/5``, ``TOF 4/4``) contains it.

People come from Faker locales none of the other sets' docstrings name (``da_DK``,
``no_NO``, ``cs_CZ``, ``hr_HR``, ``lt_LT``, ``et_EE``, ``zu_ZA``, ``sl_SI``; the sets
whose locale lists are not in their docstrings were not read, so an overlap with them is
possible), accents kept half of the time; addresses, towns and counties from ``en_US``.
The filler plants non-PHI traps: doses and drips, airway and sleep scores (``Mallampati
2``, ``TOF 4/4``, ``AHI 27.4``, ``Epworth 14/24``), lab values and HLA types, ICD-10 and
CPT codes, a CFR section, eponyms that are also places or names (``Amsterdam II
criteria``, ``Huntington disease``, ``Rumack-Matthew``, ``Cormack-Lehane``, ``Bair
Hugger``, ``Lynch syndrome``), times (``0712``, ``2130``), a year alone, and words that are
also given names (``will``, ``frank``, ``hope``, ``dawn``, ``faith``, ``rich``).
"""

from __future__ import annotations

import calendar
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench._deid_corpus import Form

#: Faker locales of this set's people (named by no other set's docstring).
LOCALES = ("da_DK", "no_NO", "cs_CZ", "hr_HR", "lt_LT", "et_EE", "zu_ZA", "sl_SI")
RELATIONS = ("daughter", "son", "wife", "husband", "sister", "brother", "niece", "mother")
NICKS = ("Bubba", "Sunny", "Pip", "Tink", "Chip", "Dodie", "Mimi", "Buzz", "Coco", "Bitsy")
#: Misspellings of the months, as typed in a hurry (index = month - 1).
TYPO_MONTHS = (
    "Janaury",
    "Febuary",
    "Marhc",
    "Apirl",
    "May",
    "Juen",
    "Jully",
    "Agust",
    "Septmber",
    "Ocotber",
    "Novmber",
    "Decmber",
)
ONES = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "proton.me")


def _ymd(r: random.Random) -> tuple[int, int, int]:
    return r.randint(1931, 2025), r.randint(1, 12), r.randint(1, 28)


def _ordinal(d: int) -> str:
    """``14th``: the corpus's ordinal, imported here because the corpus imports this module."""
    from bench._deid_corpus import _ord

    return _ord(d)


def _digits(p: dict[str, str]) -> str:
    return "".join(c for c in p["phone"] if c.isdigit())


def _age(r: random.Random) -> int:
    return r.randint(90, 104)


def _age_words(a: int) -> str:
    """An age over 89 in words, as dictated (``ninety-three``, ``one hundred and two``)."""
    if a >= 100:
        return "one hundred" + (f" and {ONES[a - 100]}" if a > 100 else "")
    return "ninety" + (f"-{ONES[a - 90]}" if a > 90 else "")


def _typo(s: str) -> str:
    """``s`` with two inner letters swapped (a witness line copied by hand)."""
    if len(s) < 4:
        return s + s[-1]
    i = len(s) // 2
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]


def _local(p: dict[str, str]) -> str:
    """An e-mail local part built from the patient's folded name."""
    given = "".join(c for c in p["s2_given_plain"].lower() if c.isalpha())
    family = "".join(c for c in p["s2_family_plain"].lower() if c.isalpha())
    return f"{given[:1] or 'x'}{family or 'pt'}"


# -- NAME: the individual, relatives, agents, witnesses, clinicians and staff ---------------


def _name_anaesthetist(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s2_doc_g']} {p['s2_doc_f']}"
    return v, f"Anesthesia attending: {v}, MD; CRNA present for induction and emergence."


def _name_circulator(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_staff_f"].upper()
    return v, f"Time-out and sign-in completed with circulator {v} at 0712."


def _name_pedigree(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['family'].upper()}, {p['given'].upper()}"
    return v, f"PEDIGREE FOR: {v}   (proband III-2, arrow)"


def _name_aunt(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_rel_g"]
    return v, f"Maternal aunt {v} had breast ca dx at 41, tested BRCA negative at an outside lab."


def _name_caller(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_rel_g"].lower()
    return v, (
        f"caller is pt's {p['s2_relation']} {v}, states child got into a bottle of "
        f"melatonin gummies"
    )


def _name_agent(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s2_agent_g']} {p['s2_agent_f']}"
    return v, f"Health care agent named in the proxy: {v} ({p['s2_relation']}); no alternate."


def _name_witness(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s2_wit_g']} {_typo(p['s2_wit_f'])}"
    return v, f"Witness #2 (printed): {v}, not related to the principal."


def _name_counsellor(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s2_staff_g'][:1]}.{p['s2_staff_f']}"
    return v, f"Results disclosed by {v}, MS, CGC, with the proband's consent."


def _name_possessive(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["family"]
    return v, f"{v}'s wife reports loud snoring and witnessed pauses most nights."


def _name_donor(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s2_rel_g']} {p['family']}"
    return v, f"Living-donor evaluation for the pt's {p['s2_relation']}, {v}, started today."


def _name_nick(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_nick"]
    return v, f'Prefers to be called "{v}"; hard of hearing on the left, speak up.'


def _name_lower_patient(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["given"].lower()
    return v, f"pt is {v}, 22 kg, alert, playful, no vomiting so far"


def _name_requester(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_doc_f"]
    return v, f"ROI request received by fax from the office of Dr. {v} for op notes and path."


def _name_sleep_tech(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_staff_g"]
    return v, f"Night tech {v} noted REM-related desaturations and repositioned the cannula."


# -- DATE: anything more specific than a year ----------------------------------------------


def _date_npo(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, d = _ymd(r)
    v = f"{m}/{d}/{y % 100:02d}"
    return v, f"NPO after 2200 on {v}; clear fluids until 0500 allowed."


def _date_compact(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, d = _ymd(r)
    v = f"{y}{m:02d}{d:02d}"
    return v, f"Anesthesia record, date of procedure {v}, OR 6."


def _date_month_year(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, _ = _ymd(r)
    v = f"{calendar.month_name[m]} {y}"
    return v, f"Proband's father died of colon cancer in {v}, aged 52."


def _date_legal(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, d = _ymd(r)
    v = f"{_ordinal(d)} day of {calendar.month_name[m]}, {y}"
    return v, f"Executed this {v}, in the presence of two witnesses."


def _date_night(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    _, m, d = _ymd(r)
    d = max(d, 11)
    v = f"{m}/{d}-{m}/{d + 1}"
    return v, f"Attended polysomnogram, night of {v}, lights out 2241."


def _date_dotted(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, d = _ymd(r)
    v = f"{y}.{m:02d}.{d:02d}"
    return v, f"Listing date {v} per the registry printout; status 1B since."


def _date_mm_yyyy(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, _ = _ymd(r)
    v = f"{m:02d}/{y}"
    return v, f"Last Tdap {v} per the state immunization registry."


def _date_typo(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, d = _ymd(r)
    v = f"{d} {TYPO_MONTHS[m - 1]} {y}"
    return v, f"Prior general anaesthetic {v} for a lap chole, no PONV."


def _date_expiry(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    y, m, d = _ymd(r)
    v = f"{m:02d}/{d:02d}/{y}"
    return v, f"Authorization expires {v} or on revocation in writing."


def _date_cpap(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    _, m, d = _ymd(r)
    v = f"{calendar.month_name[m][:3]} {max(d, 11)}"
    return v, f"Compliance window began {v}; usage 6.4 h/night, residual AHI 3.1."


def _date_exposure(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    _, m, d = _ymd(r)
    v = f"{calendar.month_name[m].lower()} {_ordinal(max(d, 11))}"
    return v, f"symptom onset {v}, per pt; exposure window back-calculated from there"


# -- GEO: every subdivision smaller than a state -------------------------------------------


def _geo_exposure_home(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_street"]
    return v, f"Exposure occurred at the grandmother's house, {v}, in the garage."


def _geo_calling_from(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["city"].lower()
    return v, f"calling from {v}, EMS not needed at this time"


def _geo_notary(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_county"]
    return v, f"Subscribed and sworn before me in {v} County, {p['state']}."


def _geo_mail_to(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['street']}, {p['city']}"
    return v, f"Mail copies to {v}, {p['state']}; requester picks up nothing in person."


def _geo_zip(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["zip"]
    return v, f"Home ZIP {v} is outside the sleep lab's courier area."


def _geo_street_name(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_street_name"]
    return v, f"Attended choir practice at the church hall on {v} while symptomatic."


def _geo_lodging(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s2_city"]
    return v, f"Lives about 4 h from the center, in {v}; needs lodging after transplant."


def _geo_unit_caps(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['street'].upper()} UNIT {r.randint(2, 40)}"
    return v, f"ADDR ON AUTH FORM: {v}"


def _geo_zip4(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['zip']}-{r.randint(1000, 9999)}"
    return v, f"Return envelope addressed to zip {v} (verified)."


def _geo_lower_street(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['street'].lower()} apt {r.randint(1, 9)}{r.choice('abcd')}"
    return v, f"mom says theyre at {v} and the poison was under the sink"


# -- PHONE, EMAIL, URL, IP, SSN, MRN, AGE ----------------------------------------------------


def _phone_callback(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["phone"]
    return v, f"Callback # {v} (caller's cell), ok to leave a message."


def _phone_dashes(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    dg = _digits(p)
    v = f"{dg[:3]}-{dg[3:6]}-{dg[6:]}"
    return v, f"Records faxed to {v} after a cover-sheet check."


def _phone_local(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    dg = _digits(p)
    v = f"{dg[3:6]} {dg[6:]}"
    return v, f"Sleep lab may leave a voicemail at {v}, home line."


def _phone_slash(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    dg = _digits(p)
    v = f"{dg[:3]}/{dg[3:6]}-{dg[6:]}"
    return v, f"Agent's phone: {v} (evenings)."


def _email_plain(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["email"]
    return v, f"Pedigree and letter sent to {v} via secure mail."


def _email_built(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_local(p)}{r.randint(1, 99)}@{r.choice(DOMAINS)}"
    return v, f"CPAP reports to be e-mailed to {v} monthly."


def _email_spelled(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    host = r.choice(DOMAINS).split(".")
    v = f"{_local(p)} (at) {host[0]} (dot) {host[1]}"
    return v, f"Requester asked that the invoice go to {v}."


def _url_cloud(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"https://airview.example.net/patients/{r.randint(10**6, 10**7 - 1)}"
    return v, f"Therapy data: {v} (login required)."


def _url_portal(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"portal.genelab-example.com/report/{r.getrandbits(40):010x}"
    return v, f"Full report at {v} for the family to download."


def _url_video(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"https://meet.example.org/j/{r.randint(10**9, 10**10 - 1)}?pwd=kq{r.randint(100, 999)}"
    return v, f"Goals-of-care meeting by video: {v}"


def _ip_modem(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    return v, f"Modem last checked in from {v} at 0614; no data gaps."


def _ip_port(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"192.168.{r.randint(0, 9)}.{r.randint(2, 254)}"
    return v, f"Home hub reachable at {v}:8443 for the remote download."


def _ip_v6(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    groups = [f"fd{r.getrandbits(8):02x}", f"{r.getrandbits(16):x}", f"{r.getrandbits(16):x}"]
    v = f"{':'.join(groups)}::{r.getrandbits(12):x}"
    return v, f"RPM tablet registered with IPv6 {v}."


def _ssn_last4(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"][-4:]
    return v, f"Identity verified by DOB and last 4 of SSN ({v}) before release."


def _ssn_full(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"]
    return v, f"SS# {v} on the proxy form, to be redacted before scanning."


def _ssn_undashed(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"].replace("-", "")
    return v, f"Registry lists donor SSN {v} for matching."


def _mrn_record(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['mrn'][3:6]}-{p['mrn'][6:]}"
    return v, f"MRN: {v}  ASA III  Wt 82 kg"


def _mrn_unos(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    letters = "".join(r.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(3))
    v = f"{letters}{r.randint(1000, 9999)}"
    return v, f"UNOS ID {v}, blood type O, on the kidney list."


def _mrn_case(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.randint(18, 25)}-{r.randint(100000, 999999)}"
    return v, f"Poison center case #{v}, follow-up call in 4 h."


def _mrn_member(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.choice(('XJH', 'WPK', 'ZGB'))}{r.randint(10**8, 10**9 - 1)}"
    return v, f"Health plan member ID {v}; prior auth for PSG approved."


def _mrn_serial(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.randint(2210, 2399)}{r.randint(10**6, 10**7 - 1)}"
    return v, f"AirSense device SN {v} paired to the patient's account."


def _mrn_accession(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"GX{r.randint(10**6, 10**7 - 1)}-{r.choice('ABC')}"
    return v, f"Lab accession {v}, saliva kit received."


def _mrn_roi(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"ROI{r.randint(2019, 2025)}{r.randint(10000, 99999)}"
    return v, f"Logged as request {v}; due within 30 days."


def _age_glued(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_age(r)}yo"
    return v, f"{v} M for TURP under spinal, frail, uses a walker."


def _age_yo(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_age(r)} y.o."
    return v, f"Principal is a {v} widow, alert and oriented, signing for herself."


def _age_words_form(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _age_words(_age(r))
    return v, f"Paternal grandmother is {v} and still lives alone."


def _age_years(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_age(r)} years"
    return v, f"Age at listing: {v}; frailty index reviewed by the committee."


SEALED2: dict[str, list[Form]] = {
    "NAME": [
        _name_anaesthetist,
        _name_circulator,
        _name_pedigree,
        _name_aunt,
        _name_caller,
        _name_agent,
        _name_witness,
        _name_counsellor,
        _name_possessive,
        _name_donor,
        _name_nick,
        _name_lower_patient,
        _name_requester,
        _name_sleep_tech,
    ],
    "DATE": [
        _date_npo,
        _date_compact,
        _date_month_year,
        _date_legal,
        _date_night,
        _date_dotted,
        _date_mm_yyyy,
        _date_typo,
        _date_expiry,
        _date_cpap,
        _date_exposure,
    ],
    "GEO": [
        _geo_exposure_home,
        _geo_calling_from,
        _geo_notary,
        _geo_mail_to,
        _geo_zip,
        _geo_street_name,
        _geo_lodging,
        _geo_unit_caps,
        _geo_zip4,
        _geo_lower_street,
    ],
    "PHONE": [_phone_callback, _phone_dashes, _phone_local, _phone_slash],
    "EMAIL": [_email_plain, _email_built, _email_spelled],
    "URL": [_url_cloud, _url_portal, _url_video],
    "IP": [_ip_modem, _ip_port, _ip_v6],
    "SSN": [_ssn_last4, _ssn_full, _ssn_undashed],
    "MRN": [_mrn_record, _mrn_unos, _mrn_case, _mrn_member, _mrn_serial, _mrn_accession, _mrn_roi],
    "AGE": [_age_glued, _age_yo, _age_words_form, _age_years],
}

#: Non-PHI sentences of these note styles, with traps that must survive.
FILLER_SEALED2: tuple[str, ...] = (
    "ASA III, Mallampati 2, thyromental distance 3 fingerbreadths; Cormack-Lehane grade 1 "
    "with a Mac 3 blade.",
    "Propofol 150 mg, rocuronium 50 mg and fentanyl 100 mcg at induction; sugammadex "
    "200 mg for reversal.",
    "TOF 4/4 before extubation; PONV prophylaxis with ondansetron 4 mg and dexamethasone 8 mg.",
    "Bair Hugger on, temp 36.4 at emergence; EBL 150 mL, UOP 220 mL.",
    "Pedigree drawn over three generations; no consanguinity reported.",
    "VUS in MLH1 c.1852A>G; Amsterdam II criteria not met, Lynch syndrome not excluded.",
    "Huntington disease in the paternal line was ruled out by a negative test in the uncle.",
    "Cascade testing offered; autosomal dominant inheritance means a 50% risk to each child.",
    "Took up to 15 tablets of acetaminophen 500 mg at about 2130; Rumack-Matthew level at "
    "4 h pending.",
    "Activated charcoal not indicated; observe 6 hours and call back at 0300.",
    "AHI 27.4 events/h, nadir SpO2 78%, Epworth 14/24; PLM index 12.",
    "Split-night protocol: CPAP titrated from 5 to 12 cmH2O with a medium nasal mask.",
    "POLST section A: DNR; section B: selective treatment, no intubation.",
    "The principal may revoke this directive at any time, orally or in writing.",
    "A witness may not be the agent or related by blood, marriage or adoption.",
    "Request handled under 45 CFR 164.524; fee waived, 30-day clock applies.",
    "Psychotherapy notes excluded from the release per policy HIM-07.",
    "Contact precautions for C. difficile; soap and water, bleach wipes for surfaces.",
    "PPD read at 48 h: 12 mm induration; QuantiFERON pending, chest X-ray clear.",
    "Crossmatch negative, cPRA 18%; HLA A2 B44 DR4 typing sent.",
    "MELD-Na 24, Child-Pugh C; tacrolimus trough goal 8-10 ng/mL.",
    "Coded T39.1X1A, CPT 95811 for the titration study, E/M 99214.",
    "Scored per AASM 2017 rules; strength 5/5 in all limbs, reflexes 2+.",
    "Will reassess after PACU; the living will is on file and consistent.",
    "Patient was frank about alcohol use, about 4 beers a night.",
    "Hope is to extubate in the room; inhaler given at dawn as usual.",
    "Faith-based counselling declined; diet rich in potassium discussed.",
)


def add_people(out: list[dict[str, str]], seed: int) -> None:
    """Add this set's relatives, agents, witnesses, clinicians, staff, nicknames and places.

    Keys are prefixed ``s2_`` so they clash with no other set's additions. Every Faker and
    the ``Random`` here are this function's own, seeded from ``seed`` alone, so the other
    sets' people and notes stay what they were.
    """
    from faker import Faker

    from bench._deid_corpus import _plain  # here, not at the top: the corpus imports us

    fakers = [Faker(loc) for loc in LOCALES]
    for i, f in enumerate(fakers):
        f.seed_instance(seed * 2003 + 900 + i)
    us = Faker("en_US")
    us.seed_instance(seed * 2003 + 899)
    rng = random.Random(seed * 2003 + 898)

    def name(s: str) -> str:
        return s if rng.random() < 0.5 else (_plain(s) or "Ana")

    for i, p in enumerate(out):
        rel, doc, staff = fakers[i % 8], fakers[(i + 2) % 8], fakers[(i + 5) % 8]
        agent, wit = fakers[(i + 3) % 8], fakers[(i + 7) % 8]
        p.update(
            {
                "s2_rel_g": name(rel.first_name()),
                "s2_relation": rng.choice(RELATIONS),
                "s2_doc_g": name(doc.first_name()),
                "s2_doc_f": name(doc.last_name()),
                "s2_staff_g": name(staff.first_name()),
                "s2_staff_f": name(staff.last_name()),
                "s2_agent_g": name(agent.first_name()),
                "s2_agent_f": name(agent.last_name()),
                "s2_wit_g": name(wit.first_name()),
                "s2_wit_f": name(wit.last_name()),
                "s2_nick": rng.choice(NICKS),
                "s2_street": us.street_address(),
                "s2_street_name": us.street_name(),
                "s2_city": us.city(),
                "s2_county": us.last_name(),
                "s2_given_plain": _plain(p["given"]),
                "s2_family_plain": _plain(p["family"]),
            }
        )
