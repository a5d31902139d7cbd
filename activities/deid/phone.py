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
run), once per region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from medpipe.activities.deid import ip
from medpipe.activities.deid.index import Span
from medpipe.contracts.pseudonymize import Placeholder

#: Regions whose national formats are looked for (international ones are found by any).
REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "CA", "AU")
#: Seven digits, neighbours at most three characters (no letter, no newline) apart.
TRIGGER = r"[0-9](?:[^0-9a-z\n]{0,3}[0-9]){6}"
_TRIGGER = re.compile(TRIGGER, re.IGNORECASE)
#: How far a window reaches beyond the digits: a "+", a country code, "ext. 1234".
_BEFORE, _AFTER = 8, 16


def _windows(folded: str) -> list[tuple[int, int]]:
    """Merged windows of the text around each digit run the trigger finds."""
    out: list[tuple[int, int]] = []
    n = len(folded)
    for m in _TRIGGER.finditer(folded):
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
    regions: tuple[str, ...] = REGIONS
    leniency: int = phonenumbers.Leniency.VALID

    def find(self, folded: str) -> list[Span]:
        """Spans of telephone numbers in a folded text."""
        out: list[Span] = []
        for s, e in _windows(folded):
            window = folded[s:e]
            for region in self.regions:
                for m in phonenumbers.PhoneNumberMatcher(window, region, leniency=self.leniency):
                    if not ip.RULE.find(m.raw_string):  # "192.168.0.0/16" is valid in IN's plan
                        out.append((s + m.start, s + m.end, Placeholder.PHONE))
        return out


RULE = PhoneRule()
