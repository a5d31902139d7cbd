"""libphonenumber's ``PhoneNumberMatcher``, deciding each candidate once.

The matcher scans a text for candidates with its own grammar (``_PATTERN``:
digits with spaces, dots, dashes, parentheses, a leading ``+``, an
extension) and judges each one (``_extract_match``: ``parse`` and
``is_valid_number`` on the candidate, then on its inner groups). The
judging is the matcher's whole cost, and its outcome is a function of the
candidate, the character before it, the three after it (``_parse_and_verify``
reads one, ``_TIME_STAMPS_SUFFIX`` three), the region and the leniency.
``Matcher`` keeps the library's scan and its judge, and changes two things:

* a candidate with fewer than ``min_digits`` digits is not judged: the
  phone rule drops every number that short, and skipping it moves the scan
  on to the candidate's end, as a rejection does; a match inside such a
  candidate would end no later, and what the scan would find after it lies
  inside the same candidate (the scan's grammar matches the same run from
  any later start), so it is too short as well;
* a judged candidate's outcome is kept (``_DECIDED``, bounded: cleared when
  full) and reused where the same candidate stands between neighbours the
  judgement reads alike (``_neighbour``: a Latin letter, a percent or
  currency sign, anything else; the three characters after a time stamp as
  they are): a patient's phone recurs across their notes in many sentences;
* a candidate without a plus sign, letters or the region's international
  prefix, no run of whose digits is a national number of the region's plan
  (``general_desc`` and a type's description, length and pattern, of a
  region of its country code), is rejected unjudged (``_cannot_be_valid``):
  every part the judgement parses would be. A nine-digit record number is
  no US number; ``098 037 365`` is no French one.

The library stops judging after ``max_tries`` (65,535) rejected tries in
one text. ``Matcher`` counts the tries a kept outcome used and, for a
skipped candidate, the most judging it could have used; should that bound
come near the limit (a text of tens of thousands of digit groups), the
count could decide, and ``matches`` runs the library's own matcher instead.
``matches`` returns the library's matches of at least ``min_digits`` digits
(``tests/activities/deid/test_phone_match.py`` compares them with
``PhoneNumberMatcher``'s on generated text).
"""

from __future__ import annotations

import re
from functools import cache

from phonenumbers import (
    Leniency,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberMatch,
    PhoneNumberMatcher,
    normalize_digits_only,
    re_util,
    region_codes_for_country_code,
)
from phonenumbers.phonenumbermatcher import _TIME_STAMPS

# The metadata's patterns of many regions outgrow the re module's own cache: keep them
# compiled (the library's switch for applications like this one).
re_util.enable_pattern_cache()

#: The library's default limit of rejected tries per text.
MAX_TRIES = 65_535
#: Outcomes kept at most (a dict entry and a small ``PhoneNumber`` each).
CACHE_SIZE = 1 << 15
#: Characters after a candidate its judgement reads (``:[0-5]\d`` after a time stamp).
_AFTER = 3
#: Below this many tries left (by our bound) the library's count could decide: more than
#: one candidate's judgement uses (six inner patterns, at most two tries a character).
_TRIES_MARGIN = 4096


def _most_tries(candidate: str) -> int:
    """The most judging one candidate could use (six inner patterns, two tries a
    character): what an unjudged candidate counts against ``max_tries``."""
    return 6 * len(candidate) + 6


def _neighbours() -> dict[str, str]:
    """Each ASCII character -> the first one the judgement reads alike (its class's stand-in).

    The judgement asks of a neighbour only whether it is a Latin letter and
    whether it is a percent or currency sign (``_is_latin_letter``,
    ``_is_invalid_punctuation_symbol``): the library's own answers group the
    characters, so a stand-in is judged as the character it stands for.
    """
    out: dict[str, str] = {}
    first: dict[tuple[bool, bool], str] = {}
    for c in " a%$" + "".join(map(chr, range(128))):
        cls = (bool(PhoneNumberMatcher._is_latin_letter(c)),
               bool(PhoneNumberMatcher._is_invalid_punctuation_symbol(c)))
        out.setdefault(c, first.setdefault(cls, c))
    return out


