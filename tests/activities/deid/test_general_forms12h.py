"""Issue 12's general forms of deid12h (the forms ``sealed-5``'s misses and removed words were,
read once it was no longer held out): each form generated in its variants, with values and
sentences of these tests' own, must be gone from the scrubber's output by the column path
and the one-text path alike, and the residual check must find nothing left in the column
path's output (``clean``); the traps next to them must survive whole (``kept``).

Forms: an SSN, a US telephone number, a date and a ZIP read off a scan, OCR'd or with one
stray space (``patterns.scanned``); Spanish dates and ages (``spanishforms``); a day of this
or last month in a letter's Latin (``letterdays``); labelled national numbers, a CURP, a
scanned record number (``nationalids``); an Eircode, an Irish county, an NZ rural delivery
address, an Indian locality and PIN, a place after a Spanish place cue (``abroadplaces``).
Precision: Spanish function words and an issuer's code are no known name (``knownuse``);
bedside scores over a maximum are no date (``context``). Traps: the same shapes where no
identifier is (``O2 sats``, ``l/min``, ``1O mg``, ``Mayo``, ``RD 2 weeks``, ``C50 T2N0``,
``DNR/DNI``, Spanish clinical words).
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import knownuse, patterns
from medpipe.activities.deid.index import KeyIndex
from medpipe.activities.pseudonymize.scrub import scrub_column
from medpipe.contracts.pseudonymize import Placeholder
from tests.activities.deid.test_general_forms5 import both, kept
from tests.activities.deid.test_general_forms9 import clean

SWAP = {"0": "O", "1": "l"}


def _misread(value: str, at: list[int], capital_i: bool = False) -> str:
    """``value`` with the digits at ``at`` (0 or 1 only) read as OCR reads them."""
    swap = {**SWAP, "1": "I"} if capital_i else SWAP
    return "".join(swap[c] if i in at and c in swap else c for i, c in enumerate(value))


def _gap(value: str, i: int) -> str:
    """``value`` with one stray space before its ``i``-th character (between two others)."""
    i = max(1, min(i, len(value) - 1))
    if value[i - 1] == " " or value[i] == " ":
        return value
    return value[:i] + " " + value[i:]


# ----------------------------------------------------------------------------- scanned values

digits = st.text("0123456789", min_size=1, max_size=1)


@settings(max_examples=26, deadline=None)
@given(st.integers(100, 899), st.integers(10, 99), st.integers(1000, 9999), st.booleans(),
       st.integers(0, 10), st.booleans(),
       st.sampled_from(("SS no. {} (off the scanned form).", "Social given at window: {}.",
                        "SSN read as {} on the fax")))
def test_an_ssn_read_off_a_scan(a: int, b: int, c: int, ocr: bool, at: int, capital_i: bool,
                                template: str) -> None:
    value = f"{a:03d}-{b:02d}-{c:04d}"
    shown = _misread(value, [i for i, ch in enumerate(value) if ch in "01"][:2], capital_i) \
        if ocr and any(ch in "01" for ch in value) else _gap(value, at)
    clean(template.format(shown), *shown.replace("-", " ").split())


@settings(max_examples=26, deadline=None)
@given(st.integers(201, 989), st.integers(200, 999), st.integers(0, 9999), st.booleans(),
       st.integers(0, 13), st.sampled_from(("({}) {}-{}", "{}-{}-{}", "{}.{}.{}")),
       st.sampled_from(("Tel (from fax header): {}", "Call back on {} re: prep.",
                        "cell {}, prefers text")))
def test_a_telephone_number_read_off_a_scan(area: int, ex: int, line: int, ocr: bool, at: int,
                                            shape: str, template: str) -> None:
    value = shape.format(area, ex, f"{line:04d}")
    ones = [i for i, ch in enumerate(value) if ch in "01"]
    shown = _misread(value, ones[-1:]) if ocr and ones else _gap(value, at)
    clean(template.format(shown), *[t for t in shown.replace("(", " ").replace(")", " ")
                                    .replace("-", " ").replace(".", " ").split()])


@settings(max_examples=26, deadline=None)
@given(st.integers(1, 12), st.integers(1, 28), st.integers(1925, 2025), st.booleans(),
       st.integers(0, 9),
       st.sampled_from(("D.O.B. {}   (scanned, faint)", "Referral rec'd {} via fax.",
                        "DOB: {}")))
def test_a_date_read_off_a_scan(m: int, d: int, y: int, ocr: bool, at: int,
                                template: str) -> None:
    value = f"{m:02d}/{d:02d}/{y}"
    ones = [i for i, ch in enumerate(value) if ch in "01"]
    shown = _misread(value, ones[:2]) if ocr and ones else _gap(value, at)
    clean(template.format(shown), *shown.replace("/", " ").split())


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(("AR", "OK", "CA", "ND", "IL")), st.integers(10000, 99999),
       st.booleans(), st.integers(1, 4))
def test_a_zip_read_off_a_scan(state: str, zip_code: int, ocr: bool, at: int) -> None:
    value = str(zip_code)
    ones = [i for i, ch in enumerate(value) if ch in "01"]
    shown = _misread(value, ones[:1]) if ocr and ones else _gap(value, at)
    clean(f"Address line 3 (scan): {state} {shown}", *shown.split())


def test_scanned_shapes_keep_their_neighbours() -> None:
    """A value written right is the plain patterns' (its extension goes with it); an OCR'd
    letter alone, a dose, a flow, a score, a gestation have no identifier's shape."""
    for text, gone in (("Called pharmacy at 270-686-6004 ext 339.", "339"),
                       ("Tel: (8l2) 4l5-8683 x22, after 5", "22")):
        for out in both(text):
            assert gone not in out and "[PHONE]" in out, (text, out)
    for text in ("O2 sats 94% on 2 l/min, 1O mg given, then 1O/1O pain.",
                 "NEWS2 7, 38+2/40, Boston bowel prep score 2-3-2, Bay 2.",
                 "Na 14O, K 4.l, Hb l2O; BP l2O/8O; RR 1 6",
                 "Ratio 1:10, l0 ml flush, dilution 1 in 1O00"):
        kept(text)


