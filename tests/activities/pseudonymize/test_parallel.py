"""The scrub pass on several processes writes the bytes a sequential run writes.

Vault tokens are random, so two runs on fresh vaults differ by design; what a
parallel run must not change is the mapping. Each run therefore starts from
the vault the other run saved: then every token, date shift and placeholder
must be identical, byte for byte, and the run must mint no new token. Fresh
runs must mint as many tokens as there are patients, once each.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from medpipe.activities import memfile
from medpipe.activities.pseudonymize import Vault, default_policy, parse_policy
from medpipe.activities.pseudonymize.run import Pseudonymizer, pseudonymize_file
from medpipe.contracts.errors import InvalidInput
from medpipe.contracts.pseudonymize import Policy, PseudonymizeReport
from medpipe.workers.sample import make_cohort
from tests.memfiles import batch_files

CHUNK = 250  # rows per chunk: the cohort spans many chunks, so many run at once
HMAC_KEY = b"k" * 32


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_cohort(patients=700, visits=3, seed=5).table


@pytest.fixture(scope="module", params=["csv", "parquet"])
def source(request: pytest.FixtureRequest, table: pa.Table,
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("src") / f"cohort.{request.param}"
    if request.param == "csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path, row_group_size=400)
    return path


def hmac_policy() -> Policy:
    doc = default_policy().model_dump(mode="json")
    doc["token_mode"] = "hmac"
    return parse_policy(_yaml(doc), source="test")


def _yaml(doc: dict) -> str:
    import yaml
    return yaml.safe_dump(doc)


class SavedVault:
    """A vault whose saves are kept, to start another run from them."""

    def __init__(self, blob: bytes | None = None) -> None:
        self.blob = blob

    def open(self) -> Vault:
        return Vault(lambda: self.blob, self._save)

    def _save(self, data: bytes) -> None:
        self.blob = data


DIGEST_KEY = b"d" * 32


def run(src: Path, dst: Path, policy: Policy, processes: int,
        vault: Vault | None = None) -> tuple[bytes, PseudonymizeReport, Pseudonymizer]:
    p = Pseudonymizer(policy, vault, HMAC_KEY if policy.token_mode == "hmac" else None,
                      source=src.name, processes=processes, chunk_rows=CHUNK,
                      digest_key=DIGEST_KEY)
    report = pseudonymize_file(src, dst, policy, run=p)
    return dst.read_bytes(), report, p


def same_but_new_tokens(a: PseudonymizeReport, b: PseudonymizeReport) -> bool:
    return a.model_copy(update={"new_tokens": 0}) == b.model_copy(update={"new_tokens": 0})


def test_vault_tokens_parallel_equals_sequential(source: Path, tmp_path: Path,
                                                 table: pa.Table) -> None:
    patients = len(set(table.column("patient_id").to_pylist()))
    seq_vault, par_vault = SavedVault(), SavedVault()
    seq, seq_report, seq_run = run(source, tmp_path / f"seq{source.suffix}", default_policy(),
                                   1, seq_vault.open())
    par, par_report, par_run = run(source, tmp_path / f"par{source.suffix}", default_policy(),
                                   2, par_vault.open())
    assert seq_report.new_tokens == par_report.new_tokens == patients
    assert seq_report.records == table.num_rows and seq_report.placeholders["NAME"] > 0
    assert same_but_new_tokens(seq_report, par_report)
    # the same identifiers indexed (both runs digest under DIGEST_KEY)
    assert seq_run.identifier_digest_blob(DIGEST_KEY) == par_run.identifier_digest_blob(DIGEST_KEY)
    # each run again, from the vault the other one saved: the same bytes, no new token
    again_par, again_par_report, _ = run(source, tmp_path / f"p2{source.suffix}",
                                         default_policy(), 2, SavedVault(seq_vault.blob).open())
    assert again_par == seq
    assert again_par_report.new_tokens == 0 and same_but_new_tokens(again_par_report,
                                                                    seq_report)
    again_seq, _, _ = run(source, tmp_path / f"s2{source.suffix}", default_policy(), 1,
                          SavedVault(par_vault.blob).open())
    assert again_seq == par


def test_hmac_tokens_parallel_equals_sequential(source: Path, tmp_path: Path) -> None:
    seq, seq_report, _ = run(source, tmp_path / f"seq{source.suffix}", hmac_policy(), 1)
    par, par_report, _ = run(source, tmp_path / f"par{source.suffix}", hmac_policy(), 3)
    assert b"ph_" in seq and b"pt_" not in seq
    assert par == seq and par_report == seq_report
    assert not batch_files()  # every piece's memory files closed with the run


def test_pieces_pickled_where_there_are_no_memory_files_give_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: pa.Table) -> None:
    """Off Linux (no memfd or /proc) the pieces travel pickled, as the handles' batches."""
    src = tmp_path / "cohort.parquet"
    pq.write_table(table, src, row_group_size=400)
    seq, seq_report, _ = run(src, tmp_path / "seq.parquet", hmac_policy(), 1)
    sent: list[memfile.Handle] = []
    handle = memfile.BatchFile.handle

    def recorded(self: memfile.BatchFile) -> memfile.Handle:
        sent.append(h := handle.fget(self))  # type: ignore[attr-defined]
        return h

    monkeypatch.setattr(memfile, "available", lambda: False)
    monkeypatch.setattr(memfile.BatchFile, "handle", property(recorded))
    par, par_report, _ = run(src, tmp_path / "par.parquet", hmac_policy(), 2)
    assert par == seq and par_report == seq_report
    assert sent and all(h.fd < 0 for h in sent)
    assert any(h.inline is not None and h.inline.num_rows for h in sent)


