"""What is ``sealed-6``'s own: its registration, its people and its helpers' formats.

Generator self-checks only: they never run the scrubber, so they reveal nothing about how
the sealed set scores. The checks every blind set shares (spans in order, every category
planted, every form plants its value, no filler holds a value, ages over 89, misses never
printed) are ``test_deid_sealed.py``'s, over ``BLIND_SETS``.
"""

from __future__ import annotations

import datetime
import random
import re

from bench import _deid_sealed6 as s6
from bench import deid
from bench._deid_corpus import FILLER, FILLERS, SETS, deal_notes, make_identities


def test_registered_sealed_and_never_printed() -> None:
    assert SETS["sealed-6"] is s6.SEALED6
    assert FILLERS["sealed-6"] is s6.FILLER_SEALED6
    assert "sealed-6" in deid.SEALED


def test_add_people_adds_only_its_own_keys_and_is_seeded() -> None:
    """Only ``s6_`` keys are added (the other sets' fields stay as they were), the same
    seed gives the same people and another seed other people."""
    base = [{"given": "Ana", "family": "O'Neill", "relative": "Rosa", "mrn": "MRN1234567"}
            for _ in range(30)]
    a = [dict(p) for p in base]
    b = [dict(p) for p in base]
    c = [dict(p) for p in base]
    s6.add_people(a, 4)
    s6.add_people(b, 4)
    s6.add_people(c, 5)
    assert a == b and a != c
    for before, after in zip(base, a, strict=True):
        assert {k: v for k, v in after.items() if not k.startswith("s6_")} == before
        assert all(v and v.strip() == v for k, v in after.items() if k.startswith("s6_"))


def test_bsn_passes_the_eleven_test() -> None:
    rng = random.Random(1)
    for _ in range(300):
        bsn = s6._bsn(rng)
        assert re.fullmatch(r"[1-9]\d{8}", bsn), bsn
        digits = [int(c) for c in bsn]
        assert (sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=False))
                - digits[8]) % 11 == 0, bsn


def test_rrn_starts_with_the_birth_date_and_has_its_check_digit() -> None:
    rng = random.Random(2)
    for born in (datetime.date(1931, 3, 14), datetime.date(1999, 12, 1),
                 datetime.date(2003, 7, 28)):
        for _ in range(50):
            rrn = s6._rrn(rng, born)
            assert re.fullmatch(r"\d{6}-\d{7}", rrn), rrn
            assert rrn[:6] == born.strftime("%y%m%d")
            assert rrn[7] in ("12" if born.year < 2000 else "34")
            body = rrn.replace("-", "")
            total = sum(w * int(c) for w, c in zip((2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), body,
                                                   strict=False))
            assert int(body[12]) == (11 - total % 11) % 10


def test_dtg_julian_and_iso_week_read_back_to_their_date() -> None:
    rng = random.Random(3)
    for _ in range(300):
        d = s6._day(rng)
        hour, minute = rng.randint(0, 23), rng.randint(0, 59)
        dtg = s6._dtg(d, hour, minute)
        assert datetime.datetime.strptime(dtg, "%d%H%MZ%b%y") == datetime.datetime(
            d.year, d.month, d.day, hour, minute)
        assert s6._dtg(d, hour, minute, spaced=True) == f"{dtg[:7]} {dtg[7:10]} {dtg[10:]}"
        julian = s6._julian(d)
        assert re.fullmatch(r"\d{5}", julian)
        assert datetime.datetime.strptime(julian, "%y%j").date() == d
        week = s6._iso_week(d, with_day=True)
        year, wk, day = re.fullmatch(r"(\d{4})-W(\d{2})-([1-7])", week).groups()  # type: ignore[union-attr]
        assert datetime.date.fromisocalendar(int(year), int(wk), int(day)) == d
        assert s6._iso_week(d) == week[:8]


def test_spoken_date_writes_every_part_in_words() -> None:
    rng = random.Random(4)
    for _ in range(100):
        d = s6._late_day(rng)
        spoken = s6._spoken_date(d)
        assert not re.search(r"\d", spoken) and spoken == spoken.lower()
        month, day, *year = spoken.split(" ")
        assert s6.MONTHS.index(month) == d.month - 1
        assert s6.ORDINAL_WORDS[d.day] == day and " ".join(year) == s6.YEAR_WORDS[d.year]
    assert s6._spoken_date(datetime.date(2024, 3, 14)) == "march fourteenth twenty twenty-four"


def test_postcode_and_booking_reference_have_their_formats() -> None:
    rng = random.Random(5)
    for _ in range(300):
        assert re.fullmatch(r"[1-9]\d{3} [A-Z]{2}", s6._nl_postcode(rng))
        pnr = s6._pnr(rng)
        assert re.fullmatch(r"[A-Z2-9]{6}", pnr) and re.search(r"\d", pnr)
        assert re.search(r"[A-Z]", pnr) and not set(pnr) & set("IO01")


def test_dates_without_a_year_have_a_day_over_12() -> None:
    """A day of 12 or less could be a score or a dose of some filler, so the span would be
    found there."""
    rng = random.Random(6)
    people = make_identities(20, 6)
    for p in people:
        value, _ = s6._date_airline(rng, p)
        assert 12 < int(value[:2]) <= 28 and value[2:].capitalize() in s6.MON, value
        value, _ = s6._date_doi(rng, p)
        assert 12 < int(re.search(r"\d+", value).group()) <= 28, value  # type: ignore[union-attr]
        value, _ = s6._date_spoken(rng, p)
        assert any(value.split(" ")[1] == w for d, w in s6.ORDINAL_WORDS.items() if d > 12)


def test_the_markup_inside_a_span_is_filler_vocabulary() -> None:
    """A span split by ``&nbsp;``, ``</p><p>`` or RTF's ``\\line`` keeps those words: they are
    filler words, so a scrubber that removes the value around a tag left in place is not
    charged with the tag."""
    filler_words = {t for f in (FILLER, *FILLERS.values()) for s in f for t in deid.tokens(s)}
    rng = random.Random(7)
    people = make_identities(30, 7)
    markup = {"nbsp", "p", "line"}
    for form in (s6._name_html, s6._geo_markup_address, s6._date_html_onset):
        for p in people:
            value, _ = form(rng, p)
            assert markup & set(deid.tokens(value)), value
    assert markup <= filler_words


def test_no_new_filler_word_is_in_another_sets_spans() -> None:
    """The scorer drops every filler's words from every set's spans, so a word of this
    filler that no other filler holds, found in another set's span, would change that set's
    figures (checked on the notes of seeds 1-10 before committing; one seed here)."""
    others = {t for name, f in (("", FILLER), *FILLERS.items()) if name != "sealed-6"
              for s in f for t in deid.tokens(s)}
    new = {t for s in s6.FILLER_SEALED6 for t in deid.tokens(s)} - others
    assert new
    people = make_identities(200, 1)
    sets = [s for s in SETS if s != "sealed-6"]
    found = {t for n in deal_notes(people, sets, 150, 1) for span in n.spans
             for t in deid.tokens(span.text)} & new
    assert not found, sorted(found)