def test_scanned_builds_the_shape_and_no_more() -> None:
    """One OCR'd digit at least, or one space: the plain value is not ``scanned``'s."""
    import re

    rx = re.compile(patterns.scanned("999-99-9999"))
    assert rx.fullmatch("12O-45-6789") and rx.fullmatch("123-45-67 89")
    assert not rx.fullmatch("123-45-6789")  # the plain ssn pattern's
    assert not rx.fullmatch("12O-45-67 89")  # a misreading and a space: one at a time
    assert not rx.fullmatch("123 -45 -6789")


# ------------------------------------------------------------------------------------ Spanish

MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre")


@settings(max_examples=26, deadline=None)
@given(st.integers(1, 28), st.sampled_from(MESES), st.sampled_from(("", " de ", " del ")),
       st.integers(1925, 2025), st.booleans(),
       st.sampled_from(("Nació el {}; trae la lista.", "Tiene cita el {} con cardiología.",
                        "Se cayó el {} en casa.", "Cirugía: {}.")))
def test_a_day_and_a_spanish_month(d: int, mes: str, de: str, y: int, upper: bool,
                                   template: str) -> None:
    mes = mes.capitalize() if upper else mes
    value = f"{d} de {mes}" + (f"{de}{y}" if de else "")
    clean(template.format(value), str(d), mes)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(MESES), st.sampled_from((" del ", " de ", " ")), st.integers(1990, 2025),
       st.sampled_from(("Le operaron la cadera en {}, camina con andadera.",
                        "Diagnosticado en {} por su médico.", "Última consulta: {}.")))
def test_a_spanish_month_and_a_year(mes: str, de: str, y: int, template: str) -> None:
    clean(template.format(f"{mes}{de}{y}"), mes)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 28), st.sampled_from(("ene", "abr", "ago", "dic")),
       st.sampled_from(("/", "-", ".")), st.sampled_from(("2024", "19")))
def test_a_day_and_a_spanish_abbreviation(d: int, mes: str, sep: str, y: str) -> None:
    value = f"{d}{sep}{mes}{sep}{y}"
    clean(f"Visto el {value} en urgencias.", value)


