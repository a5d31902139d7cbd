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
_STATES = (r"A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]"
           r"|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY]|PR|GU|VI|AS|MP|FM|MH|PW|A[AEP]")

#: (label, pattern, placeholder), in the order they are applied.
PATTERNS: tuple[tuple[str, str, Placeholder], ...] = (
    ("email", r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", Placeholder.EMAIL),
    # spelled out to dodge filters: "jsmith at gmail dot com", "j.smith (at) aol (dot) com"
    ("email_spelled", r"\b[a-z0-9._%+-]+\s{1,2}[(\[]?at[)\]]?\s{1,2}[a-z0-9-]+(?:\s{1,2}[(\[]?dot"
                      r"[)\]]?\s{1,2}[a-z0-9-]+)*\s{1,2}[(\[]?dot[)\]]?\s{1,2}" + _TLD + r"\b",
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
    ("phone", grammar.PHONE, Placeholder.PHONE),
    # groups after a 3-2-4 with its own separator are the same run ("000 00 0000 00"): taken
    # whole, as the id-runs rule would (it only joins dots and dashes to an [SSN] mark)
    ("ssn", "|".join(rf"\b[0-9]{{3}}{sep}[0-9]{{2}}{sep}[0-9]{{4}}(?:{sep}[0-9]{{1,6}})*\b"
                     for sep in ("-", r"\.", " "))
            + r"|\b[0-9]{3}[-. ][0-9]{2}[-. ][0-9]{4}\b"
            r"|\b(?:ssn|social security(?: number| no)?)[\s#:.-]*[0-9]{9}\b", Placeholder.SSN),
    ("date", grammar.DATE, Placeholder.DATE),
    ("mrn", r"\b(?:mrn|mr#|mr no|medical record|med rec|chart|acct|account|member|subscriber"
            r"|policy|health plan|license|licence|lic|dea|npi|serial|vin|certificate|cert"
            r"|unit (?:no|num|number|#)|hospital (?:no|num|number|#)|hosp (?:no|#)"
            r"|(?:encounter|claim|group) (?:id|no|num|number|#)|csn|mbi|hicn|beneficiary"
            r"|(?:pt|patient) (?:id|no|num|number|#)|(?:pt|patient)#)"
            r"(?:[\s.]{0,3}(?:id|no|num|number|#))?[\s#:.-]{0,4}[a-z0-9-]{0,20}[0-9]{3,}"
            r"[a-z0-9-]{0,20}"
            r"|\b(?:medicaid|medicare|insurance|accession|acc|rx|prescription|specimen"
            r"|requisition|case|authorization|auth|referral|order|document|visit|admission"
            r"|hospital account|har|member)\.?\s{0,2}(?:id|no|num|number|#)\.?\s{0,2}[#:]?"
            r"\s{0,2}[a-z0-9-]{0,12}[0-9]{4,}[a-z0-9-]{0,12}"
            r"|\b[1-9][a-z][a-z0-9][0-9]-?[a-z][a-z0-9][0-9]-?[a-z]{2}[0-9]{2}\b"  # Medicare MBI
            r"|\b[a-z]{2,5}-?[0-9]{5,}\b|\b[0-9]{7,}\b"
            # seven digits or more are an id with a one-letter prefix too (E84021523)
            r"|\b[a-z]-?[0-9]{7,}\b", Placeholder.MRN),
    ("age", r"\b" + _AGE + r"(?:[\s-]{0,3}(?:years?|yrs?)(?:[\s-]{0,3}old)?\b"
            r"|[\s-]{0,3}(?:yo\b|y/o|y\.o\.?))"
            r"|\b(?:ninety|one hundred(?: and)?)(?:[\s-](?:one|two|three|four|five|six|seven"
            r"|eight|nine|ten))?[\s-]{1,3}(?:years?|yrs?)(?:[\s-]{0,3}old)?\b"
            r"|\b(?:nonagenarian|centenarian|supercentenarian)\b"
            r"|\b(?:aged?|age\s{0,2}:)\s{0,3}" + _AGE + r"(?:\s{0,2}(?:y|yo|yrs?))?\b"
            r"|\b(?:his|her|their|the|mid|late|early)[\s-]+(?:90|100)'?s\b", Placeholder.AGE),
    ("zip", r"\b(?-i:" + _STATES + r"),?\s+[0-9]{5}(?:-[0-9]{4})?\b", Placeholder.ADDRESS),
    ("address", grammar.ADDRESS, Placeholder.ADDRESS),
)

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


def re2(pattern: str) -> str:
    """The pattern for Arrow compute (RE2), case-insensitive."""
    return "(?i)" + pattern
