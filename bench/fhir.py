"""FHIR pseudonymization on one core: resources/s and MB/s for a bulk NDJSON export and a
transaction Bundle, with the stage's two passes (learn, then walk) and the bundled policy; then the
validate stage's residual check of the output.

The export comes from the tests' Synthea-shaped generator (``--generator synthea-like``,
the default: ``tests/activities/pseudonymize/synthea_like.py``, US Core profiles,
references by ``urn:uuid``, base64 notes in DocumentReference and DiagnosticReport, Faker
identities, 13 resources a patient) or from a third party's (``--generator carebundle``:
US Core 6.1, a Bulk Data export with ids and relative references, the Patients last,
~75 resources a patient, few free texts). Each
trial runs ``pseudonymize_file`` in a child process pinned to one core, under a deadline,
and prints wall and CPU seconds and the peak RSS. ``--batch-docs 1`` walks one document at
a time (each resolved alone); ``--tree PATH`` measures another checkout's medpipe on the
same files (an A/B: the bundle and export are generated once, by this checkout).

Usage: ``.venv/bin/python bench/fhir.py [--patients N] [--bundle-patients N]
[--trials N] [--deadline S] [--batch-docs N] [--tree PATH]
[--generator synthea-like|carebundle]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _procs
from _checkout import ROOT
from _rss import status_kib

TRIAL = "--child"


def generate(ndjson: Path, bundle: Path, patients: int, bundle_patients: int,
             generator: str) -> int:
    """Write the export (NDJSON) and one transaction Bundle; the export's resource count."""
    if generator == "carebundle":
        return _carebundle(ndjson, bundle, patients, bundle_patients)
    from faker import Faker

    from tests.activities.pseudonymize.synthea_like import person, transaction

    fake = Faker("en_US")
    fake.seed_instance(2026)
    people = [person(fake) for _ in range(max(patients, bundle_patients) + 1)]
    count = 0
    with ndjson.open("w") as out:
        for i in range(patients):
            doc, _ = transaction(fake, people[i], people[i + 1], with_ids=True)
            for entry in doc["entry"]:
                out.write(json.dumps(entry["resource"]) + "\n")
                count += 1
    entries = []
    for i in range(bundle_patients):
        doc, _ = transaction(fake, people[i], people[i + 1])
        entries += doc["entry"]
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction",
                                  "entry": entries}))
    return count


def _carebundle(ndjson: Path, bundle: Path, patients: int, bundle_patients: int) -> int:
    import carebundle

    streams = carebundle.to_ndjson(carebundle.generate_cohort(count=patients, seed=2026))
    lines = "".join(streams[t].rstrip("\n") + "\n"
                    for t in sorted(streams, key=lambda t: t == "Patient"))
    ndjson.write_text(lines)
    entries = [e for b in carebundle.generate_cohort(count=bundle_patients, seed=2027)
               for e in json.loads(carebundle.to_json(b))["entry"]]
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "transaction",
                                  "entry": entries}))
    return lines.count("\n")


def child(src: str, out: str, batch_docs: int, tree: str) -> None:
    """One trial: pseudonymize ``src`` into ``out`` on one core; print its figures."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sys.path.insert(0, tree)
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    import medpipe
    from medpipe.activities.pseudonymize import Vault, default_fhir_policy, pseudonymize_file
    from medpipe.activities.pseudonymize import run as run_module
    from medpipe.activities.pseudonymize.run import Pseudonymizer, detect_format
    from medpipe.activities.residual_scan import scan_dataset

    assert medpipe.__file__.startswith(tree), medpipe.__file__
    if batch_docs and hasattr(run_module, "BATCH_DOCS"):
        run_module.BATCH_DOCS = batch_docs
    policy = default_fhir_policy()
    run = Pseudonymizer(policy, Vault.in_memory(), source=Path(src).name)
    cpu, wall = time.process_time(), time.perf_counter()
    report = pseudonymize_file(Path(src), Path(out), policy, run=run)
    figures = {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
               "records": report.records, "peak_mb": status_kib(os.getpid(), "VmHWM") / 1024}
    digests = run.state.digests(run.index.key)  # the validate stage's residual check
    wall = time.perf_counter()
    found = scan_dataset([Path(out).read_bytes()], detect_format(src), digests).found
    figures |= {"check_seconds": time.perf_counter() - wall, "found": found}
    print(json.dumps(figures), flush=True)


def trial(src: Path, out: Path, batch_docs: int, tree: Path,
          deadline: float) -> dict[str, Any] | None:
    """Run one trial in a child process; None when it missed its deadline or failed."""
    return _procs.json_trial([sys.executable, __file__, TRIAL, str(src), str(out),
                              str(batch_docs), str(tree)], deadline, cwd=str(tree))


def show(label: str, size_mb: float, runs: list[dict[str, Any]]) -> None:
    if not runs:
        print(f"  {label}: no trial finished", flush=True)
        return
    wall = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    records = runs[0]["records"]
    print(f"  {label}: {records:,} resources in {wall:.2f} s (median of {len(runs)}; "
          f"{cpu:.2f} CPU-s): {records / wall:,.0f} resources/s, {size_mb / wall:.2f} MB/s, "
          f"{records / cpu:,.0f} resources per CPU-s; peak RSS "
          f"{max(r['peak_mb'] for r in runs):.0f} MB", flush=True)
    check = statistics.median(r["check_seconds"] for r in runs)
    print(f"  {' ' * len(label)}  residual check of the output (validate): {check:.2f} s, "
          f"{records / check:,.0f} resources/s, {max(r['found'] for r in runs)} found",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=3000, help="patients in the NDJSON export")
    ap.add_argument("--bundle-patients", type=int, default=300,
                    help="patients in the one transaction Bundle")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--deadline", type=float, default=600.0, help="seconds per trial")
    ap.add_argument("--batch-docs", type=int, default=0,
                    help="NDJSON lines a batch (default: the code's own)")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout to measure")
    ap.add_argument("--generator", choices=("synthea-like", "carebundle"),
                    default="synthea-like")
    args = ap.parse_args()
    _procs.install()  # every trial's process is stopped on SIGTERM/SIGINT and at exit
    tree = args.tree.resolve()
    with tempfile.TemporaryDirectory(prefix="medpipe-bench-fhir-") as tmp:
        root = Path(tmp)
        ndjson, bundle = root / "export.ndjson", root / "bundle.json"
        t0 = time.perf_counter()
        resources = generate(ndjson, bundle, args.patients, args.bundle_patients,
                             args.generator)
        print(f"FHIR pseudonymize on one core, bundled policy, vault tokens, "
              f"{args.generator} data; {tree}"
              f"{'' if not args.batch_docs else f', batches of {args.batch_docs} lines'}\n"
              f"  generated in {time.perf_counter() - t0:.0f} s: NDJSON export of "
              f"{args.patients:,} patients ({resources:,} resources, "
              f"{ndjson.stat().st_size / 1e6:.1f} MB); one transaction Bundle of "
              f"{args.bundle_patients:,} patients ({bundle.stat().st_size / 1e6:.1f} MB)",
              flush=True)
        for label, src in (("NDJSON export", ndjson), ("transaction Bundle", bundle)):
            runs = [r for _ in range(args.trials)
                    if (r := trial(src, root / f"out-{src.name}", args.batch_docs, tree,
                                   args.deadline)) is not None]
            show(label, src.stat().st_size / 1e6, runs)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == TRIAL:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
