"""An eighth sealed held-out template set of ``bench/deid.py``: ``sealed-6`` (issue 12).

``sealed-5`` is now read to write rules, so it stops being held out; this set takes its
place. Written blind, by a helper engineer: before reading any rule of the scrubber
(``medpipe/activities/deid/``, ``activities/pseudonymize/scrub*``, ``activities/residual*``),
``docs/deid.md``, the README's de-identification sections, or the forms and fillers of any
other set. What was read: the module docstrings of every ``bench/_deid_*.py`` (to pick note
styles and writers' habits none of them names); ``bench/_deid_sealed5.py``'s ``add_people``,
``Form`` and helpers (``_fold``, ``_ocr``, ``_gap``, ``_misread``, ``_day``, ``_late_day``,
``_ord``, ``_digits``), for the interface; ``bench/_deid_corpus.py`` but its form and filler
lists; of ``bench/deid.py`` its docstring, ``SEALED``, ``tokens``, ``LABEL_WORDS``,
``_phi_mask``, ``_removed`` and ``score``; ``tests/bench/test_deid_sealed.py`` and
``test_deid_sealed5.py``. The other fillers' words were used as a set by the checks below
(and looked up for a few candidate words: ``nbsp``, ``line``, month abbreviations,
ordinals), never listed. It was never run through the scrubber or ``bench/deid.py`` before
it was committed; ``bench/deid.py`` never prints its misses (``SEALED``).

Note styles named by no other set's docstring:

* military and veterans' health records (sick call, periodic health assessments, profiles,
  ranks before names, DoD ids, ID tags, VA claims, duty stations and moves);
* fit-to-fly assessments and airline medical-clearance (MEDIF) forms (escorts, booking
  references, itineraries, the town of departure);
* hyperbaric-medicine dive logs and decompression-illness referrals (dive sites);
* radiation-oncology records (linac logs, simulation and mask-fitting bookings, plan links);
* sports-medicine and concussion clinics (athletic trainer, coach, date of injury, away
  games, return-to-play trackers);
* prosthetics and orthotics clinics (microprocessor-knee serials);
* adverse-drug-event (pharmacovigilance) reports (case references, onset in a web form).

Writers' habits none of the other sets' docstrings name: text pasted from a web form or a
word processor with its HTML and RTF left in (``&nbsp;`` inside a name or a date,
``<td>`` cells, ``</p><p>`` or RTF's ``\\line`` splitting a street from its town,
``{\\b DOB:}``, ``\\tab``/``\\par`` around a value, an RTF letter's ``\\creatim\\yr\\mo\\dy``
creation date); military date-time groups (``141230ZMAR25``, ``141230Z MAR 25``) and Julian
dates (``25073``); ISO 8601 date-times with a zone offset (``2025-03-14T08:12:44-05:00``) and
ISO weeks (``2025-W11``, ``2025-W11-5``); airline dates (``14MAR``); Dutch dates with Dutch
month abbreviations (``14 mrt 2025``) and French ones on a Haitian card (``14 mars 2025``);
speech recognition that spells the year out and types the dictated commands
(``march fourteenth twenty twenty-five period new paragraph``); a date of injury after
``DOI``; Korean names family name first with a hyphenated given name, written three ways
(``PARK Ji-hoon``, ``Park Ji hoon``, ``Park Jihoon``); Malay names with ``bin``/``binti``
and their abbreviations ``b.``/``bt``/``bte``; Somali three-part names (given, father,
grandfather); Haitian Creole kin words before a given name (``pitit fi li``, ``mari li``);
Vietnamese names with their diacritics, family name first, after a Vietnamese kin word
(``vợ``, ``con gái``); ranks before a name (``SSG``, ``LCpl``, ``PO2``) and ``CPT`` as a
captain's rank (the filler bills ``CPT`` codes); ``Coach Family``; ages zero-padded by a form
export (``093``), with the Korean counter (``만 94세``) and in French (``92 ans``); DSN
(military) phone numbers, Korean ``+82 10-`` / ``010-`` mobiles, Dutch ``+31 6`` / ``06-``
mobiles, Haitian ``+509`` numbers, a US number with dots in an HTML cell; ``.mil``
e-mail addresses, Korean and Dutch providers; IPv4-mapped IPv6 (``::ffff:73.14.22.9``) and
``src_ip=`` in a key=value log line; SSNs with dots, on ID tags with the blood group, after
an RTF tab; a Korean gu, a refugee camp, a Haitian commune, a military installation, a
Dutch address (``Vondelstraat 57a, 9533 WB Haarlem``, ``72-II``, ``14 hs``) and a
Malaysian one (``No. 84, Jalan Teratai 1, Taman Setapak Indah``); URLs whose query
string carries the patient's MRN, booking reference and name.

What I decided for the doubtful forms, under 45 CFR 164.514(b)(2)(i): the span is the
identifier alone (a rank, ``Coach``, a credential, a kin word in any language, an id's
label word, ``refugee camp``, ``ans`` stay out); markup inside a value is in its span, as
written (``Given&nbsp;FAMILY``, ``street</p><p>Town``: one run; ``nbsp``, ``p`` and
``line`` are filler words, so a tag a scrubber leaves is never charged); a Malay name with
its ``bin``/``binti``, a Somali three-part name and a Korean name are one span each; a
military date-time group, an ISO date-time with its zone and an RTF ``\\yr\\mo\\dy`` run
are one span (time included where it is glued in one token or one run; ``\\hr``/``\\min``
stay out); an ISO week and a Julian date are dates (more specific than a year; the scorer
never counts a four-digit year, so ``W11`` is the week's distinctive token); a date without
its year always has its day over 12; a Korean gu, a refugee camp, a Haitian commune, a
dive site and a military installation (``Camp`` and ``Fort`` are part of its name) are
geographic units smaller than a state; a Dutch or Malaysian address is one span (street,
number, postcode and town run together); ages are only ever over 89, ``093`` and ``94세``
are the age (the counter glued to the number is one token, as ``93M`` is in ``sealed-3``);
a DoD id (EDIPI), a VA claim number, an airline booking reference, a Dutch BSN, a Korean
resident registration number, an adverse-event case number and a device serial are
``MRN``, the bench's category for other unique ids ((R)); a DSN number is the patient's
work phone; an IPv4-mapped IPv6 address is one IP span.

People: Korean, Malay, Somali, Haitian and Vietnamese relatives from short lists written
here (accents folded half of the time), US clinicians, trainers, coaches and escorts from
``en_US`` (a family name shorter than four letters or one of this filler's words is
drawn again: a span is located by its text); US towns, IPv4 addresses from ``en_US``;
Dutch, Korean, Haitian, Malaysian places, refugee camps, dive sites and US military
installations from short lists. The filler plants non-PHI traps: ``CPT 99214`` beside the
rank ``CPT``, ``PULHES 111111``, ``USN TT6``, ``Fx 12/30``, ``60 Gy``, ``SCAT6 14/132``,
``Naranjo score 6``, ``Gleason 3+4=7``, ``K3``, ``C-Leg 4``, ``Genium X3``, ICD-10 codes
(``T70.3XXA``, ``S06.0X0A``), a vaccine lot and its ``EXP NOV27``, a flight (``UA0958``),
times (``0500``, ``0600``), a year alone (``since 2019``), eponyms (``Syme``, ``Chopart``,
``Lisfranc``, ``Risser``, ``Weber``, ``Haldane``, ``Bohr``, ``Toynbee``, ``Varian``),
places in names that are no one's address (``Amsterdam consensus``, ``Boston brace``,
``Canadian CT Head Rule``), Korean, Vietnamese and Somali words that are no one's name
(``hwa-byung``, ``cạo gió``, ``khat``), ranks as plain words (``private room``,
``general anaesthesia``), words that are also names in lower case (``dusty``, ``rocky``)
and the same HTML and RTF as the forms (``&nbsp;``, ``</p><p>``, ``\\par``, ``\\tab``).
No word of this filler that no other set's filler holds occurs in another set's planted
spans (checked on the notes of seeds 1-10 before committing), so the other sets' scored
tokens stay as they were; their notes of seeds 1-3 are byte-identical with this set added.

Forms per category: NAME 12, DATE 11, GEO 12, MRN 7, PHONE 5, AGE 3, EMAIL 3, SSN 3, URL 3,
IP 2 (61 in all; most write their value in one of two sentences); 32 filler sentences.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Callable

Form = Callable[[random.Random, dict[str, str]], tuple[str, str]]

MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Dutch month abbreviations as a Dutch letter writes them (``mrt``, ``mei``, ``okt``).
NL_MON = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
#: French months, as a Haitian writer dates a card or a letter.
FR_MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
#: Ordinal words for the days a dictated date may have (13-28: over 12, see ``_late_day``).
ORDINAL_WORDS = {13: "thirteenth", 14: "fourteenth", 15: "fifteenth", 16: "sixteenth",
                 17: "seventeenth", 18: "eighteenth", 19: "nineteenth", 20: "twentieth",
                 21: "twenty-first", 22: "twenty-second", 23: "twenty-third",
                 24: "twenty-fourth", 25: "twenty-fifth", 26: "twenty-sixth",
                 27: "twenty-seventh", 28: "twenty-eighth"}
YEAR_WORDS = {2020: "twenty twenty", 2021: "twenty twenty-one", 2022: "twenty twenty-two",
              2023: "twenty twenty-three", 2024: "twenty twenty-four",
              2025: "twenty twenty-five"}

# People of communities no other set's docstring names, written as their own writers do.
KOREAN_FAMILY = ("Park", "Choi", "Jung", "Kang", "Yoon", "Jang", "Shin", "Seo", "Kwon",
                 "Hwang", "Song", "Hong", "Jeon", "Moon", "Yang", "Baek", "Nam", "Cho")
KOREAN_GIVEN = ("Ji-hoon", "Seo-yeon", "Min-jun", "Ha-eun", "Do-yun", "Su-bin", "Jae-won",
                "Eun-ji", "Hyun-woo", "Ye-jin", "Seung-ho", "Mi-kyung", "Young-soo", "Jin-ah",
                "Dong-hyun", "Hye-won", "Sang-min", "Kyung-ja")
MALAY_MEN = ("Ahmad Faizal", "Mohd Hafiz", "Muhammad Amirul", "Khairul Anuar", "Azman",
             "Mohd Rizal", "Syed Hakim", "Zulkifli")
MALAY_WOMEN = ("Nurul Aina", "Siti Aisyah", "Nor Azlina", "Farah Hanim", "Zainab",
               "Noraini", "Siti Khadijah", "Rohana")
MALAY_FATHERS = ("Ismail", "Abdullah", "Rahman", "Hassan", "Othman", "Yusof", "Ibrahim",
                 "Mahmud", "Salleh", "Hamzah")
SOMALI_WOMEN = ("Hodan", "Fadumo", "Ayaan", "Hawa", "Sahra", "Ifrah", "Deeqa", "Nimco")
SOMALI_MEN = ("Abdirahman", "Mohamed", "Liban", "Abdiqadir", "Guled", "Mahad", "Bashir")
SOMALI_FATHERS = ("Abdi", "Warsame", "Farah", "Hirsi", "Jama", "Osman", "Nur", "Egal",
                  "Duale", "Samatar", "Mohamud", "Aden", "Yusuf", "Ismail")
HAITIAN_WOMEN = ("Widelande", "Marie-Carmel", "Rosemène", "Guerline", "Nadège", "Louisemène",
                 "Jertha", "Wisline", "Ketly")
HAITIAN_MEN = ("Jean-Robert", "Fritznel", "Wilner", "Dieuseul", "Mackenson", "Wilfrid")
#: Haitian Creole kin words as a Creole-speaking nurse writes them, with their gloss.
HAITIAN_KIN_F = (("pitit fi li", "daughter"), ("madanm li", "wife"), ("sè li", "sister"),
                 ("kouzin li", "cousin"), ("nyès li", "niece"))
HAITIAN_KIN_M = (("pitit gason li", "son"), ("mari li", "husband"), ("frè li", "brother"),
                 ("kouzen li", "cousin"))
VIET_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
               "Dương", "Trương")
VIET_MIDDLE_F = ("Thị", "Ngọc", "Thanh", "Kim")
VIET_MIDDLE_M = ("Văn", "Minh", "Hữu", "Quốc")
VIET_GIVEN_F = ("Hoa", "Lan", "Hương", "Thảo", "Trang", "Loan", "Nhung", "Phượng")
VIET_GIVEN_M = ("Dũng", "Tuấn", "Phúc", "Quang", "Khánh", "Hùng", "Thắng", "Cường")
VIET_KIN = (("vợ", "wife"), ("chồng", "husband"), ("con gái", "daughter"),
            ("con trai", "son"), ("cháu", "grandchild"))

# Places.
NL_STREETS = ("Kerkstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Julianalaan",
              "Beatrixstraat", "Vondelstraat", "Wilhelminapark", "Hoofdweg", "Lindenlaan")
NL_TOWNS = ("Zwolle", "Apeldoorn", "Amersfoort", "Leeuwarden", "Deventer", "Tilburg",
            "Haarlem", "Nijmegen", "Delft", "Enschede", "Hoorn", "Assen")
#: Letters a Dutch postcode's suffix may use here (``SA``/``SD``/``SS`` never occur).
NL_PC_LETTERS = "ABCEGHJKLMNPRTVWXZ"
KOREAN_GU = ("Seocho-gu", "Mapo-gu", "Bundang-gu", "Haeundae-gu", "Suseong-gu", "Nowon-gu",
             "Gangseo-gu", "Dalseo-gu", "Yuseong-gu", "Songpa-gu", "Eunpyeong-gu")
CAMPS = ("Kakuma", "Dadaab", "Hagadera", "Dagahaley", "Kalobeyei", "Nakivale")
HAITI_TOWNS = ("Jacmel", "Gonaïves", "Les Cayes", "Jérémie", "Cap-Haïtien", "Hinche",
               "Saint-Marc", "Croix-des-Bouquets", "Pétion-Ville", "Petit-Goâve")
BASES = ("Fort Campbell", "Fort Drum", "Camp Pendleton", "Camp Lejeune", "Fort Bliss",
         "Joint Base Lewis-McChord", "Fort Riley", "Fort Carson", "Naval Station Norfolk",
         "Fort Stewart", "Schofield Barracks", "Fort Wainwright")
JALAN = ("Mawar", "Melati", "Kenanga", "Cempaka", "Seroja", "Dahlia", "Anggerik", "Teratai")
TAMAN = ("Sri Muda", "Desa Jaya", "Bukit Indah", "Melawati", "Sentosa", "Permata",
         "Cahaya", "Setapak Indah")
DIVE_SITES = ("Cozumel", "Key Largo", "Bonaire", "Roatán", "Dahab", "Utila", "Tobermory",
              "Marathon Key", "Playa del Carmen", "Bimini")

# Numbers and handles.
RANKS = ("PVT", "PFC", "SPC", "CPL", "SGT", "SSG", "SFC", "LCpl", "Sgt", "PO2", "TSgt",
         "SrA", "1LT", "CPT", "MAJ")
MIL_MAIL = ("army.mil", "mail.mil", "us.af.mil", "us.navy.mil", "usmc.mil")
KR_MAIL = ("naver.com", "daum.net", "hanmail.net", "kakao.com")
NL_MAIL = ("ziggo.nl", "kpnmail.nl", "hotmail.nl", "planet.nl", "xs4all.nl")
AIRLINES = ("united", "delta", "aa", "alaskaair", "jetblue", "klm", "koreanair")
#: RTF's line break inside a paragraph, as a pasted rich-text block keeps it.
RTF_LINE = "\\line "
PNR_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ESCORT_WOMEN = ("wife", "daughter", "niece", "granddaughter", "friend")
ESCORT_MEN = ("husband", "son", "nephew", "grandson", "friend")
SOMALI_KIN_F = ("the daughter", "his wife", "the niece", "her sister")
SOMALI_KIN_M = ("her son", "his son", "the nephew", "her husband")


def _fold(s: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _ord(d: int) -> str:
    return f"{d}{'th' if 10 < d % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def _ascii_handle(s: str) -> str:
    """``s`` as a mail handle: accents folded, lower case, only letters and digits."""
    return re.sub(r"[^a-z0-9]", "", _fold(s).lower())


def _day(rng: random.Random, year: tuple[int, int] = (2020, 2025)) -> datetime.date:
    return datetime.date(rng.randint(*year), rng.randint(1, 12), rng.randint(1, 28))


def _late_day(rng: random.Random, year: tuple[int, int] = (2020, 2025)) -> datetime.date:
    """A date whose day is over 12: written without its year, no filler score or dose
    (``3/6``, ``12/30``) holds it."""
    return datetime.date(rng.randint(*year), rng.randint(1, 12), rng.randint(13, 28))


def _dtg(d: datetime.date, hour: int, minute: int, spaced: bool = False) -> str:
    """A military date-time group: day, hour and minute, ``Z`` (UTC), month, two-digit year
    (``141230ZMAR25``; ``141230Z MAR 25`` spaced, as some signal logs write it)."""
    head = f"{d.day:02d}{hour:02d}{minute:02d}Z"
    mon, yy = MON[d.month - 1].upper(), f"{d.year % 100:02d}"
    return f"{head} {mon} {yy}" if spaced else f"{head}{mon}{yy}"


def _julian(d: datetime.date) -> str:
    """The military ``Julian`` date: two-digit year and the day of the year (``25073``)."""
    return f"{d.year % 100:02d}{d.timetuple().tm_yday:03d}"


def _iso_week(d: datetime.date, with_day: bool = False) -> str:
    """The ISO 8601 week of ``d`` (``2025-W11``), with its weekday number if asked
    (``2025-W11-5``)."""
    year, week, weekday = d.isocalendar()
    return f"{year}-W{week:02d}-{weekday}" if with_day else f"{year}-W{week:02d}"


def _spoken_date(d: datetime.date) -> str:
    """``d`` as speech recognition writes a dictated date: lower case, the day an ordinal
    word, the year read in two halves (``march fourteenth twenty twenty-five``)."""
    return f"{MONTHS[d.month - 1]} {ORDINAL_WORDS[d.day]} {YEAR_WORDS[d.year]}"


def _bsn(rng: random.Random) -> str:
    """A Dutch citizen service number (BSN): nine digits passing the eleven test (9, 8, ..., 2
    times the first eight digits, minus the ninth, is a multiple of 11)."""
    while True:
        head = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        last = sum(w * d for w, d in zip(range(9, 1, -1), head, strict=True)) % 11
        if last < 10:
            return "".join(map(str, head)) + str(last)


def _rrn(rng: random.Random, born: datetime.date) -> str:
    """A Korean resident registration number: ``YYMMDD-SNNNNNC`` (birth date, a sex and
    century digit, five digits, the check digit of the weights 2-9, 2-5)."""
    sex = rng.choice("12") if born.year < 2000 else rng.choice("34")
    body = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{sex}" + "".join(
        str(rng.randint(0, 9)) for _ in range(5))
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    check = (11 - sum(w * int(c) for w, c in zip(weights, body, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check}"


def _nl_postcode(rng: random.Random) -> str:
    """A Dutch postcode: four digits (no leading zero), a space, two letters."""
    return f"{rng.randint(1000, 9999)} {rng.choice(NL_PC_LETTERS)}{rng.choice(NL_PC_LETTERS)}"


def _pnr(rng: random.Random) -> str:
    """An airline booking reference: six characters with a digit and a letter in them (an
    all-letter one could spell a word a filler holds)."""
    while True:
        code = "".join(rng.choice(PNR_CHARS) for _ in range(6))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


# --- NAME ---------------------------------------------------------------------------------

def _name_rank_header(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['family'].upper()}, {p['given']}"
    return v, r.choice((f"PT: {p['s6_rank']} {v}   UNIT: on file   PHA due.",
                        f"{p['s6_rank']} {v} presents to sick call c/o L knee pain x3d."))


def _name_cpt(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_doc_f"]
    return v, r.choice((f"D/w CPT {v}, MC, re: temporary profile.",
                        f"Seen with CPT {v} (battalion surgeon); agrees with plan."))


def _name_korean(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    f, g = p["s6_kr_f"], p["s6_kr_g"]
    v = r.choice((f"{f.upper()} {g}", f"{f} {g.replace('-', ' ')}",
                  f"{f} {g.replace('-', '').capitalize()}"))
    return v, r.choice((f"Daughter-in-law {v} interprets; pt prefers Korean.",
                        f"Guardian: {v}, lives with pt."))


def _name_malay(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_my"]
    return v, r.choice((f"NOK {v} at bedside, speaks Malay and English.",
                        f"Consent witnessed by {v} (husband/wife per passport)."))


def _name_somali(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_so"]
    return v, r.choice((f"Accompanied by {p['s6_so_rel']} {v}, who translates.",
                        f"Informant: {v} ({p['s6_so_rel']}), phone interpreter declined."))


def _name_haitian(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_ht_g"]
    kin, gloss = p["s6_ht_kin"], p["s6_ht_gloss"]
    return v, r.choice((f"Pt says {kin} {v} ({gloss}) will bring the med list.",
                        f"Rele {kin} {v} for results ({gloss}, speaks English)."))


def _name_viet(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_vn"]
    kin, gloss = p["s6_vn_kin"], p["s6_vn_gloss"]
    return v, r.choice((f"{kin.capitalize()} ({gloss}) {v} signed the consent.",
                        f"Family: {v} - {gloss}, comes every evening."))


def _name_html(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['given']}&nbsp;{p['family'].upper()}"
    return v, r.choice((f"<b>Patient:</b>&nbsp;{v}<br>", f"<td>Name</td><td>{v}</td>"))


def _name_rtf(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{p['family'].upper()}, {p['given']}"
    return v, r.choice((f"{{\\b Name:}}\\tab {v}\\par", f"\\par Pt name\\tab {v}\\tab\\par"))


def _name_atc(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_atc"]
    return v, r.choice((f"Cleared for stage 2 by {v}, ATC.",
                        f"Sideline eval done by the ATC ({v}) at the time of injury."))


def _name_coach(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_coach"]
    return v, r.choice((f"Coach {v} notified: no contact practice this week.",
                        f"Note for Coach {v} given to the athlete."))


def _name_escort(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_escort"]
    return v, r.choice((f"MEDIF: travelling escort {v} ({p['s6_escort_rel']}), not medically "
                        "trained.", f"Escort on the flight: {v}."))


# --- DATE ---------------------------------------------------------------------------------

def _date_dtg(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _dtg(_day(r), r.randint(0, 23), r.randint(0, 59), spaced=r.random() < 0.4)
    return v, r.choice((f"MEDEVAC request DTG {v}, precedence routine.",
                        f"Injury reported {v} by the platoon medic."))


def _date_iso_offset(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    off = r.choice(("-05:00", "-04:00", "-07:00", "+09:00", "+01:00"))
    v = f"{d.isoformat()}T{r.randint(6, 19):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}{off}"
    return v, r.choice((f"Linac record: beam on {v}, MU as planned.",
                        f"Fx delivered {v} (record and verify)."))


def _date_iso_week(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _iso_week(_day(r), with_day=r.random() < 0.4)
    return v, r.choice((f"CT simulation booked for {v}; start the week after.",
                        f"Mask fitting slot {v} per the planning board."))


def _date_dutch(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    v = f"{d.day} {NL_MON[d.month - 1]} {d.year}"
    return v, r.choice((f"Dutch GP letter dated {v}: cardioversion, no recurrence.",
                        f"Opname (admission) in NL {v}, translated by the daughter."))


def _date_rtf_created(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    """The creation date an RTF letter's info group keeps (``\\creatim\\yr2025\\mo3\\dy14``),
    left in the text when the letter was pasted: the letter's date; its time stays out."""
    d = _day(r)
    v = f"\\yr{d.year}\\mo{d.month}\\dy{d.day}"
    return v, f"{{\\info{{\\creatim{v}\\hr{r.randint(7, 18)}\\min{r.randint(0, 59)}}}}}" + r.choice(
        (" Dear colleague,", " Re: the above patient."))