@settings(max_examples=15, deadline=None)
@given(st.integers(90, 115), st.sampled_from(("años", "anos", "años de edad")),
       st.sampled_from(("Paciente de {}, vive sola.", "Señora de {} con caídas.",
                        "Edad: {}")))
def test_a_spanish_age_over_89(age: int, word: str, template: str) -> None:
    clean(template.format(f"{age} {word}"), str(age))


@pytest.mark.parametrize("text", [
    "Paciente de 85 años, vive sola.",  # an age under 90
    "Dolor de rodilla derecha desde hace meses.",
    "Tiene cita en mayo con cardiología.",  # a month alone is no date
    "Dolor de 3 de 10, mejor con paracetamol.",  # no month after the day
    "Toma 2 tabletas de 500 mg cada 8 horas.",
    "Hace 5 años que tiene diabetes.",
])
def test_spanish_clinical_words_stay(text: str) -> None:
    kept(text)


# ----------------------------------------------------------------------------- letters' days

@settings(max_examples=15, deadline=None)
@given(st.integers(1, 31), st.sampled_from(("inst.", "ult.", "prox.", "instant", "ultimo")),
       st.sampled_from(("Thank you for your letter of the {} regarding her anaemia.",
                        "Last reviewed in OPD on the {} with no change.",
                        "Seen on {}, referred on.")))
def test_a_day_of_this_or_last_month_in_a_letter(d: int, word: str, template: str) -> None:
    suffix = "th" if 10 < d % 100 < 14 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    clean(template.format(f"the {d}{suffix} {word}"), f"{d}{suffix}")


@pytest.mark.parametrize("text", ["His 3rd installment of the fee.",
                                  "The 2nd ultrasound showed no change.",
                                  "4th instar larvae noted in the wound."])
def test_ordinals_before_other_words_stay(text: str) -> None:
    kept(text)


# -------------------------------------------------------------------------- national numbers

@pytest.mark.parametrize(("text", "value"), [
    ("PPSN 7549563Z as per the transfer letter.", "7549563Z"),
    ("PPS No: 1234567TA on file.", "1234567TA"),
    ("NZ NHI ZAC5361, records requested.", "ZAC5361"),
    ("NHI: ABC12DE", "ABC12DE"),
    ("CURP GOMA850312HDFRRN09 en la credencial.", "GOMA850312HDFRRN09"),
    ("copia: BEML920313MMCLRS07, en el sobre", "BEML920313MMCLRS07"),
    ("Aadhaar 2345 6789 0123 seen on the phone.", "6789"),
    ("Client # 88213, dose 85 mg.", "88213"),
    ("Hosp no. 3O03O13 (scan), please confirm.", "3O03O13"),
    ("MRN: 20l4O5, scanned.", "20l4O5"),
    ("PhilHealth no. 12-345678901-2 on the card", "345678901"),
])
def test_a_labelled_national_number_goes(text: str, value: str) -> None:
    clean(text, value)


@pytest.mark.parametrize("text", [
    "DNR/DNI G3P2012 at 38 weeks.",  # do not intubate, not Spain's DNI
    "PPS 60%, declining.",  # the palliative performance scale
    "NHI not yet known, ask family.",
    "Client agreed to the plan; client # not given.",
    "Chart reviewed; MRN to follow.",
])
def test_labels_without_a_number_stay(text: str) -> None:
    kept(text)


# ---------------------------------------------------------------------------------- addresses

@pytest.mark.parametrize(("text", "value"), [
    ("Irish home address, Eircode D02 NHY3.", "NHY3"),
    ("Eircode: T12X5V2", "T12X5V2"),
    ("Family are from Co. Sligo, flying over.", "Sligo"),
    ("Lives in County Clare with her son.", "Clare"),
    ("Postal: RD 4 Te Puke (farm, no number).", "Puke"),
    ("Rural delivery RD2 Waipukurau", "Waipukurau"),
    ("Native place: Jayanagar 4th Block, Bengaluru - 560011, attender", "Jayanagar"),
    ("Address: Anna Nagar, Chennai - 600040", "600040"),
    ("PIN 560 011 per the Aadhaar", "560"),
    ("Domicilio en la colonia Lomas de Anza, a diez minutos.", "Anza"),
    ("Vive en San Luis Río Colorado con su hija.", "Colorado"),
    ("Originaria de Ciudad Obregón, llegó ayer.", "Obregón"),
])
def test_an_address_written_abroad_goes(text: str, value: str) -> None:
    clean(text, value)


