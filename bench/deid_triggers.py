"""What each rule's trigger selects against what its rule finds, and the CPU of each pass.

A trigger (``rules``, ``registry``: an RE2 pattern matched over the whole column) sends a
text to its rule's Python ``find``; a trigger that selects many texts its rule finds
nothing in costs Python for nothing. For these corpora, in one process (CPU seconds):

* ``reference``: the reference release's notes (``bench/orchestration.py``:
  ``workers.sample.make_cohort`` with ``bench._bigdata.vary_notes``, 100k rows), its
  policy (``cohort_policy.yaml``) and the index its learn pass builds;
* ``bench``: ``bench/deid.py``'s labelled corpus (every template set, seed 1, ``--bench``
  notes: its ``--notes``) with that bench's policy; ``bench-rows``: its throughput corpus
  (``--bench-rows``: its ``--rows``, the notes drawn after the labelled ones);
* ``prose``: clinical prose without PHI, notes of three of the labelled corpus's filler
  sentences each (``--prose`` notes, every set's fillers, seeded), in the records of that
  bench's identities (so the index is a release's): what the rules cost on the text
  between the identifiers, where every selection is for nothing;

it prints

* the scrubber's passes (``scrub.scrub_column``: registry rules, patterns, known values,
  rule table; the table's trigger pass apart) and the residual check's
  (``residual_scan.scan_texts`` over the scrubbed notes, its trigger pass apart), best of
  ``--trials``, with the sha256 of the scrubbed notes and the check's findings, so a
  trigger change can be shown to change cost only;
* per rule and per stage (the registry's rules on the raw notes, as ``rules_pass`` sees
  them; the rule table on the notes after the known values, as ``scrub_rules`` sees them;
  the rule table on the scrubbed notes, as the residual check sees them): the share of
  notes its trigger selects, the share its ``find`` finds something in, the CPU of its
  trigger over the column and of its ``find`` on the selected notes (a ``cues.Text`` per
  note shared by the rules, as on the column path: a note's runs are charged to the first
  rule that reads them).

Starts no process; every trial has a deadline; SIGTERM/SIGINT stop it. Usage:
``.venv/bin/python bench/deid_triggers.py [--reference 100000] [--bench 4000]
[--bench-rows 20000] [--prose 20000] [--trials 2] [--rules]
[--corpora reference,bench,bench-rows,prose]``
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from bench._bigdata import vary_notes  # noqa: E402
from bench._deid_corpus import FILLER, FILLERS, SETS, Note, make_identities, make_note  # noqa: E402,E501
from bench._trials import deadline, parser, stop_on_signals  # noqa: E402
from bench.deid import policy as bench_policy  # noqa: E402
from bench.deid import table as bench_table  # noqa: E402
from medpipe.activities import residual_scan  # noqa: E402
from medpipe.activities.deid import cues, phone_match, registry, rules, rules_pass  # noqa: E402
from medpipe.activities.deid.index import KeyIndex  # noqa: E402
from medpipe.activities.pseudonymize import Vault, scrub  # noqa: E402
from medpipe.activities.pseudonymize.policy import default_policy  # noqa: E402
from medpipe.activities.pseudonymize.run import Pseudonymizer  # noqa: E402
from medpipe.activities.residual import DigestSet  # noqa: E402
from medpipe.contracts.pseudonymize import Policy  # noqa: E402
from medpipe.workers.sample import make_cohort  # noqa: E402

_KEY = b"k" * 32


def reference_corpus(rows: int) -> tuple[pa.Table, Policy]:
    """The reference release's dataset (``bench/orchestration.reference_inputs``)."""
    t = vary_notes(make_cohort(max(1, rows // 3), 3, seed=7).table)
    return t, default_policy()


def bench_corpus(notes: int, seed: int, rows: int = 0) -> tuple[pa.Table, Policy]:
    """``bench/deid.py``'s labelled corpus (every set, seed ``seed``, ``--notes notes``), or
    with ``rows`` its throughput corpus (``--rows rows``: the notes drawn after those)."""
    rng = random.Random(seed)
    people = make_identities(max(100, notes // 8), seed)
    sets = list(SETS)
    quality = [make_note(rng, people, sets[i % len(sets)], i) for i in range(notes)]
    if not rows:
        return bench_table(quality), bench_policy()
    return bench_table([make_note(rng, people, sets[i % len(sets)], i)
                        for i in range(rows)]), bench_policy()


def prose_corpus(notes: int, seed: int) -> tuple[pa.Table, Policy]:
    """``notes`` notes of three filler sentences each (every set's fillers: clinical prose
    the labelled corpus writes between its identifiers, no PHI), each in the record of one
    of that bench's identities."""
    rng = random.Random(seed)
    people = make_identities(max(100, notes // 8), seed)
    sentences = sorted({s for f in (FILLER, *FILLERS.values()) for s in f})
    return bench_table([Note(" ".join(rng.choice(sentences) for _ in range(3)),
                             people[i % len(people)], "prose") for i in range(notes)]), \
        bench_policy()


def learned_index(t: pa.Table, pol: Policy) -> KeyIndex:
    """The index a release's learn pass builds over the table (every identifier column)."""
    run = Pseudonymizer(pol, Vault.in_memory(), digest_key=_KEY)
    run.learn_batches(t.to_batches(131_072))
    return run.index


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def digest(col: pa.Array) -> str:
    """sha256 of the texts, each length-prefixed (a null as -1)."""
    h = hashlib.sha256()
    for t in col.to_pylist():
        b = b"" if t is None else t.encode()
        h.update((-1 if t is None else len(b)).to_bytes(8, "little", signed=True) + b)
    return h.hexdigest()


def scrubber_passes(notes: pa.Array, index: KeyIndex) -> tuple[dict[str, float], pa.Array,
                                                                Counter[str]]:
    """CPU per pass of ``scrub.scrub_column`` (run pass by pass, as it does), its output
    and placeholder counts."""
    counts: Counter[str] = Counter()
    out: dict[str, float] = {}
    out["registry pass"], col = cpu(lambda: rules_pass.scrub_column(notes, counts))
    out["patterns"], col = cpu(lambda: scrub.scrub_patterns(col, counts))
    out["known values"], col = cpu(lambda: scrub.scrub_known(col, index, counts))
    after_known = col
    out["rule table"], col = cpu(lambda: scrub.scrub_rules(after_known, counts))
    out["  of which triggers"], _ = cpu(lambda: rules.active(after_known, rules.table()))
    out["scrubber"] = sum(v for k, v in out.items() if not k.startswith(" "))
    return out, col, counts


def residual_passes(scrubbed: pa.Array, digests: DigestSet) -> tuple[dict[str, float], str]:
    """CPU of the residual check over the scrubbed notes (and of its trigger pass); its
    findings as text."""
    out: dict[str, float] = {}
    out["residual check"], (hit, kinds) = cpu(lambda: residual_scan.scan_texts(scrubbed,
                                                                               digests))
    out["  of which triggers"], _ = cpu(lambda: rules.active(scrubbed, rules.table()))
    return out, f"{int(hit.sum())} notes flagged {dict(sorted(kinds.items()))}"


def best_of(trials: int, seconds: float, run: Callable[[], tuple[dict[str, float], Any]]
            ) -> tuple[dict[str, float], Any]:
    """The per-pass minimum over ``trials`` runs, and the last run's result."""
    times: dict[str, float] = {}
    result: Any = None
    for _ in range(trials):
        with deadline(seconds):
            t, result = run()
        times = {k: min(v, times.get(k, v)) for k, v in t.items()}
    return times, result


def selection(stage: str, texts: pa.Array, table: Sequence[Any], *, registry_rules: bool
              ) -> None:
    """Per rule: selected share, found share, trigger and ``find`` CPU (seconds, total)."""
    n = len(texts)
    judged = registry.folded(texts)
    unsafe = registry.re2_unsafe(judged)
    py = judged.to_pylist()
    print(f"  {stage}: {n:,} notes ({int(unsafe.sum())} RE2 cannot judge: every rule)")
    print(f"    {'rule':<18}{'selects':>9}{'finds in':>10}{'trigger s':>11}{'find s':>9}"
          f"{'us/sel':>8}  selected, nothing found")
    cache: dict[int, cues.Text] = {}
    rows = []
    for rule in table:
        pattern = "(?i:" + rule.trigger + ")" if registry_rules else rules._compiled(rule.trigger)
        t_trig, hit = cpu(partial(registry.hits, judged, rule, pattern))
        sel = np.flatnonzero(hit | unsafe)
        found = 0
        t0 = time.process_time()
        for i in sel.tolist():
            if registry_rules:
                spans = rule.find(py[i])
            else:
                t = cache.get(i)
                if t is None:
                    t = cache[i] = cues.Text(py[i])
                spans = rule.find(t)
            found += bool(spans)
        t_find = time.process_time() - t0
        rows.append((rule.name, len(sel), found, t_trig, t_find))
    for name, s, f, tt, tf in rows:
        print(f"    {name:<18}{100 * s / n:8.1f}%{100 * f / n:9.1f}%{tt:11.3f}{tf:9.3f}"
              f"{1e6 * tf / max(1, s):8.1f}  {100 * (s - f) / n:5.1f}%")
    print(f"    {'all':<18}{'':>9}{'':>10}{sum(r[3] for r in rows):11.3f}"
          f"{sum(r[4] for r in rows):9.3f}")


def run_corpus(name: str, t: pa.Table, pol: Policy, args: Any) -> None:
    notes = t.column("notes").combine_chunks()
    with deadline(args.trial_seconds):
        index = learned_index(t, pol)
    digests = DigestSet.from_index(_KEY, index)
    scrub_times, (scrubbed, after_known_counts) = best_of(
        args.trials, args.trial_seconds, lambda: _scrub(notes, index))
    check_times, findings = best_of(args.trials, args.trial_seconds,
                                    lambda: residual_passes(scrubbed, digests))
    print(f"== {name}: {len(notes):,} notes, mean {pc.mean(pc.utf8_length(notes)).as_py():.0f} "
          f"chars, best of {args.trials} (CPU s, one process)")
    for k, v in {**scrub_times}.items():
        print(f"  {k:<26}{v:8.3f} CPU-s")
    for k, v in check_times.items():
        print(f"  {k:<26}{v:8.3f} CPU-s")
    print(f"  scrubbed notes sha256 {digest(scrubbed)}; placeholders "
          f"{dict(sorted(after_known_counts.items()))}")
    print(f"  residual check: {findings}")
    if args.rules:
        with deadline(args.trial_seconds * 4):
            counts: Counter[str] = Counter()
            known = scrub.scrub_known(scrub.scrub_patterns(
                rules_pass.scrub_column(notes, counts), counts), index, counts)
            selection("registry rules on the raw notes (registry pass)", notes,
                      registry.RULES, registry_rules=True)
            selection("rule table after the known values (scrubber)", known, rules.table(),
                      registry_rules=False)
            selection("rule table on the scrubbed notes (residual check)", scrubbed,
                      rules.table(), registry_rules=False)


def _scrub(notes: pa.Array, index: KeyIndex) -> tuple[dict[str, float], tuple[pa.Array,
                                                                             Counter[str]]]:
    phone_match._DECIDED.clear()  # every trial starts with no kept phone outcome
    times, out, counts = scrubber_passes(notes, index)
    return times, (out, counts)


def main() -> None:
    ap = parser(trial_seconds=900.0)
    ap.add_argument("--reference", type=int, default=100_000, help="reference notes")
    ap.add_argument("--bench", type=int, default=4000, help="bench/deid.py --notes")
    ap.add_argument("--bench-rows", type=int, default=20_000, help="bench/deid.py --rows")
    ap.add_argument("--prose", type=int, default=20_000, help="notes of filler prose")
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--rules", action="store_true", help="the per-rule selection table")
    ap.add_argument("--corpora", default="reference,bench")
    args = ap.parse_args()
    stop_on_signals()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    rules.table()
    registry.find("warm up: moved to Tucson, 020 7946 0958, fe80::1")  # lists loaded
    scrub.scrub_column(pa.array(["Dr Ann Lee seen 3/4 in Boston, 555-234-5678"]), None,
                       Counter())
    for name in args.corpora.split(","):
        if name == "reference":
            run_corpus(name, *reference_corpus(args.reference), args)
        elif name == "bench":
            run_corpus(name, *bench_corpus(args.bench, args.seed), args)
        elif name == "bench-rows":
            run_corpus(name, *bench_corpus(args.bench, args.seed, args.bench_rows), args)
        elif name == "prose":
            run_corpus(name, *prose_corpus(args.prose, args.seed), args)
        else:
            ap.error(f"unknown corpus {name!r} (reference, bench, bench-rows, prose)")


if __name__ == "__main__":
    main()
