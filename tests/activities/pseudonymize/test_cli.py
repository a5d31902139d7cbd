"""The pseudonymization CLI commands (registered on ``medpipe`` by the lead)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
from click.testing import CliRunner

from medpipe.workers.cli_pseudo import policy_group, pseudonymize_cmd, reidentify_cmd


def test_pseudonymize_then_reidentify(cohort_csv: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out, vault = tmp_path / "o.csv", tmp_path / "vault.json"
    res = runner.invoke(pseudonymize_cmd, [str(cohort_csv), str(out), "--vault", str(vault)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["records"] == 180 and report["new_tokens"] == 60
    token = pacsv.read_csv(out).column("patient_id")[0].as_py()
    original = pacsv.read_csv(cohort_csv).column("patient_id")[0].as_py()
    res = runner.invoke(reidentify_cmd, [token, "--vault", str(vault), "--reason", "audit"])
    assert res.exit_code == 0 and res.output.strip() == original
    res = runner.invoke(reidentify_cmd, ["pt_unknown", "--vault", str(vault), "--reason", "x"])
    assert res.exit_code == 2 and "not issued" in res.output


def test_policy_init_drafts_a_usable_policy(cohort_csv: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    draft = tmp_path / "policy.yaml"
    res = runner.invoke(policy_group, ["init", str(cohort_csv), "--out", str(draft)])
    assert res.exit_code == 0, res.output
    text = draft.read_text()
    assert "patient_id: patient_id" in text
    assert "ssn: {action: drop" in text and "notes: {action: scrub}" in text
    assert "zip: {action: generalize, kind: zip3}" in text
    assert "MRN0" not in text and "@example.org" not in text
    res = runner.invoke(pseudonymize_cmd, [str(cohort_csv), str(tmp_path / "o.csv"),
                                           "--policy", str(draft)])
    assert res.exit_code == 0, res.output


def test_bad_input_is_one_line_error(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("who,what\n1,2\n")
    res = CliRunner().invoke(pseudonymize_cmd, [str(src), str(tmp_path / "y.csv")])
    assert res.exit_code == 2
    assert "not covered by the policy" in res.output and "Traceback" not in res.output


def test_vault_file_readable_by_others_is_refused(cohort_csv: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out, vault = tmp_path / "o.csv", tmp_path / "vault.json"
    res = runner.invoke(pseudonymize_cmd, [str(cohort_csv), str(out), "--vault", str(vault)])
    assert res.exit_code == 0, res.output
    assert vault.stat().st_mode & 0o777 == 0o600  # written owner-only
    token = pacsv.read_csv(out).column("patient_id")[0].as_py()
    for mode in (0o640, 0o604):
        vault.chmod(mode)
        res = runner.invoke(reidentify_cmd, [token, "--vault", str(vault), "--reason", "audit"])
        assert res.exit_code != 0 and f"has mode {mode:04o}" in res.output, res.output
        assert "chmod 600" in res.output and "Traceback" not in res.output
        res = runner.invoke(pseudonymize_cmd, [str(cohort_csv), str(out), "--vault", str(vault)])
        assert res.exit_code != 0 and "readable by its owner only" in res.output