@pytest.mark.parametrize("text", [
    "Seen by RD 2 weeks ago, weight stable.",  # a dietitian
    "RD 3 Mondays at the clinic.",
    "Dx C50 T2N0, for MDT.",  # a code and a stage: no Eircode without its label
    "Co-amoxiclav 625 mg; CO2 32.",
    "Co. Ltd invoice attached.",
    "vive en casa con su hija.",  # a place cue before a lower-case word
    "PIN site clean, no ooze.",
])
def test_address_traps_stay(text: str) -> None:
    kept(text)


# ----------------------------------------------------------------------------------- precision

KEY = b"h" * 32


def _scrub_known(text: str, *names: str) -> str:
    index = KeyIndex(KEY)
    index.add_all(list(names), Placeholder.NAME)
    return str(scrub_column(pa.array([text]), index, Counter())[0].as_py())


@pytest.mark.parametrize("text", [
    "Paciente de 99 años, vive sola, la vecina le ayuda con la compra.",
    "Cel. de la hija en México, llamar por la tarde; que le avise al hijo.",
    "Le operaron la cadera en 2019, camina con andadera.",
])
def test_spanish_function_words_are_no_known_name(text: str) -> None:
    out = _scrub_known(text, "Thi Le", "Minh La", "Ana De")
    assert "[NAME]" not in out, (text, out)


@pytest.mark.parametrize("text", [
    "spoke to luca le at bedside, she agrees",  # an English note: a name in lower case
    "Le agreed to the plan.",  # a capital: a name
    "Daughter La visited; la is tired",  # after a relation: a name
])
def test_a_short_known_name_outside_spanish_still_goes(text: str) -> None:
    out = _scrub_known(text, "Luca Le", "La Nguyen")
    assert "[NAME]" in out, (text, out)
    assert not knownuse.spanish(text, 0)


@pytest.mark.parametrize("text", [
    "Mr. da Silva states he sleeps in a recliner; de la casa a la clinica.",
    "Vino con su hijo, joao da silva, de la ciudad; la cita es en la tarde.",
])
def test_a_particle_of_a_known_name_still_goes(text: str) -> None:
    out = _scrub_known(text, "Joao Da", "Maria Silva", "Ana De")
    assert "da" not in out.replace("de la", "").split(), (text, out)


def test_an_issuers_code_is_no_known_name() -> None:
    out = _scrub_known("SA ID no. 8001015009087 (green book copy on file).", "Sa Kim")
    assert out.startswith("SA ID no."), out
    out = _scrub_known("Seen with Sa, ID checked.", "Sa Kim")  # not in capitals, a comma
    assert "Sa" not in out.replace("SA", ""), out


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(("LATCH", "Braden", "Waterlow", "CIWA", "COWS", "SOWS", "FLACC",
                        "PAINAD", "Abbey", "Borg", "Barthel", "MEWS")),
       st.integers(1, 9), st.integers(10, 12))
def test_a_bedside_score_over_a_maximum_is_no_date(scale: str, n: int, top: int) -> None:
    kept(f"{scale} {n}/{top} this shift, reviewed.")


def test_a_date_after_a_score_word_still_goes_when_it_has_a_year() -> None:
    clean("LATCH review booked 8/10/2024.", "8/10/2024")


# --------------------------------------------------------------------------------------- names

