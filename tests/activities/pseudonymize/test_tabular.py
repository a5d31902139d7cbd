"""Tabular pseudonymization: every action, CSV and Parquet, vault consistency."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities.pseudonymize import (
    FileVaultStore,
    Vault,
    default_policy,
    parse_policy,
    pseudonymize_file,
)
from medpipe.activities.residual import RESIDUAL_PATTERNS
from medpipe.contracts.errors import InvalidInput

IDENT_COLUMNS = ("patient_id", "name", "ssn", "phone", "email")


def run_csv(src: Path, dst: Path, vault: Vault | None = None, policy=None):
    return pseudonymize_file(src, dst, policy or default_policy(), vault=vault)


def test_sample_cohort_under_the_default_policy(cohort: pa.Table, cohort_csv: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    report = run_csv(cohort_csv, out, Vault.in_memory())
    result = pacsv.read_csv(out)
    assert result.num_rows == cohort.num_rows == report.records
    assert set(result.column_names).isdisjoint({"name", "ssn", "phone", "email"})
    assert report.patients == 60 and report.new_tokens == 60
    text = out.read_text()
    for col in IDENT_COLUMNS:
        for value in set(cohort.column(col).to_pylist()):
            assert value not in text, col
    for name in set(cohort.column("name").to_pylist()):
        for part in name.split():
            assert part not in text
    import re
    for pattern in RESIDUAL_PATTERNS.values():
        assert not re.search(pattern, text)
    assert report.field("patient_id").changed == cohort.num_rows
    assert report.field("hba1c").changed == 0
    assert report.placeholders["SSN"] == cohort.num_rows
    assert "Ada" not in report.model_dump_json()


def test_date_shift_is_per_patient_and_keeps_intervals(cohort: pa.Table, cohort_csv: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    run_csv(cohort_csv, out, Vault.in_memory())
    result = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(
        column_types={"birth_date": pa.string(), "encounter_date": pa.string()}))
    offsets: dict[str, set[int]] = {}
    tokens = result.column("patient_id").to_pylist()
    for i, tok in enumerate(tokens):
        for col in ("encounter_date",):
            before = date.fromisoformat(cohort.column(col)[i].as_py())
            after = date.fromisoformat(result.column(col)[i].as_py())
            offsets.setdefault(tok, set()).add((after - before).days)
    assert all(len(s) == 1 for s in offsets.values())  # one offset per patient
    values = [next(iter(s)) for s in offsets.values()]
    assert all(0 < abs(v) <= 180 for v in values)
    assert len(set(values)) > 10  # patients move differently


def test_birth_date_does_not_undo_the_age_top_coding(cohort: pa.Table, cohort_csv: Path,
                                                     tmp_path: Path) -> None:
    """Default cohort policy: birth year only, top-coded like the age (a 95-year-old is
    not "born in 1929" next to an age of 90+)."""
    out = tmp_path / "out.csv"
    run_csv(cohort_csv, out, Vault.in_memory())
    result = pacsv.read_csv(out)
    cap = date.today().year - 90
    capped = 0
    for before, after in zip(cohort.column("birth_date").to_pylist(),
                             result.column("birth_date").to_pylist(), strict=True):
        born = int(before[:4])
        assert after == max(born, cap)
        capped += born < cap
    assert capped > 0  # the cohort has people over 89: the rule was exercised
    assert all(a is None or a <= 90 for a in result.column("age").to_pylist())


def test_same_vault_gives_same_tokens_across_datasets(cohort: pa.Table, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.parquet"
    pacsv.write_csv(cohort.slice(0, 90), first)
    pq.write_table(cohort.slice(60, 120), second)
    store = FileVaultStore(tmp_path / "vault.json")
    r1 = pseudonymize_file(first, tmp_path / "a.out.csv", default_policy(), vault=store.open())
    r2 = pseudonymize_file(second, tmp_path / "b.out.parquet", default_policy(),
                           vault=store.open())
    a = pacsv.read_csv(tmp_path / "a.out.csv")
    b = pq.read_table(tmp_path / "b.out.parquet")
    ids = cohort.column("patient_id").to_pylist()
    tok_a = dict(zip(ids[:90], a.column("patient_id").to_pylist(), strict=True))
    tok_b = dict(zip(ids[60:180], b.column("patient_id").to_pylist(), strict=True))
    shared = set(tok_a) & set(tok_b)
    assert shared and all(tok_a[i] == tok_b[i] for i in shared)
    assert r1.new_tokens == 30 and r2.new_tokens == 30  # only the new patients got tokens
    vault = store.open()
    assert all(vault.reidentify(tok_a[i]) == i for i in tok_a)


def test_fresh_vaults_issue_unrelated_tokens(cohort_csv: Path, tmp_path: Path) -> None:
    run_csv(cohort_csv, tmp_path / "1.csv", Vault.in_memory())
    run_csv(cohort_csv, tmp_path / "2.csv", Vault.in_memory())
    t1 = pacsv.read_csv(tmp_path / "1.csv").column("patient_id").to_pylist()
    t2 = pacsv.read_csv(tmp_path / "2.csv").column("patient_id").to_pylist()
    assert all(a != b for a, b in zip(t1, t2, strict=True))


def test_hmac_tokens_are_keyed_and_stable(cohort_csv: Path, tmp_path: Path) -> None:
    policy = parse_policy(Path(__file__).parent.joinpath("..", "..", "..", "activities",
                                                         "pseudonymize",
                                                         "cohort_policy.yaml").read_text()
                          .replace("token_mode: vault", "token_mode: hmac"))
    with pytest.raises(Exception, match="hmac token mode needs a key"):
        pseudonymize_file(cohort_csv, tmp_path / "x.csv", policy)
    assert not (tmp_path / "x.csv").exists()
    key1, key2 = b"1" * 32, b"2" * 32
    outs = []
    for i, key in enumerate((key1, key1, key2)):
        pseudonymize_file(cohort_csv, tmp_path / f"h{i}.csv", policy, hmac_key=key)
        outs.append(pacsv.read_csv(tmp_path / f"h{i}.csv").column("patient_id").to_pylist())
    assert outs[0] == outs[1]
    assert all(t.startswith("ph_") for t in outs[0])
    assert all(a != b for a, b in zip(outs[0], outs[2], strict=True))


def test_zip3_restricted_areas_and_age_90_plus(tmp_path: Path) -> None:
    src = tmp_path / "z.csv"
    src.write_text("pid,zip,age,age_text,visit\n"
                   "A1,03601,89,89,2020-03-04\nA2,10027,90,95,2021-05-06\n"
                   "A3,89012-1234,104,90+,2019-12-31\nA4,,40,40,\n")
    policy = parse_policy("""