def _date_html_onset(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    v = f"{MON[d.month - 1]}&nbsp;{d.day},&nbsp;{d.year}"
    return v, r.choice((f"Date of onset:&nbsp;{v}<br>", f"<td>Reaction onset</td><td>{v}</td>"))


def _date_airline(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _late_day(r)
    v = f"{d.day:02d}{MON[d.month - 1].upper()}"
    return v, r.choice((f"Itinerary on the MEDIF: outbound {v}, return open.",
                        f"Fit to fly for travel on {v} (one sector, 9 h)."))


def _date_spoken(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _spoken_date(_late_day(r))
    return v, r.choice((f"last hyperbaric treatment was on {v} period new paragraph",
                        f"he was seen in clinic {v} comma and tolerated the dive"))


def _date_french(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _day(r)
    v = f"{d.day} {FR_MOIS[d.month - 1]} {d.year}"
    return v, r.choice((f"Appointment card (in French) says le {v}.",
                        f"Last vaccine per the Haitian card: {v}."))


def _date_doi(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = _late_day(r)
    v = f"{MON[d.month - 1]} {_ord(d.day)}"
    return v, r.choice((f"DOI {v} (helmet-to-helmet on a kickoff).",
                        f"Concussion, DOI: {v}; symptom-free since."))


def _date_julian(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = _julian(_day(r))
    return v, r.choice((f"IMR shows the anthrax series stamped Julian date {v}.",
                        f"Hearing test logged {v} (Julian) at the last unit."))


# --- GEO ----------------------------------------------------------------------------------

def _geo_pcs(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_city"]
    return v, r.choice((f"Recently PCS'd from {v}; records requested from the old MTF.",
                        f"Family stayed behind in {v} after the PCS."))


def _geo_nl_address(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_nl_addr"]
    return v, r.choice((f"Lives half the year in the Netherlands: {v}.",
                        f"Adres (NL) on the insurance letter: {v}"))


def _geo_gu(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_gu"]
    return v, r.choice((f"Son's family is in {v}; he flies in when he can.",
                        f"Was treated for TB in {v} as a child."))


def _geo_camp(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_camp"]
    return v, r.choice((f"Resettled after nine years in {v} refugee camp.",
                        f"Born in {v} camp; vaccines there not documented."))


def _geo_haiti(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_ht_town"]
    return v, r.choice((f"Family still in {v}, reachable by WhatsApp.",
                        f"Came from {v} after the earthquake."))


def _geo_departure(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_city2"]
    return v, r.choice((f"Fit to fly: departs {v} on the overnight flight.",
                        f"Flying home out of {v}; wheelchair to the gate."))


def _geo_markup_address(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    """A street and its town split by a pasted paragraph break (HTML or RTF's ``\\line``)."""
    html = r.random() < 0.5
    v = f"{p['street']}{'</p><p>' if html else RTF_LINE}{p['city']}"
    return v, f"<p>Home address:&nbsp;{v}</p>" if html else f"Home address\\tab {v}\\par"


def _geo_rtf_zip(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["zip"]
    return v, r.choice((f"ZIP\\tab {v}\\par", f"{{\\b Zip code:}} {v}\\par"))


def _geo_malaysia(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_my_addr"]
    return v, r.choice((f"Malaysian address on the passport copy: {v}.",
                        f"Returns to {v} after treatment."))


def _geo_base(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_base"]
    return v, r.choice((f"Stationed at {v} until discharge; no burn-pit exposure.",
                        f"Injured in a training jump at {v}."))


def _geo_away_game(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_city3"]
    return v, r.choice((f"Injured at the away game in {v}; seen by the host ATC.",
                        f"Tournament in {v} this weekend, not cleared to play."))


def _geo_dive(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_dive"]
    return v, r.choice((f"DCS after a week of diving in {v}; deepest dive 30 m.",
                        f"Symptoms began on the boat off {v}, 40 min after surfacing."))


# --- AGE ----------------------------------------------------------------------------------

def _age_padded(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"{r.randint(90, 99):03d}"
    return v, r.choice((f"AGE: {v}   SEX: F   (form export)", f"PT AGE {v} YRS"))


def _age_korean(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    """An age copied from a Korean referral: the counter ``세`` glued to the number (one
    token, as ``93M`` is in ``sealed-3``), after ``만`` (full years) or ``나이`` (age)."""
    v = f"{r.randint(90, 101)}세"
    return v, r.choice((f"Korean referral copied: 만 {v}, lives with the son's family.",
                        f"나이: {v} (per the Korean clinic letter)"))


def _age_french(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = str(r.randint(90, 101))
    return v, r.choice((f"Card says {v} ans; family agrees.", f"Grann nan gen {v} ans."))


# --- PHONE --------------------------------------------------------------------------------

def _phone_dsn(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_dsn"]
    return v, r.choice((f"Reach pt at work: DSN {v}.", f"Work line (DSN) {v}, leave a message."))


def _phone_korea(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_kr_phone"]
    return v, r.choice((f"Guardian in Korea: {v} (KakaoTalk, same number).",
                        f"Guardian's cell {v}"))


def _phone_nl(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_nl_phone"]
    return v, r.choice((f"Daughter in the Netherlands: {v}, six hours ahead.",
                        f"Mobiel dochter: {v}"))


def _phone_haiti(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_ht_phone"]
    return v, r.choice((f"Family in Haiti: {v} (WhatsApp).", f"Nimewo {p['s6_ht_kin']}: {v}"))


def _phone_html(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    d = "".join(c for c in p["phone"] if c.isdigit())
    v = f"{d[:3]}.{d[3:6]}.{d[6:]}"
    return v, r.choice((f"<td>Home phone</td><td>{v}</td>", f"Phone:&nbsp;{v}<br>"))


# --- EMAIL, URL, IP, SSN --------------------------------------------------------------------

def _email_mil(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_mil_mail"]
    return v, r.choice((f"Pt's gov e-mail {v} (checks it weekly).", f"Send the profile to {v}"))


def _email_korea(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_kr_mail"]
    return v, r.choice((f"Guardian prefers e-mail: {v}",
                        f"Results to the guardian at {v} per pt."))


def _email_nl(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_nl_mail"]
    return v, r.choice((f"Daughter (NL) e-mail {v}.", f"E-mailadres dochter: {v}"))


def _url_radonc(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_rt_url"]
    return v, r.choice((f"Plan approved in the portal: {v}", f"DVH link: {v} (internal)"))


def _url_booking(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_trip_url"]
    return v, r.choice((f"Booking: {v}", f"Airline special-assistance form at {v}"))


def _url_rtp(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_rtp_url"]
    return v, r.choice((f"RTP tracker: {v}", f"ATC logs symptoms at {v} daily."))


def _ip_mapped(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = f"::ffff:{p['s6_ip4']}"
    return v, r.choice((f"Video visit log: peer {v} joined, audio only.",
                        f"Client address {v} (IPv4-mapped) on the session record."))


def _ip_kv(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_ip4"]
    return v, r.choice((f"event=join role=patient src_ip={v} status=ok",
                        f"[telehealth] src_ip={v} codec=opus"))


def _ssn_dotted(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"].replace("-", ".")
    return v, r.choice((f"SSN (from the DD-214): {v}.", f"Soc. Sec. {v} per the VA letter."))


def _ssn_tags(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"]
    return v, r.choice((f"ID tags read into the chart: {v} / {p['s6_blood']} / NO PREF.",
                        f"Tags: {v} {p['s6_blood']}"))


def _ssn_rtf(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["ssn"]
    return v, r.choice((f"SSN\\tab {v}\\par", f"{{\\b SSN:}} {v}\\par"))


# --- MRN (other unique ids) -----------------------------------------------------------------

def _mrn_edipi(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_edipi"]
    return v, r.choice((f"DoD ID {v}", f"EDIPI: {v} (on the CAC)"))


def _mrn_va(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_va"]
    return v, r.choice((f"VA claim # {v}, service connected 70%.", f"C-file {v} requested."))


def _mrn_pnr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_pnr"]
    return v, r.choice((f"Booking ref {v} (MEDIF attached).", f"PNR: {v}"))


def _mrn_bsn(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    b = p["s6_bsn"]
    v = r.choice((b, f"{b[:4]}.{b[4:6]}.{b[6:]}"))
    return v, r.choice((f"BSN {v} on the Dutch insurance letter.", f"Burgerservicenummer: {v}"))


def _mrn_rrn(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_rrn"]
    return v, r.choice((f"Korean resident registration no. {v} on the insurance card.",
                        f"RRN {v} (for the Korean insurer)"))


def _mrn_adr(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_adr"]
    return v, r.choice((f"Case ref [{v}] - please quote in follow-up.",
                        f"Adverse event report {v} filed."))


def _mrn_knee(r: random.Random, p: dict[str, str]) -> tuple[str, str]:
    v = p["s6_knee"]
    return v, r.choice((f"Knee unit SN {v}; warranty to be registered.",
                        f"Serial {v} (microprocessor knee) logged."))


SEALED6: dict[str, list[Form]] = {
    "NAME": [_name_rank_header, _name_cpt, _name_korean, _name_malay, _name_somali,
             _name_haitian, _name_viet, _name_html, _name_rtf, _name_atc, _name_coach,
             _name_escort],
    "DATE": [_date_dtg, _date_iso_offset, _date_iso_week, _date_dutch, _date_rtf_created,
             _date_html_onset, _date_airline, _date_spoken, _date_french, _date_doi,
             _date_julian],
    "GEO": [_geo_pcs, _geo_nl_address, _geo_gu, _geo_camp, _geo_haiti, _geo_departure,
            _geo_markup_address, _geo_rtf_zip, _geo_malaysia, _geo_base, _geo_away_game,
            _geo_dive],
    "MRN": [_mrn_edipi, _mrn_va, _mrn_pnr, _mrn_bsn, _mrn_rrn, _mrn_adr, _mrn_knee],
    "PHONE": [_phone_dsn, _phone_korea, _phone_nl, _phone_haiti, _phone_html],
    "AGE": [_age_padded, _age_korean, _age_french],
    "EMAIL": [_email_mil, _email_korea, _email_nl],
    "SSN": [_ssn_dotted, _ssn_tags, _ssn_rtf],
    "URL": [_url_radonc, _url_booking, _url_rtp],
    "IP": [_ip_mapped, _ip_kv],
}

#: Clinical text with no PHI in it, full of what a de-identifier may take for PHI.
FILLER_SEALED6: tuple[str, ...] = (
    "PULHES 111111; no profile limitations today.",
    "CPT 99214 and CPT 97763 billed for the prosthetic visit.",
    "USN TT6 completed with air breaks; no oxygen toxicity seizures.",
    "Fx 12/30 of 60 Gy delivered with IMRT; skin CTCAE grade 1.",
    "SCAT6 symptom severity 14/132, balance errors 3; ImPACT baseline on file.",
    "Return to play at stage 3 of 6 per the Amsterdam consensus, no contact yet.",
    "Hypoxic challenge not needed: SpO2 normal on air, Hb normal.",
    "Cabin altitude of 8,000 ft explained; oxygen at 2 L/min ordered for the flight.",
    "&nbsp;&nbsp;Reviewed, no change.</p><p>&nbsp;</p>",
    "<p><b>Allergies:</b>&nbsp;NKDA</p>",
    "\\par \\tab Plan unchanged, see above.\\par",
    "Naranjo score 6 (probable); dechallenge positive, rechallenge not done.",
    "Lot 4HX21A of the vaccine, EXP NOV27, reported to the manufacturer.",
    "C-Leg 4 and Genium X3 compared; K-level K3 community ambulator.",
    "Syme and Chopart levels discussed; Lisfranc joint intact on the left.",
    "Boston brace for the scoliosis, Risser 2, worn at night.",
    "r/o arterial gas embolism vs DCS type II; pressure and gas volume reviewed with the pt.",
    "Bleeding risk low; private room requested; general anaesthesia not needed.",
    "Family raised hwa-byung; PHQ-9 of 11, GAD-7 of 9.",
    "Cạo gió streaks on the back (coining), not bruising from injury.",
    "Khat use stopped two years ago; no tobacco.",
    "Out of the service since 2019, two deployments; TBI screen negative.",
    "Gleason 3+4=7, PSA 6.2 ng/mL before the simulation.",
    "Varian TrueBeam, 6 megavolt photons, cone-beam CT daily.",
    "Blurred vision after the dive, clear by morning; a dusty, rocky week at work.",
    "CT head not needed per the Canadian CT Head Rule.",
    "Flight UA0958 confirmed; wheelchair assistance (WCHR) booked to the gate.",
    "Sick call at 0500, meds at 0600; MEPS physical on file.",
    "Haldane and Bohr effects explained; Toynbee manoeuvre to clear the ears.",
    "ICD-10 T70.3XXA (caisson disease) and S06.0X0A (concussion) coded.",
    "Shrinker sock and liner changed daily; 3-ply plus 1-ply socks.",
    "Weber B fracture healed; toes taped together for now.",
)


def add_people(out: list[dict[str, str]], seed: int) -> None:
    """Add this set's relatives, staff, places and numbers to every identity.

    Keys are prefixed ``s6_`` so they clash with no other set's additions. The Faker and the
    ``Random`` here are this function's own, seeded from ``seed`` alone, so the other sets'
    people and notes stay what they were.
    """
    from faker import Faker

    us = Faker("en_US")
    us.seed_instance(seed * 6007 + 800)
    rng = random.Random(seed * 6007 + 801)

    def fold(s: str) -> str:
        return s if rng.random() < 0.5 else _fold(s)

    filler_words = {w.lower() for f in FILLER_SEALED6 for w in re.findall(r"[^\W_]+", f)}

    def family_name(min_len: int = 4) -> str:
        """A US family name long enough not to be found inside other words of a note, and
        no word of this set's filler (``Sterling``, ``Hunter``: a span is located by its
        text, so it would be found in the filler sentence)."""
        while True:
            name = us.last_name()
            if len(name) >= min_len and name.lower() not in filler_words:
                return name

    for p in out:
        kr_f, kr_g = rng.choice(KOREAN_FAMILY), rng.choice(KOREAN_GIVEN)
        woman = rng.random() < 0.5
        my_given = rng.choice(MALAY_WOMEN if woman else MALAY_MEN)
        link = rng.choice(("binti", "bt", "bte") if woman else ("bin", "b."))
        so_woman = rng.random() < 0.5
        so = " ".join((rng.choice(SOMALI_WOMEN if so_woman else SOMALI_MEN),
                       *rng.sample(SOMALI_FATHERS, 2)))
        ht_woman = rng.random() < 0.5
        ht_kin, ht_gloss = rng.choice(HAITIAN_KIN_F if ht_woman else HAITIAN_KIN_M)
        escort_woman = rng.random() < 0.5
        escort_given = us.first_name_female() if escort_woman else us.first_name_male()
        vn_kin, vn_gloss = rng.choice(VIET_KIN)
        female = vn_gloss in ("wife", "daughter") or (vn_gloss == "grandchild" and woman)
        vn_mid, vn_given = ((VIET_MIDDLE_F, VIET_GIVEN_F) if female
                            else (VIET_MIDDLE_M, VIET_GIVEN_M))
        vn = f"{rng.choice(VIET_FAMILY)} {rng.choice(vn_mid)} {rng.choice(vn_given)}"
        nl_no = rng.choice((str(rng.randint(2, 180)), f"{rng.randint(2, 90)}a",
                            f"{rng.randint(2, 90)}-II", f"{rng.randint(2, 90)} hs"))
        born = datetime.date(rng.randint(1930, 1999), rng.randint(1, 12), rng.randint(1, 28))
        mil_g, mil_f = _ascii_handle(p["given"]), _ascii_handle(p["family"])
        kr_handle = f"{_ascii_handle(kr_g)}{kr_f.lower()}{rng.randint(60, 99)}"
        pnr = _pnr(rng)
        ip4 = us.ipv4_public()
        p.update({
            "s6_rank": rng.choice(RANKS),
            "s6_doc_f": family_name(),
            "s6_kr_f": kr_f, "s6_kr_g": kr_g,
            "s6_my": f"{my_given} {link} {rng.choice(MALAY_FATHERS)}",
            "s6_so": so, "s6_so_rel": rng.choice(SOMALI_KIN_F if so_woman else SOMALI_KIN_M),
            "s6_ht_g": fold(rng.choice(HAITIAN_WOMEN if ht_woman else HAITIAN_MEN)),
            "s6_ht_kin": ht_kin,
            "s6_ht_gloss": ht_gloss,
            "s6_vn": fold(vn), "s6_vn_kin": vn_kin, "s6_vn_gloss": vn_gloss,
            "s6_atc": f"{us.first_name()} {family_name()}",
            "s6_coach": family_name(),
            "s6_escort": f"{escort_given} {family_name()}",
            "s6_escort_rel": rng.choice(ESCORT_WOMEN if escort_woman else ESCORT_MEN),
            "s6_city": us.city(), "s6_city2": us.city(), "s6_city3": us.city(),
            "s6_nl_addr": f"{rng.choice(NL_STREETS)} {nl_no}, {_nl_postcode(rng)} "
                          f"{rng.choice(NL_TOWNS)}",
            "s6_gu": rng.choice(KOREAN_GU), "s6_camp": rng.choice(CAMPS),
            "s6_ht_town": fold(rng.choice(HAITI_TOWNS)), "s6_base": rng.choice(BASES),
            "s6_my_addr": f"No. {rng.randint(2, 88)}, Jalan {rng.choice(JALAN)} "
                          f"{rng.randint(1, 12)}, Taman {rng.choice(TAMAN)}",
            "s6_dive": fold(rng.choice(DIVE_SITES)),
            "s6_dsn": f"{rng.randint(312, 318)}-{rng.randint(220, 989)}-"
                      f"{rng.randint(1000, 9999)}",
            "s6_kr_phone": rng.choice((f"+82 10-{rng.randint(2000, 9999)}-"
                                       f"{rng.randint(1000, 9999)}",
                                       f"010-{rng.randint(2000, 9999)}-"
                                       f"{rng.randint(1000, 9999)}")),
            "s6_nl_phone": rng.choice((f"+31 6 {rng.randint(10, 99)} {rng.randint(10, 99)} "
                                       f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                                       f"06-{rng.randint(10000000, 99999999)}")),
            "s6_ht_phone": f"+509 {rng.choice('34')}{rng.randint(100, 999)} "
                           f"{rng.randint(1000, 9999)}",
            "s6_mil_mail": f"{mil_g}.{rng.choice('abcdeghjklmnprstw')}.{mil_f}.mil@"
                           f"{rng.choice(MIL_MAIL)}",
            "s6_kr_mail": f"{kr_handle}@{rng.choice(KR_MAIL)}",
            "s6_nl_mail": f"{_ascii_handle(p['relative'])[:1]}.{mil_f}@{rng.choice(NL_MAIL)}",
            "s6_rt_url": f"https://{rng.choice(('aria', 'mosaiq', 'rtportal'))}."
                         f"{rng.choice(('valleyonc', 'coastalradonc', 'lakeshorecancer'))}"
                         f".org/plan?mrn={''.join(c for c in p['mrn'] if c.isdigit())}"
                         f"&course=C{rng.randint(1, 4)}",
            "s6_trip_url": f"https://www.{rng.choice(AIRLINES)}.com/manage-trip?pnr={pnr}"
                           f"&lastName={mil_f}",
            "s6_rtp_url": f"https://rtp.{rng.choice(('headcase', 'concussiontrack', 'sidelinehq'))}"
                          f".com/athlete/{rng.randint(10000, 99999)}?token="
                          f"{''.join(rng.choice('abcdef0123456789') for _ in range(8))}",
            "s6_ip4": ip4,
            "s6_blood": rng.choice(("O POS", "A POS", "B NEG", "AB POS", "O NEG")),
            "s6_edipi": str(rng.randint(1000000000, 1999999999)),
            "s6_va": f"{rng.randint(10, 39)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            "s6_pnr": pnr,
            "s6_bsn": _bsn(rng),
            "s6_rrn": _rrn(rng, born),
            "s6_adr": f"{rng.choice(('AER', 'ADR', 'PV'))}-{rng.randint(2021, 2025)}-"
                      f"{rng.randint(1000, 99999):06d}",
            "s6_knee": f"{rng.choice(('3C', '1K', '4R', 'XC'))}{rng.randint(10, 99)}-"
                       f"{rng.randint(100000, 999999)}",
        })
