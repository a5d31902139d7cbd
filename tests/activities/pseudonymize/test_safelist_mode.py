"""The ``text_mode`` policy option: refused when unknown, carried into the residual check."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import yaml
from click.testing import CliRunner

from medpipe.activities.pseudonymize import default_policy
from medpipe.activities.pseudonymize.policy import parse_policy
from medpipe.activities.residual import DigestSet
from medpipe.activities.residual_scan import scan_dataset
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import TextMode
from medpipe.workers.cli_pseudo import pseudonymize_cmd

_TABULAR = "fields:\n  pid: {action: token}\n  notes: {action: scrub%s}\n"


def test_text_mode_defaults_to_grammar_and_is_read_per_column_or_policy() -> None:
    p = parse_policy(_TABULAR % "")
    assert p.text_mode is TextMode.GRAMMAR and p.safe_list_fields() == []
    p = parse_policy(_TABULAR % ", text_mode: safe-list")
    assert p.safe_list_fields() == ["notes"]
    p = parse_policy("text_mode: safe-list\n" + _TABULAR % "")
    assert p.safe_list_fields() == ["notes"]
    p = parse_policy("text_mode: safe-list\n" + _TABULAR % ", text_mode: grammar")
    assert p.safe_list_fields() == []


@pytest.mark.parametrize(("text", "says"), [
    (_TABULAR % ", text_mode: allow-list", "fields.notes.text_mode"),
    ("text_mode: philter\n" + _TABULAR % "", "text_mode"),
    ("fields:\n  pid: {action: token, text_mode: safe-list}\n", "applies to scrub only"),
    ("format: fhir\ntext_mode: safe-list\nfields:\n  '*.text': {action: scrub}\n",
     "tabular policies only"),
])
def test_unknown_or_misplaced_text_mode_is_refused(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_policy(text, "p.yaml")
    assert says in str(e.value) and "p.yaml" in str(e.value)


def _csv(path: Path, notes: list[str]) -> Path:
    pacsv.write_csv(pa.table({"notes": notes}), path)
    return path


def test_residual_check_counts_unsafe_words_in_safe_list_columns_only(tmp_path: Path) -> None:
    key = b"k" * 32
    safe = DigestSet.from_values(key, ["zz-unused"])
    safe.safe_list = frozenset({"notes"})
    again = DigestSet.from_bytes(key, safe.to_bytes())  # travels to the validate stage
    assert again.safe_list == {"notes"} and len(again) == len(safe)
    plain = DigestSet.from_bytes(key, DigestSet.from_values(key, ["zz-unused"]).to_bytes())
    assert plain.safe_list == frozenset()
    clean = _csv(tmp_path / "a.csv", ["Seen by [REDACTED] on [DATE]; BP 128/82.", "ok"])
    left = _csv(tmp_path / "b.csv", ["Plan reviewed; zorbulon quaxley agrees. BP 128/82.", "ok"])
    assert scan_dataset([clean.read_bytes()], "csv", again).found == 0
    tally = scan_dataset([left.read_bytes()], "csv", again)
    assert tally.found == 1 and "unsafe word 2" in tally.summary()
    assert "zorbulon" not in tally.summary()  # counts, never values
    assert scan_dataset([left.read_bytes()], "csv", plain).found == 0  # grammar mode: no list


def test_cli_pseudonymize_in_safe_list_mode(cohort: pa.Table, tmp_path: Path) -> None:
    policy = default_policy().model_dump(mode="json", exclude_none=True)
    policy["fields"]["notes"]["text_mode"] = "safe-list"
    path = tmp_path / "safe.yaml"
    path.write_text(yaml.safe_dump(policy))
    table = cohort
    notes = table.column("notes").to_pylist()
    notes[0] = "Seen with Kazutro Velquen; metformin 500 mg, BP 128/82."
    src = tmp_path / "in.csv"
    pacsv.write_csv(table.set_column(table.schema.get_field_index("notes"), "notes",
                                     pa.array(notes)), src)
    out = tmp_path / "o.csv"
    res = CliRunner().invoke(pseudonymize_cmd, [str(src), str(out), "--policy", str(path),
                                                "--vault", str(tmp_path / "v.json")])
    assert res.exit_code == 0, res.output  # its own residual check passes
    report = json.loads(res.output)
    assert report["placeholders"]["REDACTED"] >= 2
    first = pacsv.read_csv(out).column("notes")[0].as_py()
    assert "Kazutro" not in first and "Velquen" not in first
    assert "metformin 500 mg, BP 128/82." in first


@pytest.mark.parametrize("processes", [1, 2])
def test_validate_stage_blocks_an_unsafe_word_in_a_safe_list_column(processes: int) -> None:
    """The safe-list columns ride with the digests into the residual pool's processes."""
    from medpipe.activities.validate import validate_batches

    digests = DigestSet.from_values(b"k" * 32, ["zz-unused"])
    digests.safe_list = frozenset({"notes"})
    notes = ["Seen on [DATE]; BP 128/82."] * 50 + ["plan reviewed; zorbulon agrees."]
    batch = pa.record_batch({"pid": [f"t{i}" for i in range(51)], "notes": notes})
    report = validate_batches(iter([batch]), None, digests, processes=processes, chunk_rows=16)
    failed = {c.column: c for c in report.residual_failures}
    assert list(failed) == ["notes"] and failed["notes"].unexpected_count == 1
    assert "unsafe word 1" in failed["notes"].rule
