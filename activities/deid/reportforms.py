"""Identifiers as report headers print them: accession and specimen numbers, an age in an
``Age/Sex`` field.

Radiology and pathology systems number their studies and specimens with a prefix, a
two-digit year and a serial (``RAD-24-9591386``, ``S18-24565``, ``SP-24-001234``): the
shape itself is an identifier (45 CFR 164.514(b)(2)(i)(R), "any other unique identifying
number"), with or without its label, so it is taken whole as ``[ID]`` (an earlier pass
may have taken the serial after a label: ``ACCESSION: RAD-24-[MRN]``). A header field
``Age/Sex: 93/F`` (or ``Age/Gender``, ``A/S``) gives the age before the slash: over 89 it
is ``[AGE>89]``, the sex letter stays.

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import WS as _WS
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: A prefix of one to four capitals, a two-digit year, a dash and a serial of 4-8 digits
#: (or the mark an earlier pass put over the serial).
ACCESSION = re.compile(r"\b[A-Z]{1,4}-?[0-9]{2}-(?:[0-9]{4,8}\b|\[(?:MRN|ID|PHONE)\])")
AGE_SEX = re.compile(r"\b(?i:age\s{0,2}/\s{0,2}(?:sex|gender)|a/s)\s{0,2}:?\s{0,3}"
                     r"(9[0-9]|1[01][0-9])\s{0,2}/\s{0,2}(?i:[mfx]|male|female)\b")


def find(folded: str) -> list[Span]:
    """Spans of accession numbers and of ages over 89 in an ``Age/Sex`` field."""
    out: list[Span] = [(m.start(), m.end(), Placeholder.ID) for m in ACCESSION.finditer(folded)]
    out += [(m.start(1), m.end(1), Placeholder.AGE) for m in AGE_SEX.finditer(folded)]
    return out


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive).
TRIGGER = (r"\b[a-z]{1,4}-?[0-9]{2}-(?:[0-9]{4}|\[)"
           r"|\b(?:age" + _WS + r"{0,2}/" + _WS + r"{0,2}(?:sex|gender)|a/s)" + _WS
           + r"{0,2}:?" + _WS + r"{0,3}(?:9|1[01])[0-9]" + _WS + r"{0,2}/")
#: The rule, for the rule table.
RULE = FunctionRule("report-forms", TRIGGER, find)