_NEIGHBOURS = _neighbours()


def _neighbour(c: str) -> str:
    """The stand-in for a neighbour of a candidate (itself if not ASCII, "" for none)."""
    return _NEIGHBOURS.get(c, c)


#: The number types ``_number_type_helper`` tries after the general description.
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
          "voicemail", "fixed_line", "mobile")


@cache
def _plan(region: str) -> _Plan | None:
    """A region's international prefix, and per length what a valid national number matches.

    ``is_valid_number`` takes a national number as valid in its region (one
    of those sharing the country code: a NANP number's may be any of them)
    when it matches that region's ``general_desc`` and one of its type
    descriptions (``_number_type_helper``), each by length and pattern. Per
    length: (the union of the general patterns, the union of the type
    patterns) of every region of the code; a valid number matches both.
    None where a plan rewrites its national prefix (digits could be added).
    """
    md = PhoneMetadata.metadata_for_region(region)
    if md is None or md.national_prefix_transform_rule or not md.international_prefix \
            or md.country_code is None:
        return None
    general: dict[int, list[str]] = {}
    typed: dict[int, list[str]] = {}
    for r in region_codes_for_country_code(md.country_code):
        other = PhoneMetadata.metadata_for_region(r)
        desc = None if other is None else other.general_desc
        if other is None or desc is None or not desc.possible_length \
                or not desc.national_number_pattern:
            return None
        for n in desc.possible_length:
            general.setdefault(n, []).append(desc.national_number_pattern)
        for kind in _TYPES:
            d = getattr(other, kind)
            if d is not None and d.national_number_pattern:
                for n in d.possible_length or desc.possible_length:
                    typed.setdefault(n, []).append(d.national_number_pattern)
    return re.compile(md.international_prefix), tuple(
        (n, _union(general[n]), _union(typed[n])) for n in sorted(general) if n in typed)


def _union(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in dict.fromkeys(patterns)))


_Plan = tuple[re.Pattern[str], tuple[tuple[int, re.Pattern[str], re.Pattern[str]], ...]]
#: What an ASCII candidate holds besides its digits (the library's ``normalize_digits_only``
#: reads every character's Unicode digit value, in Python: for ASCII the same, slowly).
_NOT_DIGIT = re.compile(r"[^0-9]+")
#: A letter of any script, or a number that is no decimal digit (``²``): the check leaves
#: any candidate with one to the library (``parse`` reads letters as digits in "1-800-FLOWERS").
_LETTER = re.compile(r"[^\W\d_]")


def _cannot_be_valid(candidate: str, region: str | None) -> bool:
    """Whether no part of ``candidate`` can parse as a valid number in ``region``.

    Without a plus sign, letters (an alpha number's letters become digits)
    or the region's international prefix, ``parse`` takes the region's
    country code, and the national significant number is a run of the
    candidate's digits (national prefix, carrier code and extension are
    only stripped); ``is_valid_number`` checks it against the ``general_desc``
    and the type descriptions (length and pattern) of the number's region,
    one of the country code's (``_plan``). No run of the digits matches
    both: every part of the candidate the judgement parses is rejected.
    """
    if region is None or "+" in candidate or "\uff0b" in candidate \
            or _LETTER.search(candidate):
        return False
    plan = _plan(region)
    if plan is None:
        return False
    digits = _NOT_DIGIT.sub("", candidate) if candidate.isascii() \
        else normalize_digits_only(candidate)
    if plan[0].search(digits) is not None:
        return False
    size = len(digits)
    for n, general, typed in plan[1]:
        if n > size:
            break
        for i in range(size - n + 1):
            if general.fullmatch(digits, i, i + n) and typed.fullmatch(digits, i, i + n):
                return False
    return True


