"""Reference numbers whose shape says "an identifier" without a label (deid12f).

45 CFR 164.514(b)(2)(i)(R) takes any other unique identifying number. Two shapes are one
whatever cue stands before them:

* a **case reference**: a service's letters, a year and a serial, joined by ``/`` or ``-``
  (``PALS/2024/7702``, ``INC-2023-004417``, ``DATIX/2019/12345``), as complaints,
  incident, safeguarding and legal teams number their cases. The letters are capitals
  (two to eight), the year 1900-2099, the serial three to eight digits; ``BTS/2017`` (a
  guideline's year), ``ICD-10``, ``NG/2019/12`` stay;
* the **version code of a health card** (``4478-810-684-VE``: Ontario's ten digits and
  two letters): the digits are a number the patterns take (``[PHONE]``, ``[ID]``); the
  letters glued to it by a hyphen belong to it and go too, in the raw text and after a
  placeholder (``[ID]-VE``).

Python ``re`` on the folded text, through the rule table (``rules.MODULES``); ``TRIGGER``
selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Capitals, a year and a serial, one separator kind throughout.
CASE_REF = re.compile(r"(?<![A-Za-z0-9/-])[A-Z]{2,8}([/-])(?:19|20)[0-9]{2}\1[0-9]{3,8}"
                      r"(?![A-Za-z0-9]|[/-][0-9])")
#: A health card's ten digits (4-3-3) and its version code, or the code after the number's
#: placeholder.
VERSION_CODE = re.compile(
    r"(?<![A-Za-z0-9-])[0-9]{4}-[0-9]{3}-[0-9]{3}-[A-Z]{2}(?![A-Za-z0-9])"
    r"|(?:(?<=\[ID\]-)|(?<=\[MRN\]-)|(?<=\[PHONE\]-))[A-Z]{2}(?![A-Za-z0-9])")


def find(folded: str) -> list[Span]:
    """Spans of a case reference and of a health card's number with its version code."""
    return [(m.start(), m.end(), Placeholder.MRN)
            for pattern in (CASE_REF, VERSION_CODE) for m in pattern.finditer(folded)]


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive): letters, a
#: separator and a year's first digits; three digits, a hyphen and two letters, or a
#: placeholder's bracket and a hyphen before two letters.
TRIGGER = (r"[a-z]{2}[/-](?:19|20)[0-9]{2}[/-][0-9]{3}"
           r"|(?:[0-9]{3}|\])-[a-z]{2}")
#: The rule, for the rule table.
RULE = FunctionRule("ref-shapes", TRIGGER, find)
