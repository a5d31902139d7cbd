"""Telephone numbers as Google's libphonenumber knows them (``phonenumbers``).

``grammar.PHONE`` describes the NANP and ``+``-prefixed forms we wrote down;
libphonenumber carries the numbering plan of every region (lengths, prefixes,
trunk codes, how each country groups its digits) and is kept up to date by
others. ``PhoneNumberMatcher`` finds numbers in the national formats of
each region a fleet serves (``REGIONS``: ``020 7946 0958``, ``030 123456``,
``01 42 68 53 00``, ``098765 43210``, ``(02) 9876 5432``) and in every
international form (``+44 20 7946 0958``, ``0044 …`` from the US ``011 …``),
with extensions.

Leniency ``VALID`` (the number must be valid in its region's plan, not only
of a possible length) was chosen by measurement: ``POSSIBLE`` takes lab
values, doses and code numbers for numbers (``bench/deid.py`` precision).
The matcher itself refuses dates, times and page ranges.

The matcher is pure Python and slow: it runs only on a window around each
run of at least seven digits with at most three non-alphanumeric characters
between neighbours (``TRIGGER``; a placeholder such as ``[DATE]`` breaks the
run), once per region, and through ``phone_match``: the library's scan and
judgement, with candidates too short to keep left unjudged and each judged
candidate's outcome kept for the next note that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

from medpipe.activities.deid import grammar, ip, phone_match
from medpipe.activities.deid.index import Span
from medpipe.contracts.pseudonymize import Placeholder

#: Regions whose national formats are looked for (international ones are found by any).
REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "CA", "AU")
#: Seven digits, neighbours at most three characters (no letter, no newline) apart, where a
#: run starts (``_RUN``: after ``+`` or ``(``, or a digit after no letter, digit or ``_``:
#: ``MRN0100000`` and ``HbA1c`` hold no run).
TRIGGER = (r"(?:^|[^0-9A-Za-z_])[0-9](?:[^0-9a-z\n]{0,3}[0-9]){6}"
           r"|[+(][0-9](?:[^0-9a-z\n]{0,3}[0-9]){6}")
#: The whole run of digits a trigger match belongs to.
_RUN = re.compile(r"[+(0-9](?:(?<=[+(])[0-9]|(?<=[0-9])(?<!\w[0-9]))"
                  r"(?:[^0-9a-z\n]{0,3}[0-9]){6,}", re.IGNORECASE)
#: ``_RUN`` as first written: "+" or "(" or a word boundary, then a digit. The form above
#: opens with a character class, which ``re`` skips to (the same matches: the class
#: tells the three branches apart; ``tests/activities/deid/test_cues_fast.py``).
RUN_AS_WRITTEN = r"(?:\+|\(|\b)[0-9](?:[^0-9a-z\n]{0,3}[0-9]){6,}"
_MD = r"(?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12][0-9]|3[01])"
_DM = r"(?:0?[1-9]|[12][0-9]|3[01])[-/.](?:0?[1-9]|1[0-2])"
_HHMM = r"(?:(?:[01][0-9]|2[0-3])[0-5][0-9]|2400)"
#: Runs that are something else by a standard's shape, skipped before the (slow) matcher:
#: a date (ISO 8601, m/d/y, d/m/y, maybe with a time), an IP address, an NDC (4-4-2,
#: 5-3-2, 5-4-1: FDA's National Drug Code), an SSN (3-2-4, SSA's), anything with a colon
#: (times, IPv6), four-digit clock times and five-digit CPT codes in a row.
_NOT_PHONE = re.compile(
    r"(?:[12][0-9]{3}[-/.]" + _MD + r"|(?:" + _MD + r"|" + _DM + r")[-/.](?:[0-9]{4}|[0-9]{2}))"
    r"(?:[ T][0-9:]{1,8})?|[0-9]{1,3}(?:\.[0-9]{1,3}){3}.*|[0-9]{4}-[0-9]{4}-[0-9]{2}"
    r"|[0-9]{5}-[0-9]{3}-[0-9]{2}|[0-9]{5}-[0-9]{4}-[0-9]|[0-9]{3}([-. ])[0-9]{2}\1[0-9]{4}"
    r"|.*:.*"
    # a schedule of 24-hour clock times ("0800 1400 2000"), CPT codes in a row ("99214, 93000":
    # five digits each; a national number grouped 5-5 opens with its trunk 0)
    r"|" + _HHMM + r"(?:[^0-9]{1,3}" + _HHMM + r")+|[1-9][0-9]{4}(?:[^0-9]{1,3}[0-9]{5})+")
#: A run the hand-written grammar (``grammar.PHONE``, run by the pattern pass) takes whole.
_KNOWN = re.compile(grammar.PHONE, re.IGNORECASE)
#: Fewer digits are a local number (the hand grammar's) or a clinical value ("0600 104").
_MIN_DIGITS = 9
#: National formats other than NANP open with a trunk prefix 0 (``020 …``, ``030 …``) or,
#: for Indian mobiles, a 6-9 and ten digits: other regions are tried on those runs only.
_NATIONAL = re.compile(r"0|[6-9](?:[^0-9]{0,3}[0-9]){9}(?![0-9])")
#: Characters ``_RUN`` takes between two digits (``[^0-9a-z\n]`` read case-insensitively).
_GAP = r"[^0-9A-Za-z\n]"
#: Whole runs of digits of the shapes ``_windows`` skips, as they stand in notes: a NANP
#: number the hand grammar takes (``(555) 234-5678``, ``1-555-234-5678``, ``234-5678``), an
#: SSN, a date (``2023-05-04``, ``05/04/2023``). Each is a run ``_RUN`` matches whole and
#: ``_KNOWN`` or ``_NOT_PHONE`` matches whole, or digits too few for a run (``1-1-5678``)
#: (``tests/activities/deid/test_narrow_triggers.py``). No lookbehind in RE2, so the
#: characters around it say it is whole: before it (group 1) the text's start, a line
#: break, or a character that neither starts a run (``+``, ``(``) nor joins a word (a
#: letter, a digit, ``_``) with no digit within reach (a letter, a line break or the start
#: before it, or four gap characters); after it (group 2) the text's end or up to three gap
#: characters and a letter, a line break or the end, or four gap characters.
#: ``trigger_skip``: the column path replaces each by a letter, which joins no run, keeping
#: groups 1 and 2 (``registry.hits``) before matching the trigger, so a text whose every run
#: is one of them is not sent to ``find``, which would skip each run (a raw note of the
#: reference release: a phone, a date, an SSN).
_SKIPPED_RUN = "|".join((
    r"(?:\+?1[-. ]?)?\([0-9]{3}\)[-. ]?[0-9]{3}[-. ][0-9]{4}",
    r"(?:\+?1[-. ])?[0-9]{3}[-. /][0-9]{3}[-. ][0-9]{4}",
    r"[0-9]{3}-[0-9]{4}|[0-9]{3}\.[0-9]{4}|[0-9]{3} [0-9]{4}",
    r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3}\.[0-9]{2}\.[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}",
    r"[12][0-9]{3}[-/.]" + _MD,
    r"(?:" + _MD + r"|" + _DM + r")[-/.](?:[0-9]{4}|[0-9]{2})",
))
_BEFORE_RUN = r"[^0-9A-Za-z\n_+(]"
TRIGGER_SKIP = (r"(^|\n|(?:^|[A-Za-z\n])" + _GAP + r"{0,2}" + _BEFORE_RUN + r"|" + _GAP
                + r"{3}" + _BEFORE_RUN + r")(?:" + _SKIPPED_RUN + r")($|" + _GAP
                + r"{0,3}(?:[A-Za-z\n]|$)|" + _GAP + r"{4})")

#: Regions the US plan already covers (NANP: one country code, one plan).
_NANP = frozenset({"CA"})
#: Where a run of digits starts in a window.
_RUN_START = re.compile(r"(?<![0-9])[0-9]")
#: How far a window reaches beyond the digits: a "+", a country code, "ext. 1234".
_BEFORE, _AFTER = 8, 16


def _windows(folded: str) -> list[tuple[int, int]]:
    """Merged windows of the text around each digit run the trigger finds (not dates)."""
    out: list[tuple[int, int]] = []
    n = len(folded)
    for m in _RUN.finditer(folded):
        if _NOT_PHONE.fullmatch(m.group()) or _KNOWN.fullmatch(m.group()):
            continue  # "2023-05-04", "10.1.2.3:8080": the matcher refuses them, slowly
        s, e = max(0, m.start() - _BEFORE), min(n, m.end() + _AFTER)
        while s > 0 and not folded[s - 1].isspace() and m.start() - s < 2 * _BEFORE:
            s -= 1  # do not cut a word in two: the matcher looks at what is beside a number
        while e < n and not folded[e].isspace() and e - m.end() < 2 * _AFTER:
            e += 1
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


@dataclass(frozen=True)
class PhoneRule:
    """Telephone numbers of the plans of ``regions``, judged by libphonenumber."""

    name: str = "phone"
    trigger: str = TRIGGER
    #: Runs ``find`` skips whole: blanked in the column before ``trigger`` is matched.
    trigger_skip: str = TRIGGER_SKIP
    regions: tuple[str, ...] = REGIONS
    leniency: int = phonenumbers.Leniency.VALID
    #: (text, region, leniency, min digits) -> libphonenumber's matches of that many digits.
    matcher: Callable[[str, str, int, int], list[phonenumbers.PhoneNumberMatch]] = \
        phone_match.matches

    def find(self, folded: str) -> list[Span]:
        """Spans of telephone numbers in a folded text."""
        out: list[Span] = []
        for s, e in _windows(folded):
            window = folded[s:e]
            national = any(_NATIONAL.match(window, d.start()) for d in _RUN_START.finditer(window))
            for region in self.regions:
                if region in _NANP or (region != "US" and not national):
                    continue
                for m in self.matcher(window, region, self.leniency, _MIN_DIGITS):
                    if ip.RULE.find(m.raw_string):  # "192.168.0.0/16" is valid in IN
                        continue
                    out.append((s + m.start, s + m.end, Placeholder.PHONE))
        if not out:
            return out
        grammar_spans = [g.span() for g in _KNOWN.finditer(folded)]
        joined: list[Span] = []
        for start, end, ph in out:  # with what the hand grammar takes around it ("#3483")
            for gs, ge in grammar_spans:
                if gs < end and start < ge:
                    start, end = min(start, gs), max(end, ge)
            joined.append((start, end, ph))
        return joined


RULE = PhoneRule()
