"""``phone_match`` finds exactly what libphonenumber's ``PhoneNumberMatcher`` finds.

The reference is the library's matcher itself, its matches of nine digits or
more kept (what the phone rule keeps). Texts are generated (hypothesis) from
libphonenumber's example numbers of every region, type and format, pieces
of numbers, the separators the matcher's grammar takes (spaces, dots,
dashes, parentheses, slashes, ``+``, ``00``/``011``, extensions), letters,
currency and percent signs beside digits, dates and times: the places where
the matcher's judgement reads around a candidate, and where a short
candidate's inner match would move its scan. The same pieces recur, so
outcomes kept from one text are reused in others. The phone rule as a whole
is compared with the same rule on the library's matcher.
"""

from __future__ import annotations

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import phone, phone_match

_VALID = phonenumbers.Leniency.VALID
_FORMATS = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.RFC3966)
_TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
EXAMPLES = [phonenumbers.format_number(n, f) for r in phone.REGIONS for k in _TYPES
            if (n := phonenumbers.example_number_for_type(r, k)) is not None for f in _FORMATS]
PIECES = EXAMPLES + [
    "555-1234", "(555) 123-4567", "+1 201-555-0123 ext. 12", "0044 20 7946 0958",
    "011 44 20 7946 0958", "020 7946 0958 x 7", "2023-05-04 10", ":30", "10:30:45", "3/4/2024",
    "12/31/99", "211-227 (2003)", "123-45-6789", "0093-7146-56", "1.2.3.4.5", "192.168.0.0/16",
    "7.2 13.5 220 410", "297036819", "4930123456", "9876543210", "12345", "0", "1", "00", "+",
    "(", ")", "[", "]", "-", ".", "/", " / ", "x", "ext", "#", "%", "$", "\u20ac", "abc", "Tel",
    "\n", " ", "  ", ", ", "\u2013", "\uff11\uff12\uff13",
]
_JOIN = st.sampled_from(["", " ", "", "-", ".", "/", " x", "a", ": ", "\t"])


def reference(text: str, region: str, leniency: int, min_digits: int,
              max_tries: int = phone_match.MAX_TRIES) -> list[phonenumbers.PhoneNumberMatch]:
    """The library's matches of at least ``min_digits`` digits."""
    return [m for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency,
                                                       max_tries=max_tries)
            if sum(c.isdigit() for c in m.raw_string) >= min_digits]


def _pairs(found: list[phonenumbers.PhoneNumberMatch]) -> list[tuple[int, str, object]]:
    return [(m.start, m.raw_string, m.number) for m in found]


texts = st.lists(st.tuples(st.sampled_from(PIECES), _JOIN), min_size=1, max_size=10).map(
    lambda parts: "".join(p + j for p, j in parts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, region=st.sampled_from(phone.REGIONS))
def test_matches_are_the_library_matchers(text: str, region: str) -> None:
    assert _pairs(phone_match.matches(text, region, _VALID, 9)) == \
        _pairs(reference(text, region, _VALID, 9)), text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, min_digits=st.integers(1, 12))
def test_any_minimum_of_digits_gives_the_library_matchers(text: str, min_digits: int) -> None:
    assert _pairs(phone_match.matches(text, "GB", _VALID, min_digits)) == \
        _pairs(reference(text, "GB", _VALID, min_digits)), text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_the_phone_rule_finds_what_it_found_on_the_library_matcher(text: str) -> None:
    assert phone.RULE.find(text) == phone.PhoneRule(matcher=reference).find(text), text


def test_a_text_near_the_tries_limit_is_left_to_the_library() -> None:
    """Where the library's count of tries could decide, its own matcher runs."""
    text = " and ".join(["12-34", "+44 20 7946 0958"] * 400)
    m = phone_match.Matcher(text, "GB", _VALID, 9, max_tries=phone_match._TRIES_MARGIN + 50)
    list(m)
    assert m.exhausted
    for tries in (phone_match._TRIES_MARGIN + 50, 300, 5):
        got = phone_match.matches(text, "GB", _VALID, 9, max_tries=tries)
        assert _pairs(got) == _pairs(reference(text, "GB", _VALID, 9, max_tries=tries))
    assert len(phone_match.matches(text, "GB", _VALID, 9)) == 400


def test_kept_outcomes_are_bounded_and_reused() -> None:
    phone_match._DECIDED.clear()
    text = "Daughter 020 7946 0958, cell 07400 123456."
    first = _pairs(phone_match.matches(text, "GB", _VALID, 9))
    kept = len(phone_match._DECIDED)
    assert kept >= 2 and first == _pairs(reference(text, "GB", _VALID, 9))
    assert _pairs(phone_match.matches(text, "GB", _VALID, 9)) == first
    assert len(phone_match._DECIDED) == kept  # judged once
    phone_match._DECIDED.update({("ZZ", 0, str(i), "", ""): (None, 1) for i in
                                 range(phone_match.CACHE_SIZE - kept)})
    assert len(phone_match._DECIDED) == phone_match.CACHE_SIZE
    assert _pairs(phone_match.matches("call 0161 496 0000 now", "GB", _VALID, 9))
    assert 1 <= len(phone_match._DECIDED) <= phone_match.CACHE_SIZE
