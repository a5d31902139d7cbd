"""Ages over 89 in a handover's shorthand: a ``y`` glued to the number (``94y``) and a sex
and a slash before it (``F/94``, ``M / 101``). Both must be gone from the column path and
the one-text path, and the residual check must find them in the raw text and nothing in the
scrubbed column. Traps: the same shapes under 90 (not Safe Harbor PHI), a pressure
(``140/94``), a P/F ratio, ``f/u`` and a pulse stay whole.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from medpipe.activities.residual import scan
from tests.activities.deid.test_general_forms5 import kept
from tests.activities.deid.test_general_forms9 import clean

TEMPLATES = ("Handover: Mrs Q, {}, fall at home.", "{} with delirium, NBM.", "Bed 4 ({}) for CT.",
             "Pt {}\nawaiting OT.")


@settings(max_examples=60, deadline=None)
@given(st.integers(90, 119), st.sampled_from(("y", "Y")), st.sampled_from(TEMPLATES))
def test_an_age_with_a_glued_y(age: int, unit: str, template: str) -> None:
    value = f"{age}{unit}"
    assert scan(template.format(value), None, free_text=True)["AGE>89"] == 1
    clean(template.format(value), str(age))


@settings(max_examples=60, deadline=None)
@given(st.integers(90, 119), st.sampled_from(("F", "M", "f", "m")),
       st.sampled_from(("/", " / ", "/ ")), st.sampled_from(TEMPLATES))
def test_a_sex_and_a_slash_before_an_age(age: int, sex: str, slash: str, template: str) -> None:
    text = template.format(f"{sex}{slash}{age}")
    assert scan(text, None, free_text=True)["AGE>89"] == 1
    clean(text, str(age))


@settings(max_examples=40, deadline=None)
@given(st.integers(18, 89), st.sampled_from(TEMPLATES))
def test_the_same_shapes_under_ninety_stay(age: int, template: str) -> None:
    kept(template.format(f"{age}y"))
    kept(template.format(f"F/{age}"))


def test_look_alikes_stay() -> None:
    for text in ("BP 140/94 sitting.", "P/F 94 on 2L.", "f/u 94 days post-op.", "HR 94, SpO2 96%.",
                 "Dx F03.90, on donepezil.", "m/s 95 on the treadmill"):
        kept(text)
        assert scan(text, None, free_text=True) == Counter(), text
