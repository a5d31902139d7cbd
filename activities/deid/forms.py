"""Identifiers that a word next to them gives away, in forms the other rules lack.

Each rule is a grammar of how clinicians and clerks write one kind of
identifier, with the cue that makes it one; only the identifier is replaced,
the cue stays ("last 4 of SSN [SSN]", "plate [MRN]"):

* the **last four digits of an SSN** (``last 4 of SSN 1234``, ``SSN ending
  in 1234``, ``xxx-xx-1234``);
* an **age over 89** after a verb or a cue (``turned 93``, ``is now 95``,
  ``pt is 96``) or spelled out (``ninety-six``) without "years" after it,
  unless a unit follows (``ninety minutes``, ``95 %``);
* a **misspelled month** (``Febuary 9 1934``, ``Decmber 3rd``): a word one
  or two edits from a month name, same first letter, followed by a day and
  a year or an ordinal day;
* an **identifier after its noun**: a licence, plate, tag, VIN, serial,
  run/incident/case/claim/policy number... then a token of letters, digits
  and dashes holding at least three digits (``DL X070-4999-6228``,
  ``plate 7VUX335``, ``PCR # 2024-0071439``), marked ``[ID]`` (a known
  value of an id column at the same place keeps its own mark);
* a **county** (``Kern County``, ``Lackawanna Co.``), a **unit** right after
  an address already replaced (``[ADDRESS] #268``, ``[ID] Lot 42``) and a
  **street address written in lower case** (``5992 s maple hollow ct #515``:
  an abbreviated suffix, or a full one followed by a unit);
* the four digits of a **ZIP+4** after the ZIP code already replaced;
* **names by role or by relation to the patient**: after a role no title list
  holds (``Hygienist Brittany``, ``Medic N. Planeta``), in lower case after
  ``dr.`` (``per dr. barrett``), a nickname (``goes by "Bud"``, ``prefers to
  be called Sonny``), an employer (``works nights at Honkanen
  Landscaping``), a contact written ``LAST, FIRST`` after a contact header
  (``EC: SKROBEK, FERINAZ``), a capitalized word between ``patient`` and a
  verb (``Patient Canva reports``), a capitalized word right after a name
  already replaced (``[NAME] Ochab``: the known given name of another
  patient, then a family name no list holds).

From blind-test's misses (general forms, not its strings): a **month-day with
a dash** (``changed on 03-15``, not ``10-12 weeks``); an **age in
parentheses after its person** (``Mother of pt (96)``); ``Last, First`` in
mixed case after a **signature or proxy header** (``Electronically signed:
Novak, Jana MD``); **initials after a credential** (``RN JK notified``); a
**city before the hospital it names** (``from Eau Claire Regional Medical
Center``); ids written in **spaced groups** (``licence no. WJ 941 467``).
``is_score`` tells the context engine which ``n/n`` are scores (``Pain 6/10,
improved to 3/10``, ``Apgars 8/9``). CPU per text on the bench corpus
(gate + regex, this machine under load): parenthesized age 1.0 µs, dash date
2.2 µs, facility city 1.7 µs, signature header 9.8 µs, initials 4.7 µs,
``is_score`` 8.0 µs over every ``n/n``.

Python ``re`` (look-around), run with the context rules on the texts the
name prefilter selects (``CANDIDATE`` is part of it) and by the residual
check through the same path.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import (
    cityforms,
    cues,
    dateparts,
    grammar,
    idruns,
    nameforms,
    placeforms,
)
from medpipe.activities.deid.words import NOT_NAMES
from medpipe.contracts.pseudonymize import Placeholder

Span = tuple[int, int, Placeholder]

_I = re.IGNORECASE
#: How an SSN is named (``SSN``, ``ss#``, ``social security no.``, ``soc sec``).
SSN_WORD = (r"(?:ssn|ss\s?#|ss|s\.s\.n\.?|social(?:\s{1,2}security)?(?:\s{1,2}(?:number|no\.?"
             r"|#))?|soc\.?\s{0,2}sec\.?)")
SSN_LAST4 = re.compile(
    r"\blast\s{1,2}(?:4|four)(?:\s{1,2}digits)?(?:\s{1,2}of)?(?:\s{1,2}(?:the|pt'?s|his|her))?"
    r"\s{0,2}" + SSN_WORD + r"[\s:#-]{0,4}([0-9]{4})\b"
    r"|\b" + SSN_WORD + r"\s{0,2}#?\s{0,2}(?:ending|ends|last\s{1,2}(?:4|four))"
    r"(?:\s{1,2}(?:in|with|of))?[\s:#-]{0,4}([0-9]{4})\b"
    r"|(?<![a-z0-9])(?:x{3}|\*{3})[-. ]?(?:x{2}|\*{2})[-. ]?([0-9]{4})\b", _I)

_AGE_NUM = r"(9[0-9]|1[01][0-9])"
_UNIT_AFTER = (r"(?![.,]?[0-9])(?!\s{0,2}-?\s{0,2}(?:%|percent|mg|mcg|kg|g\b|lbs?|pounds|min"
               r"|minutes?|secs?|seconds?|hours?|hrs?|days?|weeks?|months?|mmhg|bpm|beats"
               r"|breaths|degrees|deg|cm|mm|ml|cc|units?|times|tabs?|tablets?|pills?|feet|ft"
               r"|meters|miles|dollars|cents|mph|/))")
#: An age over 89, 90-119 (opens with its first digit so that ``re`` skips to the numbers;
#: ``(?<=9)``/``(?<=1)`` pick the tens that go with it: not 10-19, not 900-919) and the cue
#: that must come before it (``AGE_CUE_BEFORE``).
AGE_CUED = re.compile(r"[19](?<![A-Za-z0-9][19])(?:(?<=9)[0-9]|(?<=1)[01][0-9])\b"
                      + _UNIT_AFTER)
AGE_CUE_BEFORE = re.compile(
    r"\b(?:turned|turns|turning|will\s{1,2}be|(?:pt|patient|she|he)\s{1,2}is|who\s{1,2}is)"
    r"\s{1,3}$", _I)
_ONES = r"(?:one|two|three|four|five|six|seven|eight|nine)"
AGE_WORDS = re.compile(
    r"\b(ninety(?:[\s-]" + _ONES + r")?|one\s{1,2}hundred(?:\s{1,2}(?:and\s{1,2})?(?:"
    + _ONES + r"|ten))?)\b" + _UNIT_AFTER, _I)

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_MONTHS_SET = frozenset(MONTHS) | frozenset(m[:3] for m in MONTHS) | {"sept"}
#: Opens with the first letters months have, so that ``re`` skips to those letters.
MONTH_LIKE = re.compile(
    r"([JFMASONDjfmasond](?<![A-Za-z][JFMASONDjfmasond])[A-Za-z]{3,9})\.?\s{1,3}(?:0?[1-9]|[12][0-9]|3[01])(st|nd|rd|th)?\b"
    r"(,?\s{1,3}(?:19|20)[0-9]{2}\b)?")

_ID_NOUNS = (r"(?:dl|d/l|driver'?s?\s{1,2}licen[cs]e|licen[cs]e|lic|plate|tag|vin|serial"
             r"|s/n|sn|pcr|run|incident|case|claim|policy|member|group|account|acct|badge"
             r"|employee|permit|passport|certificate|cert|device|registration|reg"
             r"|tracking|confirmation|reference|ref|ticket|voucher|id)")
#: What may stand between the noun and its id: a number's word, or a serial's (``Device SN
#: PJN130265H``, ``pump serial #``: a second noun, which the id's group would otherwise take
#: for the id and drop for its lack of digits; deid12e).
ID_QUALIFIERS = r"(?:no|num|number|#|id|sn|s/n|serial)"
#: Matched on the lower-case text; a noun must start a word (a noun inside a word, ``id`` in
#: ``aid s/n 2083A9914``, took the qualifier and the id with it, then was dropped by
#: ``word_starts``: the look-behind is also faster than those drops, 19 -> 12 us a note).
#: The id is never a noun itself: in ``license plate 7VUX335`` and ``license DL X070-…``
#: the first noun took the second for its id, found no digit in it, and the id stayed.
ID_AFTER_NOUN = re.compile(
    r"(?<![a-z0-9])" + _ID_NOUNS + r"\b\.?(?:\s{0,2}" + ID_QUALIFIERS + r"\b\.?)?[\s#:.-]{0,4}"
    r"(?!" + _ID_NOUNS + r"\b)"
    r"((?=[a-z0-9 -]*[0-9][a-z0-9 -]*[0-9][a-z0-9 -]*[0-9])[a-z0-9]+(?:-[a-z0-9]+|\s[0-9]{2,6}\b)"
    r"{0,4})\b")

COUNTY = re.compile(r"\b((?-i:[A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?:\s(?-i:[A-Z][a-z]+)){0,2}"
                    r"\s(?:County|Co\.|Parish|Borough))"
                    r"|\[ADDRESS\]\s(County|Co\.|Parish|Borough)\b")
UNIT_AFTER_MARK = re.compile(
    r"\[(?:ADDRESS|ID)\],?\s{1,2}((?:apt|apartment|unit|suite|ste|lot|space|bldg|building|rm"
    r"|room|fl|floor|trlr)\.?\s{0,2}#?\s{0,2}[0-9]{1,5}[a-z]?\b|#\s{0,2}[0-9]{1,5}[a-z]?\b)"
    r"(?:\s{1,2}#\s{0,2}[0-9]{1,5}[a-z]?\b)?", _I)
_ABBR_SUFFIX = (r"(?:st|rd|dr|ave|av|blvd|ln|ct|pkwy|hwy|cir|ter|terr|trl|pl|sq|plz|cres|ln"
                r"|xing|cv|rdg|hts|tpke|expy|fwy|bnd|crk|cyn|holw|lndg|mnr|vw|xrd|gtwy|frst|knl"
                r"|mdws?|pnes?|shr|tunl|trce|blf|brk|gln|grv|hvn|lk|rnch|skwy|spgs?)\.?")
#: The common kinds written out (``grammar.STREET_KINDS``) and a few more: a unit after
#: the street is asked for (``_UNIT``), which says "a street" as a number before it would.
_FULL_SUFFIX = ("(?:" + "|".join(full for full, *_ in grammar.STREET_KINDS)
                + "|square|plaza|crescent|cove|ridge|heights)")
_UNIT = (r"(?:apt|apartment|unit|suite|ste|lot|space|bldg|trlr|#)\.?\s{0,2}#?\s{0,2}"
         r"[0-9]{1,5}[a-z]?\b")
#: Words that are no street name ("20 units per dr", "2 tabs by mouth").
NOT_STREET = (r"(?!(?:mg|mcg|units?|tabs?|caps?|min|mins|minutes|hours?|hrs?|days?|weeks?"
               r"|times|per|by|to|of|for|at|and|with|from|the|in|on|x|or|as)\b)")
LOWER_ADDRESS = re.compile(
    r"[0-9](?<![A-Za-z0-9][0-9])[0-9]{1,5}\s{1,2}(?:[nsew]\.?\s{1,2})?"
    r"(?:" + NOT_STREET + r"[a-z][a-z'-]{1,20}\s{1,2}){1,3}"
    r"(?:" + _ABBR_SUFFIX + r"(?![a-z])(?:\s{0,2},?\s{0,2}" + _UNIT + r")?|" + _FULL_SUFFIX
    + r"\s{0,2},?\s{0,2}" + _UNIT + r")")

_CAPWORD = r"[A-Z](?:\.|[A-Za-z'-]*[a-z][A-Za-z'-]*)"
_NAME_RUN = _CAPWORD + r"(?:\s{1,2}" + _CAPWORD + r"){0,2}"
#: Roles no title list holds, by their last word ("social worker" → "worker").
ROLES = frozenset(
    "hygienist medic paramedic emt emt-b emt-p pharmacist pharmd technician tech therapist "
    "counselor counsellor worker sw aide cna lpn midwife doula chaplain volunteer interpreter "
    "dentist assistant driver partner scribe coach teacher caseworker manager preceptor "
    "student fob chaperone sitter translator landlord landlady roommate "
    # the operating room's staff, as a time-out or a sign-in names them (deid12d)
    "circulator perfusionist anesthetist anaesthetist crna".split())
DR_LOWER = re.compile(r"\bdr\.?\s{1,2}([a-z][a-z'-]{1,24})\b(?!\s{0,2}[/'])", _I)
NICKNAME = re.compile(
    r"\b(?:goes\s{1,2}by|prefers\s{1,2}to\s{1,2}be\s{1,2}called|known\s{1,2}as|a\.k\.a\.?|aka"
    r"|nicknamed?)\s{0,2}[:\"'(]{0,2}\s{0,2}(" + _NAME_RUN + r")", _I)
EMPLOYER = re.compile(
    r"\b(?i:(?:works?|working|worked|employed|job|shifts?|employee)(?:\s{1,2}[a-z]+){0,2}"
    r"\s{1,2}(?:at|for|by|with)|employer\s{0,2}[:=-]|employed\s{1,2}by)\s{1,2}"
    r"((?:" + _CAPWORD + r"|\[NAME\])(?:\s{1,2}(?:&|and|of|\[NAME\]|" + _CAPWORD + r")){0,4})")
#: ``LAST, FIRST`` in capitals (opens with a capital so that ``re`` skips to the candidates);
#: a contact header must come right before it (``HEADER_BEFORE``).
CONTACT_CAPS = re.compile(
    r"[A-Z](?<![A-Za-z'-][A-Z])[A-Z'-]+(?:\s[A-Z][A-Z'-]+)?,\s{0,2}"
    r"(?:[A-Z][A-Z'-]+(?:\s[A-Z]\b\.?)?|\[NAME\])")
HEADER_BEFORE = re.compile(
    r"\b(?:ec|e/c|emergency\s{1,2}contact|nok|next\s{1,2}of\s{1,2}kin|contact|proxy|hcp|poa"
    r"|guardian|guarantor|pt|patient|re|name)\s{0,2}[:#-]\s{0,3}$", _I)
#: After a run right after ``patient``/``pt``: a verb in the third person or past.
VERB_AFTER = re.compile(r"\s{1,2}[a-z]{2,}(?:s|ed)\b")
#: A capitalized word right after a name already replaced: its other part ("[NAME] Ochab").
AFTER_NAME = re.compile(r"\[NAME\] ([A-Z][a-z][A-Za-z'-]*)\b(?! ?\[)")
#: The four digits of a ZIP+4 after the ZIP code already replaced ("[ADDRESS]-8438").
ZIP4_AFTER_MARK = re.compile(r"\[ADDRESS\](-[0-9]{4})\b")

#: ``Last, First`` in mixed case after a signature or proxy header ("Electronically signed:
#: Novak, Jana MD", "Health care proxy: Berg, Anders (son)"); opens with a capital.
CONTACT_MIXED = re.compile(
    r"[A-Z](?<![A-Za-z'-][A-Z])[A-Za-z'-]*[a-z][A-Za-z'-]*(?:\s[A-Z][a-z][A-Za-z'-]+)?,\s{0,2}"
    r"(?:[A-Z][a-z][A-Za-z'-]*|\[NAME\])")
SIGNED_BEFORE = re.compile(
    r"\b(?:signed|signed\s{1,2}by|proxy|hcp|poa|contact|ec|nok|guardian|attending|provider"
    r"|physician|surgeon|pathologist|by|from|attn|cc)\s{0,2}[:#-]?\s{0,3}$", _I)
#: Initials after a credential and before a verb ("RN JK notified MD").
INITIALS = re.compile(
    r"\b(?:RN|LPN|CNA|NP|PA|RT|CRNA|EMT|MD|Dr\.?)\s{1,2}([A-Z]{2,3})\b(?=\s{1,2}[a-z]{3,})")
_NOT_INITIALS = frozenset(
    "iv po im sc sq bp hr rr ed er or icu map ng og gt pt ot st slp md do rn np pa prn npo dnr "
    "dni ok cpr ekg ecg cxr ct mri abg cbc bmp cmp ua uds ob gyn ld pacu nicu picu ccu sicu "
    "micu l&d".split())
_CREDENTIALS = ("RN ", "LPN ", "CNA ", "NP ", "PA ", "RT ", "EMT ", "MD ", "Dr")
#: An age over 89 in parentheses after the person it belongs to ("Mother of pt (96)").
AGE_PAREN = re.compile(r"\((9[0-9]|1[01][0-9])\)")
AGE_PAREN_BEFORE = re.compile(
    r"\b(?:mother|father|mom|dad|husband|wife|spouse|partner|son|daughter|sister|brother"
    r"|grandmother|grandfather|grandma|grandpa|aunt|uncle|pt|patient|resident)"
    r"(?:\s{1,2}of\s{1,2}(?:the\s{1,2})?(?:pt|patient))?\s{0,2}$", _I)
#: A month and a day in two digits each between dashes ("changed on 03-15"), not a range
#: of a quantity ("10-12 weeks"); opens with the month's first digit.
MONTH_DAY_DASH = re.compile(
    r"[01](?<![A-Za-z0-9./-][01])(?:(?<=0)[1-9]|(?<=1)[0-2])-(?:0[1-9]|[12][0-9]|3[01])\b"
    r"(?![-/.]?[0-9])" + _UNIT_AFTER.replace("(?![.,]?[0-9])", "")
    + r"(?!\s{0,2}(?:yrs?|years?|y/o|yo|wks?|h\b|hr|am|pm|x\b))")
#: A city written before the hospital it names ("Transfer from Eau Claire Regional Medical
#: Center"): the capitalized run between a place cue and the facility word.
FACILITY_CITY = re.compile(
    r"\b(?:from|to|at|of)\s{1,2}((?:[A-Z][A-Za-z'.-]*|d'[A-Z][a-z]+)(?:\s{1,2}(?:[A-Z][A-Za-z'.-]*"
    r"|d'[A-Z][a-z]+)){0,2})\s{1,2}(?:Regional|Memorial|Community|General|University)\s{1,2}"
    r"(?:Medical|Hospital|Health|Healthcare)\b")

_DAY_YEAR_GATE = re.compile(r"[0-9](?:st|nd|rd|th)\b|[12][09][0-9]{2}\b")
_NICK_STEMS = ("goes by", "be called", "known as", "aka", "a.k.a", "nickname")
_WORK_STEMS = ("works ", "working ", "worked ", "employ", "job ", "shift")
_COUNTY_STEMS = ("county", "co.", "parish", "borough")


#: A superset of the texts a rule here matches, for RE2 (Arrow) prefiltering.
CANDIDATE = (r"(?i:last\s{1,2}(?:4|four)|ending|xxx|\*\*\*|turn|will\s{1,2}be|is\s{1,3}(?:9|1[01])"
             r"|ninety|hundred|county|co\.|parish|borough|\[address\]|\[id\]"
             r"|dr|goes\s{1,2}by|prefers|known|aka|a\.k\.a|nickname|work|job"
             r"|employ|shift|" + "|".join(sorted(ROLES)) + r")"
             r"|[a-z]{4,10}\.?\s{1,3}[0-9]{1,2}(?:st|nd|rd|th|,?\s{1,3}(?:19|20)[0-9]{2})"
             r"|(?i:" + _ID_NOUNS + r")(?i:\s{0,2}(?:no|num|number|#|id)\b\.?)?[\s#:.-]{0,6}"
             r"[A-Za-z0-9-]{0,24}\s?[0-9]"
             r"|[0-9]{2,6}\s{1,2}[a-z]+\s"
             r"|[A-Z]{2,},\s{0,2}(?:[A-Z]{2,}|\[NAME\])|(?i:patient|pt)\s{1,2}[A-Z]"
             r"|\[NAME\] [A-Z][a-z]|\[ADDRESS\]-[0-9]"
             r"|\((?:9[0-9]|1[01][0-9])\)|[01][0-9]-[0-3][0-9]"
             r"|(?i:regional|memorial|community|general|university)"
             r"|(?i:signed|proxy|hcp|poa|attending|provider|physician|surgeon|pathologist|attn|cc"
             r"|by|from|contact|guardian|nok|ec)\s{0,2}[:#-]?\s{0,3}\S+,\s{0,2}(?:[A-Z][a-z]|\[NAME\])"
             r"|\b(?:RN|LPN|CNA|NP|PA|RT|CRNA|EMT|MD|Dr\.?)\s{1,2}[A-Z]{2}"
             r"|" + idruns.TRIGGER + "|(?i:" + dateparts.TRIGGER + ")|(?i:" + cityforms.TRIGGER
             + ")|(?i:" + nameforms.TRIGGER + ")|(?i:" + placeforms.TRIGGER
             + ")")  # the rule modules of ``rules.MODULES`` too


#: A word that makes ``n/10`` a score in the same clause ("Pain 6/10, improved to 3/10").
_SCORE_WORDS = re.compile(
    r"\b(?:pain|score|scored|rated|rates|rating|mood|anxiety|nausea|dyspnea|fatigue|scale"
    r"|vas|nrs)\b|(?<![0-9/])(?:[0-9]|10)/10\b", _I)


_SCORE_NOUN_BEFORE = re.compile(
    r"\b(?:apgars|scores|snellen|grades|strengths|reflexes|pulses|tanner|frankl|ratings)"
    r"\s{0,2}[:=]?\s{0,2}$", _I)


#: A word of an examination scored over a maximum other than 10 (``MRC 4/5 power …, 5/5
#: elsewhere``; deid12g).
_EXAM_WORDS = re.compile(r"\b(?:power|strength|mrc|tone|reflexes|murmur|grade|oxford)\b", _I)
#: A word of visual acuity before a Snellen fraction (``Visual acuity 6/9 right, 6/12 left``;
#: deid12g; not ``VA``, as often Veterans Affairs before a date).
_VISION_WORDS = re.compile(r"\b(?:acuity|snellen|pinhole)\b", _I)
#: A date's word right before a value (``Power 4/5, reviewed on 3/5``): a date after all.
_DATE_WORD_BEFORE = re.compile(r"\b(?:on|since|from|until|till|dated|seen|by|before|after"
                               r"|due|review|reviewed)\s{0,2}:?\s{0,2}$", _I)
#: Snellen's denominators that can be read as a day (``6/5`` to ``6/24``).
_SNELLEN = frozenset({"6/5", "6/6", "6/9", "6/12", "6/18", "6/24"})


def is_score(folded: str, start: int, value: str) -> bool:
    """Whether ``value`` (a month/day at ``start``) is a score, not a date.

    After a plural score noun (``Apgars 8/9``) it is; ``n/10`` is one when a
    score word or another ``n/10`` comes before it in the same clause (no
    ``.`` or ``;`` between); so is ``n/d`` after another ``n/d`` over the same
    maximum and an examination's word in the clause (``MRC 4/5 power …, 5/5
    elsewhere``), and a Snellen fraction after a word of vision in the clause
    (``acuity 6/9 right, 6/12 left``; deid12g); a date otherwise.
    """
    window = folded[max(0, start - 48):start]
    if _SCORE_NOUN_BEFORE.search(window):  # "Apgars 8/9", "Snellen 20/40", "scores 4/5"
        return True
    cut = max(window.rfind("."), window.rfind(";"))
    if value.endswith("/10"):
        return _SCORE_WORDS.search(window, cut + 1) is not None
    clause = window[cut + 1:]
    if _DATE_WORD_BEFORE.search(clause):
        return False
    if value in _SNELLEN and _VISION_WORDS.search(clause):
        return True
    den = value.partition("/")[2]
    return (_EXAM_WORDS.search(clause) is not None
            and re.search(r"(?<![0-9/])[0-9]{1,2}/" + den + r"\b", clause) is not None)


def near_month(word: str) -> bool:
    """Whether ``word`` is a month name misspelled: one or two edits, same first letter."""
    w = word.lower()
    if w in _MONTHS_SET:
        return False
    return any(m[0] == w[0] and abs(len(m) - len(w)) <= 2 and _edits(w, m) <= 2
               for m in MONTHS if len(m) >= 4)


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance (a transposition counts as one edit)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _not_name(word: str) -> bool:
    return word.lower().strip(".") in NOT_NAMES


def _cut(folded: str, start: int, text: str) -> int:
    """The end of ``text`` (at ``start``) up to its first word that is no name."""
    end = start
    for w in re.finditer(r"\S+", text):
        if w.group() in ("&", "and", "of"):
            continue
        if _not_name(w.group()):
            break
        end = start + w.end()
    return end


def find_roles(t: cues.Text) -> list[Span]:
    """Names after a role ("Hygienist Brittany"), after "patient" before a verb."""
    folded = t.folded
    out: list[Span] = []
    for run in t.runs:
        start, text = run.start, run.text
        prev, first = run.prev, text.split(maxsplit=1)
        if len(first) == 2 and (first[0].lower().rstrip(".,:") in ROLES
                                or first[0].lower() in ("patient", "pt")):  # the cue opens it
            prev, start, text = first[0].lower(), run.start + text.index(first[1]), first[1]
        if not (prev.rstrip(".,:") in ROLES or (prev in ("patient", "pt") and " " not in text
                                               and VERB_AFTER.match(folded, run.end))):
            continue
        end = _cut(folded, start, text)
        if end > start:
            out.append((start, end, Placeholder.NAME))
    return out


def _cut_spans(folded: str, rx: re.Pattern[str]) -> list[Span]:
    out: list[Span] = []
    for m in rx.finditer(folded):
        end = _cut(folded, m.start(1), m.group(1))
        if end > m.start(1):
            out.append((m.start(1), end, Placeholder.NAME))
    return out


def find_nickname(t: cues.Text) -> list[Span]:
    """A nickname ("goes by \"Bud\"")."""
    return _cut_spans(t.folded, NICKNAME) if any(w in t.low for w in _NICK_STEMS) else []


def find_employer(t: cues.Text) -> list[Span]:
    """An employer ("works nights at Honkanen Landscaping")."""
    return _cut_spans(t.folded, EMPLOYER) if any(w in t.low for w in _WORK_STEMS) else []


def month_like(_: str, m: re.Match[str]) -> bool:
    """A misspelled month with an ordinal day or a year."""
    return bool(m.group(2) or m.group(3)) and near_month(m.group(1))


#: Code systems whose codes follow an id noun without being ids ("claim. NDC 0093-7146-56").
#: Not ``dx``: two letters that open licence and plate numbers too ("licence no. DX 123
#: 456"), and a diagnosis code after it is decimal or lettered (``word_starts`` keeps
#: "Dx 250.00"; a letter-first ICD-10 code holds under three digits before its point).
_CODE_WORDS = frozenset({"ndc", "cpt", "icd", "icd-10", "icd-9", "loinc", "hcpcs", "snomed",
                         "rxnorm", "lot"})


def word_starts(text: str, m: re.Match[str]) -> bool:
    """The match starts a word and its id (group 1) looks like one.

    The id holds three digits, does not open with a word of four letters or more and is
    no ratio or decimal: after "on the claim." the next sentence ("Platelets 250 000/uL",
    "She may take 1 to 2", "BP 120/80", "PHQ-9 score 12") is no claim number.
    """
    if not (m.start() == 0 or not text[m.start() - 1].isalnum()):
        return False
    value = m.group(1)
    first = value.split(" ", 1)[0]
    if sum(c.isdigit() for c in value) < 3 or first.isalpha() and len(first) >= 4 \
            and " " in value or first in _CODE_WORDS:
        return False
    return not re.match(r"[/.][0-9]", text[m.end(1):m.end(1) + 2])


def name_word(_: str, m: re.Match[str]) -> bool:
    """Group 1 is no word of ``NOT_NAMES``."""
    return not _not_name(m.group(1))


def mixed_contact(_: str, m: re.Match[str]) -> bool:
    """No word of a ``Last, First`` match is a word of ``NOT_NAMES``."""
    return not any(_not_name(w) for w in re.split(r"[\s,]+", m.group()) if w)


def initials(_: str, m: re.Match[str]) -> bool:
    """Initials that are no clinical abbreviation."""
    return m.group(1).lower() not in _NOT_INITIALS


def dr_lower(_: str, m: re.Match[str]) -> bool:
    """A word after "dr." in lower case (or capitals of 3+) that is no name-free word."""
    word = m.group(1)
    return (word.islower() or (word.isupper() and len(word) > 2)) \
        and not _not_name(word) and word.lower() not in _NOT_AFTER_DR


#: Lower-case words after "dr." that are no name ("dr. appt", "per dr. orders").
_NOT_AFTER_DR = frozenset(
    "appt appointment appts office offices visit visits note notes order orders orders' rec "
    "recs recommendation recommendations says said states instructions instruction call "
    "referral report reports letter clinic's clinic on at in is was will to for and or apt ste "
    "suite unit".split())
