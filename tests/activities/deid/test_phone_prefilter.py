"""The phone rule's unjudged rejections reject only what libphonenumber rejects.

``phone_match`` skips the library's judgement of a candidate no run of
whose digits is a valid national number of the region's plan
(``_cannot_be_valid``), and keys kept outcomes by the class of the
neighbours (``_neighbour``). Two checks, each able to fail:

* a property over the rule's forms: valid numbers of every region (the
  library's example numbers with their last digits redrawn), written in
  every ``PhoneNumberFormat`` and the forms notes use (``(+1)``, dots,
  spaces, dashes, extensions, a leading trunk 1) and cut or grown by a
  digit: where the check rejects a candidate, the library's own judgement
  finds nothing in it;
* a differential over dense generated text (numbers, dates, doses, lab
  values, record numbers, clock times, CPT codes, letters and signs beside
  them): the rule's spans equal those of the same rule on the library's
  matcher, span for span. ``test_a_broken_check_is_caught`` breaks the
  check (it rejects every ten-digit candidate) and shows the differential
  then fails.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import phone, phone_match

_VALID = phonenumbers.Leniency.VALID
_FORMATS = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.RFC3966)
_TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
          phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.UAN)
_EXAMPLES = [(r, n) for r in phone.REGIONS for k in _TYPES
             if (n := phonenumbers.example_number_for_type(r, k)) is not None]


def reference(text: str, region: str, leniency: int, min_digits: int,
              max_tries: int = phone_match.MAX_TRIES) -> list[phonenumbers.PhoneNumberMatch]:
    """The library's matches of at least ``min_digits`` digits."""
    return [m for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency,
                                                       max_tries=max_tries)
            if sum(c.isdigit() for c in m.raw_string) >= min_digits]


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """A number of some region (mostly valid) in one of the forms the rule meets."""
    _, example = draw(st.sampled_from(_EXAMPLES))
    nsn = str(example.national_number)
    keep = draw(st.integers(max(1, len(nsn) - 5), len(nsn)))
    tail = draw(st.text("0123456789", min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    n = phonenumbers.PhoneNumber(country_code=example.country_code,
                                 national_number=int(nsn[:keep] + tail))
    text = phonenumbers.format_number(n, draw(st.sampled_from(_FORMATS)))
    sep = draw(st.sampled_from([None, ".", "-", " ", ""]))
    if sep is not None:
        text = text.replace(" ", sep) if draw(st.booleans()) else text.replace("-", sep)
    form = draw(st.sampled_from(["plain", "(+1)", "1-", "ext", "x", "cut", "grow", "00"]))
    if form == "(+1)":
        text = "(+" + str(n.country_code) + ") " + phonenumbers.format_number(
            n, phonenumbers.PhoneNumberFormat.NATIONAL)
    elif form == "1-":
        text = "1-" + text
    elif form == "ext":
        text += " ext. " + draw(st.text("0123456789", min_size=1, max_size=5))
    elif form == "x":
        text += " x" + draw(st.text("0123456789", min_size=1, max_size=4))
    elif form == "cut":
        text = text[:-1]
    elif form == "grow":
        text += draw(st.sampled_from("0123456789"))
    elif form == "00":
        text = "00" + str(n.country_code) + " " + phonenumbers.format_number(
            n, phonenumbers.PhoneNumberFormat.NATIONAL).lstrip("0")
    return text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=numbers(), region=st.sampled_from(phone.REGIONS))
def test_a_rejected_candidate_is_one_the_library_rejects(number: str, region: str) -> None:
    for candidate in {number, number.lstrip("+("), number.replace("+", "")}:
        if phone_match._cannot_be_valid(candidate, region):
            probe = phonenumbers.PhoneNumberMatcher(candidate, region, leniency=_VALID)
            assert probe._extract_match(candidate, 0) is None, (candidate, region)
            assert not list(phonenumbers.PhoneNumberMatcher(candidate, region,
                                                            leniency=_VALID)), candidate


_GROUPS = st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=5)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=_GROUPS, sep=st.sampled_from(["", " ", "-", ".", " - ", "/", "(", ")"]),
       region=st.sampled_from(phone.REGIONS))