@pytest.mark.parametrize("bad_rows", [(CHUNK * 5 + 7,), (-1,), (CHUNK * 5 + 7, -1)],
                         ids=["a-child-piece", "the-parent-piece", "both"])
def test_parallel_refuses_the_first_bad_chunk_like_sequential(
        table: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        bad_rows: tuple[int, ...]) -> None:
    """A chunk the policy refuses (no patient id: its dates cannot shift) fails the run
    with the sequential run's message, whether a child or the parent (the last piece,
    ``parallel._last_batch``) scrubs it; the first bad chunk in row order is the one named."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    made: list[str] = []
    mkdtemp = tempfile.mkdtemp

    def recorded(*args: str, **kw: str) -> str:
        made.append(path := mkdtemp(*args, **{**kw, "dir": str(scratch)}))
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", recorded)  # where the pool's index file goes
    ids = table.column("patient_id").to_pylist()
    for row in bad_rows:
        ids[row] = None
    bad = table.set_column(table.schema.get_field_index("patient_id"), "patient_id",
                           pa.array(ids, pa.string()))
    src = tmp_path / "bad.csv"
    pacsv.write_csv(bad, src)
    messages = []
    for processes in (1, 2):
        dst = tmp_path / f"out{processes}.csv"
        with pytest.raises(InvalidInput) as err:
            run(src, dst, default_policy(), processes, Vault.in_memory())
        messages.append(str(err.value))
        assert not dst.exists() and not list(tmp_path.glob(".out*"))
    assert messages[0] == messages[1]
    assert f"row {bad_rows[0] % len(ids) + 1}" in messages[0]
    assert made and not list(scratch.iterdir())  # the children's index file went with the pool
    assert not batch_files()  # the pieces in flight when it failed: their files closed too


_KILLED_PARENT = """
import os, signal, time
from concurrent.futures import ProcessPoolExecutor
from medpipe.activities.pseudonymize import parallel

def pid(_):
    time.sleep(0.2)
    return os.getpid()

