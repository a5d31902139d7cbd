"""Issue 12, deid12g (precision): clinical content is no identifier. Every phrase of the trap
corpus (``clinical_phrases``: scores and ranges over a maximum, UK durations, obstetric
notation, scales, doses, device settings, lab values, vital signs, times, eponyms, drug and
device names that are also names or places, abbreviations shaped like ids, titles alone;
written for these tests in UK, US, AU, NZ, ZA, IE and IN styles) must come out of both
scrub paths unchanged and pass the residual check.

For each rule deid12g changed, the identifiers on the other side of its boundary must still
go (both paths, and the residual check finds nothing in the column path's output): a date
with a year in any separator (``8/10/2024``, ``13/12/19``, ``3/4/21``; a dash then a
slash before two digits, ``8-10/10``, is a range only when it rises, no date's word comes
before it and a score or quantity word or a UK count of days or months says so:
``DOB 03-04/85`` is a date); a month/day after a date's word or a
noun; a range of days in a month that is not July or December; a name after a community's
or a faith's title (the title stays). The forms removing stays the safer side of are pinned
too (``REMOVED_ON_PURPOSE``).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.residual import scan
from tests.activities.deid.clinical_phrases import PHRASES
from tests.activities.deid.test_general_forms5 import both, kept
from tests.activities.deid.test_general_forms7 import GIVEN
from tests.activities.deid.test_general_forms9 import clean


@pytest.mark.parametrize("text", PHRASES, ids=range(len(PHRASES)))
def test_clinical_phrase_kept(text: str) -> None:
    kept(text)
    assert scan(text, None, free_text=True) == Counter(), text


def test_the_corpus_is_large_and_has_no_repeats() -> None:
    assert len(PHRASES) >= 400
    assert len(set(PHRASES)) == len(PHRASES)


#: Forms whose value stays removed on purpose, with the value: each reads as a date as well
#: as a clinical value, and removing is the safer side of the ambiguity.
REMOVED_ON_PURPOSE = (
    # one day or month count after a noun: the day a symptom began reads the same, and a
    # US writer's ``5/7`` is the 7th of May
    ("Fever 5/7, rigors.", "5/7"),
    ("Diarrhoea 2/7, tolerating fluids.", "2/7"),
    ("Wt loss 6/12, night sweats.", "6/12"),
    ("F/U 3/12 in clinic.", "3/12"),
    # ``for`` after a booking, ``since``: a date
    ("Booked for 5/7 in clinic.", "5/7"),
    ("Symptoms since 3/12.", "3/12"),
    # a range up to a maximum with no score's word before it: the 4th to the 5th of May
    ("On leave 4-5/5.", "5/5"),
    # a Snellen fraction with no word of vision: an appointment's day
    ("Eye clinic 6/12.", "6/12"),
    # an examination's series broken by a date's word
    ("Power 4/5, reviewed on 3/5.", "3/5"),
    # one count after "for": three months to a UK writer, 12 March to a US one
    ("Symptoms for 3/12, worse at night.", "3/12"), ("Abx for 5/7 then stop.", "5/7"),
    ("Sore throat for 4/7.", "4/7"), ("Prednisolone 40 mg for 5/7.", "5/7"),
    # a year and a month in digits after a reference's letters; seven digits or more
    ("Per NICE NG/2019/12 guidance.", "2019/12"),
    ("SNOMED 44054006.", "44054006"),
)


@pytest.mark.parametrize(("text", "value"), REMOVED_ON_PURPOSE)
def test_ambiguous_forms_stay_removed(text: str, value: str) -> None:
    clean(text, value)


# --------------------------------------------------------------- dates on the other side

@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 28),
    st.integers(1, 12),
    st.integers(1931, 2029),
    st.sampled_from(("/", "-", ".", "/-", "./", "-.", "-/")),
    st.booleans(),
    st.sampled_from(("Seen on {}.", "DOB {}", "Admitted {}; home after.", "Scan dated {},\nok.")),
)
def test_numeric_dates_with_a_year_stay_dates(d: int, m: int, y: int, seps: str, short: bool,
                                              template: str) -> None:
    first, second = seps if len(seps) == 2 else (seps, seps)
    year = f"{y % 100:02d}" if short else str(y)
    date = f"{d}{first}{m}{second}{year}"
    clean(template.format(date), date)


@pytest.mark.parametrize(("text", "value"), (
    ("Seen on 8/10/2024.", "8/10/2024"), ("DOB 13/12/19.", "13/12/19"),
    ("Last seen 3/4/21 in clinic.", "3/4/21"), ("Op 8-10/2024.", "8-10/2024"),
    ("Bloods 3/4/21, repeat due.", "3/4/21"), ("Scan 13.12.19 normal.", "13.12.19"),
    ("Admitted 03/04-24.", "03/04-24"), ("Pain since 8/10/24.", "8/10/24"),
))
def test_named_dates_stay_dates(text: str, value: str) -> None:
    clean(text, value)


@pytest.mark.parametrize(("text", "value"), (
    # a dash then a slash before two digits: a date unless a rising range a score, a
    # quantity or a UK count of days or months explains
    ("DOB 03-04/85", "03-04/85"), ("DOB: 3-4/12.", "3-4/12"), ("Born 1-2/07 at term.", "1-2/07"),
    ("Seen 3-12/24 in clinic.", "3-12/24"), ("Admitted 12-03/24.", "12-03/24"),
    ("Results 12-03/24 normal.", "12-03/24"), ("Bloods 3-11/23 unremarkable.", "3-11/23"),
    ("Next appt 2-3/25.", "2-3/25"), ("Pain 10-8/10 then.", "10-8/10"),
))
def test_a_dash_slash_date_stays_a_date(text: str, value: str) -> None:
    clean(text, value)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 28),
    st.sampled_from(("Seen {}.", "Bloods {}, repeat due.", "Last seen {} in clinic.",
                     "Reviewed on {}.", "Booked for {}.", "Since {}, worse.", "Fall {}; ok.")),
)
def test_month_day_after_a_date_word_or_a_noun_stays_a_date(m: int, d: int,
                                                           template: str) -> None:
    date = f"{m}/{d}"
    clean(template.format(date), date)


@pytest.mark.parametrize(("text", "value"), (
    # words beside the new cues that are a service, a place, a test or a meal before a date
    ("Seen at VA 6/12 for f/u.", "6/12"), ("Letter 3/4 re referral.", "3/4"),
    ("Letter 3/4 RE: referral.", "3/4"), ("HIV 3/4 negative.", "3/4"),
    ("COVID-19 3/4, isolated.", "3/4"), ("Transferred to Oxford 3/5.", "3/5"),
    ("Ate breakfast 3/4 then vomited.", "3/4"), ("Last seen 4/4", "4/4"),
))
def test_a_date_beside_words_like_the_new_cues_stays_a_date(text: str, value: str) -> None:
    clean(text, value)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 10),
    st.sampled_from((1, 2, 3, 4, 5, 6, 8, 9, 10, 11)),
    st.sampled_from(("On leave {}; cover arranged.", "Inpatient {} at the county site.")),
)
def test_a_range_of_days_in_a_month_stays_a_date(first: int, more: int, month: int,
                                                 template: str) -> None:
    last = max(first + more, 13)
    value = f"{first}-{last}/{month}"
    clean(template.format(value), f"{last}/{month}")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12),
    st.sampled_from((7, 12)),
    st.sampled_from(("Fever {}, rigors.", "Seen {} in clinic.", "Booked for {}.",
                     "Since {}, no change.", "Headache for {}, no photophobia.")),
)
def test_one_count_without_a_duration_word_stays_a_date(n: int, den: int,
                                                        template: str) -> None:
    value = f"{n}/{den}"
    clean(template.format(value), value)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 11),
    st.sampled_from((7, 12)),
    st.sampled_from(("Cough x {}.", "Weight loss over {}.",
                     "Symptoms started {} ago.", "Hx of {} back pain.")),
)
def test_a_day_or_month_count_after_a_duration_word_is_kept(n: int, den: int,
                                                            template: str) -> None:
    kept(template.format(f"{n}/{den}"))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 9),
    st.integers(1, 6),
    st.sampled_from((5, 10, 15)),
    st.sampled_from(("Pain {} on movement.", "GCS {} overnight.", "Power {} in all limbs.",
                     "Score {} on the scale.")),
)
def test_a_range_over_a_maximum_after_a_score_word_is_kept(low: int, more: int, top: int,
                                                           template: str) -> None:
    high = min(low + more, top)
    if high <= low:
        return
    kept(template.format(f"{low}-{high}/{top}"))


# ----------------------------------------------------------------------- titles and names

TITLES = ("Pastor", "Alhaji", "Alhaja", "Hajia", "Mallam", "Imam", "Sheikh", "Deacon",
          "Bishop", "Chief", "Elder", "Rabbi", "Reverend", "Evangelist", "Apostle")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(TITLES),
    st.sampled_from(GIVEN),
    st.sampled_from(("Obi", "Bello", "Okafor", "Mensah", "Haddad", "Levy")),
    st.sampled_from(("{} visited today.", "Seen with {} this morning.",
                     "Family spokesman is {}, please call.")),
)
def test_a_title_stays_and_the_name_after_it_goes(title: str, given_name: str, family: str,
                                                  template: str) -> None:
    given_name = given_name.capitalize()
    text = template.format(f"{title} {given_name} {family}")
    clean(text, given_name, family)
    for out in both(text):
        assert f"{title} [NAME]" in out, (text, out)


def test_initials_before_a_credential_still_go() -> None:
    """``CXR PA`` is a film and its view; initials that spell a word, with a comma or before
    another credential, are a signature still."""
    for text, value in (("Note by - JAM, PA", "JAM"), ("- DEB, RN", "DEB"),
                        ("Seen by - ASH, PA-C", "ASH"), ("cosigned - PF, OTR/L", "PF")):
        clean(text, value)


def test_a_title_word_as_a_family_name_after_a_courtesy_title_still_goes() -> None:
    for text, value in (("Mrs Bishop was seen in clinic.", "Bishop"),
                        ("Dr Imam reviewed the chart.", "Imam"),
                        ("Spoke with Mr Pastor by phone.", "Pastor")):
        clean(text, value)
