"""The narrowed triggers (issues 17 and 12): tight on the notes that cost, still supersets.

``bench/deid_triggers.py`` showed triggers that select far more notes than their rule finds
something in (``date-parts``: every blood pressure ``121/80`` held its day/month cue
``21/8``). Each was narrowed to what its rule needs around the number or the word; each
must still select every text its rule finds something in, as the column path reads it
(``rules.active``: RE2, case-insensitive, relaxed) and as the exact trigger reads it.
Generated texts of the forms' pieces (cues, numbers, slashes, dashes, marks, whitespace of
every kind) are checked against the rule run on every text; ``MEDPIPE_HYPOTHESIS=explore``
draws them at random.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import dateparts, registry, rules


def _table_rule(name: str) -> rules.AnyRule:
    return next(r for r in rules.table() if r.name == name)


def selected(name: str, texts: list[str]) -> list[bool]:
    """Which texts the column path gives the rule ``name`` to."""
    return rules.active(pa.array(texts, pa.string()), [_table_rule(name)])[0].tolist()


def covers(name: str, text: str, found: bool) -> None:
    """When the rule found something in ``text`` (one RE2 can judge), its trigger selects
    it: exact (as ``test_rules.check`` reads it) and relaxed (as ``rules.active`` does)."""
    col = pa.array([text], pa.string())
    if not found or registry.re2_unsafe(col)[0]:
        return
    exact = pc.match_substring_regex(col, "(?i)" + _table_rule(name).trigger)[0].as_py()
    assert exact and selected(name, [text]) == [True], (name, text)


def test_blood_pressure_is_no_date_cue() -> None:
    """A ratio inside a longer run of digits and slashes selects nothing; a cued day/month
    still does."""
    notes = ["BP 121/80 HR 72", "ratio 1:3, 121/80/70", "seen 3/4 at 2/3 strength",
             "hemoglobin 13/10 trend"]
    assert selected("date-parts", notes) == [False] * len(notes)
    assert selected("date-parts", ["seen on 25/12.", "dated 14/3", "due on 5-28"]) \
        == [True, True, True]


_DATE_PIECES = (
    "on", "seen", "due", "as of", "since", "for", "to", "the", "BP", "dated:", "appt",
    "121/80", "21/8", "25/12", "14/3", "13/09", "31/1", "3/4", "5-28", "11-3", "2-3", "12-31",
    "4th", "21st", "2nd", "3rd", "the 4th", "Mar", "March", "3", "19", "'19", "25", "[DATE]",
    "mg", "pm", "am", "at", "and", "dose", "/", "-", ".", ",", ":", ";", "1", "0", "a", "_",
    "\n", "\t", "\v", "  ", " ")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_DATE_PIECES), min_size=1, max_size=16),
       st.lists(st.sampled_from((" ", "", "\n", ", ", "\t", "  ", ": ", "/", "-", ".")),
                min_size=1, max_size=16))
@example(["on", "25/12"], [" ", ""])
@example(["seen", "14/3", "."], [" ", ""])
@example(["due", "on", "5-28", "pm"], [" "])
def test_date_parts_trigger_covers_generated(pieces: list[str], seps: list[str]) -> None:
    text = "".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))
    covers("date-parts", text, bool(dateparts.find(text)))