_Outcome = tuple[tuple[int, str, PhoneNumber] | None, int]
_DECIDED: dict[tuple[str | None, int, str, str, str], _Outcome] = {}


class Matcher(PhoneNumberMatcher):
    """``PhoneNumberMatcher`` that skips short candidates and judges each candidate once."""

    def __init__(self, text: str, region: str, leniency: int, min_digits: int,
                 max_tries: int = MAX_TRIES) -> None:
        """Matches of ``region``'s numbers in ``text``, of ``min_digits`` digits or more."""
        super().__init__(text, region, leniency=leniency, max_tries=max_tries)
        self._min_digits = min_digits
        #: Whether the tries bound came near the library's limit (the matches may differ).
        self.exhausted = False

    def _extract_match(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        if self._max_tries < _TRIES_MARGIN:
            self.exhausted = True
            return None
        if sum(c.isdigit() for c in candidate) < self._min_digits:
            self._max_tries -= _most_tries(candidate)
            return None
        end = offset + len(candidate)
        before = _neighbour(self.text[offset - 1:offset])
        after = self.text[end:end + _AFTER] if _TIME_STAMPS.search(candidate) \
            else _neighbour(self.text[end:end + 1])
        key = (self.preferred_region, self.leniency, candidate, before, after)
        outcome = _DECIDED.get(key)
        if outcome is None:
            if _cannot_be_valid(candidate, self.preferred_region):
                outcome = None, _most_tries(candidate)
            else:
                outcome = _judge(candidate, before, after, self.preferred_region, self.leniency)
            if len(_DECIDED) >= CACHE_SIZE:
                _DECIDED.clear()
            _DECIDED[key] = outcome
        found, tries = outcome
        self._max_tries -= tries
        if found is None:
            return None
        start, raw, number = found
        return PhoneNumberMatch(offset + start, raw, number)


class _Probe(PhoneNumberMatcher):
    """The library's judgement of one candidate, each part it parses checked first.

    ``_extract_match`` parses the whole candidate, then its inner groups (split
    at slashes, brackets, spaced hyphens, full stops, spaces) one by one. A
    part no run of whose digits is a valid national number of the region
    (``_cannot_be_valid``, the argument above, applied to the part) is
    rejected there without ``parse``: with leniency ``VALID`` or stricter,
    ``_verify`` needs ``is_valid_number``, so ``_parse_and_verify`` would
    return None for it. The tries are counted by the caller, as before.
    """

    def _parse_and_verify(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        if self.leniency >= Leniency.VALID and _cannot_be_valid(candidate, self.preferred_region):
            return None
        return super()._parse_and_verify(candidate, offset)  # type: ignore[no-any-return]


def _judge(candidate: str, before: str, after: str, region: str | None,
           leniency: int) -> _Outcome:
    """The library's judgement of ``candidate`` between ``before`` and ``after``.

    Returns (the match as (start within the candidate, raw string, number) or
    None, the tries the judgement used).
    """
    probe = _Probe(before + candidate + after, region, leniency=leniency)
    tries = probe._max_tries
    m = probe._extract_match(candidate, len(before))
    used = tries - probe._max_tries
    return (None if m is None else (m.start - len(before), m.raw_string, m.number)), used


def matches(text: str, region: str, leniency: int, min_digits: int,
            max_tries: int = MAX_TRIES) -> list[PhoneNumberMatch]:
    """libphonenumber's matches in ``text`` of at least ``min_digits`` digits, in order."""
    m = Matcher(text, region, leniency, min_digits, max_tries)
    found = list(m)
    if m.exhausted:
        found = list(PhoneNumberMatcher(text, region, leniency=leniency, max_tries=max_tries))
    return [x for x in found if sum(c.isdigit() for c in x.raw_string) >= min_digits]
