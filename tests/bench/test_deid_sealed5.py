"""What is ``sealed-5``'s own: its registration, its people and its OCR and stray-space forms.

Generator self-checks only: they never run the scrubber, so they reveal nothing about how
the sealed set scores. The checks every blind set shares (spans in order, every category
planted, every form plants its value, no filler holds a value, ages over 89, misses never
printed) are ``test_deid_sealed.py``'s, over ``BLIND_SETS``.
"""

from __future__ import annotations

import random
import re

from bench import _deid_sealed5 as s5
from bench import deid
from bench._deid_corpus import FILLERS, SETS, make_identities


def test_registered_and_read_since_deid12h() -> None:
    """Read in deid12h after its recorded runs; held out no longer: its misses print."""
    assert SETS["sealed-5"] is s5.SEALED5
    assert FILLERS["sealed-5"] is s5.FILLER_SEALED5
    assert "sealed-5" not in deid.SEALED


def test_add_people_adds_only_its_own_keys_and_is_seeded() -> None:
    """Only ``s5_`` keys are added (the other sets' fields stay as they were), the same
    seed gives the same people and another seed other people."""
    base = [{"given": "Ana", "family": "Lopez", "zip": "85003"} for _ in range(30)]
    a = [dict(p) for p in base]
    b = [dict(p) for p in base]
    c = [dict(p) for p in base]
    s5.add_people(a, 4)
    s5.add_people(b, 4)
    s5.add_people(c, 5)
    assert a == b and a != c
    for before, after in zip(base, a, strict=True):
        assert {k: v for k, v in after.items() if not k.startswith("s5_")} == before
        assert all(v and v.strip() == v for k, v in after.items() if k.startswith("s5_"))


def test_ocr_swaps_at_least_one_confusable_and_nothing_else() -> None:
    rng = random.Random(1)
    for s in ("(602) 555-0123", "512-34-6789", "Costello", "85003", "03/14/1938"):
        for _ in range(50):
            read = s5._ocr(rng, s)
            assert read != s and len(read) == len(s)
            for was, now in zip(s, read, strict=True):
                assert was == now or {was, now} in ({"0", "O"}, {"1", "l"}, {"o", "0"})
    assert s5._ocr(rng, "Khumalo") != "Khumalo"
    assert s5._ocr(rng, "Ngata") == "Ngata"  # nothing to confuse: read right


def test_a_misread_value_always_differs_from_the_record() -> None:
    """The scanned forms' values are never the record's value read right."""
    rng = random.Random(4)
    for s in ("(264) 628-8975", "(602) 555-0123", "762-48-2693", "85003", "42679"):
        for _ in range(50):
            read = s5._misread(rng, s)
            assert read != s, s
            # Either OCR swapped a character (same length) or a stray space went in.
            assert len(read) == len(s) or read.count(" ") == s.count(" ") + 1, read


def test_gap_adds_one_stray_space_inside_the_value() -> None:
    rng = random.Random(2)
    for s in ("Rasmussenside", "512-34-6789", "Ana Lopez"):
        for _ in range(50):
            gapped = s5._gap(rng, s)
            assert gapped.count(" ") == s.count(" ") + 1
            assert gapped.strip() == gapped and "  " not in gapped
            i = next(k for k, (x, y) in enumerate(zip(s, gapped, strict=False)) if x != y)
            assert gapped[:i] + gapped[i + 1:] == s


def test_month_day_dates_without_a_year_have_a_day_over_12() -> None:
    """A bare ``m/d`` or ``d/m`` (or a day range) whose day were 12 or less could be a
    score or a dose of some filler, so its span would be found there."""
    rng = random.Random(3)
    people = make_identities(20, 3)
    for form, day_first in ((s5._date_pod, False), (s5._date_birth, True),
                            (s5._date_takehome, True)):
        for p in people:
            value, _ = form(rng, p)
            nums = [int(n) for n in re.findall(r"\d+", value)]
            days, month = (nums[:-1], nums[-1]) if day_first else (nums[1:], nums[0])
            assert 1 <= month <= 12 and all(12 < d <= 30 for d in days), value


def test_foreign_ids_have_their_formats() -> None:
    """South African ID (13 digits, the birth date first), NZ NHI (three letters without
    I or O, four digits), CURP (18 characters, the same birth date), Aadhaar (three groups
    of four digits), Eircode (routing key, space, four characters)."""
    people = make_identities(40, 6)
    for p in people:
        assert re.fullmatch(r"\d{13}", p["s5_sa_id"]), p["s5_sa_id"]
        assert p["s5_curp"][4:10] == p["s5_sa_id"][:6] and len(p["s5_curp"]) == 18
        assert re.fullmatch(r"[A-HJ-NP-Z]{3}\d{4}", p["s5_nhi"]), p["s5_nhi"]
        assert re.fullmatch(r"[2-9]\d{3} \d{4} \d{4}", p["s5_aadhaar"]), p["s5_aadhaar"]
        assert re.fullmatch(r"[A-Z]\d{2} [A-Z0-9]{4}", p["s5_eircode"]), p["s5_eircode"]