@pytest.mark.parametrize(("text", "value"), [
    ("MET call 0214h: reg FENG Jie attended, ICU outreach informed.", "FENG"),
    ("MET call 0214h: reg TANG Gang attended.", "TANG"),
    ("Seen on the ward round by HAN Ming (med reg), plan as below.", "Ming"),
    ("Seen on the ward round by ZOU Xiulan (med reg), plan as below.", "Xiulan"),
    ("Valuables bagged; witnessed DLAMINI / security.", "DLAMINI"),
    ("Property list countersigned OKONKWO-ADE, night shift", "OKONKWO"),
    ("Kuya Dodong at bedside overnight, translating.", "Dodong"),
    ("Tita Jun-Jun called the ward.", "Jun-Jun"),
    ("Ate Tonette brought the papers.", "Tonette"),
    ("Se habló con su familiar, Refugio, por teléfono.", "Refugio"),
    ("Yesenia (familiar) la trae a la cita cada semana.", "Yesenia"),
    ("la hija Guadalupe Ochoa trae la lista.", "Ochoa"),
    ("Attender Padmavathi Rao signed the consent.", "Padmavathi"),
    ("Reviewed by IBCLC Thandeka this am, latch improving.", "Thandeka"),
    ("Escort home: Wiremu (grandchild), waiting in the car park.", "Wiremu"),
    ("Escort home: Rodel (NOK), waiting.", "Rodel"),
])
def test_a_name_after_another_writers_cue_goes(text: str, value: str) -> None:
    clean(text, value)


@pytest.mark.parametrize("text", [
    "Referred by GP Surgery, seen by ICU Outreach.",
    "Seen by HE Team; reviewed by ME Now; by MA Ward.",
    "reg ICU Outreach informed; by CT Head.",
    "Reviewed by IBCLC this am.",
    "witnessed CPR / bystander, ROSC at 8 min.",
    "Ate Lunch well, then Ate breakfast.",
    "Partner (NOK) aware; Son (eldest) visiting.",
    "Seen by RN Team, then by NP Clinic.",
    "Kuya was present.",
    "Attender present, signed.",
])
def test_other_writers_cues_without_a_name_stay(text: str) -> None:
    kept(text)


def test_a_kin_title_stays_before_the_name() -> None:
    for out in both("Kuya Bongbong and Manang Inday at bedside."):
        assert out.startswith("Kuya [NAME]") and "Manang [NAME]" in out, out


# ------------------------------------------------------------------------------ ages and ranges

@settings(max_examples=20, deadline=None)
@given(st.integers(90, 112), st.sampled_from(("She is {} and lives alone.", "Nan turned {}.",
                                              "Lola is {} and still walks.",
                                              "Mary is {} today, frail.")))
def test_an_age_after_a_persons_is(age: int, template: str) -> None:
    clean(template.format(age), str(age))


@pytest.mark.parametrize("text", ["HR is 99 and regular.", "Ferritin is 95 and rising.",
                                  "Temp is 99.1 today.", "She is 85 and lives alone.",
                                  "Sats were 94, the score is 95.", "BP is 100 and stable."])
def test_a_measures_is_stays(text: str) -> None:
    kept(text)


@pytest.mark.parametrize(("text", "value"), [
    ("Take-homes approved for 24-26/12 (long wknd).", "24-26/12"),
    ("Take-homes approved for 26-28/7 (long wknd).", "26-28/7"),
    ("Leave booked for 14-16/12.", "14-16/12"),
])
def test_a_range_of_days_after_for_is_a_date(text: str, value: str) -> None:
    clean(text, value)


@pytest.mark.parametrize("text", ["Sx 13-18/12 ago.", "Cycle 3-4/7 apart.", "Dev age 18-24/12."])
def test_a_uk_count_without_a_dates_word_stays(text: str) -> None:
    kept(text)


def test_the_column_residual_check_finds_a_value_read_off_a_scan() -> None:
    """``residual_scan`` matches the scan patterns apart, behind ``SCAN_GATE``: a scanned
    value left in a column is still found, and the traps are not."""
    from medpipe.activities.residual_scan import scan_texts

    texts = ["SS no. 858-52-l324 (read off scan).", "Call back on (5 08) 073-7997 re: prep",
             "D.O.B. lO/16/l946 faint", "Referral 08/ 12/2025 via fax",
             "SS no. OOO-12-OOO4 again", "O2 sats 94 on 2 l/min, 1O mg, x 2 3",
             "SS no. [SSN] here"]
    hit, _ = scan_texts(pa.array(texts), None)
    assert hit.tolist() == [True, True, True, True, True, False, False]
