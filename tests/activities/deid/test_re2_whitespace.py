"""RE2 over the column and ``re`` per text agree on control whitespace.

The column prefilters (``rules_pass.selected``, ``registry.triggered``,
``rules.active``) decide in RE2 which texts a rule runs on; the rules run in
``re``. ``re``'s ``\\s`` takes ``\\v`` and the separators ``\\x1c``-``\\x1f``
(and, on folded non-ASCII text, more), RE2's does not: a trigger written with
``\\s`` would pass over "Moved from\\vBoston" while the rule finds Boston. Every
text the per-text rules find something in must be selected by each prefilter;
generated texts put cue words, places, phones and addresses between every kind
of whitespace.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import cues, registry, rules, rules_pass
from medpipe.activities.deid.normalize import fold
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text

_SPACES = ("\v", "\x1c", "\x1d", "\x1e", "\x1f", "\f", "\r", "\t", "\n", " ", "  ",
           "\x85", "\xa0", "\u2028", "\u3000")
_PIECES = ("Moved from", "lives in", "resident of", "in", "near", "Boston", "Des Moines",
           "Tucson", ", AZ", ",", "Arizona", "Dr", "daughter", "Mary Smith", "seen by",
           "+44 20 7946 0958", "020 7946 0958", "10.20.30.40", "fe80::1", "3/4", "Apt", "12",
           "zip", "85701", "95", "yo", "M", ".", "[NAME]")


def _texts(pieces: list[str], seps: list[str]) -> list[str]:
    return ["".join(p + seps[i % len(seps)] for i, p in enumerate(pieces))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12),
       st.lists(st.sampled_from(_SPACES), min_size=1, max_size=12))
def test_prefilters_select_every_text_a_rule_finds_something_in(pieces: list[str],
                                                                seps: list[str]) -> None:
    texts = _texts(pieces, seps)
    col = pa.array(texts, pa.string())
    picked = rules_pass.selected(col)
    which = registry.triggered(col)
    table = rules.table()
    act = rules.active(col, table)
    for i, t in enumerate(texts):
        folded = fold(t)[0]
        for k, rule in enumerate(registry.RULES):
            if rule.find(folded):
                assert picked[i], (rule.name, t)
                assert which[i, k] != 0, (rule.name, t)
        text = cues.Text(folded)
        for k, r in enumerate(table):
            if r.find(text):
                assert act[k, i], (r.name, t)


def test_vertical_tab_before_a_place() -> None:
    """The column path takes the place the one-text path takes (it once kept it)."""
    for t in ("Moved from\vBoston last year.", "Moved from \x1cBoston.", "Moved from\vTucson, AZ"):
        got = scrub_column(pa.array([t]), None, Counter())[0].as_py()
        assert got == scrub_text(t, None, Counter()), t
        assert "Boston" not in got and "Tucson" not in got
