"""The safe-list (allow-list) text mode: unknown words never survive, safe words always do.

Runs the real pipeline (``Pseudonymizer`` with a ``text_mode: safe-list``
policy: grammar scrubber, then the safe list) and ``safelist.redact`` on its own.
"""

from __future__ import annotations

import io
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpipe.activities.deid import safelist
from medpipe.activities.deid.normalize import tokens
from medpipe.activities.pseudonymize import Vault
from medpipe.activities.pseudonymize.run import Pseudonymizer
from medpipe.contracts.pseudonymize import FieldRule, Placeholder, Policy, TextMode

SAFE, LOWER_ONLY = safelist.vocabulary()
#: Plain safe words (letters only, not also a name): the sentences' material.
WORDS = sorted(w for w in SAFE if w.isalpha() and 3 <= len(w) <= 12)[::97]


def _policy(mode: TextMode = TextMode.SAFE_LIST) -> Policy:
    return Policy(patient_id="pid", text_mode=mode, fields={
        "pid": FieldRule(action="token", placeholder="MRN"),
        "name": FieldRule(action="drop", identifier=True, placeholder="NAME"),
        "notes": FieldRule(action="scrub")})


def _not_safe(w: str) -> bool:
    return w.lower() not in SAFE and w.lower() not in LOWER_ONLY


invented = st.text("abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=10) \
    .map(str.capitalize).filter(_not_safe)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS), invented),
                min_size=1, max_size=6))
def test_invented_capitalized_words_never_survive_and_safe_words_always_do(
        parts: list[tuple[str, str, str]]) -> None:
    note = " ".join(f"{a} {b} {x}," for a, b, x in parts) + " done."
    out = safelist.redact(note)
    left = set(tokens(out))
    for a, b, x in parts:
        assert x.lower() not in left, (x, out)
        assert a in left and b in left, (a, b, out)
    assert out.count(safelist.REDACTED) == len(parts)


def test_pipeline_in_safe_list_mode_removes_what_the_grammar_leaves() -> None:
    notes = ["Seen with Kazutro Velquen today; wife Ysolde present. Plan: metformin 500 mg.",
             "Follow-up with Dr. Brightwater in 2 weeks; BP 128/82, HbA1c 7.2."]
    grammar, _ = _scrub(notes, TextMode.GRAMMAR)
    assert "Kazutro" in grammar[0]  # no cue, no dictionary: the grammar keeps it
    out, counts = _scrub(notes, TextMode.SAFE_LIST)
    for word in ("Kazutro", "Velquen", "Ysolde", "Brightwater"):
        assert word not in out[0] + out[1]
    assert "metformin 500 mg" in out[0] and "BP 128/82, HbA1c 7.2" in out[1]
    assert counts[Placeholder.REDACTED.value] >= 2


def _scrub(notes: list[str], mode: TextMode) -> tuple[list[str], Counter[str]]:
    table = pa.table({"pid": [f"p{i}" for i in range(len(notes))],
                      "name": ["Ada Quist"] * len(notes), "notes": notes})
    run = Pseudonymizer(_policy(mode), Vault.in_memory(), source="t")
    run.learn_batches(table.to_batches())
    data = b"".join(run.tabular_batches(iter(table.to_batches()), "parquet"))
    assert run.report is not None
    out = pq.read_table(io.BytesIO(data))
    return out.column("notes").to_pylist(), Counter(run.report.placeholders)


@pytest.mark.parametrize("text", [
    "Started metformin 500 mg twice daily, atorvastatin 40mg at night, Lasix 20 mg IV.",
    "Tylenol 650 mg q6h PRN; heparin 5,000 units SC; insulin glargine 10 units.",
    "Tenderness over the left femur and both ankles; no edema; abdomen soft, nontender.",
    "BP 128/82, HR 72, RR 16, SpO2 94% on 2 L, T 36.8, weight 82.5 kg, pain 3/10.",
    "HbA1c 7.2, LDL 130 mg/dL, eGFR 58, K 4.1 mmol/L; CXR clear; EKG sinus rhythm.",
    "History of Parkinson disease and Graves disease; Foley catheter removed at 0745.",
    "Gleason 4+3, Breslow 1.2 mm; Snellen 20/40; vitamin D low; hepatitis B immune.",
    "Follow-up in 2 weeks; x-ray of the L4-L5 spine; non-tender; G3P2012; q4h.",
])
def test_precision_traps_stay(text: str) -> None:
    assert safelist.redact(text) == text


@pytest.mark.parametrize(("text", "gone"), [
    ("Visited by Anne-Marie today.", "Anne-Marie"),
    ("Daughter O'Brien called.", "O'Brien"),
    ("ID AB12345 on file.", "AB12345"),
    ("Number 48213977 confirmed.", "48213977"),
    ("Grace visited.", "Grace"),  # also a name: capitalized, it is taken as the name
    ("Seen by JK.", "JK"),
])
def test_unsafe_tokens_go(text: str, gone: str) -> None:
    out = safelist.redact(text)
    assert gone not in out and safelist.REDACTED in out


def test_placeholders_and_lower_case_ambiguous_words_stay() -> None:
    assert safelist.redact("[NAME] saw [DATE]; grace period; rose to 140.") == \
        "[NAME] saw [DATE]; grace period; rose to 140."
    assert safelist.unsafe_count("[REDACTED] [AGE>89] [ID] ok") == 0


def test_redact_column_counts_and_keeps_nulls() -> None:
    counts: Counter[str] = Counter()
    col = pa.array(["Seen by Zorbulon.", None, "Seen by Zorbulon.", "all well"])
    out = safelist.redact_column(col, counts)
    assert out.to_pylist() == ["Seen by [REDACTED].", None, "Seen by [REDACTED].", "all well"]
    assert counts == {"REDACTED": 2}
    mask, n = safelist.unsafe_rows(col)
    assert mask.tolist() == [True, False, True, False] and n == 2
