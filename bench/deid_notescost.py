"""The notes scrub and the residual check alone, in CPU seconds, on fixed inputs (issue 17).

``prepare`` runs the real pseudonymize pass once (learn, then the stream) on the
reference release's 100k rows (``orchestration.reference_inputs``) and on
``bench/deid.py``'s corpus (its generator, every template set, one note a row) and keeps
what the notes column's scrub was given (``tabular.scrub_column``'s column and the run's
identifier index, as they were at that call) and the run's identifier digests.
``time`` then runs only ``scrub.scrub_column`` on those inputs and the residual check
(``residual_scan.scan_batch``) on its output, in this process, one core, and prints CPU
seconds and the sha256 of the scrubbed notes: run it with two checkouts' interpreters
one after the other (A B A B …) to compare engines on the same inputs. ``--profile``
prints the cProfile table of each (cumulative, top functions).

Usage: ``.venv/bin/python bench/deid_notescost.py prepare DIR [--rows 100000]``, then
``.venv/bin/python bench/deid_notescost.py time DIR [--profile 30] [--only reference]``;
``phases DIR [--trials 3]`` prints the CPU of each pass of the scrub and of the check;
``passes DIR [--top 15]`` the CPU of each Arrow string pass (RE2 match or rewrite, substring,
ASCII test) the scrub and the check run, by what it matches (a rule's trigger, a group's
alternation, a pattern's rewrite), with the rows it read and the rows it selected.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pickle
import pstats
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from medpipe.activities.pseudonymize import scrub, tabular  # noqa: E402


def _capture(run_pass, out: Path) -> None:  # type: ignore[no-untyped-def]
    """Run ``run_pass()`` (returns the run's digests) with the notes scrub recorded."""
    calls: list[tuple[pa.Array, bytes]] = []
    original = tabular.scrub_column

    def recording(col, index, counts):  # type: ignore[no-untyped-def]
        calls.append((col, pickle.dumps(index)))
        return original(col, index, counts)

    tabular.scrub_column = recording
    try:
        digests = run_pass()
    finally:
        tabular.scrub_column = original
    with open(out, "wb") as f:
        pickle.dump({"calls": calls, "digests": pickle.dumps(digests)}, f)
    print(f"{out.name}: {len(calls)} scrub calls, {sum(len(c) for c, _ in calls):,} texts")


def prepare(root: Path, rows: int, deid_rows: int) -> None:
    """Record the scrub's inputs of the reference release and of bench/deid.py's corpus."""
    import pyarrow.parquet as pq
    from orchestration import reference_inputs

    from bench._deid_corpus import SETS, make_identities, make_note
    from bench.deid import policy as deid_policy
    from bench.deid import table as deid_table
    from medpipe.activities.pseudonymize import Vault, streams
    from medpipe.activities.pseudonymize.policy import default_policy
    from medpipe.activities.pseudonymize.run import Pseudonymizer

    root.mkdir(parents=True, exist_ok=True)
    sample = reference_inputs(rows, root / "reference")
    data = sample["dataset"].read_bytes()

    def reference_pass():  # type: ignore[no-untyped-def]
        pol = default_policy()
        p = Pseudonymizer(pol, Vault.in_memory(), source="cohort.csv")
        cols = tabular.string_columns(pol)
        p.learn_batches(streams.csv_batches([data], "cohort.csv", cols))
        for _ in p.tabular_batches(streams.csv_batches([data], "cohort.csv", cols), "csv"):
            pass
        return p.identifier_digests()

    _capture(reference_pass, root / "reference.pickle")
    rng = random.Random(1)
    sets = list(SETS)
    people = make_identities(max(100, 4000 // 8), 1)
    notes = [make_note(rng, people, sets[i % len(sets)], i) for i in range(deid_rows)]
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.parquet"
        pq.write_table(deid_table(notes), src, row_group_size=131_072)

        def deid_pass():  # type: ignore[no-untyped-def]
            p = Pseudonymizer(deid_policy(), Vault.in_memory(), source=src.name)
            p.learn_batches(pq.ParquetFile(src).iter_batches(131_072))
            for _ in p.tabular_batches(pq.ParquetFile(src).iter_batches(131_072), "parquet"):
                pass
            return p.identifier_digests()

        _capture(deid_pass, root / "deid.pickle")


def _profiled(fn, top: int):  # type: ignore[no-untyped-def]
    if not top:
        return fn()
    prof = cProfile.Profile()
    out = prof.runcall(fn)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(top)
    return out


def _recorded(path: Path):  # type: ignore[no-untyped-def]
    """One recorded corpus (``prepare``'s capture): its scrub calls (column, known-value
    index) and the residual check's digests; Arrow on one thread, as each timing reads it."""
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    with open(path, "rb") as f:
        rec = pickle.load(f)
    return [(col, pickle.loads(ix)) for col, ix in rec["calls"]], pickle.loads(rec["digests"])


def time_one(path: Path, top: int) -> None:
    """The scrub, then the residual check, on one recorded corpus: CPU-s and sha256."""
    from medpipe.activities.residual_scan import ResidualTally, scan_batch

    calls, digests = _recorded(path)
    pa.array([{"x": 1}]).to_pandas()  # pyarrow imports pandas on first use: not the scrub's
    counts: Counter[str] = Counter()
    t0 = time.process_time()
    outs = _profiled(lambda: [scrub.scrub_column(c, ix, counts) for c, ix in calls], top)
    scrub_s = time.process_time() - t0
    sha = hashlib.sha256()
    for o in outs:
        for t in o.to_pylist():
            sha.update(b"\x00" if t is None else t.encode() + b"\x01")
    tally = ResidualTally()
    batches = [pa.record_batch([o], names=["notes"]) for o in outs]
    t0 = time.process_time()
    _profiled(lambda: [scan_batch(b, digests, tally) for b in batches], top)
    check_s = time.process_time() - t0
    n = sum(len(o) for o in outs)
    print(f"{path.stem}: {n:,} notes; scrub {scrub_s:.3f} CPU-s ({1e6 * scrub_s / n:.1f} µs a "
          f"note), residual {check_s:.3f} CPU-s ({1e6 * check_s / n:.1f} µs); findings "
          f"{tally.found}; placeholders {sum(counts.values()):,}; sha256 "
          f"{sha.hexdigest()[:16]}")


def _cpu(fn):  # type: ignore[no-untyped-def]
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def _passes(col: pa.Array, ix, digests) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """CPU of each pass of the scrub on ``col``, then of the check on its output."""
    from medpipe.activities import residual_scan
    from medpipe.activities.deid import rules, rules_pass

    counts: Counter[str] = Counter()
    t: dict[str, float] = {}
    t["registry pass"], col = _cpu(lambda: rules_pass.scrub_column(col, counts))
    t["patterns"], col = _cpu(lambda: scrub.scrub_patterns(col, counts))
    t["known values"], col = _cpu(lambda: scrub.scrub_known(col, ix, counts))
    t["  rule table's triggers"], _ = _cpu(lambda: rules.active(col, rules.table()))
    t["rule table (with its triggers)"], col = _cpu(lambda: scrub.scrub_rules(col, counts))
    batch = pa.record_batch([col], names=["notes"])
    t["residual check"], _ = _cpu(lambda: residual_scan.scan_batch(
        batch, digests, residual_scan.ResidualTally()))
    t["  its patterns' alternation"], _ = _cpu(lambda: pc.match_substring_regex(
        col, residual_scan.ANY_PATTERN))
    t["  its triggers"], _ = _cpu(lambda: rules.active(col, rules.table()))
    t["  its known-value lookup"], _ = _cpu(lambda: digests.find_column(col))
    return t


def phases_one(path: Path, trials: int) -> None:
    """CPU of each pass of the scrub and of the residual check on one recorded corpus,
    best of ``trials`` (the scrub's passes one after the other, as it runs them; the
    check's parts again alone on its input: its patterns' alternation, its triggers, its
    known-value lookup)."""
    calls, digests = _recorded(path)
    best: dict[str, float] = {}
    for _ in range(trials):
        t: Counter[str] = Counter()
        for col, ix in calls:
            t.update(_passes(col, ix, digests))
        best = {k: min(v, best.get(k, v)) for k, v in t.items()}
    scrub_s = sum(v for k, v in best.items() if not k.startswith(" ") and k != "residual check")
    print(f"{path.stem}: best of {trials}, CPU-s")
    for k, v in best.items():
        print(f"  {k:<32}{v:7.3f}")
    print(f"  {'scrub (sum of its passes)':<32}{scrub_s:7.3f}")


#: The Arrow string passes ``passes`` times (each a pass over the texts it is given).
_PASSES = ("match_substring_regex", "replace_substring_regex", "match_substring",
           "replace_substring", "count_substring_regex", "string_is_ascii", "utf8_trim_whitespace")


def _pass_names() -> dict[str, str]:
    """What each pattern the scrub and the check pass to Arrow is, by its text."""
    from medpipe.activities import residual_scan
    from medpipe.activities.deid import patterns, registry, rewrites, rules

    names: dict[str, str] = {patterns.CANDIDATE: "patterns: candidate",
                             registry._RE2_DIFFERS: "re2_unsafe: separators",
                             residual_scan.ANY_PATTERN: "residual: any pattern",
                             residual_scan.INNER_SPACE: "residual: inner space"}
    table = rules.table()
    for r in table:
        names[rules._compiled(r.trigger)] = f"trigger {r.name}"
        names["(?i:" + r.trigger + ")"] = f"registry trigger {r.name}"
        skip = getattr(r, "trigger_skip", "")
        if skip:
            names["(?i)" + patterns.ungrouped(skip)] = f"skip blank {r.name}"
            names["(?i)" + skip] = f"skip rewrite {r.name}"
    key = tuple((r.name, rules._short(r)) for r in table)
    for k, group in enumerate(rules._groups(key)):
        label = "short triggers" if k == 0 else "+".join(table[i].name for i in group)
        names[rules._union(tuple(table[i].trigger for i in group))] = f"union {label}"
    for run, union in rewrites.runs():
        labels = [lb for lb, p, _ in patterns.PATTERNS
                  if any(st.pattern == patterns.re2(p) for st in run)]
        if union is not None:
            names[union] = "rewrite union " + "+".join(labels)
        for lb, st in zip(labels, run, strict=True):
            names.setdefault(st.pattern, f"rewrite {lb}")
            names.setdefault(st.plain, f"rewrite plain {lb}")
            if st.labels is not None:
                names.setdefault(st.labels, f"rewrite labels {lb}")
    for lb, p, _ in patterns.PATTERNS:  # the check's per-pattern counts: the rewrites' patterns
        names.setdefault(patterns.re2(p), f"pattern {lb}")
    return names


def passes_one(path: Path, top: int, trials: int) -> None:
    """Each Arrow string pass of the scrub, then of the check, on one recorded corpus: CPU-s
    (best of ``trials``, each pass apart), calls, rows read, rows selected (a match: true; a
    rewrite: changed), top ``top`` by CPU."""
    from medpipe.activities.residual_scan import ResidualTally, scan_batch

    calls, digests = _recorded(path)
    names = _pass_names()
    best: dict[tuple[str, str], list[float]] = {}  # (stage, pass): CPU, calls, read, selected
    totals: dict[str, float] = {}
    stats: dict[tuple[str, str], list[float]] = {}
    stage = ["scrub"]
    originals = {f: getattr(pc, f) for f in _PASSES}

    def timed(fn_name: str):  # type: ignore[no-untyped-def]
        fn = originals[fn_name]

        def run(texts, pattern=None, *args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.process_time()
            out = fn(texts, pattern, *args, **kwargs) if pattern is not None else fn(texts)
            cpu = time.process_time() - t0
            label = names.get(pattern, f"{sys._getframe(1).f_code.co_name}: {pattern!r:.40}") \
                if isinstance(pattern, str) else fn_name
            if fn_name.startswith("replace"):
                sel = int(pc.sum(pc.not_equal(out, texts)).as_py() or 0)
            elif out.type == pa.bool_():
                sel = int(pc.sum(out).as_py() or 0)
            else:
                sel = 0
            s = stats.setdefault((stage[0], f"{fn_name.split('_')[0]} {label}"), [0, 0, 0, 0])
            s[0] += cpu
            s[1] += 1
            s[2] += len(texts)
            s[3] += sel
            return out
        return run

    for f in _PASSES:
        setattr(pc, f, timed(f))
    try:
        for _ in range(trials):
            stats.clear()
            stage[0] = "scrub"
            t0 = time.process_time()
            outs = [scrub.scrub_column(c, ix, Counter()) for c, ix in calls]
            totals["scrub"] = min(time.process_time() - t0, totals.get("scrub", 1e9))
            stage[0] = "check"
            t0 = time.process_time()
            for o in outs:
                scan_batch(pa.record_batch([o], names=["notes"]), digests, ResidualTally())
            totals["check"] = min(time.process_time() - t0, totals.get("check", 1e9))
            for k, v in stats.items():
                best[k] = [min(v[0], best[k][0]), *v[1:]] if k in best else v
    finally:
        for f, fn in originals.items():
            setattr(pc, f, fn)
    for st, total in totals.items():
        rows = sorted(((v, k[1]) for k, v in best.items() if k[0] == st), reverse=True)
        in_passes = sum(v[0] for v, _ in rows)
        print(f"{path.stem} {st}: {total:.3f} CPU-s in all (best of {trials}), {in_passes:.3f} "
              f"in {len(rows)} "
              f"kinds of Arrow string pass ({sum(v[1] for v, _ in rows)} calls)")
        print(f"  {'CPU-s':>6} {'calls':>5} {'rows read':>10} {'selected':>9}  pass")
        for (cpu, n, read, sel), label in rows[:top]:
            print(f"  {cpu:6.3f} {n:5d} {read:10,d} {sel:9,d}  {label}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["prepare", "time", "phases", "passes"])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--rows", type=int, default=100_000, help="reference release rows")
    ap.add_argument("--deid-rows", type=int, default=100_000, help="bench/deid.py notes")
    ap.add_argument("--profile", type=int, default=0, help="print this many profile rows")
    ap.add_argument("--only", default="reference,deid")
    ap.add_argument("--trials", type=int, default=3, help="phases: best of this many")
    ap.add_argument("--top", type=int, default=15, help="passes: print this many")
    args = ap.parse_args()
    if args.what == "prepare":
        prepare(args.dir, args.rows, args.deid_rows)
        return
    for name in args.only.split(","):
        if args.what == "passes":
            passes_one(args.dir / f"{name}.pickle", args.top, args.trials)
        elif args.what == "phases":
            phases_one(args.dir / f"{name}.pickle", args.trials)
        else:
            time_one(args.dir / f"{name}.pickle", args.profile)


if __name__ == "__main__":
    main()
