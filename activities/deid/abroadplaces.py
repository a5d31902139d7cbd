"""Addresses as writers from Ireland, New Zealand, India and Mexico write them (deid12h).

The place rules read US, UK, Canadian and Australian addresses and the gazetteer's cities.
Writers from elsewhere give the geographic units smaller than a state (45 CFR
164.514(b)(2)(i)(B)) in forms of their own, each with a marker no clinical phrase has:

* an **Eircode** (Ireland's postcode) after its label: a routing key (a letter and two
  digits, or ``D6W``) and a four-character unique identifier (``Eircode D02 NHY3``). Not
  without the label: an ICD-10 code and a TNM stage have the shape (``C50 T2N0``);
* an **Irish county** after ``Co.`` or ``County`` (``Co. Mayo``, ``Co Donegal``): the
  county's name from the list of the island's 32 (a county is smaller than a state); the
  cue stays;
* a **New Zealand rural delivery** address: ``RD``, its number and the town after it
  (``RD 2 Te Awamutu``); a capital first, no weekday, month or visit word (``RD 2 weeks``,
  ``RD 2 Mondays``: a dietitian's) after the number;
* an **Indian locality, city and PIN**: capitalised words (a numbered block or sector among
  them), a comma, a city, a dash and six digits (``Jayanagar 4th Block, Bengaluru -
  560011``); or ``PIN``/``Pin code`` and six digits (the label stays);
* a **Spanish place cue** and the place after it: ``vive en``, ``vivía en``, ``reside en``,
  ``radica en``, ``domicilio en``, ``originario de``, and ``colonia``/``col.``/``fracc.``/
  ``barrio``, then capitalised words (``de``, ``del``, ``la``, ``las``, ``los`` between
  them: ``Lomas de Anza``, ``San Luis Rio Colorado``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: The 32 counties of the island of Ireland (the Republic's 26 and Northern Ireland's 6).
IRISH_COUNTIES = ("Antrim", "Armagh", "Carlow", "Cavan", "Clare", "Cork", "Derry", "Donegal",
                  "Down", "Dublin", "Fermanagh", "Galway", "Kerry", "Kildare", "Kilkenny",
                  "Laois", "Leitrim", "Limerick", "Londonderry", "Longford", "Louth", "Mayo",
                  "Meath", "Monaghan", "Offaly", "Roscommon", "Sligo", "Tipperary", "Tyrone",
                  "Waterford", "Westmeath", "Wexford", "Wicklow")
_CAP = r"(?-i:[A-Z][A-Za-z'-]+)"
_EIR_UNIQUE = r"(?-i:[0-9AC-FHKNPRTV-Y]{4})"
EIRCODE = re.compile(
    r"(?<![A-Za-z0-9])eircode[ \t]{0,2}[:#-]?[ \t]{0,2}((?-i:(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W))"
    r"[ \t]?" + _EIR_UNIQUE + r")(?![A-Za-z0-9])", re.IGNORECASE)
#: A weekday or a month after ``RD 2`` is a dietitian's visit, not a town.
_NOT_TIME = (r"(?!(?i:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov"
             r"|dec|week|day|month|hour|visit|review)[a-z]*\b)")
COUNTY = re.compile(r"(?<![A-Za-z])(?-i:Co\.?|CO\.|County)[ \t]{1,2}((?-i:"
                    + "|".join(IRISH_COUNTIES) + r"))(?![A-Za-z])")
RURAL_DELIVERY = re.compile(r"(?<![A-Za-z0-9])(?-i:RD)[ \t]?[0-9]{1,2}[ \t]{1,2}" + _NOT_TIME
                            + _CAP + r"(?:[ \t]" + _CAP + r")?(?![A-Za-z])")
_LOCAL_WORD = r"(?:" + _CAP + r"|[0-9]{1,2}(?:st|nd|rd|th)?)"
INDIAN_PIN = re.compile(
    r"(?<![A-Za-z0-9])" + _CAP + r"(?:[ \t]" + _LOCAL_WORD + r"){0,3},[ \t]{1,2}" + _CAP
    + r"(?:[ \t]" + _CAP + r")?[ \t]{0,2}-[ \t]{0,2}[1-9][0-9]{5}(?![0-9])"
    r"|(?<![A-Za-z])(?:pin|pin[ \t]?code|pincode)[ \t]{0,2}[:#-]?[ \t]{0,2}([1-9][0-9]{2}"
    r"[ \t]?[0-9]{3})(?![0-9])", re.IGNORECASE)
_PARTICLE = r"(?:de|del|la|las|los|el)"
_PLACE = _CAP + r"(?:[ \t](?:" + _PARTICLE + r"[ \t])?" + _CAP + r"){0,3}"
#: The Spanish verbs and nouns of where one lives, before ``en``/``de``.
_LIVES = r"(?:vive|vivia|viven|vivio|reside|residen|radica|domicilio|originari[oa])"
SPANISH_PLACE = re.compile(
    r"(?<![A-Za-z])(?:" + _LIVES + r"[ \t]{1,2}(?:en|de)|colonia|col\.|fracc\.|fraccionamiento"
    r"|barrio)[ \t]{1,2}(" + _PLACE + r")", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of an Eircode, an Irish county after ``Co.``, a rural delivery address, an
    Indian locality and PIN, and a place after a Spanish place cue."""
    out: list[Span] = []
    for m in EIRCODE.finditer(folded):
        g = 1 if m.group(1) else 2
        out.append((m.start(g), m.end(g), Placeholder.ADDRESS))
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in COUNTY.finditer(folded)]
    out += [(m.start(), m.end(), Placeholder.ADDRESS) for m in RURAL_DELIVERY.finditer(folded)]
    for m in INDIAN_PIN.finditer(folded):  # the PIN's label stays
        g = 1 if m.group(1) else 0
        out.append((m.start(g), m.end(g), Placeholder.ADDRESS))
    out += [(m.start(1), m.end(1), Placeholder.ADDRESS) for m in SPANISH_PLACE.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"eircode|\bco\.?" + WS + r"{1,2}[a-z]|\bcounty"
           r"|rd" + WS + r"?[0-9]{1,2}" + WS + r"{1,2}[a-z]"
           r"|-" + WS + r"{0,2}[1-9][0-9]{5}|\bpin"
           r"|" + _LIVES + WS + r"{1,2}(?:en|de)|colonia|col\.|fracc|barrio")
#: The rule, for the rule table.
RULE = FunctionRule("abroad-places", TRIGGER, find)
