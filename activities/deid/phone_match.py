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
  full) and reused where the same candidate stands between the same
  characters: a patient's phone recurs across their notes.

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

from phonenumbers import PhoneNumber, PhoneNumberMatch, PhoneNumberMatcher, re_util

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
            self._max_tries -= 6 * len(candidate) + 6  # the most judging it could have used
            return None
        end = offset + len(candidate)
        before, after = self.text[offset - 1:offset], self.text[end:end + _AFTER]
        key = (self.preferred_region, self.leniency, candidate, before, after)
        outcome = _DECIDED.get(key)
        if outcome is None:
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


def _judge(candidate: str, before: str, after: str, region: str | None,
           leniency: int) -> _Outcome:
    """The library's judgement of ``candidate`` between ``before`` and ``after``.

    Returns (the match as (start within the candidate, raw string, number) or
    None, the tries the judgement used).
    """
    probe = PhoneNumberMatcher(before + candidate + after, region, leniency=leniency)
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
