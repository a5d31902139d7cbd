"""Addresses as other countries and rural America write them, and places given as
coordinates: forms the USPS street grammar (``grammar.ADDRESS``) does not describe.

Safe Harbor removes every geographic subdivision smaller than a State "and their
equivalent geocodes" (45 CFR 164.514(b)(2)(i)(B)); a note written by or for a patient who
lives abroad, or on a farm, writes them in these grammars (found by ``fresh-7``, general
forms rather than its strings):

* a **postcode**: the UK's (outward code, a space, inward code: ``HG1 2AB``, ``SW1A 1AA``;
  capitals, the inward letters from Royal Mail's alphabet, which leaves out ``C I K M O V``,
  so TNM stages such as ``T2 N0`` stay), India's PIN after its word (``PIN 500034``,
  ``pincode: 500 034``: the number);
* a **street named before its number**, as Latin America, Spain, France and Italy write it
  (``Calle de la Cruz 1543``, ``Av. Insurgentes Sur 1602``, ``Via Garibaldi 26``): a street
  word (``Calle``, ``Avenida``, ``Rua``, ``Rue``, ``Via``, ``Piazza`` …), capitalized words
  or particles (``de la``), a house number; or a German/Dutch/Nordic compound street
  (``Lindenstrasse 12``, ``Keizersgracht 123``); then a postcode and a town after a comma
  when written (``, 10115 Berlin``, ``, 1015 CJ Amsterdam``);
* a **neighbourhood word** of Latin addresses with its name (``Urb. Las Flores``,
  ``Colonia Roma Norte``, ``Barrio Obrero``): the word and the name;
* an **Indian house number** after its word (``H.No. 12-3-456``, ``Door No 4/12``,
  ``Plot No. 7``), then up to two comma-separated capitalized places (the locality and the
  town: ``, Banjara Hills, Hyderabad``; a third, the state, stays);
* a **unit before a street** (``Flat 2, 14 Aldwych Road``, ``Unit 4/27 Kent St``, ``6/59
  Marine Pde``): the unit and its number or the number and its slash, when a street or a
  street already replaced follows; and British/Australian street suffixes the USPS list
  lacks after a house number and capitalized words (``Marine Parade``, ``Pde``, ``Cct``,
  ``Esp``, ``Rise``, ``Approach``, ``Close``, ``Wynd``, ``Quay``);
* a **rural grid address** (``N5421 County Road K``, ``W1234 Oak Ridge Rd``): a compass
  letter glued to 3-5 digits, then a road; and a **road a home sits on** after a cue
  (``lives off County Rd 12``, ``farm on Hwy 61``, ``lives off Old Mill Rd``): a numbered
  or lettered road (``County Road K``, ``State Hwy 61``, ``FM 1960``) or capitalized words
  with a street suffix;
* **coordinates**: two decimal degrees with four decimals or more (``40.6326, -75.5431``,
  hemisphere letters allowed; each within its range), or degrees-minutes(-seconds) pairs
  with ``N``/``S`` and ``E``/``W`` (``38°53'52"N 77°2'11"W``);
* a **town abbreviated** ``Ft.``/``Mt.``/``Pt.``/``Pte.`` (or ``Fort``, ``Mount``, ``Port``,
  ``Point``) after a place preposition (``moved here from Pt. Pleasant``, ``transfer from
  Ft. Wayne ED``): the capitalized word after the abbreviation must be no clinical word
  (``words.NOT_NAMES``), so ``from Pt. Patient reports`` stays.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import cityforms, forms, geo, grammar
from medpipe.activities.deid.safelist import english
from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_CAP = r"[A-Z][a-z][A-Za-z'-]*"
#: A capitalized word, or the mark an earlier pass put over a place or name word.
_CAP_OR_MARK = r"(?:" + _CAP + r"|\[(?:ADDRESS|NAME)\])"
#: One to three capitalized words (a town, a locality).
_PLACE = r"(?:" + _CAP + r"(?:[ -]" + _CAP + r"){0,2})"
UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s{1,2}[0-9][ABD-HJLNP-UW-Z]{2}\b")
PIN = re.compile(r"\b(?i:pin(?:\s{0,2}code)?)\s{0,2}[:#-]?\s{0,2}([1-9][0-9]{2}\s?[0-9]{3})\b")
_STREET_WORD = (r"(?:Calle|C/|Avenida|Avda\.?|Av\.|Paseo|Camino|Carrera|Cra\.|Carretera|Rua|Rue"
                r"|Via|Viale|Piazza|Piazzale|Corso|Largo|Plaza|Pza\.|Praca|Boulevard|Chemin"
                r"|Allee|Quai|Ronda|Travessa|Calzada|Privada|Cerrada|Prolongacion|Callejon)")
_PARTICLE = r"(?:de|del|la|las|los|des|du|di|da|do|dos|das|della|delle|degli|dei|el|y)"
_HOUSE = r"(?:(?i:no\.?|n[o.]?|#)\s{0,2})?[0-9]{1,5}[A-Za-z]?(?:[-/][0-9]{1,4})?\b"
#: A postcode of four or five digits (maybe a country letter and a dash, maybe two letters
#: after it, as the Dutch write them), then a town.
_POST_TOWN = (r"(?:,\s{1,2}(?:[A-Z]{1,2}-)?[0-9]{4,5}(?:\s(?-i:[A-Z]{2}))?\s{1,2}" + _PLACE
              + r")?")
NUMBER_AFTER_STREET = re.compile(
    r"\b" + _STREET_WORD + r"(?:\s{1,2}(?:" + _PARTICLE + r"|" + _CAP + r"|[0-9]{1,3}[A-Z]?"
    r"|\[(?:ADDRESS|NAME)\])){1,5}"
    r"\s{1,2}" + _HOUSE + _POST_TOWN)
_COMPOUND = (r"(?:strasse|str\.|weg|gasse|platz|allee|damm|ufer|gracht|straat|laan|plein|kade"
             r"|singel|vej|gade|gatan|vagen|veien)")
COMPOUND_STREET = re.compile(r"\b[A-Z][a-z]{2,}" + _COMPOUND + r"\s{1,2}[0-9]{1,5}[a-z]?\b"
                             + _POST_TOWN)
NEIGHBOURHOOD = re.compile(
    r"\b(?:Urb\.|Urbanizacion|Barrio|Bo\.|Colonia|Col\.|Fracc\.|Fraccionamiento|Residencial"
    r"|Reparto|Parcelas)\s{1,2}(?:(?:" + _PARTICLE + r")\s{1,2})?" + _CAP_OR_MARK
    + r"(?:\s{1,2}(?:(?:" + _PARTICLE + r")\s{1,2})?" + _CAP_OR_MARK + r"){0,2}")
HOUSE_NUMBER = re.compile(
    r"(?:\b(?i:h\.?\s?no|house\s{1,2}no|door\s{1,2}no|d\.\s?no|plot\s{1,2}no|qtr\.?\s{1,2}no)"
    # the scrubber's patterns read "H.No" as a host name ("h" + the ".no" domain)
    r"|\[URL\])"
    # (the number maybe read as a date or an id by an earlier pass: "19-8-10")
    r"\.?\s{0,2}[:#]?\s{0,2}(?:[0-9]{1,5}(?:[-/][0-9A-Z]{1,5}){0,4}\b"
    r"|\[(?:DATE|PHONE|ID|SSN|MRN)\])")
_THEN_PLACE = re.compile(r",\s{1,2}(" + _PLACE + r")\b")
#: Suffixes of British and Australian streets the USPS list lacks.
_COMMONWEALTH = (r"(?:Parade|Pde|Esplanade|Esp|Circuit|Cct|Rise|Approach|Close|Wynd|Quay"
                 r"|Crescent|Cres|Gardens|Mews|Grove)")
COMMONWEALTH_STREET = re.compile(r"\b[0-9]{1,5}[A-Za-z]?\s{1,2}(?:" + _CAP + r"\s{1,2}){1,3}"
                                 + _COMMONWEALTH + r"\b\.?")
_STREET_AT = re.compile(r"\[ADDRESS\]|" + COMMONWEALTH_STREET.pattern + r"|(?i:"
                        + grammar.ADDRESS + r")")
#: A unit before a street (``Flat 2,``) or a unit number and its slash (``4/``): the street
#: after it is checked with ``_STREET_AT``.
UNIT_BEFORE = re.compile(r"\b(?:(?i:flat|unit|apt|apartment|suite|ste|lot|shop|level)\.?\s{0,2}"
                         r"#?\s{0,2}[0-9]{1,5}[A-Za-z]?(?:/[0-9]{1,5}(?=\s))?\s{0,2},?\s{1,2}"
                         # a unit number and its slash: the street has lower-case letters
                         # ("20/40 OU Dr" is visual acuity and a title)
                         r"|[0-9]{1,4}[A-Za-z]?/(?=[0-9]{1,5}\s{1,2}[A-Z][a-z]|\[ADDRESS\]))")
_ROAD = (r"(?:(?:(?:County|Cty|Co\.|State|US|Farm|Ranch|Town|Township|Twp|Old)\s{1,2})?"
         r"(?:Road|Rd|Highway|Hwy|Route|Rte|Trunk|Line)\.?\s{1,2}[A-Z0-9]{1,4}\b"
         r"|(?:CR|SR|FM|US|SH|CTH|STH)\s?-?[0-9]{1,4}\b)")
_NAMED_ROAD = r"(?:" + _CAP + r"\s{1,2}){1,3}(?i:" + grammar.STREET_SUFFIX + r")\b\.?"
GRID_ADDRESS = re.compile(r"\b[NSEW][0-9]{3,5}\s{1,2}(?:" + _ROAD + "|" + _NAMED_ROAD + r")")
HOME_ROAD = re.compile(
    r"\b(?i:lives?|living|resides?|home|house|farm|ranch|trailer|located)\s{1,2}"
    r"(?i:off(?:\s{1,2}of)?|on|along|down|at\s{1,2}the\s{1,2}end\s{1,2}of)\s{1,2}("
    + _ROAD + "|" + _NAMED_ROAD + r")")
DECIMAL_PAIR = re.compile(
    r"(?<![0-9.])(-?[0-9]{1,2}\.[0-9]{4,8})\s{0,2}(?:°\s{0,2})?([NS])?\s{0,2},?\s{1,3}"
    # the longitude maybe taken by the patterns already ("-75.5431" reads as a local number)
    r"(-?[0-9]{1,3}\.[0-9]{4,8}|-?\[PHONE\])(?![0-9])(?:\s{0,2}(?:°\s{0,2})?[EW]\b)?")
_DMS = (r"[0-9]{1,3}\s{0,2}°\s{0,2}[0-9]{1,2}\s{0,2}'(?:\s{0,2}[0-9]{1,2}(?:\.[0-9]+)?\s{0,2}"
        r"(?:''|\"))?\s{0,2}")
DMS_PAIR = re.compile(_DMS + r"[NS]\s{0,2},?\s{1,3}" + _DMS + r"[EW]\b")
ABBREVIATED_TOWN = re.compile(
    r"\b(?i:from|to|in|near|of|outside|at)\s{1,2}((?:Ft|Mt|Pt|Pte|Fort|Mount|Port|Point)\.?"
    r"\s{1,2}(" + _CAP + r"))")


#: Words no town is made of: function words, pronouns, words that end a clause in a message.
_NOT_TOWN = cityforms.NOT_PLACES | frozenset(
    "a an the my his her their our your its this that these those with by at on of for to "
    "from in into out near it is was so and but or because since now here there when where "
    "while until please pls plz thanks thx thank asap too also just still only very".split())
#: A town in lower case where a person lives or moved (``i live out in grand marais so``).
LIVE_LOWER = re.compile(r"\b(?:live|lives|living|lived|moved|moving|staying|stay)\s{1,2}"
                        r"(?:(?:out|up|down|over)\s{1,2})?(?:in|to|near|by)\s{1,2}(?=[a-z])",
                        re.IGNORECASE)
#: The end of a street address in lower case (``forms.LOWER_ADDRESS``) or of one an earlier
#: pass replaced, before a town in lower case (``595 elm ave apt 11 grand marais please``).
ADDRESS_END = re.compile(r"\[ADDRESS\]|" + forms.LOWER_ADDRESS.pattern)
#: A county's kind after its name (``pattersonville co``): no town follows the name.
_COUNTY_KIND = re.compile(r"(?:co|cty|county|parish|twp|township|boro|borough)\b\.?")
_LOWER_WORD = re.compile(r"([a-z][a-z'-]*)(?:\s{1,2}|(?=[.,;:!?]|$))")


def _lower_town(folded: str, at: int) -> int:
    """The end of a town of one to three lower-case words at ``at`` (else ``at``): none a
    function word, a clause word or a clinical word, one at least no English word (``grand
    marais``, ``fond du lac``; not ``the floor``, ``rehab``)."""
    end, pos = at, at
    words: list[str] = []
    for _ in range(3):
        m = _LOWER_WORD.match(folded, pos)
        if m is None or m.group(1) in _NOT_TOWN or m.group(1) in NOT_NAMES \
                or m.group(1) in english() and any(w not in english() for w in words):
            break  # an English word after the town's own word ends it ("kokomo last year")
        words.append(m.group(1))
        end, pos = m.end(1), m.end()
    if not words or all(w in english() for w in words):
        return at
    return end


_SENTENCE_START = re.compile(r"(?:^|[.!?]\s|\n)[^.!?\n]*\Z")


def _lower_clause(folded: str, at: int) -> bool:
    """Whether the sentence up to ``at`` is written in lower case (a message typed without
    capitals: a capitalized town there would have been taken by the other forms)."""
    m = _SENTENCE_START.search(folded, max(0, at - 200), at)
    return m is not None and not any(c.isupper() for c in folded[m.start():at])


def _lower_towns(folded: str, low: str) -> list[Span]:
    """Towns in lower case in a sentence typed without capitals: after a verb of living or
    moving and a preposition, or after a street address in lower case or already marked."""
    out: list[Span] = []
    for m in LIVE_LOWER.finditer(folded) if _gate(folded, low, "live") else ():
        end = _lower_town(folded, m.end())
        if end > m.end() and _lower_clause(folded, m.start()):
            out.append((m.end(), end, Placeholder.ADDRESS))
    for m in ADDRESS_END.finditer(folded):
        at = m.end() + 1
        if _COUNTY_KIND.match(folded, at):  # "[ADDRESS] co dhs": the mark was a county
            continue
        if folded[m.end():at] == " " and folded[at:at + 1].islower():
            end = _lower_town(folded, at)
            if end > at and _lower_clause(folded, m.start()):
                out.append((at, end, Placeholder.ADDRESS))
    return out


def _places_after(folded: str, end: int, most: int = 2) -> int:
    """The end of up to ``most`` comma-separated places after ``end`` (no state or country,
    no clinical word), else ``end``."""
    for _ in range(most):
        m = _THEN_PLACE.match(folded, end)
        if m is None or _not_place(m.group(1)):
            break
        nxt = folded[m.end():m.end() + 4]
        if re.match(r"\s?[A-Z]{2}\b|[0-9]", nxt):  # a state code or a number after: stop
            end = m.end()
            break
        end = m.end()
    return end


_COMPASS = frozenset({"north", "south", "east", "west"})


def _not_place(words: str) -> bool:
    """A state or a country, or a clinical word (a compass word is a place's: ``Andheri
    West``)."""
    return words.lower() in geo.gazetteer().regions \
        or any(w.lower() in NOT_NAMES and w.lower() not in _COMPASS for w in words.split())


def _coordinates(folded: str) -> list[Span]:
    out: list[Span] = []
    for m in DECIMAL_PAIR.finditer(folded):
        if abs(float(m.group(1))) <= 90 and ("[" in m.group(3) or abs(float(m.group(3))) <= 180):
            out.append((m.start(), m.end(), Placeholder.ADDRESS))
    out += [(m.start(), m.end(), Placeholder.ADDRESS) for m in DMS_PAIR.finditer(folded)]
    return out


#: Cheap gates: a substring each match of the form holds, in the folded text (capitalized
#: words) or in its lower-case copy, so a text costs one regex scan per form it may hold.
_GATES: dict[str, tuple[str, ...]] = {
    "street_first": ("Calle", "C/", "Av", "Paseo", "Camino", "Carrer", "Cra.", "Rua ", "Rue ",
                     "Via ", "Viale", "Piazza", "Corso", "Largo", "Plaza", "Pza.", "Praca",
                     "Boulevard", "Chemin", "Allee", "Quai", "Ronda", "Travessa", "Calzada",
                     "Privada", "Cerrada", "Prolongacion", "Callejon"),
    "neighbourhood": ("Urb", "Barrio", "Bo.", "Col", "Fracc", "Residencial", "Reparto",
                      "Parcelas"),
    "commonwealth": ("Parade", "Pde", "Esplanade", "Esp", "Circuit", "Cct", "Rise", "Approach",
                     "Close", "Wynd", "Quay", "Crescent", "Cres", "Gardens", "Mews", "Grove"),
    "abbreviated": ("Ft", "Mt", "Pt", "Fort ", "Mount ", "Port ", "Point "),
}
_LOW_GATES: dict[str, tuple[str, ...]] = {
    "compound": ("strasse", "str.", "weg ", "gasse", "platz", "allee", "damm", "ufer", "gracht",
                 "straat", "laan", "plein", "kade", "singel", "vej", "gade", "gatan", "vagen",
                 "veien"),
    "house": ("h.no", "h. no", "h no", "house no", "door no", "d. no", "d.no", "plot no", "qtr",
              "[url]"),
    "unit": ("flat", "unit", "apt", "apartment", "suite", "ste", "lot", "shop", "level", "/"),
    "home_road": ("live", "resid", "home", "house", "farm", "ranch", "trailer", "located"),
    "live": ("live", "living", "moved", "moving", "stay"),
}
_FOUR_DECIMALS = re.compile(r"\.[0-9]{4}")


def _gate(folded: str, low: str, form: str) -> bool:
    if form in _GATES:
        return any(g in folded for g in _GATES[form])
    return any(g in low for g in _LOW_GATES[form])


def find(folded: str) -> list[Span]:
    """Spans of the addresses and places in the forms above (each form behind its gate)."""
    low = folded.lower()
    out: list[Span] = [(m.start(), m.end(), Placeholder.ADDRESS)
                       for m in UK_POSTCODE.finditer(folded)]
    if "pin" in low:
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in PIN.finditer(folded)]
    for rx, form in ((NUMBER_AFTER_STREET, "street_first"), (COMPOUND_STREET, "compound"),
                     (NEIGHBOURHOOD, "neighbourhood"), (HOUSE_NUMBER, "house")):
        if not _gate(folded, low, form):
            continue
        for m in rx.finditer(folded):
            if rx is HOUSE_NUMBER or not any(w.lower().strip(".") in NOT_NAMES
                                             for w in m.group().split()[1:]):
                out.append((m.start(), _places_after(folded, m.end()), Placeholder.ADDRESS))
    if _gate(folded, low, "unit"):
        for m in UNIT_BEFORE.finditer(folded):
            if _STREET_AT.match(folded, m.end()):
                out.append((m.start(), m.end(), Placeholder.ADDRESS))
    if _gate(folded, low, "commonwealth"):
        out += [(m.start(), _places_after(folded, m.end(), 1), Placeholder.ADDRESS)
                for m in COMMONWEALTH_STREET.finditer(folded)]
    out += [(m.start(), m.end(), Placeholder.ADDRESS) for m in GRID_ADDRESS.finditer(folded)]
    if _gate(folded, low, "home_road"):
        out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in HOME_ROAD.finditer(folded)]
    if "°" in folded or _FOUR_DECIMALS.search(folded):
        out += _coordinates(folded)
    out += _lower_towns(folded, low)
    if _gate(folded, low, "abbreviated"):
        for m in ABBREVIATED_TOWN.finditer(folded):
            if m.group(2).lower() not in NOT_NAMES:
                out.append((m.start(1), m.end(1), Placeholder.ADDRESS))
    return out


_ROAD_TRIGGER = (r"(?:(?:county|cty|co\.|state|us|farm|ranch|town|township|twp|old)" + _WS
                 + r"{1,2})?(?:road|rd|highway|hwy|route|rte|trunk|line)|(?:cr|sr|fm|us|sh|cth"
                 r"|sth)" + _WS + r"?-?[0-9]|(?-i:[A-Z][a-z])")
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): each form's
#: pattern with RE2's whitespace, or the part of it every match holds.
TRIGGER = "|".join((
    r"\b[a-z]{1,2}[0-9][a-z0-9]?" + _WS + r"{1,2}[0-9][a-z]{2}\b",
    r"\bpin(?:" + _WS + r"{0,2}code)?" + _WS + r"{0,2}[:#-]?" + _WS + r"{0,2}[1-9]",
    r"\b(?-i:" + _STREET_WORD + r")" + _WS + r"{1,2}(?-i:[A-Z0-9\[]|" + _PARTICLE + r"\b)",
    r"[a-z]{2}" + _COMPOUND + _WS + r"{1,2}[0-9]",
    r"\b(?:urb\.|urbanizacion|barrio|bo\.|colonia|col\.|fracc|residencial|reparto|parcelas)"
    + _WS,
    r"\[url\]\.?" + _WS + r"{0,2}[:#]?" + _WS + r"{0,2}(?:[0-9]|\[)"
    r"|\b(?:h\.?" + _WS + r"?no|house" + _WS + r"{1,2}no|door" + _WS + r"{1,2}no|d\." + _WS
    + r"?no|plot" + _WS + r"{1,2}no|qtr\.?" + _WS + r"{1,2}no)",
    r"\b(?:flat|unit|apt|apartment|suite|ste|lot|shop|level)\.?" + _WS + r"{0,2}#?" + _WS
    + r"{0,2}[0-9]{1,5}[a-z]?(?:/[0-9]{1,5})?" + _WS + r"{0,2},?" + _WS
    + r"{1,2}(?:[0-9]|\[address\])",
    r"[0-9]/(?:[0-9]{1,5}" + _WS + r"{1,2}(?-i:[A-Z][a-z])|\[address\])",
    _WS + r"(?:parade|pde|esplanade|esp|circuit|cct|rise|approach|close|wynd|quay|crescent"
          r"|cres|gardens|mews|grove)\b",
    r"\b[nsew][0-9]{3,5}" + _WS,
    r"\b(?:lives?|living|resides?|home|house|farm|ranch|trailer|located)" + _WS
    + r"{1,2}(?:off|on|along|down|at)(?:" + _WS + r"{1,2}(?:of|the" + _WS + r"{1,2}end"
    + _WS + r"{1,2}of))?" + _WS + r"{1,2}(?:" + _ROAD_TRIGGER + r")",
    r"[0-9]\.[0-9]{4,8}" + _WS + r"{0,2}(?:°" + _WS + r"{0,2})?[ns]?" + _WS + r"{0,2},?" + _WS
    + r"{1,3}-?(?:[0-9]{1,3}\.[0-9]{4}|\[phone\])",
    r"°",
    r"\b(?:live|lives|living|lived|moved|moving|staying|stay)" + _WS + r"{1,2}(?:(?:out|up"
    r"|down|over)" + _WS + r"{1,2})?(?:in|to|near|by)" + _WS + r"{1,2}(?-i:[a-z])",
    # a lower-case street (its unit or abbreviated suffix) or a mark, then a lower-case word
    r"(?-i:(?:\[ADDRESS\]|(?:apt|apartment|unit|suite|ste|lot|space|bldg|trlr|#)\.?" + _WS
    + r"{0,2}#?" + _WS + r"{0,2}[0-9]{1,5}[a-z]?|[0-9]" + _WS + r"{1,2}(?:[a-z]+" + _WS
    + r"{1,2}){1,3}(?:st|rd|dr|ave|av|blvd|ln|ct|pl|way|cir|ter|trl|hwy|pkwy|sq|loop|cv)\.?)"
    + _WS + r"[a-z])",
    r"\b(?:from|to|in|near|of|outside|at)" + _WS + r"{1,2}(?:ft|mt|pt|pte|fort|mount|port"
    r"|point)\.?" + _WS + r"{1,2}(?-i:[A-Z][a-z])",
))
#: The rule, for the rule table.
RULE = FunctionRule("world-forms", TRIGGER, find)
