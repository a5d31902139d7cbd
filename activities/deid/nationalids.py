"""National and programme identifiers of other countries, where the writer labels them (deid12h).

The patterns know US numbers (SSN, MRN, Medicare) and numbers of seven digits or more; a
writer from Ireland, New Zealand, Mexico, India or South Africa labels the numbers of home:
``PPSN 7549563Z``, ``NZ NHI SGT7307``, ``CURP LBVV541201HTSHMT07``, ``Aadhaar 2345 6789
0123``. Their shapes mix letters and digits, or are shorter than seven digits, so no pattern
holds them. Each is a unique identifying number (45 CFR 164.514(b)(2)(i)(R)); ``[MRN]``:

* a **labelled value** (``LABELS``: the national and programme numbers' names, then ``no``,
  ``number``, ``#`` or a colon when written): one token of 5 to 20 letters and digits with
  two digits or more (OCR's ``O``/``l`` for ``0``/``1`` count as digits), or groups of
  digits with single spaces (``2345 6789 0123``). The label stays;
* a **CURP** without its label: four letters, a birth date's six digits, ``H``/``M``/``X``,
  five letters, a letter or digit and a check digit (18 characters in capitals: no word
  or code of a note has that shape);
* a **record number read off a scan** after a record's label (``Hosp no. 3O03O13``): the
  digits with ``O``/``l`` among them, three characters or more, a digit first and last.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.patterns import _ID_LABEL, _OCR_DIGIT
from medpipe.activities.deid.textrule import WS, FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Names of national and programme numbers (folded, lower case; matched in any case).
LABELS = ("curp", "rfc", "nss", "imss", "pps", "ppsn", "nhi", "aadhaar", "aadhar", "uidai",
          "abha", "uhid", "sa id", "rsa id", "philhealth", "umid", "nino", "ni number", "ihi",
          "ohip", "hcn", "cedula", "bsn", "ahv", "svnr", "personnummer", "nric", "mykad",
          "hkid", "client #", "client no", "client id", "client number")
_LABEL = "|".join(sorted((re.escape(w).replace(r"\ ", r"[ \t.]{1,2}") for w in LABELS),
                         key=lambda w: (-len(w), w)))
#: A label, then ``no``/``number``/``#``/``:`` when written, then the value.
LABELLED = re.compile(
    r"(?<![A-Za-z0-9])(?:" + _LABEL + r")\.?(?:[ \t]{1,2}(?:no|number|num|#)\.?)?"
    r"(?:[ \t]{1,2}|[ \t]{0,2}[:#][ \t]{0,2})"
    r"([A-Za-z0-9][A-Za-z0-9-]{3,19}(?![A-Za-z0-9-])|[0-9]{2,6}(?:[ \t][0-9]{2,6}){1,3}"
    r"(?![0-9]))", re.IGNORECASE)
#: A CURP (Mexico's population register number).
CURP = re.compile(r"(?<![A-Za-z0-9])[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[A-Z0-9][0-9](?![A-Za-z0-9])")
#: A record's label, then a number with OCR's letters among its digits.
SCANNED_RECORD = re.compile(
    r"(?<![A-Za-z0-9])(?:" + _ID_LABEL + r")[ \t.#:-]{1,4}([0-9]" + _OCR_DIGIT + r"{1,18}[0-9])"
    r"(?![A-Za-z0-9])", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of a labelled national or programme number, a CURP, and a scanned record
    number."""
    out: list[Span] = []
    for m in LABELLED.finditer(folded):
        value = m.group(1)
        if sum(c.isdigit() for c in value) >= 2:
            out.append((m.start(1), m.end(1), Placeholder.MRN))
    out += [(m.start(), m.end(), Placeholder.MRN) for m in CURP.finditer(folded)]
    for m in SCANNED_RECORD.finditer(folded):
        if any(c in "OolI" for c in m.group(1)):
            out.append((m.start(1), m.end(1), Placeholder.MRN))
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): a national
#: number's label and a digit after it; a record's label, then digits with an OCR letter
#: among them; a CURP's letters and digits.
TRIGGER = (r"\b(?:curp|rfc|nss|imss|pps|ppsn|nhi|aadhaa?r|uidai|abha|uhid|(?:sa|rsa)" + WS
           + r"{1,2}id|philhealth|umid|nino|ni" + WS + r"{1,2}number|ihi|ohip|hcn|cedula|bsn|ahv"
           r"|svnr|personnummer|nric|mykad|hkid|client)\b[^0-9]{0,24}[0-9]"
           r"|[0-9][0-9oli]{0,18}(?-i:[OolI])[0-9oli]{0,18}[0-9]"
           r"|[a-z]{4}[0-9]{6}[hmx][a-z]{5}")
#: The rule, for the rule table.
RULE = FunctionRule("national-ids", TRIGGER, find)
