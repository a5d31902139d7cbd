"""What an identifier looks like in free text: one pattern per placeholder.

The patterns are written for both Python ``re`` and RE2 (Arrow compute runs
them vectorised over a whole chunk): ASCII classes, no look-around, scoped
flags only. They are matched case-insensitively (``(?i)``) on the folded
text (``normalize.fold``), so ``MARCH 3, 2024``, ``march 3, 2024`` and
``123–45–6789`` with an en dash are the same to them.

Dates, telephone numbers and street addresses are grammars
(``activities.deid.grammar``); forms that are identifiers only in context
(a bare ``3/4``, ``92F``, a name after ``daughter``, a city after
``transferred from``) are Python rules with look-around in
``activities.deid.context`` and ``activities.deid.names``.

The scrubber replaces each match with its placeholder; the residual check
counts matches left in the output. Both use this table.
"""

from __future__ import annotations

import re

from medpipe.activities.deid import grammar
from medpipe.contracts.pseudonymize import Placeholder

_AGE = r"(?:9[0-9]|1[01][0-9])"
_TLD = (r"(?:com|org|net|edu|gov|mil|int|io|info|biz|health|care|clinic|hospital|us|uk|de|fr"
        r"|ca|au|nl|ch|se|no|it|es|eu|co|me|app|ly)")
_STATES = grammar.codes(grammar.STATE_CODES, grammar.TERRITORY_CODES, grammar.MILITARY_CODES)

#: A label of a record number ("MRN", "Med Rec #", "Unit No", "pt id"), then the number.
_ID_LABEL = (r"(?:mrn|mr#|mr no|medical record|med rec|chart|acct|account|member|subscriber"
             r"|policy|health plan|license|licence|lic|dea|npi|serial|vin|certificate|cert"
             r"|unit (?:number|num|no|#)|hospital (?:number|num|no|#)|hosp (?:no|#)"
             r"|(?:encounter|claim|group) (?:number|num|no|id|#)|csn|mbi|hicn|beneficiary"
             r"|(?:pt|patient) (?:number|num|no|id|#)|(?:pt|patient)#)"
             r"(?:[\s.]{0,3}(?:number|num|no|id|#))?")
_ID_AFTER_LABEL = r"[a-z0-9-]{0,20}[0-9]{3,}[a-z0-9-]{0,20}"

#: A digit as OCR reads it off a poor scan: ``O``/``o`` for ``0``, ``l``/``I`` for ``1``
#: (case kept: ``L``, ``i`` are no such misreading).
_OCR_LETTER = r"(?-i:[OolI])"
_OCR_DIGIT = r"(?:[0-9]|" + _OCR_LETTER + ")"


def scanned(shape: str) -> str:
    """A value of ``shape`` as a scan or a hurried hand writes it (deid12h): each ``9`` of the
    shape a digit or its OCR misreading (``O``/``o`` for ``0``, ``l``/``I`` for ``1``), with
    one misreading at least, or digits with one stray space between two of the shape's
    characters (``858-52-l324``, ``477-33-77 93``, ``(5 08) 073-7997``, ``08/ 12/2025``).
    The value written right is left to the plain patterns (which read its extension, its
    ``+1``...). The shape is kept whole: an OCR'd letter never stands alone (``O2 sats``,
    ``l/min``, ``1O mg`` have no identifier's shape), and the space is one, inside."""
    units = [(c == "9", re.escape(c)) for c in shape]
    alts = []
    for k, (digit, _) in enumerate(units):  # the first misread digit is the k-th character
        if digit:
            alts.append("".join(("[0-9]" if i < k else _OCR_LETTER if i == k else _OCR_DIGIT)
                                if d else u for i, (d, u) in enumerate(units)))
    plain = ["[0-9]" if d else u for d, u in units]
    for i in range(1, len(units)):
        if shape[i - 1] != " " and shape[i] != " ":
            alts.append("".join(plain[:i]) + " " + "".join(plain[i:]))
    return "(?:" + "|".join(alts) + ")"


