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
    assert res.exit_code == 1 and "not issued" in res.output


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


def test_residual_identifiers_fail_the_command_with_counts_only(cohort_csv: Path,
                                                                tmp_path: Path) -> None:
    """A policy that keeps the notes: the run's own residual check refuses the output."""
    from medpipe.activities.pseudonymize import default_policy

    policy = default_policy().model_dump(mode="json", exclude_none=True)
    policy["fields"]["notes"] = {"action": "keep"}
    path = tmp_path / "keep-notes.yaml"
    import yaml

    path.write_text(yaml.safe_dump(policy))
    out = tmp_path / "o.csv"
    res = CliRunner().invoke(pseudonymize_cmd, [str(cohort_csv), str(out), "--policy", str(path)])
    assert res.exit_code == 1, res.output
    assert "identifiers left after pseudonymization" in res.output and "notes:" in res.output
    assert "Traceback" not in res.output and not out.exists()
    notes = pacsv.read_csv(cohort_csv).column("notes").to_pylist()
    names = pacsv.read_csv(cohort_csv).column("name").to_pylist()
    for secret in names[:5] + notes[:5]:
        assert secret not in res.output


def test_policy_init_drafts_from_content_and_marks_what_it_is_unsure_of(tmp_path: Path) -> None:
    from medpipe.activities.pseudonymize.draft import draft_policy

    n = 40
    table = {"report_count": list(range(n)),                        # named like text, numeric
             "c1": ["Maria Garcia", "John Smith", "Linda Jones", "James Brown"] * 10,
             "c2": [f"Pt seen today, stable on metformin, review in {i} weeks with labs"
                    for i in range(n)],
             "c3": [f"{100 + i}-55-{1000 + i}" for i in range(n)],
             "visit_date": ["2023-01-05"] * n}
    src = tmp_path / "d.csv"
    import pyarrow as pa

    pacsv.write_csv(pa.table(table), src)
    lines = {ln.split(":")[0].strip(): ln for ln in draft_policy(src, "csv").splitlines()
             if ln.startswith("  ")}
    assert "{action: keep}" in lines["report_count"] and "review: numeric" in lines["report_count"]
    assert "action: drop" in lines["c1"] and "NAME" in lines["c1"] and "review" in lines["c1"]
    assert "action: scrub" in lines["c2"] and "review" in lines["c2"]
    assert "action: drop" in lines["c3"] and "SSN" in lines["c3"] and "review" in lines["c3"]
    assert "date_shift" in lines["visit_date"] and "review" not in lines["visit_date"]
    assert "Garcia" not in "".join(lines.values())


def test_fhir_bundle_passes_the_command_residual_check(tmp_path: Path) -> None:
    """A Synthea-shaped transaction with the default policy: clean output, exit 0; the same
    check on the input finds identifiers (so it can fail)."""
    from faker import Faker

    from medpipe.activities.residual import DigestSet
    from medpipe.activities.residual_scan import scan_dataset

    from .synthea_like import person, transaction

    fake = Faker("en_US")
    Faker.seed(5)
    bundle, secrets = transaction(fake, person(fake), person(fake))
    src, out = tmp_path / "b.json", tmp_path / "o.json"
    src.write_text(json.dumps(bundle))
    res = CliRunner().invoke(pseudonymize_cmd, [str(src), str(out)])
    assert res.exit_code == 0, res.output
    assert out.exists() and json.loads(res.output.split("\n", 1)[1])["records"] == 13
    digests = DigestSet.from_values(b"k" * 32, secrets[:2])
    assert scan_dataset([src.read_bytes()], "bundle", digests).found > 0
    assert scan_dataset([out.read_bytes()], "bundle", digests).found == 0
