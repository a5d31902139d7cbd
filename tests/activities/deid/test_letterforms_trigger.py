"""letter-forms' trigger after a replaced name: tight, and still a superset of its finds.

The after-mark form (``[NAME] macleod``) ran on every note whose ``[NAME]`` a lower-case
word follows: all of the reference release's (``[NAME] seen on``), in the scrubber and
again in the residual check. The trigger now leaves out the words after a name that no
name word is (``letterforms.AFTER_NAME_WORDS``, written as RE2 by ``otherword.none_of``).
Each text the rule finds something in must still be selected, as the column path
(``rules.active``: relaxed, case-insensitive, RE2) reads the trigger: generated texts of a
cue, a replaced name and the words that may follow it are checked against the rule run on
every text. Two cues the same checks found short of their forms (a capitalized word after
``dr christopher``, a salutation over a line break) are held to the per-text path too.
"""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import detect, letterforms, rules
from medpipe.activities.deid.namelists import dictionary
from medpipe.activities.deid.otherword import none_of
from medpipe.activities.pseudonymize.scrub import scrub_rules

_RULE = next(r for r in rules.MODULE_RULES if r.name == "letter-forms")


def selected(texts: list[str]) -> list[bool]:
    """Which texts the column path gives letter-forms to (as the scrubber and the check do)."""
    return rules.active(pa.array(texts, pa.string()), [_RULE])[0].tolist()


def test_no_stop_word_is_a_name_word() -> None:
    """The trigger may skip a word only when ``_continued`` never takes it."""
    for w in letterforms.AFTER_NAME_WORDS:
        for form in (w, w.capitalize(), w.upper()):
            assert not letterforms._name_word(form), form
        assert w not in letterforms._PARTICLES, w


def test_reference_notes_are_not_selected() -> None:
    """The reference release's note, names replaced: nothing for letter-forms to read."""
    note = ("[NAME] seen on [DATE]; call [PHONE] or [EMAIL]. HbA1c 6.0, BP 142/80. SSN on "
            "file [SSN], [MRN]. LDL 115 BMI 33.2")
    assert letterforms.find(note) == []
    assert selected([note, note.replace("seen", "reports"), note.replace("seen", "Was")]) == \
        [False, False, False]
    assert selected([note.replace("seen", "macleod seen")]) == [True]


_WORD = r"[A-Za-z][A-Za-z'-]*"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(("seen", "see", "is", "it's", "follow-up", "ab", "abc", "x")),
                min_size=1, max_size=6),
       st.lists(st.text(alphabet="abceisnfoluwpxSE'-", min_size=1, max_size=7), max_size=8),
       st.sampled_from((" ", ", ", "\n", "")))
@example(["seen", "see"], ["seen", "seer", "se", "Seen", "seen-", "see'"], " ")
def test_none_of_matches_the_words_not_listed(listed: list[str], words: list[str],
                                              sep: str) -> None:
    """At a word's start, ``none_of`` matches exactly when the whole word is not listed
    (any case), in Python ``re`` and in RE2 alike."""
    pattern = none_of(listed)
    low = {w.lower() for w in listed}
    texts = [" " + w + sep for w in words]
    got_re2 = [bool(x) for x in pa.compute.match_substring_regex(
        pa.array(texts, pa.string()), r"(?:^|[^A-Za-z'-])" + pattern).to_pylist()]
    for text, re2_hit in zip(texts, got_re2, strict=True):
        heads = re.findall(r"(?<![A-Za-z'-])" + _WORD, text)
        want = any(h.lower() not in low for h in heads)
        assert (re.search(r"(?<![A-Za-z'-])" + pattern, text) is not None) == want, text
        assert re2_hit == want, text


def test_none_of_refuses_what_is_no_word() -> None:
    for bad in ("", "'s", "a b", "café", "x1"):
        try:
            none_of([bad])
        except ValueError:
            continue
        raise AssertionError(bad)


def _names() -> list[str]:
    given_, family = dictionary()
    return sorted(given_)[::97] + sorted(family)[::211]


_CUES = ("", "Seen with ", "told ", "called ", "patient ", "pt ", "patient kevim ", "Dear Ms ",
         "Sra. ", "Ana's de ", "Jerome de la ", "dr christopher ", "daughter ", "Kevim ",
         "'Tito' ", "Signed: ")
_AFTER = (*letterforms.AFTER_NAME_WORDS[::3], "Seen", "WAS", "Reports", "de", "la", "mac",
          "o", "an", "y", "van", "macleod", "toledo", "martin", "bill", "rose", "back", "will",
          "tSaoir", "Bhride", "[NAME]", "today", "seen-", "was's", "x")


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_CUES),
       st.lists(st.one_of(st.sampled_from(_AFTER), st.sampled_from(_names())), min_size=1,
                max_size=4),
       st.lists(st.sampled_from((" ", "  ", "\n", "\t", ", ", " ")), min_size=1, max_size=4),
       st.sampled_from(("", ".", ",", " seen today.", " was here", "\n")))
@example("", ["martin", "toledo"], [" "], "")
@example("", ["de", "seen"], [" "], "")
@example("patient ", ["[NAME]", "seen"], [" "], "")
@example("patient kevim ", ["seen"], [" "], "")
@example("Ana's de ", ["is"], [" "], "")  # PARTICLE_NAME after a possessive-looking word
def test_trigger_selects_every_text_the_rule_finds_something_in(
        cue: str, words: list[str], seps: list[str], tail: str) -> None:
    text = cue + "[NAME]" + "".join(seps[i % len(seps)] + w for i, w in enumerate(words)) + tail
    if letterforms.find(text):
        assert selected([text]) == [True], text


@pytest.mark.parametrize("text", [
    "seen by dr christopher Macleod today",  # _continued after a lower-case title: any case
    "Dear Ms Anna\nBhride,\nthanks for seeing her",  # a salutation over a line break
])
def test_column_path_finds_what_the_rule_finds(text: str) -> None:
    """The trigger missed these (the scrubber and the check left ``Macleod``, ``Bhride``)."""
    assert letterforms.find(text)
    assert selected([text]) == [True]
    spans = detect.find(text, None, patterns=False)
    assert scrub_rules(pa.array([text]), Counter()).to_pylist() == [detect.replace(text, spans)]