def test_a_rejected_run_of_digits_is_one_the_library_rejects(groups: list[str], sep: str,
                                                             region: str) -> None:
    """Bare digit groups: many rejected, many valid (a random ten-digit NANP number often is)."""
    candidate = sep.join(groups)
    if phone_match._cannot_be_valid(candidate, region):
        probe = phonenumbers.PhoneNumberMatcher(candidate, region, leniency=_VALID)
        assert probe._extract_match(candidate, 0) is None, (candidate, region)


def test_the_check_rejects_what_it_was_written_for() -> None:
    """Nine-digit record numbers are no US number; a trunk-0 nine digits no French one."""
    assert phone_match._cannot_be_valid("374634206", "US")
    assert phone_match._cannot_be_valid("098 037 365", "FR")
    assert not phone_match._cannot_be_valid("201-555-0123", "US")
    assert not phone_match._cannot_be_valid("011 44 20 7946", "US")  # an international prefix
    assert not phone_match._cannot_be_valid("+1 374634206", "US")
    assert not phone_match._cannot_be_valid("1-800-FLOWERS", "US")  # letters read as digits


_NOISE = ("2023-05-04", "05/04/2023", "3/4/2024 1430", "0800 1400 2000", "99214, 93000",
          "Na 138 K 4.1 Cl 101", "BP 128/84", "metoprolol 25 mg 2x daily", "MRN 4605121",
          "SSN 123-45-6789", "123 45 6789", "19540411 0214", "10:30:45", "192.168.0.1",
          "page 211-227", "$1,250,000", "45%", "0093-7146-56", "Tel", "call", "x", "#", "(",
          ")", "/", "-", ".", ":", "\n", "a", "\u20ac", "\uff11\uff12\uff13")


def _dense(rng: random.Random, pieces: list[str]) -> str:
    return "".join(rng.choice(pieces) + rng.choice(["", " ", "  ", ", ", "-", ".", "/", "; "])
                   for _ in range(rng.randint(3, 14)))


def _pieces(rng: random.Random, n: int) -> list[str]:
    @given(numbers())
    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    def collect(number: str) -> None:
        out.append(number)
    out: list[str] = []
    collect()
    nine = ["".join(rng.choice("0123456789") for _ in range(rng.choice([9, 10, 11, 12])))
            for _ in range(n // 2)]
    return out + nine + list(_NOISE)


def _differences(texts: list[str]) -> list[str]:
    library = phone.PhoneRule(matcher=reference)
    return [t for t in texts if phone.RULE.find(t) != library.find(t)]


@pytest.fixture(scope="module")
def dense_texts() -> list[str]:
    rng = random.Random(12)
    pieces = _pieces(rng, 300)
    return [_dense(rng, pieces) for _ in range(600)]


def test_the_rule_finds_what_it_finds_on_the_library_matcher(dense_texts: list[str]) -> None:
    phone_match._DECIDED.clear()
    assert _differences(dense_texts) == []
    assert sum(bool(phone.RULE.find(t)) for t in dense_texts) > 100  # the numbers are found


def test_a_broken_check_is_caught(dense_texts: list[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The differential fails when the check rejects a candidate it must not (ten digits)."""
    real = phone_match._cannot_be_valid

    def broken(candidate: str, region: str | None) -> bool:
        return sum(c.isdigit() for c in candidate) == 10 or real(candidate, region)

    monkeypatch.setattr(phone_match, "_cannot_be_valid", broken)
    phone_match._DECIDED.clear()
    try:
        assert _differences(dense_texts)
    finally:
        phone_match._DECIDED.clear()
