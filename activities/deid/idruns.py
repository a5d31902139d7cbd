"""Identifiers written as runs of digit groups: ``8841 2210 77``, ``443-221-908``, ``1234.5678``.

Member, policy, claim, account and device numbers are read aloud and typed in groups; no
single group is long enough for the id patterns (``patterns``: 7+ digits, or digits after a
label with no space inside). The form, not an example list:

* a **run**: two or more groups of digits (one of 3 digits or more) with one and the same
  separator between them (a space, a dot or a dash, at most two spaces), not touching a
  letter, a digit, ``/``, ``:`` or another separator run on either side (``120/80``,
  ``14:30``, ``0.03 0.04`` and ``v2.3.1`` are no runs; a mixed ``2.0-3.0`` neither);
* **typed by shape**: 3-2-4 digits is an SSN; a year, month and day in the order the
  English world writes them (``2023 03 14``, ``14 03 2023``) a date; anything else an id,
  ``[MRN]`` after a medical-record cue (``MRN``, ``chart``, ``medical record``), ``[ID]``
  otherwise;
* **kept** (an identifier): with an id cue in the few words before it, on the same clause
  (``member``, ``policy``, ``claim``, ``account``, ``serial``, ``device``, ``plate``,
  ``auth``, ``ref``, ``confirmation``, ``card``, ``id``, ``#``, ``no.``…) when it holds 5
  digits or more; without a cue when it holds 8 digits or more, one group has 4 or more,
  and it is none of the numbers clinicians write in groups: a drug code after its name or
  in an NDC shape (4-4-2, 5-3-2, 5-4-1, 5-4-2 with dashes), a code after ``CPT``, ``ICD``,
  ``LOINC``…, a series of years (``2019 2020 2021``) or of clock times (``0800 1400
  2000``), a number grouped in thousands (``1 250 000``), or a run a unit follows (``250
  000/uL``, ``1 500 mL``), or a telephone number valid in a plan the telephone rule
  knows (``07400 123456``: that rule's, which runs first in the scrubber);
* **the rest of a run** an earlier pass cut (the scrubber's patterns and telephone rule
  run first: ``Claim no. [PHONE] 57``, ``[MRN].5678.90``, ``[DATE].678`` after a dotted
  date, ``000-[DATE]``, ``[IP].123`` after four dotted groups): the mark and the groups
  before or after it become one ``[ID]``, unless a unit, an age or a duration follows (a
  date or an IP address takes more groups only after a dot or a dash).

Python ``re`` with look-around, on the folded text, through the rule table
(``rules.RULES``, ``External``); ``TRIGGER`` selects its texts.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import phone
from medpipe.activities.deid.textrule import FunctionRule
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

#: A run of digit groups (the separator checked for sameness after the match).
RUN = re.compile(r"(?<![A-Za-z0-9/:.,-])[0-9]{1,6}(?:(?: {1,2}|[.-])[0-9]{1,6}){1,5}"
                 r"(?![A-Za-z0-9/:]|[.,-][0-9])")
_SEP = re.compile(r" {1,2}|[.-]")
#: An id cue at the end of the text before a run (checked on the lower-case window).
_CUE = re.compile(
    r"(?:^|[^a-z])(mrn|mr|chart|medical\s{1,2}record|med\s{1,2}rec|id|ids|identifier|no|num"
    r"|number|#|account|acct|member|subscriber|policy|group|grp|claim|auth|authorization"
    r"|ref|reference|confirmation|conf|card|plate|tag|device|serial|s/n|sn|case|order"
    r"|ticket|tracking|certificate|cert|licen[cs]e|lic|dl|passport|badge|benefit|medicaid"
    r"|medicare|insurance|ins|payer|subscriber|pin|acc|accession|specimen|requisition"
    r"|voucher|permit|registration|reg|vin|imei|mac|npi|dea|employee|student|visa)\b"
    r"(?:\s{0,2}(?:is|was|no|num|number|#|id|on\s{1,2}file|:))*[\s#:.=-]{0,4}$")
_MRN_CUE = frozenset({"mrn", "mr", "chart", "medical record", "med rec"})
#: Words before a run that make it a code or a count, not an identifier.
_NOT_ID_BEFORE = re.compile(
    r"(?:^|[^a-z])(?:ndc|cpt|hcpcs|icd(?:-?10|-?9)?(?:-cm)?|loinc|snomed|rxnorm|codes?|dx"
    r"|version|ver|v|build|firmware|lot|batch|exp|range|ref\s{1,2}range|between|from|to"
    r"|x)\b[\s#:.=-]{0,4}$")
#: What after a run makes it a quantity: a unit, a percent, a per-something.
_UNIT_AFTER = re.compile(
    r"\s{0,2}(?:%|/|x\b|mg|mcg|g\b|kg|lbs?|ml|l\b|cc|units?|iu|meq|mmol|mmhg|cm|mm|ft|in\b"
    r"|cells|copies|steps|calories|kcal|dollars|usd|\$|times|doses|tabs?|tablets|caps)",
    re.IGNORECASE)
#: Where a clause ends: a semicolon, a line break, a full stop before a capital ("no." stays).
_CLAUSE_END = re.compile(r"[;\n]|[.!?]\s+(?=[A-Z])")
_NDC_SHAPES = frozenset({(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)})


def _is_year(g: str) -> bool:
    return len(g) == 4 and g[:2] in ("19", "20")


def _is_time(g: str) -> bool:
    return g == "2400" or (len(g) == 4 and int(g[:2]) < 24 and int(g[2:]) < 60)


def _is_date(groups: list[str]) -> bool:
    """A year, a month and a day, year first or last (day/month in either order)."""
    if len(groups) != 3 or not all(1 <= len(g) <= 4 for g in groups):
        return False
    if _is_year(groups[0]) and len(groups[1]) <= 2 and len(groups[2]) <= 2:
        return 1 <= int(groups[1]) <= 12 and 1 <= int(groups[2]) <= 31
    if _is_year(groups[2]) and len(groups[0]) <= 2 and len(groups[1]) <= 2:
        a, b = int(groups[0]), int(groups[1])
        return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)
    return False


def _thousands(groups: list[str]) -> bool:
    return len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def classify(text: str, start: int, end: int) -> Placeholder | None:
    """The placeholder of the run ``text[start:end]``, or None when it is no identifier."""
    run = text[start:end]
    seps = set(_SEP.findall(run))
    if len(seps) != 1:
        return None
    sep = seps.pop()
    groups = run.split(sep) if sep.strip() else run.split()
    digits = sum(len(g) for g in groups)
    shape = tuple(len(g) for g in groups)
    if shape == (3, 2, 4):
        return Placeholder.SSN
    if max(shape) < 3:  # "1 2 3 4 5", "12-14 10-12": counts and ranges
        return None
    window = text[max(0, start - 40):start]
    ends = [m.end() for m in _CLAUSE_END.finditer(window)]
    before = window[ends[-1] if ends else 0:].lower()
    if _NOT_ID_BEFORE.search(before):
        return None
    if sep.strip() == "" and _is_date(groups):
        return Placeholder.DATE
    cue = _CUE.search(before[-28:])
    if cue is not None and digits >= 5:
        word = re.sub(r"\s+", " ", cue.group(1))
        return Placeholder.MRN if word in _MRN_CUE else Placeholder.ID
    if cue is not None or digits < 8 or max(shape) < 4:
        return None
    if sep == "-" and shape in _NDC_SHAPES:
        return None
    if all(_is_year(g) for g in groups) or all(_is_time(g) for g in groups):
        return None
    if _thousands(groups) or _UNIT_AFTER.match(text, end):
        return None
    if phone.RULE.find(run):  # a national telephone number: the telephone rule's, as in
        return None           # the scrubber, where that rule runs first
    return Placeholder.ID


#: The groups an earlier pass left after the part of a run it took ("Claim no. [PHONE] 57",
#: "[MRN].5678.90"): the mark and the groups become one id, unless a unit, an age or a
#: count follows them ("MR#: [MRN] 90 year old").
_G = r"[0-9]{1,6}"
#: A mark an earlier pass put over part of a run; the groups left before and after it.
MARK = re.compile(r"\[(MRN|ID|PHONE|SSN|DATE|IP)\]")
_HEAD_ANY = re.compile(r"(?<![A-Za-z0-9/:.,-])(?:" + _G + r"[.-]|[0-9]{3,6} {1,2})+\Z")
_HEAD_DOT = re.compile(r"(?<![A-Za-z0-9/:.,-])(?:" + _G + r"[.-])+\Z")
#: After an id cue, short groups before a mark are the run's too ("Member ID 00 [PHONE]",
#: where the patterns read "001 00 00" as a number dialled with 00).
_HEAD_CUED = re.compile(r"(?<![A-Za-z0-9/:.,-])(?:" + _G + r"(?:[.-]| {1,2}))+\Z")
_TAIL_ANY = re.compile(r"(?:(?: {1,2}|[.-])" + _G + r")+(?![A-Za-z0-9/:]|[.,-][0-9])")
_TAIL_DOT = re.compile(r"(?:[.-]" + _G + r")+(?![A-Za-z0-9/:]|[.,-][0-9])")
_NOT_TAIL_AFTER = re.compile(
    r"\s{0,2}-?\s{0,2}(?:years?|yrs?|y/?o|yo\b|y\.o|months?|weeks?|days?|hours?|min|%|/)",
    re.IGNORECASE)


def _beside_marks(folded: str) -> list[Span]:
    """The groups left before or after a mark, with the mark, as one ``[ID]``."""
    out: list[Span] = []
    for m in MARK.finditer(folded):
        # a date, an IP address or an SSN (the patterns' 3-2-4, written with dashes, dots or
        # spaces) is whole in itself: only a dot or a dash joins more groups to it ("[SSN] 1"
        # is an SSN and a count, as the one-text path reads "123-45-6789 1")
        dotted = m.group(1) in ("DATE", "IP", "SSN")
        head = (_HEAD_DOT if dotted else _HEAD_ANY).search(folded, max(0, m.start() - 40),
                                                              m.start())
        if not dotted:
            head = _cued_head(folded, m.start()) or head
        tail = (_TAIL_DOT if dotted else _TAIL_ANY).match(folded, m.end())
        if head is None and tail is None:
            continue
        if tail is not None and (_UNIT_AFTER.match(folded, tail.end())
                                 or _NOT_TAIL_AFTER.match(folded, tail.end())):
            continue
        out.append((head.start() if head else m.start(), tail.end() if tail else m.end(),
                    Placeholder.ID))
    return out


def _cued_head(folded: str, mark: int) -> re.Match[str] | None:
    """The groups before a mark, short ones too, when an id cue comes before them."""
    head = _HEAD_CUED.search(folded, max(0, mark - 40), mark)
    if head is None:
        return None
    before = folded[max(0, head.start() - 28):head.start()].lower()
    return head if _CUE.search(before) and not _NOT_ID_BEFORE.search(before) else None


def find(folded: str) -> list[Span]:
    """Spans of the id-like digit-group runs of a folded text."""
    out: list[Span] = []
    if "]" in folded:
        out += _beside_marks(folded)
    for m in RUN.finditer(folded):
        ph = classify(folded, m.start(), m.end())
        if ph is not None:
            out.append((m.start(), m.end(), ph))
    return out



#: A digit, and the separators of ``RUN`` (one or more of them: a superset, and short).
_D, _S = r"\d", r"[ .-]+"
#: A run ``classify`` can keep: 5 digits or more and a group of 3 or more (the 3-2-4 of an
#: SSN and a date are three groups, a cued id has 5 digits, an uncued one 8). So two groups
#: of 5 digits or more, one of 3 or more (3+2, 4+1, 1+4, 2+3: every such pair holds one of
#: these), or three groups, one of 3 or more (3-1-1, 1-3-1, 1-1-3: any longer run holds
#: one, its long group and those beside it); each written after its first digit.
_KEPT_RUN = (_D + "(?:" + "|".join((
    _D + "{2}" + _S + _D + "{2}", _D + "{3}" + _S + _D, _S + _D + "{4}", _D + _S + _D + "{3}",
    _D + "{2}" + _S + _D + _S + _D, _S + _D + "{3}" + _S + _D, _S + _D + _S + _D + "{3}"))
             + ")")
#: A mark with a group beside it (``_beside_marks``), told by the mark's last or first
#: letters (a superset): ``[MRN]``, ``[ID]``, ``[PHONE]`` with a space, a dot or a dash
#: between; ``[DATE]``, ``[IP]``, ``[SSN]`` with a dot or a dash.
_BESIDE_MARK = (r"(?:id|rn|ne)\]" + _S + _D + r"|(?:te|ip|sn)\][.-]" + _D + "|" + _D + _S
                + r"\[[imp]|" + _D + r"[.-]\[[dis]")
#: A superset of the texts ``find`` finds something in (RE2, case-insensitive). A decimal
#: (``weight 101.3``, ``temp 100.4``: 3+1 digits) is no run ``find`` keeps; it was selected
#: (any group of 3 digits beside another), 5 % of ``bench/datastages.py``'s scrubbed notes,
#: in which the rule finds nothing. Short enough (``rules._SHORT``) to join the alternation
#: of the short triggers.
TRIGGER = _KEPT_RUN + "|" + _BESIDE_MARK
#: The rule, for the rule table.
RULE = FunctionRule("id-runs", TRIGGER, find)