#: A US telephone number, an SSN and a date of birth as read off a scan (``scanned``):
#: each pattern keeps its own placeholder; the plain forms stay the other patterns'.
_SCANNED_SSN = r"\b" + scanned("999-99-9999") + r"\b"
_SCANNED_PHONE = ("(?:" + scanned("(999) 999-9999") + r"|\b" + scanned("999-999-9999")
                  + r"|\b" + scanned("999.999.9999") + ")" + grammar.EXTENSION)
_SCANNED_DATE = r"\b(?:" + "|".join(scanned(s) for s in ("99/99/9999", "9/99/9999",
                                                          "99/9/9999", "9/9/9999")) + r")\b"

#: (label, pattern, placeholder), in the order they are applied.
PATTERNS: tuple[tuple[str, str, Placeholder], ...] = (
    ("email", r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", Placeholder.EMAIL),
    # spelled out to dodge filters: "jsmith at gmail dot com", "j.smith (at) aol (dot) com"
    ("email_spelled", r"\b[a-z0-9._%+-]+\s{1,2}[(\[]?at[)\]]?\s{1,2}[a-z0-9-]+(?:\s{1,2}[(\[]?dot"
                      r"[)\]]?\s{1,2}[a-z0-9-]+)*\s{1,2}[(\[]?dot[)\]]?\s{1,2}" + _TLD + r"\b"
                      # "(at)" in brackets with a real host: "jsmith(at)gmail.com"
                      r"|\b[a-z0-9._%+-]+\s{0,2}[(\[{<]at[)\]}>]\s{0,2}(?:[a-z0-9-]+\.)+" + _TLD
                      + r"\b",
     Placeholder.EMAIL),
    # an apostrophe inside a path is the URL's (RFC 3986 sub-delims: "~o'brien"); one
    # that ends it is the sentence's
    ("url", r"\b(?:https?://|ftp://|www\.)[^\s<>\"']+(?:'[^\s<>\"']+)*"
            r"|\b(?:[a-z0-9-]+\.)+" + _TLD + r"\b(?:/[^\s<>\"']*)?", Placeholder.URL),
    ("ip", r"\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b"
           r"|\b(?:[0-9a-f]{1,4}:){1,7}(?::[0-9a-f]{1,4}){1,7}\b"
           r"|\b(?:[0-9a-f]{1,4}:){1,7}:"
           r"|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}\b"
           r"|\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b(?::[0-9]{1,5}\b)?", Placeholder.IP),
    # read off a scan (OCR'd digits, one stray space): before the plain forms, which would
    # take a part of it and leave the rest ("SS no. [ID]-l324", "(34O) [PHONE]")
    ("scan_ssn", _SCANNED_SSN, Placeholder.SSN),
    ("scan_phone", _SCANNED_PHONE, Placeholder.PHONE),
    ("scan_date", _SCANNED_DATE, Placeholder.DATE),
    ("phone", grammar.PHONE, Placeholder.PHONE),
    # groups after a 3-2-4 with its own separator are the same run ("000 00 0000 00"): taken
    # whole, as the id-runs rule would (it only joins dots and dashes to an [SSN] mark)
    ("ssn", "|".join(rf"\b[0-9]{{3}}{sep}[0-9]{{2}}{sep}[0-9]{{4}}(?:{sep}[0-9]{{1,6}})*\b"
                     for sep in ("-", r"\.", " "))
            + r"|\b[0-9]{3}[-. ][0-9]{2}[-. ][0-9]{4}\b"
            # the label stays ("SSN: [SSN]"); written against the number, it goes with it (the
            # id pattern would take "ssn123456789" whole on the one-text path)
            r"|(?P<ssn_label>\b(?:ssn|social security(?: number| no)?)[\s#:.-]+)"
            r"(?:[0-9]{9}|[0-9]{3}[-. ][0-9]{2}[-. ][0-9]{4})\b"
            r"|\b(?:ssn|social security(?: number| no)?)(?:[0-9]{9}|[0-9]{3}[-. ][0-9]{2}[-. ]"
            r"[0-9]{4})\b",
     Placeholder.SSN),
    ("date", grammar.DATE, Placeholder.DATE),
    # a label and a separator stay ("MRN: [MRN]"); a label written against the number is
    # part of the value ("MRN0100042", a record's own id: the known value is that whole)
    ("mrn", r"(?P<mrn_label>\b" + _ID_LABEL + r"[\s#:.-]{1,4})" + _ID_AFTER_LABEL
            + r"|\b" + _ID_LABEL + _ID_AFTER_LABEL
            + r"|(?P<mrn_label2>\b(?:medicaid|medicare|insurance|accession|acc|rx|prescription"
            r"|specimen|requisition|case|authorization|auth|referral|order|document|visit"
            r"|admission|hospital account|har|member)\.?\s{0,2}(?:number|num|no|id|#)\.?"
            r"\s{0,2}[#:]?\s{0,2})[a-z0-9-]{0,12}[0-9]{4,}[a-z0-9-]{0,12}"
            r"|\b[1-9][a-z][a-z0-9][0-9]-?[a-z][a-z0-9][0-9]-?[a-z]{2}[0-9]{2}\b"  # Medicare MBI
            r"|\b[a-z]{2,5}-?[0-9]{5,}\b|\b[0-9]{7,}\b"
            # seven digits or more are an id with a one-letter prefix too (E84021523)
            r"|\b[a-z]-?[0-9]{7,}\b", Placeholder.MRN),
    # a unit after the number, "y" glued to it too ("Mrs X, 94y, ..."); or a sex and a slash
    # before it ("F/94", as handovers write sex and age): a pulse or a pressure has neither
    ("age", r"\b" + _AGE + r"(?P<age_unit>[\s-]{0,3}(?:years?|yrs?)(?:[\s-]{0,3}old)?\b"
            r"|[\s-]{0,3}(?:yo\b|y/o|y\.o\.?)|y\b)"
            r"|(?P<age_label2>\b[mf]\s?/\s?)" + _AGE + r"\b"
            r"|\b(?:ninety|one hundred(?: and)?)(?:[\s-](?:one|two|three|four|five|six|seven"
            r"|eight|nine|ten))?(?P<age_unit2>[\s-]{1,3}(?:years?|yrs?)(?:[\s-]{0,3}old)?\b)"
            r"|\b(?:nonagenarian|centenarian|supercentenarian)\b"
            r"|(?P<age_label>\b(?:aged?|age\s{0,2}:)\s{0,3})" + _AGE
            + r"(?:(?P<age_unit3>\s{0,2}(?:y|yo|yrs?))\b|\b)"
            r"|\b(?:his|her|their|the|mid|late|early)[\s-]+(?:90|100)'?s\b", Placeholder.AGE),
    # a ZIP read off a scan too ("AR l833O", "CA 9362 3": ``scanned``)
    ("zip", r"\b(?-i:" + _STATES + r"),?\s+(?:[0-9]{5}(?:-[0-9]{4})?|" + scanned("99999")
            + r")\b", Placeholder.ADDRESS),
    # an HL7 field before the street ("PID-11 4521 W MAPLE RD^^"): its number is no
    # house number; the field stays as a label
    ("address", r"(?P<field_label>\b(?-i:[A-Z][A-Z0-9]{2})-[0-9]{1,3}(?:\.[0-9]{1,2})?"
     r"\s{1,3})?(?:" + grammar.ADDRESS + ")", Placeholder.ADDRESS),
)

#: Named groups of a pattern hold words kept beside the mark: ``…_label`` before the
#: identifier (``MRN``, ``SSN:``, ``age``), ``…_unit`` after it (``-year-old``, ``y/o``). They
#: say what was removed and identify no one (45 CFR 164.514(b)(2) lists the numbers and ages
#: over 89, not their labels); the pattern still needs them to tell ``92`` the age from ``92``
#: the pulse. Every capture group of a pattern is one of these (``test_labels``), at most
#: nine (RE2's rewrite reads ``\\1``-``\\9``), a label opening the match and a unit ending it.
_LABEL, _UNIT = "_label", "_unit"


#: A pattern's tokens that matter to its groups and branches: an escape, a class, an
#: opening (named, non-capturing, with flags, or plain), a closing, a bar.
GROUP_TOKEN = re.compile(r"\\.|\[(?:\\.|[^\]])*\]|\(\?P<\w+>|\(\?:|\(\?[a-zA-Z-]*[:)]|\(|\)|\|")


def ungrouped(pattern: str) -> str:
    """``pattern`` with every capturing group, named or not, made non-capturing (the same
    matches; RE2 computes no submatches for it)."""
    return GROUP_TOKEN.sub(lambda m: "(?:" if m.group() == "(" or m.group().startswith("(?P<")
                           else m.group(), pattern)


def kept_groups(rx: re.Pattern[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(the numbers of the label groups, of the unit groups) of a compiled pattern."""
    names = sorted(rx.groupindex.items(), key=lambda kv: kv[1])
    return (tuple(i for n, i in names if _LABEL in n), tuple(i for n, i in names if _UNIT in n))


def identifier_span(m: re.Match[str], kept: tuple[tuple[int, ...], tuple[int, ...]]
                    ) -> tuple[int, int]:
    """The part of a match the mark replaces: the match less its label and its unit."""
    labels, units = kept
    start = max((m.end(g) for g in labels if m.start(g) >= 0), default=m.start())
    end = min((m.start(g) for g in units if m.start(g) >= 0), default=m.end())
    return start, end


def rewrite(pattern: str, mark: str) -> str:
    """The RE2 replacement of a pattern's matches: its label, the mark, its unit
    (``\\1[MRN]``; a group that did not take part is empty)."""
    labels, units = kept_groups(re.compile(pattern, re.IGNORECASE))
    return "".join(f"\\{g}" for g in labels) + mark + "".join(f"\\{g}" for g in units)


#: Texts without any of these cannot match a pattern (a vectorised fast path).
CANDIDATE = (r"(?i)[0-9@]|www\.|://|\.[a-z]{2,}\b|ninety|hundred|nonagenarian|centenarian"
             r"|\sdot\s"
             # a part of a month without a digit: "mid-March", "early Feb"
             r"|(?:mid|early|late)[\s-]{1,2}(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
             # a day as an ordinal word before "of" or a month, or after a month
             r"|(?:st|nd|rd|th)\s{1,3}(?:of\s|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
             r"|(?:jan|feb|mar|apr|may|june?|july?|aug|sep|sept|oct|nov|dec|uary|ch|il|ust|ber)"
             r"\s{1,3}(?:the\s{1,3})?(?:fir|sec|thi|fou|fif|six|sev|eig|nin|ten|ele|twe)")

#: Each pattern compiled for Python (the folded-text path and the residual check).
COMPILED: tuple[tuple[str, re.Pattern[str], Placeholder], ...] = tuple(
    (label, re.compile(p, re.IGNORECASE), ph) for label, p, ph in PATTERNS)
#: The label and unit groups of each compiled pattern (``kept_groups``), in that order.
KEPT: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = tuple(
    kept_groups(rx) for _, rx, _ in COMPILED)


def find(folded: str) -> list[tuple[int, int, Placeholder]]:
    """Every pattern's identifiers in a folded text, pattern after pattern (labels and
    units left out: ``identifier_span``)."""
    return [(*identifier_span(m, kept), ph)
            for (_, rx, ph), kept in zip(COMPILED, KEPT, strict=True) for m in rx.finditer(folded)]


def re2(pattern: str) -> str:
    """The pattern for Arrow compute (RE2), case-insensitive."""
    return "(?i)" + pattern
