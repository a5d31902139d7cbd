"""The fast forms of the rules' scans equal the forms they replaced, on generated text.

Each fast path (``str.rstrip`` for the word before a run, a character class
opening a pattern so that ``re`` skips to its candidates, a cue looked for
before a number rather than every cue of a text) is compared here with the
slow one it replaced, kept in this file, on dense generated text; a position
or a span the fast path drops fails the test.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import cues, dateparts, knownuse, phone

_SLOW = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _word_before_loop(folded: str, s: int) -> tuple[str, str]:
    """``cues.word_before`` as it was: a loop per character."""
    chars = cues._WORD_CHARS
    if s and folded[s - 1] in chars:
        ws = s - 1
        while ws and folded[ws - 1] in chars:
            ws -= 1
        we, n = s, len(folded)
        while we < n and folded[we] in chars:
            we += 1
        return folded[ws:we].lower(), ""
    p = s
    while p and s - p < 6 and folded[p - 1] in cues._TRAILING:
        p -= 1
    if p and folded[p - 1] in chars:
        ws = p - 1
        while ws and folded[ws - 1] in chars:
            ws -= 1
        return folded[ws:p].lower(), folded[p:s]
    return "", ""


_WORDS = st.sampled_from(("daughter", "Dr", "x/", "O'Neil-", "a" * 40, "B" * 33, "spoke with",
                          "Caller:", "é", "ж", "3", "[NAME]", "(", ".", ",", ":", " ", "  ",
                          "\t", "\n", "\v", "/", "'", "-", "Mary", "MARY", "z" * 31))


@_SLOW
@given(st.lists(_WORDS, max_size=16))
def test_word_before_equals_the_loop(parts: list[str]) -> None:
    text = "".join(parts)
    for s in range(len(text) + 1):
        assert cues.word_before(text, s) == _word_before_loop(text, s), (text, s)


_DIGITS = st.sampled_from(("+", "(", ")", "1", "23", "4567", "890", " ", "-", ".", "/", "a", "Z",
                           "_", "é", "ж", "\n", "\v", "  ", "   ", "    ", "x", "+44", "(02)"))


@_SLOW
@given(st.lists(_DIGITS, max_size=30))
def test_phone_run_equals_as_written(parts: list[str]) -> None:
    text = "".join(parts)
    slow = re.compile(phone.RUN_AS_WRITTEN, re.IGNORECASE)
    assert [m.span() for m in phone._RUN.finditer(text)] == \
        [m.span() for m in slow.finditer(text)], text


_CUES = ("on", "On", "since", "as of", "as  of", "APPOINTMENT", "appointment", "date", "dated",
         "visit", "returns", "x-on", "eon", "thru", "dose", "the")
_SPACES = ("", " ", "  ", "   ", "\t", "\n", "\v", " : ", ":", " :  ")
_NUMBERS = ("4th", "21st", "04TH", "3rd", "31st", "32nd", "13/1", "25/12", "31/10", "13/13",
            "2/3", "128/82", "19/11", "1", "4thru")
_AFTER = ("", ".", ",", " at", " and", " dose", "/", ".5", "3", "x", "  then", " ")


@st.composite
def _cued_text(draw: st.DrawFn) -> str:
    """Cue, whitespace, maybe "the", whitespace, a number, what follows; several in a row."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(st.sampled_from(_CUES)) + draw(st.sampled_from(_SPACES))
                     + draw(st.sampled_from(("", "the", "THE", "the  "))) + draw(
                         st.sampled_from(_SPACES)) + draw(st.sampled_from(_NUMBERS))
                     + draw(st.sampled_from(_AFTER)) + draw(st.sampled_from(_SPACES)))
    return "".join(parts)


@_SLOW
@given(_cued_text())
def test_cued_numbers_equal_the_cue_patterns(text: str) -> None:
    for rx, starts, at, cue in (
            (dateparts.ORDINAL, dateparts._DIGIT_AFTER_SPACE, dateparts._ORDINAL_AT,
             dateparts._ORDINAL_CUE_BEFORE),
            (dateparts.DAY_MONTH, dateparts._DAY_AFTER_SPACE, dateparts._DAY_MONTH_AT,
             dateparts._DAY_MONTH_CUE_BEFORE)):
        slow = [m.span(1) for m in rx.finditer(text)]
        fast = [(s, e) for s, e, _ in dateparts._cued_groups(text, starts, at, cue)]
        assert fast == slow, (rx.pattern[:20], text)


def _cued_search_alone(before: str) -> bool:
    """``knownuse._cued`` as it was: the search of the words before, then the cue table."""
    m = knownuse._WORDS_BEFORE.search(before)
    if m is None:
        return False
    words = m.group(1).lower().split()
    colon = ":" in m.group(2)
    return any((kind := knownuse._CUES.get(" ".join(words[i:]))) is not None
               and (colon or kind != "header") for i in range(len(words)))


_BEFORE_PIECES = (st.sampled_from(sorted({*knownuse._CUES, "Dr", "DR.", "Seen By", "x/dr", "pt",
                                          "Caller", "note", "me", "2", "[NAME]", "(", "O'Neil"}))
                  | st.text(alphabet=" \t.:,;-/'\nabDr", max_size=5))


@_SLOW
@given(st.lists(_BEFORE_PIECES, max_size=10))
@example(["lives w/ niece", ".\n"])  # "$" matches before a last line break
@example(["daughter", ":\n"])
def test_cued_equals_the_search_alone(parts: list[str]) -> None:
    before = "".join(parts)[-knownuse._BEFORE:]
    assert knownuse._cued(before) == _cued_search_alone(before), before
