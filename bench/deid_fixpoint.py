"""Does the residual check pass the scrubber's own output? Per template set, by rule.

The validate stage (and ``medpipe pseudonymize``) re-reads the scrubbed notes with the
scrubber's own rules and blocks the release on any finding (fail-closed), so a finding in
the scrubber's output that the scrubber did not act on blocks a release with nothing left
to fix. This bench generates a few notes of every template set of ``bench/deid.py``
(``bench/_deid_corpus.SETS``, fixed seed), runs the real pipeline on them (first pass,
policy, scrubber: ``bench.deid.pseudonymize``'s ``Pseudonymizer``) and prints, per set:

* ``column``: notes the residual check's column path flags (``residual_scan.scan_texts``,
  what the validate stage runs), ``one-text``: notes the one-text path flags
  (``residual.scan``, what FHIR strings get);
* ``unstable``: notes the scrubber changes again when given its own output (column path
  ``scrub_column`` and one-text ``scrub_text``; scrubbing is meant to be idempotent);
* which source finds what (a pattern, the known values, each context rule by name).

Flagged outputs of the sets in ``bench.deid.SEALED`` are counted, never printed.
Usage: ``.venv/bin/python bench/deid_fixpoint.py [--notes 150] [--seed 1] [--examples 3]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bench._deid_corpus import SETS, make_identities, make_note  # noqa: E402
from bench._trials import deadline, stop_on_signals  # noqa: E402
from bench.deid import SEALED, policy, table  # noqa: E402
from medpipe.activities.deid import detect, rules  # noqa: E402
from medpipe.activities.deid.normalize import fold  # noqa: E402
from medpipe.activities.deid.patterns import find as pattern_spans  # noqa: E402
from medpipe.activities.pseudonymize import Vault  # noqa: E402
from medpipe.activities.pseudonymize.run import Pseudonymizer  # noqa: E402
from medpipe.activities.pseudonymize.scrub import scrub_column, scrub_text  # noqa: E402
from medpipe.activities.residual import DigestSet, scan  # noqa: E402
from medpipe.activities.residual_scan import scan_texts  # noqa: E402


def run(notes_table: pa.Table, workdir: Path) -> tuple[list[str], Pseudonymizer, DigestSet]:
    """The pipeline's output notes, the run (its identifier index) and its digests."""
    src = workdir / "in.parquet"
    pq.write_table(notes_table, src)
    p = Pseudonymizer(policy(), Vault.in_memory(), source=src.name)
    p.learn_batches(pq.ParquetFile(src).iter_batches(65_536))
    out = workdir / "out.parquet"
    with open(out, "wb") as f:
        for chunk in p.tabular_batches(pq.ParquetFile(src).iter_batches(65_536), "parquet"):
            f.write(chunk)
    return pq.read_table(out).column("notes").to_pylist(), p, p.identifier_digests()


def sources(text: str, digests: DigestSet) -> list[tuple[str, str]]:
    """(source, what it found, with 40 characters either side) for each finding in ``text``:
    a pattern, the known values or a context rule, each read alone (the rule's span outside
    the patterns' matches, as the residual check counts them)."""
    folded, _ = fold(text)
    out = [(f"pattern:{ph.value}", _shown(folded, s, e)) for s, e, ph in pattern_spans(folded)]
    out += [("known", _shown(folded, s, e)) for s, e, _ in detect.known_spans(folded, digests.find)]
    for rule in rules.table():
        spans = detect.outside_patterns(folded, [sp for sp in rules.find(folded, [rule])
                                                 if sp[1] > sp[0]])
        out += [(f"rule:{rule.name}", _shown(folded, s, e)) for s, e, _ in spans]
    return out


def _shown(text: str, s: int, e: int) -> str:
    return (text[max(0, s - 40):s] + "<<" + text[s:e] + ">>" + text[e:e + 40]).replace("\n", " | ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=150, help="notes per template set")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--examples", type=int, default=0,
                    help=f"print this many flagged outputs per rule (never of "
                    f"{', '.join(sorted(SEALED))})")
    ap.add_argument("--trial-seconds", type=float, default=1200.0)
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    stop_on_signals()
    rng = random.Random(args.seed)
    people = make_identities(max(100, args.notes * len(sets) // 8), args.seed)
    notes = [make_note(rng, people, sets[i % len(sets)], i)
             for i in range(args.notes * len(sets))]
    with tempfile.TemporaryDirectory() as d, deadline(args.trial_seconds):
        outputs, p, digests = run(table(notes), Path(d))
        col = pa.array(outputs, pa.string())
        hit, kinds = scan_texts(col, digests)
        again = scrub_column(col, p.index, Counter()).to_pylist()
        known = p.index if len(p.index) else None
        per_set: dict[str, Counter[str]] = {s: Counter() for s in sets}
        by_rule: dict[str, Counter[str]] = {s: Counter() for s in sets}
        examples: dict[str, list[str]] = {}
        for i, (note, out) in enumerate(zip(notes, outputs, strict=True)):
            c = per_set[note.template_set]
            c["notes"] += 1
            one = scan(out, digests, free_text=True)
            col_hit = bool(hit[i])
            c["column"] += col_hit
            c["one-text"] += bool(one)
            c["unstable column"] += again[i] != out
            c["unstable one-text"] += scrub_text(out, known, Counter()) != out
            if col_hit or one:
                found = sources(out, digests)
                for src in {s for s, _ in found}:
                    by_rule[note.template_set][src] += 1
                    if note.template_set not in SEALED:
                        examples.setdefault(src, []).append(
                            next(f for s, f in found if s == src))
    print(f"notes per set: {args.notes}, seed {args.seed}; residual findings by kind (column "
          f"path, all sets): {dict(sorted(kinds.items()))}")
    print(f"{'set':<11}{'notes':>7}{'column':>8}{'one-text':>10}{'unstable col':>14}"
          f"{'unstable 1-t':>14}  flagged by")
    total: Counter[str] = Counter()
    for s in sets:
        c = per_set[s]
        total.update(c)
        rules_s = ", ".join(f"{k} {n}" for k, n in by_rule[s].most_common())
        print(f"{s:<11}{c['notes']:>7}{c['column']:>8}{c['one-text']:>10}"
              f"{c['unstable column']:>14}{c['unstable one-text']:>14}  {rules_s}")
    print(f"{'all':<11}{total['notes']:>7}{total['column']:>8}{total['one-text']:>10}"
          f"{total['unstable column']:>14}{total['unstable one-text']:>14}")
    for src, found in sorted(examples.items()):
        for line in found[:args.examples]:
            print(f"  {src:<22} {line!r}")


if __name__ == "__main__":
    main()