patient_id: pid
fields:
  pid: {action: token}
  zip: {action: generalize, kind: zip3}
  age: {action: generalize, kind: age}
  age_text: {action: generalize, kind: age}
  visit: {action: generalize, kind: year}
""")
    out = tmp_path / "z.out.csv"
    report = pseudonymize_file(src, out, policy)
    t = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(
        column_types={"zip": pa.string(), "age_text": pa.string()}, strings_can_be_null=True))
    assert t.column("zip").to_pylist() == ["000", "100", "000", None]
    assert t.column("age").to_pylist() == [89, 90, 90, 40]
    assert t.column("age_text").to_pylist() == ["89", "90+", "90+", "40"]
    assert t.column("visit").to_pylist() == [2020, 2021, 2019, None]
    assert report.field("age").changed == 2


def test_unknown_column_is_refused_and_nothing_written(cohort: pa.Table, tmp_path: Path) -> None:
    src = tmp_path / "extra.csv"
    pacsv.write_csv(cohort.append_column("insurance_no", pa.array(["X"] * cohort.num_rows)), src)
    out = tmp_path / "out.csv"
    with pytest.raises(InvalidInput, match="not covered by the policy.*insurance_no"):
        run_csv(src, out)
    assert list(tmp_path.iterdir()) == [src]


def test_missing_policy_column_is_refused(cohort: pa.Table, tmp_path: Path) -> None:
    src = tmp_path / "less.csv"
    pacsv.write_csv(cohort.drop_columns(["ssn"]), src)
    with pytest.raises(InvalidInput, match="missing from the data: ssn"):
        run_csv(src, tmp_path / "out.csv")


@pytest.mark.parametrize(("content", "match"), [
    (b"patient_id,zip\nA,02139\nB\n", "malformed CSV row"),
    (b"patient_id,zip\nA,02139\nB,0213\xff9\n", "line 3: not UTF-8"),
    (b"patient_id,zip\nA,not-a-zip\n", "column 'zip', row 1: not a ZIP code"),
    (b"", "empty CSV"),
])
def test_bad_csv_names_where_and_writes_nothing(tmp_path: Path, content: bytes,
                                                match: str) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    policy = parse_policy("fields: {patient_id: {action: token}, "
                          "zip: {action: generalize, kind: zip3}}")
    out = tmp_path / "out.csv"
    with pytest.raises(InvalidInput, match=match) as err:
        pseudonymize_file(src, out, policy)
    assert "bad.csv" in err.value.message
    assert "0213" not in err.value.message and "not-a-zip" not in err.value.message
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_bad_date_names_row_without_value(tmp_path: Path) -> None:
    src = tmp_path / "d.csv"
    src.write_text("pid,day\nA,2020-01-01\nB,31/12/2020\n")
    policy = parse_policy("patient_id: pid\nfields: {pid: {action: token}, "
                          "day: {action: date_shift}}")
    with pytest.raises(InvalidInput, match=r"column 'day', row 2: not an ISO date") as err:
        pseudonymize_file(src, tmp_path / "o.csv", policy)
    assert "31/12" not in err.value.message


def test_failed_run_leaves_vault_untouched(cohort: pa.Table, cohort_csv: Path,
                                           tmp_path: Path) -> None:
    store = FileVaultStore(tmp_path / "vault.json")
    run_csv(cohort_csv, tmp_path / "ok.csv", store.open())
    before = store.path.read_bytes()
    bad = tmp_path / "bad.csv"
    rows = cohort.to_pylist()
    rows[-1]["encounter_date"] = "yesterday"
    pacsv.write_csv(pa.Table.from_pylist(rows[:3] + [dict(rows[-1], patient_id="NEW1")]), bad)
    with pytest.raises(InvalidInput):
        run_csv(bad, tmp_path / "bad.out.csv", store.open())
    assert store.path.read_bytes() == before
    assert not (tmp_path / "bad.out.csv").exists()


def test_parquet_chunks_and_output(cohort: pa.Table, tmp_path: Path) -> None:
    src = tmp_path / "c.parquet"
    pq.write_table(cohort, src, row_group_size=50)
    out = tmp_path / "o.parquet"
    report = pseudonymize_file(src, out, default_policy(), vault=Vault.in_memory())
    t = pq.read_table(out)
    assert t.num_rows == cohort.num_rows == report.records
    assert t.column("patient_id").to_pylist()[0].startswith("pt_")
    assert t.schema.field("age").type == pa.int64()


def test_streaming_variant_commits_vault_at_end(cohort_csv: Path) -> None:
    from medpipe.activities.pseudonymize import pseudonymize_stream
    saved: list[bytes] = []
    vault = Vault(lambda: None, saved.append)
    data = cohort_csv.read_bytes()
    chunks = [data[i:i + 997] for i in range(0, len(data), 997)]
    run, out = pseudonymize_stream(iter(chunks), default_policy(), "csv", vault=vault)
    body = b"".join(out)
    assert saved and run.report is not None and run.report.records == 180
    assert body.startswith(b'"patient_id"')
    digests = run.identifier_digests()
    assert len(digests) >= 60 * 5


def test_a_patient_first_seen_in_a_later_chunk_is_scrubbed_from_earlier_notes(
        cohort: pa.Table, tmp_path: Path) -> None:
    """Row groups of 10 rows: the first note names the last row's patient (multi-word,
    written with another hyphenation) — found by the first pass, not by position."""
    n = len(cohort)
    names = cohort.column("name").to_pylist()
    last = names[-1]
    names[-1] = "Zelda-Mae Quigley Santos"
    notes = cohort.column("notes").to_pylist()
    notes[0] = "met zelda mae QUIGLEY-SANTOS in the corridor"
    t = cohort.set_column(cohort.schema.get_field_index("name"), "name", pa.array(names))
    t = t.set_column(t.schema.get_field_index("notes"), "notes", pa.array(notes))
    src, dst = tmp_path / "c.parquet", tmp_path / "c.out.parquet"
    pq.write_table(t, src, row_group_size=10)
    assert pq.ParquetFile(src).num_row_groups == -(-n // 10)
    pseudonymize_file(src, dst, default_policy(), vault=Vault.in_memory())
    out = pq.read_table(dst).column("notes").to_pylist()
    assert out[0] == "met [NAME] in the corridor", out[0]
    assert last not in " ".join(v for v in out if v)


def test_without_free_text_the_identifiers_still_reach_the_residual_check(
        cohort: pa.Table, tmp_path: Path) -> None:
    from medpipe.activities.pseudonymize.run import Pseudonymizer
    from medpipe.contracts.pseudonymize import Policy

    fields = {k: v for k, v in default_policy().fields.items() if k != "notes"}
    policy = Policy(patient_id="patient_id", fields=fields)
    src, dst = tmp_path / "c.parquet", tmp_path / "c.out.parquet"
    pq.write_table(cohort.drop(["notes"]), src)
    run = Pseudonymizer(policy, Vault.in_memory())
    pseudonymize_file(src, dst, policy, run=run)
    name = cohort.column("name")[0].as_py()
    digests = run.identifier_digests()
    assert digests.rows_matching([f"note about {name.upper()}"]).all()
    assert not digests.rows_matching(["nothing identifying"]).any()
