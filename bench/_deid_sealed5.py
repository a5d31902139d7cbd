"""A fifth sealed held-out template set of ``bench/deid.py``: ``sealed-5`` (issue 12).

``sealed-4`` had its honest runs (79.7-82.6 % overall) and its misses are read to write
rules, so it stops being held out; this set takes its place. Written blind: before reading
any rule of the scrubber (``medpipe/activities/deid/``, ``activities/pseudonymize/scrub*``,
``activities/residual*``), ``docs/deid.md``, the README's de-identification sections, or
the forms and fillers of any other set (only their module docstrings, to pick other note
styles and writers' habits, and their ``add_people``, for the interface, were read; of
``bench/deid.py`` only ``SEALED`` and the lines that name it; of the tests only
``tests/bench/test_deid_sealed.py``). It was never run through the scrubber or
``bench/deid.py`` before it was committed; ``bench/deid.py`` did not print its misses
(``SEALED``) until it was read in deid12h after its recorded runs; held out no longer.

Note styles named by no other set's docstring:

* endoscopy-unit admission and discharge checklists (escort and driver home, prep);
* opioid-treatment-programme dosing logs (take-home doses, guest dosing at another
  clinic, client numbers);
* rapid-response / MET-call records (who called, who attended, the registrar);
* vascular-access (PICC) team notes and line-care e-mails;
* lactation-consultant and postnatal-ward notes (``Baby Girl FAMILY``, birth day and time);
* street-medicine / homeless-outreach notes (where a client sleeps);
* security's patient-valuables logs (witnesses);
* scanned-and-OCR'd referral letters and faxes, and notes from a US border hospital
  written half in Spanish.

Writers' habits none of the other sets' docstrings name: values read by OCR off a scan,
with ``0``/``O`` and ``1``/``l`` confused inside them (a phone, an SSN, a ZIP, a date of
birth, a hospital number, a family name, an e-mail); values with a stray space inside
them; Spanish-English notes (``la hija``, ``vive en``, ``14 de marzo``, ``marzo del
2019``, ``94 años``, ``Seguro social``, ``cel.``, CURP numbers, a Mexican town and its
colonia); Chinese registrars written surname first in capitals (``FENG Jie``); a patient's
name split over a line break in a scanned header (``FAMILY,\\nGiven``); Indian informants
(``W/o``, ``aged about 92 yrs``, a locality and its PIN, Aadhaar numbers); Filipino
relatives by kin title and nickname (``Tita Bing``, ``Kuya Dodong``);
South African writers (townships, 13-digit ID numbers, ``082`` mobiles, ``.org.za``
e-mails); Irish transfer letters (Eircodes, ``Co. Mayo``, PPS numbers, ``the 14th inst.``,
``the 28th ult.``); New Zealand rural delivery addresses (``RD 2 Te Awamutu``) and NHI
numbers; newborns named ``Baby Girl FAMILY``; a surgical day after ``POD#2 =``.

What I decided for the doubtful forms, under 45 CFR 164.514(b)(2)(i): the span is the
identifier alone (a title, kin title, relation word, credential, ``Co.``, a state, an
id's label word stay out); an OCR'd or space-split value is still the identifier and is
the span as written; a Mexican, Irish, South African, Indian or New Zealand town,
township, colonia, county, rural delivery address, Eircode or PIN is a geographic unit
smaller than a state; an Indian address's locality, town and PIN run together are one
span; ``the 14th inst.``/``28th ult.`` (a day of this or last month) and ``marzo del
2019`` are dates (more specific than a year); a month/day or day/month with no year
always has its day over 12, so no filler score holds it; a Spanish age is the number and
``años``; foreign national ids (South African ID, PPS, NHI, Aadhaar, CURP), a programme's
client number and an OCR'd hospital number are ``MRN``, the bench's category for other
unique ids ((R)); ages are only ever over 89; ``Baby Girl``/``Baby Boy`` stays out of a
newborn's span (the family name is the span).

People: registrars from Faker ``zh_CN``'s romanized names (no other set's docstring
names it), relatives, staff and nicknames from short lists written here (Mexican,
South African, Filipino, Indian, Irish and Maori names), accents folded half of the time;
US towns and streets from ``en_US``, foreign towns, townships, colonias and counties from
short lists. The filler plants non-PHI traps: methadone and buprenorphine doses, ``SOWS
14``, ``RASS -2``, ``NEWS2 7``, ``LATCH 8/10``, ``Boston bowel prep
score 2-3-2``, ``38+2/40``, ``r/v 3/52``, lab values, CPT and ICD-10 codes, eponyms
(``Seldinger``, ``Sherlock 3CG``, ``Schatzki ring``, ``Tinel sign``, ``Valsalva``,
``Trendelenburg``), drugs (``Suboxone``, ``Narcan``, ``Moviprep``), times (``0412h``),
a year alone, Spanish words that are not PHI (``dolor de rodilla``), and words that are
also given names in lower case (``grace``, ``gift``, ``precious``, ``lucky``,
``blessing``). No word of this filler that no other
set's filler holds occurs in another set's planted spans (checked on the notes of seeds
1-10 before committing), so the other sets' scored tokens stay as they were.

Forms per category: NAME 12, DATE 11, GEO 12, MRN 7, PHONE 5, AGE 3, EMAIL 3, SSN 3, URL 2,
IP 2 (60 in all; a few write their value in one of two sentences); 30 filler sentences.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre")
MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Relatives and staff by community (given, family): written here, as real writers meet them.
MEXICAN = (("Guadalupe", "Ramírez"), ("Jesús", "Valenzuela"), ("Socorro", "Quiñónez"),
           ("Refugio", "Ochoa"), ("Rosalba", "Encinas"), ("Héctor", "Bórquez"),
           ("Yesenia", "Moreno"), ("Efraín", "Gastélum"))
SOUTH_AFRICAN = (("Thandeka", "Mahlangu"), ("Sipho", "Ndlovu"), ("Nomvula", "Khumalo"),
                 ("Precious", "Mokoena"), ("Johan", "Botha"), ("Lerato", "Molefe"),
                 ("Andile", "Dlamini"), ("Marietjie", "Venter"))
FILIPINO = (("Marilou", "Dimaculangan"), ("Rodel", "Macaraeg"), ("Analyn", "Bautista"),
            ("Jericho", "Sumague"), ("Rowena", "Pangilinan"), ("Edgardo", "Tolentino"))
INDIAN = (("Venkata", "Lakshmi"), ("Srinivas", "Reddy"), ("Padmavathi", "Rao"),
          ("Murugan", "Pillai"), ("Kavitha", "Subramanian"), ("Harish", "Gowda"))
IRISH = (("Siobhan", "Mulcahy"), ("Padraig", "Geraghty"), ("Aoife", "Brennan"),
         ("Declan", "Furlong"), ("Niamh", "Costello"))
MAORI = (("Aroha", "Ngata"), ("Wiremu", "Tipene"), ("Mereana", "Parata"),
         ("Hemi", "Walker"), ("Ngaire", "Tuhoe"))
COMMUNITIES = (MEXICAN, SOUTH_AFRICAN, FILIPINO, INDIAN, IRISH, MAORI)
#: Relation words that fit any relative's name (the lists do not record sex).
RELATIONS = ("NOK", "grandchild", "cousin", "neighbour", "carer", "sibling", "friend")
#: Filipino nicknames (repeated syllables, clipped names), as a family is called at home.
NICKS = ("Bing", "Jun-Jun", "Len-Len", "Dodong", "Inday", "Bongbong", "Tonette", "Weng")
KIN = ("Tita", "Tito", "Lola", "Kuya", "Ate")
MX_TOWNS = ("Nogales", "Agua Prieta", "San Luis Río Colorado", "Ciudad Juárez", "Reynosa",
            "Matamoros", "Nuevo Laredo", "Piedras Negras", "Mexicali", "Ojinaga", "Sonoyta")
COLONIAS = ("Las Palmas", "Buenos Aires", "Obrera", "Del Valle", "San Miguel",
            "Lomas de Anza", "Héroes", "Kennedy")
SA_AREAS = ("Khayelitsha", "Mitchells Plain", "Soweto", "Umlazi", "Mamelodi", "Gugulethu",
            "Tembisa", "KwaMashu", "Atlantis", "Mdantsane")
IE_COUNTIES = ("Mayo", "Sligo", "Kerry", "Roscommon", "Leitrim", "Offaly", "Tipperary",
               "Donegal", "Westmeath")
EIR_KEYS = ("A65", "D02", "D15", "F91", "H91", "T12", "V94", "X91", "R95", "K78")
NZ_TOWNS = ("Te Awamutu", "Otorohanga", "Dannevirke", "Kaikohe", "Waipukurau", "Te Puke",
            "Taumarunui", "Opotiki")
IN_PLACES = (("Jayanagar 4th Block", "Bengaluru"), ("Kukatpally", "Hyderabad"),
             ("Anna Nagar", "Chennai"), ("Kothrud", "Pune"), ("Saltlake Sector 2", "Kolkata"),
             ("Vijayawada Rural", "Krishna"))
ZA_MOBILE = ("072", "082", "083", "084", "061", "071")
IE_MOBILE = ("083", "085", "086", "087")
NHI_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _fold(s: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _ocr(rng: random.Random, s: str) -> str:
    """``s`` as OCR reads it off a poor scan: some ``0``/``O`` and ``1``/``l`` swapped.

    At least one character changes when ``s`` has one to change (``s`` unchanged if not):
    a value read right is the other forms' business.
    """
    swap = {"0": "O", "O": "0", "1": "l", "l": "1", "o": "0"}
    at = [i for i, c in enumerate(s) if c in swap]
    if not at:
        return s
    chosen = {rng.choice(at)} | {i for i in at if rng.random() < 0.3}
    return "".join(swap[c] if i in chosen else c for i, c in enumerate(s))


def _gap(rng: random.Random, s: str) -> str:
    """``s`` with one stray space between two of its non-space characters."""
    at = [i for i in range(1, len(s)) if s[i - 1] != " " and s[i] != " "]
    i = rng.choice(at)
    return f"{s[:i]} {s[i:]}"


def _misread(rng: random.Random, s: str) -> str:
    """``s`` as a scan reads it: OCR-confused, or, with nothing to confuse, a stray space."""
    read = _ocr(rng, s)
    return read if read != s else _gap(rng, s)


def _day(rng: random.Random, year: tuple[int, int] = (2019, 2025)) -> datetime.date:
    return datetime.date(rng.randint(*year), rng.randint(1, 12), rng.randint(1, 28))


def _late_day(rng: random.Random) -> tuple[int, int]:
    """A (month, day) whose day is over 12: no filler score or dose holds it as a date."""
    return rng.randint(1, 12), rng.randint(13, 28)


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


# --- NAME ---------------------------------------------------------------------------------

def _name_registrar(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s5_doc_f'].upper()} {p['s5_doc_g']}"
    return v, r.choice((f"MET call 0214h: reg {v} attended, ICU outreach informed.",
                        f"Seen on the ward round by {v} (med reg), plan as below."))


def _name_split_header(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['family'].upper()},\n{p['given']}"
    return v, f"REFERRAL FOR ENDOSCOPY   PATIENT: {v}   (scanned copy)"


def _name_informant(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_in_rel"]
    return v, r.choice((f"Informant: {v}, W/o patient, reliable historian.",
                        f"Attender {v} signed the consent in Telugu (thumb impression)."))


def _name_kin_nick(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_nick"]
    return v, f"{p['s5_kin']} {v} at bedside overnight, translating Ilocano for the team."


def _name_spanish_relative(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_mx_rel"]
    return v, r.choice((f"Se habló con su familiar, {v}, por teléfono; está de acuerdo.",
                        f"{v} (familiar) la trae a la cita cada semana."))


def _name_newborn(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["family"].upper()
    return v, f"Baby {r.choice(('Girl', 'Boy'))} {v} rooming in, feeding 2-3 hourly."


def _name_ocr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _ocr(r, p["family"])
    return v, f"Re: Mr/Mrs {v}, referred for colonoscopy (fax received, poor quality)."


def _name_gap(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _gap(r, f"{p['given']} {p['family']}") if len(p["family"]) < 5 else \
        f"{p['given']} {_gap(r, p['family'])}"
    return v, f"Client {v} dosed at window 2, observed, no concerns."


def _name_met_caller(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['s5_staff_g']} {p['s5_staff_f'][0]}"
    return v, f"Rapid response called by RN {v}. for NEWS2 7 and new confusion."


def _name_witness(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_staff_f"].upper()
    return v, f"Valuables bagged (watch, R120 cash, phone); witnessed {v} / security."


def _name_ibclc(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_staff_g"]
    return v, f"Reviewed by IBCLC {v} this am, latch improving, LATCH 8/10."


def _name_escort(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_rel_g"]
    return v, f"Escort home: {v} ({p['s5_relation']}), waiting in the car park."


# --- DATE ---------------------------------------------------------------------------------

def _date_es_day_month(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    v = f"{d.day} de {MESES[d.month - 1]}"
    return v, f"Tiene cita el {v} con cardiología, la familia ya sabe."


def _date_es_full(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r, (1926, 1960))
    v = f"{d.day} de {MESES[d.month - 1]} de {d.year}"
    return v, f"Nació el {v}; la hija trae la lista de medicinas."


def _date_es_month_year(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r, (2012, 2024))
    v = f"{MESES[d.month - 1]} del {d.year}"
    return v, f"Le operaron la cadera en {v}, camina con andadera."


def _date_ocr_dob(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r, (1926, 1960))
    v = _ocr(r, f"{d.month:02d}/{d.day:02d}/{d.year}")
    return v, f"D.O.B. {v}   (scanned referral, faint)"


def _date_gap(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    v = _gap(r, f"{d.month:02d}/{d.day:02d}/{d.year}")
    return v, f"Referral rec'd {v} via fax, triaged as routine."


def _date_pod(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    m, d = _late_day(r)
    v = f"{m}/{d}"
    return v, f"POD#{r.randint(1, 5)} = {v}, drain out, PICC stays."


def _date_inst(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_ord(r.randint(1, 28))} inst."
    return v, f"Thank you for your letter of the {v} regarding this lady's anaemia."


def _date_ult(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_ord(r.randint(1, 28))} ult."
    return v, f"Last reviewed in OPD on the {v} with no change in symptoms."


def _date_birth(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    m, d = _late_day(r)
    v = f"{d}/{m}"
    return v, f"Born {v} at 0412h, SVD, 38+2/40, Apgars fine."


def _date_picc(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    v = f"{d.day:02d}{MON[d.month - 1]}{d.year % 100:02d}"
    return v, f"PICC ins. {v} L basilic, Sherlock 3CG tip confirmation, 42 cm."


def _date_takehome(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    m, d = _late_day(r)
    v = f"{d}-{d + 2}/{m}"
    return v, f"Take-homes approved for {v} (long wknd), lockbox seen."


# --- GEO ----------------------------------------------------------------------------------

def _geo_mx_town(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_mx_town"]
    return v, f"Vive en {v} con su hija y cruza los martes para diálisis."


def _geo_colonia(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_colonia"]
    return v, f"Domicilio en la colonia {v}, a diez minutos de la garita."


def _geo_eircode(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_eircode"]
    return v, f"Irish home address on the transfer letter, Eircode {v}."


def _geo_ie_county(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_county"]
    return v, f"Family are from Co. {v}, flying over for the family meeting."


def _geo_nz_rd(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"RD {r.randint(1, 9)} {p['s5_nz_town']}"
    return v, f"Postal: {v} (farm, no street number); NHI on the letter."


def _geo_in_pin(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_in_addr"]
    return v, f"Native place: {v}, attender will courier the old reports."


def _geo_sa_area(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_sa_area"]
    return v, f"Lives in {v}, takes two taxis to get to clinic."


def _geo_doorway(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_street"]
    return v, f"Sleeps in the doorway at {v}; the outreach van knows the spot."


def _geo_underpass(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_street_name"]
    return v, f"Tent moved to under the {v} overpass after the sweep."


def _geo_escort_town(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_city"]
    return v, f"Driver lives 40 min away in {v}, will be called at discharge."


def _geo_ocr_zip(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _misread(r, p["zip"])
    return v, f"Address line 3 (scan): {p['state']} {v}"


def _geo_guest_dosing(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _gap(r, p["s5_city2"]) if r.random() < 0.5 else p["s5_city2"]
    return v, f"Guest dosing arranged at the {v} clinic while visiting family."


# --- AGE, PHONE, EMAIL, URL, IP, SSN, MRN --------------------------------------------------

def _age_anos(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.randint(90, 104)} años"
    return v, f"Paciente de {v}, vive sola, la vecina le ayuda."


def _age_about(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.randint(90, 104)} yrs"
    return v, f"Pt aged about {v} as per attender, no birth certificate."


def _age_kin(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.randint(90, 104)}"
    return v, f"Lola is {v} and still walks to the sari-sari store."


def _phone_za(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.choice(ZA_MOBILE)} {r.randint(100, 999)} {r.randint(1000, 9999)}"
    return v, f"Daughter's cell {v}, prefers WhatsApp."


def _phone_ocr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _misread(r, p["phone"])
    return v, f"Tel (from fax header): {v}"


def _phone_gap(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _gap(r, p["phone"])
    return v, f"Call back on {v} re: bowel prep questions."


def _phone_mx(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.choice(('631', '633', '653', '656'))} {r.randint(100, 999)} {r.randint(1000, 9999)}"
    return v, f"Cel. de la hija en México: {v}."


def _phone_ie(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.choice(IE_MOBILE)} {r.randint(100, 999)} {r.randint(1000, 9999)}"
    return v, f"Son in Galway, mobile {v}, happy to be rung any time."


def _email_team(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_fold(p['s5_staff_g']).lower()}.{_fold(p['s5_staff_f']).lower()}@groote.org.za"
    return v, f"Line queries to the vascular access nurse, {v} (bleep 4471)."


def _email_hija(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{_fold(p['s5_mx_rel']).lower()}{r.randint(60, 99)}@hotmail.com"
    return v, f"Correo de la familia: {v}, mandar los resultados ahí."


def _email_ocr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    user = _fold(p["family"]).lower().replace("'", "").replace(" ", "")
    v = f"{_ocr(r, user + '.' + str(r.randint(10, 1999)))}@gmail.com"
    return v, f"Reply to {v} (as read off the faxed form)."


def _url_zoom(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"https://zoom.us/j/{r.randint(10**10, 10**11 - 1)}"
    return v, f"Family meeting link sent to the son overseas: {v}"


def _url_facebook(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    user = _fold(p["s5_rel_g"]).lower() + "." + _fold(p["s5_rel_f"]).lower()
    v = f"facebook.com/{user.replace(' ', '')}{r.randint(1, 99)}"
    return v, f"Outreach contacts him via his sister's page {v} when his phone is off."


def _ip_tablet(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_ip4"]
    return v, f"Home telehealth tablet checked in from {v} at 0900."


def _ip_v6(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_ip6"]
    return v, f"Interpreter video session logged from {v}, 22 min."


def _ssn_es(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"]
    return v, f"Seguro social {v}, tiene Medicaid también."


def _ssn_ocr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _misread(r, p["ssn"])
    return v, f"SS no. {v} (read off scanned intake form)."


def _ssn_gap(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _gap(r, p["ssn"])
    return v, f"Social given at window: {v}."


def _mrn_sa_id(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_sa_id"]
    return v, f"SA ID no. {v} (green book copy on file)."


def _mrn_pps(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_pps"]
    return v, f"PPSN {v} as per the transfer letter from Galway."


def _mrn_nhi(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_nhi"]
    return v, f"NZ NHI {v}, records requested from the DHB."


def _mrn_aadhaar(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_aadhaar"]
    return v, f"Aadhaar {v} seen on the attender's phone."


def _mrn_curp(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_curp"]
    return v, f"CURP {v} en la credencial, la copia está en el sobre."


def _mrn_ocr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _ocr(r, p["mrn"][3:])
    return v, f"Hosp no. {v} (scan), please confirm with HIM."


def _mrn_client(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s5_client"]
    return v, f"Client # {v}, dose 85 mg, observed."


SEALED5: dict[str, list[Form]] = {
    "NAME": [_name_registrar, _name_split_header, _name_informant, _name_kin_nick,
             _name_spanish_relative, _name_newborn, _name_ocr, _name_gap, _name_met_caller,
             _name_witness, _name_ibclc, _name_escort],
    "DATE": [_date_es_day_month, _date_es_full, _date_es_month_year, _date_ocr_dob, _date_gap,
             _date_pod, _date_inst, _date_ult, _date_birth, _date_picc, _date_takehome],
    "GEO": [_geo_mx_town, _geo_colonia, _geo_eircode, _geo_ie_county, _geo_nz_rd, _geo_in_pin,
            _geo_sa_area, _geo_doorway, _geo_underpass, _geo_escort_town, _geo_ocr_zip,
            _geo_guest_dosing],
    "AGE": [_age_anos, _age_about, _age_kin],
    "PHONE": [_phone_za, _phone_ocr, _phone_gap, _phone_mx, _phone_ie],
    "EMAIL": [_email_team, _email_hija, _email_ocr],
    "URL": [_url_zoom, _url_facebook],
    "IP": [_ip_tablet, _ip_v6],
    "SSN": [_ssn_es, _ssn_ocr, _ssn_gap],
    "MRN": [_mrn_sa_id, _mrn_pps, _mrn_nhi, _mrn_aadhaar, _mrn_curp, _mrn_ocr, _mrn_client],
}

#: Non-PHI sentences with traps: doses, scores, codes, eponyms, drugs, times, a year alone,
#: Spanish words, and words that are also given names (lower case).
FILLER_SEALED5: tuple[str, ...] = (
    "Methadone 75 mg observed at the window; no take-homes this phase.",
    "Buprenorphine/naloxone (Suboxone) 16 mg SL daily, Narcan given to take home.",
    "SOWS 14 at intake, reassessed after 2 hours.",
    "RASS -2 on arrival of the team, improved to 0 with fluids.",
    "NEWS2 7 triggered the call; lactate 3.1, Hb 88 g/L.",
    "Bowel prep with Moviprep, Boston bowel prep score 2-3-2.",
    "EGD: Schatzki ring, no active bleeding, CPT 43239.",
    "PICC placed by Seldinger technique, tip at the CAJ on Sherlock 3CG.",
    "Tinel sign negative; Valsalva for the flush.",
    "Head down in Trendelenburg for the line, tolerated well.",
    "LATCH 8/10 this feed; nipple shield not needed.",
    "Gestation 38+2/40, birth weight 3.21 kg, vitamin K given.",
    "r/v 3/52 in the line clinic, dressing weekly.",
    "ICD-10 F11.20 and Z59.02 coded by the outreach team.",
    "Blood culture drawn 0412h from the line and a peripheral site.",
    "Known to the service since 2011, engaged well this year.",
    "Dice que tiene dolor de rodilla derecha desde hace meses.",
    "Necesita intérprete para consulta, pidió más tiempo.",
    "Showed grace during a long wait for the scope.",
    "A gift of socks and a blanket from the outreach van.",
    "Lucky escape: no fracture on the film.",
    "Every precious minute with the baby counts, mum tearful but coping.",
    "Consent form is a blessing to have signed before the sedation.",
    "Midazolam 2 mg and fentanyl 50 mcg for the scope, SpO2 stable throughout.",
    "Line flushed with 10 mL saline, heparin lock not used.",
    "Escort policy explained: no driving for 24 hours after sedation.",
    "Lockbox and storage talk done; urine drug screen positive for fentanyl only.",
    "Property list double-signed, per hospital policy.",
    "Weight down 2 kg since the last visit, MUST 2.",
    "Braden 14, heels offloaded, Bristol type 6 stool x3.",
)


def add_people(out: list[dict[str, str]], seed: int) -> None:
    """Add this set's relatives, registrars, staff, nicknames, places and numbers.

    Keys are prefixed ``s5_`` so they clash with no other set's additions. Every Faker and
    the ``Random`` here are this function's own, seeded from ``seed`` alone, so the other
    sets' people and notes stay what they were.
    """
    from faker import Faker

    zh = Faker("zh_CN")
    zh.seed_instance(seed * 5003 + 700)
    us = Faker("en_US")
    us.seed_instance(seed * 5003 + 699)
    rng = random.Random(seed * 5003 + 698)

    def fold(s: str) -> str:
        return s if rng.random() < 0.5 else _fold(s)

    def registrar() -> tuple[str, str]:
        """A romanized given and family name, each of at least 3 letters (a shorter value
        would be found inside other words)."""
        while True:
            g, f = zh.first_romanized_name().strip(), zh.last_romanized_name().strip()
            if len(g) >= 3 and len(f) >= 3:
                return g, f

    for p in out:
        rel_g, rel_f = rng.choice(rng.choice(COMMUNITIES))
        staff_g, staff_f = rng.choice(rng.choice(COMMUNITIES))
        doc_g, doc_f = registrar()
        locality, town = rng.choice(IN_PLACES)
        born = _day(rng, (1926, 1960))
        in_g, in_f = rng.choice(INDIAN)
        p.update({
            "s5_rel_g": fold(rel_g), "s5_rel_f": fold(rel_f),
            "s5_relation": rng.choice(RELATIONS),
            "s5_mx_rel": fold(rng.choice(MEXICAN)[0]), "s5_in_rel": f"{in_g} {in_f}",
            "s5_staff_g": fold(staff_g), "s5_staff_f": fold(staff_f),
            "s5_doc_g": doc_g, "s5_doc_f": doc_f,
            "s5_nick": rng.choice(NICKS), "s5_kin": rng.choice(KIN),
            "s5_mx_town": fold(rng.choice(MX_TOWNS)), "s5_colonia": fold(rng.choice(COLONIAS)),
            "s5_eircode": f"{rng.choice(EIR_KEYS)} "
                          f"{''.join(rng.choice('ACDEFHKNPRTVWXY0123456789') for _ in range(4))}",
            "s5_county": rng.choice(IE_COUNTIES), "s5_nz_town": rng.choice(NZ_TOWNS),
            "s5_in_addr": f"{locality}, {town} - {rng.randint(500001, 600099)}",
            "s5_sa_area": rng.choice(SA_AREAS),
            "s5_street": f"{us.building_number()} {us.street_name()}",
            "s5_street_name": us.street_name(),
            "s5_city": us.city(), "s5_city2": us.city(),
            "s5_ip4": us.ipv4_public(), "s5_ip6": us.ipv6(),
            "s5_sa_id": f"{born.year % 100:02d}{born.month:02d}{born.day:02d}"
                        f"{rng.randint(0, 9999):04d}{rng.choice('01')}8{rng.randint(0, 9)}",
            "s5_pps": f"{rng.randint(0, 9999999):07d}{rng.choice(NHI_LETTERS)}"
                      f"{rng.choice(('', 'A', 'W'))}",
            "s5_nhi": f"{''.join(rng.choice(NHI_LETTERS) for _ in range(3))}"
                      f"{rng.randint(0, 9999):04d}",
            "s5_aadhaar": f"{rng.randint(2000, 9999)} {rng.randint(0, 9999):04d} "
                          f"{rng.randint(0, 9999):04d}",
            "s5_curp": f"{''.join(rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') for _ in range(4))}"
                       f"{born.year % 100:02d}{born.month:02d}{born.day:02d}"
                       f"{rng.choice('HM')}{rng.choice(('SR', 'CH', 'BC', 'TS'))}"
                       f"{''.join(rng.choice('BCDFGHJKLMNPRSTVZ') for _ in range(3))}"
                       f"0{rng.randint(0, 9)}",
            "s5_client": f"OTP-{rng.randint(18, 25)}-{rng.randint(0, 9999):04d}",
        })