if __name__ == "__main__":
    pool = ProcessPoolExecutor(2, mp_context=parallel.pool_context(),
                               initializer=parallel.start_child)
    print(" ".join(str(p) for p in {pool.submit(pid, i).result() for i in range(6)}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_worker_leaves_no_pool_process(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "killed_parent.py"
    script.write_text(_KILLED_PARENT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    children = [int(p) for p in proc.stdout.readline().split()]
    proc.wait()
    assert children and proc.returncode == -9
    try:
        deadline = time.monotonic() + 30  # a deadline for the event, not a speed figure
        while time.monotonic() < deadline and any(Path(f"/proc/{c}").exists() for c in children):
            time.sleep(0.1)
        alive = [c for c in children if Path(f"/proc/{c}").exists()
                 and "python" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
        assert not alive, f"pool processes outlived their parent: {alive}"
    finally:
        for c in children:
            try:
                os.kill(c, 9)
            except ProcessLookupError:
                pass


def test_one_chunk_of_text_is_scrubbed_on_the_pool_with_the_same_bytes(
        source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dataset that fits one chunk (100k rows of the reference release) is cut into a
    piece per process, and the pieces' outputs are joined again: the same bytes (CSV, and
    Parquet's row groups) and report as one sequential chunk."""
    from medpipe.activities.pseudonymize import parallel

    pooled: list[int] = []
    process_batches = parallel.process_batches

    def spied(*args: object, **kw: object) -> object:
        pooled.append(kw["processes"])  # type: ignore[arg-type]
        return process_batches(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "process_batches", spied)
    monkeypatch.setattr(parallel, "POOL_MIN_TEXT_ROWS", 100)  # the test cohort's 2,100 rows
    outputs = []
    for processes in (1, 3):
        p = Pseudonymizer(hmac_policy(), None, HMAC_KEY, source=source.name,
                          processes=processes, chunk_rows=1 << 20, digest_key=DIGEST_KEY)
        report = pseudonymize_file(source, tmp_path / f"one{processes}{source.suffix}",
                                   hmac_policy(), run=p)
        outputs.append(((tmp_path / f"one{processes}{source.suffix}").read_bytes(), report))
    assert pooled == [3]  # the sequential run had no pool, the other one did
    assert outputs[1] == outputs[0]


class CountingVault(Vault):
    """A vault that counts the identifiers it is asked for."""

    asked = 0

    def tokens(self, values):  # type: ignore[no-untyped-def]
        self.asked += len(values)
        return super().tokens(values)


def test_premap_looks_the_patient_column_up_once(table: pa.Table) -> None:
    """The patient id keys the date shifts and is a token column too (the default policy):
    the parent looks its values up once, and the children get the tokens and offsets the
    vault gives those values."""
    from medpipe.activities.pseudonymize import parallel

    policy = default_policy()
    vault = CountingVault.in_memory()
    batch = table.combine_chunks().to_batches()[0]
    ids = list(dict.fromkeys(batch.column("patient_id").to_pylist()))
    (tokens, offsets), = parallel.premap(policy, {policy.token_mode: vault}, batch,
                                        "cohort").values()
    assert vault.asked == len(ids) and vault.new_tokens == len(ids)
    assert tokens == dict(zip(ids, vault.tokens(ids), strict=True))
    want = vault.offset_days(list(tokens.values()), policy.date_shift_days).tolist()
    assert offsets == dict(zip(tokens.values(), want, strict=True))


def test_the_sequential_job_looks_the_patient_column_up_once(table: pa.Table) -> None:
    """As ``premap``: the date shifts' lookup of the patient ids gives the token column its
    tokens too, the same ones a lookup of its own would give."""
    from medpipe.activities.deid.index import KeyIndex
    from medpipe.activities.pseudonymize.state import RunState
    from medpipe.activities.pseudonymize.tabular import TabularJob

    policy = default_policy()
    vault = CountingVault.in_memory()
    batch = table.combine_chunks().to_batches()[0]
    ids = batch.column("patient_id").to_pylist()
    state = RunState(format="csv", index=KeyIndex(DIGEST_KEY))
    out = TabularJob(policy, {policy.token_mode: vault}, state, "cohort").process(batch, 0)
    assert vault.asked == len(set(ids)) and vault.new_tokens == len(set(ids))
    assert out.column("patient_id").to_pylist() == vault.tokens(ids)
