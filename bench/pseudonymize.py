"""Pseudonymization throughput, memory and validation time on one core.

Generates a 1M-row longitudinal table (50k patients: identifier, name, SSN,
phone, e-mail, ZIP, birth date, encounter date, lab values, ~200-character
notes with embedded identifiers) as a temp Parquet file, then prints:

* rows/s without the notes column (goal >= 200k) and with it (goal >= 50k);
* peak RSS for 100k vs 1M rows (separate processes; goal: flat, chunked);
* great-expectations validation time of the 1M pseudonymized rows.

Usage: ``.venv/bin/python bench/pseudonymize.py [--rows N] [--patients N]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from medpipe.contracts.pseudonymize import FieldRule, Policy  # noqa: E402

FIRST = np.array(["Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines",
                  "Jonas", "Kemi", "Liam", "Maya", "Noor", "Oscar", "Priya"])
LAST = np.array(["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Silva",
                 "Kowalski", "Brennan", "Castillo", "Nakamura", "Petrov"])


def one_core() -> None:
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def generate(path: Path, rows: int, patients: int, seed: int = 1,
             group_rows: int = 131_072) -> None:
    """Write the synthetic table a row group at a time (streaming: memory stays that of one
    group whatever ``rows``; vectorised, no per-row Python). Patients are sorted: group
    ``k`` holds the patients of its share of the id range, several visits each."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, rows, group_rows):
            n = min(group_rows, rows - start)
            lo = patients * start // rows
            hi = max(patients * (start + n) // rows, lo + 1)
            block = _block(rng, np.sort(rng.integers(lo, hi, n)))
            writer = writer or pq.ParquetWriter(path, block.schema)
            writer.write_table(block, row_group_size=n)
    finally:
        if writer is not None:
            writer.close()


def _block(rng: np.random.Generator, pid: np.ndarray) -> pa.Table:
    """The rows of patients ``pid`` (one row per entry)."""
    mrn = np.char.add("MRN", np.char.zfill(pid.astype(str), 8))
    first = FIRST[pid % len(FIRST)]
    last = LAST[(pid // len(FIRST)) % len(LAST)]
    name = np.char.add(np.char.add(first, " "), last)
    ssn = np.char.add(np.char.add(np.char.zfill((100 + pid % 800).astype(str), 3), "-"),
                      np.char.add(np.char.zfill((pid % 89 + 10).astype(str), 2),
                                  np.char.add("-", np.char.zfill((pid % 9000 + 1000)
                                                                 .astype(str), 4))))
    phone = np.char.add("(617) 555-", np.char.zfill((pid % 10000).astype(str), 4))
    email = np.char.add(np.char.add(np.char.lower(first), "."),
                        np.char.add(np.char.lower(last), np.char.add(pid.astype(str),
                                                                     "@example.org")))
    zips = np.char.zfill((pid * 7919 % 99999).astype(str), 5)
    birth = (np.datetime64("1940-01-01") + (pid * 37 % 25000)).astype("datetime64[D]")
    enc = (np.datetime64("2022-01-01") + rng.integers(0, 700, len(pid))).astype("datetime64[D]")
    hba1c = np.round(rng.normal(6, 1, len(pid)), 1)
    ldl = np.round(rng.normal(120, 30, len(pid)), 0)
    enc_s, birth_s = enc.astype(str), birth.astype(str)
    notes = np.char.add(np.char.add(np.char.add(name, " seen "), enc_s),
                        np.char.add(np.char.add("; call ", phone),
                                    np.char.add(np.char.add(" or ", email),
                                                np.char.add(np.char.add(". SSN ", ssn),
                                                            np.char.add(", ", mrn)))))
    # the row's own lab values: each note differs after scrubbing, as real notes do (a
    # single template would make every scrubbed note one text, which the scrubber memoises)
    weight = np.round(rng.normal(80, 12, len(pid)), 1)
    labs = np.char.add(np.char.add(hba1c.astype(str), " trending down, LDL "),
                       np.char.add(ldl.astype(int).astype(str),
                                   np.char.add(", weight ", weight.astype(str))))
    notes = np.char.add(np.char.add(notes, ". Stable, HbA1c "),
                        np.char.add(labs, "; follow up in three months with labs."))
    return pa.table({"patient_id": mrn, "name": name, "ssn": ssn, "phone": phone,
                     "email": email, "zip": zips, "birth_date": birth_s,
                     "encounter_date": enc_s, "hba1c": hba1c, "ldl": ldl, "notes": notes})


def policy(with_notes: bool) -> Policy:
    rules = {"patient_id": FieldRule(action="token"),
             "name": FieldRule(action="drop", identifier=True, placeholder="NAME"),
             "ssn": FieldRule(action="drop", identifier=True, placeholder="SSN"),
             "phone": FieldRule(action="drop", identifier=True, placeholder="PHONE"),
             "email": FieldRule(action="drop", identifier=True, placeholder="EMAIL"),
             "zip": FieldRule(action="generalize", kind="zip3"),
             "birth_date": FieldRule(action="date_shift"),
             "encounter_date": FieldRule(action="date_shift"),
             "hba1c": FieldRule(action="keep"), "ldl": FieldRule(action="keep")}
    if with_notes:
        rules["notes"] = FieldRule(action="scrub")
    return Policy(patient_id="patient_id", fields=rules)


def run_once(src: Path, dst: Path, with_notes: bool) -> tuple[float, int]:
    from medpipe.activities.pseudonymize import Vault
    from medpipe.activities.pseudonymize.run import Pseudonymizer
    from medpipe.activities.pseudonymize.streams import parquet_batches

    one_core()
    run = Pseudonymizer(policy(with_notes), Vault.in_memory(), source=src.name)
    cols = None if with_notes else [c for c in pq.ParquetFile(src).schema_arrow.names
                                    if c != "notes"]
    batches = (b for b in pq.ParquetFile(src).iter_batches(131_072, columns=cols)) \
        if cols else parquet_batches(str(src), src.name)
    t0 = time.perf_counter()
    # first pass, as the CLI and the activity do: every patient's identifiers indexed
    ids = [n for n, r in run.policy.fields.items() if r.is_identifier or r.action == "drop"]
    run.learn_batches(pq.ParquetFile(src).iter_batches(131_072, columns=ids))
    with open(dst, "wb") as f:
        for chunk in run.tabular_batches(batches, "parquet"):
            f.write(chunk)
    return time.perf_counter() - t0, run.state.records


def child(src: str, dst: str) -> None:
    seconds, rows = run_once(Path(src), Path(dst), True)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the forking parent
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            rss = int(line.split()[1]) // 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mib": rss}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    one_core()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        big, small = tmp / "big.parquet", tmp / "small.parquet"
        t0 = time.perf_counter()
        generate(big, args.rows, args.patients)
        generate(small, args.rows // 10, args.patients // 10)
        print(f"generated {args.rows:,} rows ({big.stat().st_size / 2**20:.0f} MiB parquet) "
              f"in {time.perf_counter() - t0:.1f} s")
        s, n = run_once(big, tmp / "o1.parquet", with_notes=False)
        print(f"without notes: {n / s:,.0f} rows/s ({n:,} rows in {s:.2f} s; goal >= 200,000)")
        s, n = run_once(big, tmp / "o2.parquet", with_notes=True)
        print(f"with notes:    {n / s:,.0f} rows/s ({n:,} rows in {s:.2f} s; goal >= 50,000)")
        for src in (small, big):
            res = subprocess.run([sys.executable, __file__, "--child", str(src),
                                  str(tmp / "rss.parquet")], capture_output=True, text=True,
                                 check=True)
            fig = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"peak RSS {fig['rows']:>9,} rows: {fig['peak_rss_mib']} MiB")
        from medpipe.activities.validate import validate_batches

        t0 = time.perf_counter()
        report = validate_batches(pq.ParquetFile(tmp / "o2.parquet").iter_batches(250_000),
                                  None, None)
        print(f"great-expectations validation of {report.rows:,} rows: "
              f"{time.perf_counter() - t0:.1f} s ({len(report.checks)} checks, "
              f"{len(report.failures)} failed; includes GX import/context setup)")


if __name__ == "__main__":
    main()
