"""An SSN named by its cue, in the written forms the SSN patterns do not read.

The patterns take an SSN by its 3-2-4 shape anywhere (``123-45-6789``, ``123 45 6789``) and
nine digits right after ``SSN``/``social security``; ``forms.SSN_LAST4`` takes the last four
after ``last 4 of SSN`` or ``SSN ending in`` and the masked ``xxx-xx-6789``. A clerk's note
also writes a word of checking between the cue and the number, or the cue after it (45 CFR
164.514(b)(2)(i)(G): a social security number, whole or in part):

* **cue first** (``forms.SSN_WORD``: ``SSN``, ``ss#``, ``social security no.``, ``soc
  sec``), then up to three words of checking or of which digits (``verified``,
  ``confirmed``, ``checked``, ``on file``, ``last 4``, ``ending in``, ``is``, ``as``…), then
  nine digits, a 3-2-4 run, a masked run (``***-**-6789``) or four digits: ``SSN verified
  123456789``, ``SSN checked: 6789``, ``ssn last4 6789``;
* **cue after** the number: ``123456789 (SSN)``, ``6789 (last 4 of SSN) confirmed``,
  ``123-45-6789 is her social security number``.

Four digits need ``SSN``, ``ss#``, ``social security`` or ``soc sec`` (not ``ss`` or
``social`` alone: ``ss 1000``, ``social 2019``); a unit, a decimal or a slash after the number
makes it no SSN. ``last 4 doses`` (no cue), ``MRN 123456789`` (another label), ``ext 6789``
(a phone's extension) stay. Only the number is replaced; the cue stays (``SSN verified
[SSN]``). Python ``re`` on the folded text, through the rule table (``rules.MODULES``);
``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid.forms import SSN_WORD
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: Words between the cue and the number: checking, holding, which digits.
_BETWEEN = (
    r"(?:verified|confirmed|checked|validated|reviewed|obtained|provided|given|entered"
    r"|updated|listed|reads|on[ \t]{1,2}file|is|was|as|of|#|no\.?|number|num"
    r"|last[ \t]{0,2}(?:4|four)(?:[ \t]{1,2}digits)?|ending(?:[ \t]{1,2}(?:in|with))?"
    r"|ends[ \t]{1,2}(?:in|with))"
)
_SEP = r"[ \t:#=(),-]{0,4}"
#: Nine digits, a 3-2-4 run (any one separator), a masked 3-2-4 run, or four digits.
_NUMBER = (
    r"(?<![A-Za-z0-9])([0-9]{9}|[0-9]{3}(?P<sep>[-. ])[0-9]{2}(?P=sep)[0-9]{4}"
    r"|(?:[xX]{3}|\*{3})[-. ]?(?:[xX]{2}|\*{2})[-. ]?[0-9]{4}|[0-9]{4})"
    r"(?![0-9]|[.,/:][0-9]|[ \t]{0,2}(?:%|mg|mcg|ml|units?|hrs?|hours?|min|days?|x\b)"
    r"|[A-Za-z])"
)
#: The cues an SSN may be followed by (stricter than ``SSN_WORD``: no ``ss``, no ``social``
#: alone), in ``CUE_AFTER`` and where ``find`` looks for it (``_AFTER``).
_CUE_AFTER = r"ssn|s\.s\.n\.?|social[ \t]{1,2}security|soc\.?[ \t]{0,2}sec"
CUE_FIRST = re.compile(
    r"(?<![A-Za-z])(" + SSN_WORD + r")(?:" + _SEP + _BETWEEN + r"){0,3}" + _SEP + _NUMBER,
    re.IGNORECASE,
)
CUE_AFTER = re.compile(
    _NUMBER + r"[ \t]{0,2}[(,-]?[ \t]{0,2}(?:(?:is|was|as)[ \t]{1,2})?"
    r"(?:(?:the|his|her|pt'?s|patient'?s)[ \t]{1,2}){0,2}(?:last[ \t]{0,2}(?:4|four)"
    r"(?:[ \t]{1,2}digits)?(?:[ \t]{1,2}of)?[ \t]{1,2}(?:the[ \t]{1,2})?)?"
    r"(" + _CUE_AFTER + r")(?![a-z])",
    re.IGNORECASE,
)
#: Where a cue may open (``CUE_FIRST``) and the cue after a number (``CUE_AFTER``'s last
#: group), and how far before that cue the number may start.
_LEAD = re.compile(r"s(?:s|\.s|oc)", re.IGNORECASE)
_AFTER = re.compile(r"(?:" + _CUE_AFTER + r")(?![a-z])", re.IGNORECASE)
_AFTER_REACH = 90
#: Cues too loose for four digits alone (``ss`` is also a sliding scale).
_LOOSE = re.compile(r"(?:ss|social)\Z", re.IGNORECASE)


def find(folded: str) -> list[Span]:
    """Spans of SSNs (the number only) with their cue before or after them.

    Both patterns open with a look-behind, which ``re`` would try at every position of the
    text: each is matched only where its cue stands (``_LEAD``, ``_AFTER``: patterns that
    open with a letter, which ``re`` skips to).
    """
    out: list[Span] = []
    end = 0
    for lead in _LEAD.finditer(folded):
        if lead.start() < end:
            continue
        m = CUE_FIRST.match(folded, lead.start())
        if m is None:
            continue
        end = m.end()
        if len(m.group(2)) == 4 and _LOOSE.match(m.group(1).strip()):
            continue
        out.append(_digits(folded, m.start(2), m.end(2)))
    for cue in _AFTER.finditer(folded):
        pos = max(0, cue.start() - _AFTER_REACH)
        while (m := CUE_AFTER.search(folded, pos, cue.end())) is not None:
            if m.end() == cue.end():  # the number before this cue (not an earlier one's)
                out.append(_digits(folded, m.start(1), m.end(1)))
                break
            pos = m.start() + 1
    return out


def _digits(folded: str, start: int, end: int) -> Span:
    """The span of a number; of a masked one (``xxx-xx-6789``) its four digits only (the
    mask is no identifier: ``forms.SSN_LAST4`` keeps it too)."""
    masked = folded[start] in "xX*"
    return (end - 4 if masked else start, end, Placeholder.SSN)


#: A superset of the texts ``find`` finds something in (RE2, case-insensitive), short enough
#: to join the rule table's first alternation (``rules._SHORT``): a cue's letters, then four
#: digits within reach (a masked run ends in them), or four digits then a cue.
TRIGGER = (
    r"(?:^|[^a-z])(?:ss|s\.s|soc)(?s:.){0,100}[0-9]{4}"
    r"|[0-9]{4}(?s:.){0,80}\b(?:ssn|s\.s\.n|social|soc)"
)
#: The rule, for the rule table.
RULE = FunctionRule("ssn-forms", TRIGGER, find)
